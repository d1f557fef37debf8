//! The registry is complete: every world section belongs to a kind, every action decom
//! knows is served once, as the same product and with the same access.

use std::collections::BTreeSet;

use super::{KINDS, operations};
use crate::api::actions::{ACTIONS, Access};
use crate::emulator::world::World;
use serde_json::Value;

/// The world file's top-level keys, read from the loader's own "unknown field" message.
fn world_keys() -> BTreeSet<String> {
    let err = World::parse(
        "w.yaml",
        "account_id: \"1\"\naccess_keys: []\nregions: []\nnot_a_section: 1\n",
    )
    .unwrap_err();
    let message = &err.problems[0].message;
    let expected = message
        .split("expected one of")
        .nth(1)
        .unwrap_or_else(|| panic!("no field list in {message:?}"));
    expected
        .split(',')
        .map(|k| k.trim().trim_matches('`').to_string())
        .filter(|k| !k.is_empty())
        .collect()
}

#[test]
fn every_world_section_belongs_to_exactly_one_kind() {
    const GLOBAL: &[&str] = &[
        "account_id",
        "access_keys",
        "regions",
        "timings",
        "rate_limits",
        "faults",
        // STS roles and OIDC providers: read by the STS front (`emulator::sts`), not a kind.
        "sts",
    ];
    let mut claimed = BTreeSet::new();
    for kind in KINDS {
        for section in kind.sections() {
            assert!(
                claimed.insert(section.to_string()),
                "{section} claimed twice"
            );
        }
    }
    let sections: BTreeSet<String> = world_keys()
        .into_iter()
        .filter(|k| !GLOBAL.contains(&k.as_str()))
        .collect();
    assert_eq!(sections, claimed);
}

#[test]
fn every_known_action_is_served_once_with_its_product_and_access() {
    let mut seen = BTreeSet::new();
    for op in operations() {
        assert!(
            seen.insert((op.product, op.action)),
            "{} {} registered twice",
            op.product,
            op.action
        );
    }
    // STS (identity, role assumption) is answered by the STS front before dispatch.
    let sts = ACTIONS
        .iter()
        .filter(|i| i.product == crate::api::Product::Sts && crate::emulator::sts::knows(i.name))
        .count();
    for info in ACTIONS {
        if info.product == crate::api::Product::Sts && crate::emulator::sts::knows(info.name) {
            continue;
        }
        let op = crate::emulator::ops::lookup(info.product, info.name)
            .unwrap_or_else(|| panic!("{} is not emulated", info.name));
        assert_eq!(op.mutates, info.access == Access::Mutate, "{}", info.name);
    }
    assert_eq!(
        seen.len() + sts,
        ACTIONS.len(),
        "the emulator serves only known actions"
    );
}

#[test]
fn link_entries_are_an_id_or_an_id_with_a_status() {
    const HEAD: &str = "account_id: \"1\"\naccess_keys: [{ id: K, secret: S }]\nregions: [r]\ncens: [{ id: cen-1, transit_routers: [{ id: tr-1, region: r, route_tables: [vtb-1, vtb-2] }] }]\nvpn_connections: [{ id: vco-1, region: r }]\ntransit_router_attachments:\n";
    let ok = World::parse(
        "w.yaml",
        &format!("{HEAD}  - {{ id: tr-attach-1, transit_router: tr-1, vpn_connection: vco-1, associations: [vtb-1, {{ route_table: vtb-2, status: dissociating }}], propagations: [{{ route_table: vtb-1 }}] }}\n"),
    )
    .unwrap();
    let a = &ok.transit_router_attachments[0].value;
    assert_eq!(a.associations[0], "vtb-1".into());
    assert_eq!(a.associations[1].status(), "dissociating");
    assert_eq!(a.propagations[0].status(), "Active");

    let bad = World::parse(
        "w.yaml",
        &format!("{HEAD}  - {{ id: tr-attach-1, transit_router: tr-1, vpn_connection: vco-1, associations: [{{ route_table: vtb-2, status: Enabling }}], propagations: [{{ route_table: vtb-9, status: Disabling }}] }}\n"),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        bad,
        "w.yaml:7:5: status \"Enabling\" is not one of Active, Associating, Dissociating\nw.yaml:7:5: route table \"vtb-9\" is not defined in this world"
    );
    let unknown = World::parse(
        "w.yaml",
        &format!("{HEAD}  - {{ id: tr-attach-1, transit_router: tr-1, vpn_connection: vco-1, associations: [{{ route_table: vtb-2, colour: red }}] }}\n"),
    )
    .unwrap_err();
    assert!(unknown.problems[0].message.contains("colour"), "{unknown}");
    assert_eq!(unknown.problems[0].line, 7, "{unknown}");
}

