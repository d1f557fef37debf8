//! Virtual border router (`vbr-`, Vpc): DescribeVirtualBorderRouters (with
//! `IncludeCrossAccountVbr`), DescribeVirtualBorderRoutersForPhysicalConnection (owners),
//! DeleteVirtualBorderRouter (alibaba-api.md §2). Found as the blocker of a circuit; blocked
//! by its router interfaces, BGP groups and TR attachments; another account's VBR can only
//! be deleted by that account (unless it is still `unconfirmed`).

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Discovery, Kind, KindSpec, ListQuery, Listing, PollScope, StepSpec, absent_ok, concurrently, per_region,
    listed_by_ids, no_call,
};
use crate::api::ops::vpc;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{DiscoverError, Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The VBR kind.
pub struct Spec;

/// Circuits in one region above which VBRs are listed region-wide rather than per circuit.
const REGION_WIDE_CIRCUITS: usize = 10;

/// A VBR as discovery records it (parent: its circuit). Facts: `cens` (associated CENs)
/// and `cen_owners` (`cen=owner,…`), `route_table`, `circuits` (every circuit it rides,
/// its primary first), `ecr` / `ecr_owner` / `ecr_status` (its Express Connect Router).
pub fn resource(region: &str, v: &vpc::VirtualBorderRouter) -> Resource {
    let mut r = Resource::new(Kind::VirtualBorderRouter, &v.vbr_id, region);
    r.name = v.name.clone();
    r.status = v.status.to_ascii_lowercase();
    r.tags = v.tags.clone();
    r.parent = Some(v.physical_connection_id.clone());
    let cens: Vec<String> = v.cens().map(|c| c.cen_id.clone()).collect();
    if !cens.is_empty() {
        r.facts.insert("cens".into(), cens.join(","));
    }
    r.facts
        .insert("route_table".into(), v.route_table_id.clone());
    let circuits = v.physical_connection_ids();
    if circuits.len() > 1 {
        r.facts.insert("circuits".into(), circuits.join(","));
    }
    if !v.ecr_id.is_empty() {
        r.facts.insert("ecr".into(), v.ecr_id.clone());
        r.facts.insert("ecr_owner".into(), v.ecr_owner_id.clone());
        r.facts
            .insert("ecr_status".into(), v.ecr_attach_status.clone());
    }
    let owners: Vec<String> = v
        .cens()
        .filter(|c| !c.cen_owner_id.is_empty())
        .map(|c| format!("{}={}", c.cen_id, c.cen_owner_id))
        .collect();
    if !owners.is_empty() {
        r.facts.insert("cen_owners".into(), owners.join(","));
    }
    r
}

/// The details (DescribeVirtualBorderRouters, every account's) of the VBRs `missing`, found
/// on the circuits `pcs` of `region` by the per-circuit calls, in the fewer calls: by VBR id
/// (5 per call), or, when the circuits take fewer calls, filtered by the circuits (5 per
/// call) and then by id for what that left out. The `PhysicalConnectionId` filter matches a
/// VBR's primary circuit (the docs do not say it also matches
/// `AssociatedPhysicalConnections`; the emulator does not): a VBR that rides one of `pcs` as
/// a further circuit is asked by id.
async fn details_of(
    c: &ReadClient,
    region: &str,
    missing: Vec<String>,
    pcs: Vec<String>,
) -> Result<Vec<vpc::VirtualBorderRouter>, CallError> {
    let by_id = |vbr_ids: Vec<String>| vpc::VbrFilter {
        vbr_ids,
        include_cross_account: true,
        ..Default::default()
    };
    if pcs.is_empty() || pcs.len().div_ceil(5) >= missing.len().div_ceil(5) {
        return vpc::describe_virtual_border_routers(c, region, &by_id(missing)).await;
    }
    let f = vpc::VbrFilter {
        physical_connection_ids: pcs,
        include_cross_account: true,
        ..Default::default()
    };
    let wanted: BTreeSet<String> = missing.into_iter().collect();
    let mut got: Vec<vpc::VirtualBorderRouter> = vpc::describe_virtual_border_routers(c, region, &f)
        .await?
        .into_iter()
        .filter(|v| wanted.contains(&v.vbr_id))
        .collect();
    let seen: BTreeSet<&str> = got.iter().map(|v| v.vbr_id.as_str()).collect();
    let rest: Vec<String> = wanted
        .iter()
        .filter(|id| !seen.contains(id.as_str()))
        .cloned()
        .collect();
    if !rest.is_empty() {
        got.extend(vpc::describe_virtual_border_routers(c, region, &by_id(rest)).await?);
    }
    Ok(got)
}

/// Record the details of a VBR the per-circuit calls named: its owner and the circuit it
/// was found on stay as those calls gave them.
fn with_details(inv: &mut Found<'_>, region: &str, v: &vpc::VirtualBorderRouter) {
    let mut r = resource(region, v);
    if let Some(old) = inv.get(Kind::VirtualBorderRouter, &v.vbr_id) {
        r.owner = old.owner.clone();
        if old.parent.is_some() {
            r.parent = old.parent.clone();
        }
    }
    inv.insert(r);
}

/// The owners of the CENs a VBR reports (`cen_owners` fact: `AssociatedCens[].CenOwnerId`).
pub fn cen_owners(r: &Resource) -> BTreeMap<String, String> {
    r.fact("cen_owners")
        .split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(c, o)| (c.to_string(), o.to_string()))
        .collect()
}

