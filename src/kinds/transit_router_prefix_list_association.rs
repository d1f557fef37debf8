//! A prefix-list association of a transit-router route table whose next hop is a TR
//! attachment of the plan (id `<pl-…>/<vtb-…>`, Cbn): ListTransitRouterPrefixListAssociation,
//! DeleteTransitRouterPrefixListAssociation (blockers.md §1C T4, §2.3). The routes it
//! generates have the attachment as next hop and block the attachment's deletion (the 4th
//! documented prerequisite of DeleteTransitRouterVbrAttachment); they have no route id and
//! cannot be deleted as routes: deleting the association withdraws them. A separate
//! resource (a VPC prefix list, associated by the CEN's operator): removed with cascade,
//! or named as the blocker without.
//!
//! Open question: whether the delete is asynchronous is not documented (Terraform does not
//! poll); the SDK's status enum is `Active`/`Updating`. Chose: wait until the association
//! is gone from the listing (one poll when the delete is synchronous); an association found
//! `Updating` is waited out (`Active`) before the delete.

use std::collections::{BTreeMap, HashMap};

use super::transit_router::attachments;
use super::transit_router_route_entry::routes_text;
use super::{Discovery, Kind, KindSpec, Listing, PollScope, StepSpec, absent_ok, concurrently};
use crate::api::ops::cbn_prefix;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The prefix-list association kind.
pub struct Spec;

const LIST: &str = "ListTransitRouterPrefixListAssociation";

/// `(prefix list, route table)` of an association id.
fn parts_of(id: &str) -> (&str, &str) {
    id.split_once('/').unwrap_or((id, ""))
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "transit_router_prefix_list_association"
    }
    fn id_prefix(&self) -> &'static str {
        "pl-"
    }
    fn product(&self) -> Product {
        Product::Cbn
    }
    fn regional(&self) -> bool {
        false
    }
    fn targetable(&self) -> bool {
        false
    }

    /// One listing per transit router of the inventory's TR attachments (in the router's
    /// region: the attachment's); associations whose next hop is one of those attachments.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let routers: BTreeMap<String, String> = attachments(inv)
                .into_iter()
                .filter(|a| !a.2.is_empty())
                .map(|(_, region, tr)| (tr, region))
                .collect();
            let c = cx.client.clone();
            let lists = concurrently(routers.into_iter().collect(), move |(tr, region)| {
                let c = c.clone();
                async move {
                    let list = absent_ok(
                        cbn_prefix::list_transit_router_prefix_list_associations(&c, &region, &tr)
                            .await,
                    )?
                    .unwrap_or_default();
                    Ok((region, tr, list))
                }
            })
            .await?;
            for (region, tr, list) in lists {
                for a in list {
                    let Some(att) = inv
                        .get(Kind::TransitRouterVbrAttachment, &a.next_hop)
                        .or_else(|| inv.get(Kind::TransitRouterVpnAttachment, &a.next_hop))
                    else {
                        continue;
                    };
                    let mut r = Resource::new(
                        Kind::TransitRouterPrefixListAssociation,
                        format!("{}/{}", a.prefix_list_id, a.transit_router_table_id),
                        &region,
                    );
                    r.status = a.status.clone();
                    r.parent = Some(att.id.clone());
                    r.facts.insert("transit_router".into(), tr.clone());
                    r.facts
                        .insert("route_table".into(), a.transit_router_table_id.clone());
                    r.facts
                        .insert("next_hop_type".into(), a.next_hop_type.clone());
                    inv.insert(r);
                }
            }
            Ok(())
        })
    }

    fn discovered_from(&self) -> Option<&'static [Kind]> {
        Some(&[Kind::TransitRouterVbrAttachment, Kind::TransitRouterVpnAttachment])
    }

    fn snapshot(
        &self,
        r: &Resource,
        _inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        let (pl, vtb) = super::link(&r.id);
        let tr = r.fact("transit_router");
        out.set(
            "transit_router_prefix_list_associations",
            &r.id,
            serde_json::json!({"prefix_list": pl, "transit_router": tr, "route_table": vtb,
                "next_hop": r.parent, "status": r.status}),
        );
        out.route_table(tr, &r.region, vtb);
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        let withdraws = routes_text(r, "routes")
            .map(|t| format!("; deleting it withdraws its routes ({t})"))
            .unwrap_or_else(|| "; deleting it withdraws its routes".into());
        let delete = StepSpec::call(
            Action::Delete,
            "DeleteTransitRouterPrefixListAssociation",
            format!(
                "prefix-list routes via the attachment block its deletion (they have no route \
                 id){withdraws}"
            ),
        );
        let gone = StepSpec::wait(LIST, "gone", "the association is gone before the attachment");
        Ok(match r.status.as_str() {
            "Updating" => vec![
                StepSpec::wait(LIST, "Active", "the association is updating"),
                delete,
                gone,
            ],
            _ => vec![delete, gone],
        })
    }

    fn note(&self, r: &Resource) -> Option<String> {
        Some(match routes_text(r, "routes") {
            Some(t) => format!("its routes have no route id and are withdrawn with it: {t}"),
            None => "its routes have no route id and are withdrawn with it".into(),
        })
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "routes a prefix list via"
    }

    fn wait_weight(&self) -> u64 {
        10
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
                    let (pl, vtb) = parts_of(&step.resource);
                    let r = cbn_prefix::PrefixListAssociationRef {
                        region: step.region.clone(),
                        prefix_list_id: pl.to_string(),
                        transit_router_id: step.scope.clone().unwrap_or_default(),
                        transit_router_table_id: vtb.to_string(),
                        next_hop: step.parent.clone().unwrap_or_default(),
                        next_hop_type: None,
                    };
                    cbn_prefix::delete_transit_router_prefix_list_association(w, &r, token)
                        .await
                        .map(|_| ())
                }
                _ => Err(super::no_call(step)),
            }
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        action == Action::Delete && state == "gone"
    }

    fn poll_action(&self, _step: &Step) -> &'static str {
        LIST
    }
    /// Associations are polled per transit router (the listing's required scope).
    fn poll_scope(&self, step: &Step) -> String {
        step.scope.clone().unwrap_or_default()
    }
    fn listable(&self) -> bool {
        true
    }
    fn poll_list<'a>(
        &'a self,
        c: &'a ReadClient,
        scope: &'a PollScope,
        _ids: Option<&'a [String]>,
        _one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(async move {
            let list = cbn_prefix::list_transit_router_prefix_list_associations(
                c,
                &scope.region,
                &scope.key,
            )
            .await?;
            let n = list.len();
            let out: HashMap<String, String> = list
                .into_iter()
                .map(|a| {
                    (
                        format!("{}/{}", a.prefix_list_id, a.transit_router_table_id),
                        a.status,
                    )
                })
                .collect();
            Ok((out, n))
        })
    }
}
