//! Issue 17: `decom snapshot` turns what a plan's discovery sees into an emulator world.
//! Round trip: a world with every kind, every blocker and two accounts is served; the real
//! binary snapshots it (read-only: the audit log stays empty); the snapshot passes `emulator
//! check`, holds no secret, and `plan` against it gives the same steps as against the
//! original (with `--anonymize`, the same steps up to a consistent renaming).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::cli::Served;
use crate::plan::write;
use crate::support::HEADER;

/// Every engine kind, every blocker, and resources of a second account (9876543210987654):
/// its VBRs on our circuit, a tenant on our hosted connection, its CEN, ECR and Basic CEN.
pub const EVERY_KIND: &str = r#"
timings:
  vpn_connection_settle: 10m
physical_connections:
  - { id: pc-1, region: cn-shanghai, name: dc1-primary, tags: { site: dc1, decommission: "2026-q4" }, macsec_keys: [{ ckn: 0123456789abcdef0123456789abcdef }, { ckn: fedcba9876543210fedcba9876543210, status: Disassociated }] }
  - { id: pc-1-vp1, region: cn-shanghai, parent_physical_connection: pc-1, owner: "9876543210987654" }
  - { id: pc-2, region: cn-shanghai, name: dc1-backup, status: Confirmed }
  - { id: pc-3, region: cn-shanghai, name: dc1-keep }
  - { id: pc-t, region: cn-shanghai, parent_physical_connection: pc-partner, parent_owner: "8888888888888888" }
virtual_border_routers:
  - { id: vbr-1, region: cn-shanghai, physical_connection: pc-1, name: dc1-vbr-a, tags: { env: test } }
  - { id: vbr-2, region: cn-shanghai, physical_connection: pc-1, name: dc1-vbr-b }
  - { id: vbr-3, region: cn-shanghai, physical_connection: pc-1, associated_physical_connections: [pc-3] }
  - { id: vbr-4, region: cn-shanghai, physical_connection: pc-2 }
  - { id: vbr-5, region: cn-shanghai, physical_connection: pc-2 }
  - { id: vbr-foreign, region: cn-shanghai, physical_connection: pc-1, owner: "9876543210987654", status: unconfirmed }
  - { id: vbr-tenant, region: cn-shanghai, physical_connection: pc-1-vp1, owner: "9876543210987654", status: unconfirmed }
  - { id: vbr-t, region: cn-shanghai, physical_connection: pc-t }
router_interfaces:
  - { id: ri-1, region: cn-shanghai, vbr: vbr-1, name: to-vpc }
vbr_route_entries:
  - { id: rte-v1, vbr: vbr-1, destination: 192.168.0.0/16, next_hop: ri-1 }
bgp_groups:
  - { id: bgpg-1, region: cn-shanghai, vbr: vbr-1, name: edge, peers: [{ id: bgp-1, peer_ip: 10.0.0.2 }, { id: bgp-2 }] }
bgp_networks:
  - { vbr: vbr-1, destination: 10.10.0.0/16 }
nqas:
  - { id: nqa-1, vbr: vbr-1, destination_ip: 10.0.0.9 }
express_connect_routers:
  - { id: ecr-1, vbrs: [{ vbr: vbr-2 }] }
cens:
  - id: cen-1
    transit_routers:
      - { id: tr-1, region: cn-shanghai, route_tables: [vtb-1, vtb-2] }
  - { id: cen-basic }
  - id: cen-other
    owner: "9876543210987654"
    transit_routers:
      - { id: tr-other, region: cn-shanghai, route_tables: [vtb-other] }
cen_child_instances:
  - { cen: cen-basic, vbr: vbr-1 }
transit_router_attachments:
  - { id: tr-attach-a, transit_router: tr-1, vbr: vbr-4, associations: [vtb-1], propagations: [vtb-1], name: att-a }
  - { id: tr-attach-b, transit_router: tr-1, vbr: vbr-5 }
  - { id: tr-attach-x, transit_router: tr-other, vbr: vbr-2 }
  - { id: tr-attach-vpn, transit_router: tr-1, vpn_connection: vco-tr1, associations: [vtb-2] }
transit_router_route_entries:
  - { id: rte-t1, route_table: vtb-2, destination: 10.1.0.0/16, next_hop: tr-attach-a }
