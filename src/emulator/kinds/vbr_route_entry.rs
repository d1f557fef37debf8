//! Custom routes of VBR route tables (Vpc, blockers.md V2, §2.1): the `vbr_route_entries`
//! world section (each route with its VBR, destination and router-interface next hop),
//! DescribeRouteEntryList and DeleteRouteEntry (`Available` → `Deleting` → gone). A route
//! blocks DeleteRouterInterface on its next hop (`RouterInterfaceReferredByRouteEntry`).
//!
//! Rules [doc, 387400]: only `Available` routes can be deleted (`IncorrectRouteEntryStatus`,
//! the code Terraform retries); one deletion at a time per route table (`OperationConflict`);
//! an unknown route answers `InvalidRouteEntry.NotFound` (Terraform's "gone" code). A VBR's
//! route table id is derived from its id (`vtb-<suffix>`, as DescribeVirtualBorderRouters
//! reports it).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Value, json};

use tokio::time::Instant;

use super::EmulatedKind;
use super::virtual_border_router::route_table_of;
use crate::api::Product::Vpc;
use crate::emulator::ops::{Ctx, Operation, Res, fail, page_of, region_checked};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, World};

/// The actions this kind serves.
const OPERATIONS: &[Operation] = &[
    Operation::read(
        Vpc,
        "DescribeRouteEntryList",
        &["RegionId", "RouteTableId"],
        describe_routes,
    ),
    Operation::mutate(Vpc, "DeleteRouteEntry", &[], delete_route),
];

/// The VBR route-entry kind.
pub struct Kind;

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &["vbr_route_entries"]
    }

    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>) {
        for r in &world.vbr_route_entries {
            cx.id(&r.referenced, &r.value.id, "rte-");
            cx.status(&r.referenced, &r.value.status, STATUSES);
            cx.reference(&r.referenced, "vbr", &r.value.vbr);
            cx.reference(&r.referenced, "next_hop", &r.value.next_hop);
            let on_other = world
                .router_interfaces
                .iter()
                .any(|i| i.value.id == r.value.next_hop && i.value.vbr != r.value.vbr);
            if on_other {
                cx.link_problem(
                    &r.referenced,
                    format!(
                        "next_hop {:?} is not a router interface of {:?}",
                        r.value.next_hop, r.value.vbr
                    ),
                );
            }
        }
    }

    /// A route seeded `Pending` becomes `Available`, one seeded `Deleting` goes, after
    /// `delete_vbr_route_entry` (the only route timing the world has), like a route reaching
    /// those states through calls.
    fn seed(&self, world: &World, st: &mut State, now: Instant) {
        st.vbr_routes = super::by_id(&world.vbr_route_entries, |r| &r.id);
        st.index_vbr_routes();
        let at = now + st.timings.delete_vbr_route_entry.0;
        let seeded: Vec<(String, String)> = st
            .vbr_routes
            .values()
            .map(|r| (r.id.clone(), r.status.clone()))
            .collect();
        for (id, status) in seeded {
            match status.as_str() {
                "Pending" => st.schedule(at, move |st| {
                    if let Some(r) = st.vbr_routes.get_mut(&id) {
                        r.status = "Available".into();
                    }
                }),
                "Deleting" => st.schedule(at, move |st| {
                    st.remove_vbr_route(&id);
                }),
                _ => {}
            }
        }
    }

    fn count(&self, st: &State) -> usize {
        st.vbr_routes.len()
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
}

/// A custom route in a VBR's route table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VbrRouteEntry {
    /// `rte-…`.
    pub id: String,
    /// The VBR whose route table holds it.
    pub vbr: String,
    /// Destination CIDR.
    pub destination: String,
    /// The router interface (of the same VBR) it routes to.
    pub next_hop: String,
    /// `Available` (default), `Pending`, `Deleting`.
    #[serde(default = "available")]
    pub status: String,
}

fn available() -> String {
    "Available".into()
}

const STATUSES: &[&str] = &["Available", "Pending", "Deleting"];

fn route_json(st: &State, r: &VbrRouteEntry) -> Value {
    let region = st
        .vbrs
        .get(&r.vbr)
        .map(|v| v.region.clone())
        .unwrap_or_default();
    json!({
        "RouteEntryId": r.id, "RouteTableId": route_table_of(&r.vbr), "RouteEntryName": "",
        "DestinationCidrBlock": r.destination, "Type": "Custom", "Status": r.status,
        "IpVersion": "ipv4", "Origin": "", "Description": "",
        "NextHops": { "NextHop": [ {
            "NextHopId": r.next_hop, "NextHopType": "RouterInterface", "NextHopRegionId": region,
            "Enabled": 1, "Weight": 100 } ] },
    })
}

/// The VBR whose route table this is, in the request's region.
fn vbr_of_table(
    st: &State,
    ctx: &Ctx<'_>,
    vtb: &str,
) -> Result<String, crate::emulator::ops::Fail> {
    let region = region_checked(st, ctx)?;
    st.vbrs
        .values()
        .find(|v| v.region == region && route_table_of(&v.id) == vtb)
        .map(|v| v.id.clone())
        .ok_or_else(|| {
            fail(
                404,
                "InvalidRouteTableId.NotFound",
                "The specified route table does not exist.",
            )
        })
}

