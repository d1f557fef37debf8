//! Issue 16, with the real binary: every command survives a closed pipe, `--output json`
//! always ends with a line carrying the exit code, logging (`RUST_LOG` / `DECOM_LOG`, one
//! line per API call, no colour when piped), the CLI's option groups, completions and
//! `--version`.

use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

use crate::plan::write;

const DEMO_WORLD: &str = "examples/worlds/demo.yaml";
const FAST: [&str; 4] = ["--poll-interval", "200ms", "--max-interval", "1s"];

/// Run `decom args` with stdout a pipe whose reader is already closed: every write fails
/// with EPIPE (Rust ignores SIGPIPE), deterministically.
fn closed_pipe(args: &[&str], dir: &std::path::Path) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(cargo_bin("decom"))
        .env_clear()
        .env("NO_COLOR", "1")
        .env("HOME", dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn every_command_survives_a_closed_pipe() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let state = state.to_str().unwrap();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["validate", "plans/demo.yaml"], 0),
        (vec!["plan", "plans/demo.yaml", "--emulator", DEMO_WORLD], 0),
        (
            vec![
                "plan",
                "plans/demo.yaml",
                "-o",
                "json",
                "--emulator",
                DEMO_WORLD,
            ],
            0,
        ),
        (
            vec![
                "plan",
                "plans/demo.yaml",
                "-o",
                "markdown",
                "--emulator",
                DEMO_WORLD,
            ],
            0,
        ),
        (
            vec!["plan", "plans/blocked.yaml", "--emulator", DEMO_WORLD],
            1,
        ),
        (
            vec!["graph", "plans/demo.yaml", "--emulator", DEMO_WORLD],
            0,
        ),
        (
            vec![
                "graph",
                "plans/demo.yaml",
                "--format",
                "mermaid",
                "--emulator",
                DEMO_WORLD,
            ],
            0,
        ),
        (
            vec![
                "api",
                "DescribePhysicalConnections",
                "RegionId=cn-shanghai",
                "--emulator",
                DEMO_WORLD,
            ],
            0,
        ),
        (vec!["emulator", "check", "--world", DEMO_WORLD], 0),
        (vec!["completions", "bash"], 0),
        (vec!["--help"], 0),
        (vec!["--version"], 0),
    ];
    // apply in each output (each run is a fresh embedded emulator, so each applies anew).
    let mut cases = cases;
    for output in ["json", "human", "markdown"] {
        cases.push((
            [
                &["apply", "plans/dc1-circuit.yaml", "--yes", "-o", output][..],
                &["--emulator", DEMO_WORLD, "--state-dir", state],
                &FAST,
            ]
            .concat(),
            0,
        ));
    }
    for (args, code) in cases {
        let out = closed_pipe(&args, home.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
    }
}

/// The last stdout line of `decom apply -o json`, parsed.
fn last_json_line(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_else(|| {
        panic!(
            "no stdout; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    serde_json::from_str(last).unwrap()
}

#[test]
fn apply_json_always_ends_with_the_exit_code() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let demo = std::fs::read_to_string("plans/demo.yaml").unwrap();
    let run = |plan: &std::path::Path| -> Output {
        crate::plan::decom()
            .env("HOME", home.path())
            .arg("apply")
            .arg(plan)
            .args([
                "--yes",
                "-o",
                "json",
                "--emulator",
                DEMO_WORLD,
                "--state-dir",
            ])
            .arg(&state)
            .args(FAST)
            .output()
            .unwrap()
    };
    let refused = write(
        home.path(),
        "account.yaml",
        &demo.replace("1234567890123456", "1111111111111111"),
    );
    let closed = write(
        home.path(),
        "closed.yaml",
        &demo.replace(
            "region: cn-shanghai\n",
            "region: cn-shanghai\nwindow:\n  not_before: 2020-01-01T00:00:00Z\n  not_after: 2020-01-01T04:00:00Z\n",
        ),
    );
    let missing = home.path().join("missing.yaml");
    for (plan, code, outcome) in [
        (&refused, 5, "refused"),
        (&closed, 4, "not_due"),
        (&missing, 1, "error"),
    ] {
        let out = run(plan);
        assert_eq!(out.status.code(), Some(code));
        let last = last_json_line(&out);
        assert_eq!(last["event"], "exit", "{last}");
        assert_eq!(last["exit_code"], code);
        assert_eq!(last["outcome"], outcome);
        assert!(last["time"].as_str().is_some());
    }
    assert!(
        last_json_line(&run(&missing))["message"]
            .as_str()
            .unwrap()
            .contains("missing.yaml")
    );
    // A run that executes: the report is the last line, with the exit code.
    let out = run(std::path::Path::new("plans/dc1-circuit.yaml"));
    assert_eq!(out.status.code(), Some(0));
    let last = last_json_line(&out);
    assert_eq!(
        (last["event"].as_str(), last["exit_code"].as_u64()),
        (Some("report"), Some(0))
    );
    let first: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["event"], "begin");
    assert!(!first["steps"].as_array().unwrap().is_empty());
}

#[test]
fn rust_log_and_decom_log_show_one_line_per_api_call_without_colour_or_secrets() {
    let home = tempfile::tempdir().unwrap();
    let secret = "demo-secret-do-not-use-in-production";
    for var in ["RUST_LOG", "DECOM_LOG"] {
        let out = crate::plan::decom()
            .env_remove("NO_COLOR")
            .env("HOME", home.path())
            .env(var, "debug")
            .args(["plan", "plans/dc1-circuit.yaml", "--emulator", DEMO_WORLD])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let calls: Vec<&str> = stderr.lines().filter(|l| l.contains("API call")).collect();
        assert!(calls.len() >= 3, "{var}: {stderr}");
        let line = calls
            .iter()
            .find(|l| l.contains("action=DescribePhysicalConnections"))
            .unwrap_or_else(|| panic!("{stderr}"));
        for field in [
            "product=Vpc",
            "region=cn-shanghai",
            "status=200",
            "request_id=",
            "ms=",
            "attempt=1",
        ] {
            assert!(line.contains(field), "{field} missing: {line}");
        }
        assert!(stderr.contains("plan loaded") && stderr.contains("graph built"));
        assert!(!stderr.contains('\x1b'), "colour on a pipe: {stderr}");
        assert!(!stderr.contains(secret) && !stderr.contains("Signature="));
    }
    // Without either: quiet.
    let out = crate::plan::decom()
        .env("HOME", home.path())
        .args(["plan", "plans/dc1-circuit.yaml", "--emulator", DEMO_WORLD])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("API call"));
}

