//! Transit-router prefix-list associations (blockers.md §1C T4, §2.3): the
//! `transit_router_prefix_list_associations` world section. A VPC prefix list associated
//! with a TR route table, next hop a TR attachment, generates one route per CIDR of the
//! list in that table (listed by ListTransitRouterRouteEntries without a route id, with
//! `PrefixListId` and `OperationalMode=false`); while it exists, DeleteTransitRouterVbr/
//! VpnAttachment without `Force` is refused (`OperationFailed.RouteEntryExist`, the 4th
//! documented prerequisite). Serves ListTransitRouterPrefixListAssociation (RegionId and
//! TransitRouterId required; page-number paging, flat `PrefixLists[]`) and
//! DeleteTransitRouterPrefixListAssociation.
//!
//! Open question: the delete's asynchrony and codes are not documented. Chose: the
//! association goes `Updating` (the SDK's other status) and disappears after
//! `timings.delete_prefix_list_association`, its routes with it; an unknown association is
//! `InvalidPrefixListAssociation.NotFound` (invented; a `.NotFound` code), one that is
//! `Updating` is `InvalidStatus.PrefixlistAssociation` (the code Terraform retries).

use serde::Deserialize;
use serde_json::{Value, json};

use tokio::time::Instant;

use super::EmulatedKind;
use crate::api::Product::Cbn;
use crate::emulator::ops::{Ctx, Fail, Operation, Res, fail, region_checked};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, World};

/// The actions this kind serves.
const OPERATIONS: &[Operation] = &[
    Operation::read(
        Cbn,
        "ListTransitRouterPrefixListAssociation",
        &["RegionId", "TransitRouterId"],
        list,
    ),
    Operation::mutate(
        Cbn,
        "DeleteTransitRouterPrefixListAssociation",
        &[
            "RegionId",
            "TransitRouterId",
            "TransitRouterTableId",
            "PrefixListId",
            "NextHop",
        ],
        delete,
    ),
];

/// The prefix-list association kind.
pub struct Kind;

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &["transit_router_prefix_list_associations"]
    }

    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>) {
        let mut seen = std::collections::BTreeSet::new();
        for p in &world.transit_router_prefix_list_associations {
            let v = &p.value;
            if !v.prefix_list.starts_with("pl-") {
                cx.problem(
                    &p.referenced,
                    format!("prefix_list {:?} must start with \"pl-\"", v.prefix_list),
                );
            }
            if !seen.insert(key(&v.prefix_list, &v.route_table)) {
                cx.problem(
                    &p.referenced,
                    format!(
                        "prefix list {} is associated with {} twice",
                        v.prefix_list, v.route_table
                    ),
                );
            }
            cx.status(&p.referenced, &v.status, &["Active", "Updating"]);
            cx.reference(&p.referenced, "transit_router", &v.transit_router);
            cx.reference(&p.referenced, "route_table", &v.route_table);
            cx.reference(&p.referenced, "next_hop", &v.next_hop);
        }
    }

    fn seed(&self, world: &World, st: &mut State, _now: Instant) {
        st.prefix_list_associations = world
            .transit_router_prefix_list_associations
            .iter()
            .map(|p| {
                let spec = p.value.clone();
                (
                    key(&spec.prefix_list, &spec.route_table),
                    PrefixListAssociationState { spec },
                )
            })
            .collect();
        let done = tokio::time::Instant::now() + st.timings.delete_prefix_list_association.0;
        let updating: Vec<String> = st
            .prefix_list_associations
            .iter()
            .filter(|(_, p)| p.spec.status == "Updating")
            .map(|(k, _)| k.clone())
            .collect();
        for k in updating {
            st.schedule(done, move |st| {
                if let Some(p) = st.prefix_list_associations.get_mut(&k) {
                    p.spec.status = "Active".into();
                }
            });
        }
    }

    fn count(&self, st: &State) -> usize {
        st.prefix_list_associations.len()
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
}

