//! A custom TR route entry whose next hop is an attachment (`rte-`, Cbn):
//! ListTransitRouterRouteEntries, DeleteTransitRouterRouteEntry (alibaba-api.md §5.5). Part
//! of the attachment it routes via (`OperationFailed.RouteEntryExist`). Found in every route
//! table of the transit routers involved (associated or not); propagated routes go with
//! their propagation and are skipped.

use std::collections::BTreeSet;

use super::{Discovery, Kind, KindSpec, StepSpec, concurrently, no_call};
use crate::api::ops::cbn;
use crate::api::{BoxFuture, CallError, Product, WriteClient};
use crate::discover::{Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The TR route-entry kind.
pub struct Spec;

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "transit_router_route_entry"
    }
    fn id_prefix(&self) -> &'static str {
        "rte-"
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

    /// The custom routes via any TR attachment of the inventory: one listing per route table
    /// of the transit routers involved and per table a link of ours is in.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Inventory,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let tables_of = cx.transit_routers.tables_of(&cx.client, inv).await?;
            let mut tables: BTreeSet<String> = tables_of.values().flatten().cloned().collect();
            for r in inv
                .of_kind(Kind::RouteTableAssociation)
                .chain(inv.of_kind(Kind::RouteTablePropagation))
            {
                tables.insert(r.fact("route_table").to_string());
            }
            let c = cx.client.clone();
            let routes = concurrently(tables.into_iter().collect(), move |vtb| {
                let c = c.clone();
                async move {
                    Ok((
                        vtb.clone(),
                        cbn::list_transit_router_route_entries(&c, &vtb, Some("All")).await?,
                    ))
                }
            })
            .await?;
            for (vtb, list) in routes {
                for e in list {
                    let next = &e.transit_router_route_entry_next_hop_id;
                    let Some(att) = inv
                        .get(Kind::TransitRouterVbrAttachment, next)
                        .or_else(|| inv.get(Kind::TransitRouterVpnAttachment, next))
                    else {
                        continue;
                    };
                    if e.transit_router_route_entry_type
                        .eq_ignore_ascii_case("Propagated")
                    {
                        continue;
                    }
                    let mut r = Resource::new(
                        Kind::TransitRouterRouteEntry,
                        &e.transit_router_route_entry_id,
                        &att.region,
                    );
                    r.name = e.transit_router_route_entry_name.clone();
                    r.status = e.transit_router_route_entry_status.clone();
                    r.parent = Some(att.id.clone());
                    r.facts.insert("route_table".into(), vtb.clone());
                    r.facts.insert(
                        "destination".into(),
                        e.transit_router_route_entry_destination_cidr_block.clone(),
                    );
                    inv.insert(r);
                }
            }
            Ok(())
        })
    }

    fn steps(&self, _r: &Resource) -> Result<Vec<StepSpec>, String> {
        Ok(vec![StepSpec::call(
            Action::Delete,
            "DeleteTransitRouterRouteEntry",
            "routes via the attachment block its deletion (OperationFailed.RouteEntryExist)",
        )])
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "routes via"
    }

    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            match step.action {
                Action::Delete => cbn::delete_transit_router_route_entry(
                    w,
                    &cbn::RouteEntryRef::Id(step.resource.clone()),
                    token,
                )
                .await
                .map(|_| ()),
                _ => Err(no_call(step)),
            }
        })
    }

    /// A route's absence after an error is not proof the deletion was applied by us: never
    /// assume it.
    fn already_applied(&self, _action: Action, _state: &str) -> bool {
        false
    }

    fn poll_action(&self, _step: &Step) -> &'static str {
        "ListTransitRouterRouteEntries"
    }

    fn probe<'a>(
        &'a self,
        _c: &'a crate::api::ReadClient,
        _step: &'a Step,
    ) -> BoxFuture<'a, Result<String, CallError>> {
        Box::pin(async { Ok("unknown".to_string()) })
    }
}
