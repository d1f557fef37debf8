//! `decom apply` with the real binary against `decom emulator serve` over loopback: the demo,
//! idempotent reruns, every safety rail with its exit code, the lock, resume after kill -9,
//! and Ctrl-C.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;
use serde_json::Value;

use crate::cli::Served;
use crate::plan::write;

const DEMO_WORLD: &str = "examples/worlds/demo.yaml";

/// Fast polling against the emulator's sub-second transitions.
const FAST: [&str; 4] = ["--poll-interval", "200ms", "--max-interval", "1s"];

/// Mutations the emulator applied, per (action, ClientToken or target id).
fn applied(audit: &[Value]) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for e in audit.iter().filter(|e| e["applied"] == true) {
        let key = e["client_token"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| {
                e["params"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(k, _)| k.ends_with("Id"))
                    .map(|(_, v)| v.as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            });
        *m.entry((e["action"].as_str().unwrap().to_string(), key))
            .or_default() += 1;
    }
    m
}

fn assert_no_duplicates(audit: &[Value]) {
    for (k, n) in applied(audit) {
        assert_eq!(n, 1, "{k:?} applied {n} times");
    }
}

fn apply(served: &Served, home: &Path, plan: &Path, state: &Path) -> assert_cmd::Command {
    let mut cmd = served.decom(home);
    cmd.arg("apply")
        .arg(plan)
        .arg("--yes")
        .arg("--state-dir")
        .arg(state)
        .args(FAST);
    cmd
}

#[test]
fn demo_applies_and_a_second_apply_is_a_no_op() {
    let served = Served::start(DEMO_WORLD);
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let out = apply(&served, home.path(), Path::new("plans/demo.yaml"), &state)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Apply complete") && stdout.contains("47 done"),
        "{stdout}"
    );
    let audit = served.audit();
    assert_no_duplicates(&audit);
    let first = audit.len();
    // Everything the plan named is gone; the protected production resources are not.
    served
        .decom(home.path())
        .args([
            "plan",
            "plans/demo.yaml",
            "--detailed-exitcode",
            "--state-dir",
        ])
        .arg(&state)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 changes (0 deletions)"));
    let out = served
        .decom(home.path())
        .args(["api", "DescribePhysicalConnections", "RegionId=cn-shanghai"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let left: Vec<&str> = v["PhysicalConnectionSet"]["PhysicalConnectionType"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["PhysicalConnectionId"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["pc-uf6prodcore00004"]);
    // Rerun: nothing to do, exit 0, no call changes anything.
    apply(&served, home.path(), Path::new("plans/demo.yaml"), &state)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("nothing to do"));
    assert_eq!(served.audit().len(), first);
    // The journal recorded both runs.
    let journal = std::fs::read_dir(&state)
        .unwrap()
        .map(Result::unwrap)
        .find(|e| e.file_name() != "locks")
        .unwrap()
        .path()
        .join("journal.jsonl");
    let text = std::fs::read_to_string(journal).unwrap();
    assert!(
        text.lines()
            .filter(|l| l.contains("\"event\":\"finished\""))
            .count()
            >= 39
    );
}

#[test]
fn safety_rails_refuse_with_their_exit_codes() {
    let served = Served::start(DEMO_WORLD);
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let demo = std::fs::read_to_string("plans/demo.yaml").unwrap();
    let variant = |name: &str, text: String| write(home.path(), name, &text);

    // Account guard.
    let p = variant(
        "account.yaml",
        demo.replace(
            "account: \"1234567890123456\"",
            "account: \"1111111111111111\"",
        ),
    );
    apply(&served, home.path(), &p, &state)
        .assert()
        .code(5)
        .stderr(predicate::str::contains(
            "belong to account 1234567890123456",
        ));
    // Window closed / not yet open.
    let p = variant("closed.yaml", demo.replace("region: cn-shanghai\n", "region: cn-shanghai\nwindow:\n  not_before: 2020-01-01T00:00:00Z\n  not_after: 2020-01-01T04:00:00Z\n"));
    apply(&served, home.path(), &p, &state)
        .assert()
        .code(4)
        .stderr(predicate::str::contains("window closed"));
    let p = variant("later.yaml", demo.replace("region: cn-shanghai\n", "region: cn-shanghai\nwindow:\n  not_before: 2099-01-01T00:00:00Z\n  not_after: 2099-01-01T04:00:00Z\n"));
    apply(&served, home.path(), &p, &state)
        .assert()
        .code(4)
        .stderr(predicate::str::contains("opens at"));
    // Protect rule on a blocker.
    apply(
        &served,
        home.path(),
        Path::new("plans/protected-blocker.yaml"),
        &state,
    )
    .assert()
    .code(5)
    .stderr(predicate::str::contains("protected"));
    // Blast radius.
    let p = variant(
        "radius.yaml",
        demo.replace("max_deletions: 40", "max_deletions: 3"),
    );
    apply(&served, home.path(), &p, &state)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("exceed policy.max_deletions 3"));
    // No TTY and no --yes.
    served
        .decom(home.path())
        .arg("apply")
        .arg("plans/demo.yaml")
        .arg("--state-dir")
        .arg(&state)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("--yes"));
    // Blockers without cascade: an error, nothing done.
    apply(
        &served,
        home.path(),
        Path::new("plans/blocked.yaml"),
        &state,
    )
    .assert()
    .code(1);
    assert!(served.audit().is_empty(), "no rail let anything through");

    // A second apply while one holds the lock (pid 1 is always alive).
    let dir = decom::exec::journal::Journal::dir_for(
        &state,
        "decommission-shanghai-dc1",
        &decom::plan::load(Path::new("plans/demo.yaml"))
            .unwrap()
            .journal_fingerprint(),
        "1234567890123456",
        served.endpoint(),
    );
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("lock"),
        r#"{"pid":1,"host":"ci-runner-7","since":"2026-11-21T10:00:00Z"}"#,
    )
    .unwrap();
    apply(&served, home.path(), Path::new("plans/demo.yaml"), &state)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("pid 1 on ci-runner-7"));
    std::fs::remove_file(dir.join("lock")).unwrap();
    assert!(served.audit().is_empty());
}