transit_router_prefix_list_associations:
  - { prefix_list: pl-1, transit_router: tr-1, route_table: vtb-2, next_hop: tr-attach-a }
vbr_failover_groups:
  - { id: vbrha-1, region: cn-shanghai, vbr: vbr-4, peer_vbr: vbr-5 }
cen_vbr_health_checks:
  - { cen: cen-1, vbr: vbr-4, target_ip: 10.9.9.9 }
vpn_gateways:
  - { id: vpn-gw1, region: cn-shanghai }
vpn_connections:
  - { id: vco-tr1, region: cn-shanghai, name: branch, tags: { decommission: "2026-q4" } }
  - { id: vco-gw1, region: cn-shanghai, vpn_gateway: vpn-gw1, name: office }
  - { id: vco-gw2, region: cn-shanghai, vpn_gateway: vpn-gw1, state: updating }
"#;

const PLAN: &str = "version: 1\nname: every-kind\naccount: \"1234567890123456\"\nregion: cn-shanghai\npolicy:\n  cascade: true\n  on_blocked: skip\n  protect:\n    names: [\"dc1-keep*\"]\ntargets:\n  - physical_connection: pc-1\n  - physical_connection: pc-2\n  - physical_connection: pc-t\n  - virtual_border_router: { name: \"dc1-vbr-*\", physical_connection: pc-1 }\n  - vpn_attachment: { tags: { decommission: \"2026-q4\" } }\n  - vpn_connection: vco-gw1\n  - vpn_connection: vco-gw2\n";

/// `(kind, resource, action, order)` of every step of `plan --output json`, and the resources
/// with their dispositions.
fn steps(cmd: &mut assert_cmd::Command) -> (Vec<[String; 4]>, Vec<[String; 3]>) {
    let out = cmd.args(["--output", "json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let s = |x: &Value| x.as_str().map_or_else(|| x.to_string(), str::to_string);
    let steps = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            [
                s(&st["kind"]),
                s(&st["resource"]),
                s(&st["action"]),
                s(&st["id"]),
            ]
        })
        .collect();
    let resources = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| [s(&r["kind"]), s(&r["id"]), s(&r["disposition"])])
        .collect();
    (steps, resources)
}

fn plan_on(world: &Path, plan: &Path, home: &Path) -> (Vec<[String; 4]>, Vec<[String; 3]>) {
    let mut cmd = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin("decom"));
    cmd.env_clear()
        .env("HOME", home)
        .arg("plan")
        .arg(plan)
        .arg("--emulator")
        .arg(world);
    steps(&mut cmd)
}

fn snapshot(served: &Served, home: &Path, plan: &Path, out: &Path, extra: &[&str]) -> String {
    let run = served
        .decom(home)
        .arg("snapshot")
        .arg(plan)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(0), "{err}");
    std::fs::read_to_string(out).unwrap()
}

fn check(world: &Path, home: &Path) {
    assert_cmd::Command::new(assert_cmd::cargo::cargo_bin("decom"))
        .env_clear()
        .env("HOME", home)
        .args(["emulator", "check", "--world"])
        .arg(world)
        .assert()
        .success();
}

/// Every identifier of one run mapped onto the other's, consistently in both directions.
fn renaming(a: &[String], b: &[String]) -> Result<(), String> {
    let (mut fwd, mut back) = (BTreeMap::new(), BTreeMap::new());
    for (x, y) in a.iter().zip(b) {
        for (p, q) in x.split('/').zip(y.split('/')) {
            if *fwd.entry(p).or_insert(q) != q || *back.entry(q).or_insert(p) != p {
                return Err(format!("{p} → {q} breaks the renaming"));
            }
        }
    }
    Ok(())
}

