//! Issue 11, part A: every blocker of a circuit and a VBR that hangs off the VBR — a further
//! circuit, an Express Connect Router, a Basic-Edition CEN, routes via its router
//! interfaces, BGP networks, NQA — discovered and removed in order, or explained. Each test:
//! an emulator world and a plan; the plan (human preview) shows the blocker and its steps or
//! why it is blocked; apply (in-process, paused clock) leaves nothing behind, or touches
//! nothing that is blocked.

use std::collections::BTreeSet;
use std::time::Duration;

use decom::api::{ClientConfig, Endpoints, ReadClient, RetryPolicy, SignatureVersion, WriteClient};
use decom::emulator::Emulator;
use decom::emulator::world::World;
use decom::exec::{self, Options};
use decom::graph::{Disposition, Graph};
use decom::model::Action;

use crate::support::HEADER;

fn config(emu: &Emulator, retry: RetryPolicy) -> ClientConfig {
    ClientConfig {
        endpoints: Endpoints::parse_override("http://127.0.0.1").unwrap(),
        credentials: emu.credentials().into(),
        signature: SignatureVersion::V3,
        retry,
    }
}

struct Run {
    emu: Emulator,
    reader: ReadClient,
    plan: decom::plan::Plan,
    graph: Graph,
    preview: String,
}

