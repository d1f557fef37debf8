//! `decom plan`, `validate` and `graph` with the real binary against emulator worlds: every
//! blocker type, validation errors, output snapshots, read-only guarantee.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;
use serde_json::Value;

use crate::support::HEADER;

const DEMO_WORLD: &str = "examples/worlds/demo.yaml";

/// `decom` with a clean environment.
pub fn decom() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(cargo_bin("decom"));
    cmd.env_clear().env("NO_COLOR", "1");
    cmd
}

/// Write `text` to `dir/name` and return its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn plan_json(plan: &Path, world: &Path) -> (i32, Value) {
    let out = decom()
        .arg("plan")
        .arg(plan)
        .args(["--output", "json", "--emulator"])
        .arg(world)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), v)
}

fn entry<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {v:#}"))
}

#[test]
fn demo_plan_snapshots_human_json_markdown() {
    for (format, name) in [
        ("human", "plan_demo_human"),
        ("json", "plan_demo_json"),
        ("markdown", "plan_demo_markdown"),
    ] {
        let out = decom()
            .args([
                "plan",
                "plans/demo.yaml",
                "--emulator",
                DEMO_WORLD,
                "--output",
                format,
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        insta::assert_snapshot!(name, String::from_utf8(out.stdout).unwrap());
    }
}

#[test]
fn detailed_exitcode_and_summary() {
    decom()
        .args([
            "plan",
            "plans/demo.yaml",
            "--emulator",
            DEMO_WORLD,
            "--detailed-exitcode",
        ])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "deletions), 0 already gone, 0 blocked",
        ));
    let dir = tempfile::tempdir().unwrap();
    let plan = write(
        dir.path(),
        "gone.yaml",
        "version: 1\nname: gone\nregion: cn-shanghai\ntargets:\n  - physical_connection: pc-doesnotexist1\n",
    );
    decom()
        .arg("plan")
        .arg(&plan)
        .args(["--emulator", DEMO_WORLD, "--detailed-exitcode"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "0 changes (0 deletions), 1 already gone, 0 blocked",
        ));
}

#[test]
fn every_step_has_a_reason_token_and_respects_the_documented_order() {
    let (code, v) = plan_json(Path::new("plans/demo.yaml"), Path::new(DEMO_WORLD));
    assert_eq!(code, 0);
    assert_eq!(v["format_version"], 1);
    let steps = v["steps"].as_array().unwrap();
    let pos = |kind: &str, id: &str, action: &str| {
        steps
            .iter()
            .find(|s| s["kind"] == kind && s["resource"] == id && s["action"] == action)
            .unwrap_or_else(|| panic!("no {action} {kind} {id}"))["id"]
            .as_u64()
            .unwrap()
    };
    for s in steps {
        assert!(!s["reason"].as_str().unwrap().is_empty());
        if s["action"] != "wait" && s["api"] != "DeactivateRouterInterface" {
            assert!(s["client_token"].is_string(), "{s}");
        }
        for d in s["depends_on"].as_array().unwrap() {
            assert!(
                d.as_u64().unwrap() < s["id"].as_u64().unwrap(),
                "steps are in execution order"
            );
        }
    }
    // alibaba-api.md §12, on the demo estate.
    let term = pos("physical_connection", "pc-uf6dc1primary0001", "terminate");
    for vbr in [
        "vbr-uf6dc1tr0000001",
        "vbr-uf6dc1bgp000002",
        "vbr-uf6partner00003",
    ] {
        assert!(pos("virtual_border_router", vbr, "delete") < term);
    }
    assert!(
        pos(
            "transit_router_vbr_attachment",
            "tr-attach-uf6dc1vbr00001",
            "wait"
        ) < pos("virtual_border_router", "vbr-uf6dc1tr0000001", "delete")
    );
    assert!(
        pos(
            "route_table_association",
            "tr-attach-uf6dc1vbr00001/vtb-uf6shanghai00001",
            "wait"
        ) < pos(
            "transit_router_vbr_attachment",
            "tr-attach-uf6dc1vbr00001",
            "delete"
        )
    );
    assert!(
        pos("router_interface", "ri-uf6dc1vbr2000001", "delete")
            < pos("virtual_border_router", "vbr-uf6dc1bgp000002", "delete")
    );
    assert!(
        pos("bgp_peer", "bgp-uf6dc1peer00001", "delete")
            < pos("bgp_group", "bgpg-uf6dc1000000001", "delete")
    );
    assert!(
        pos(
            "transit_router_vpn_attachment",
            "tr-attach-p0wipsec000001",
            "wait"
        ) < pos("vpn_attachment", "vco-p0wsydney0branch1", "delete")
    );
    assert!(
        pos("vpn_connection", "vco-uf6hzoffice00001", "wait")
            < pos("vpn_connection", "vco-uf6hzoffice00002", "delete"),
        "one at a time per gateway"
    );
    // Tokens are stable across runs.
    let (_, again) = plan_json(Path::new("plans/demo.yaml"), Path::new(DEMO_WORLD));
    assert_eq!(v["steps"], again["steps"]);
}

