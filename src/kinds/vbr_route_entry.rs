//! A custom route of a VBR's route table whose next hop is a router interface of the VBR
//! (`rte-`, Vpc; blockers.md V2, §2.1): DescribeRouteEntryList (the VBR's `RouteTableId`,
//! `RouteEntryType=Custom`), DeleteRouteEntry. It blocks DeleteRouterInterface
//! (`RouterInterfaceReferredByRouteEntry`), so it is a blocker of the interface (cascade):
//! deleted before the interface is deactivated — and when it cannot be removed (protected,
//! cascade off), the interface is blocked and never deactivated.
//!
//! Deletion is asynchronous (`Deleting`, then gone), only `Available` routes can be deleted,
//! and one route at a time per route table (serialised per table).

use std::collections::{BTreeMap, BTreeSet};

use super::{Discovery, Kind, KindSpec, Listing, PollScope, StepSpec, concurrently, no_call};
use crate::api::ops::vpc_vbr;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{ALSO_BLOCKS, Found, Inventory, Resource, SCOPE};
use crate::graph::Step;
use crate::model::Action;

/// The VBR route-entry kind.
pub struct Spec;

const LIST: &str = "DescribeRouteEntryList";

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "vbr_route_entry"
    }
    fn id_prefix(&self) -> &'static str {
        "rte-"
    }
    fn product(&self) -> Product {
        Product::Vpc
    }
    fn regional(&self) -> bool {
        true
    }
    fn targetable(&self) -> bool {
        false
    }

    /// One listing (custom routes) per route table of an own VBR that has router interfaces
    /// in the inventory; routes with a next hop among them are kept (parent: the first such
    /// interface; further ones in [`ALSO_BLOCKS`]).
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let mut ris_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for ri in inv.of_kind(Kind::RouterInterface) {
                if let Some(vbr) = &ri.parent {
                    ris_of.entry(vbr.clone()).or_default().insert(ri.id.clone());
                }
            }
            let mut tables: Vec<(String, String, String)> = Vec::new();
            for v in inv.of_kind(Kind::VirtualBorderRouter) {
                let vtb = v.fact("route_table");
                if v.owner.is_none() && !vtb.is_empty() && ris_of.contains_key(&v.id) {
                    tables.push((v.region.clone(), v.id.clone(), vtb.to_string()));
                }
            }
            let c = cx.client.clone();
            let listed = concurrently(tables, move |(region, vbr, vtb)| {
                let c = c.clone();
                async move {
                    let routes = super::absent_ok(
                        vpc_vbr::describe_route_entry_list(&c, &region, &vtb, Some("Custom"), None)
                            .await,
                    )?
                    .unwrap_or_default();
                    Ok((region, vbr, vtb, routes))
                }
            })
            .await?;
            for (region, vbr, vtb, routes) in listed {
                let ris = &ris_of[&vbr];
                for e in routes {
                    let hops: Vec<&str> = e
                        .next_hops
                        .iter()
                        .map(|h| h.next_hop_id.as_str())
                        .filter(|h| ris.contains(*h))
                        .collect();
                    let Some(first) = hops.first() else { continue };
                    let mut r = Resource::new(Kind::VbrRouteEntry, &e.route_entry_id, &region);
                    r.name = e.route_entry_name.clone();
                    r.status = e.status.clone();
                    r.parent = Some(first.to_string());
                    if hops.len() > 1 {
                        r.facts.insert(ALSO_BLOCKS.into(), hops[1..].join(","));
                    }
                    r.facts.insert("route_table".into(), vtb.clone());
                    r.facts.insert(SCOPE.into(), vtb.clone());
                    r.facts.insert("vbr".into(), vbr.clone());
                    r.facts
                        .insert("destination".into(), e.destination_cidr_block.clone());
                    inv.insert(r);
                }
            }
            Ok(())
        })
    }

    fn discovered_from(&self) -> Option<&'static [Kind]> {
        Some(&[Kind::RouterInterface, Kind::VirtualBorderRouter])
    }

    fn snapshot(
        &self,
        r: &Resource,
        _inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        // One next hop: the world has no ECMP routes (the others are in `also_blocks`).
        let vbr = r.fact("vbr");
        out.set(
            "vbr_route_entries",
            &r.id,
            serde_json::json!({"id": r.id, "vbr": vbr, "destination": r.fact("destination"),
                "next_hop": r.parent, "status": r.status}),
        );
        out.ensure_vbr(vbr, &r.region, &r.id);
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        let delete = StepSpec::call(
            Action::Delete,
            "DeleteRouteEntry",
            format!(
                "route {} via the interface blocks DeleteRouterInterface (RouterInterfaceReferredByRouteEntry)",
                r.fact("destination")
            ),
        );
        let wait = StepSpec::wait(LIST, "gone", "route deletion is asynchronous (Deleting)");
        Ok(match r.status.as_str() {
            "Available" => vec![delete, wait],
            "Deleting" => vec![StepSpec::wait(LIST, "gone", "already deleting")],
            "Pending" | "Creating" | "Modifying" => vec![
                StepSpec::wait(LIST, "Available", "only Available routes can be deleted"),
                delete,
                wait,
            ],
            other => return Err(format!("status {other}: not deletable")),
        })
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "routes via"
    }

    /// One route deletion at a time per route table (the API refuses concurrent ones).
    fn serial_scope(&self, r: &Resource) -> Option<String> {
        Some(format!("route table {}", r.fact("route_table")))
    }

    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        _token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            match step.action {
                Action::Delete => vpc_vbr::delete_route_entry(w, &step.region, &step.resource)
                    .await
                    .map(|_| ()),
                _ => Err(no_call(step)),
            }
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        action == Action::Delete && matches!(state, "Deleting" | "gone")
    }

    fn poll_action(&self, _step: &Step) -> &'static str {
        LIST
    }
    fn poll_scope(&self, step: &Step) -> String {
        step.scope.clone().unwrap_or_default()
    }
    fn listable(&self) -> bool {
        true
    }
    /// The custom routes of the route table (one listing answers every wait in it); one
    /// route by id when confirming.
    fn poll_list<'a>(
        &'a self,
        c: &'a ReadClient,
        scope: &'a PollScope,
        ids: Option<&'a [String]>,
        one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(async move {
            let mut out = std::collections::HashMap::new();
            let mut n = 0;
            let by_id: Vec<Option<&str>> = match ids {
                Some(ids) if one_by_one => ids.iter().map(|i| Some(i.as_str())).collect(),
                _ => vec![None],
            };
            for id in by_id {
                let list = vpc_vbr::describe_route_entry_list(
                    c,
                    &scope.region,
                    &scope.key,
                    Some("Custom"),
                    id,
                )
                .await?;
                n += list.len();
                out.extend(list.into_iter().map(|e| (e.route_entry_id, e.status)));
            }
            Ok((out, n))
        })
    }
}