/// Every served action's required parameters are the official SDKs' (the contract file
/// generated from them, `tests/data/api-contract.json`).
#[test]
fn required_parameters_match_the_api_contract() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/api-contract.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("{} is absent: contract check skipped", path.display());
        return;
    };
    let contract: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut mismatches = Vec::new();
    for op in operations() {
        let entry = &contract["operations"][op.action];
        assert!(
            entry.is_object(),
            "{} is served but not in the contract",
            op.action
        );
        assert_eq!(
            entry["product"].as_str(),
            Some(op.product.to_string().as_str()),
            "{}",
            op.action
        );
        // Legacy operations (NQA) come from metadata without required flags.
        if entry["legacy"].as_bool() == Some(true) {
            continue;
        }
        let want: BTreeSet<&str> = entry["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no required list", op.action))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let have: BTreeSet<&str> = op.required.iter().copied().collect();
        if want != have {
            mismatches.push(format!(
                "{}: emulator {have:?}, contract {want:?}",
                op.action
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Calls the read-only `action` of `product` on `st` with `RegionId` and `extra` parameters.
fn call(
    st: &mut crate::emulator::state::State,
    product: crate::api::Product,
    action: &str,
    extra: &[(&str, &str)],
) -> Value {
    let op = crate::emulator::ops::lookup(product, action).unwrap();
    let mut params: Vec<(String, String)> = vec![(
        "RegionId".into(),
        crate::emulator::worldgen::REGIONS[0].into(),
    )];
    params.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let ctx = crate::emulator::ops::Ctx {
        params: &params,
        now: tokio::time::Instant::now(),
        required: op.required,
    };
    (op.handler)(st, &ctx).unwrap()
}

/// A world with a few dozen of each listed kind.
fn paging_world() -> crate::emulator::state::State {
    use crate::emulator::worldgen;
    let shape = worldgen::Shape {
        circuits: 40,
        tr_ipsec: 40,
        ..worldgen::Shape::default()
    };
    crate::emulator::state::State::new(&worldgen::instant(worldgen::generate(3, &shape)))
}

/// Page N of a filtered listing, served one page at a time, holds the items (and the
/// `TotalCount`) of the same slice of the whole listing.
#[test]
fn pages_of_a_filtered_listing_cut_the_whole_listing() {
    use crate::api::Product::Vpc;
    let mut st = paging_world();
    // (action, filter parameters, path to the listed items)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case<'_>; 3] = [
        (
            "DescribeVirtualBorderRouters",
            &[("Filter.1.Key", "Status"), ("Filter.1.Value.1", "active")],
            &["VirtualBorderRouterSet", "VirtualBorderRouterType"],
        ),
        (
            "DescribeVpnConnections",
            &[],
            &["VpnConnections", "VpnConnection"],
        ),
        ("DescribeVpnAttachments", &[], &["VpnAttachments"]),
    ];
    for (action, filter, path) in cases {
        let list = |v: &Value| path.iter().fold(v.clone(), |v, k| v[k].clone());
        let mut all = filter.to_vec();
        all.push(("PageSize", "50"));
        let whole = call(&mut st, Vpc, action, &all);
        let items = list(&whole).as_array().unwrap().clone();
        let total = whole["TotalCount"].as_u64().unwrap() as usize;
        assert!(total > 7 && total <= 50, "{action}: {total} items");
        assert_eq!(items.len(), total);
        for number in 1..=total.div_ceil(7) + 1 {
            let n = number.to_string();
            let mut p = filter.to_vec();
            p.extend([("PageSize", "7"), ("PageNumber", n.as_str())]);
            let page = call(&mut st, Vpc, action, &p);
            assert_eq!(page["TotalCount"].as_u64(), Some(total as u64));
            let want: Vec<Value> = items
                .iter()
                .skip((number - 1) * 7)
                .take(7)
                .cloned()
                .collect();
            assert_eq!(list(&page), Value::Array(want), "{action} page {number}");
        }
    }
}

/// DescribeVpnAttachments lists the TR-bound connections with an attachment (not deleted),
/// each with the transit router of its first attachment, as `attachment_of_vpn` finds it.
#[test]
fn vpn_attachments_name_the_transit_router_of_each_connection() {
    let mut st = paging_world();
    let region = crate::emulator::worldgen::REGIONS[0];
    let want: Vec<(String, String)> = st
        .vpn_connections
        .values()
        .filter(|c| c.region == region && st.is_tr_bound(c))
        .filter(|c| c.state.as_deref() != Some("deleted"))
        .filter_map(|c| {
            let a = st.attachment_of_vpn(&c.id)?;
            Some((c.id.clone(), a.spec.transit_router.clone()))
        })
        .collect();
    assert!(want.len() > 7);
    let got = call(
        &mut st,
        crate::api::Product::Vpc,
        "DescribeVpnAttachments",
        &[("PageSize", "50")],
    );
    let got: Vec<(String, String)> = got["VpnAttachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["InstanceId"].as_str().unwrap().to_string(),
                a["TransitRouterId"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
}

/// The attachment index answers what a scan of every attachment did, before and after
/// attachments go.
#[test]
fn the_attachment_index_answers_like_a_scan() {
    let mut st = paging_world();
    let check = |st: &crate::emulator::state::State| {
        for v in st.vbrs.keys() {
            let indexed: Vec<&str> = st
                .attachments_of_vbr(v)
                .map(|a| a.spec.id.as_str())
                .collect();
            let scanned: Vec<&str> = st
                .attachments
                .values()
                .filter(|a| a.spec.vbr.as_deref() == Some(v.as_str()))
                .map(|a| a.spec.id.as_str())
                .collect();
            assert_eq!(indexed, scanned, "{v}");
        }
        for c in st.vpn_connections.keys() {
            let scanned = st
                .attachments
                .values()
                .find(|a| a.spec.vpn_connection.as_deref() == Some(c.as_str()));
            assert_eq!(
                st.attachment_of_vpn(c).map(|a| &a.spec.id),
                scanned.map(|a| &a.spec.id),
                "{c}"
            );
        }
    };
    check(&st);
    assert!(st.attachments.len() > 20);
    let ids: Vec<String> = st.attachments.keys().step_by(2).cloned().collect();
    for id in ids {
        assert!(st.remove_attachment(&id).is_some());
        assert!(st.remove_attachment(&id).is_none());
    }
    check(&st);
}

/// The route index answers what a scan of every VBR route did, before and after routes go.
#[test]
fn the_vbr_route_index_answers_like_a_scan() {
    let mut st = paging_world();
    let check = |st: &crate::emulator::state::State| {
        for v in st.vbrs.keys() {
            let indexed: Vec<&str> = st.vbr_routes_of(v).map(|r| r.id.as_str()).collect();
            let scanned: Vec<&str> = st
                .vbr_routes
                .values()
                .filter(|r| r.vbr == *v)
                .map(|r| r.id.as_str())
                .collect();
            assert_eq!(indexed, scanned, "{v}");
        }
    };
    check(&st);
    assert!(!st.vbr_routes.is_empty());
    let ids: Vec<String> = st.vbr_routes.keys().step_by(2).cloned().collect();
    for id in ids {
        assert!(st.remove_vbr_route(&id).is_some());
        assert!(st.remove_vbr_route(&id).is_none());
    }
    check(&st);
}

/// DescribeVirtualBorderRouters filtered by ids (looked up, not scanned) answers the VBRs of
/// the region and account with those ids, in id order, each once.
#[test]
fn vbrs_named_by_id_are_listed_like_a_scan_finds_them() {
    let mut st = paging_world();
    let region = crate::emulator::worldgen::REGIONS[0];
    let all: Vec<String> = st.vbrs.keys().cloned().collect();
    // Every third VBR (both regions), in reverse, one twice, and one that does not exist.
    let mut named: Vec<String> = all.iter().step_by(3).rev().cloned().collect();
    named.push(named[0].clone());
    named.push("vbr-nonexistent".into());
    let named = &named[..5];
    let keys: Vec<String> = (1..=named.len())
        .map(|i| format!("Filter.1.Value.{i}"))
        .collect();
    let mut params: Vec<(&str, &str)> = vec![("Filter.1.Key", "VbrId"), ("PageSize", "50")];
    params.extend(
        keys.iter()
            .map(String::as_str)
            .zip(named.iter().map(String::as_str)),
    );
    let got = call(
        &mut st,
        crate::api::Product::Vpc,
        "DescribeVirtualBorderRouters",
        &params,
    );
    let got: Vec<&str> = got["VirtualBorderRouterSet"]["VirtualBorderRouterType"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["VbrId"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = st
        .vbrs
        .values()
        .filter(|v| v.region == region && v.owner.is_none())
        .filter(|v| named.contains(&v.id))
        .map(|v| v.id.as_str())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
}
