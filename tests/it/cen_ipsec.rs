//! Issue 12 with the real binary against the emulator: IPsec connections under the wrong
//! kind and in every state (unbound, transitional, financially locked), prefix-list
//! associations and routes without ids, asynchronous route deletes, and VBRs attached to
//! another account's CEN. Each: a world and a plan, the preview, and an apply that leaves
//! nothing behind (or, blocked, touches nothing).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cli::Served;
use crate::plan::write;
use crate::support::HEADER;

const FAST: [&str; 4] = ["--poll-interval", "200ms", "--max-interval", "1s"];

const TIMINGS: &str = "timings:\n  detach_attachment: 300ms\n  dissociate: 200ms\n  disable_propagation: 200ms\n  vpn_gateway_update: 200ms\n  delete_route_entry: 300ms\n  delete_prefix_list_association: 300ms\n  vpn_connection_settle: 500ms\n";

/// IPsec connections: one bound to a transit router, one on a gateway, one unbound
/// (its attachment already gone), one `updating`, one `financialLocked`.
const IPSEC_WORLD: &str = r#"
cens:
  - id: cen-ipsec1
    transit_routers:
      - { id: tr-ipsec1, region: cn-shanghai, route_tables: [vtb-ipsec1] }
vpn_gateways:
  - { id: vpn-gw1, region: cn-shanghai }
vpn_connections:
  - { id: vco-trbound1, region: cn-shanghai, name: tr-bound }
  - { id: vco-gateway1, region: cn-shanghai, vpn_gateway: vpn-gw1, name: on-gateway }
  - { id: vco-unbound1, region: cn-shanghai, name: unbound }
  - { id: vco-busy1, region: cn-shanghai, state: updating }
  - { id: vco-locked1, region: cn-shanghai, state: financialLocked }
transit_router_attachments:
  - { id: tr-attach-vpn1, transit_router: tr-ipsec1, vpn_connection: vco-trbound1, associations: [vtb-ipsec1] }
"#;

/// A VBR attachment with everything that routes via it: an association, a propagation (a
/// propagated route), a custom route (deletable, asynchronous), a system route, and a
/// prefix-list association generating two routes.
const ROUTES_WORLD: &str = r#"
physical_connections:
  - { id: pc-routes1, region: cn-shanghai, status: Enabled }
virtual_border_routers:
  - { id: vbr-routes1, region: cn-shanghai, physical_connection: pc-routes1 }
cens:
  - id: cen-routes1
    transit_routers:
      - { id: tr-routes1, region: cn-shanghai, route_tables: [vtb-routes1, vtb-routes2] }
transit_router_attachments:
  - { id: tr-attach-routes1, transit_router: tr-routes1, vbr: vbr-routes1, associations: [vtb-routes1], propagations: [vtb-routes1] }
transit_router_route_entries:
  - { id: rte-custom1, route_table: vtb-routes2, destination: 10.1.0.0/16, next_hop: tr-attach-routes1 }
  - { id: rte-system1, route_table: vtb-routes1, destination: 10.9.0.0/16, next_hop: tr-attach-routes1, system: true }
transit_router_prefix_list_associations:
  - { prefix_list: pl-routes1, transit_router: tr-routes1, route_table: vtb-routes2, next_hop: tr-attach-routes1, cidrs: [10.50.0.0/16, 10.51.0.0/16] }
"#;

/// Three own VBRs: on another account's CEN (owner reported), on another account's CEN
/// (owner hidden: the listing is refused), and on an own CEN.
const CROSS_WORLD: &str = r#"
physical_connections:
  - { id: pc-cross1, region: cn-shanghai, status: Enabled }
virtual_border_routers:
  - { id: vbr-cross1, region: cn-shanghai, physical_connection: pc-cross1 }
  - { id: vbr-cross2, region: cn-shanghai, physical_connection: pc-cross1 }
  - { id: vbr-cross3, region: cn-shanghai, physical_connection: pc-cross1 }
cens:
  - id: cen-own1
    transit_routers:
      - { id: tr-own1, region: cn-shanghai, route_tables: [vtb-own1] }
  - id: cen-other1
    owner: "9876543210987654"
    transit_routers:
      - { id: tr-other1, region: cn-shanghai, route_tables: [vtb-other1] }
  - id: cen-hidden1
    owner: "9876543210987654"
    owner_visible: false
    transit_routers:
      - { id: tr-hidden1, region: cn-shanghai, route_tables: [vtb-hidden1] }
