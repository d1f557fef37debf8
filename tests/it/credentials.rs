//! Temporary credentials over a long apply, on paused tokio time against the in-process
//! emulator: tokens that live 15 minutes, a 40-minute circuit termination, zero failed
//! steps — refreshed ahead of expiry, or after an `InvalidSecurityToken.Expired` answer.

use std::time::Duration;

use decom::api::credentials::ram_role::RamRole;
use decom::api::credentials::{
    CredentialSource, Credentials, CredentialsError, CredentialsProvider, Fetch, Fetched, Network,
};
use decom::api::ops::sts::AssumeRoleParams;
use decom::api::{
    BoxFuture, ClientConfig, Endpoints, ReadClient, RetryPolicy, SignatureVersion, WriteClient,
};
use decom::emulator::Emulator;
use decom::emulator::world::World;
use decom::exec::{self, Options};

const WORLD: &str = "account_id: \"1234567890123456\"\n\
access_keys: [{ id: USERKEY, secret: user-secret, user: ci }]\n\
regions: [cn-shanghai]\n\
rate_limits: { enabled: false }\n\
timings: { terminate_physical_connection: 40m }\n\
physical_connections: [{ id: pc-1, region: cn-shanghai }, { id: pc-2, region: cn-shanghai }]\n\
sts:\n  roles: [{ name: deployer }]\n";

fn role_source(emu: &Emulator) -> RamRole {
    let network = Network {
        transport: emu.transport(),
        metadata_transport: emu.transport(),
        endpoint_override: None,
        signature: SignatureVersion::V3,
    };
    RamRole::new(
        &network,
        Endpoints::parse_override("http://127.0.0.1").unwrap(),
        Credentials::new("USERKEY", "user-secret", CredentialSource::Flags).into(),
        AssumeRoleParams {
            role_arn: "acs:ram::1234567890123456:role/deployer".into(),
            role_session_name: "apply".into(),
            duration_seconds: Some(900),
            policy: None,
            external_id: None,
        },
        CredentialSource::Flags,
        "test role".into(),
    )
    .unwrap()
}

/// A source that hides the expiry: the client only learns it from the service's answer.
struct Blind(RamRole);

impl Fetch for Blind {
    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        Box::pin(async move {
            let mut f = self.0.fetch().await?;
            f.expiration = None;
            Ok(f)
        })
    }
    fn describe(&self) -> String {
        "blind".into()
    }
}

async fn apply(emu: &Emulator, credentials: CredentialsProvider) -> exec::Report {
    let config = ClientConfig {
        endpoints: Endpoints::parse_override("http://127.0.0.1").unwrap(),
        credentials,
        signature: SignatureVersion::V3,
        retry: RetryPolicy::default(),
    };
    let plan = decom::plan::parse(
        "p.yaml",
        "version: 1\nname: t\nregion: cn-shanghai\naccount: \"1234567890123456\"\ntargets:\n  - physical_connection: pc-1\n  - physical_connection: pc-2\n",
    )
    .unwrap();
    let reader = ReadClient::new(config.clone(), emu.transport());
    let who = decom::api::ops::sts::get_caller_identity(&reader)
        .await
        .unwrap();
    assert_eq!(who.account_id, "1234567890123456");
    assert_eq!(
        who.arn,
        "acs:ram::1234567890123456:assumed-role/deployer/apply"
    );
    let inv = decom::discover::discover(&reader, &plan).await.unwrap();
    let graph = decom::graph::build(&plan, &inv).unwrap();
    let writer = WriteClient::new(
        ClientConfig {
            retry: RetryPolicy::none(),
            ..config
        },
        emu.transport(),
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let (_keep, stop) = tokio::sync::watch::channel(false);
    let opts = Options {
        poll_initial: Duration::from_secs(2),
        poll_max: Duration::from_secs(30),
        retry_initial: Duration::from_secs(2),
        retry_max: Duration::from_secs(30),
        // The termination takes 40 minutes (`--step-timeout 1h`).
        step_timeout: Some(Duration::from_secs(3600)),
        ..Options::default()
    };
    exec::run(writer, &graph, opts, &Default::default(), None, tx, stop).await
}

#[tokio::test(start_paused = true)]
async fn fifteen_minute_tokens_over_a_forty_minute_apply_are_refreshed_ahead() {
    let emu = Emulator::new(World::parse("w.yaml", WORLD).unwrap());
    let provider = CredentialsProvider::refreshing(role_source(&emu));
    let start = tokio::time::Instant::now();
    let report = apply(&emu, provider.clone()).await;
    assert!(start.elapsed() >= Duration::from_secs(40 * 60));
    let failed: Vec<_> = report
        .steps
        .iter()
        .filter(|s| !s.outcome.is_success())
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    // 15 min tokens, refreshed 3¾ min before expiry: a new set every 11¼ min, one at a
    // time for all the concurrent polls.
    let issued = emu.issued_sessions();
    assert!((4..=6).contains(&issued), "{issued} sessions issued");
    assert_eq!(provider.fetch_count(), issued);
}

#[tokio::test(start_paused = true)]
async fn an_expired_answer_refreshes_once_and_resends() {
    let emu = Emulator::new(World::parse("w.yaml", WORLD).unwrap());
    let provider = CredentialsProvider::refreshing(Blind(role_source(&emu)));
    let report = apply(&emu, provider.clone()).await;
    let failed: Vec<_> = report
        .steps
        .iter()
        .filter(|s| !s.outcome.is_success())
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let issued = emu.issued_sessions();
    assert!((3..=5).contains(&issued), "{issued} sessions issued");
    // Every mutation was applied once, with its planned ClientToken.
    let audit = emu.audit();
    assert!(audit.iter().all(|e| e.result == "ok"), "{audit:#?}");
}

// ----- the real binary against `decom emulator serve` ---------------------------------------

use std::path::Path;

use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;

use crate::cli::Served;

const SERVED_WORLD: &str = "account_id: \"1234567890123456\"\n\
access_keys:\n  - { id: ROOTKEY, secret: root-secret-0001 }\n  - { id: USERKEY, secret: user-secret-0002, user: ci }\n\
regions: [cn-shanghai]\n\
rate_limits: { enabled: false }\n\
timings: { terminate_physical_connection: 45s, latency: 5ms }\n\
physical_connections: [{ id: pc-1, region: cn-shanghai }, { id: pc-2, region: cn-shanghai }]\n\
sts:\n  token_lifetime: 20s\n  roles:\n    - { name: deployer }\n    - { name: ecs-role }\n    - { name: gh, trusted_oidc_providers: [github] }\n  \
oidc_providers: [{ name: github, issuer: \"https://token.actions.githubusercontent.com\", audiences: [sts.aliyuncs.com] }]\n";

fn jwt(exp_in: i64) -> String {
    use base64::Engine as _;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let now = jiff::Timestamp::now().as_second();
    let claims = serde_json::json!({"iss": "https://token.actions.githubusercontent.com",
        "aud": "sts.aliyuncs.com", "sub": "repo:acme/net:ref:refs/heads/main", "iat": now, "exp": now + exp_in});
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        b.encode(claims.to_string())
    )
}

