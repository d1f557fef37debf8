//! The chain: order, every profile mode and credentials-file type against the in-process
//! emulator (STS, metadata and credentials-URI fronts), errors and redaction.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::emulator::Emulator;
use crate::emulator::world::World;

/// A world with a RAM user key, roles trusting the account, an OIDC provider.
pub(crate) const WORLD: &str = r#"
account_id: "1234567890123456"
access_keys:
  - { id: ROOTKEY, secret: root-secret }
  - { id: USERKEY, secret: user-secret, user: ci }
regions: [cn-shanghai]
sts:
  roles:
    - { name: deployer }
    - { name: auditor, external_id: ext-1 }
    - { name: ecs-role }
    - { name: gh, trusted_oidc_providers: [github], oidc_subjects: ["repo:acme/*"] }
  oidc_providers:
    - { name: github, issuer: "https://token.actions.githubusercontent.com", audiences: [sts.aliyuncs.com] }
"#;

pub(crate) const ROLE: &str = "acs:ram::1234567890123456:role/deployer";

fn emulator() -> Emulator {
    let e = Emulator::new(World::parse("w.yaml", WORLD).unwrap());
    e.set_ecs_role("ecs-role");
    e
}

fn network(emu: &Emulator) -> Network {
    Network {
        transport: emu.transport(),
        metadata_transport: emu.transport(),
        endpoint_override: Some(Endpoints::parse_override("http://127.0.0.1:1").unwrap()),
        signature: SignatureVersion::V3,
    }
}

/// A JWT with these claims (unsigned: the emulator checks claims, not signatures).
pub(crate) fn jwt(claims: serde_json::Value) -> String {
    use base64::Engine as _;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.c2ln",
        b.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        b.encode(claims.to_string())
    )
}

pub(crate) fn github_token(sub: &str, exp_in: i64) -> String {
    let now = jiff::Timestamp::now().as_second();
    jwt(serde_json::json!({
        "iss": "https://token.actions.githubusercontent.com", "aud": "sts.aliyuncs.com",
        "sub": sub, "iat": now, "exp": now + exp_in,
    }))
}

async fn run_with(
    emu: &Emulator,
    explicit: ExplicitCredentials,
    vars: &[(&str, &str)],
    home: Option<&Path>,
    profile: Option<&str>,
) -> Result<Credentials, CredentialsError> {
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.entry(ECS_METADATA_URL_VAR.into())
        .or_insert_with(|| "http://127.0.0.1:1".into());
    let env = move |k: &str| map.get(k).cloned();
    let r = resolve(&ChainInputs {
        explicit,
        env: &env,
        home: home.map(Path::to_path_buf),
        profile: profile.map(str::to_string),
        network: network(emu),
    })?;
    r.provider.get().await
}

async fn run(
    explicit: ExplicitCredentials,
    vars: &[(&str, &str)],
    home: Option<&Path>,
) -> Result<Credentials, CredentialsError> {
    let mut vars = vars.to_vec();
    vars.push(("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"));
    run_with(&emulator(), explicit, &vars, home, None).await
}

/// Who the credentials are, according to the emulator.
async fn whoami(emu: &Emulator, c: Credentials) -> String {
    let client = crate::api::ReadClient::new(
        crate::api::ClientConfig {
            endpoints: Endpoints::parse_override("http://127.0.0.1:1").unwrap(),
            credentials: c.into(),
            signature: SignatureVersion::V3,
            retry: crate::api::RetryPolicy::none(),
        },
        emu.transport(),
    );
    crate::api::ops::sts::get_caller_identity(&client)
        .await
        .unwrap()
        .arn
}

fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

const CONFIG: &str = r#"{ "current": "work",
  "profiles": [
    { "name": "default", "mode": "AK", "access_key_id": "AK-DEF", "access_key_secret": "sec-def", "region_id": "cn-hangzhou" },
    { "name": "work", "mode": "StsToken", "access_key_id": "STS.ID", "access_key_secret": "sec-work", "sts_token": "tok-work" },
    { "name": "role", "mode": "RamRoleArn", "access_key_id": "x", "access_key_secret": "y", "ram_role_arn": "acs:ram::1:role/r" },
    { "name": "sso", "mode": "CloudSSO", "cloud_sso_sign_in_url": "https://signin" }
  ], "meta_path": "" }"#;