#[test]
fn a_snapshot_of_every_kind_and_two_accounts_plans_the_same_steps_and_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let world = write(home, "world.yaml", &format!("{HEADER}{EVERY_KIND}"));
    let plan = write(home, "plan.yaml", PLAN);
    let served = Served::start(world.to_str().unwrap());
    let original = plan_on(&world, &plan, home);
    assert!(original.0.len() > 40, "{:?}", original.0);
    for kind in [
        "physical_connection",
        "macsec_key",
        "hosted_connection",
        "virtual_border_router",
        "vbr_circuit_association",
        "router_interface",
        "vbr_route_entry",
        "bgp_group",
        "bgp_peer",
        "bgp_network",
        "nqa",
        "ecr_child_instance",
        "transit_router_vbr_attachment",
        "foreign_cen_attachment",
        "cen_child_instance",
        "vbr_ha",
        "vbr_health_check",
        "transit_router_vpn_attachment",
        "vpn_attachment",
        "vpn_connection",
        "route_table_association",
        "route_table_propagation",
        "transit_router_prefix_list_association",
        "transit_router_route_entry",
    ] {
        assert!(
            original.1.iter().any(|r| r[0] == kind),
            "the world must exercise {kind}: {:?}",
            original.1
        );
    }

    // Read-only, valid, no secret.
    let out = home.join("snap.yaml");
    let text = snapshot(
        &served,
        home,
        &plan,
        &out,
        &["--scale", "600", "--timing", "vpn_connection_settle=2s"],
    );
    assert!(
        served.audit().is_empty(),
        "snapshot mutated: {:?}",
        served.audit()
    );
    check(&out, home);
    let secret = served.banner["access_key_secret"].as_str().unwrap();
    for needle in [secret, "test-secret", "TESTKEY", "LTAI", "security_token"] {
        assert!(!text.contains(needle), "{needle} leaked into\n{text}");
    }
    // What a scanner looks for: nothing key-shaped besides the short generated key.
    for line in text.lines().filter(|l| l.contains("secret")) {
        assert!(
            line.trim().len() < 40 && line.contains("rehearsal-only-"),
            "{line}"
        );
    }
    assert!(
        text.contains("# account: 1234567890123456")
            && text.contains("# regions: cn-shanghai")
            && text.contains("# decom: ")
            && text.contains("# taken: "),
        "{text}"
    );
    assert!(text.contains("terminate_physical_connection: 1s"), "{text}");
    assert!(text.contains("vpn_connection_settle: 2s"), "{text}");

    // The same plan on the snapshot: the same steps, the same dispositions.
    let again = plan_on(&out, &plan, home);
    assert_eq!(original.0, again.0);
    assert_eq!(original.1, again.1);

    // The rehearsal itself: every step done, and the report says it was one.
    let run = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin("decom"))
        .env_clear()
        .env("HOME", home)
        .arg("apply")
        .arg(&plan)
        .arg("--emulator")
        .arg(&out)
        .args(["--yes", "--output", "json", "--poll-interval", "100ms"])
        .arg("--state-dir")
        .arg(home.join("state"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let last: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "report", "{stdout}");
    assert_eq!(last["rehearsal"], true, "{last}");
    assert_eq!(
        last["counts"]["done"].as_u64(),
        Some(original.0.len() as u64),
        "{last}"
    );

    // Anonymized: nothing identifying left, the same steps up to a consistent renaming.
    let anon = home.join("anon.yaml");
    let anon_plan = home.join("anon-plan.yaml");
    let text = snapshot(
        &served,
        home,
        &plan,
        &anon,
        &["--anonymize", "--plan-out", anon_plan.to_str().unwrap()],
    );
    check(&anon, home);
    for needle in [
        "1234567890123456",
        "9876543210987654",
        "8888888888888888",
        "pc-1",
        "vbr-foreign",
        "dc1",
        "2026-q4",
        "10.9.9.9",
        "192.168.0.0",
        "emulator:",
        "127.0.0.1",
    ] {
        assert!(!text.contains(needle), "{needle} left in\n{text}");
    }
    let renamed = plan_on(&anon, &anon_plan, home);
    assert_eq!(original.0.len(), renamed.0.len());
    let shape = |s: &[[String; 4]]| {
        s.iter()
            .map(|x| (x[0].clone(), x[2].clone(), x[3].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&original.0), shape(&renamed.0));
    let ids = |s: &[[String; 4]]| s.iter().map(|x| x[1].clone()).collect::<Vec<_>>();
    renaming(&ids(&original.0), &ids(&renamed.0)).unwrap();
    let disp = |s: &[[String; 3]]| {
        let mut v: Vec<(String, String)> = s.iter().map(|x| (x[0].clone(), x[2].clone())).collect();
        v.sort();
        v
    };
    assert_eq!(disp(&original.1), disp(&renamed.1));
}

/// A circuit whose termination takes 2 s, with one VBR: a run that is long enough to watch.
const SLOW: &str = "timings:\n  terminate_physical_connection: 2s\n  delete_vbr: 200ms\nphysical_connections:\n  - { id: pc-s, region: cn-shanghai, status: Enabled }\nvirtual_border_routers:\n  - { id: vbr-s, region: cn-shanghai, physical_connection: pc-s }\n";

const SLOW_PLAN: &str = "version: 1\nname: slow\nregion: cn-shanghai\npolicy:\n  cascade: true\ntargets:\n  - physical_connection: pc-s\n";

fn spawn(home: &Path, world: &Path, plan: &Path, state: &Path) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("decom"))
        .env_clear()
        .env("HOME", home)
        .arg("apply")
        .arg(plan)
        .arg("--emulator")
        .arg(world)
        .args([
            "--yes",
            "--poll-interval",
            "100ms",
            "--max-interval",
            "300ms",
        ])
        .arg("--state-dir")
        .arg(state)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// `decom status PLAN --output json`: the most recent journal's status.