transit_router_attachments:
  - { id: tr-attach-cross1, transit_router: tr-other1, vbr: vbr-cross1 }
  - { id: tr-attach-cross2, transit_router: tr-hidden1, vbr: vbr-cross2 }
  - { id: tr-attach-cross3, transit_router: tr-own1, vbr: vbr-cross3, associations: [vtb-own1] }
"#;

fn world(dir: &Path, body: &str) -> PathBuf {
    write(dir, "world.yaml", &format!("{HEADER}{TIMINGS}{body}"))
}

fn plan_file(dir: &Path, name: &str, cascade: bool, targets: &str) -> PathBuf {
    write(
        dir,
        name,
        &format!(
            "version: 1\nname: {name}\nregion: cn-shanghai\npolicy:\n  cascade: {cascade}\ntargets:\n{targets}"
        ),
    )
}

/// `decom plan --output json` against a served emulator: (exit code, JSON or Null, stderr).
fn plan_json(served: &Served, home: &Path, plan: &Path) -> (i32, Value, String) {
    let out = served
        .decom(home)
        .arg("plan")
        .arg(plan)
        .args(["--output", "json"])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn human(served: &Served, home: &Path, plan: &Path) -> String {
    let out = served.decom(home).arg("plan").arg(plan).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn apply(served: &Served, home: &Path, plan: &Path) -> std::process::Output {
    served
        .decom(home)
        .arg("apply")
        .arg(plan)
        .arg("--yes")
        .arg("--state-dir")
        .arg(home.join("state"))
        .args(FAST)
        .output()
        .unwrap()
}

fn entry<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {v:#}"))
}

fn step_apis(v: &Value, id: &str) -> Vec<String> {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["resource"] == id)
        .map(|s| {
            format!(
                "{} {}",
                s["action"].as_str().unwrap(),
                s["api"].as_str().unwrap()
            )
        })
        .collect()
}

fn applied(served: &Served) -> usize {
    served
        .audit()
        .iter()
        .filter(|e| e["applied"] == true)
        .count()
}

fn api(served: &Served, home: &Path, args: &[&str]) -> (bool, Value) {
    let out = served.decom(home).arg("api").args(args).output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.success(), v)
}

#[test]
fn an_ipsec_connection_named_under_the_wrong_kind_is_refused_naming_the_right_one() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(world(dir.path(), IPSEC_WORLD).to_str().unwrap());
    let plan = plan_file(
        dir.path(),
        "wrong-kind.yaml",
        true,
        "  - vpn_connection: vco-trbound1\n  - vpn_attachment: vco-gateway1\n  - vpn_connection: vco-unbound1\n",
    );
    let (code, _, stderr) = plan_json(&served, dir.path(), &plan);
    assert_eq!(code, 1, "{stderr}");
    for want in [
        "write the target as `vpn_attachment: vco-trbound1`",
        "write the target as `vpn_connection: vco-gateway1`",
        "write the target as `vpn_attachment: vco-unbound1`",
        "not bound to a transit router",
        "plan line",
    ] {
        assert!(stderr.contains(want), "{want:?} not in {stderr}");
    }
    assert!(!stderr.contains("already gone"), "{stderr}");
    // apply refuses the same way and changes nothing.
    let out = apply(&served, dir.path(), &plan);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(applied(&served), 0);
    // The connections still exist.
    for id in ["vco-trbound1", "vco-gateway1", "vco-unbound1"] {
        let (ok, _) = api(
            &served,
            dir.path(),
            &[
                "DescribeVpnConnection",
                "RegionId=cn-shanghai",
                &format!("VpnConnectionId={id}"),
            ],
        );
        assert!(ok, "{id} is gone");
    }
}