#[tokio::test]
async fn flags_win_over_everything() {
    let home = tempfile::tempdir().unwrap();
    write(home.path(), ".aliyun/config.json", CONFIG);
    let c = run(
        ExplicitCredentials {
            access_key_id: Some("FLAG".into()),
            access_key_secret: Some(Secret::new("flag-secret")),
            security_token: None,
        },
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
        ],
        Some(home.path()),
    )
    .await
    .unwrap();
    assert_eq!(c.access_key_id, "FLAG");
    assert_eq!(c.source, CredentialSource::Flags);
}

#[tokio::test]
async fn half_a_flag_pair_is_an_error() {
    let err = run(
        ExplicitCredentials {
            access_key_id: Some("FLAG".into()),
            ..Default::default()
        },
        &[],
        None,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("--access-key-secret"), "{err}");
}

#[tokio::test]
async fn environment_with_security_token() {
    let c = run(
        ExplicitCredentials::default(),
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", "env-token"),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(c.access_key_id, "ENV");
    assert_eq!(c.access_key_secret.expose(), "env-secret");
    assert_eq!(c.security_token.unwrap().expose(), "env-token");
    assert_eq!(c.source, CredentialSource::Environment);
}

#[tokio::test]
async fn legacy_environment_names() {
    let c = run(
        ExplicitCredentials::default(),
        &[
            ("ALICLOUD_ACCESS_KEY", "OLD"),
            ("ALICLOUD_SECRET_KEY", "old-secret"),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(c.access_key_id, "OLD");
}

#[tokio::test]
async fn environment_missing_secret_is_named() {
    let err = run(
        ExplicitCredentials::default(),
        &[("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV")],
        None,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        "{err}"
    );
}

#[tokio::test]
async fn aliyun_profile_current_and_named() {
    let home = tempfile::tempdir().unwrap();
    write(home.path(), ".aliyun/config.json", CONFIG);
    let c = run(ExplicitCredentials::default(), &[], Some(home.path()))
        .await
        .unwrap();
    assert_eq!(c.access_key_id, "STS.ID");
    assert_eq!(c.security_token.as_ref().unwrap().expose(), "tok-work");
    let c = run(
        ExplicitCredentials::default(),
        &[("ALIBABA_CLOUD_PROFILE", "default")],
        Some(home.path()),
    )
    .await
    .unwrap();
    assert_eq!(c.access_key_id, "AK-DEF");
    assert!(c.security_token.is_none());
    assert!(
        matches!(c.source, CredentialSource::AliyunProfile { ref profile, .. } if profile == "default")
    );
}

#[tokio::test]
async fn environment_wins_over_profile_and_ignore_profile_skips_it() {
    let home = tempfile::tempdir().unwrap();
    write(home.path(), ".aliyun/config.json", CONFIG);
    write(
        home.path(),
        ".alibabacloud/credentials",
        "[default]\naccess_key_id = INI\naccess_key_secret = ini-secret\n",
    );
    let c = run(
        ExplicitCredentials::default(),
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s"),
        ],
        Some(home.path()),
    )
    .await
    .unwrap();
    assert_eq!(c.access_key_id, "ENV");
    let c = run(
        ExplicitCredentials::default(),
        &[("ALIBABA_CLOUD_IGNORE_PROFILE", "TRUE")],
        Some(home.path()),
    )
    .await
    .unwrap();
    assert_eq!(c.access_key_id, "INI");
}

#[tokio::test]
async fn unsupported_profile_mode_is_clear() {
    let home = tempfile::tempdir().unwrap();
    write(home.path(), ".aliyun/config.json", CONFIG);
    let err = run(
        ExplicitCredentials::default(),
        &[("ALIBABA_CLOUD_PROFILE", "sso")],
        Some(home.path()),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("CloudSSO") && msg.contains("not support yet"),
        "{msg}"
    );
}

#[tokio::test]
async fn unknown_profile_lists_the_available_ones() {
    let home = tempfile::tempdir().unwrap();
    write(home.path(), ".aliyun/config.json", CONFIG);
    let err = run(
        ExplicitCredentials::default(),
        &[("ALIBABA_CLOUD_PROFILE", "nope")],
        Some(home.path()),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("default, work, role, sso"),
        "{err}"
    );
}

#[tokio::test]
async fn broken_config_json_does_not_leak_secrets() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".aliyun/config.json",
        r#"{"profiles": [{"name": "default", "access_key_secret": "TOPSECRET" "#,
    );
    let err = run(ExplicitCredentials::default(), &[], Some(home.path()))
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("TOPSECRET"), "{err}");
    assert!(err.to_string().contains("config.json"));
}

