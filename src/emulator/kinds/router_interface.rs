//! Router interfaces on VBRs (`ri-`, alibaba-api.md §3.1–§3.3): the `router_interfaces`
//! world section, DescribeRouterInterfaces, Deactivate/DeleteRouterInterface and the
//! `Active → Deactivating → Inactive` transition.

use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use super::{EmulatedKind, by_id, ids_in};
use crate::api::Product::Vpc;
use crate::emulator::ops::{CREATED, Ctx, Fail, Operation, Res, fail, paged, pass, region_checked};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, World};

/// The actions this kind serves, with the parameters each requires (the official SDKs
/// metadata; a request without one is refused like the API gateway does).
const OPERATIONS: &[Operation] = &[
    Operation::read(Vpc, "DescribeRouterInterfaces", &["RegionId"], describe_ris),
    Operation::mutate(
        Vpc,
        "DeactivateRouterInterface",
        &["RegionId", "RouterInterfaceId"],
        deactivate_ri,
    ),
    Operation::mutate(
        Vpc,
        "DeleteRouterInterface",
        &["RegionId", "RouterInterfaceId"],
        delete_ri,
    ),
];

/// The router-interface kind.
pub struct Kind;

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &["router_interfaces"]
    }

    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>) {
        for r in &world.router_interfaces {
            cx.id(&r.referenced, &r.value.id, "ri-");
            cx.region(&r.referenced, &r.value.region);
            cx.status(&r.referenced, &r.value.status, RI_STATUSES);
            cx.reference(&r.referenced, "vbr", &r.value.vbr);
        }
    }

    /// `Deactivating` → `Inactive` and `Activating` → `Active`, both after
    /// `deactivate_router_interface`.
    fn seed(&self, world: &World, st: &mut State, now: Instant) {
        st.ris = by_id(&world.router_interfaces, |r| &r.id);
        let at = now + st.timings.deactivate_router_interface.0;
        for (from, to) in [("Deactivating", "Inactive"), ("Activating", "Active")] {
            for id in ids_in(&st.ris, |r| &r.status, from) {
                st.schedule(at, move |st| set_status(st, &id, to));
            }
        }
    }

    fn count(&self, st: &State) -> usize {
        st.ris.len()
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
}

/// A router interface on a VBR.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterInterface {
    /// `ri-…`.
    pub id: String,
    /// Region.
    pub region: String,
    /// The VBR (router) it belongs to.
    pub vbr: String,
    /// `Idle`, `Active`, `Inactive`, `Activating`, `Deactivating`.
    #[serde(default = "active_cap")]
    pub status: String,
    /// `PostPaid` or `PrePaid` (prepaid ones cannot be deleted).
    #[serde(default = "postpaid")]
    pub charge_type: String,
    /// Overdue bills (blocks deactivation).
    #[serde(default)]
    pub financial_locked: bool,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Opposite router id (e.g. a VPC router).
    #[serde(default)]
    pub opposite_router: String,
}

fn active_cap() -> String {
    "Active".into()
}

fn postpaid() -> String {
    "PostPaid".into()
}

/// Statuses the world may give a router interface (alibaba-api.md §3.1).
const RI_STATUSES: &[&str] = &[
    "Idle",
    "Active",
    "Inactive",
    "Activating",
    "Deactivating",
    "Deleting",
];

/// Set a router interface's status (the end of a transition).
fn set_status(st: &mut State, id: &str, status: &str) {
    if let Some(r) = st.ris.get_mut(id) {
        r.status = status.to_string();
    }
}

fn describe_ris(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let page = ctx.page()?;
    let f = ctx.filters()?;
    let items = st
        .ris
        .values()
        .filter(|r| r.region == region)
        .filter(|r| {
            pass(&f, "RouterInterfaceId", &r.id)
                && pass(&f, "RouterId", &r.vbr)
                && pass(&f, "RouterType", "VBR")
        })
        .filter(|r| pass(&f, "Status", &r.status) && pass(&f, "Name", &r.name));
    Ok(paged(
        items,
        page,
        "RouterInterfaceSet",
        "RouterInterfaceType",
        |r| {
            json!({ "RouterInterfaceId": r.id, "RouterId": r.vbr, "RouterType": "VBR", "Role": "InitiatingSide",
                    "Status": r.status, "ChargeType": if r.charge_type == "PrePaid" { "PrePaid" } else { "AfterPay" },
                    "BusinessStatus": if r.financial_locked { "FinancialLocked" } else { "Normal" },
                    "OppositeRouterId": r.opposite_router, "OppositeRouterType": "VRouter", "Name": r.name,
                    "CreationTime": CREATED, "Spec": "Large.2" })
        },
    ))
}

fn ri_lookup(st: &State, ctx: &Ctx<'_>) -> Result<String, Fail> {
    let region = region_checked(st, ctx)?;
    let id = ctx.req("RouterInterfaceId")?;
    st.ris
        .get(id)
        .filter(|r| r.region == region)
        .map(|r| r.id.clone())
        .ok_or_else(|| {
            fail(
                404,
                "InvalidRouterInterfaceId.NotFound",
                "The specified RouterInterfaceId does not exist in our record.",
            )
        })
}

fn deactivate_ri(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let id = ri_lookup(st, ctx)?;
    let delay = st.timings.deactivate_router_interface.0;
    let r = st.ris.get_mut(&id).expect("looked up");
    if r.financial_locked {
        return Err(fail(
            400,
            "Forbidden.FinancialLocked",
            "This RouterInterface is financiel locked because of bills outstanding.",
        ));
    }
    if r.status != "Active" {
        return Err(fail(
            400,
            "IncorrectRIStatus",
            "RouterInterface can be operated by this action only when it's status is Active.",
        ));
    }
    r.status = "Deactivating".into();
    st.schedule(ctx.now + delay, move |st| set_status(st, &id, "Inactive"));
    Ok(json!({}))
}

fn delete_ri(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let id = ri_lookup(st, ctx)?;
    let r = &st.ris[&id];
    if r.charge_type == "PrePaid" {
        return Err(fail(
            500,
            "InvalidRouterInterfaceChargeType.Malformed",
            "The prepaid routerinterface can not delete.",
        ));
    }
    if !["Idle", "Inactive"].contains(&r.status.as_str()) {
        // `Deleting` too: a repeated delete is refused like any other state.
        return Err(fail(
            400,
            "InvalidInstance.StatusError",
            "The router instance status error.",
        ));
    }
    if st.vbr_routes.values().any(|e| e.next_hop == id) {
        return Err(fail(
            400,
            "RouterInterfaceReferredByRouteEntry",
            "Router interface referred by route entry.",
        ));
    }
    // Asynchronous (Terraform waits for it to be gone): `Deleting`, then gone.
    let delay = st.timings.delete_router_interface.0;
    set_status(st, &id, "Deleting");
    st.schedule(ctx.now + delay, move |st| {
        st.ris.remove(&id);
    });
    Ok(json!({}))
}
