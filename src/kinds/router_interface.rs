//! Router interface on a VBR (`ri-`, Vpc): DescribeRouterInterfaces,
//! DeactivateRouterInterface, DeleteRouterInterface (alibaba-api.md §3). Blocks its VBR;
//! an Active interface is deactivated first; prepaid or financially locked ones cannot be
//! removed by decom.

use std::collections::BTreeSet;

use super::virtual_border_router::own_by_region;
use super::{per_region, 
    Discovery, Kind, KindSpec, LIST_ALL_THRESHOLD, ListQuery, Listing, PollScope, StepSpec,
    listed_by_ids, no_call,
};
use crate::api::ops::vpc;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{DiscoverError, Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The router-interface kind.
pub struct Spec;

/// A router interface as discovery records it (parent: its VBR; `charge_type` and
/// `business_status` facts).
pub fn resource(region: &str, i: &vpc::RouterInterface) -> Resource {
    let mut r = Resource::new(Kind::RouterInterface, &i.router_interface_id, region);
    r.name = i.name.clone();
    r.status = i.status.clone();
    r.parent = Some(i.router_id.clone());
    r.facts.insert("charge_type".into(), i.charge_type.clone());
    r.facts
        .insert("business_status".into(), i.business_status.clone());
    r
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "router_interface"
    }
    fn id_prefix(&self) -> &'static str {
        "ri-"
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

    fn list<'a>(
        &'a self,
        cx: &'a Discovery,
        q: ListQuery<'a>,
    ) -> BoxFuture<'a, Result<Vec<Resource>, DiscoverError>> {
        Box::pin(async move {
            let f = vpc::RouterInterfaceFilter {
                router_interface_ids: q.ids.to_vec(),
                ..Default::default()
            };
            Ok(vpc::describe_router_interfaces(&cx.client, q.region, &f)
                .await?
                .iter()
                .map(|i| resource(q.region, i))
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

    /// The interfaces of every own VBR: filtered by router id (5 per call), or with many
    /// VBRs in a region one listing of the region.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let listed = per_region(cx, own_by_region(inv), |c, region, vbrs| async move {
                let f = if vbrs.len() > LIST_ALL_THRESHOLD {
                    vpc::RouterInterfaceFilter::default()
                } else {
                    vpc::RouterInterfaceFilter {
                        router_ids: vbrs,
                        ..Default::default()
                    }
                };
                vpc::describe_router_interfaces(&c, &region, &f).await
            })
            .await?;
            for (region, vbrs, ris) in listed {
                let wanted: BTreeSet<&str> = vbrs.iter().map(String::as_str).collect();
                for i in ris.iter().filter(|i| wanted.contains(i.router_id.as_str())) {
                    inv.insert(resource(&region, i));
                }
            }
            Ok(())
        })
    }

    fn discovered_from(&self) -> Option<&'static [Kind]> {
        Some(&[Kind::VirtualBorderRouter])
    }

    fn snapshot(
        &self,
        r: &Resource,
        _inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        let vbr = r.parent.clone().unwrap_or_default();
        out.set(
            "router_interfaces",
            &r.id,
            serde_json::json!({"id": r.id, "region": r.region, "vbr": vbr, "status": r.status,
                "charge_type": r.fact("charge_type"), "name": r.name,
                "financial_locked": r.fact("business_status") == "FinancialLocked"}),
        );
        out.ensure_vbr(&vbr, &r.region, &r.id);
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        let list = "DescribeRouterInterfaces";
        let d = StepSpec::call(
            Action::Delete,
            "DeleteRouterInterface",
            "only Idle/Inactive interfaces can be deleted",
        );
        let deact = StepSpec::call(
            Action::Deactivate,
            "DeactivateRouterInterface",
            "Active interfaces are deactivated first",
        );
        let wait_inactive =
            StepSpec::wait(list, "Inactive", "DeleteRouterInterface needs Inactive");
        // DeleteRouterInterface is asynchronous (`Deleting`, then gone; Terraform waits
        // `Deleted`): the VBR's delete starts once the interface is gone.
        let gone = StepSpec::wait(
            list,
            "gone",
            "DeleteRouterInterface is asynchronous (Deleting, then gone)",
        );
        Ok(match r.status.as_str() {
            "Active" => vec![deact, wait_inactive, d, gone],
            "Idle" | "Inactive" => vec![d, gone],
            "Deactivating" => vec![wait_inactive, d, gone],
            "Activating" => vec![
                StepSpec::wait(list, "Active", "still activating"),
                deact,
                wait_inactive,
                d,
                gone,
            ],
            "Deleting" => vec![gone],
            other => return Err(format!("status {other}: not deletable")),
        })
    }

    fn blockers(&self) -> &'static [Kind] {
        &[Kind::VbrRouteEntry]
    }

    fn unremovable(&self, _inv: &Inventory, r: &Resource) -> Option<String> {
        if r.fact("charge_type") == "PrePaid" {
            Some(format!(
                "{} is a prepaid router interface: it cannot be deleted before its subscription ends \
                 (InvalidRouterInterfaceChargeType.Malformed); ask Alibaba Cloud billing",
                r.id
            ))
        } else if r.fact("business_status") == "FinancialLocked" && r.status == "Active" {
            Some(format!(
                "{} is financially locked: settle the overdue bill first (Forbidden.FinancialLocked)",
                r.id
            ))
        } else {
            None
        }
    }

    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let (r, id) = (step.region.as_str(), step.resource.as_str());
            match step.action {
                Action::Deactivate => vpc::deactivate_router_interface(w, r, id).await,
                Action::Delete => vpc::delete_router_interface(w, r, id, token).await,
                _ => Err(no_call(step)),
            }
            .map(|_| ())
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        match action {
            Action::Deactivate => matches!(state, "Deactivating" | "Inactive" | "gone"),
            Action::Delete => matches!(state, "Deleting" | "gone"),
            _ => false,
        }
    }

    fn poll_action(&self, _step: &Step) -> &'static str {
        "DescribeRouterInterfaces"
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
            let f = vpc::RouterInterfaceFilter {
                router_interface_ids: ids.map(<[String]>::to_vec).unwrap_or_default(),
                ..Default::default()
            };
            let list = vpc::describe_router_interfaces(c, &scope.region, &f).await?;
            let n = list.len();
            Ok((
                list.into_iter()
                    .map(|i| (i.router_interface_id, i.status))
                    .collect(),
                n,
            ))
        })
    }
}
