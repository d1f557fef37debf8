//! Issue 10, with the real binary against the real emulator over loopback: simultaneous
//! applies and the lock, overlapping plans, saved-plan checks, input files, secrets kept out
//! of every output, located messages and `emulator check` ranges.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;
use serde_json::Value;

use crate::cli::Served;
use crate::plan::{decom, write};

const DEMO_WORLD: &str = "examples/worlds/demo.yaml";
const FAST: [&str; 4] = ["--poll-interval", "200ms", "--max-interval", "1s"];

/// The demo world with a 2 s cancellation, so two runs overlap.
fn slow_world(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(DEMO_WORLD).unwrap().replace(
        "cancel_physical_connection: 500ms",
        "cancel_physical_connection: 2s",
    );
    assert!(text.contains("cancel_physical_connection: 2s"));
    write(dir, "world.yaml", &text)
}

/// A plan removing the (Confirmed) dc1 backup circuit: Cancel → wait → Delete.
fn backup_plan(dir: &Path, name: &str, extra_target: &str) -> PathBuf {
    write(
        dir,
        &format!("{name}.yaml"),
        &format!(
            "version: 1\nname: {name}\nregion: cn-shanghai\ntargets:\n  - physical_connection: pc-uf6dc1backup00002\n{extra_target}"
        ),
    )
}