#[tokio::test]
async fn credentials_ini_default_and_sts_sections() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "creds",
        "# comment\n[default]\ntype = access_key          # inline comment\naccess_key_id = foo\naccess_key_secret = bar\n\n[tmp]\ntype = sts\naccess_key_id = STS.x\naccess_key_secret = y\nsecurity_token = z\n",
    );
    let p = path.to_str().unwrap();
    let c = run(
        ExplicitCredentials::default(),
        &[("ALIBABA_CLOUD_CREDENTIALS_FILE", p)],
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (c.access_key_id.as_str(), c.access_key_secret.expose()),
        ("foo", "bar")
    );
    let c = run(
        ExplicitCredentials::default(),
        &[
            ("ALIBABA_CLOUD_CREDENTIALS_FILE", p),
            ("ALIBABA_CLOUD_PROFILE", "tmp"),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(c.security_token.unwrap().expose(), "z");
}

#[tokio::test]
async fn credentials_ini_in_home() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".alibabacloud/credentials",
        "[default]\naccess_key_id = H\naccess_key_secret = hs\n",
    );
    let c = run(ExplicitCredentials::default(), &[], Some(home.path()))
        .await
        .unwrap();
    assert_eq!(c.access_key_id, "H");
    let ini_type = write(
        home.path(),
        "other",
        "[default]\ntype = rsa_key_pair\npublic_key_id = r\n",
    );
    let err = run(
        ExplicitCredentials::default(),
        &[("ALIBABA_CLOUD_CREDENTIALS_FILE", ini_type.to_str().unwrap())],
        None,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("rsa_key_pair"), "{err}");
}

#[tokio::test]
async fn nothing_anywhere() {
    let home = tempfile::tempdir().unwrap();
    let err = run(ExplicitCredentials::default(), &[], Some(home.path()))
        .await
        .unwrap_err();
    let msg = err.to_string();
    for step in [
        "environment: ALIBABA_CLOUD_ACCESS_KEY_ID",
        "OIDC role: ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE not set",
        "aliyun CLI profile: ",
        "credentials file: ",
        "ECS instance RAM role: disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED=true",
        "credentials URI: ALIBABA_CLOUD_CREDENTIALS_URI is not set",
    ] {
        assert!(msg.contains(step), "{step}\n{msg}");
    }
}

#[tokio::test]
async fn secrets_never_show_in_debug_or_display() {
    let mut c = Credentials::new("AKID", "very-secret-value", CredentialSource::Flags);
    c.security_token = Some(Secret::new("very-secret-token"));
    let shown = format!("{c:?} {} {:?}", c.access_key_secret, c.security_token);
    assert!(!shown.contains("very-secret"), "{shown}");
    assert!(shown.contains("AKID"));
}
// ----- every profile mode and file type against the emulator -------------------------------

