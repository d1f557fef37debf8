//! Express Connect blockers of issue 11 part B, each as a world + plan against the
//! in-process emulator on a paused clock: the plan shows the blocker and its steps (or why it
//! is blocked), and the apply leaves nothing behind (or touches nothing when blocked).
//! MACsec keys, hosted connections (partner and tenant side), VBR failover groups, CEN VBR
//! health checks, the waits after asynchronous deletes, and blocker codes that fail at once.

use std::time::Duration;

use decom::api::{ClientConfig, Endpoints, ReadClient, RetryPolicy, SignatureVersion, WriteClient};
use decom::emulator::Emulator;
use decom::emulator::world::World;
use decom::exec::{self, Options, Outcome, Report};
use decom::graph::{Disposition, Graph};
use decom::model::{Action, Kind};

use crate::support::HEADER;

struct Case {
    emu: Emulator,
    reader: ReadClient,
    writer: WriteClient,
    plan: decom::plan::Plan,
}

fn case(world: &str, targets: &str) -> Case {
    let world = World::parse(
        "w.yaml",
        &format!("{HEADER}rate_limits: {{ enabled: false }}\n{world}"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let emu = Emulator::new(world);
    let config = ClientConfig {
        endpoints: Endpoints::parse_override("http://127.0.0.1").unwrap(),
        credentials: emu.credentials().into(),
        signature: SignatureVersion::V3,
        retry: RetryPolicy::none(),
    };
    let plan = decom::plan::parse(
        "p.yaml",
        &format!(
            "version: 1\nname: t\nregion: cn-shanghai\npolicy: {{ cascade: true }}\ntargets:\n{targets}"
        ),
    )
    .unwrap();
    Case {
        reader: ReadClient::new(config.clone(), emu.transport()),
        writer: WriteClient::new(config, emu.transport()),
        emu,
        plan,
    }
}

impl Case {
    async fn graph(&self) -> Graph {
        let inv = decom::discover::discover(&self.reader, &self.plan)
            .await
            .unwrap();
        decom::graph::build(&self.plan, &inv).unwrap()
    }

    async fn apply(&self, graph: &Graph) -> Report {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let (_keep, stop) = tokio::sync::watch::channel(false);
        let opts = Options {
            poll_initial: Duration::from_millis(500),
            poll_max: Duration::from_secs(5),
            retry_initial: Duration::from_millis(500),
            retry_max: Duration::from_secs(5),
            ..Options::default()
        };
        exec::run(
            self.writer.clone(),
            graph,
            opts,
            &Default::default(),
            None,
            tx,
            stop,
        )
        .await
    }

    fn count(&self) -> usize {
        self.emu.with_state(|st| st.resource_count())
    }
}

/// `(kind, action, api, until)` of every step of `id`, in order.
fn steps_of(g: &Graph, id: &str) -> Vec<(Kind, Action, String, Option<String>)> {
    g.steps
        .iter()
        .filter(|s| s.resource == id)
        .map(|s| (s.kind, s.action, s.api.clone(), s.until.clone()))
        .collect()
}

fn step_id(g: &Graph, id: &str, action: Action) -> usize {
    g.steps
        .iter()
        .find(|s| s.resource == id && s.action == action)
        .unwrap_or_else(|| panic!("no {action} {id}"))
        .id
}

/// True when step `a` comes (transitively) before step `b`.
fn before(g: &Graph, a: usize, b: usize) -> bool {
    let mut stack = vec![b];
    while let Some(s) = stack.pop() {
        for d in &g.steps[s].depends_on {
            if *d == a {
                return true;
            }
            stack.push(*d);
        }
    }
    false
}

const KEY_A: &str = "0123456789abcdef0123456789abcdef";
const KEY_B: &str = "fedcba9876543210fedcba9876543210";

#[tokio::test(start_paused = true)]
async fn a_circuit_with_a_macsec_key_is_planned_and_emptied_before_terminate() {
    // The failing input of the issue: a MACsec circuit with one VBR and a BGP group.
    let c = case(
        &format!(
            "physical_connections:\n  - {{ id: pc-1, region: cn-shanghai, macsec_keys: [{{ ckn: {KEY_A} }}, {{ ckn: {KEY_B}, status: Disassociated }}] }}\nvirtual_border_routers: [{{ id: vbr-1, region: cn-shanghai, physical_connection: pc-1 }}]\nbgp_groups: [{{ id: bgpg-1, region: cn-shanghai, vbr: vbr-1, peers: [{{ id: bgp-1 }}] }}]\n"
        ),
        "  - physical_connection: pc-1\n",
    );
    let g = c.graph().await;
    let active = format!("pc-1/{KEY_A}");
    let inactive = format!("pc-1/{KEY_B}");
    let a = steps_of(&g, &active);
    assert_eq!(
        a.iter().map(|s| s.1).collect::<Vec<_>>(),
        [
            Action::Deactivate,
            Action::Wait,
            Action::Delete,
            Action::Wait
        ]
    );
    assert!(a.iter().all(|s| s.0 == Kind::MacsecKey));
    assert_eq!(a[1].3.as_deref(), Some("Disassociated"));
    assert_eq!(steps_of(&g, &inactive).len(), 2);
    // The inactive key goes before the active one; both before Terminate.
    let term = step_id(&g, "pc-1", Action::Terminate);
    assert!(before(
        &g,
        step_id(&g, &inactive, Action::Delete),
        step_id(&g, &active, Action::Deactivate)
    ));
    assert!(before(&g, step_id(&g, &active, Action::Delete), term));
    let (destroy, _, blocked) = g.summary();
    assert_eq!((destroy, blocked), (6, 0));
    let report = c.apply(&g).await;
    assert!(report.complete(), "{:?}", report.counts());
    assert_eq!(c.count(), 0, "nothing left");
}

#[tokio::test(start_paused = true)]
async fn hosted_connections_are_deleted_by_the_partner_and_a_tenants_vbr_blocks_them() {
    let world = "physical_connections:\n  - { id: pc-1, region: cn-shanghai }\n  - { id: pc-1-vp1, region: cn-shanghai, parent_physical_connection: pc-1, owner: \"9999999999999999\" }\n  - { id: pc-1-vp2, region: cn-shanghai, parent_physical_connection: pc-1, owner: \"9999999999999999\" }\n  - { id: pc-2, region: cn-shanghai }\n  - { id: pc-2-vp1, region: cn-shanghai, parent_physical_connection: pc-2, owner: \"9999999999999999\" }\nvirtual_border_routers:\n  - { id: vbr-pending, region: cn-shanghai, physical_connection: pc-1-vp2, owner: \"9999999999999999\", status: unconfirmed }\n  - { id: vbr-tenant, region: cn-shanghai, physical_connection: pc-2-vp1, owner: \"9999999999999999\", status: active }\n";
    // pc-1: two hosted connections, one with a tenant's unconfirmed VBR (the partner may
    // delete it): everything goes.
    let c = case(world, "  - physical_connection: pc-1\n");
    let g = c.graph().await;
    for vp in ["pc-1-vp1", "pc-1-vp2"] {
        let s = steps_of(&g, vp);
        assert_eq!(s.len(), 1);
        assert_eq!(
            (s[0].0, s[0].2.as_str()),
            (Kind::HostedConnection, "DeletePhysicalConnection")
        );
        assert!(before(
            &g,
            step_id(&g, vp, Action::Delete),
            step_id(&g, "pc-1", Action::Terminate)
        ));
    }
    assert!(before(
        &g,
        step_id(&g, "vbr-pending", Action::Wait),
        step_id(&g, "pc-1-vp2", Action::Delete)
    ));
    let before_count = c.count();
    let report = c.apply(&g).await;
    assert!(report.complete(), "{:?}", report.counts());
    // pc-1, its two hosted connections and the tenant's unconfirmed VBR are gone.
    assert_eq!(c.count(), before_count - 4);
    // pc-2: the tenant's active VBR on its hosted connection: blocked, named, nothing done.
    let c = case(world, "  - physical_connection: pc-2\n");
    let g = c.graph().await;
    assert!(g.steps.is_empty());
    let e = g.entries.iter().find(|e| e.id == "pc-2").unwrap();
    let Disposition::Blocked { why } = &e.disposition else {
        panic!("{e:?}")
    };
    assert!(
        why.contains("pc-2-vp1 cannot be removed: vbr-tenant belongs to account 9999999999999999"),
        "{why}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_tenants_hosted_connection_is_explained_not_touched() {
    let c = case(
        "physical_connections:\n  - { id: pc-t, region: cn-shanghai, parent_physical_connection: pc-partner, parent_owner: \"8888888888888888\" }\nvirtual_border_routers: [{ id: vbr-t, region: cn-shanghai, physical_connection: pc-t }]\n",
        "  - physical_connection: pc-t\n",
    );
    let g = c.graph().await;
    assert!(g.steps.is_empty());
    let Disposition::Blocked { why } = &g.entries[0].disposition else {
        panic!("{:?}", g.entries)
    };
    assert!(
        why.contains("hosted connection on pc-partner")
            && why.contains("account 8888888888888888")
            && why.contains("OperationDenied.NeedVpconnOwner"),
        "{why}"
    );
}

#[tokio::test(start_paused = true)]
async fn failover_groups_and_health_checks_go_before_the_vbrs_leave_the_cen() {
    let c = case(
        "physical_connections: [{ id: pc-1, region: cn-shanghai }, { id: pc-2, region: cn-shanghai }]\nvirtual_border_routers:\n  - { id: vbr-a, region: cn-shanghai, physical_connection: pc-1 }\n  - { id: vbr-b, region: cn-shanghai, physical_connection: pc-2 }\ncens:\n  - { id: cen-1, transit_routers: [{ id: tr-1, region: cn-shanghai, route_tables: [vtb-1] }] }\ntransit_router_attachments:\n  - { id: tr-attach-a, transit_router: tr-1, vbr: vbr-a }\n  - { id: tr-attach-b, transit_router: tr-1, vbr: vbr-b }\nvbr_failover_groups: [{ id: vbrha-1, region: cn-shanghai, vbr: vbr-a, peer_vbr: vbr-b }]\ncen_vbr_health_checks: [{ cen: cen-1, vbr: vbr-a }, { cen: cen-1, vbr: vbr-b }]\n",
        "  - physical_connection: pc-1\n  - physical_connection: pc-2\n",
    );
    let g = c.graph().await;
    let ha = steps_of(&g, "vbrha-1");
    assert_eq!(
        ha.iter().map(|s| (s.1, s.2.as_str())).collect::<Vec<_>>(),
        [
            (Action::Delete, "DeleteVbrHa"),
            (Action::Wait, "DescribeVbrHa")
        ]
    );
    for (att, vbr) in [("tr-attach-a", "vbr-a"), ("tr-attach-b", "vbr-b")] {
        let detach = step_id(&g, att, Action::Delete);
        // The group is waited out before EITHER attachment is deleted.
        assert!(
            before(&g, step_id(&g, "vbrha-1", Action::Wait), detach),
            "{att}"
        );
        let hc = format!("cen-1/{vbr}");
        assert_eq!(
            steps_of(&g, &hc)
                .iter()
                .map(|s| s.2.as_str())
                .collect::<Vec<_>>(),
            ["DisableCenVbrHealthCheck", "DescribeCenVbrHealthCheck"]
        );
        assert!(before(&g, step_id(&g, &hc, Action::Wait), detach), "{hc}");
    }
    let report = c.apply(&g).await;
    assert!(report.complete(), "{:?}", report.counts());
    // Only the CEN's transit router remains (not counted as a resource).
    assert_eq!(c.count(), 0);
}

#[tokio::test(start_paused = true)]
async fn asynchronous_deletes_are_waited_out_before_the_dependent_step() {
    let c = case(
        "timings: { delete_vbr: 20s, delete_router_interface: 20s, delete_bgp: 20s }\nphysical_connections: [{ id: pc-1, region: cn-shanghai }]\nvirtual_border_routers: [{ id: vbr-1, region: cn-shanghai, physical_connection: pc-1 }]\nrouter_interfaces: [{ id: ri-1, region: cn-shanghai, vbr: vbr-1, status: Inactive }]\nbgp_groups: [{ id: bgpg-1, region: cn-shanghai, vbr: vbr-1, peers: [{ id: bgp-1 }] }]\n",
        "  - physical_connection: pc-1\n",
    );
    let g = c.graph().await;
    for (id, api) in [
        ("vbr-1", "DescribeVirtualBorderRouters"),
        ("ri-1", "DescribeRouterInterfaces"),
        ("bgpg-1", "DescribeBgpGroups"),
        ("bgp-1", "DescribeBgpPeers"),
    ] {
        let s = steps_of(&g, id);
        let last = s.last().unwrap();
        assert_eq!(
            (last.1, last.2.as_str(), last.3.as_deref()),
            (Action::Wait, api, Some("gone")),
            "{id}"
        );
    }
    let report = c.apply(&g).await;
    assert!(report.complete(), "{:?}", report.counts());
    // No mutation was refused: every dependent step started after its blocker was gone.
    let rejected: Vec<_> = c
        .emu
        .audit()
        .into_iter()
        .filter(|e| {
            !e.applied && (e.action.starts_with("Delete") || e.action.starts_with("Terminate"))
        })
        .map(|e| e.action)
        .collect();
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(c.count(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_unplanned_blocker_code_fails_at_once_naming_the_blocker() {
    // A MACsec key decom cannot see (the circuit's answer is read before the key is bound:
    // emulated by binding it after discovery) makes Terminate fail with an explanation,
    // not a 10-minute busy loop.
    let c = case(
        "physical_connections: [{ id: pc-1, region: cn-shanghai }]\n",
        "  - physical_connection: pc-1\n",
    );
    let g = c.graph().await;
    let late = case(
        &format!(
            "physical_connections: [{{ id: pc-1, region: cn-shanghai, macsec_keys: [{{ ckn: {KEY_A} }}] }}]\n"
        ),
        "  - physical_connection: pc-1\n",
    );
    let start = tokio::time::Instant::now();
    let report = late.apply(&g).await;
    assert!(start.elapsed() < Duration::from_secs(5));
    let term = report
        .steps
        .iter()
        .find(|s| s.step.action == Action::Terminate)
        .unwrap();
    let Outcome::Failed { code, message, .. } = &term.outcome else {
        panic!("{:?}", term.outcome)
    };
    assert_eq!(code, "OperationDenied.MacsecAttached");
    assert!(
        message.contains("a MACsec key is still bound")
            && message.contains("DisassociateMacSecKey")
            && message.contains("Who can"),
        "{message}"
    );
    assert_eq!(term.attempts, 1);
}
