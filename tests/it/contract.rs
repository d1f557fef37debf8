//! The API contract (tests/data/api-contract.json, from the official SDKs) held against
//! both sides over every request path: discovery per id (few and many), per selector,
//! region-wide, per route table and per attachment; the executor's mutations, coalesced
//! polls and probes (with faults, so probes run). Every request must carry every required
//! parameter and nothing the contract does not know; every emulator answer must fit the
//! contract's response tree.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use decom::api::contract::{Checked, Contract};
use decom::api::credentials::{CredentialSource, Credentials};
use decom::api::{
    ClientConfig, Endpoints, ReadClient, RetryPolicy, SignatureVersion, Transport, WriteClient,
    actions,
};
use decom::discover::Inventory;
use decom::emulator::Emulator;
use decom::emulator::world::{FaultKind, Faults, World};
use decom::emulator::worldgen::{self, Shape};
use decom::exec::{self, Options};
use decom::model::Kind;

fn config(emu: &Emulator) -> ClientConfig {
    let c = emu.credentials();
    ClientConfig {
        endpoints: Endpoints::parse_override("http://127.0.0.1").unwrap(),
        credentials: Credentials::new(
            c.access_key_id,
            c.access_key_secret.expose(),
            CredentialSource::Emulator,
        )
        .into(),
        signature: SignatureVersion::V3,
        retry: RetryPolicy {
            max_attempts: 15,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            read_timeout: None,
        },
    }
}