/// A world with one of every blocker decom cannot remove.
fn awkward_world(dir: &Path) -> PathBuf {
    write(
        dir,
        "awkward.yaml",
        &format!(
            r#"{HEADER}
physical_connections:
  - {{ id: pc-foreign, region: cn-shanghai }}
  - {{ id: pc-hosted, region: cn-shanghai }}
  - {{ id: pc-hosted-vp1, region: cn-shanghai, parent_physical_connection: pc-hosted, owner: "9999999999999999" }}
  - {{ id: pc-tenant, region: cn-shanghai, parent_physical_connection: pc-partner, parent_owner: "8888888888888888" }}
  - {{ id: pc-prepaid, region: cn-shanghai }}
  - {{ id: pc-allocating, region: cn-shanghai, status: Allocating }}
  - {{ id: pc-prod, region: cn-shanghai }}
virtual_border_routers:
  - {{ id: vbr-foreign, region: cn-shanghai, physical_connection: pc-foreign, owner: "9999999999999999", status: active }}
  - {{ id: vbr-prepaid, region: cn-shanghai, physical_connection: pc-prepaid }}
  - {{ id: vbr-prod, region: cn-shanghai, physical_connection: pc-prod, tags: {{ env: prod }} }}
  - {{ id: vbr-tenant, region: cn-shanghai, physical_connection: pc-hosted-vp1, owner: "9999999999999999", status: active }}
router_interfaces:
  - {{ id: ri-prepaid, region: cn-shanghai, vbr: vbr-prepaid, status: Inactive, charge_type: PrePaid }}
"#
        ),
    )
}

#[test]
fn each_unremovable_blocker_is_named_with_who_can_remove_it() {
    let dir = tempfile::tempdir().unwrap();
    let world = awkward_world(dir.path());
    let cases = [
        (
            "pc-foreign",
            "belongs to account 9999999999999999",
            "Forbidden.OperationNotAllowedByUser",
            1,
        ),
        // The partner (the caller) deletes hosted connections, but not a tenant's active
        // VBR on one.
        (
            "pc-hosted",
            "pc-hosted-vp1 cannot be removed: vbr-tenant belongs to account 9999999999999999",
            "Forbidden.OperationNotAllowedByUser",
            1,
        ),
        // A tenant's circuit that is a hosted connection: only the partner deletes it.
        (
            "pc-tenant",
            "is a hosted connection on pc-partner: only the partner (account 8888888888888888)",
            "OperationDenied.NeedVpconnOwner",
            1,
        ),
        (
            "pc-prepaid",
            "prepaid router interface",
            "InvalidRouterInterfaceChargeType.Malformed",
            1,
        ),
        ("pc-allocating", "Allocating", "", 1),
        (
            "pc-prod",
            "protected by policy.protect.tags env=prod",
            "",
            5,
        ),
    ];
    for (pc, text, code, exit) in cases {
        let plan = write(
            dir.path(),
            "p.yaml",
            &format!(
                "version: 1\nname: t\nregion: cn-shanghai\npolicy:\n  cascade: true\n  protect:\n    tags: {{ env: prod }}\ntargets:\n  - physical_connection: {pc}\n"
            ),
        );
        let (got, v) = plan_json(&plan, &world);
        assert_eq!(got, exit, "{pc}");
        let e = entry(&v, pc);
        assert_eq!(e["disposition"], "blocked", "{pc}");
        let why = e["why"].as_str().unwrap();
        assert!(why.contains(text) && why.contains(code), "{pc}: {why}");
        assert!(
            v["steps"].as_array().unwrap().is_empty(),
            "{pc}: nothing half-done"
        );
    }
}