fn status(home: &Path, plan: &Path, state: &Path) -> Value {
    let out = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin("decom"))
        .env_clear()
        .env("HOME", home)
        .arg("status")
        .arg(plan)
        .arg("--state-dir")
        .arg(state)
        .args(["--output", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["journals"][0].clone()
}

/// Poll `status` until the apply in another process is waiting on the circuit.
fn wait_running(home: &Path, plan: &Path, state: &Path) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let s = status(home, plan, state);
        let waiting = s["steps"].as_array().into_iter().flatten().any(|st| {
            st["outcome"] == "in_flight"
                && st["step"] == "physical_connection pc-s wait"
                && st["last_state"] == "Terminating"
        });
        if s["running"]["state"] == "running" && waiting {
            return s;
        }
        assert!(std::time::Instant::now() < deadline, "never running: {s}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn status_reads_a_running_a_finished_an_interrupted_and_a_killed_apply() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let world = write(home, "slow.yaml", &format!("{HEADER}{SLOW}"));
    let plan = write(home, "slow-plan.yaml", SLOW_PLAN);

    // Nothing yet: exit 1, said.
    let none = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin("decom"))
        .env_clear()
        .env("HOME", home)
        .arg("status")
        .arg(&plan)
        .arg("--state-dir")
        .arg(home.join("nothing"))
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(1));

    // Running (read from a second process), then interrupted with Ctrl-C.
    let state = home.join("interrupted");
    let mut child = spawn(home, &world, &plan, &state);
    let s = wait_running(home, &plan, &state);
    assert_eq!(s["rehearsal"], true, "{s}");
    assert!(s["counts"]["done"].as_u64().unwrap() >= 3, "{s}");
    assert!(s["elapsed_secs"].as_f64().unwrap() > 0.0, "{s}");
    let human = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin("decom"))
        .env_clear()
        .env("HOME", home)
        .arg("status")
        .arg(&plan)
        .arg("--state-dir")
        .arg(&state)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("state: RUNNING (pid ")
            && text.contains("physical_connection pc-s wait: in flight, last seen Terminating")
            && text.contains("REHEARSAL"),
        "{text}"
    );
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(3));
    let s = status(home, &plan, &state);
    assert_eq!(
        s["running"],
        serde_json::json!({"state": "finished", "interrupted": true}),
        "{s}"
    );
    assert_eq!(s["counts"]["interrupted"], 1, "{s}");

    // Killed: no End, no live holder.
    let state = home.join("killed");
    let mut child = spawn(home, &world, &plan, &state);
    wait_running(home, &plan, &state);
    child.kill().unwrap();
    child.wait().unwrap();
    let s = status(home, &plan, &state);
    assert_eq!(s["running"]["state"], "killed", "{s}");
    assert_eq!(s["counts"]["cut_off"], 1, "{s}");

    // Finished: every step done.
    let state = home.join("finished");
    let mut child = spawn(home, &world, &plan, &state);
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let s = status(home, &plan, &state);
    assert_eq!(
        s["running"],
        serde_json::json!({"state": "finished", "interrupted": false}),
        "{s}"
    );
    assert_eq!(s["counts"]["done"], s["total"], "{s}");
    assert_eq!(s["steps"].as_array().unwrap().len(), 5, "{s}");
}