#[test]
fn unbound_and_transitional_ipsec_connections_are_deleted_with_delete_vpn_attachment() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(world(dir.path(), IPSEC_WORLD).to_str().unwrap());
    let plan = plan_file(
        dir.path(),
        "unbound.yaml",
        true,
        "  - vpn_attachment: vco-unbound1\n  - vpn_attachment: vco-busy1\n  - vpn_attachment: vco-trbound1\n  - vpn_connection: vco-gateway1\n",
    );
    let (code, v, stderr) = plan_json(&served, dir.path(), &plan);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(v["summary"]["already_gone"], 0, "{v:#}");
    assert_eq!(entry(&v, "vco-unbound1")["status"], "init");
    assert_eq!(
        step_apis(&v, "vco-unbound1"),
        ["delete DeleteVpnAttachment"]
    );
    assert_eq!(entry(&v, "vco-busy1")["status"], "updating");
    assert_eq!(
        step_apis(&v, "vco-busy1"),
        ["wait DescribeVpnConnection", "delete DeleteVpnAttachment"]
    );
    let text = human(&served, dir.path(), &plan);
    assert!(text.contains("vco-unbound1"), "{text}");
    assert!(text.contains("not bound to a transit router"), "{text}");
    let out = apply(&served, dir.path(), &plan);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, left) = api(
        &served,
        dir.path(),
        &["DescribeVpnConnections", "RegionId=cn-shanghai"],
    );
    let ids: Vec<&str> = left["VpnConnections"]["VpnConnection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["VpnConnectionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["vco-locked1"], "{left:#}");
    // A rerun has nothing to do.
    let (code, v, _) = plan_json(&served, dir.path(), &plan);
    assert_eq!((code, &v["summary"]["destroy"]), (0, &Value::from(0)));
}

#[test]
fn a_financially_locked_ipsec_connection_is_blocked_and_nothing_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(world(dir.path(), IPSEC_WORLD).to_str().unwrap());
    let plan = plan_file(
        dir.path(),
        "locked.yaml",
        true,
        "  - vpn_attachment: vco-locked1\n",
    );
    let (code, v, _) = plan_json(&served, dir.path(), &plan);
    assert_eq!(code, 1);
    let e = entry(&v, "vco-locked1");
    assert_eq!(e["disposition"], "blocked");
    assert!(
        e["why"].as_str().unwrap().contains("settle the bill"),
        "{e:#}"
    );
    assert_eq!(apply(&served, dir.path(), &plan).status.code(), Some(1));
    assert_eq!(applied(&served), 0);
}

#[test]
fn prefix_list_associations_are_removed_first_and_routes_without_ids_never_become_steps() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(world(dir.path(), ROUTES_WORLD).to_str().unwrap());
    let plan = plan_file(
        dir.path(),
        "routes.yaml",
        true,
        "  - transit_router_vbr_attachment: tr-attach-routes1\n",
    );
    let (code, v, stderr) = plan_json(&served, dir.path(), &plan);
    assert_eq!(code, 0, "{stderr}");
    // No step on a route without an id.
    for s in v["steps"].as_array().unwrap() {
        assert!(!s["resource"].as_str().unwrap().is_empty(), "{s:#}");
    }
    let pl = entry(&v, "pl-routes1/vtb-routes2");
    assert_eq!(pl["disposition"], "destroy");
    assert!(pl["reason"].as_str().unwrap().contains("tr-attach-routes1"));
    assert_eq!(
        step_apis(&v, "pl-routes1/vtb-routes2"),
        [
            "delete DeleteTransitRouterPrefixListAssociation",
            "wait ListTransitRouterPrefixListAssociation"
        ]
    );
    assert_eq!(
        step_apis(&v, "rte-custom1"),
        [
            "delete DeleteTransitRouterRouteEntry",
            "wait ListTransitRouterRouteEntries"
        ]
    );
    let steps = v["steps"].as_array().unwrap();
    let reason = |id: &str, action: &str| {
        steps
            .iter()
            .find(|s| s["resource"] == id && s["action"] == action)
            .map(|s| s["reason"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {action} {id}"))
    };
    // The preview says what withdraws the routes without ids.
    assert!(reason("pl-routes1/vtb-routes2", "delete").contains("10.50.0.0/16, 10.51.0.0/16"));
    assert!(
        reason("tr-attach-routes1/vtb-routes1", "disable_propagation").contains("172.16."),
        "{}",
        reason("tr-attach-routes1/vtb-routes1", "disable_propagation")
    );
    assert!(reason("tr-attach-routes1", "delete").contains("10.9.0.0/16 in vtb-routes1"));
    let text = human(&served, dir.path(), &plan);
    assert!(text.contains("pl-routes1/vtb-routes2"), "{text}");
    let out = apply(&served, dir.path(), &plan);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, pls) = api(
        &served,
        dir.path(),
        &[
            "ListTransitRouterPrefixListAssociation",
            "RegionId=cn-shanghai",
            "TransitRouterId=tr-routes1",
        ],
    );
    assert_eq!(pls["TotalCount"], 0, "{pls:#}");
    for vtb in ["vtb-routes1", "vtb-routes2"] {
        let (_, routes) = api(
            &served,
            dir.path(),
            &[
                "ListTransitRouterRouteEntries",
                &format!("TransitRouterRouteTableId={vtb}"),
                "TransitRouterRouteEntryStatus=All",
            ],
        );
        assert_eq!(
            routes["TransitRouterRouteEntries"].as_array().map(Vec::len),
            Some(0),
            "{routes:#}"
        );
    }
    let (_, atts) = api(
        &served,
        dir.path(),
        &[
            "ListTransitRouterVbrAttachments",
            "TransitRouterId=tr-routes1",
        ],
    );
    assert_eq!(
        atts["TransitRouterAttachments"].as_array().map(Vec::len),
        Some(0)
    );
}

