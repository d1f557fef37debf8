//! The real binary: `decom emulator serve` and `decom api` against it over loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

/// A `decom emulator serve` child process, killed on drop.
pub struct Served {
    pub child: Child,
    pub banner: Value,
}

impl Served {
    pub fn start(world: &str) -> Served {
        Served::start_with(world, &[])
    }

    /// Serve with extra `emulator serve` arguments (e.g. `--ecs-role ROLE`).
    pub fn start_with(world: &str, extra: &[&str]) -> Served {
        let mut child = Command::new(cargo_bin("decom"))
            .args(["emulator", "serve", "--world", world])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn decom emulator serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let banner: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("first line {line:?}: {e}"));
        Served { child, banner }
    }

    pub fn endpoint(&self) -> &str {
        self.banner["endpoint"].as_str().unwrap()
    }

    /// `decom` with this emulator's endpoint and credentials in the environment, and an empty
    /// HOME so no real credential file is read.
    pub fn decom(&self, home: &std::path::Path) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(cargo_bin("decom"));
        cmd.env_clear()
            .env("HOME", home)
            .env(
                "ALIBABA_CLOUD_ACCESS_KEY_ID",
                self.banner["access_key_id"].as_str().unwrap(),
            )
            .env(
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                self.banner["access_key_secret"].as_str().unwrap(),
            )
            .arg("--endpoint")
            .arg(self.endpoint());
        cmd
    }

    pub fn audit(&self) -> Vec<Value> {
        let addr = self.endpoint().trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET /_emulator/audit HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        let body = resp.split("\r\n\r\n").nth(1).unwrap();
        serde_json::from_str(body).unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const DEMO: &str = "examples/worlds/demo.yaml";

#[test]
fn serve_banner_api_reads_both_signatures_and_clean_shutdown() {
    let mut served = Served::start(DEMO);
    assert_eq!(served.banner["account_id"], "1234567890123456");
    assert!(served.endpoint().starts_with("http://127.0.0.1:"));
    let home = tempfile::tempdir().unwrap();
    for sig in ["v3", "v1"] {
        let out = served
            .decom(home.path())
            .args([
                "api",
                "DescribePhysicalConnections",
                "RegionId=cn-shanghai",
                "PageSize=50",
                "--signature",
                sig,
            ])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["TotalCount"], 4, "{sig}");
        assert!(String::from_utf8_lossy(&out).contains("pc-uf6dc1primary0001"));
    }
    // Cbn and STS through the same endpoint; the product is inferred.
    let out = served
        .decom(home.path())
        .args([
            "api",
            "ListTransitRouterVpnAttachments",
            "TransitRouterId=tr-p0wsydney00000001",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("vco-p0wsydney0branch1"));
    served
        .decom(home.path())
        .args(["api", "GetCallerIdentity"])
        .assert()
        .success()
        .stdout(predicates::str::contains("1234567890123456"));

    // Mutations need --allow-mutation; nothing is sent without it.
    served
        .decom(home.path())
        .args([
            "api",
            "DeletePhysicalConnection",
            "RegionId=cn-shanghai",
            "PhysicalConnectionId=pc-uf6dc1old0000003",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("--allow-mutation"));
    assert!(served.audit().is_empty());
    served
        .decom(home.path())
        .args([
            "api",
            "DeletePhysicalConnection",
            "RegionId=cn-shanghai",
            "PhysicalConnectionId=pc-uf6dc1old0000003",
            "ClientToken=t1",
            "--allow-mutation",
        ])
        .assert()
        .success();
    let audit = served.audit();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["action"], "DeletePhysicalConnection");
    assert_eq!(audit[0]["client_token"], "t1");

    // API errors name the code and the request id, exit 1.
    served
        .decom(home.path())
        .args([
            "api",
            "TerminatePhysicalConnection",
            "RegionId=cn-shanghai",
            "PhysicalConnectionId=pc-uf6dc1primary0001",
            "--allow-mutation",
        ])
        .assert()
        .code(1)
        .stderr(
            predicates::str::contains("Forbidden.VbrAttached")
                .and(predicates::str::contains("request id")),
        );

    // A wrong secret: SignatureDoesNotMatch, and the secret is never printed.
    served
        .decom(home.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret-xyz")
        .args(["api", "DescribePhysicalConnections", "RegionId=cn-shanghai"])
        .assert()
        .code(1)
        .stderr(
            predicates::str::contains("SignatureDoesNotMatch")
                .and(predicates::str::contains("not-the-secret-xyz").not()),
        );

    // SIGTERM → exit 0.
    let pid = served.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = served.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

use predicates::prelude::*;

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let home = tempfile::tempdir().unwrap();
    assert_cmd::Command::new(cargo_bin("decom"))
        .env_clear()
        .env("HOME", home.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "x")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "y")
        .args([
            "api",
            "DescribePhysicalConnections",
            "RegionId=cn-shanghai",
            "--endpoint",
            "http://vpc.aliyuncs.com",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("refusing plain http://"));
}

#[test]
fn missing_credentials_are_explained() {
    let home = tempfile::tempdir().unwrap();
    assert_cmd::Command::new(cargo_bin("decom"))
        .env_clear()
        .env("HOME", home.path())
        // Never the real metadata address: a closed loopback port.
        .env("DECOM_ECS_METADATA_URL", "http://127.0.0.1:9")
        .args([
            "api",
            "DescribePhysicalConnections",
            "RegionId=cn-shanghai",
            "--endpoint",
            "http://127.0.0.1:9",
        ])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("no credentials found")
                .and(predicate::str::contains("ECS instance RAM role: "))
                .and(predicate::str::contains("credentials URI: ")),
        );
}

#[test]
fn embedded_emulator_api_call() {
    assert_cmd::Command::new(cargo_bin("decom"))
        .env_clear()
        .args([
            "api",
            "DescribeVpnAttachments",
            "RegionId=ap-southeast-2",
            "--emulator",
            DEMO,
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("vco-p0wsydney0branch2"));
}

#[test]
fn malformed_world_file_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "account_id: \"1\"\naccess_keys: [{ id: a, secret: b }]\nregions: [r1]\nphysical_connections:\n  - id: pc-1\n    region: r1\n    statsu: Enabled\n").unwrap();
    assert_cmd::Command::new(cargo_bin("decom"))
        .args(["emulator", "check", "--world"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad.yaml:7:").and(predicate::str::contains("statsu")));
}

#[test]
fn help_and_version() {
    assert_cmd::Command::new(cargo_bin("decom"))
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes:").and(predicate::str::contains("emulator")));
    assert_cmd::Command::new(cargo_bin("decom"))
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("decom "));
}