/// `decom apply PLAN --yes` as a child process, with `args` before the subcommand.
fn spawn(global: &[&str], env: &[(&str, &str)], plan: &Path, state: &Path) -> std::process::Child {
    let mut cmd = Command::new(cargo_bin("decom"));
    cmd.env_clear().env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(global)
        .arg("apply")
        .arg(plan)
        .arg("--yes")
        .arg("--state-dir")
        .arg(state)
        .args(FAST)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn served_env(served: &Served, home: &Path) -> Vec<(String, String)> {
    vec![
        ("HOME".into(), home.display().to_string()),
        (
            "ALIBABA_CLOUD_ACCESS_KEY_ID".into(),
            served.banner["access_key_id"].as_str().unwrap().into(),
        ),
        (
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET".into(),
            served.banner["access_key_secret"].as_str().unwrap().into(),
        ),
    ]
}

fn pair(mk: impl Fn() -> std::process::Child) -> (Output, Output) {
    let (a, b) = (mk(), mk());
    (a.wait_with_output().unwrap(), b.wait_with_output().unwrap())
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn simultaneous_applies_of_one_plan_exactly_one_runs() {
    // Real processes (the library test in exec::lock runs 100 pairs in-process).
    let home = tempfile::tempdir().unwrap();
    let world = slow_world(home.path());
    let plan = backup_plan(home.path(), "backup", "");
    for round in 0..3 {
        let state = home.path().join(format!("state{round}"));
        let emulator = world.display().to_string();
        let (a, b) = pair(|| {
            spawn(
                &["--emulator", &emulator],
                &[("HOME", &home.path().display().to_string())],
                &plan,
                &state,
            )
        });
        let codes = [a.status.code(), b.status.code()];
        let ran = codes.iter().filter(|c| **c == Some(0)).count();
        assert_eq!(
            ran,
            1,
            "round {round}: {codes:?}\n{}\n{}",
            text(&a),
            text(&b)
        );
        let loser = if a.status.code() == Some(0) { &b } else { &a };
        assert_eq!(loser.status.code(), Some(1));
        assert!(
            text(loser).contains("held by another apply"),
            "{}",
            text(loser)
        );
    }
}

#[test]
fn overlapping_plans_are_kept_apart_and_never_repeat_a_change() {
    let home = tempfile::tempdir().unwrap();
    let world = slow_world(home.path());
    let a = backup_plan(home.path(), "backup-a", "");
    let b = backup_plan(
        home.path(),
        "backup-b",
        "  - physical_connection: pc-uf6dc1old0000003\n",
    );
    // One state directory: the second plan is refused while the first runs.
    let served = Served::start(world.to_str().unwrap());
    let env = served_env(&served, home.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let state = home.path().join("state");
    let global = ["--endpoint", served.endpoint()];
    let (oa, ob) = (
        spawn(&global, &env, &a, &state),
        spawn(&global, &env, &b, &state),
    );
    let (oa, ob) = (
        oa.wait_with_output().unwrap(),
        ob.wait_with_output().unwrap(),
    );
    let codes = [oa.status.code(), ob.status.code()];
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(1)),
        "{codes:?}\n{}\n{}",
        text(&oa),
        text(&ob)
    );
    let loser = if oa.status.code() == Some(1) {
        &oa
    } else {
        &ob
    };
    assert!(
        text(loser).contains("the lock of account 1234567890123456 in cn-shanghai"),
        "{}",
        text(loser)
    );
    drop(served);

    // Separate state directories, same moment: each change reaches the API once, because
    // both plans send the same ClientToken for the same Cancel and Delete.
    let served = Served::start(world.to_str().unwrap());
    let env = served_env(&served, home.path());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let global = ["--endpoint", served.endpoint()];
    let (sa, sb) = (home.path().join("sa"), home.path().join("sb"));
    let (oa, ob) = (spawn(&global, &env, &a, &sa), spawn(&global, &env, &b, &sb));
    let (oa, ob) = (
        oa.wait_with_output().unwrap(),
        ob.wait_with_output().unwrap(),
    );
    assert_eq!(oa.status.code(), Some(0), "{}", text(&oa));
    assert_eq!(ob.status.code(), Some(0), "{}", text(&ob));
    let audit = served.audit();
    let applied = |action: &str, id: &str| {
        audit
            .iter()
            .filter(|e| {
                e["applied"] == true
                    && e["action"] == action
                    && e["params"]["PhysicalConnectionId"] == id
            })
            .count()
    };
    assert_eq!(
        applied("CancelPhysicalConnection", "pc-uf6dc1backup00002"),
        1
    );
    assert_eq!(
        applied("DeletePhysicalConnection", "pc-uf6dc1backup00002"),
        1
    );

    // The rule behind it: Cancel and Delete tokens agree across plans.
    let tokens = |plan: &Path| -> Vec<(String, String)> {
        let out = decom()
            .arg("plan")
            .arg(plan)
            .args(["--output", "json", "--emulator"])
            .arg(DEMO_WORLD)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["resource"] == "pc-uf6dc1backup00002" && s["client_token"].is_string())
            .map(|s| {
                (
                    s["action"].as_str().unwrap().to_string(),
                    s["client_token"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (ta, tb) = (tokens(&a), tokens(&b));
    assert_eq!(ta.len(), 2, "{ta:?}");
    assert_eq!(ta, tb);
}

#[test]
fn a_saved_plan_is_checked_for_its_account_and_format_version() {
    let home = tempfile::tempdir().unwrap();
    // Planned against an embedded emulator world at a fixed path (the endpoint a saved plan
    // records is `emulator:<path>`).
    let demo = std::fs::read_to_string(DEMO_WORLD).unwrap();
    let world = write(home.path(), "world.yaml", &demo);
    let saved = home.path().join("saved.json");
    decom()
        .env("HOME", home.path())
        .arg("--emulator")
        .arg(&world)
        .args(["plan", "plans/dc1-circuit.yaml", "--out"])
        .arg(&saved)
        .assert()
        .code(0);
    let state = home.path().join("state");
    // Another endpoint (a served emulator): refused before any call.
    let served = Served::start(DEMO_WORLD);
    served
        .decom(home.path())
        .arg("apply")
        .arg(&saved)
        .args(["--yes", "--state-dir"])
        .arg(&state)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("was planned against emulator:"));
    assert!(served.audit().is_empty());
    drop(served);
    // The same endpoint, another account: refused before anything else.
    std::fs::write(
        &world,
        demo.replace(
            "account_id: \"1234567890123456\"",
            "account_id: \"2222222222222222\"",
        ),
    )
    .unwrap();
    decom()
        .env("HOME", home.path())
        .arg("--emulator")
        .arg(&world)
        .arg("apply")
        .arg(&saved)
        .args(["--yes", "--state-dir"])
        .arg(&state)
        .assert()
        .code(5)
        .stderr(predicate::str::contains(
            "was saved for account 1234567890123456, but these credentials belong to account 2222222222222222",
        ));
    // A format this build does not know.
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    v["format_version"] = 99.into();
    std::fs::write(&saved, v.to_string()).unwrap();
    decom()
        .env("HOME", home.path())
        .arg("--emulator")
        .arg(&world)
        .arg("apply")
        .arg(&saved)
        .args(["--yes", "--state-dir"])
        .arg(&state)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("format_version 99"));
}

#[test]
fn input_files_must_be_regular_small_and_utf8_with_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    // A device and a FIFO without a writer: refused at once, nothing read.
    decom()
        .args(["validate", "/dev/zero"])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "it is a character device, not a regular file",
        ));
    let fifo = dir.path().join("plan.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    decom()
        .arg("validate")
        .arg(&fifo)
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("FIFO"));
    decom()
        .args(["emulator", "check", "--world"])
        .arg(&fifo)
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("FIFO"));
    // Size cap, configurable.
    let plan = std::fs::read_to_string("plans/demo.yaml").unwrap();
    let big = write(dir.path(), "big.yaml", &plan);
    decom()
        .args(["--max-input-size", "1K", "validate"])
        .arg(&big)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "more than the limit of 1024 bytes",
        ));
    decom()
        .env("DECOM_MAX_INPUT_SIZE", "1M")
        .arg("validate")
        .arg(&big)
        .assert()
        .code(0);
    // Invalid UTF-8, located.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, b"version: 1\nname: caf\xff\ntargets: []\n").unwrap();
    decom()
        .arg("validate")
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "invalid UTF-8 at line 2, column 10",
        ))
        .stderr(predicate::str::contains("bad.yaml:2:10"));
    decom()
        .args(["emulator", "check", "--world"])
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: cannot read the world file: invalid UTF-8",
        ))
        .stderr(predicate::str::contains("bad.yaml:2:10"));
    // The saved-plan path reads through the same checks.
    decom()
        .args(["apply", "/dev/zero", "--yes", "--emulator", DEMO_WORLD])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("character device"));
}