#[test]
fn options_are_grouped_and_shown_where_they_apply() {
    let help = |args: &[&str]| -> String {
        let out = crate::plan::decom().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let validate = help(&["validate", "--help"]);
    assert!(validate.contains("Global options:") && validate.contains("--max-input-size"));
    for flag in ["--endpoint", "--emulator", "--access-key-secret"] {
        assert!(!validate.contains(flag), "validate --help shows {flag}");
        assert!(!help(&["emulator", "check", "--help"]).contains(flag));
    }
    let plan = help(&["plan", "--help"]);
    assert!(plan.contains("Connection options:") && plan.contains("--endpoint"));
    assert!(help(&["apply", "--help"]).contains("JSON lines"));
    // A connection option where it does not apply is an error, not ignored.
    let out = crate::plan::decom()
        .args(["validate", "plans/demo.yaml", "--emulator", DEMO_WORLD])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--emulator does not apply to `decom validate`")
    );
    // Completions for every shell.
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(help(&["completions", shell]).contains("apply"), "{shell}");
    }
    // --version names the commit of a git checkout.
    let version = help(&["--version"]);
    let in_git = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match in_git {
        Some(_) => assert!(
            version.starts_with(&format!("decom {} (", env!("CARGO_PKG_VERSION"))),
            "{version}"
        ),
        None => assert_eq!(
            version.trim(),
            format!("decom {}", env!("CARGO_PKG_VERSION"))
        ),
    }
}

#[test]
fn graph_draws_what_blocks_a_plan_and_exits_like_plan() {
    for (plan, code, blockers) in [
        ("plans/blocked.yaml", 1, 3),
        ("plans/protected-blocker.yaml", 5, 1),
        ("plans/demo.yaml", 0, 0),
    ] {
        for format in ["dot", "mermaid"] {
            let out = crate::plan::decom()
                .args(["graph", plan, "--format", format, "--emulator", DEMO_WORLD])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(code), "{plan} {format}");
            let plan_code = crate::plan::decom()
                .args(["plan", plan, "--emulator", DEMO_WORLD])
                .output()
                .unwrap()
                .status
                .code();
            assert_eq!(plan_code, Some(code), "{plan}: graph exits like plan");
            let text = String::from_utf8_lossy(&out.stdout);
            let edges = text.matches("blocks").count();
            assert_eq!(edges, blockers, "{plan} {format}:\n{text}");
        }
    }
}

#[test]
fn a_selector_that_matched_nothing_names_its_kind_once() {
    let home = tempfile::tempdir().unwrap();
    let plan = write(
        home.path(),
        "nothing.yaml",
        "version: 1\nname: nothing\nregion: cn-hangzhou\ntargets:\n  - vpn_connection: { tags: { decommission: never } }\n",
    );
    for format in ["human", "markdown"] {
        let out = crate::plan::decom()
            .arg("plan")
            .arg(&plan)
            .args(["-o", format, "--emulator", DEMO_WORLD])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("vpn_connection vpn_connection"), "{text}");
        assert!(
            !text.contains("vpn\\_connection vpn\\_connection"),
            "{text}"
        );
        assert!(text.contains("{tags: {decommission: never}}"), "{text}");
    }
}