#[test]
fn stale_saved_plan_is_refused_and_a_fresh_one_applies_exactly() {
    let served = Served::start(DEMO_WORLD);
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let saved = home.path().join("saved.json");
    served
        .decom(home.path())
        .args(["plan", "plans/dc1-circuit.yaml", "--out"])
        .arg(&saved)
        .assert()
        .code(0);
    // Someone changes the estate: a BGP peer goes away.
    served
        .decom(home.path())
        .args([
            "api",
            "DeleteBgpPeer",
            "RegionId=cn-shanghai",
            "BgpPeerId=bgp-uf6dc1peer00001",
            "--allow-mutation",
        ])
        .assert()
        .success();
    apply(&served, home.path(), &saved, &state)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("changed since"));
    // Plan again, apply the saved plan: it runs with the saved ClientTokens.
    served
        .decom(home.path())
        .args(["plan", "plans/dc1-circuit.yaml", "--out"])
        .arg(&saved)
        .assert()
        .code(0);
    let saved_json: Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let tokens: Vec<String> = saved_json["graph"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["client_token"].as_str().map(str::to_string))
        .collect();
    apply(&served, home.path(), &saved, &state).assert().code(0);
    let audit = served.audit();
    assert_no_duplicates(&audit);
    for e in audit.iter().filter(|e| {
        e["applied"] == true
            && e["action"] != "DeleteBgpPeer"
            && e["action"] != "DeactivateRouterInterface"
    }) {
        let t = e["client_token"].as_str().unwrap_or("");
        assert!(
            tokens.iter().any(|x| x == t) || e["params"]["BgpPeerId"] == "bgp-uf6dc1peer00001",
            "{e}"
        );
    }
}

/// Start `decom apply` in the background with the given world served.
fn spawn_apply(served: &Served, home: &Path, plan: &str, state: &Path) -> Child {
    Command::new(cargo_bin("decom"))
        .env_clear()
        .env("HOME", home)
        .env(
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            served.banner["access_key_id"].as_str().unwrap(),
        )
        .env(
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            served.banner["access_key_secret"].as_str().unwrap(),
        )
        .args([
            "--endpoint",
            served.endpoint(),
            "apply",
            plan,
            "--yes",
            "--output",
            "json",
            "--state-dir",
        ])
        .arg(state)
        .args(FAST)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Read the apply's JSON-lines stdout until `pred` matches an event (or the deadline).
fn wait_for_event(child: &mut Child, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining after the test stops listening, so the child never sees a closed pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            let hit = pred(&v);
            seen.push(v);
            if hit {
                return seen;
            }
        }
    }
    panic!("event not seen; got {seen:?}");
}

fn slow_world(dir: &Path, extra: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(DEMO_WORLD).unwrap().replace(
        "terminate_physical_connection: 2s",
        "terminate_physical_connection: 3s",
    );
    write(dir, "world.yaml", &format!("{text}\n{extra}"))
}

fn step_of(events: &[Value], step: u64) -> bool {
    events.iter().any(|e| e["step"] == step)
}