#[test]
fn messages_name_positions_and_ranges() {
    let dir = tempfile::tempdir().unwrap();
    // A number beyond 64 bits.
    let p = write(
        dir.path(),
        "big-number.yaml",
        "version: 1\nname: x\nregion: cn-shanghai\npolicy:\n  max_deletions: 99999999999999999999999\ntargets:\n  - physical_connection: pc-1\n",
    );
    let out = decom().arg("validate").arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(!err.contains("found a number\n"), "{err}");
    assert!(
        err.contains("policy.max_deletions must be a whole number, found a number too large"),
        "{err}"
    );
    // World problems of top-level scalars are located, never at 0:0.
    let header = "account_id: \"12x\"\naccess_keys: []\nregions: [cn-shanghai]\n";
    let w = write(dir.path(), "w.yaml", header);
    let out = decom()
        .args(["emulator", "check", "--world"])
        .arg(&w)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains(":0:0"), "{err}");
    // Rendered rustc-style, like a plan's errors (issue 16).
    assert!(located(&err, "w.yaml:1:1: account_id"), "{err}");
    assert!(located(&err, "w.yaml:2:1: access_keys"), "{err}");
    // Ranges of rates, scales and durations.
    let ok = "account_id: \"1234567890123456\"\naccess_keys: [{ id: K, secret: S }]\nregions: [cn-shanghai]\n";
    for (extra, needle) in [
        (
            "faults: { rate: 2.5 }\n",
            "w2.yaml:4:11: faults.rate 2.5 must be a probability",
        ),
        (
            "faults:\n  rate: -1\n",
            "w2.yaml:5:3: faults.rate -1 must be a probability",
        ),
        (
            "faults: { rate: .nan }\n",
            "faults.rate NaN must be a probability",
        ),
        (
            "rate_limits: { scale: 0 }\n",
            "rate_limits.scale 0 must be a finite number above 0",
        ),
        (
            "rate_limits: { scale: -2 }\n",
            "rate_limits.scale -2 must be",
        ),
        (
            "rate_limits: { scale: .nan }\n",
            "rate_limits.scale NaN must be",
        ),
        (
            "rate_limits: { per_minute: { DeleteVpnConnection: 0 } }\n",
            "must be at least 1 call per minute",
        ),
        ("timings: { latency: 2d }\n", "invalid duration unit"),
        (
            "timings: { latency: 30h }\n",
            "timings.latency 108000s is longer than a day",
        ),
    ] {
        let w = write(dir.path(), "w2.yaml", &format!("{ok}{extra}"));
        let out = decom()
            .args(["emulator", "check", "--world"])
            .arg(&w)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(located(&err, needle), "{needle}: {err}");
    }
}

