//! Generated worlds and plans, in-process on a paused tokio clock:
//! - the graph respects alibaba-api.md §12 in ANY execution order (a random topological
//!   order runs against the emulator, whose preconditions refuse a wrong order), and no
//!   protected resource gets a step;
//! - chaos: 15% injected faults of every kind, plus the documented rate limits, over many
//!   seeds: every target gone, nothing outside the plan or protected touched, no mutation
//!   applied twice, every step accounted for.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use decom::api::credentials::{CredentialSource, Credentials};
use decom::api::{ClientConfig, Endpoints, ReadClient, RetryPolicy, SignatureVersion, WriteClient};
use decom::emulator::Emulator;
use decom::emulator::world::{FaultKind, Faults, World};
use decom::emulator::worldgen::{self, Gen, Shape};
use decom::exec::{self, Options, calls};
use decom::graph::{Disposition, Graph};
use decom::model::Action;

fn config(emu: &Emulator, retry: RetryPolicy) -> ClientConfig {
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
        retry,
    }
}

/// Reads retry throttling and transient errors until the read deadline (the default).
fn patient() -> RetryPolicy {
    RetryPolicy::default()
}

/// A random plan over a generated world: some circuits by id, TR-bound and gateway-bound
/// IPsec connections by selector, random cascade, production protected.
fn random_plan(w: &World, g: &mut Gen, all: bool) -> decom::plan::Plan {
    let mut targets = String::new();
    // Hosted connections of tenants are not the caller's circuits: they are reached through
    // their parent.
    for pc in w
        .physical_connections
        .iter()
        .filter(|p| p.value.owner.is_none())
    {
        if all || g.chance(0.5) {
            targets.push_str(&format!(
                "  - physical_connection: {}\n    region: {}\n",
                pc.value.id, pc.value.region
            ));
        }
    }
    for region in worldgen::REGIONS {
        if all || g.chance(0.5) {
            targets.push_str(&format!(
                "  - vpn_attachment: {{ name: \"*\" }}\n    region: {region}\n"
            ));
        }
        if all || g.chance(0.5) {
            targets.push_str(&format!(
                "  - vpn_connection: {{ name: \"office-*\" }}\n    region: {region}\n"
            ));
        }
    }
    if targets.is_empty() {
        targets = format!(
            "  - physical_connection: {}\n    region: {}\n",
            w.physical_connections[0].value.id, w.physical_connections[0].value.region
        );
    }
    let cascade = all || g.chance(0.7);
    let text = format!(
        "version: 1\nname: generated\naccount: \"{}\"\npolicy:\n  cascade: {cascade}\n  protect:\n    tags: {{ env: prod }}\ntargets:\n{targets}",
        worldgen::ACCOUNT
    );
    decom::plan::parse("generated.yaml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Ids of every resource tagged env=prod in the world.
fn protected_ids(w: &World) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let prod = |t: &BTreeMap<String, String>| t.get("env").is_some_and(|v| v == "prod");
    ids.extend(
        w.physical_connections
            .iter()
            .filter(|x| prod(&x.value.tags))
            .map(|x| x.value.id.clone()),
    );
    ids.extend(
        w.virtual_border_routers
            .iter()
            .filter(|x| prod(&x.value.tags))
            .map(|x| x.value.id.clone()),
    );
    ids.extend(
        w.vpn_connections
            .iter()
            .filter(|x| prod(&x.value.tags))
            .map(|x| x.value.id.clone()),
    );
    ids
}

fn assert_nothing_protected(graph: &Graph, protected: &BTreeSet<String>) {
    for s in &graph.steps {
        assert!(
            !protected.contains(&s.resource),
            "step {} {} on protected {}",
            s.action,
            s.kind,
            s.resource
        );
    }
}

/// The id parameter each mutating action names its resource by.
fn target_of(params: &serde_json::Map<String, serde_json::Value>) -> String {
    let get = |k: &str| params.get(k).and_then(|v| v.as_str());
    if let (Some(pc), Some(ckn)) = (get("PhysicalConnectionId"), get("Ckn")) {
        return format!("{pc}/{ckn}");
    }
    if let (Some(cen), Some(vbr)) = (get("CenId"), get("VbrInstanceId")) {
        return format!("{cen}/{vbr}");
    }
    // Resources named by two parameters (`<a>/<b>` ids).
    for (a, b) in [
        ("VbrId", "PhysicalConnectionId"),
        ("EcrId", "ChildInstanceId"),
        ("CenId", "ChildInstanceId"),
        ("RouterId", "DstCidrBlock"),
    ] {
        if let (Some(a), Some(b)) = (get(a), get(b)) {
            return format!("{a}/{b}");
        }
    }
    for k in [
        "InstanceId",
        "RouteEntryId",
        "NqaId",
        "PhysicalConnectionId",
        "VbrId",
        "RouterInterfaceId",
        "BgpPeerId",
        "BgpGroupId",
        "VpnConnectionId",
        "TransitRouterRouteEntryId",
    ] {
        if let Some(v) = params.get(k).and_then(|v| v.as_str()) {
            return v.to_string();
        }
    }
    if let (Some(pl), Some(t)) = (
        params.get("PrefixListId"),
        params.get("TransitRouterTableId"),
    ) {
        return format!("{}/{}", pl.as_str().unwrap(), t.as_str().unwrap());
    }
    match (
        params.get("TransitRouterAttachmentId"),
        params.get("TransitRouterRouteTableId"),
    ) {
        (Some(a), Some(t)) => format!("{}/{}", a.as_str().unwrap(), t.as_str().unwrap()),
        (Some(a), None) => a.as_str().unwrap().to_string(),
        _ => String::new(),
    }
}

/// The kinds of issue 11 part A: the generated worlds must give each a non-zero share of
/// the steps the property and chaos tests run.
const NEW_KINDS: &[decom::model::Kind] = &[
    decom::model::Kind::VbrCircuitAssociation,
    decom::model::Kind::VbrRouteEntry,
    decom::model::Kind::BgpNetwork,
    decom::model::Kind::Nqa,
    decom::model::Kind::EcrChildInstance,
    decom::model::Kind::CenChildInstance,
];

fn assert_covers(seen: &BTreeSet<decom::model::Kind>) {
    for k in NEW_KINDS {
        assert!(
            seen.contains(k),
            "no step on any {k}: worldgen gives it no share"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn any_topological_order_satisfies_the_documented_preconditions() {
    // What the seeds covered: kinds with steps or blocked, and IPsec connection states.
    let mut covered: BTreeSet<String> = BTreeSet::new();
    let mut kinds_seen = BTreeSet::new();
    // Every kind whose steps the runs below executed (each kind must appear).
    let mut kinds_run: BTreeSet<decom::model::Kind> = BTreeSet::new();
    for seed in 0..24u64 {
        let world = worldgen::instant(worldgen::generate(
            seed,
            &Shape {
                awkward: seed % 3 == 0,
                ..Shape::default()
            },
        ));
        let protected = protected_ids(&world);
        let mut g = Gen::new(seed * 7 + 1);
        // Some awkward seeds target everything (every blocker kind is then discovered).
        let plan = random_plan(&world, &mut g, seed % 6 == 3);
        let emu = Emulator::new(world.clone());
        let reader = ReadClient::new(config(&emu, RetryPolicy::default()), emu.transport());
        let inventory = decom::discover::discover(&reader, &plan).await.unwrap();
        let graph = decom::graph::build(&plan, &inventory).unwrap();
        assert_nothing_protected(&graph, &protected);
        covered.extend(
            inventory
                .resources
                .keys()
                .map(|k| k.0.plan_name().to_string()),
        );
        kinds_seen.extend(graph.steps.iter().map(|s| s.kind));
        for e in &graph.entries {
            covered.insert(e.kind.plan_name().to_string());
            if e.kind == decom::model::Kind::VpnAttachment {
                covered.insert(format!("vpn_attachment {}", e.status));
            }
            if protected.contains(&e.id) {
                assert!(
                    !matches!(e.disposition, Disposition::Destroy),
                    "seed {seed}: protected {} destroyed",
                    e.id
                );
            }
        }
        // Execute sequentially in a random topological order: every call must succeed.
        let writer = WriteClient::new(config(&emu, RetryPolicy::none()), emu.transport());
        let mut done = vec![false; graph.steps.len()];
        for _ in 0..graph.steps.len() {
            let ready: Vec<usize> = (0..graph.steps.len())
                .filter(|i| !done[*i] && graph.steps[*i].depends_on.iter().all(|d| done[*d]))
                .collect();
            assert!(!ready.is_empty(), "seed {seed}: stuck");
            let id = *g.pick(&ready);
            let step = &graph.steps[id];
            kinds_run.insert(step.kind);
            if step.action == Action::Wait {
                let mut polls = 0;
                loop {
                    let p = calls::probe(&writer, step).await.unwrap();
                    if calls::reached(step, &p) {
                        break;
                    }
                    polls += 1;
                    assert!(
                        polls < 5,
                        "seed {seed}: {} {} never reached {:?} (state {})",
                        step.kind,
                        step.resource,
                        step.until,
                        p.state
                    );
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            } else {
                calls::mutate(&writer, step, step.client_token.as_deref())
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "seed {seed}: {} {} {} out of order: {e}",
                            step.action, step.kind, step.resource
                        )
                    });
            }
            done[id] = true;
        }
        // Afterwards nothing the plan can remove is left.
        let again = decom::graph::build(
            &plan,
            &decom::discover::discover(&reader, &plan).await.unwrap(),
        )
        .unwrap();
        assert!(
            again.steps.is_empty(),
            "seed {seed}: left {:?}",
            again
                .steps
                .iter()
                .map(|s| (&s.resource, s.action))
                .collect::<Vec<_>>()
        );
    }
    for want in [
        "transit_router_prefix_list_association",
        "transit_router_route_entry",
        "foreign_cen_attachment",
        "vpn_attachment init",
        "vpn_attachment financialLocked",
    ] {
        assert!(
            covered.contains(want),
            "no seed covered {want}: {covered:?}"
        );
    }
    // Transitional IPsec states settle at once in these instant worlds; the chaos test's
    // worlds keep them (vpn_connection_settle) and the integration tests assert the wait.
    assert_covers(&kinds_seen);
    for k in decom::model::Kind::ALL {
        // Another account's CEN attachment never gets a step (it is only named).
        if *k == decom::model::Kind::ForeignCenAttachment {
            continue;
        }
        assert!(kinds_run.contains(k), "no {k} step ran in any seed");
    }
}

/// Seeds CI runs (paused time keeps them to a few seconds of wall time).
const CI_SEEDS: u64 = 40;

#[tokio::test(start_paused = true)]
async fn chaos_fifteen_percent_faults_and_throttling_over_many_seeds() {
    chaos(0..CI_SEEDS).await;
}

/// The soak: 100 seeds (`cargo test --release -- --ignored chaos_soak`).
#[tokio::test(start_paused = true)]
#[ignore = "soak: 100 seeds, run with --ignored"]
async fn chaos_soak_100_seeds() {
    chaos(0..100).await;
}

async fn chaos(seeds: std::ops::Range<u64>) {
    let (mut lost, mut retries, mut steps) = (0usize, 0u32, 0usize);
    let n = seeds.end - seeds.start;
    let wall = std::time::Instant::now();
    let mut kinds_seen = BTreeSet::new();
    for seed in seeds {
        let mut world = worldgen::generate(
            seed,
            &Shape {
                circuits: 8,
                awkward: false,
                prod_share: 0.15,
                ..Shape::default()
            },
        );
        world.faults = Faults {
            seed,
            rate: 0.15,
            kinds: FaultKind::ALL.to_vec(),
            ..Faults::default()
        };
        let protected = protected_ids(&world);
        let mut g = Gen::new(seed);
        let plan = random_plan(&world, &mut g, true);
        let emu = Emulator::new(world.clone());
        let reader = ReadClient::new(config(&emu, patient()), emu.transport());
        let inventory = decom::discover::discover(&reader, &plan).await.unwrap();
        let graph = decom::graph::build(&plan, &inventory).unwrap();
        assert_nothing_protected(&graph, &protected);
        kinds_seen.extend(graph.steps.iter().map(|s| s.kind));
        let writer = WriteClient::new(config(&emu, RetryPolicy::none()), emu.transport());
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
        .unwrap_or_else(|_| panic!("seed {seed}: apply did not finish in 2 virtual hours"));
        drain.await.unwrap();
        // The report accounts for every step, and all succeeded despite the faults.
        assert_eq!(report.steps.len(), graph.steps.len());
        let failures: Vec<_> = report
            .steps
            .iter()
            .filter(|s| !s.outcome.is_success())
            .map(|s| (&s.step.resource, s.step.action, &s.outcome))
            .collect();
        assert!(failures.is_empty(), "seed {seed}: {failures:?}");
        // Every target is gone.
        let after = decom::graph::build(
            &plan,
            &decom::discover::discover(&reader, &plan).await.unwrap(),
        )
        .unwrap();
        assert!(
            after.steps.is_empty(),
            "seed {seed}: left {:?}",
            after.steps.iter().map(|s| &s.resource).collect::<Vec<_>>()
        );
        // No mutation applied twice, nothing outside the plan, nothing protected.
        // How many times each (action, resource) is planned (an active MACsec key is
        // disassociated twice: deactivated, then deleted).
        let mut planned: BTreeMap<(String, String), usize> = BTreeMap::new();
        for s in graph.steps.iter().filter(|s| s.action.is_mutation()) {
            *planned
                .entry((s.api.clone(), s.resource.clone()))
                .or_default() += 1;
        }
        let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
        for e in emu.audit().iter().filter(|e| e.applied) {
            let params: serde_json::Map<String, serde_json::Value> = e
                .params
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            let target = target_of(&params);
            assert!(
                planned.contains_key(&(e.action.clone(), target.clone())),
                "seed {seed}: {} {target} was not planned",
                e.action
            );
            assert!(
                !protected.contains(&target),
                "seed {seed}: protected {target} touched"
            );
            *seen.entry((e.action.clone(), target)).or_default() += 1;
        }
        for (k, n) in seen {
            assert_eq!(n, planned[&k], "seed {seed}: {k:?} applied {n} times");
        }
        lost += emu.audit().iter().filter(|e| e.response_lost).count();
        retries += report
            .steps
            .iter()
            .map(|s| s.attempts.saturating_sub(1))
            .sum::<u32>();
        steps += graph.steps.len();
    }
    eprintln!(
        "chaos: {n} seeds, {steps} steps, {lost} lost answers, {retries} retries, {:.1}s wall",
        wall.elapsed().as_secs_f64()
    );
    // The faults really happened: answers were lost and calls retried.
    assert!(steps > 100, "{steps} steps");
    assert_covers(&kinds_seen);
    assert!(lost > 0 && retries > 0, "lost {lost}, retries {retries}");
}

/// Discovery runs the blocker kinds in waves of independent kinds: on many worlds (awkward
/// ones included, every kind present) and plans (some targeting everything), it finds
/// exactly what the registry-order walk (one kind at a time) finds, to the last fact.
#[tokio::test(start_paused = true)]
async fn discovery_waves_find_what_the_registry_order_walk_finds() {
    let sequential: Vec<Vec<decom::model::Kind>> =
        decom::model::Kind::ALL.iter().map(|k| vec![*k]).collect();
    let waves = decom::kinds::discovery_waves();
    assert!(
        waves.len() < sequential.len() / 2,
        "independent kinds share waves: {waves:?}"
    );
    let mut kinds_found: BTreeSet<decom::model::Kind> = BTreeSet::new();
    for seed in 0..24u64 {
        let world = worldgen::instant(worldgen::generate(
            seed,
            &Shape {
                awkward: seed % 2 == 0,
                ..Shape::default()
            },
        ));
        let mut g = Gen::new(seed * 13 + 5);
        let plan = random_plan(&world, &mut g, seed % 3 == 0);
        let emu = Emulator::new(world.clone());
        let reader = ReadClient::new(config(&emu, RetryPolicy::default()), emu.transport());
        let walked = decom::discover::discover_with(&reader, &plan, &sequential)
            .await
            .unwrap();
        let fanned = decom::discover::discover_with(&reader, &plan, &waves)
            .await
            .unwrap();
        assert_eq!(fanned.resources, walked.resources, "seed {seed}");
        assert_eq!(fanned.resolutions, walked.resolutions, "seed {seed}");
        assert_eq!(fanned.account, walked.account, "seed {seed}");
        kinds_found.extend(walked.resources.keys().map(|k| k.0));
    }
    // Every kind was found on some world (the comparison covered it).
    for k in decom::model::Kind::ALL {
        assert!(kinds_found.contains(k), "{k} never discovered");
    }
}
