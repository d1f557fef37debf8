//! A network a VBR advertises over BGP (id `<vbr-…>/<cidr>`, Vpc; blockers.md V4, §2.1):
//! DescribeBgpNetworks, DeleteBgpNetwork (RouterId + DstCidrBlock). Terraform treats the
//! delete as asynchronous and polls until the network is gone; decom does the same.
//!
//! Open question (blockers.md V4: "not documented which call it blocks"): chosen — it blocks
//! DeleteVirtualBorderRouter (a blocker of the VBR, removed with cascade), the safe reading.

use std::collections::{BTreeSet, HashMap};

use super::virtual_border_router::own_by_region;
use super::{
    Discovery, Kind, KindSpec, Listing, PollScope, StepSpec, absent_ok, link, no_call,
    per_region, region_or_parents,
};
use crate::api::ops::vpc_vbr;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The BGP-network kind.
pub struct Spec;

const LIST: &str = "DescribeBgpNetworks";

/// The networks of these VBRs in `region`: per VBR, or with many one listing of the region.
async fn networks(
    c: &ReadClient,
    region: &str,
    vbrs: Vec<String>,
) -> Result<Vec<vpc_vbr::BgpNetwork>, CallError> {
    let wanted: BTreeSet<String> = vbrs.iter().cloned().collect();
    let all = region_or_parents(
        c,
        region,
        vbrs,
        |budget| async move {
            Ok(
                absent_ok(vpc_vbr::describe_region_bgp_networks(c, region, budget).await)?
                    .unwrap_or(Some(Vec::new())),
            )
        },
        |c: ReadClient, region: String, vbr: String| async move {
            // Terraform reads `InvalidResource.NotFound` as "no networks".
            match vpc_vbr::describe_bgp_networks(&c, &region, Some(&vbr)).await {
                Err(e) if e.code() == Some("InvalidResource.NotFound") => Ok(Vec::new()),
                other => absent_ok(other).map(Option::unwrap_or_default),
            }
        },
    )
    .await?;
    Ok(all
        .into_iter()
        .filter(|n| wanted.contains(&n.router_id))
        .collect())
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "bgp_network"
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
        false
    }

    /// The networks of every own VBR: per VBR, or with many VBRs in a region one listing of
    /// the region.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let listed = per_region(cx, own_by_region(inv), |c, region, vbrs| async move {
                networks(&c, &region, vbrs).await
            })
            .await?;
            for (region, _, found) in listed {
                for n in found {
                    let mut r = Resource::new(
                        Kind::BgpNetwork,
                        format!("{}/{}", n.router_id, n.dst_cidr_block),
                        &region,
                    );
                    r.status = n.status.clone();
                    r.parent = Some(n.router_id.clone());
                    inv.insert(r);
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
        let (vbr, cidr) = super::link(&r.id);
        out.set(
            "bgp_networks",
            &r.id,
            serde_json::json!({"vbr": vbr, "destination": cidr, "status": r.status}),
        );
        out.ensure_vbr(vbr, &r.region, &r.id);
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        let wait = StepSpec::wait(LIST, "gone", "Terraform waits until the network is gone");
        Ok(match r.status.as_str() {
            "Deleting" => vec![wait],
            _ => vec![
                StepSpec::call(
                    Action::Delete,
                    "DeleteBgpNetwork",
                    "BGP networks advertised by the VBR go before it",
                ),
                wait,
            ],
        })
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "is advertised by"
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
                    let (vbr, cidr) = link(&step.resource);
                    vpc_vbr::delete_bgp_network(w, &step.region, vbr, cidr, token)
                        .await
                        .map(|_| ())
                }
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
    fn poll_scope(&self, _step: &Step) -> String {
        String::new()
    }
    fn listable(&self) -> bool {
        true
    }
    /// The networks of the VBRs the waits are on (per VBR, or the region when many).
    fn poll_list<'a>(
        &'a self,
        c: &'a ReadClient,
        scope: &'a PollScope,
        ids: Option<&'a [String]>,
        _one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(async move {
            let list = match ids {
                Some(ids) => {
                    let vbrs: BTreeSet<String> =
                        ids.iter().map(|i| link(i).0.to_string()).collect();
                    networks(c, &scope.region, vbrs.into_iter().collect()).await?
                }
                None => vpc_vbr::describe_bgp_networks(c, &scope.region, None).await?,
            };
            let n = list.len();
            let out: HashMap<String, String> = list
                .into_iter()
                .map(|x| (format!("{}/{}", x.router_id, x.dst_cidr_block), x.status))
                .collect();
            Ok((out, n))
        })
    }
}