fn profiles(token_file: &Path) -> String {
    format!(
        r#"{{ "current": "ak", "profiles": [
      {{ "name": "ak", "mode": "AK", "access_key_id": "USERKEY", "access_key_secret": "user-secret", "region_id": "cn-shanghai" }},
      {{ "name": "arn", "mode": "RamRoleArn", "access_key_id": "USERKEY", "access_key_secret": "user-secret",
        "ram_role_arn": "{ROLE}", "ram_session_name": "arn-session", "expired_seconds": 900 }},
      {{ "name": "ext", "mode": "RamRoleArn", "access_key_id": "USERKEY", "access_key_secret": "user-secret",
        "ram_role_arn": "acs:ram::1234567890123456:role/auditor", "ram_session_name": "s1", "external_id": "ext-1" }},
      {{ "name": "chain2", "mode": "ChainableRamRoleArn", "source_profile": "arn",
        "ram_role_arn": "acs:ram::1234567890123456:role/auditor", "ram_session_name": "second", "external_id": "ext-1" }},
      {{ "name": "chain3", "mode": "ChainableRamRoleArn", "source_profile": "chain2",
        "ram_role_arn": "{ROLE}", "ram_session_name": "third" }},
      {{ "name": "loop-a", "mode": "ChainableRamRoleArn", "source_profile": "loop-b", "ram_role_arn": "{ROLE}" }},
      {{ "name": "loop-b", "mode": "ChainableRamRoleArn", "source_profile": "loop-a", "ram_role_arn": "{ROLE}" }},
      {{ "name": "ecs", "mode": "EcsRamRole" }},
      {{ "name": "oidc", "mode": "OIDC", "ram_role_arn": "acs:ram::1234567890123456:role/gh",
        "oidc_provider_arn": "acs:ram::1234567890123456:oidc-provider/github", "oidc_token_file": "{}",
        "role_session_name": "gh-run" }},
      {{ "name": "uri", "mode": "CredentialsURI", "credentials_uri": "http://127.0.0.1:1/_emulator/credentials/deployer?token=hidden" }},
      {{ "name": "external", "mode": "External",
        "process_command": "sh -c 'echo {{\\\"mode\\\":\\\"AK\\\",\\\"access_key_id\\\":\\\"USERKEY\\\",\\\"access_key_secret\\\":\\\"user-secret\\\"}}'" }}
    ] }}"#,
        token_file.display()
    )
}

async fn named(
    emu: &Emulator,
    home: &Path,
    profile: &str,
) -> Result<Credentials, CredentialsError> {
    run_with(
        emu,
        ExplicitCredentials::default(),
        &[],
        Some(home),
        Some(profile),
    )
    .await
}

#[tokio::test]
async fn every_profile_mode_gives_the_right_identity() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let token = write(
        home.path(),
        "token",
        &github_token("repo:acme/net:ref:refs/heads/main", 600),
    );
    write(home.path(), ".aliyun/config.json", &profiles(&token));
    for (profile, arn) in [
        ("ak", "acs:ram::1234567890123456:user/ci"),
        (
            "arn",
            "acs:ram::1234567890123456:assumed-role/deployer/arn-session",
        ),
        ("ext", "acs:ram::1234567890123456:assumed-role/auditor/s1"),
        (
            "chain2",
            "acs:ram::1234567890123456:assumed-role/auditor/second",
        ),
        (
            "chain3",
            "acs:ram::1234567890123456:assumed-role/deployer/third",
        ),
        (
            "ecs",
            "acs:ram::1234567890123456:assumed-role/ecs-role/decom-emulator",
        ),
        ("oidc", "acs:ram::1234567890123456:assumed-role/gh/gh-run"),
        (
            "uri",
            "acs:ram::1234567890123456:assumed-role/deployer/decom-emulator",
        ),
        ("external", "acs:ram::1234567890123456:user/ci"),
    ] {
        let c = named(&emu, home.path(), profile)
            .await
            .unwrap_or_else(|e| panic!("{profile}: {e}"));
        assert_eq!(whoami(&emu, c).await, arn, "{profile}");
    }
    let e = named(&emu, home.path(), "loop-a").await.unwrap_err();
    assert!(e.to_string().contains("loop-a -> loop-b -> loop-a"), "{e}");
    let shown = format!("{:?}", named(&emu, home.path(), "uri").await.unwrap());
    assert!(!shown.contains("hidden"), "{shown}");
}