impl State {
    /// The custom routes of a VBR's route table, by id.
    pub fn vbr_routes_of<'a>(&'a self, vbr: &'a str) -> impl Iterator<Item = &'a VbrRouteEntry> {
        debug_assert_eq!(
            self.vbr_routes_by_vbr
                .values()
                .map(BTreeSet::len)
                .sum::<usize>(),
            self.vbr_routes.len(),
            "vbr_routes_by_vbr is out of step with vbr_routes"
        );
        self.vbr_routes_by_vbr
            .get(vbr)
            .into_iter()
            .flatten()
            .filter_map(|id| self.vbr_routes.get(id))
            .filter(move |r| r.vbr == vbr)
    }

    /// (Re)build `vbr_routes_by_vbr` from `vbr_routes`.
    pub fn index_vbr_routes(&mut self) {
        let mut index: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in self.vbr_routes.values() {
            index.entry(r.vbr.clone()).or_default().insert(r.id.clone());
        }
        self.vbr_routes_by_vbr = index;
    }

    /// Remove a custom route, and its entry in `vbr_routes_by_vbr`.
    pub fn remove_vbr_route(&mut self, id: &str) -> Option<VbrRouteEntry> {
        let r = self.vbr_routes.remove(id)?;
        if let Some(ids) = self.vbr_routes_by_vbr.get_mut(&r.vbr) {
            ids.remove(id);
            if ids.is_empty() {
                self.vbr_routes_by_vbr.remove(&r.vbr);
            }
        }
        Some(r)
    }
}

fn describe_routes(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let vtb = ctx.req("RouteTableId")?;
    let vbr = vbr_of_table(st, ctx, vtb)?;
    let max = match ctx.get("MaxResult") {
        None => 10,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                fail(
                    400,
                    "InvalidMaxResult",
                    "The specified MaxResult is invalid.",
                )
            })?,
    };
    let start = match ctx.get("NextToken") {
        None => 0,
        Some(t) => t
            .strip_prefix("nt-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                fail(
                    400,
                    "InvalidNextToken",
                    "The specified NextToken is invalid.",
                )
            })?,
    };
    let kind = ctx.get("RouteEntryType");
    let items = st
        .vbr_routes_of(&vbr)
        .filter(|_| kind.is_none_or(|k| k == "Custom"))
        .filter(|r| ctx.get("RouteEntryId").is_none_or(|id| id == r.id))
        .filter(|r| ctx.get("NextHopId").is_none_or(|h| h == r.next_hop))
        .filter(|r| {
            ctx.get("DestinationCidrBlock")
                .is_none_or(|d| d == r.destination)
        });
    let (total, page) = page_of(items, start, max, |r| route_json(st, r));
    let next = if start.saturating_add(max) < total {
        format!("nt-{}", start + max)
    } else {
        String::new()
    };
    Ok(json!({ "TotalCount": total, "NextToken": next, "RouteEntrys": { "RouteEntry": page } }))
}

fn delete_route(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?.to_string();
    let found = match ctx.get("RouteEntryId") {
        Some(id) => st.vbr_routes.get(id).map(|r| r.id.clone()),
        None => {
            // The second documented form (blockers.md §2.1); none of it is required by the
            // SDK metadata, so each is checked here.
            let need = |k: &str| ctx.get(k).ok_or_else(|| crate::emulator::ops::missing(k));
            let vtb = need("RouteTableId")?;
            let dest = need("DestinationCidrBlock")?;
            let hop = need("NextHopId")?;
            st.vbr_routes
                .values()
                .find(|r| {
                    route_table_of(&r.vbr) == vtb && r.destination == dest && r.next_hop == hop
                })
                .map(|r| r.id.clone())
        }
    };
    let id = found
        .filter(|id| {
            st.vbrs
                .get(&st.vbr_routes[id].vbr)
                .is_some_and(|v| v.region == region)
        })
        .ok_or_else(|| {
            fail(
                400,
                "InvalidRouteEntry.NotFound",
                "The specified route entry does not exist.",
            )
        })?;
    let r = &st.vbr_routes[&id];
    if r.status != "Available" {
        return Err(fail(
            400,
            "IncorrectRouteEntryStatus",
            "The route entry is not in Available status.",
        ));
    }
    let vbr = r.vbr.clone();
    if st.vbr_routes_of(&vbr).any(|o| o.status == "Deleting") {
        return Err(fail(
            400,
            "OperationConflict",
            "Another route entry of this route table is being changed.",
        ));
    }
    let delay = st.timings.delete_vbr_route_entry.0;
    if let Some(r) = st.vbr_routes.get_mut(&id) {
        r.status = "Deleting".into();
    }
    st.schedule(ctx.now + delay, move |st| {
        st.remove_vbr_route(&id);
    });
    Ok(json!({}))
}