fn write(dir: &Path, rel: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

/// `decom` with an empty environment but HOME, the emulator as every endpoint and as the
/// metadata service (never the real address).
fn decom(served: &Served, home: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(cargo_bin("decom"));
    cmd.env_clear()
        .env("HOME", home)
        .env("DECOM_ECS_METADATA_URL", served.endpoint())
        .arg("--endpoint")
        .arg(served.endpoint());
    cmd
}

fn served(extra: &[&str]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let world = write(dir.path(), "world.yaml", SERVED_WORLD);
    let s = Served::start_with(world.to_str().unwrap(), extra);
    std::mem::forget(dir);
    s
}

#[test]
fn every_profile_mode_and_file_type_through_the_binary() {
    let served = served(&["--ecs-role", "ecs-role"]);
    let home = tempfile::tempdir().unwrap();
    let token = write(home.path(), "oidc-token", &jwt(600));
    let role = "acs:ram::1234567890123456:role/deployer";
    let uri = format!("{}/_emulator/credentials/deployer", served.endpoint());
    let config = serde_json::json!({ "current": "ak", "profiles": [
        { "name": "ak", "mode": "AK", "access_key_id": "USERKEY", "access_key_secret": "user-secret-0002", "region_id": "cn-shanghai" },
        { "name": "sts", "mode": "StsToken", "access_key_id": "USERKEY", "access_key_secret": "user-secret-0002", "sts_token": "unused" },
        { "name": "arn", "mode": "RamRoleArn", "access_key_id": "USERKEY", "access_key_secret": "user-secret-0002", "ram_role_arn": role, "ram_session_name": "p-arn" },
        { "name": "chain", "mode": "ChainableRamRoleArn", "source_profile": "arn", "ram_role_arn": "acs:ram::1234567890123456:role/ecs-role", "ram_session_name": "p-chain" },
        { "name": "ecs", "mode": "EcsRamRole", "ram_role_name": "ecs-role" },
        { "name": "oidc", "mode": "OIDC", "ram_role_arn": "acs:ram::1234567890123456:role/gh",
          "oidc_provider_arn": "acs:ram::1234567890123456:oidc-provider/github", "oidc_token_file": token, "role_session_name": "p-oidc" },
        { "name": "uri", "mode": "CredentialsURI", "credentials_uri": uri },
        { "name": "external", "mode": "External", "process_command": "printf '{\"mode\":\"AK\",\"access_key_id\":\"USERKEY\",\"access_key_secret\":\"user-secret-0002\"}'" },
        { "name": "sso", "mode": "CloudSSO" }
    ]});
    write(home.path(), ".aliyun/config.json", &config.to_string());
    let ini = format!(
        "[f-ak]\ntype = access_key\naccess_key_id = USERKEY\naccess_key_secret = user-secret-0002\n\
         [f-sts]\ntype = sts\naccess_key_id = USERKEY\naccess_key_secret = user-secret-0002\nsecurity_token = unused\n\
         [f-arn]\ntype = ram_role_arn\naccess_key_id = USERKEY\naccess_key_secret = user-secret-0002\nrole_arn = {role}\nrole_session_name = f-arn\n\
         [f-ecs]\ntype = ecs_ram_role\n\
         [f-oidc]\ntype = oidc_role_arn\nrole_arn = acs:ram::1234567890123456:role/gh\noidc_provider_arn = acs:ram::1234567890123456:oidc-provider/github\noidc_token_file_path = {}\nrole_session_name = f-oidc\n\
         [f-uri]\ntype = credentials_uri\ncredentials_uri = {uri}\n",
        token.display()
    );
    write(home.path(), ".alibabacloud/credentials", &ini);
    let acct = "acs:ram::1234567890123456";
    for (profile, arn) in [
        ("ak", format!("{acct}:user/ci")),
        ("sts", format!("{acct}:user/ci")),
        ("f-sts", format!("{acct}:user/ci")),
        ("arn", format!("{acct}:assumed-role/deployer/p-arn")),
        ("chain", format!("{acct}:assumed-role/ecs-role/p-chain")),
        (
            "ecs",
            format!("{acct}:assumed-role/ecs-role/decom-emulator"),
        ),
        ("oidc", format!("{acct}:assumed-role/gh/p-oidc")),
        (
            "uri",
            format!("{acct}:assumed-role/deployer/decom-emulator"),
        ),
        ("external", format!("{acct}:user/ci")),
        ("f-ak", format!("{acct}:user/ci")),
        ("f-arn", format!("{acct}:assumed-role/deployer/f-arn")),
        (
            "f-ecs",
            format!("{acct}:assumed-role/ecs-role/decom-emulator"),
        ),
        ("f-oidc", format!("{acct}:assumed-role/gh/f-oidc")),
        (
            "f-uri",
            format!("{acct}:assumed-role/deployer/decom-emulator"),
        ),
    ] {
        let out = decom(&served, home.path())
            .args(["--profile", profile, "api", "GetCallerIdentity"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{profile}: {stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(v["Arn"], arn.as_str(), "{profile}");
        assert_eq!(v["AccountId"], "1234567890123456", "{profile}");
        for secret in ["user-secret-0002", token_text(&token).as_str()] {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "{profile}"
            );
        }
    }
    decom(&served, home.path())
        .args(["--profile", "sso", "api", "GetCallerIdentity"])
        .assert()
        .code(1)
        .stderr(
            predicates::str::contains("CloudSSO").and(predicates::str::contains("not support yet")),
        );
}

fn token_text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

/// Every file under `dir`, as text.
fn files_text(dir: &Path) -> String {
    let mut out = String::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.push_str(&files_text(&p));
            } else if let Ok(t) = std::fs::read(&p) {
                out.push_str(&String::from_utf8_lossy(&t));
            }
        }
    }
    out
}

