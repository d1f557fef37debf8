//! Timing logic on a paused tokio clock against the in-process emulator: poll schedule,
//! busy-retry backoff, deadlines, skipping of dependents.

use super::*;
use crate::api::{ClientConfig, Endpoints, ReadClient, RetryPolicy, SignatureVersion};
use crate::emulator::Emulator;
use crate::emulator::world::World;

const HEADER: &str = "account_id: \"1234567890123456\"\naccess_keys: [{ id: K, secret: S }]\nregions: [cn-shanghai]\nrate_limits: { enabled: false }\n";

async fn setup(world: &str, plan: &str) -> (Emulator, WriteClient, Graph) {
    let emu = Emulator::new(World::parse("w.yaml", &format!("{HEADER}{world}")).unwrap());
    let config = ClientConfig {
        endpoints: Endpoints::parse_override("http://127.0.0.1").unwrap(),
        credentials: emu.credentials().into(),
        signature: SignatureVersion::V3,
        retry: RetryPolicy::none(),
    };
    let plan = crate::plan::parse("p.yaml", &format!("version: 1\nname: t\nregion: cn-shanghai\npolicy: {{ cascade: true }}\ntargets:\n{plan}")).unwrap();
    let reader = ReadClient::new(config.clone(), emu.transport());
    let inv = crate::discover::discover(&reader, &plan).await.unwrap();
    let graph = crate::graph::build(&plan, &inv).unwrap();
    (
        emu.clone(),
        WriteClient::new(config, emu.transport()),
        graph,
    )
}

async fn go(client: WriteClient, graph: &Graph, opts: Options) -> Report {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let (_keep, stop) = watch::channel(false);
    run(client, graph, opts, &History::default(), None, tx, stop).await
}

fn opts() -> Options {
    Options {
        poll_initial: Duration::from_secs(2),
        poll_max: Duration::from_secs(20),
        retry_initial: Duration::from_secs(2),
        retry_max: Duration::from_secs(30),
        ..Options::default()
    }
}

#[tokio::test(start_paused = true)]
async fn polls_tick_while_young_then_back_off_by_half() {
    let (_emu, client, graph) = setup(
        "timings: { terminate_physical_connection: 10s }\nphysical_connections: [{ id: pc-1, region: cn-shanghai }]\n",
        "  - physical_connection: pc-1\n",
    )
    .await;
    let start = Instant::now();
    let report = go(client, &graph, opts()).await;
    assert!(report.complete());
    let wait = report
        .steps
        .iter()
        .find(|s| s.step.action == Action::Wait)
        .unwrap();
    // First poll after poll_initial (2 s); every tick (400 ms) while the wait is younger
    // than 2 × poll_initial; then ×1.5: 2.0 2.4 2.8 3.2 3.6 4.0 | 4.6 5.5 6.85 8.875 11.9125.
    assert_eq!(wait.attempts, 11);
    let took = start.elapsed().as_secs_f64();
    assert!((11.91..12.0).contains(&took), "{took}");
}

#[tokio::test(start_paused = true)]
async fn a_wait_past_its_deadline_fails_with_the_last_state_and_skips_dependents() {
    let (_emu, client, graph) = setup(
        "timings: { terminate_physical_connection: 2h }\nphysical_connections: [{ id: pc-1, region: cn-shanghai }]\n",
        "  - physical_connection: pc-1\n",
    )
    .await;
    let start = Instant::now();
    let o = Options {
        step_timeout: Some(Duration::from_secs(300)),
        ..opts()
    };
    let report = go(client, &graph, o).await;
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(300) && took < Duration::from_secs(301),
        "{took:?}"
    );
    let outcomes: Vec<&Outcome> = report.steps.iter().map(|s| &s.outcome).collect();
    assert_eq!(outcomes[0], &Outcome::Done, "terminate");
    assert_eq!(
        outcomes[1],
        &Outcome::TimedOut {
            last_state: "Terminating".into(),
            after_secs: 300,
            last_error: None,
        }
    );
    assert_eq!(outcomes[2], &Outcome::Skipped { because: 1 });
    assert!(!report.complete());
}

