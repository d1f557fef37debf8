//! A route-table propagation of a TR attachment (id `<tr-attach-…>/<vtb-…>`, Cbn):
//! ListTransitRouterRouteTablePropagations, DisableTransitRouterRouteTablePropagation
//! (alibaba-api.md §5.4). Part of its attachment: it blocks the attachment's deletion
//! . Disabling is asynchronous
//! (`Disabling`, then gone).

use super::transit_router::{LinkKind, discover_links, poll_links};
use super::{Discovery, Kind, KindSpec, Listing, PollScope, StepSpec, link, no_call};
use crate::api::ops::cbn;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The propagation kind.
pub struct Spec;

const LIST: &str = "ListTransitRouterRouteTablePropagations";

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "route_table_propagation"
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
        false
    }

    /// The propagations of every TR attachment in the inventory.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(discover_links(
            LinkKind::Propagation,
            &cx.client,
            &cx.transit_routers,
            inv,
        ))
    }

    fn discovered_from(&self) -> Option<&'static [Kind]> {
        Some(&[Kind::TransitRouterVbrAttachment, Kind::TransitRouterVpnAttachment])
    }

    fn snapshot(
        &self,
        r: &Resource,
        inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        let (att, vtb) = super::link(&r.id);
        let link = serde_json::json!({"route_table": vtb, "status": r.status});
        out.push("transit_router_attachments", att, "propagations", link);
        if let Some(tr) = super::transit_router::router_of(inv, att) {
            out.route_table(tr, &r.region, vtb);
        }
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        Ok(match r.status.as_str() {
            "Disabling" => vec![StepSpec::wait(LIST, "gone", "already disabling")],
            _ => vec![
                StepSpec::call(
                    Action::DisablePropagation,
                    "DisableTransitRouterRouteTablePropagation",
                    match super::transit_router_route_entry::routes_text(r, "routes") {
                        Some(t) => format!(
                            "propagations block the attachment's deletion; disabling it \
                             withdraws the routes it propagated ({t})"
                        ),
                        None => "propagations block the attachment's deletion".into(),
                    },
                ),
                StepSpec::wait(LIST, "gone", "disabling is asynchronous"),
            ],
        })
    }

    fn note(&self, r: &Resource) -> Option<String> {
        super::transit_router_route_entry::routes_text(r, "routes")
            .map(|t| format!("the routes it propagated (no route id) are withdrawn with it: {t}"))
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "is a route-table link of"
    }

    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            match step.action {
                Action::DisablePropagation => {
                    let (att, vtb) = link(&step.resource);
                    cbn::disable_transit_router_route_table_propagation(w, att, vtb, token)
                        .await
                        .map(|_| ())
                }
                _ => Err(no_call(step)),
            }
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        match action {
            Action::DisablePropagation => matches!(state, "Disabling" | "gone"),
            Action::Delete => state == "gone",
            _ => false,
        }
    }

    fn poll_action(&self, _step: &Step) -> &'static str {
        LIST
    }
    fn poll_scope(&self, step: &Step) -> String {
        link(&step.resource).1.to_string()
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
        poll_links(LinkKind::Propagation, c, scope, ids, one_by_one)
    }
}