#[test]
fn a_scaled_apply_with_twenty_second_oidc_tokens_fails_no_step_and_prints_no_secret() {
    let served = served(&[]);
    let home = tempfile::tempdir().unwrap();
    let token = write(home.path(), "oidc-token", &jwt(3600));
    let plan = write(
        home.path(),
        "plan.yaml",
        "version: 1\nname: scaled\nregion: cn-shanghai\naccount: \"1234567890123456\"\ntargets:\n  - physical_connection: pc-1\n  - physical_connection: pc-2\n",
    );
    let state = home.path().join("state");
    let out = decom(&served, home.path())
        .env(
            "ALIBABA_CLOUD_ROLE_ARN",
            "acs:ram::1234567890123456:role/gh",
        )
        .env(
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "acs:ram::1234567890123456:oidc-provider/github",
        )
        .env("ALIBABA_CLOUD_OIDC_TOKEN_FILE", &token)
        .env("DECOM_LOG", "debug")
        .arg("apply")
        .arg(&plan)
        .args(["--yes", "--output", "json", "--poll-interval", "1s"])
        .args([
            "--max-interval",
            "3s",
            "--step-timeout",
            "5m",
            "--state-dir",
        ])
        .arg(&state)
        .timeout(std::time::Duration::from_secs(180))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let steps = report["steps"].as_array().unwrap();
    assert!(!steps.is_empty());
    for s in steps {
        assert!(
            ["done", "already_gone"].contains(&s["outcome"]["outcome"].as_str().unwrap_or("")),
            "{s}"
        );
    }
    // 45 s terminations with 20 s tokens: the role was assumed again mid-apply.
    assert!(
        stderr.matches("fetching fresh credentials").count() >= 3,
        "{stderr}"
    );
    let everything = format!("{stdout}{stderr}{}", files_text(&state));
    let jwt_text = token_text(&token);
    assert!(
        !everything.contains(jwt_text.trim()),
        "the OIDC token leaked"
    );
    assert!(!everything.contains("CAIS"), "a security token leaked");
}