/// `file:line:col: message` as a rustc-style block: `error: message…` then
/// `--> …file:line:col`. A needle without a position only needs its text.
fn located(err: &str, needle: &str) -> bool {
    let mut parts = needle.splitn(4, ':');
    let (file, line, col, rest) = (parts.next(), parts.next(), parts.next(), parts.next());
    match (file, line, col, rest) {
        (Some(f), Some(l), Some(c), Some(msg))
            if l.parse::<u64>().is_ok() && c.parse::<u64>().is_ok() =>
        {
            let head = format!("error: {}", msg.trim_start());
            err.split("\n\n")
                .any(|block| block.starts_with(&head) && block.contains(&format!("{f}:{l}:{c}\n")))
        }
        _ => err.contains(needle),
    }
}

#[test]
fn secrets_never_reach_any_output_of_the_binary() {
    const TOKEN: &str = "CAIS-sts/tok+en=Zq9";
    let home = tempfile::tempdir().unwrap();
    let world = std::fs::read_to_string(DEMO_WORLD).unwrap().replace(
        "    secret: demo-secret-do-not-use-in-production\n",
        &format!(
            "    secret: demo-secret-do-not-use-in-production\n    security_token: \"{TOKEN}\"\n"
        ),
    );
    assert!(world.contains(TOKEN));
    let world = write(home.path(), "world.yaml", &world);
    let served = Served::start(world.to_str().unwrap());
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let forms = [TOKEN.to_string(), enc(TOKEN), enc(&enc(TOKEN))];
    let run = |secret: &str, args: &[&str]| -> (Option<i32>, String, String) {
        let out = served
            .decom(home.path())
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret)
            .env("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN)
            .env("DECOM_LOG", "debug")
            .args(["--signature", "v1"])
            .args(args)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for f in &forms {
            assert!(
                !all.contains(f.as_str()),
                "{args:?} printed the token:\n{all}"
            );
        }
        (
            out.status.code(),
            all,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let state = home.path().join("state");
    let state = state.to_str().unwrap();
    let wrong = "rotated-secret";
    for args in [
        &["api", "DescribePhysicalConnections", "RegionId=cn-shanghai"][..],
        &["plan", "plans/dc1-circuit.yaml"],
        &["plan", "plans/dc1-circuit.yaml", "-o", "json"],
        &["plan", "plans/dc1-circuit.yaml", "-o", "markdown"],
        &[
            "apply",
            "plans/dc1-circuit.yaml",
            "--yes",
            "--state-dir",
            state,
        ],
        &[
            "apply",
            "plans/dc1-circuit.yaml",
            "--yes",
            "-o",
            "json",
            "--state-dir",
            state,
        ],
        &[
            "apply",
            "plans/dc1-circuit.yaml",
            "--yes",
            "-o",
            "markdown",
            "--state-dir",
            state,
        ],
    ] {
        let (code, all, stderr) = run(wrong, args);
        assert_eq!(code, Some(1), "{args:?}: {all}");
        assert_eq!(
            stderr.matches("server string to sign is").count(),
            1,
            "{args:?}: said once\n{all}"
        );
    }
    // With the right secret: the saved plan and a full apply in every output mode.
    let good = served.banner["access_key_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let saved = home.path().join("saved.json");
    let saved = saved.to_str().unwrap();
    assert_eq!(
        run(&good, &["plan", "plans/dc1-circuit.yaml", "--out", saved]).0,
        Some(0)
    );
    let text = std::fs::read_to_string(saved).unwrap();
    for f in &forms {
        assert!(
            !text.contains(f.as_str()),
            "the saved plan carries the token"
        );
    }
    let (code, all, _) = run(
        &good,
        &["apply", saved, "--yes", "-o", "json", "--state-dir", state],
    );
    assert_eq!(code, Some(0), "{all}");
    for entry in std::fs::read_dir(state).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() && p.join("journal.jsonl").exists() {
            let j = std::fs::read_to_string(p.join("journal.jsonl")).unwrap();
            for f in &forms {
                assert!(!j.contains(f.as_str()), "the journal carries the token");
            }
        }
    }
}