async fn plan(world: &str, targets: &str, policy: &str) -> Run {
    let world =
        World::parse("w.yaml", &format!("{HEADER}{world}")).unwrap_or_else(|e| panic!("{e}"));
    let emu = Emulator::new(world);
    let reader = ReadClient::new(config(&emu, RetryPolicy::default()), emu.transport());
    let text = format!(
        "version: 1\nname: t\naccount: \"1234567890123456\"\nregion: cn-shanghai\npolicy:\n{policy}\ntargets:\n{targets}"
    );
    let plan = decom::plan::parse("t.yaml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let inv = decom::discover::discover(&reader, &plan).await.unwrap();
    let graph = decom::graph::build(&plan, &inv).unwrap();
    let preview = decom::render::human(&graph, false);
    Run {
        emu,
        reader,
        plan,
        graph,
        preview,
    }
}

impl Run {
    /// Apply the graph; every step must succeed. Returns the mutations the emulator applied.
    async fn apply(&self) -> Vec<(String, Vec<(String, String)>)> {
        let writer = WriteClient::new(config(&self.emu, RetryPolicy::none()), self.emu.transport());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let (_stop, stop_rx) = tokio::sync::watch::channel(false);
        let opts = Options {
            poll_initial: Duration::from_millis(200),
            poll_max: Duration::from_secs(1),
            retry_initial: Duration::from_millis(200),
            retry_max: Duration::from_secs(1),
            ..Options::default()
        };
        let report = exec::run(
            writer,
            &self.graph,
            opts,
            &Default::default(),
            None,
            tx,
            stop_rx,
        )
        .await;
        drain.await.unwrap();
        let failed: Vec<_> = report
            .steps
            .iter()
            .filter(|s| !s.outcome.is_success())
            .map(|s| (s.step.action, &s.step.resource, &s.outcome))
            .collect();
        assert!(failed.is_empty(), "{failed:?}\n{}", self.preview);
        self.emu
            .audit()
            .into_iter()
            .filter(|e| e.applied)
            .map(|e| (e.action, e.params.into_iter().collect()))
            .collect()
    }

    /// After apply: a fresh plan has nothing left to do.
    async fn nothing_left(&self) {
        let inv = decom::discover::discover(&self.reader, &self.plan)
            .await
            .unwrap();
        let again = decom::graph::build(&self.plan, &inv).unwrap();
        assert!(
            again.steps.is_empty(),
            "left: {}",
            decom::render::human(&again, false)
        );
    }

    fn entry(&self, id: &str) -> &decom::graph::Entry {
        self.graph
            .entries
            .iter()
            .find(|e| e.id == id)
            .unwrap_or_else(|| panic!("no {id} in\n{}", self.preview))
    }

    fn blocked(&self, id: &str) -> String {
        match &self.entry(id).disposition {
            Disposition::Blocked { why } => why.clone(),
            other => panic!("{id} is {other:?}\n{}", self.preview),
        }
    }

    /// The (action, resource) pairs of the steps, in execution order.
    fn steps(&self) -> Vec<(Action, String)> {
        self.graph
            .steps
            .iter()
            .map(|s| (s.action, s.resource.clone()))
            .collect()
    }

    /// Position of a step.
    fn at(&self, action: Action, resource: &str) -> usize {
        self.graph
            .steps
            .iter()
            .position(|s| s.action == action && s.resource == resource)
            .unwrap_or_else(|| panic!("no {action} {resource} in\n{}", self.preview))
    }

    /// `a` runs (transitively) after `b`.
    fn after(&self, a: usize, b: usize) -> bool {
        let mut todo = vec![a];
        let mut seen = BTreeSet::new();
        while let Some(s) = todo.pop() {
            if s == b {
                return true;
            }
            if seen.insert(s) {
                todo.extend(self.graph.steps[s].depends_on.iter().copied());
            }
        }
        false
    }
}

fn touched(applied: &[(String, Vec<(String, String)>)], id: &str) -> bool {
    applied.iter().any(|(_, p)| p.iter().any(|(_, v)| v == id))
}

const CASCADE: &str = "  cascade: true";

// ---------------------------------------------------------------------------------------
// Item 4: a route on a router interface (the first failing input).

const ROUTED: &str = "physical_connections:
  - { id: pc-1, region: cn-shanghai, status: Enabled }
virtual_border_routers:
  - { id: vbr-1, region: cn-shanghai, physical_connection: pc-1 }
router_interfaces:
  - { id: ri-1, region: cn-shanghai, vbr: vbr-1, status: Active }
vbr_route_entries:
  - { id: rte-1, vbr: vbr-1, destination: 192.168.0.0/16, next_hop: ri-1 }
  - { id: rte-2, vbr: vbr-1, destination: 172.16.0.0/12, next_hop: ri-1 }
";

#[tokio::test(start_paused = true)]
async fn a_route_via_a_router_interface_is_deleted_before_the_interface_is_deactivated() {
    let run = plan(ROUTED, "  - virtual_border_router: vbr-1\n", CASCADE).await;
    assert_eq!(run.graph.summary(), (4, 0, 0), "{}", run.preview);
    assert!(
        run.preview.contains("rte-1 routes via ri-1"),
        "{}",
        run.preview
    );
    assert!(run.preview.contains("DeleteRouteEntry"), "{}", run.preview);
    let deactivate = run.at(Action::Deactivate, "ri-1");
    for rte in ["rte-1", "rte-2"] {
        let gone = run
            .graph
            .steps
            .iter()
            .position(|s| s.action == Action::Wait && s.resource == rte)
            .unwrap();
        assert!(run.after(deactivate, gone), "{}", run.preview);
    }
    // One route at a time per route table.
    let (d1, d2) = (
        run.at(Action::Delete, "rte-1"),
        run.at(Action::Delete, "rte-2"),
    );
    assert!(run.after(d2, d1) || run.after(d1, d2), "{}", run.preview);
    run.apply().await;
    run.nothing_left().await;
    assert!(
        run.emu
            .with_state(|st| st.vbrs.is_empty() && st.ris.is_empty() && st.vbr_routes.is_empty())
    );
}

#[tokio::test(start_paused = true)]
async fn a_route_that_cannot_be_removed_keeps_its_interface_active() {
    // The route is protected: the interface, the VBR and the circuit are blocked in plan,
    // and apply deactivates nothing (before: deactivated, then failed on the route).
    let run = plan(
        ROUTED,
        "  - physical_connection: pc-1\n",
        "  cascade: true\n  protect:\n    ids: [rte-1]",
    )
    .await;
    assert!(run.graph.steps.is_empty(), "{}", run.preview);
    let why = run.blocked("pc-1");
    assert!(why.contains("rte-1 is protected"), "{why}");
    let applied = run.apply().await;
    assert!(applied.is_empty(), "{applied:?}");
    assert!(run.emu.with_state(|st| st.ris["ri-1"].status == "Active"));
}

#[test]
fn the_route_on_router_interface_input_plans_the_route_with_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let world = crate::plan::write(dir.path(), "w.yaml", &format!("{HEADER}{ROUTED}"));
    let plan = crate::plan::write(
        dir.path(),
        "p.yaml",
        "version: 1\nname: routed\naccount: \"1234567890123456\"\nregion: cn-shanghai\npolicy:\n  cascade: true\ntargets:\n  - virtual_border_router: vbr-1\n",
    );
    let out = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin("decom"))
        .env_clear()
        .env("HOME", dir.path())
        .arg("plan")
        .arg(&plan)
        .arg("--emulator")
        .arg(&world)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("4 changes (4 deletions)")
            && text.contains("rte-1")
            && text.contains("DeleteRouteEntry"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// Item 1: Express Connect Router.

const ECR: &str = "physical_connections:
  - { id: pc-1, region: cn-shanghai, status: Enabled }
  - { id: pc-2, region: cn-shanghai, status: Enabled }
virtual_border_routers:
  - { id: vbr-1, region: cn-shanghai, physical_connection: pc-1 }
  - { id: vbr-2, region: cn-shanghai, physical_connection: pc-2 }
express_connect_routers:
  - { id: ecr-1, vbrs: [{ vbr: vbr-1 }] }
  - { id: ecr-9, owner: \"9876543210987654\", vbrs: [{ vbr: vbr-2 }] }
";

#[tokio::test(start_paused = true)]
async fn a_vbr_on_an_express_connect_router_is_detached_first_or_blocked_naming_the_owner() {
    let run = plan(
        ECR,
        "  - physical_connection: pc-1\n  - physical_connection: pc-2\n",
        CASCADE,
    )
    .await;
    assert!(
        run.preview
            .contains("DetachExpressConnectRouterChildInstance"),
        "{}",
        run.preview
    );
    // Detach, wait until the ECR no longer lists it, then delete the VBR.
    assert!(run.after(
        run.at(Action::Wait, "ecr-1/vbr-1"),
        run.at(Action::Detach, "ecr-1/vbr-1")
    ));
    let delete = run.at(Action::Delete, "vbr-1");
    assert!(
        run.after(delete, run.at(Action::Wait, "ecr-1/vbr-1")),
        "{}",
        run.preview
    );
    let why = run.blocked("pc-2");
    assert!(
        why.contains("ecr-9") && why.contains("9876543210987654"),
        "{why}"
    );
    let applied = run.apply().await;
    assert!(
        !touched(&applied, "vbr-2") && !touched(&applied, "pc-2"),
        "{applied:?}"
    );
    run.emu.with_state(|st| {
        assert!(!st.vbrs.contains_key("vbr-1"));
        assert!(st.ecr_of("vbr-1").is_none() && st.ecr_of("vbr-2").is_some());
    });
}

// ---------------------------------------------------------------------------------------
// Item 2: a VBR on several circuits.

const TWO_CIRCUITS: &str = "physical_connections:
  - { id: pc-a, region: cn-shanghai, status: Enabled }
  - { id: pc-b, region: cn-shanghai, status: Enabled }
  - { id: pc-c, region: cn-shanghai, status: Enabled }
  - { id: pc-d, region: cn-shanghai, status: Enabled }
  - { id: pc-e, region: cn-shanghai, status: Enabled }
  - { id: pc-f, region: cn-shanghai, status: Enabled }
virtual_border_routers:
  - { id: vbr-ab, region: cn-shanghai, physical_connection: pc-a, associated_physical_connections: [pc-b] }
  - { id: vbr-cd, region: cn-shanghai, physical_connection: pc-c, associated_physical_connections: [pc-d] }
  - { id: vbr-ef, region: cn-shanghai, physical_connection: pc-e, associated_physical_connections: [pc-f] }
router_interfaces:
  - { id: ri-ab, region: cn-shanghai, vbr: vbr-ab, status: Active }
";

#[tokio::test(start_paused = true)]
async fn a_circuit_a_kept_vbr_also_rides_is_unassociated_and_the_vbr_stays() {
    // pc-b retired, pc-a kept: unassociate vbr-ab from pc-b; vbr-ab and its interface stay.
    // pc-c retired but it is vbr-cd's own circuit while pc-d is kept: blocked.
    // pc-e and pc-f both retired: vbr-ef leaves pc-f, is deleted, both circuits go.
    let run = plan(
        TWO_CIRCUITS,
        "  - physical_connection: pc-b\n  - physical_connection: pc-c\n  - physical_connection: pc-e\n  - physical_connection: pc-f\n",
        CASCADE,
    )
    .await;
    assert!(
        run.preview.contains("vbr-ab stays on pc-a"),
        "{}",
        run.preview
    );
    assert!(
        !run.steps()
            .iter()
            .any(|(_, r)| r == "vbr-ab" || r == "ri-ab"),
        "{}",
        run.preview
    );
    assert!(run.after(
        run.at(Action::Wait, "vbr-ab/pc-b"),
        run.at(Action::Unassociate, "vbr-ab/pc-b")
    ));
    let term = run.at(Action::Terminate, "pc-b");
    assert!(
        run.after(term, run.at(Action::Wait, "vbr-ab/pc-b")),
        "{}",
        run.preview
    );
    let why = run.blocked("pc-c");
    assert!(
        why.contains("vbr-cd was created on pc-c") && why.contains("pc-d"),
        "{why}"
    );
    let un_f = run.at(Action::Unassociate, "vbr-ef/pc-f");
    assert!(
        run.after(run.at(Action::Delete, "vbr-ef"), un_f),
        "{}",
        run.preview
    );
    assert!(
        run.after(run.at(Action::Terminate, "pc-f"), un_f),
        "{}",
        run.preview
    );
    let applied = run.apply().await;
    assert!(
        !touched(&applied, "pc-c") && !touched(&applied, "vbr-cd"),
        "{applied:?}"
    );
    run.nothing_left().await;
    run.emu.with_state(|st| {
        let ab = &st.vbrs["vbr-ab"];
        assert!(ab.associated_physical_connections.is_empty());
        assert_eq!(st.ris["ri-ab"].status, "Active");
        assert!(!st.vbrs.contains_key("vbr-ef"));
        assert!(st.vbrs.contains_key("vbr-cd"));
    });
}

#[tokio::test(start_paused = true)]
async fn vbr_details_come_by_circuit_and_a_vbr_on_a_further_circuit_by_id() {
    // pc-a carries eleven own VBRs and another account's active one; vbr-cb rides pc-b as a
    // further circuit (its own circuit pc-c stays). The details of the twelve VBRs of pc-a
    // come from one listing filtered by the two circuits (not three by id); vbr-cb, which
    // that filter (primary circuit only) does not return, is asked by id — nothing is lost.
    let mut world = String::from(
        "physical_connections:
  - { id: pc-a, region: cn-shanghai, status: Enabled }
  - { id: pc-b, region: cn-shanghai, status: Enabled }
  - { id: pc-c, region: cn-shanghai, status: Enabled }
virtual_border_routers:
  - { id: vbr-x, region: cn-shanghai, physical_connection: pc-a, owner: \"9999999999999999\", status: active }
  - { id: vbr-cb, region: cn-shanghai, physical_connection: pc-c, associated_physical_connections: [pc-b] }
",
    );
    for i in 0..11 {
        world.push_str(&format!(
            "  - {{ id: vbr-a{i:02}, region: cn-shanghai, physical_connection: pc-a, name: a{i} }}\n"
        ));
    }
    let run = plan(
        &world,
        "  - physical_connection: pc-a\n  - physical_connection: pc-b\n",
        CASCADE,
    )
    .await;
    let calls = run.reader.call_counts();
    assert_eq!(
        calls["DescribeVirtualBorderRoutersForPhysicalConnection"], 2,
        "{calls:?}"
    );
    assert_eq!(calls["DescribeVirtualBorderRouters"], 2, "{calls:?}");
    let inv = decom::discover::discover(&run.reader, &run.plan)
        .await
        .unwrap();
    let vbrs: Vec<&decom::discover::Resource> = inv
        .of_kind(decom::model::Kind::VirtualBorderRouter)
        .collect();
    // vbr-cb is not a VBR to delete: its association with pc-b is the blocker.
    assert_eq!(vbrs.len(), 12, "{vbrs:?}");
    assert!(
        inv.get(decom::model::Kind::VbrCircuitAssociation, "vbr-cb/pc-b")
            .is_some()
    );
    for v in &vbrs {
        // Details (route table, name) for every VBR, other accounts' included.
        assert!(!v.fact("route_table").is_empty(), "{v:?}");
    }
    let x = inv
        .get(decom::model::Kind::VirtualBorderRouter, "vbr-x")
        .unwrap();
    assert_eq!(x.owner.as_deref(), Some("9999999999999999"));
    assert_eq!(
        inv.get(decom::model::Kind::VirtualBorderRouter, "vbr-a03")
            .unwrap()
            .name,
        "a3"
    );
    // vbr-cb stays on pc-c: only its association with pc-b goes.
    assert!(
        run.preview.contains("vbr-cb stays on pc-c"),
        "{}",
        run.preview
    );
    run.at(Action::Unassociate, "vbr-cb/pc-b");
    assert!(run.blocked("pc-a").contains("vbr-x"), "{}", run.preview);
}

// ---------------------------------------------------------------------------------------
// Item 3: Basic-Edition CEN.

const BASIC_CEN: &str = "physical_connections:
  - { id: pc-1, region: cn-shanghai, status: Enabled }
  - { id: pc-2, region: cn-shanghai, status: Enabled }
virtual_border_routers:
  - { id: vbr-1, region: cn-shanghai, physical_connection: pc-1 }
  - { id: vbr-2, region: cn-shanghai, physical_connection: pc-2 }
cens:
  - { id: cen-basic }
  - { id: cen-partner }
cen_child_instances:
  - { cen: cen-basic, vbr: vbr-1 }
  - { cen: cen-partner, vbr: vbr-2, cen_owner: \"9876543210987654\" }
";

#[tokio::test(start_paused = true)]
async fn a_vbr_on_a_basic_cen_is_detached_first_or_blocked_naming_the_owner() {
    let run = plan(
        BASIC_CEN,
        "  - physical_connection: pc-1\n  - physical_connection: pc-2\n",
        CASCADE,
    )
    .await;
    assert!(
        run.preview.contains("DetachCenChildInstance"),
        "{}",
        run.preview
    );
    let detach = run.at(Action::Detach, "cen-basic/vbr-1");
    assert!(
        run.after(
            run.at(Action::Delete, "vbr-1"),
            run.at(Action::Wait, "cen-basic/vbr-1")
        ),
        "{}",
        run.preview
    );
    // No ClientToken: the API has none.
    assert!(run.graph.steps[detach].client_token.is_none());
    let why = run.blocked("pc-2");
    assert!(
        why.contains("cen-partner") && why.contains("9876543210987654"),
        "{why}"
    );
    let applied = run.apply().await;
    assert!(!touched(&applied, "vbr-2"), "{applied:?}");
    run.emu.with_state(|st| {
        assert!(!st.vbrs.contains_key("vbr-1") && st.cen_children.len() == 1);
    });
}

// ---------------------------------------------------------------------------------------
// Item 5: BGP networks and NQA.

const NETWORKS: &str = "physical_connections:
  - { id: pc-1, region: cn-shanghai, status: Enabled }
virtual_border_routers:
  - { id: vbr-1, region: cn-shanghai, physical_connection: pc-1 }
bgp_networks:
  - { vbr: vbr-1, destination: 10.10.0.0/16 }
  - { vbr: vbr-1, destination: 10.20.0.0/16 }
nqas:
  - { id: nqa-1, vbr: vbr-1, destination_ip: 10.0.0.9 }
";

#[tokio::test(start_paused = true)]
async fn bgp_networks_and_nqa_go_before_their_vbr_or_block_it_without_cascade() {
    let strict = plan(
        NETWORKS,
        "  - virtual_border_router: vbr-1\n",
        "  cascade: false",
    )
    .await;
    let why = strict.blocked("vbr-1");
    assert!(
        why.contains("vbr-1/10.10.0.0/16") && why.contains("nqa-1"),
        "{why}"
    );
    assert!(strict.graph.steps.is_empty());

    let run = plan(NETWORKS, "  - physical_connection: pc-1\n", CASCADE).await;
    assert!(
        run.preview.contains("DeleteBgpNetwork") && run.preview.contains("DeleteNqa"),
        "{}",
        run.preview
    );
    let delete_vbr = run.at(Action::Delete, "vbr-1");
    for r in ["vbr-1/10.10.0.0/16", "vbr-1/10.20.0.0/16", "nqa-1"] {
        assert!(
            run.after(delete_vbr, run.at(Action::Delete, r)),
            "{}",
            run.preview
        );
    }
    run.apply().await;
    run.nothing_left().await;
    run.emu.with_state(|st| {
        assert!(st.vbrs.is_empty() && st.bgp_networks.is_empty() && st.nqas.is_empty());
    });
}

#[tokio::test]
async fn associations_of_a_few_attachments_in_big_route_tables_are_asked_per_attachment() {
    // Three VBRs of pc-a are attached to tr-1, whose two tables hold 301 associations
    // (vtb-big: two of ours, 299 of other attachments) and one (vtb-small). Page 1 of each
    // table (2 calls) shows 7 + 1 pages: the 6 pages left are more than the 3 attachments,
    // so their associations are asked per attachment (3 calls: 5 in all, not 8), and all
    // three are found.
    let mut world = String::from(
        "physical_connections:
  - { id: pc-a, region: cn-shanghai, status: Terminated }
  - { id: pc-z, region: cn-shanghai }
cens:
  - id: cen-1
    transit_routers:
      - { id: tr-1, region: cn-shanghai, route_tables: [vtb-big, vtb-small] }
virtual_border_routers:
",
    );
    let mut atts = String::from("transit_router_attachments:\n");
    for i in 0..3 {
        world.push_str(&format!(
            "  - {{ id: vbr-a{i}, region: cn-shanghai, physical_connection: pc-a }}\n"
        ));
        let table = if i == 2 { "vtb-small" } else { "vtb-big" };
        atts.push_str(&format!(
            "  - {{ id: tr-attach-a{i}, transit_router: tr-1, vbr: vbr-a{i}, associations: [{table}] }}\n"
        ));
    }
    for i in 0..299 {
        world.push_str(&format!(
            "  - {{ id: vbr-z{i:03}, region: cn-shanghai, physical_connection: pc-z }}\n"
        ));
        atts.push_str(&format!(
            "  - {{ id: tr-attach-z{i:03}, transit_router: tr-1, vbr: vbr-z{i:03}, associations: [vtb-big] }}\n"
        ));
    }
    world.push_str(&atts);
    let run = plan(&world, "  - physical_connection: pc-a\n", CASCADE).await;
    let calls = run.reader.call_counts();
    assert_eq!(
        calls["ListTransitRouterRouteTableAssociations"], 5,
        "{calls:?}"
    );
    for (i, table) in [(0, "vtb-big"), (1, "vtb-big"), (2, "vtb-small")] {
        run.at(Action::Dissociate, &format!("tr-attach-a{i}/{table}"));
    }
}