#[test]
fn without_cascade_the_blockers_are_listed_and_nothing_is_planned() {
    let out = decom()
        .args(["plan", "plans/blocked.yaml", "--emulator", DEMO_WORLD])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for vbr in [
        "vbr-uf6dc1tr0000001",
        "vbr-uf6dc1bgp000002",
        "vbr-uf6partner00003",
    ] {
        assert!(text.contains(vbr), "{text}");
    }
    assert!(text.contains("policy.cascade: true"), "{text}");
    assert!(
        text.contains("0 changes (0 deletions), 0 already gone, 1 blocked"),
        "{text}"
    );
}

#[test]
fn a_protected_blocker_makes_its_dependent_impossible() {
    let out = decom()
        .args([
            "plan",
            "plans/protected-blocker.yaml",
            "--emulator",
            DEMO_WORLD,
        ])
        .assert()
        .code(5)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("pc-uf6prodcore00004 cannot be removed")
            && text.contains("vbr-uf6prod00000004 is protected"),
        "{text}"
    );
}

#[test]
fn selector_matches_that_are_protected_are_left_alone() {
    let (code, v) = plan_json(
        Path::new("plans/tr-ipsec-by-tag.yaml"),
        Path::new(DEMO_WORLD),
    );
    assert_eq!(code, 0);
    assert_eq!(entry(&v, "vco-p0wsydneyprod001")["disposition"], "kept");
    assert!(
        !v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["resource"].as_str().unwrap().contains("prod"))
    );
}

#[test]
fn blast_radius_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("plans/demo.yaml")
        .unwrap()
        .replace("max_deletions: 40", "max_deletions: 5");
    let plan = write(dir.path(), "p.yaml", &text);
    decom()
        .arg("plan")
        .arg(&plan)
        .args(["--emulator", DEMO_WORLD])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("exceed policy.max_deletions 5"));
}

#[test]
fn validation_errors_are_located_and_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write(
        dir.path(),
        "bad.yaml",
        "version: 1\nname: bad\nregion: cn-shangai\nwindow:\n  not_before: 2026-12-01T06:00:00Z\n  not_after: 2026-12-01T02:00:00Z\npolicy:\n  protect:\n    ids: [vbr-keep]\ntargets:\n  - physical_conection: pc-1\n  - virtual_border_router: pc-2\n  - virtual_border_router: vbr-keep\n  - physical_connection: pc-3\n  - physical_connection: pc-3\n",
    );
    let out = decom()
        .arg("validate")
        .arg(&plan)
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let text = String::from_utf8(out).unwrap();
    for expected in [
        "bad.yaml:3:9",
        "unknown region \"cn-shangai\"",
        "not after window.not_before",
        "bad.yaml:11:5",
        "did you mean \"physical_connection\"",
        "expected an id starting with \"vbr-\"",
        "also protected",
        "duplicate target",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("error: error:"));
    // Every example plan is valid.
    for entry in std::fs::read_dir("plans").unwrap() {
        let path = entry.unwrap().path();
        decom().arg("validate").arg(&path).assert().success();
    }
}

#[test]
fn graph_formats() {
    decom()
        .args([
            "graph",
            "plans/dc1-circuit.yaml",
            "--emulator",
            DEMO_WORLD,
            "--format",
            "dot",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("digraph").and(predicate::str::contains("->")));
    decom()
        .args([
            "graph",
            "plans/dc1-circuit.yaml",
            "--emulator",
            DEMO_WORLD,
            "--format",
            "mermaid",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("flowchart").and(predicate::str::contains("-->")));
}

#[test]
fn plan_is_read_only_on_every_example_plan() {
    let served = crate::cli::Served::start(DEMO_WORLD);
    let home = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir("plans").unwrap() {
        let path = entry.unwrap().path();
        let out = served
            .decom(home.path())
            .arg("plan")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1 | 5)),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(served.audit().len(), 0, "decom plan sent no mutation");
}