#[tokio::test]
async fn every_credentials_file_type_gives_the_right_identity() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let token = write(home.path(), "token", &github_token("repo:acme/net", 600));
    let ini = format!(
        "[ak]\ntype = access_key\naccess_key_id = USERKEY\naccess_key_secret = user-secret\n\
         [arn]\ntype = ram_role_arn\naccess_key_id = USERKEY\naccess_key_secret = user-secret\nrole_arn = {ROLE}\nrole_session_name = ini-arn\n\
         [ecs]\ntype = ecs_ram_role\nrole_name = ecs-role\n\
         [oidc]\ntype = oidc_role_arn\nrole_arn = acs:ram::1234567890123456:role/gh\noidc_provider_arn = acs:ram::1234567890123456:oidc-provider/github\noidc_token_file_path = {}\nrole_session_name = ini-oidc\n\
         [uri]\ntype = credentials_uri\ncredentials_uri = http://127.0.0.1:1/_emulator/credentials/deployer\n",
        token.display()
    );
    write(home.path(), ".alibabacloud/credentials", &ini);
    for (section, arn) in [
        ("ak", "acs:ram::1234567890123456:user/ci"),
        (
            "arn",
            "acs:ram::1234567890123456:assumed-role/deployer/ini-arn",
        ),
        (
            "ecs",
            "acs:ram::1234567890123456:assumed-role/ecs-role/decom-emulator",
        ),
        ("oidc", "acs:ram::1234567890123456:assumed-role/gh/ini-oidc"),
        (
            "uri",
            "acs:ram::1234567890123456:assumed-role/deployer/decom-emulator",
        ),
    ] {
        let c = named(&emu, home.path(), section)
            .await
            .unwrap_or_else(|e| panic!("{section}: {e}"));
        assert_eq!(whoami(&emu, c).await, arn, "{section}");
    }
}

#[tokio::test]
async fn the_chain_order_with_several_sources_at_once() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let token = write(home.path(), "token", &github_token("repo:acme/net", 600));
    write(home.path(), ".aliyun/config.json", &profiles(&token));
    write(
        home.path(),
        ".alibabacloud/credentials",
        &format!(
            "[default]\ntype = ram_role_arn\naccess_key_id = USERKEY\naccess_key_secret = user-secret\nrole_arn = {ROLE}\nrole_session_name = from-ini\n"
        ),
    );
    let t = token.to_str().unwrap();
    let ak = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ROOTKEY"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "root-secret"),
    ];
    let oidc = [
        (
            "ALIBABA_CLOUD_ROLE_ARN",
            "acs:ram::1234567890123456:role/gh",
        ),
        (
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "acs:ram::1234567890123456:oidc-provider/github",
        ),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", t),
        ("ALIBABA_CLOUD_ROLE_SESSION_NAME", "from-oidc"),
    ];
    let uri = [(
        "ALIBABA_CLOUD_CREDENTIALS_URI",
        "http://127.0.0.1:1/_emulator/credentials/deployer",
    )];
    let no_cli = ("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true");
    let no_ecs = ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
    let who = async |vars: Vec<(&str, &str)>, home: Option<&Path>| {
        let c = run_with(&emu, ExplicitCredentials::default(), &vars, home, None)
            .await
            .unwrap();
        whoami(&emu, c).await
    };
    let h = Some(home.path());
    let all: Vec<_> = ak.iter().chain(&oidc).chain(&uri).copied().collect();
    // Flags beat everything.
    let c = run_with(
        &emu,
        ExplicitCredentials {
            access_key_id: Some("USERKEY".into()),
            access_key_secret: Some(Secret::new("user-secret")),
            security_token: None,
        },
        &all,
        h,
        None,
    )
    .await
    .unwrap();
    assert_eq!(c.source, CredentialSource::Flags);
    let acct = "acs:ram::1234567890123456";
    // 1. Environment AccessKeys beat OIDC, profile, file, ECS and URI.
    assert_eq!(who(all.clone(), h).await, format!("{acct}:root"));
    // 2. OIDC beats the profile, the file, ECS and the URI.
    let v: Vec<_> = oidc.iter().chain(&uri).copied().collect();
    assert_eq!(who(v, h).await, format!("{acct}:assumed-role/gh/from-oidc"));
    // 3. The CLI profile (`current`: ak) beats the file.
    assert_eq!(who(uri.to_vec(), h).await, format!("{acct}:user/ci"));
    // 4. The credentials file once the CLI profile is disabled.
    let v = vec![uri[0], no_cli];
    assert_eq!(
        who(v, h).await,
        format!("{acct}:assumed-role/deployer/from-ini")
    );
    // 5. The ECS role before the URI (no files at all).
    assert_eq!(
        who(uri.to_vec(), None).await,
        format!("{acct}:assumed-role/ecs-role/decom-emulator")
    );
    // 6. The URI once ECS is disabled.
    assert_eq!(
        who(vec![uri[0], no_ecs], None).await,
        format!("{acct}:assumed-role/deployer/decom-emulator")
    );
}