#[test]
fn without_cascade_a_prefix_list_association_is_named_and_nothing_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(world(dir.path(), ROUTES_WORLD).to_str().unwrap());
    let plan = plan_file(
        dir.path(),
        "routes-nocascade.yaml",
        false,
        "  - transit_router_vbr_attachment: tr-attach-routes1\n",
    );
    let (code, v, _) = plan_json(&served, dir.path(), &plan);
    assert_eq!(code, 1);
    let e = entry(&v, "tr-attach-routes1");
    let why = e["why"].as_str().unwrap();
    assert!(
        why.contains("pl-routes1/vtb-routes2 routes a prefix list via tr-attach-routes1"),
        "{why}"
    );
    assert_eq!(apply(&served, dir.path(), &plan).status.code(), Some(1));
    assert_eq!(applied(&served), 0);
}

#[test]
fn a_vbr_on_another_accounts_cen_is_blocked_with_its_owner_and_discovery_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(world(dir.path(), CROSS_WORLD).to_str().unwrap());
    let plan = plan_file(
        dir.path(),
        "cross.yaml",
        true,
        "  - virtual_border_router: vbr-cross1\n  - virtual_border_router: vbr-cross2\n  - virtual_border_router: vbr-cross3\n",
    );
    let (code, v, stderr) = plan_json(&served, dir.path(), &plan);
    assert_eq!(code, 1, "{stderr}");
    let why1 = entry(&v, "vbr-cross1")["why"].as_str().unwrap().to_string();
    assert!(
        why1.contains("cen-other1, which belongs to account 9876543210987654"),
        "{why1}"
    );
    assert!(why1.contains("DeleteTransitRouterVbrAttachment"), "{why1}");
    let why2 = entry(&v, "vbr-cross2")["why"].as_str().unwrap().to_string();
    assert!(why2.contains("cen-hidden1"), "{why2}");
    assert!(why2.contains("Forbidden.NoPermission"), "{why2}");
    // The own CEN's attachment was discovered despite the refused listing.
    assert_eq!(entry(&v, "vbr-cross3")["disposition"], "destroy");
    assert_eq!(entry(&v, "tr-attach-cross3")["disposition"], "destroy");
    // Blocked: apply touches nothing.
    assert_eq!(apply(&served, dir.path(), &plan).status.code(), Some(1));
    assert_eq!(applied(&served), 0);
    // The own VBR alone applies.
    let own = plan_file(
        dir.path(),
        "cross-own.yaml",
        true,
        "  - virtual_border_router: vbr-cross3\n",
    );
    let out = apply(&served, dir.path(), &own);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, vbrs) = api(
        &served,
        dir.path(),
        &["DescribeVirtualBorderRouters", "RegionId=cn-shanghai"],
    );
    let left: Vec<&str> = vbrs["VirtualBorderRouterSet"]["VirtualBorderRouterType"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["VbrId"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["vbr-cross1", "vbr-cross2"]);
}