/// A prefix list associated with a transit-router route table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixListAssociation {
    /// The VPC prefix list (`pl-…`; not itself a resource of the world).
    pub prefix_list: String,
    /// The transit router.
    pub transit_router: String,
    /// The route table (`vtb-…`) of that transit router.
    pub route_table: String,
    /// The next-hop attachment (`tr-attach-…`).
    pub next_hop: String,
    /// `Active` or `Updating` (an `Updating` one turns `Active` after
    /// `timings.delete_prefix_list_association`).
    #[serde(default = "active")]
    pub status: String,
    /// The CIDR blocks of the prefix list: one generated route each.
    #[serde(default = "default_cidrs")]
    pub cidrs: Vec<String>,
}

fn active() -> String {
    "Active".into()
}

fn default_cidrs() -> Vec<String> {
    vec!["10.200.0.0/16".into()]
}

/// A live association.
#[derive(Debug, Clone)]
pub struct PrefixListAssociationState {
    /// As the world defined it (`status` kept current).
    pub spec: PrefixListAssociation,
}

fn key(pl: &str, vtb: &str) -> String {
    format!("{pl}/{vtb}")
}

fn json_of(st: &State, p: &PrefixListAssociation) -> Value {
    let ty = st
        .attachments
        .get(&p.next_hop)
        .map(|a| if a.spec.vbr.is_some() { "VBR" } else { "VPN" })
        .unwrap_or("TR");
    let instance = st
        .attachments
        .get(&p.next_hop)
        .map(|a| a.resource_id().to_string())
        .unwrap_or_default();
    json!({ "PrefixListId": p.prefix_list, "TransitRouterId": p.transit_router,
            "TransitRouterTableId": p.route_table, "NextHop": p.next_hop, "NextHopType": ty,
            "NextHopInstanceId": instance, "OwnerUid": st.account_id.parse::<u64>().unwrap_or(0),
            "Status": p.status })
}

fn router_checked<'a>(st: &State, ctx: &'a Ctx<'_>) -> Result<&'a str, Fail> {
    region_checked(st, ctx)?;
    let tr = ctx.req("TransitRouterId")?;
    let Some((cen, _)) = st.trs.get(tr) else {
        return Err(fail(
            400,
            "InvalidTransitRouterId.NotFound",
            "The specified TransitRouterId is not found.",
        ));
    };
    if st.is_foreign_cen(cen) {
        return Err(fail(
            403,
            "Forbidden.NoPermission",
            "You are not authorized to operate on the specified resource of another account.",
        ));
    }
    Ok(tr)
}

fn list(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let tr = router_checked(st, ctx)?;
    let (number, size) = ctx.page()?;
    let (vtb, pl, next) = (
        ctx.get("TransitRouterTableId"),
        ctx.get("PrefixListId"),
        ctx.get("NextHop"),
    );
    let items: Vec<Value> = st
        .prefix_list_associations
        .values()
        .map(|p| &p.spec)
        .filter(|p| p.transit_router == tr)
        .filter(|p| vtb.is_none_or(|x| x == p.route_table))
        .filter(|p| pl.is_none_or(|x| x == p.prefix_list))
        .filter(|p| next.is_none_or(|x| x == p.next_hop))
        .map(|p| json_of(st, p))
        .collect();
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip((number - 1) * size)
        .take(size)
        .collect();
    Ok(json!({ "PageNumber": number, "PageSize": size, "TotalCount": total, "PrefixLists": page }))
}

fn delete(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let tr = router_checked(st, ctx)?.to_string();
    let pl = ctx.req("PrefixListId")?;
    let vtb = ctx.req("TransitRouterTableId")?;
    let next = ctx.req("NextHop")?;
    let k = key(pl, vtb);
    let delay = st.timings.delete_prefix_list_association.0;
    let Some(p) = st
        .prefix_list_associations
        .get_mut(&k)
        .filter(|p| p.spec.transit_router == tr && p.spec.next_hop == next)
    else {
        return Err(fail(
            400,
            "InvalidPrefixListAssociation.NotFound",
            "The specified prefix list association does not exist.",
        ));
    };
    if p.spec.status != "Active" {
        return Err(fail(
            400,
            "InvalidStatus.PrefixlistAssociation",
            "The prefix list association is being updated.",
        ));
    }
    if ctx.flag("DryRun") {
        return Err(fail(
            400,
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        ));
    }
    p.spec.status = "Updating".into();
    st.schedule(ctx.now + delay, move |st| {
        st.prefix_list_associations.remove(&k);
    });
    Ok(json!({}))
}