#[tokio::test]
async fn set_oidc_variables_that_fail_end_the_chain_and_are_named() {
    // An expired OIDC token while a CLI profile with other keys exists: the chain does not
    // fall through to the profile (a CI job whose role trust is broken must not quietly run
    // with whatever else the machine holds); the error names the refused role assumption.
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let token = write(home.path(), "token", &github_token("repo:acme/net", -60));
    write(home.path(), ".aliyun/config.json", &profiles(&token));
    let vars = [
        (
            "ALIBABA_CLOUD_ROLE_ARN",
            "acs:ram::1234567890123456:role/gh",
        ),
        (
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "acs:ram::1234567890123456:oidc-provider/github",
        ),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", token.to_str().unwrap()),
    ];
    let e = run_with(
        &emu,
        ExplicitCredentials::default(),
        &vars,
        Some(home.path()),
        None,
    )
    .await
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("AuthenticationFail.OIDCToken.Expired"),
        "{msg}"
    );
    assert!(!msg.contains("aliyun CLI profile"), "{msg}");
    assert!(!msg.contains(std::fs::read_to_string(&token).unwrap().as_str()));
}

#[tokio::test]
async fn a_named_profile_found_nowhere_stops_the_chain() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    write(home.path(), ".aliyun/config.json", CONFIG);
    let e = named(&emu, home.path(), "nope").await.unwrap_err();
    assert!(matches!(e, CredentialsError::ProfileNowhere { .. }), "{e}");
    assert!(e.to_string().contains("default, work, role, sso"), "{e}");
}

#[tokio::test]
async fn trust_and_parameters_are_enforced() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let cfg = format!(
        r#"{{ "profiles": [
      {{ "name": "root", "mode": "RamRoleArn", "access_key_id": "ROOTKEY", "access_key_secret": "root-secret", "ram_role_arn": "{ROLE}" }},
      {{ "name": "noext", "mode": "RamRoleArn", "access_key_id": "USERKEY", "access_key_secret": "user-secret", "ram_role_arn": "acs:ram::1234567890123456:role/auditor" }},
      {{ "name": "short", "mode": "RamRoleArn", "access_key_id": "USERKEY", "access_key_secret": "user-secret", "ram_role_arn": "{ROLE}", "expired_seconds": 60 }},
      {{ "name": "ghost", "mode": "RamRoleArn", "access_key_id": "USERKEY", "access_key_secret": "user-secret", "ram_role_arn": "acs:ram::1234567890123456:role/ghost" }}
    ] }}"#
    );
    write(home.path(), ".aliyun/config.json", &cfg);
    for (profile, code) in [
        ("root", "Roles may not be assumed by root accounts"),
        ("noext", "NoPermission"),
        ("short", "below the minimum of 900s"),
        ("ghost", "EntityNotExist.Role"),
    ] {
        let e = run_with(
            &emu,
            ExplicitCredentials::default(),
            &[("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")],
            Some(home.path()),
            Some(profile),
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains(code), "{profile}: {e}");
        assert!(!e.to_string().contains("user-secret"), "{e}");
    }
}
