//! BGP peer in a group (`bgp-`, Vpc): DescribeBgpPeers, DeleteBgpPeer (alibaba-api.md §3).
//! Part of its group: peers go before their group.

use std::collections::BTreeSet;

use super::virtual_border_router::own_by_region;
use super::{
    Discovery, Kind, KindSpec, LIST_ALL_THRESHOLD, ListQuery, StepSpec, absent_ok, concurrently,
    fetched_by_ids, no_call,
};
use crate::api::ops::vpc;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{DiscoverError, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The BGP-peer kind.
pub struct Spec;

/// A BGP peer as discovery records it (parent: its group; `vbr` fact).
pub fn resource(region: &str, p: &vpc::BgpPeer) -> Resource {
    let mut r = Resource::new(Kind::BgpPeer, &p.bgp_peer_id, region);
    r.name = p.name.clone();
    r.status = p.status.clone();
    r.parent = Some(p.bgp_group_id.clone());
    r.facts.insert("vbr".into(), p.router_id.clone());
    r
}

fn by_id(id: String) -> vpc::BgpPeerFilter {
    vpc::BgpPeerFilter {
        bgp_peer_id: Some(id),
        ..Default::default()
    }
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "bgp_peer"
    }
    fn id_prefix(&self) -> &'static str {
        "bgp-"
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
            Ok(
                vpc::describe_bgp_peers(&cx.client, q.region, &Default::default())
                    .await?
                    .iter()
                    .map(|p| resource(q.region, p))
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
        Box::pin(fetched_by_ids(self, cx, q, ids, |c, region, id| async move {
            let found = absent_ok(vpc::describe_bgp_peers(&c, &region, &by_id(id)).await)?;
            Ok(found
                .unwrap_or_default()
                .iter()
                .map(|p| resource(&region, p))
                .collect())
        }))
    }

    /// The peers of every own VBR that has a BGP group: per VBR, or with many VBRs in a
    /// region one listing of the region.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Inventory,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            for (region, vbrs) in own_by_region(inv) {
                let wanted: BTreeSet<&str> = vbrs.iter().map(String::as_str).collect();
                let peers = if vbrs.len() > LIST_ALL_THRESHOLD {
                    vpc::describe_bgp_peers(&cx.client, &region, &Default::default()).await?
                } else {
                    let with_groups: Vec<String> = vbrs
                        .iter()
                        .filter(|v| inv.children(Kind::BgpGroup, v).next().is_some())
                        .cloned()
                        .collect();
                    let (c, reg) = (cx.client.clone(), region.clone());
                    concurrently(with_groups, move |vbr| {
                        let (c, region) = (c.clone(), reg.clone());
                        async move {
                            let f = vpc::BgpPeerFilter {
                                router_id: Some(vbr),
                                ..Default::default()
                            };
                            vpc::describe_bgp_peers(&c, &region, &f).await
                        }
                    })
                    .await?
                    .into_iter()
                    .flatten()
                    .collect()
                };
                for p in peers
                    .iter()
                    .filter(|p| wanted.contains(p.router_id.as_str()))
                {
                    inv.insert(resource(&region, p));
                }
            }
            Ok(())
        })
    }

    fn steps(&self, _r: &Resource) -> Result<Vec<StepSpec>, String> {
        Ok(vec![StepSpec::call(
            Action::Delete,
            "DeleteBgpPeer",
            "peers go before their group",
        )])
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "is a peer of"
    }

    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            match step.action {
                Action::Delete => vpc::delete_bgp_peer(w, &step.region, &step.resource, token)
                    .await
                    .map(|_| ()),
                _ => Err(no_call(step)),
            }
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        action == Action::Delete && state == "gone"
    }

    fn poll_action(&self, _step: &Step) -> &'static str {
        "DescribeBgpPeers"
    }

    fn probe<'a>(
        &'a self,
        c: &'a ReadClient,
        step: &'a Step,
    ) -> BoxFuture<'a, Result<String, CallError>> {
        Box::pin(async move {
            let list =
                vpc::describe_bgp_peers(c, &step.region, &by_id(step.resource.clone())).await?;
            Ok(list
                .into_iter()
                .next()
                .map_or_else(|| "gone".to_string(), |p| p.status))
        })
    }
}
