//! Issue 13, with the real binary against the emulator over loopback: safety rails that hold
//! for the whole run — the window, saved plans, selectors that match nothing, partial
//! teardown, owners, one vocabulary for counts, and the lock.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;
use serde_json::Value;

use crate::cli::Served;
use crate::plan::{decom, write};

const DEMO_WORLD: &str = "examples/worlds/demo.yaml";
const FAST: [&str; 4] = ["--poll-interval", "200ms", "--max-interval", "1s"];

/// The demo world with `from` replaced by `to` (which must be there).
fn world_with(dir: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(DEMO_WORLD).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{from}");
        text = text.replace(from, to);
    }
    write(dir, name, &text)
}

fn all(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn actions(served: &Served) -> Vec<String> {
    served
        .audit()
        .iter()
        .filter(|e| e["applied"] == true)
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

fn rfc3339(offset_secs: i64) -> String {
    jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(offset_secs))
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// §1: a window that closes during the run stops every change from starting after it.
#[test]
fn the_window_holds_for_the_whole_run() {
    let home = tempfile::tempdir().unwrap();
    // Detaching the TR attachment takes 8 s; the circuit can only be terminated after it.
    let world = world_with(
        home.path(),
        "slow.yaml",
        &[("detach_attachment: 1500ms", "detach_attachment: 8s")],
    );
    let served = Served::start(world.to_str().unwrap());
    let plan = write(
        home.path(),
        "windowed.yaml",
        &format!(
            "version: 1\nname: windowed\nregion: cn-shanghai\nwindow:\n  not_before: {}\n  not_after: {}\npolicy: {{ cascade: true }}\ntargets:\n  - physical_connection: pc-uf6dc1primary0001\n",
            rfc3339(-3600),
            rfc3339(3)
        ),
    );
    // The preview shows the window and where now is in it.
    served
        .decom(home.path())
        .arg("plan")
        .arg(&plan)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("open, closes in"));
    let out = served
        .decom(home.path())
        .arg("apply")
        .arg(&plan)
        .args(["--yes", "--state-dir"])
        .arg(home.path().join("state"))
        .args(FAST)
        .output()
        .unwrap();
    let text = all(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("Apply stopped: window closed"), "{text}");
    assert!(text.contains("window closed at"), "{text}");
    assert!(
        text.contains("rerun `") && text.contains(" apply "),
        "{text}"
    );
    let done = actions(&served);
    assert!(
        !done.iter().any(|a| a == "TerminatePhysicalConnection"),
        "{done:?}"
    );
    // Every change that went out started inside the window.
    let end: jiff::Timestamp = {
        let p = std::fs::read_to_string(&plan).unwrap();
        let line = p.lines().find(|l| l.contains("not_after")).unwrap();
        line.split_once(": ").unwrap().1.trim().parse().unwrap()
    };
    // The audit time is when the emulator received the call: decom checks the window just
    // before sending, so a call checked at the last instant may arrive a moment later on a
    // loaded machine (a tolerance of 1 s, far below the 8-s detach it must not start).
    let tolerance = jiff::SignedDuration::from_secs(1);
    for e in served.audit() {
        let t: jiff::Timestamp = e["time"].as_str().unwrap().parse().unwrap();
        assert!(t <= end + tolerance, "{e} after {end}");
    }
}

#[test]
fn a_closed_window_shows_in_every_preview_and_validate_warns() {
    let home = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string("plans/demo.yaml").unwrap();
    let plan = write(
        home.path(),
        "closed.yaml",
        &demo.replace(
            "region: cn-shanghai\n",
            "region: cn-shanghai\nwindow:\n  not_before: 2020-01-01T00:00:00Z\n  not_after: 2020-01-01T04:00:00Z\n",
        ),
    );
    decom()
        .arg("validate")
        .arg(&plan)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("warning:"))
        .stderr(predicate::str::contains(
            "the window closed at 2020-01-01T04:00:00Z",
        ));
    for (format, needle) in [
        (
            "human",
            "2020-01-01T00:00:00Z → 2020-01-01T04:00:00Z (CLOSED",
        ),
        (
            "markdown",
            "- **window**: 2020-01-01T00:00:00Z → 2020-01-01T04:00:00Z (CLOSED",
        ),
        ("json", "\"not_after\": \"2020-01-01T04:00:00Z\""),
    ] {
        let out = decom()
            .arg("plan")
            .arg(&plan)
            .args(["--output", format, "--emulator", DEMO_WORLD])
            .output()
            .unwrap();
        assert!(all(&out).contains(needle), "{format}: {}", all(&out));
    }
}