#[tokio::test(start_paused = true)]
async fn busy_errors_retry_with_doubling_delays_until_the_deadline() {
    // The gateway stays `updating` (its update outlasts the test): DeleteVpnConnection
    // answers VpnGateway.Configuring every time.
    let (emu, client, graph) = setup(
        "timings: { vpn_gateway_update: 1h }\nvpn_gateways: [{ id: vpn-1, region: cn-shanghai, status: updating }]\nvpn_connections: [{ id: vco-1, region: cn-shanghai, vpn_gateway: vpn-1 }]\n",
        "  - vpn_connection: vco-1\n",
    )
    .await;
    let start = Instant::now();
    let o = Options {
        step_timeout: Some(Duration::from_secs(120)),
        ..opts()
    };
    let report = go(client, &graph, o).await;
    let del = &report.steps[0];
    // Attempts at 0, 2, 6, 14, 30, 60, 90, 120 s; the next (150 s) would pass the deadline.
    assert_eq!(del.attempts, 8);
    assert_eq!(
        del.outcome,
        Outcome::TimedOut {
            last_state: "active".into(),
            after_secs: 120,
            last_error: Some("VpnGateway.Configuring".into()),
        }
    );
    assert_eq!(start.elapsed(), Duration::from_secs(120));
    // Every attempt carried the same ClientToken.
    let tokens: std::collections::BTreeSet<_> =
        emu.audit().iter().map(|e| e.client_token.clone()).collect();
    assert_eq!(tokens.len(), 1);
    assert_eq!(emu.audit().len(), 8);
}