#[test]
fn resume_after_kill_9_mid_wait_repeats_nothing() {
    let home = tempfile::tempdir().unwrap();
    let world = slow_world(home.path(), "");
    let served = Served::start(world.to_str().unwrap());
    let state = home.path().join("state");
    let mut child = spawn_apply(&served, home.path(), "plans/dc1-circuit.yaml", &state);
    // Kill -9 while it waits for the circuit to be Terminated.
    let seen = wait_for_event(&mut child, |e| {
        e["event"] == "progress" && e["state"] == "Terminating"
    });
    assert!(step_of(&seen, 0) || !seen.is_empty());
    child.kill().unwrap();
    child.wait().unwrap();
    // Resume: finishes, nothing applied twice.
    apply(
        &served,
        home.path(),
        Path::new("plans/dc1-circuit.yaml"),
        &state,
    )
    .assert()
    .code(0)
    .stderr(predicate::str::contains("resuming"));
    assert_no_duplicates(&served.audit());
    served
        .decom(home.path())
        .args(["plan", "plans/dc1-circuit.yaml", "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn resume_after_kill_9_right_after_a_lost_response() {
    let home = tempfile::tempdir().unwrap();
    // Every answer to these mutations is lost after the change is committed.
    let world = slow_world(
        home.path(),
        "faults: { seed: 3, rate: 1.0, kinds: [lost_response], actions: [TerminatePhysicalConnection, DeleteVirtualBorderRouter] }\n",
    );
    let served = Served::start(world.to_str().unwrap());
    let state = home.path().join("state");
    let mut child = spawn_apply(&served, home.path(), "plans/dc1-circuit.yaml", &state);
    // Kill -9 as soon as the emulator has committed a change whose answer was lost.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !served.audit().iter().any(|e| e["response_lost"] == true) {
        assert!(Instant::now() < deadline, "no lost response happened");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mid = served.audit();
    assert!(
        mid.iter()
            .any(|e| e["response_lost"] == true && e["applied"] == true)
    );
    // The resumed apply keeps getting lost answers for these two actions, but the
    // re-discovered state (VBRs gone, circuit Terminating) leaves nothing to repeat.
    apply(
        &served,
        home.path(),
        Path::new("plans/dc1-circuit.yaml"),
        &state,
    )
    .assert()
    .code(0);
    let audit = served.audit();
    assert_no_duplicates(&audit);
    let terminates = audit
        .iter()
        .filter(|e| e["action"] == "TerminatePhysicalConnection" && e["applied"] == true)
        .count();
    assert_eq!(terminates, 1);
}

#[test]
fn ctrl_c_finishes_in_flight_steps_and_exits_3_with_a_resume_hint() {
    let home = tempfile::tempdir().unwrap();
    let world = slow_world(home.path(), "");
    let served = Served::start(world.to_str().unwrap());
    let state = home.path().join("state");
    let mut child = spawn_apply(&served, home.path(), "plans/dc1-circuit.yaml", &state);
    // Interrupt while the circuit is Terminating (a wait in flight).
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
    let mut seen: Vec<Value> = Vec::new();
    for line in lines.by_ref() {
        let v: Value = serde_json::from_str(&line).unwrap();
        let hit = v["event"] == "progress" && v["state"] == "Terminating";
        seen.push(v);
        if hit {
            break;
        }
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    seen.extend(lines.map(|l| serde_json::from_str::<Value>(&l).unwrap()));
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    // The hint repeats the whole command line: state dir, --yes, the endpoint, the output.
    let hint = stderr
        .lines()
        .find(|l| l.starts_with("interrupted: rerun `"))
        .unwrap_or_else(|| panic!("{stderr}"));
    for part in [
        "decom --endpoint http://127.0.0.1:",
        " apply plans/dc1-circuit.yaml --yes --output json --state-dir ",
        " --poll-interval 200ms --max-interval 1s`",
    ] {
        assert!(hint.contains(part), "{part:?} missing from {hint}");
    }
    assert!(!hint.contains("secret"), "{hint}");
    // Every event names its step and its time; the last line is the report, with the exit
    // code, counting every step: the interrupted wait is not a failure, and the steps after
    // it are not started, not skipped.
    for e in &seen {
        assert!(
            e["time"]
                .as_str()
                .is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok()),
            "{e}"
        );
        if e["event"] == "started" || e["event"] == "finished" {
            for f in ["kind", "resource", "region", "action"] {
                assert!(e[f].is_string(), "{f} in {e}");
            }
        }
    }
    let report = seen.last().unwrap();
    assert_eq!(report["event"], "report", "{report}");
    assert_eq!(report["exit_code"], 3);
    let counts = report["counts"].as_object().unwrap();
    let total: u64 = counts.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(total as usize, report["steps"].as_array().unwrap().len());
    assert!(counts["interrupted"].as_u64().unwrap() >= 1, "{counts:?}");
    assert!(!counts.contains_key("skipped"), "{counts:?}");
    assert!(!counts.contains_key("failed"), "{counts:?}");
    // The journal is complete (ends with an `end` record) and a rerun finishes the job.
    let dir = std::fs::read_dir(&state)
        .unwrap()
        .map(Result::unwrap)
        .find(|e| e.file_name() != "locks")
        .unwrap()
        .path();
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
    assert!(
        journal
            .lines()
            .last()
            .unwrap()
            .contains("\"interrupted\":true"),
        "{journal}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("lock")).unwrap_or_default(),
        "",
        "lock released (its record cleared)"
    );
    apply(
        &served,
        home.path(),
        Path::new("plans/dc1-circuit.yaml"),
        &state,
    )
    .assert()
    .code(0);
    assert_no_duplicates(&served.audit());
}