/// The caller's own VBRs in the inventory, by region (other accounts' VBRs are deleted as a
/// whole by their owner, or not at all: their blockers are not discovered).
pub fn own_by_region(inv: &Inventory) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in inv
        .of_kind(Kind::VirtualBorderRouter)
        .filter(|r| r.owner.is_none())
    {
        out.entry(r.region.clone()).or_default().push(r.id.clone());
    }
    out
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "virtual_border_router"
    }
    fn id_prefix(&self) -> &'static str {
        "vbr-"
    }
    fn product(&self) -> Product {
        Product::Vpc
    }
    fn regional(&self) -> bool {
        true
    }
    fn targetable(&self) -> bool {
        true
    }
    fn link_keys(&self) -> &'static [&'static str] {
        &["physical_connection"]
    }

    fn list<'a>(
        &'a self,
        cx: &'a Discovery,
        q: ListQuery<'a>,
    ) -> BoxFuture<'a, Result<Vec<Resource>, DiscoverError>> {
        Box::pin(async move {
            let f = vpc::VbrFilter {
                vbr_ids: q.ids.to_vec(),
                physical_connection_ids: q.matcher.physical_connection.iter().cloned().collect(),
                include_cross_account: true,
                ..Default::default()
            };
            Ok(vpc::describe_virtual_border_routers(&cx.client, q.region, &f)
                .await?
                .iter()
                .map(|v| resource(q.region, v))
                .collect())
        })
    }

    fn find_by_ids<'a>(
        &'a self,
        cx: &'a Discovery,
        q: ListQuery<'a>,
        ids: Vec<String>,
    ) -> BoxFuture<'a, Result<Vec<Resource>, DiscoverError>> {
        Box::pin(listed_by_ids(self, cx, q, ids))
    }

    /// The VBRs on circuits, other accounts' included, and the owners of VBR targets.
    /// Few circuits in a region: DescribeVirtualBorderRoutersForPhysicalConnection per
    /// circuit (it names each VBR's owner, and every VBR on the circuit, further circuits'
    /// included). Many: two
    /// region-wide listings of VBRs, without and with IncludeCrossAccountVbr (the
    /// difference is other accounts' VBRs), and the per-circuit call only for circuits that
    /// carry another account's VBR (for the owner's id). Then names, tags and CENs of every
    /// VBR found without them ([`details_of`]: by id, or by circuit when that is fewer calls).
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let client = &cx.client;
            let mut pcs_by_region: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            // Circuits, and the hosted connections the caller runs on its circuits (their
            // tenants' VBRs block them).
            let circuits = inv
                .of_kind(Kind::PhysicalConnection)
                .chain(inv.of_kind(Kind::HostedConnection));
            for r in circuits {
                pcs_by_region
                    .entry(r.region.clone())
                    .or_default()
                    .insert(r.id.clone());
            }
            let mut per_pc: BTreeSet<(String, String)> = BTreeSet::new();
            for r in inv.of_kind(Kind::VirtualBorderRouter) {
                // The circuit of a VBR target, to learn the VBR's owner (its siblings are not
                // added).
                if let Some(pc) = &r.parent {
                    per_pc.insert((r.region.clone(), pc.clone()));
                }
            }
            // Regions with many circuits: both region-wide listings, every region at once.
            let wide: BTreeMap<String, BTreeSet<String>> = pcs_by_region
                .iter()
                .filter(|(_, pcs)| pcs.len() > REGION_WIDE_CIRCUITS)
                .map(|(r, pcs)| (r.clone(), pcs.clone()))
                .collect();
            for (region, pcs) in &pcs_by_region {
                if pcs.len() <= REGION_WIDE_CIRCUITS {
                    per_pc.extend(pcs.iter().map(|pc| (region.clone(), pc.clone())));
                }
            }
            let listed = per_region(cx, wide, |c, region, _| async move {
                let own_filter = vpc::VbrFilter::default();
                let all_filter = vpc::VbrFilter {
                    include_cross_account: true,
                    ..Default::default()
                };
                let (own, all) = futures_util::future::join(
                    vpc::describe_virtual_border_routers(&c, &region, &own_filter),
                    vpc::describe_virtual_border_routers(&c, &region, &all_filter),
                )
                .await;
                Ok((own?, all?))
            })
            .await?;
            for (region, pcs, (own, all)) in listed {
                let own: BTreeSet<String> = own.into_iter().map(|v| v.vbr_id).collect();
                for v in all {
                    let on_ours = v
                        .physical_connection_ids()
                        .into_iter()
                        .find(|pc| pcs.contains(*pc));
                    let Some(pc) = on_ours else { continue };
                    let mut r = resource(&region, &v);
                    r.parent = Some(pc.to_string());
                    if !own.contains(&v.vbr_id) {
                        r.owner = Some("another account".into());
                        // The owner's id only matters when decom cannot delete the VBR (it is
                        // not `unconfirmed`): then the plan names who can.
                        if !r.status.eq_ignore_ascii_case("unconfirmed") {
                            per_pc.insert((region.clone(), pc.to_string()));
                        }
                    }
                    inv.insert(r);
                }
            }
            let c = client.clone();
            let on_pcs = concurrently(
                per_pc.into_iter().collect(),
                move |(region, pc): (String, String)| {
                    let c = c.clone();
                    async move {
                        let list = absent_ok(
                            vpc::describe_virtual_border_routers_for_physical_connection(
                                &c, &region, &pc,
                            )
                            .await,
                        )?
                        .unwrap_or_default();
                        Ok((region, pc, list))
                    }
                },
            )
            .await?;
            let mut vbrs_needing_details: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (region, pc, list) in on_pcs {
                let pc_known = inv.get(Kind::PhysicalConnection, &pc).is_some()
                    || inv.get(Kind::HostedConnection, &pc).is_some();
                for v in list {
                    if !pc_known && inv.get(Kind::VirtualBorderRouter, &v.vbr_id).is_none() {
                        continue;
                    }
                    let account = inv.account.clone();
                    let foreign = account
                        .as_deref()
                        .is_some_and(|a| !v.vbr_owner_uid.is_empty() && v.vbr_owner_uid != a);
                    let entry = inv.entry(Kind::VirtualBorderRouter, &v.vbr_id, &region);
                    entry.status = v.status.to_ascii_lowercase();
                    entry.parent = Some(pc.clone());
                    if foreign {
                        entry.owner = Some(v.vbr_owner_uid.clone());
                    }
                    // Names and tags (for protect rules) of every VBR, other accounts'
                    // included (IncludeCrossAccountVbr shows them to the circuit owner).
                    vbrs_needing_details
                        .entry(region.clone())
                        .or_default()
                        .push(v.vbr_id.clone());
                }
            }
            // Circuits of regions not listed whole whose per-circuit call named VBRs: their
            // details may come by circuit instead of by VBR id.
            let mut circuits_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (region, pcs) in &pcs_by_region {
                if pcs.len() <= REGION_WIDE_CIRCUITS {
                    for pc in pcs {
                        if inv.children(Kind::VirtualBorderRouter, pc).next().is_some() {
                            circuits_of
                                .entry(region.clone())
                                .or_default()
                                .insert(pc.clone());
                        }
                    }
                }
            }
            let mut details: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
            for (region, ids) in vbrs_needing_details {
                let missing: Vec<String> = ids
                    .into_iter()
                    .filter(|id| {
                        inv.get(Kind::VirtualBorderRouter, id)
                            .is_none_or(|r| !r.facts.contains_key("route_table"))
                    })
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if !missing.is_empty() {
                    let pcs = circuits_of.remove(&region).unwrap_or_default();
                    details.insert(region, (missing, pcs.into_iter().collect()));
                }
            }
            let listed = per_region(cx, details, |c, region, (missing, pcs)| async move {
                details_of(&c, &region, missing, pcs).await
            })
            .await?;
            for (region, _, vbrs) in listed {
                for v in vbrs {
                    with_details(inv, &region, &v);
                }
            }
            Ok(())
        })
    }

    fn discovered_from(&self) -> Option<&'static [Kind]> {
        Some(&[Kind::PhysicalConnection, Kind::HostedConnection, Kind::VirtualBorderRouter])
    }

    fn snapshot(
        &self,
        r: &Resource,
        _inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        let pc = r.parent.clone().unwrap_or_else(|| format!("pc-of-{}", r.id));
        let further: Vec<&str> = r
            .fact("circuits")
            .split(',')
            .filter(|c| !c.is_empty() && *c != pc)
            .collect();
        let owner = r.owner.as_deref().map(|o| out.other_account(o));
        out.set(
            "virtual_border_routers",
            &r.id,
            serde_json::json!({"id": r.id, "region": r.region, "physical_connection": pc,
                "owner": owner, "status": r.status, "name": r.name, "tags": r.tags,
                "associated_physical_connections": further}),
        );
        for c in std::iter::once(pc.as_str()).chain(further) {
            out.ensure_circuit(c, &r.region, &r.id);
        }
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        let d = StepSpec::call(Action::Delete, "DeleteVirtualBorderRouter", "the VBR itself");
        let list = "DescribeVirtualBorderRouters";
        // DeleteVirtualBorderRouter is asynchronous (`deleting`, then gone; Terraform polls
        // until gone): the circuit's Terminate starts once the VBR is gone.
        let gone = StepSpec::wait(
            list,
            "gone",
            "DeleteVirtualBorderRouter is asynchronous (deleting, then gone)",
        );
        Ok(match r.status.as_str() {
            "unconfirmed" | "active" | "terminated" => vec![d, gone],
            "terminating" => vec![
                StepSpec::wait(list, "terminated", "still terminating"),
                d,
                gone,
            ],
            "recovering" => vec![StepSpec::wait(list, "active", "still recovering"), d, gone],
            "deleting" => vec![StepSpec::wait(list, "gone", "already deleting")],
            other => return Err(format!("status {other}: not deletable")),
        })
    }

    fn blockers(&self) -> &'static [Kind] {
        &[
            Kind::RouterInterface,
            Kind::BgpGroup,
            Kind::TransitRouterVbrAttachment,
            Kind::EcrChildInstance,
            Kind::CenChildInstance,
            Kind::BgpNetwork,
            Kind::Nqa,
            // Failover groups and health checks hang off the VBR's attachment when decom
            // knows it; off the VBR otherwise.
            Kind::VbrHa,
            Kind::VbrHealthCheck,
        ]
    }

    /// Another account's CEN attachment goes only with its owner's action (unremovable);
    /// associations with further circuits go with the VBR.
    fn parts(&self) -> &'static [Kind] {
        &[Kind::ForeignCenAttachment, Kind::VbrCircuitAssociation]
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "sits on"
    }

    fn unremovable(&self, _inv: &Inventory, r: &Resource) -> Option<String> {
        let owner = r.owner.as_deref()?;
        // `deleting`: already on its way out (an earlier run deleted it); decom waits.
        if r.status == "unconfirmed" || r.status == "deleting" {
            return None;
        }
        Some(format!(
            "{} belongs to account {owner} and is {}: only that account can delete it \
             (DeleteVirtualBorderRouter would answer Forbidden.OperationNotAllowedByUser)",
            r.id, r.status
        ))
    }

    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            match step.action {
                Action::Delete => {
                    vpc::delete_virtual_border_router(w, &step.region, &step.resource, token)
                        .await
                        .map(|_| ())
                }
                _ => Err(no_call(step)),
            }
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        action == Action::Delete && matches!(state, "deleting" | "gone")
    }

    fn poll_action(&self, _step: &Step) -> &'static str {
        "DescribeVirtualBorderRouters"
    }
    fn poll_scope(&self, _step: &Step) -> String {
        String::new()
    }
    fn listable(&self) -> bool {
        true
    }
    /// Filter values: 5 ids per call (`Filter.N.Value`).
    fn poll_ids_per_call(&self) -> usize {
        5
    }

    fn poll_list<'a>(
        &'a self,
        c: &'a ReadClient,
        scope: &'a PollScope,
        ids: Option<&'a [String]>,
        _one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(async move {
            let f = vpc::VbrFilter {
                vbr_ids: ids.map(<[String]>::to_vec).unwrap_or_default(),
                include_cross_account: true,
                ..Default::default()
            };
            let list = vpc::describe_virtual_border_routers(c, &scope.region, &f).await?;
            let n = list.len();
            Ok((
                list.into_iter()
                    .map(|v| (v.vbr_id, v.status.to_ascii_lowercase()))
                    .collect(),
                n,
            ))
        })
    }
}