/// §2: a rehearsal's journal never silences the staleness check for the real account.
#[test]
fn a_rehearsal_never_vouches_for_a_saved_plan() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    // Rehearsal: the same account, another endpoint.
    let rehearsal = Served::start(DEMO_WORLD);
    rehearsal
        .decom(home.path())
        .args(["apply", "plans/dc1-circuit.yaml", "--yes", "--state-dir"])
        .arg(&state)
        .args(FAST)
        .assert()
        .code(0);
    // The live endpoint: plan, then the estate changes, then the saved plan is applied.
    let live = Served::start(DEMO_WORLD);
    let saved = home.path().join("saved.json");
    live.decom(home.path())
        .args(["plan", "plans/dc1-circuit.yaml", "--out"])
        .arg(&saved)
        .assert()
        .code(0);
    live.decom(home.path())
        .args([
            "api",
            "DeleteBgpPeer",
            "RegionId=cn-shanghai",
            "BgpPeerId=bgp-uf6dc1peer00001",
            "--allow-mutation",
        ])
        .assert()
        .success();
    let before = live.audit().len();
    live.decom(home.path())
        .arg("apply")
        .arg(&saved)
        .args(["--yes", "--state-dir"])
        .arg(&state)
        .args(FAST)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("changed since"));
    assert_eq!(live.audit().len(), before, "nothing done");
    // A saved plan is refused against another endpoint than it was planned against.
    rehearsal
        .decom(home.path())
        .arg("apply")
        .arg(&saved)
        .args(["--yes", "--state-dir"])
        .arg(&state)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("was planned against"));
}

/// §2: a saved plan is self-contained: it applies from another directory, `show` prints it,
/// and `plan` says what it is.
#[test]
fn a_saved_plan_moves_and_shows() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(DEMO_WORLD);
    let saved = home.path().join("saved.json");
    served
        .decom(home.path())
        .args(["plan", "plans/dc1-circuit.yaml", "--out"])
        .arg(&saved)
        .assert()
        .code(0);
    decom()
        .arg("plan")
        .arg(&saved)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is a saved plan"))
        .stderr(predicate::str::contains("decom show"));
    decom()
        .arg("show")
        .arg(&saved)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("saved plan:"))
        .stdout(predicate::str::contains("plans/dc1-circuit.yaml"))
        .stdout(predicate::str::contains("Destroy, in execution order:"))
        .stdout(predicate::str::contains("account guard:"));
    let out = decom()
        .arg("show")
        .arg(&saved)
        .args(["--output", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["saved"]["account"], "1234567890123456");
    assert!(v["steps"].as_array().unwrap().len() > 5);
    decom()
        .arg("show")
        .arg(&saved)
        .args(["--output", "markdown"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("#### Saved plan"));
    decom()
        .args(["show", "plans/demo.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not a saved plan"));
    // Applied from another directory (the plan file is not there): it runs exactly.
    let elsewhere = tempfile::tempdir().unwrap();
    let moved = elsewhere.path().join("artifact.json");
    std::fs::copy(&saved, &moved).unwrap();
    served
        .decom(home.path())
        .current_dir(elsewhere.path())
        .arg("apply")
        .arg(&moved)
        .args(["--yes", "--state-dir"])
        .arg(elsewhere.path().join("state"))
        .args(FAST)
        .assert()
        .code(0);
    // An edited embedded plan is caught.
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    v["plan_source"] = Value::String(
        v["plan_source"]
            .as_str()
            .unwrap()
            .replace("cascade: true", "cascade: false"),
    );
    std::fs::write(&saved, v.to_string()).unwrap();
    decom()
        .arg("show")
        .arg(&saved)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("does not match its steps"));
}