#[test]
fn emulator_check_reports_every_problem_rustc_style() {
    let home = tempfile::tempdir().unwrap();
    let base = "account_id: \"1234567890123456\"\naccess_keys:\n  - { id: K, secret: S }\nregions: [cn-shanghai]\n";
    let world = write(
        home.path(),
        "w.yaml",
        &format!(
            "{base}physical_connections:\n  - {{ id: vbr-1, region: cn-shanghai }}\n  - {{ id: pc-2, region: mars-1 }}\nvirtual_border_routers:\n  - {{ id: vbr-2, region: cn-shanghai, physical_connection: pc-404 }}\n"
        ),
    );
    let out = crate::plan::decom()
        .args(["emulator", "check", "--world"])
        .arg(&world)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("\nerror: ").count() + 1, 3, "{stderr}");
    assert_eq!(stderr.matches("  --> ").count(), 3, "{stderr}");
    assert!(
        stderr.contains(" 7 |   - { id: pc-2, region: mars-1 }"),
        "{stderr}"
    );
    // A key the parser does not know: said once, without the parser's own prefix.
    let world = write(home.path(), "w2.yaml", &format!("{base}colour: red\n"));
    let out = crate::plan::decom()
        .args(["emulator", "check", "--world"])
        .arg(&world)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: unknown field `colour`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("error: error") && !stderr.contains("error: line"),
        "{stderr}"
    );
    assert!(stderr.contains("w2.yaml:5:1"), "{stderr}");
    // Several unknown keys: each one, where it is.
    let world = write(
        home.path(),
        "w3.yaml",
        &format!(
            "{base}colour: red\ntimings:\n  latency: 1s\n  speed: 3\nphysical_connections:\n  - id: pc-1\n    region: cn-shanghai\n    colour: blue\n"
        ),
    );
    let out = crate::plan::decom()
        .args(["emulator", "check", "--world"])
        .arg(&world)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    for at in ["w3.yaml:5:1", "w3.yaml:8:3", "w3.yaml:12:5"] {
        assert!(stderr.contains(at), "{at}: {stderr}");
    }
    assert_eq!(
        stderr.matches("error: unknown field").count(),
        3,
        "{stderr}"
    );
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn the_repository_stands_alone() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let api = std::fs::read_to_string("docs/alibaba-api.md").unwrap();
    // Every section of the API facts the README and the code cite is in the repository.
    let mut cited: Vec<String> = Vec::new();
    let mut files = Vec::new();
    rust_files(std::path::Path::new("src"), &mut files);
    let mut texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    texts.push(readme.clone());
    for text in &texts {
        for (i, _) in text.match_indices("alibaba-api.md") {
            let rest = &text[i..];
            let Some(sec) = rest.find('§').filter(|s| *s < 25) else {
                continue;
            };
            let n: String = rest[sec + '§'.len_utf8()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            cited.push(n);
        }
    }
    assert!(cited.len() > 10, "{cited:?}");
    for n in cited {
        assert!(
            api.contains(&format!("\n## {n}. ")),
            "docs/alibaba-api.md lacks §{n}"
        );
    }
    assert!(readme.contains("(docs/alibaba-api.md#"));
    assert!(api.contains("**Sources.**"));
    // Installing and the output contract.
    assert!(readme.contains("cargo install --locked --path ."));
    assert!(readme.contains("\n## Output and logging\n"));
    for word in [
        "RUST_LOG",
        "JSON lines",
        "format_version",
        "Markdown",
        "heartbeat",
    ] {
        assert!(readme.contains(word), "README lacks {word}");
    }
    // The CI example: one build, cached, the binary handed on; the preview comment even when
    // a plan is refused; apply runs the saved plans with the state directory restored.
    let ci = std::fs::read_to_string("examples/ci/decom.yml").unwrap();
    assert_eq!(
        ci.matches("cargo build").count() + ci.matches("cargo install").count(),
        1
    );
    assert!(ci.contains("uses: actions/cache@v4"));
    assert!(ci.contains("name: decom-bin, path: decom-src/target/release/decom"));
    // A job: from its `  name:` line to the next line indented by two spaces.
    let job = |name: &str| -> String {
        ci.lines()
            .skip_while(|l| *l != format!("  {name}:"))
            .enumerate()
            .take_while(|(i, l)| *i == 0 || !l.starts_with("  ") || l.starts_with("   "))
            .map(|(_, l)| format!("{l}\n"))
            .collect()
    };
    let preview = job("preview");
    assert!(preview.contains("needs: build") && preview.contains("--out"));
    let comment = &preview[preview.find("Comment the preview").unwrap()..];
    assert!(comment.lines().nth(1).unwrap().contains("if: always()"));
    let apply = job("apply");
    assert!(apply.contains("needs: build") && !apply.contains("cargo "));
    assert!(apply.contains("actions/cache/restore@v4") && apply.contains("actions/cache/save@v4"));
    assert!(apply.contains("decom apply \"$s\""));
}

#[test]
fn a_closed_stderr_is_not_a_panic() {
    // `decom validate bad.yaml 2>&1 | head`: the error report's reader goes away.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("version: 1\nname: x\ntargets:\n");
    for i in 0..60 {
        text.push_str(&format!(
            "  - {{ physical_connection: vbr-{i}, region: nowhere-{i} }}\n"
        ));
    }
    let plan = dir.path().join("bad.yaml");
    std::fs::write(&plan, text).unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(cargo_bin("decom"))
        .env_clear()
        .env("HOME", dir.path())
        .arg("validate")
        .arg(&plan)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(writer)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "no panic (101), the plan's exit code"
    );
}