#[tokio::test(start_paused = true)]
async fn a_failure_skips_only_its_dependents() {
    // The plan is made on a world without the route; by the time it is applied, somebody
    // has added a route via pc-bad's router interface (the apply runs against that world):
    // its deletion fails — at once, explained, since nothing in the run removes the route;
    // pc-good is independent and finishes.
    let start = Instant::now();
    let before = "physical_connections:\n  - { id: pc-bad, region: cn-shanghai }\n  - { id: pc-good, region: cn-shanghai, status: Terminated }\nvirtual_border_routers: [{ id: vbr-bad, region: cn-shanghai, physical_connection: pc-bad }]\nrouter_interfaces: [{ id: ri-bad, region: cn-shanghai, vbr: vbr-bad, status: Inactive }]\n";
    let (_planned, _, graph) = setup(
        before,
        "  - physical_connection: pc-bad\n  - physical_connection: pc-good\n",
    )
    .await;
    let (_emu, client, _) = setup(
        &format!("{before}vbr_route_entries: [{{ id: rte-new, vbr: vbr-bad, destination: 10.9.0.0/16, next_hop: ri-bad }}]\n"),
        "  - physical_connection: pc-good\n",
    )
    .await;
    let report = go(client, &graph, opts()).await;
    let by: BTreeMap<(String, Action), &Outcome> = report
        .steps
        .iter()
        .map(|s| ((s.step.resource.clone(), s.step.action), &s.outcome))
        .collect();
    match by[&("ri-bad".to_string(), Action::Delete)] {
        Outcome::Failed { code, message, .. } => {
            assert_eq!(code, "RouterInterfaceReferredByRouteEntry");
            assert!(
                message.contains("DeleteRouterInterface ri-bad was refused")
                    && message.contains("DeleteRouteEntry"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(5), "failed at once");
    assert!(matches!(
        by[&("pc-bad".to_string(), Action::Terminate)],
        Outcome::Skipped { .. }
    ));
    assert_eq!(by[&("pc-good".to_string(), Action::Delete)], &Outcome::Done);
}

#[tokio::test(start_paused = true)]
async fn the_step_deadline_bounds_the_request_in_flight_and_names_no_state_when_none_was_seen() {
    // DeleteVpnConnection is answered only after an hour; the step's deadline is 75 s.
    let (_emu, client, graph) = setup(
        "faults: { rate: 1.0, kinds: [latency], latency: 1h, actions: [DeleteVpnConnection, DescribeVpnConnections] }\nvpn_gateways: [{ id: vpn-1, region: cn-shanghai }]\nvpn_connections: [{ id: vco-1, region: cn-shanghai, vpn_gateway: vpn-1 }]\n",
        "  - vpn_connection: vco-1\n",
    )
    .await;
    let start = Instant::now();
    let o = Options {
        step_timeout: Some(Duration::from_secs(75)),
        ..opts()
    };
    let report = go(client, &graph, o).await;
    assert_eq!(start.elapsed(), Duration::from_secs(75), "no overshoot");
    let del = &report.steps[0];
    assert_eq!(
        del.outcome,
        Outcome::TimedOut {
            last_state: "unknown".into(),
            after_secs: 75,
            last_error: Some("no answer before the deadline".into()),
        }
    );
    assert_eq!(
        crate::progress::outcome_text(&del.outcome),
        "TIMED OUT after 75s, no state seen (last error no answer before the deadline)"
    );
}

#[tokio::test(start_paused = true)]
async fn a_signature_error_with_the_token_reaches_no_output() {
    // The key requires an STS token; the executor's client signs V1 with a wrong secret, so
    // every call is answered SignatureDoesNotMatch quoting the string-to-sign, token included.
    const TOKEN: &str = "CAIS-sts/tok+en=Zq9";
    let world = format!(
        "{}physical_connections: [{{ id: pc-1, region: cn-shanghai, status: Terminated }}]\n",
        HEADER.replace(
            "{ id: K, secret: S }",
            &format!("{{ id: K, secret: S, security_token: \"{TOKEN}\" }}")
        )
    );
    let emu = Emulator::new(World::parse("w.yaml", &world).unwrap());
    let good = ClientConfig {
        endpoints: Endpoints::parse_override("http://127.0.0.1").unwrap(),
        credentials: emu.credentials().into(),
        signature: SignatureVersion::V1,
        retry: RetryPolicy::none(),
    };
    let plan = crate::plan::parse(
        "p.yaml",
        "version: 1\nname: t\nregion: cn-shanghai\ntargets:\n  - physical_connection: pc-1\n",
    )
    .unwrap();
    let reader = ReadClient::new(good.clone(), emu.transport());
    let graph = crate::graph::build(
        &plan,
        &crate::discover::discover(&reader, &plan).await.unwrap(),
    )
    .unwrap();
    let mut rotated = emu.credentials();
    rotated.access_key_secret = crate::api::Secret::new("rotated-secret");
    let bad = ClientConfig {
        credentials: rotated.into(),
        ..good.clone()
    };
    let client = WriteClient::new(bad, emu.transport());
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path()).unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (_keep, stop) = watch::channel(false);
    let report = run(
        client,
        &graph,
        opts(),
        &History::default(),
        Some(&mut journal),
        tx,
        stop,
    )
    .await;
    drop(journal);
    let mut events = String::new();
    while let Ok(e) = rx.try_recv() {
        events.push_str(&serde_json::to_string(&e).unwrap());
    }
    let failed = &report.steps[0].outcome;
    assert!(
        matches!(failed, Outcome::Failed { code, message, .. } if code == "SignatureDoesNotMatch" && message.contains("SecurityToken%3D***")),
        "{failed:?}"
    );
    let enc = crate::api::sign::percent_encode(TOKEN);
    let outputs = [
        ("human", crate::progress::report_human(&report)),
        ("json", crate::progress::report_json(&report).to_string()),
        ("markdown", crate::progress::report_markdown(&report)),
        ("events", events),
        ("debug", format!("{report:?}")),
        (
            "journal",
            std::fs::read_to_string(dir.path().join("journal.jsonl")).unwrap(),
        ),
    ];
    for (name, text) in outputs {
        for form in [
            TOKEN.to_string(),
            enc.clone(),
            crate::api::sign::percent_encode(&enc),
        ] {
            assert!(!text.contains(&form), "{name} carries the token: {text}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_wait_names_the_last_state_seen_even_when_its_last_poll_failed() {
    // The circuit stays Terminating for an hour; every other poll answers 503. The timeout
    // names the state the polls saw, and the error of the last one apart.
    let (_emu, client, graph) = setup(
        "timings: { terminate_physical_connection: 1h }\nfaults: { seed: 2, rate: 0.5, kinds: [unavailable], actions: [DescribePhysicalConnections] }\nphysical_connections: [{ id: pc-1, region: cn-shanghai }]\n",
        "  - physical_connection: pc-1\n",
    )
    .await;
    let o = Options {
        step_timeout: Some(Duration::from_secs(120)),
        ..opts()
    };
    let report = go(client, &graph, o).await;
    let wait = report
        .steps
        .iter()
        .find(|s| s.step.action == Action::Wait)
        .unwrap();
    let Outcome::TimedOut {
        last_state,
        last_error,
        ..
    } = &wait.outcome
    else {
        panic!("{:?}", wait.outcome);
    };
    assert_eq!(last_state, "Terminating");
    assert_eq!(last_error.as_deref(), Some("ServiceUnavailable"));
}

#[tokio::test(start_paused = true)]
async fn a_blocker_code_is_retried_only_while_the_run_removes_its_cause() {
    // DeleteBgpGroup answers DependencyViolation.BgpPeer while the peer's own delete is
    // still pending in the run (it is slow: its call is retried): busy. Without such a step
    // the same code fails at once.
    let (_emu, client, graph) = setup(
        "vpn_gateways: []\nphysical_connections: [{ id: pc-1, region: cn-shanghai, status: Terminated }]\nvirtual_border_routers: [{ id: vbr-1, region: cn-shanghai, physical_connection: pc-1, status: terminated }]\nbgp_groups: [{ id: bgpg-1, region: cn-shanghai, vbr: vbr-1, peers: [{ id: bgp-1 }] }]\n",
        "  - physical_connection: pc-1\n",
    )
    .await;
    // Reorder nothing: just check the table says the peer clears the group's code.
    let b = blocker_codes::lookup("DependencyViolation.BgpPeer").unwrap();
    let group_delete = graph
        .steps
        .iter()
        .find(|s| s.kind == Kind::BgpGroup && s.action == Action::Delete)
        .unwrap();
    let resources: Vec<(Kind, String)> = graph
        .steps
        .iter()
        .map(|s| (s.kind, s.resource.clone()))
        .collect();
    let parents: std::collections::HashMap<String, String> = graph
        .steps
        .iter()
        .filter_map(|s| Some((s.resource.clone(), s.parent.clone()?)))
        .collect();
    assert!(blocker_codes::pending_removal(
        b,
        group_delete,
        &resources,
        &parents,
        |_| false
    ));
    assert!(!blocker_codes::pending_removal(
        b,
        group_delete,
        &resources,
        &parents,
        |_| true
    ));
    let report = go(client, &graph, opts()).await;
    assert!(report.complete(), "{:?}", report.counts());
}

#[tokio::test(start_paused = true)]
async fn no_change_starts_after_the_window_closes_but_waits_go_on() {
    // Issue 13 §1: the circuit is terminated inside the window; its termination takes 60 s,
    // the window closes after 30 s. The wait goes on to Terminated; the delete never starts.
    let (emu, client, graph) = setup(
        "timings: { terminate_physical_connection: 60s }\nphysical_connections: [{ id: pc-1, region: cn-shanghai }]\n",
        "  - physical_connection: pc-1\n",
    )
    .await;
    let o = Options {
        window_end: Some(Instant::now() + Duration::from_secs(30)),
        ..opts()
    };
    let report = go(client, &graph, o).await;
    let outcomes: Vec<(Action, &Outcome)> = report
        .steps
        .iter()
        .map(|s| (s.step.action, &s.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            (Action::Terminate, &Outcome::Done),
            (Action::Wait, &Outcome::Done),
            (Action::Delete, &Outcome::NotStarted),
        ]
    );
    assert!(report.window_closed && !report.interrupted && !report.complete());
    let actions: Vec<String> = emu.audit().iter().map(|e| e.action.clone()).collect();
    assert_eq!(actions, ["TerminatePhysicalConnection"]);
    assert!(crate::progress::report_human(&report).starts_with("Apply stopped: window closed"));
}

#[tokio::test(start_paused = true)]
async fn a_retry_never_goes_out_after_the_window_closes() {
    // The gateway stays busy: attempts at 0, 2 and 6 s; the next (14 s) would fall after the
    // window's end at 10 s, so it is not sent.
    let (emu, client, graph) = setup(
        "timings: { vpn_gateway_update: 1h }\nvpn_gateways: [{ id: vpn-1, region: cn-shanghai, status: updating }]\nvpn_connections: [{ id: vco-1, region: cn-shanghai, vpn_gateway: vpn-1 }]\n",
        "  - vpn_connection: vco-1\n",
    )
    .await;
    let start = Instant::now();
    let o = Options {
        window_end: Some(start + Duration::from_secs(10)),
        ..opts()
    };
    let report = go(client, &graph, o).await;
    assert_eq!(report.steps[0].outcome, Outcome::Interrupted);
    assert_eq!(report.steps[0].attempts, 3);
    assert!(report.window_closed);
    assert_eq!(emu.audit().len(), 3);
    assert!(start.elapsed() <= Duration::from_secs(15));
}

#[tokio::test(start_paused = true)]
async fn a_few_waits_in_a_long_scope_are_polled_by_ids_once_its_length_is_known() {
    // 10 VBRs go among 250 that stay: a walk of the region is 6 pages, the 10 ids are 2
    // filtered calls. After the first walk tells the length, polls ask by ids.
    let mut world = String::from(
        "physical_connections:\n  - { id: pc-go, region: cn-shanghai, status: Terminated }\n  - { id: pc-keep, region: cn-shanghai }\nvirtual_border_routers:\n",
    );
    for i in 0..10 {
        world.push_str(&format!("  - {{ id: vbr-go-{i:02}, region: cn-shanghai, physical_connection: pc-go, status: terminated }}\n"));
    }
    for i in 0..250 {
        world.push_str(&format!(
            "  - {{ id: vbr-keep-{i:03}, region: cn-shanghai, physical_connection: pc-keep }}\n"
        ));
    }
    world.push_str("timings: { delete_vbr: 10s }\n");
    let (_emu, client, graph) = setup(&world, "  - physical_connection: pc-go\n").await;
    let counts = client.reader();
    let action = "DescribeVirtualBorderRouters";
    let before = counts.call_counts().get(action).copied().unwrap_or(0);
    let report = go(client, &graph, opts()).await;
    assert!(report.complete());
    let wait = report
        .steps
        .iter()
        .find(|s| s.step.action == Action::Wait && s.step.kind == Kind::VirtualBorderRouter)
        .unwrap();
    let polls = u64::from(wait.attempts);
    let calls = counts.call_counts()[action] - before;
    // One walk (6 pages), then 2 calls per poll (walking every time: 6 per poll).
    assert!(polls >= 5, "{polls} polls");
    assert!(
        calls <= 6 + 2 * polls,
        "{calls} {action} calls over {polls} polls"
    );
}

#[tokio::test(start_paused = true)]
async fn ids_missing_from_a_long_walk_are_confirmed_together() {
    // 30 associations go from a route table of 90: 30 > 5 waits walk the table (2 pages),
    // and every one missing from the walk is confirmed by its own call. At 100 ms a call,
    // one after another they would take 3 s; together, two rounds of 16.
    let mut world = String::from(
        "timings: { latency: 100ms, dissociate: 1s }\nphysical_connections:\n  - { id: pc-go, region: cn-shanghai, status: Terminated }\n  - { id: pc-keep, region: cn-shanghai }\nvirtual_border_routers:\n",
    );
    let mut attachments = String::from("transit_router_attachments:\n");
    for (pc, n) in [("go", 30), ("keep", 60)] {
        for i in 0..n {
            world.push_str(&format!(
                "  - {{ id: vbr-{pc}-{i:02}, region: cn-shanghai, physical_connection: pc-{pc} }}\n"
            ));
            attachments.push_str(&format!("  - {{ id: tr-attach-{pc}-{i:02}, transit_router: tr-1, vbr: vbr-{pc}-{i:02}, associations: [vtb-1] }}\n"));
        }
    }
    world.push_str("cens:\n  - id: cen-1\n    transit_routers:\n      - { id: tr-1, region: cn-shanghai, route_tables: [vtb-1] }\n");
    world.push_str(&attachments);
    let (_emu, client, graph) = setup(&world, "  - physical_connection: pc-go\n").await;
    let counts = client.reader();
    let action = "ListTransitRouterRouteTableAssociations";
    let before = counts.call_counts().get(action).copied().unwrap_or(0);
    let report = go(client, &graph, opts()).await;
    assert!(report.complete());
    // Every id missing from a walk was asked about on its own: the walk is not trusted.
    let calls = counts.call_counts()[action] - before;
    assert!(calls >= 2 + 30, "{calls} {action} calls");
    let waits: Vec<f64> = report
        .steps
        .iter()
        .filter(|s| s.step.action == Action::Wait && s.step.kind == Kind::RouteTableAssociation)
        .map(|s| s.elapsed_secs)
        .collect();
    assert_eq!(waits.len(), 30);
    // First poll at 2 s (poll_initial): a walk of 2 pages, then 30 confirmations.
    let longest = waits.iter().copied().fold(0.0, f64::max);
    assert!(
        longest < 3.0,
        "the slowest association wait took {longest:.2} s"
    );
}

#[tokio::test(start_paused = true)]
async fn later_waits_of_a_kind_back_off_until_the_earlier_ones_were_done() {
    // Three IPsec connections on one gateway go one at a time, each followed by a wait for
    // the gateway's 10 s update. The first wait ticks from poll_initial (2 s), then backs
    // off (last seen under way at 8.9 s, done at 11.9 s); the later ones back off ×1.5 from
    // 2 s to 8.9 s (2, 3, 4.5, 6.75, 8.9), then tick (0.4 s): 8 polls each instead of 21,
    // done at 10.1 s.
    let mut world = String::from(
        "timings: { vpn_gateway_update: 10s }\nvpn_gateways: [{ id: vpn-1, region: cn-shanghai }]\nvpn_connections:\n",
    );
    let mut plan = String::new();
    for i in 0..3 {
        world.push_str(&format!(
            "  - {{ id: vco-{i}, region: cn-shanghai, vpn_gateway: vpn-1 }}\n"
        ));
        plan.push_str(&format!("  - vpn_connection: vco-{i}\n"));
    }
    let (_emu, client, graph) = setup(&world, &plan).await;
    let report = go(client, &graph, opts()).await;
    assert!(report.complete());
    let waits: Vec<&StepResult> = report
        .steps
        .iter()
        .filter(|s| s.step.action == Action::Wait && s.step.kind == Kind::VpnConnection)
        .collect();
    assert!(waits.len() >= 3, "{} waits", waits.len());
    // In graph order, which is the order they ran in (one gateway: one at a time).
    let attempts: Vec<(f64, u32)> = waits.iter().map(|s| (s.elapsed_secs, s.attempts)).collect();
    assert!(attempts[0].1 >= 10, "the first wait ticks: {attempts:?}");
    for (took, polls) in &attempts[1..] {
        assert!(
            *polls <= 8,
            "a later wait polled {polls} times: {attempts:?}"
        );
        assert!(*took < 10.5, "a later wait took {took:.2} s: {attempts:?}");
    }
}

#[test]
fn a_wait_quicker_than_the_ones_before_it_is_found_within_half_its_time_again() {
    // The first waits of a kind took 120 s (all still under way at 108 s); this one is done
    // after 5 s. Backing off ×1.5 from poll_initial, it is seen done by 7.5 s at the latest,
    // not at 108 s.
    let o = opts();
    let (mut age, mut interval) = (o.poll_initial, super::poll::tick(&o));
    let mut polls = vec![age];
    while age < Duration::from_secs(5) {
        let (i, after) = super::poll::next_poll(
            &o,
            age,
            interval,
            Some(Duration::from_secs(120)),
            Some(Duration::from_secs(108)),
        );
        interval = i;
        age += after;
        polls.push(age);
    }
    assert!(age <= Duration::from_millis(7500), "polled at {polls:?}");
    assert_eq!(polls.len(), 4, "2, 3, 4.5, 6.75 s: {polls:?}");
    // Once past the time the others were still under way, it ticks.
    let (_, after) = super::poll::next_poll(
        &o,
        Duration::from_millis(108_100),
        interval,
        Some(Duration::from_secs(120)),
        Some(Duration::from_secs(108)),
    );
    assert_eq!(after, super::poll::tick(&o));
    // Never more than poll_max (20 s) between polls, however long the others took.
    let (_, after) = super::poll::next_poll(
        &o,
        Duration::from_secs(200),
        interval,
        Some(Duration::from_secs(700)),
        Some(Duration::from_secs(600)),
    );
    assert_eq!(after, o.poll_max);
}