/// §3: a selector with a typo is an error in every output; after this plan removed what a
/// selector matched, the journal of this plan and account tells a rerun apart.
#[test]
fn a_selector_that_matches_nothing_is_not_success() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(DEMO_WORLD);
    let state = home.path().join("state");
    let demo = std::fs::read_to_string("plans/demo.yaml").unwrap();
    let typo = write(
        home.path(),
        "typo.yaml",
        &demo.replace(
            "  - vpn_connection: { tags: { decommission: \"2026-q4\" } }",
            "  - vpn_connection: { tags: { decommission: \"2026-Q4\" } }",
        ),
    );
    let plan = |path: &Path, format: &str| {
        served
            .decom(home.path())
            .arg("plan")
            .arg(path)
            .args(["--detailed-exitcode", "--output", format, "--state-dir"])
            .arg(&state)
            .output()
            .unwrap()
    };
    for (format, needle) in [
        ("human", "MATCHED NOTHING"),
        ("markdown", "**matched nothing**"),
        ("json", "\"disposition\": \"matched_nothing\""),
    ] {
        let out = plan(&typo, format);
        assert_eq!(out.status.code(), Some(1), "{format}: {}", all(&out));
        assert!(all(&out).contains(needle), "{format}: {}", all(&out));
        let count = if format == "json" {
            "\"matched_nothing\": 1"
        } else {
            "1 matched nothing"
        };
        assert!(all(&out).contains(count), "{}", all(&out));
    }
    served
        .decom(home.path())
        .arg("apply")
        .arg(&typo)
        .args(["--yes", "--state-dir"])
        .arg(&state)
        .args(FAST)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("matched nothing"));
    assert!(served.audit().is_empty(), "nothing done");
    // The real plan runs; a rerun with its journal is "nothing to do", exit 0.
    let tr = write(
        home.path(),
        "offices.yaml",
        "version: 1\nname: hangzhou-offices\nregion: cn-hangzhou\ntargets:\n  - vpn_connection: { tags: { decommission: \"2026-q4\" } }\n",
    );
    let tr = tr.as_path();
    served
        .decom(home.path())
        .arg("apply")
        .arg(tr)
        .args(["--yes", "--state-dir"])
        .arg(&state)
        .args(FAST)
        .assert()
        .code(0);
    let out = plan(tr, "json");
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["already_gone"], 1, "{v:#}");
    assert_eq!(v["summary"]["matched_nothing"], 0, "{v:#}");
    served
        .decom(home.path())
        .arg("apply")
        .arg(tr)
        .args(["--yes", "--state-dir"])
        .arg(&state)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("nothing to do"));
    // Without that journal (another state directory) it cannot be told from a typo.
    served
        .decom(home.path())
        .arg("apply")
        .arg(tr)
        .args(["--yes", "--state-dir"])
        .arg(home.path().join("elsewhere"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("matched nothing"));
}

