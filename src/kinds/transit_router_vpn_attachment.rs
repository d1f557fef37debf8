//! Transit-router attachment of an IPsec connection (`tr-attach-`, Cbn):
//! ListTransitRouterVpnAttachments, DeleteTransitRouterVpnAttachment (alibaba-api.md §5).
//! Binds a TR-bound IPsec connection, which cannot be deleted before it; its route-table
//! links and the routes via it go with it. Deletion is asynchronous (`Detaching`).

use std::collections::BTreeMap;

use super::transit_router::{
    AttachmentFields, attachment_resource, attachment_steps, poll_attachments,
};
use super::{
    Discovery, Kind, KindSpec, ListQuery, Listing, PollScope, StepSpec, absent_ok, concurrently,
    each_by_id, no_call,
};
use crate::api::ops::cbn;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{DiscoverError, Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The TR VPN attachment kind.
pub struct Spec;

/// A TR VPN attachment as discovery records it (region: the connection's).
pub fn resource(a: &cbn::TransitRouterVpnAttachment, fallback_region: &str) -> Resource {
    let region = if a.vpn_region_id.is_empty() {
        fallback_region
    } else {
        &a.vpn_region_id
    };
    attachment_resource(AttachmentFields {
        kind: Kind::TransitRouterVpnAttachment,
        id: &a.transit_router_attachment_id,
        transit_router: &a.transit_router_id,
        status: &a.status,
        name: &a.transit_router_attachment_name,
        tags: &a.tags,
        parent: &a.vpn_id,
        region,
    })
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "transit_router_vpn_attachment"
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
                cbn::list_transit_router_vpn_attachments(&cx.client, &query)
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
                absent_ok(cbn::list_transit_router_vpn_attachments(&c, &q).await)?
                    .unwrap_or_default()
                    .iter()
                    .map(|a| resource(a, &region))
                    .collect(),
            )
        }))
    }

    /// The attachments of TR-bound IPsec connections: one listing per transit router.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let mut vpn_trs: BTreeMap<String, String> = BTreeMap::new();
            for r in inv.of_kind(Kind::VpnAttachment) {
                if !r.fact("transit_router").is_empty() {
                    vpn_trs.insert(r.fact("transit_router").to_string(), r.region.clone());
                }
            }
            let c = cx.client.clone();
            let lists = concurrently(vpn_trs.into_iter().collect(), move |(tr, region)| {
                let c = c.clone();
                async move {
                    let q = cbn::AttachmentQuery {
                        transit_router_id: Some(tr),
                        ..Default::default()
                    };
                    Ok((
                        region,
                        cbn::list_transit_router_vpn_attachments(&c, &q).await?,
                    ))
                }
            })
            .await?;
            for (region, list) in lists {
                for a in list {
                    if inv.get(Kind::VpnAttachment, &a.vpn_id).is_some() {
                        inv.insert(resource(&a, &region));
                    }
                }
            }
            Ok(())
        })
    }

    fn discovered_from(&self) -> Option<&'static [Kind]> {
        Some(&[Kind::VpnAttachment])
    }

    fn snapshot(
        &self,
        r: &Resource,
        _inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        let vco = r.parent.clone().unwrap_or_default();
        let tr = r.fact("transit_router");
        out.set(
            "transit_router_attachments",
            &r.id,
            serde_json::json!({"id": r.id, "transit_router": tr, "vpn_connection": vco,
                "status": r.status, "name": r.name, "tags": r.tags}),
        );
        out.transit_router(tr, &r.region);
        out.ensure_vpn_connection(&vco, &r.region, &r.id);
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        Ok(attachment_steps(
            r,
            "DeleteTransitRouterVpnAttachment",
            "ListTransitRouterVpnAttachments",
        ))
    }

    fn blockers(&self) -> &'static [Kind] {
        &[Kind::TransitRouterPrefixListAssociation]
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

    fn relation(&self, blocked: Kind) -> &'static str {
        if blocked == Kind::VpnAttachment {
            "binds"
        } else {
            "is attached to"
        }
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
                    cbn::delete_transit_router_vpn_attachment(w, &step.resource, false, token)
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
        "ListTransitRouterVpnAttachments"
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
            cbn::list_transit_router_vpn_attachments(c, &q).await
        }))
    }
}
