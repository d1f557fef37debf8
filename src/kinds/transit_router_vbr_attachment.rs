//! Transit-router attachment of a VBR (`tr-attach-`, Cbn): ListTransitRouterVbrAttachments,
//! DeleteTransitRouterVbrAttachment (alibaba-api.md §5). Blocks its VBR; its route-table
//! associations, propagations and the routes via it go with it. Deletion is asynchronous
//! (`Detaching`, then gone).

use super::transit_router::{
    AttachmentFields, attachment_resource, attachment_steps, poll_attachments,
};
use super::foreign_cen_attachment;
use super::virtual_border_router::{cen_owners, own_by_region};
use super::{
    Discovery, Kind, KindSpec, ListQuery, Listing, PollScope, StepSpec, absent_ok, concurrently,
    each_by_id, no_call,
};
use crate::api::ops::cbn;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use std::collections::BTreeMap;
use crate::discover::{DiscoverError, Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The TR VBR attachment kind.
pub struct Spec;

/// A TR VBR attachment as discovery records it (region: the VBR's).
pub fn resource(a: &cbn::TransitRouterVbrAttachment, fallback_region: &str) -> Resource {
    let region = if a.vbr_region_id.is_empty() {
        fallback_region
    } else {
        &a.vbr_region_id
    };
    attachment_resource(AttachmentFields {
        kind: Kind::TransitRouterVbrAttachment,
        id: &a.transit_router_attachment_id,
        transit_router: &a.transit_router_id,
        status: &a.status,
        name: &a.transit_router_attachment_name,
        tags: &a.tags,
        parent: &a.vbr_id,
        region,
    })
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "transit_router_vbr_attachment"
    }
    fn id_prefix(&self) -> &'static str {
        "tr-attach-"
    }
    fn product(&self) -> Product {
        Product::Cbn
    }
    fn regional(&self) -> bool {
        false
    }
    fn targetable(&self) -> bool {
        true
    }
    fn link_keys(&self) -> &'static [&'static str] {
        &["transit_router"]
    }
    fn required_link_keys(&self) -> &'static [&'static str] {
        &["transit_router"]
    }

    fn list<'a>(
        &'a self,
        cx: &'a Discovery,
        q: ListQuery<'a>,
    ) -> BoxFuture<'a, Result<Vec<Resource>, DiscoverError>> {
        Box::pin(async move {
            let query = super::transit_router::selector_query(q)?;
            Ok(
                cbn::list_transit_router_vbr_attachments(&cx.client, &query)
                    .await?
                    .iter()
                    .map(|a| resource(a, q.region))
                    .collect(),
            )
        })
    }

    fn find_by_ids<'a>(
        &'a self,
        cx: &'a Discovery,
        q: ListQuery<'a>,
        ids: Vec<String>,
    ) -> BoxFuture<'a, Result<Vec<Resource>, DiscoverError>> {
        Box::pin(each_by_id(cx, q.region, ids, |c, region, id| async move {
            let q = cbn::AttachmentQuery {
                transit_router_attachment_id: Some(id),
                ..Default::default()
            };
            Ok(
                absent_ok(cbn::list_transit_router_vbr_attachments(&c, &q).await)?
                    .unwrap_or_default()
                    .iter()
                    .map(|a| resource(a, &region))
                    .collect(),
            )
        }))
    }

    /// The attachments of own VBRs: one listing per (CEN, region) of the CENs the VBRs
    /// report. A CEN the VBR reports as another account's (`CenOwnerId`) is not listed, and
    /// a listing refused with a permission error does not abort discovery: both make a
    /// [`foreign_cen_attachment`](super::foreign_cen_attachment) blocker naming the owner.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let account = inv.account.clone().unwrap_or_default();
            // (CEN, region) -> the own VBRs that report it.
            let mut cen_regions: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
            let mut foreign: Vec<Resource> = Vec::new();
            for vbrs in own_by_region(inv).values() {
                for id in vbrs {
                    let Some(r) = inv.get(Kind::VirtualBorderRouter, id) else {
                        continue;
                    };
                    let owners = cen_owners(r);
                    for cen in r.fact("cens").split(',').filter(|c| !c.is_empty()) {
                        match owners.get(cen) {
                            Some(o) if !account.is_empty() && *o != account => foreign.push(
                                foreign_cen_attachment::resource(cen, id, &r.region, Some(o), None),
                            ),
                            _ => cen_regions
                                .entry((cen.to_string(), r.region.clone()))
                                .or_default()
                                .push(id.clone()),
                        }
                    }
                }
            }
            let c = cx.client.clone();
            let lists = concurrently(cen_regions.into_iter().collect(), move |((cen, region), vbrs)| {
                let c = c.clone();
                async move {
                    let q = cbn::AttachmentQuery {
                        cen_id: Some(cen.clone()),
                        region_id: Some(region.clone()),
                        ..Default::default()
                    };
                    match cbn::list_transit_router_vbr_attachments(&c, &q).await {
                        Ok(list) => Ok((cen, region, vbrs, Ok(list))),
                        Err(e) if super::is_permission_error(&e) => {
                            let code = e.code().unwrap_or("Forbidden").to_string();
                            Ok((cen, region, vbrs, Err(code)))
                        }
                        Err(e) => Err(e),
                    }
                }
            })
            .await?;
            for (cen, region, vbrs, listed) in lists {
                match listed {
                    Ok(list) => {
                        for a in list {
                            if inv
                                .get(Kind::VirtualBorderRouter, &a.vbr_id)
                                .is_some_and(|v| v.owner.is_none())
                            {
                                inv.insert(resource(&a, &region));
                            }
                        }
                    }
                    Err(code) => {
                        for vbr in vbrs {
                            foreign.push(foreign_cen_attachment::resource(
                                &cen,
                                &vbr,
                                &region,
                                None,
                                Some(&code),
                            ));
                        }
                    }
                }
            }
            for r in foreign {
                inv.insert(r);
            }
            Ok(())
        })
    }

    fn discovered_from(&self) -> Option<&'static [Kind]> {
        Some(&[Kind::VirtualBorderRouter])
    }

    fn completes(&self) -> &'static [Kind] {
        &[Kind::ForeignCenAttachment]
    }

    fn snapshot(
        &self,
        r: &Resource,
        inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        let vbr = r.parent.clone().unwrap_or_default();
        let tr = r.fact("transit_router");
        out.set(
            "transit_router_attachments",
            &r.id,
            serde_json::json!({"id": r.id, "transit_router": tr, "vbr": vbr,
                "status": r.status, "name": r.name, "tags": r.tags}),
        );
        out.transit_router(tr, &r.region);
        // The transit router's CEN: one the VBR reports that is neither a Basic-Edition CEN
        // it is a child of nor another account's.
        if let Some(v) = inv.get(Kind::VirtualBorderRouter, &vbr) {
            let owners = super::virtual_border_router::cen_owners(v);
            let account = inv.account.clone().unwrap_or_default();
            let basic: Vec<&str> = inv
                .children(Kind::CenChildInstance, &vbr)
                .map(|c| c.fact(crate::discover::SCOPE))
                .collect();
            if let Some(cen) = v.fact("cens").split(',').find(|c| {
                !c.is_empty()
                    && !basic.contains(c)
                    && owners.get(*c).is_none_or(|o| account.is_empty() || *o == account)
            }) {
                out.transit_router_cen(tr, &r.region, cen);
            }
        }
        out.ensure_vbr(&vbr, &r.region, &r.id);
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        Ok(attachment_steps(
            r,
            "DeleteTransitRouterVbrAttachment",
            "ListTransitRouterVbrAttachments",
        ))
    }

    /// Prefix-list associations routing via it, and a VBR failover group and a CEN health
    /// check of the VBR, go before the VBR leaves its transit router (blockers.md V9, V10).
    fn blockers(&self) -> &'static [Kind] {
        &[
            Kind::TransitRouterPrefixListAssociation,
            Kind::VbrHa,
            Kind::VbrHealthCheck,
        ]
    }

    fn note(&self, r: &Resource) -> Option<String> {
        super::transit_router::withdrawn_note(r)
    }

    fn parts(&self) -> &'static [Kind] {
        &[
            Kind::RouteTableAssociation,
            Kind::RouteTablePropagation,
            Kind::TransitRouterRouteEntry,
        ]
    }

    fn deadline(&self) -> std::time::Duration {
        std::time::Duration::from_secs(20 * 60)
    }
    fn wait_weight(&self) -> u64 {
        120
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
                    cbn::delete_transit_router_vbr_attachment(w, &step.resource, false, token)
                        .await
                        .map(|_| ())
                }
                _ => Err(no_call(step)),
            }
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        action == Action::Delete && matches!(state, "Detaching" | "gone")
    }

    fn poll_action(&self, _step: &Step) -> &'static str {
        "ListTransitRouterVbrAttachments"
    }
    fn poll_scope(&self, step: &Step) -> String {
        step.scope.clone().unwrap_or_else(|| step.resource.clone())
    }
    fn listable(&self) -> bool {
        true
    }
    fn poll_list<'a>(
        &'a self,
        c: &'a ReadClient,
        scope: &'a PollScope,
        ids: Option<&'a [String]>,
        one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(poll_attachments(scope, ids, one_by_one, move |q| async move {
            cbn::list_transit_router_vbr_attachments(c, &q).await
        }))
    }
}