fn plan(text_targets: &str, cascade: bool) -> decom::plan::Plan {
    let text = format!(
        "version: 1\nname: contract\naccount: \"{}\"\npolicy:\n  cascade: {cascade}\ntargets:\n{text_targets}",
        worldgen::ACCOUNT
    );
    decom::plan::parse("contract.yaml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Everything reachable from selectors over every region: circuits, both kinds of IPsec
/// connection, with cascade (the blockers come with them).
fn survey() -> decom::plan::Plan {
    let mut t = String::new();
    for region in worldgen::REGIONS {
        for kind in ["physical_connection", "vpn_attachment", "vpn_connection"] {
            writeln!(t, "  - {kind}: {{ name: \"*\" }}\n    region: {region}").unwrap();
        }
    }
    plan(&t, true)
}

/// Plans over what the survey found: every targetable kind by id (all of them, and a few),
/// and by a selector with each link key.
fn plans_over(inv: &Inventory) -> Vec<decom::plan::Plan> {
    let mut all = String::new();
    let mut few = String::new();
    let mut selectors = String::new();
    for kind in Kind::targetable() {
        let found: Vec<_> = inv.of_kind(kind).filter(|r| r.owner.is_none()).collect();
        for (i, r) in found.iter().enumerate() {
            let line = format!("  - {kind}: {}\n    region: {}\n", r.id, r.region);
            all.push_str(&line);
            if i < 3 {
                few.push_str(&line);
            }
        }
        let Some(r) = found.first() else { continue };
        let link = match kind.spec().link_keys().first() {
            Some(&"physical_connection") => {
                format!(", physical_connection: {}", r.parent.clone().unwrap())
            }
            Some(&"transit_router") => format!(", transit_router: {}", r.fact("transit_router")),
            Some(&"vpn_gateway") => format!(", vpn_gateway: {}", r.parent.clone().unwrap()),
            _ => String::new(),
        };
        if kind == Kind::VpnAttachment && r.fact("transit_router").is_empty() {
            continue;
        }
        writeln!(
            selectors,
            "  - {kind}: {{ name: \"*\"{link} }}\n    region: {}",
            r.region
        )
        .unwrap();
    }
    vec![plan(&all, true), plan(&few, false), plan(&selectors, true)]
}

async fn discover_all(reader: &ReadClient, plans: &[decom::plan::Plan]) {
    for p in plans {
        let inv = decom::discover::discover(reader, p).await.unwrap();
        decom::graph::build(p, &inv).unwrap();
    }
}

/// Discovery over every path, then a full apply with faults (probes after lost answers),
/// all through the contract check.
async fn exercise(world: World, checked_actions: &mut BTreeSet<String>) {
    let contract = Arc::new(Contract::committed());
    let emu = Emulator::new(world);
    let checked = Checked::new(emu.transport(), contract);
    let transport: Arc<dyn Transport> = checked.clone();
    let reader = ReadClient::new(config(&emu), transport.clone());
    let survey = survey();
    let inv = decom::discover::discover(&reader, &survey).await.unwrap();
    let plans = plans_over(&inv);
    discover_all(&reader, &plans).await;
    // Apply the first plan (everything by id) for the mutations, polls and probes.
    let graph = decom::graph::build(
        &plans[0],
        &decom::discover::discover(&reader, &plans[0]).await.unwrap(),
    )
    .unwrap();
    let writer = WriteClient::new(
        ClientConfig {
            retry: RetryPolicy::none(),
            ..config(&emu)
        },
        transport,
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let opts = Options {
        poll_initial: Duration::from_millis(500),
        poll_max: Duration::from_secs(5),
        retry_initial: Duration::from_millis(500),
        retry_max: Duration::from_secs(5),
        ..Options::default()
    };
    let report = tokio::time::timeout(
        Duration::from_secs(7200),
        exec::run(writer, &graph, opts, &Default::default(), None, tx, stop_rx),
    )
    .await
    .expect("apply finishes");
    drain.await.unwrap();
    assert!(report.steps.iter().all(|s| s.outcome.is_success()));
    let violations = checked.violations();
    assert!(
        violations.is_empty(),
        "{} contract violations, first ones:\n{}",
        violations.len(),
        violations
            .iter()
            .take(2000)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    checked_actions.extend(checked.actions().into_keys());
}

/// Role assumption (the credential sources' STS calls) and the assumed identity.
async fn exercise_sts(checked_actions: &mut BTreeSet<String>) {
    use base64::Engine as _;
    use decom::api::ops::sts;
    let world = World::parse(
        "sts.yaml",
        "account_id: \"1234567890123456\"\naccess_keys: [{ id: U, secret: S, user: ci }]\nregions: [cn-shanghai]\n\
         sts:\n  roles: [{ name: r, trusted_oidc_providers: [p] }]\n  oidc_providers: [{ name: p, issuer: \"https://i\", audiences: [a] }]\n",
    )
    .unwrap();
    let emu = Emulator::new(world);
    let checked = Checked::new(emu.transport(), Arc::new(Contract::committed()));
    let client = |creds: Credentials| {
        ReadClient::new(
            ClientConfig {
                endpoints: Endpoints::parse_override("http://127.0.0.1").unwrap(),
                credentials: creds.into(),
                signature: SignatureVersion::V3,
                retry: RetryPolicy::none(),
            },
            checked.clone(),
        )
    };
    let user = client(Credentials::new("U", "S", CredentialSource::Flags));
    let params = sts::AssumeRoleParams {
        role_arn: "acs:ram::1234567890123456:role/r".into(),
        role_session_name: "s1".into(),
        duration_seconds: Some(900),
        policy: Some("{}".into()),
        external_id: None,
    };
    let assumed = sts::assume_role(&user, &params).await.unwrap();
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = serde_json::json!({"iss": "https://i", "aud": "a", "sub": "x", "exp": jiff::Timestamp::now().as_second() + 600});
    let token = format!(
        "{}.{}.c2ln",
        b.encode(r#"{"alg":"RS256"}"#),
        b.encode(claims.to_string())
    );
    let oidc = sts::AssumeRoleWithOidcParams {
        role_arn: params.role_arn.clone(),
        oidc_provider_arn: "acs:ram::1234567890123456:oidc-provider/p".into(),
        oidc_token: decom::api::Secret::new(token),
        role_session_name: "s2".into(),
        duration_seconds: None,
        policy: None,
    };
    sts::assume_role_with_oidc(&user, &oidc).await.unwrap();
    let mut role = Credentials::new(
        assumed.credentials.access_key_id.clone(),
        assumed.credentials.access_key_secret.expose(),
        CredentialSource::Flags,
    );
    role.security_token = Some(assumed.credentials.security_token.clone());
    let who = sts::get_caller_identity(&client(role)).await.unwrap();
    assert_eq!(who.arn, "acs:ram::1234567890123456:assumed-role/r/s1");
    assert_eq!(who.identity_type, "AssumedRoleUser");
    let violations = checked.violations();
    assert!(violations.is_empty(), "{violations:#?}");
    checked_actions.extend(checked.actions().into_keys());
}

#[tokio::test(start_paused = true)]
async fn every_request_and_answer_over_every_path_fits_the_contract() {
    let mut seen = BTreeSet::new();
    exercise_sts(&mut seen).await;
    // Small worlds: per-circuit, per-VBR, per-attachment paths; awkward states.
    for seed in 1..=3u64 {
        let mut world = worldgen::instant(worldgen::generate(
            seed,
            &Shape {
                prod_share: 0.0,
                ..Shape::default()
            },
        ));
        world.faults = Faults {
            seed,
            rate: 0.1,
            kinds: vec![FaultKind::LostResponse, FaultKind::Unavailable],
            ..Faults::default()
        };
        exercise(world, &mut seen).await;
    }
    // A large world: region-wide listings (many circuits, many VBRs per region), many ids
    // of a kind (listing instead of batches), links per route table.
    let world = worldgen::instant(worldgen::generate(
        7,
        &Shape {
            circuits: 60,
            gateways: 30,
            tr_ipsec: 40,
            prod_share: 0.0,
            awkward: false,
            ..Shape::default()
        },
    ));
    exercise(world, &mut seen).await;
    // Operations no plan needs (decom never terminates a VBR: deletion does not need it),
    // sent directly.
    let world = worldgen::instant(worldgen::generate(11, &Shape::default()));
    let emu = Emulator::new(world);
    let checked = Checked::new(emu.transport(), Arc::new(Contract::committed()));
    let transport: Arc<dyn Transport> = checked.clone();
    let reader = ReadClient::new(config(&emu), transport.clone());
    let inv = decom::discover::discover(&reader, &survey()).await.unwrap();
    let vbr = inv
        .of_kind(Kind::VirtualBorderRouter)
        .find(|v| v.owner.is_none() && v.status == "active")
        .expect("an active VBR");
    let writer = WriteClient::new(config(&emu), transport);
    decom::api::ops::vpc::terminate_virtual_border_router(&writer, &vbr.region, &vbr.id, None)
        .await
        .unwrap();
    assert!(
        checked.violations().is_empty(),
        "{:?}",
        checked.violations()
    );
    seen.extend(checked.actions().into_keys());
    // A single Basic-CEN child is checked with the attribute call.
    let emu = Emulator::new(
        decom::emulator::world::World::parse(
            "basic.yaml",
            &format!(
                "account_id: \"{}\"\naccess_keys: [{{ id: K, secret: S }}]\nregions: [cn-shanghai]\nphysical_connections: [{{ id: pc-1, region: cn-shanghai }}]\nvirtual_border_routers: [{{ id: vbr-1, region: cn-shanghai, physical_connection: pc-1 }}]\ncens: [{{ id: cen-basic }}]\ncen_child_instances: [{{ cen: cen-basic, vbr: vbr-1 }}]\n",
                worldgen::ACCOUNT
            ),
        )
        .unwrap(),
    );
    let basic = Checked::new(emu.transport(), Arc::new(Contract::committed()));
    let transport: Arc<dyn Transport> = basic.clone();
    let reader = ReadClient::new(config(&emu), transport);
    decom::api::ops::cbn_basic::describe_cen_attached_child_instance_attribute(
        &reader,
        "cen-basic",
        "vbr-1",
        "cn-shanghai",
    )
    .await
    .unwrap();
    assert!(basic.violations().is_empty(), "{:?}", basic.violations());
    seen.extend(basic.actions().into_keys());
    // Every action decom knows went through the check.
    for a in actions::ACTIONS {
        assert!(seen.contains(a.name), "{} was never sent", a.name);
    }
}