/// §4: one unremovable blocker refuses the plan by default; `policy.on_blocked: skip`
/// removes the rest and exits 3.
#[test]
fn partial_teardown_is_opt_in() {
    let home = tempfile::tempdir().unwrap();
    let world = world_with(
        home.path(),
        "partner.yaml",
        &[(
            "    status: unconfirmed\n    name: partner-handover",
            "    status: active\n    name: partner-handover",
        )],
    );
    let served = Served::start(world.to_str().unwrap());
    let state = home.path().join("state");
    let dc1 = std::fs::read_to_string("plans/dc1-circuit.yaml").unwrap();
    let all_or_nothing = write(home.path(), "aon.yaml", &dc1);
    served
        .decom(home.path())
        .arg("apply")
        .arg(&all_or_nothing)
        .args(["--yes", "--state-dir"])
        .arg(&state)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot be removed"));
    assert!(served.audit().is_empty());
    let skip = write(
        home.path(),
        "skip.yaml",
        &dc1.replace("  cascade: true\n", "  cascade: true\n  on_blocked: skip\n"),
    );
    let out = served
        .decom(home.path())
        .arg("plan")
        .arg(&skip)
        .args(["--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rails"]["on_blocked"], "skip");
    assert_eq!(v["summary"]["blocked"], 2, "{v:#}");
    let out = served
        .decom(home.path())
        .arg("apply")
        .arg(&skip)
        .args(["--yes", "--state-dir"])
        .arg(&state)
        .args(FAST)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", all(&out));
    assert!(all(&out).contains("partial teardown"), "{}", all(&out));
    assert!(all(&out).contains("vbr-uf6partner00003"), "{}", all(&out));
    let done = actions(&served);
    let deleted_vbrs: Vec<String> = served
        .audit()
        .iter()
        .filter(|e| e["applied"] == true && e["action"] == "DeleteVirtualBorderRouter")
        .map(|e| e["params"]["VbrId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        deleted_vbrs.len(),
        2,
        "the two own VBRs go: {deleted_vbrs:?}"
    );
    assert!(!deleted_vbrs.iter().any(|v| v == "vbr-uf6partner00003"));
    assert!(
        !done.iter().any(|a| a.ends_with("PhysicalConnection")),
        "the blocked circuit stays: {done:?}"
    );
    // A rerun: nothing removable is left, the blocked stay: exit 3 again, nothing sent.
    let before = served.audit().len();
    served
        .decom(home.path())
        .arg("apply")
        .arg(&skip)
        .args(["--yes", "--state-dir"])
        .arg(&state)
        .assert()
        .code(3);
    assert_eq!(served.audit().len(), before);
}

/// §5: another account's resource shows its owner in every preview.
#[test]
fn other_accounts_resources_show_their_owner() {
    for (format, needle) in [
        ("human", "[owner account 9876543210987654]"),
        (
            "markdown",
            "vbr-uf6partner00003 (partner-handover), owner account 9876543210987654",
        ),
        ("json", "\"owner\": \"9876543210987654\""),
    ] {
        let out = decom()
            .args([
                "plan",
                "plans/demo.yaml",
                "--output",
                format,
                "--emulator",
                DEMO_WORLD,
            ])
            .output()
            .unwrap();
        assert!(all(&out).contains(needle), "{format}: {}", all(&out));
    }
}

/// §6: the preview, the blast-radius check and the report use one count each.
#[test]
fn one_vocabulary_for_counts() {
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(DEMO_WORLD);
    let out = served
        .decom(home.path())
        .args(["plan", "plans/demo.yaml", "--output", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = v["summary"]["changes"].as_u64().unwrap();
    let deletions = v["summary"]["deletions"].as_u64().unwrap();
    assert_eq!(v["summary"]["destroy"], changes);
    assert!(deletions < changes, "{v:#}");
    let summary = format!("{changes} changes ({deletions} deletions)");
    for format in ["human", "markdown"] {
        served
            .decom(home.path())
            .args(["plan", "plans/demo.yaml", "--output", format])
            .assert()
            .code(0)
            .stdout(predicate::str::contains(summary.as_str()))
            .stdout(predicate::str::contains("account guard"))
            .stdout(predicate::str::contains(
                "1234567890123456 (apply refuses any other account)",
            ))
            .stdout(predicate::str::contains("max deletions"))
            .stdout(predicate::str::contains(format!(
                "40 (this plan: {deletions} deletions)"
            )))
            .stdout(predicate::str::contains("cascade"))
            .stdout(predicate::str::contains("window"));
    }
    let demo = std::fs::read_to_string("plans/demo.yaml").unwrap();
    let tight = write(
        home.path(),
        "tight.yaml",
        &demo.replace(
            "max_deletions: 40",
            &format!("max_deletions: {}", deletions - 1),
        ),
    );
    served
        .decom(home.path())
        .arg("apply")
        .arg(&tight)
        .args(["--yes", "--state-dir"])
        .arg(home.path().join("state"))
        .assert()
        .code(5)
        .stderr(predicate::str::contains(format!(
            "{deletions} deletions exceed policy.max_deletions {}",
            deletions - 1
        )));
    served
        .decom(home.path())
        .args(["apply", "plans/demo.yaml", "--yes", "--state-dir"])
        .arg(home.path().join("state"))
        .args(FAST)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(format!(
            "Changes made: {changes} of {changes} ({deletions} of {deletions} deletions)"
        )));
}

/// The exit codes `--help` prints agree with the README and with what apply does.
#[test]
fn the_exit_code_table_matches_the_readme() {
    let out = decom().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    let readme = std::fs::read_to_string("README.md").unwrap();
    for line in help
        .lines()
        .skip_while(|l| !l.starts_with("Exit codes:"))
        .skip(1)
    {
        let Some((code, meaning)) = line.trim().split_once("  ") else {
            continue;
        };
        let row = format!("| {code} | {} |", meaning.trim());
        assert!(readme.contains(&row), "README lacks {row:?}");
    }
    assert!(help.contains("1  error (bad input, auth, API failure before any change, blockers that refuse the plan, a selector that matched nothing)"));
}

/// A pseudo-terminal: (master fd, slave path).
fn pty() -> (std::fs::File, PathBuf) {
    use std::os::fd::FromRawFd as _;
    // SAFETY: plain libc calls on a fresh descriptor; ptsname's buffer is copied at once.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(master >= 0);
        assert_eq!(libc::grantpt(master), 0);
        assert_eq!(libc::unlockpt(master), 0);
        let name = std::ffi::CStr::from_ptr(libc::ptsname(master))
            .to_string_lossy()
            .into_owned();
        (std::fs::File::from_raw_fd(master), PathBuf::from(name))
    }
}

/// §7: "no" or Ctrl-C at the prompt releases every lock; the lock names the real host.
#[test]
fn the_prompt_releases_the_lock_and_the_lock_names_the_host() {
    use std::io::{Read as _, Write as _};
    let home = tempfile::tempdir().unwrap();
    let served = Served::start(DEMO_WORLD);
    let state = home.path().join("state");
    for answer in ["no", "ctrl-c"] {
        let (mut master, slave) = pty();
        let tty = || {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&slave)
                .unwrap()
        };
        let mut child = Command::new(cargo_bin("decom"))
            .env_clear()
            .env("HOME", home.path())
            .env("HOSTNAME", "not-the-host-name")
            .env("NO_COLOR", "1")
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
                "plans/dc1-circuit.yaml",
                "--state-dir",
            ])
            .arg(&state)
            .stdin(Stdio::from(tty()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read stderr until the prompt shows.
        let mut stderr = child.stderr.take().unwrap();
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !String::from_utf8_lossy(&seen).contains("Type 'yes' to continue") {
            assert!(
                std::time::Instant::now() < deadline,
                "no prompt: {}",
                String::from_utf8_lossy(&seen)
            );
            let mut buf = [0u8; 4096];
            let n = stderr.read(&mut buf).unwrap();
            assert!(n > 0, "stderr closed: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
        let prompt = String::from_utf8_lossy(&seen).to_string();
        assert!(prompt.contains("change(s) ("), "{prompt}");
        assert!(prompt.contains("deletion(s),"), "{prompt}");
        // While it asks, the lock names this process and the system's host name, not
        // $HOSTNAME.
        let lock_files: Vec<PathBuf> = walk(&state)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "lock") || p.ends_with("lock"))
            .collect();
        assert!(!lock_files.is_empty());
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap()
            .trim()
            .to_string();
        for f in &lock_files {
            let rec: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            assert_eq!(rec["host"], host.as_str(), "{f:?}");
            assert_eq!(rec["pid"], child.id());
        }
        if answer == "no" {
            master.write_all(b"no\n").unwrap();
        } else {
            Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .unwrap();
        }
        let status = child.wait().unwrap();
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        assert_eq!(status.code(), Some(5), "{answer}: {rest}");
        assert!(rest.contains("cancelled; nothing done"), "{answer}: {rest}");
        for f in &lock_files {
            assert_eq!(
                std::fs::read_to_string(f).unwrap(),
                "",
                "{answer}: {f:?} released"
            );
        }
    }
    assert!(served.audit().is_empty());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
