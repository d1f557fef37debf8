//! BGP peer in a group (`bgp-`, Vpc): DescribeBgpPeers, DeleteBgpPeer (alibaba-api.md §3).
//! Part of its group: peers go before their group.

use std::collections::{BTreeMap, BTreeSet};

use super::virtual_border_router::own_by_region;
use super::{
    Discovery, Kind, KindSpec, LIST_ALL_THRESHOLD, ListQuery, Listing, PollScope, StepSpec,
    absent_ok, fetched_by_ids, no_call, per_region, region_or_parents,
};
use crate::api::ops::vpc;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{DiscoverError, Found, Inventory, Resource};
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
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            // Per region: the VBRs, and those with a BGP group (only they can have peers).
            let asks: BTreeMap<String, (Vec<String>, Vec<String>)> = own_by_region(inv)
                .into_iter()
                .map(|(region, vbrs)| {
                    let with_groups: Vec<String> = vbrs
                        .iter()
                        .filter(|v| inv.children(Kind::BgpGroup, v).next().is_some())
                        .cloned()
                        .collect();
                    (region, (vbrs, with_groups))
                })
                .collect();
            // Every region at once: the whole region's peers, or each VBR's.
            let listed = per_region(cx, asks, |c, region, (vbrs, with_groups)| async move {
                if vbrs.len() > LIST_ALL_THRESHOLD {
                    return Ok(
                        vpc::describe_region_bgp_peers(&c, &region, usize::MAX)
                            .await?
                            .unwrap_or_default(),
                    );
                }
                region_or_parents(
                    &c,
                    &region,
                    with_groups,
                    |budget| vpc::describe_region_bgp_peers(&c, &region, budget),
                    |c, region, vbr| async move {
                        let f = vpc::BgpPeerFilter {
                            router_id: Some(vbr),
                            ..Default::default()
                        };
                        vpc::describe_bgp_peers(&c, &region, &f).await
                    },
                )
                .await
            })
            .await?;
            for (region, (vbrs, _), peers) in listed {
                let wanted: BTreeSet<&str> = vbrs.iter().map(String::as_str).collect();
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

    fn discovered_from(&self) -> Option<&'static [Kind]> {
        Some(&[Kind::BgpGroup, Kind::VirtualBorderRouter])
    }

    fn snapshot(
        &self,
        r: &Resource,
        _inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        let group = r.parent.clone().unwrap_or_default();
        let vbr = r.fact("vbr");
        out.ensure(
            "bgp_groups",
            &group,
            serde_json::json!({"id": group, "region": r.region, "vbr": vbr}),
            format!("BGP group {group} (of peer {}; not discovered)", r.id),
        );
        out.ensure_vbr(vbr, &r.region, &r.id);
        let peer = serde_json::json!({"id": r.id, "status": r.status});
        out.push("bgp_groups", &group, "peers", peer);
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        // DeleteBgpPeer is asynchronous in practice (Terraform polls until gone).
        let gone = StepSpec::wait(
            "DescribeBgpPeers",
            "gone",
            "DeleteBgpPeer is asynchronous (Deleting, then gone)",
        );
        if r.status == "Deleting" {
            return Ok(vec![gone]);
        }
        Ok(vec![
            StepSpec::call(Action::Delete, "DeleteBgpPeer", "peers go before their group"),
            gone,
        ])
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
        action == Action::Delete && matches!(state, "Deleting" | "gone")
    }

    fn poll_action(&self, _step: &Step) -> &'static str {
        "DescribeBgpPeers"
    }
    fn poll_scope(&self, _step: &Step) -> String {
        String::new()
    }
    fn listable(&self) -> bool {
        true
    }
    /// One id: by `BgpPeerId`; several: the region's peers in one listing.
    fn poll_list<'a>(
        &'a self,
        c: &'a ReadClient,
        scope: &'a PollScope,
        ids: Option<&'a [String]>,
        one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(poll_by_region(ids, one_by_one, move |id| {
            let f = id.map(by_id).unwrap_or_default();
            async move {
                let list = vpc::describe_bgp_peers(c, &scope.region, &f).await?;
                Ok(list.into_iter().map(|p| (p.bgp_peer_id, p.status)).collect())
            }
        }))
    }
}

/// Poll a kind whose API filters by one id only (BGP groups and peers): one id (or
/// `one_by_one`) by id, each its own call; several: the whole region in one listing, and an
/// id missing from a listing of a page or more confirmed by id (a paged listing is not a
/// snapshot). `list(None)` lists the region, `list(Some(id))` one id.
pub async fn poll_by_region<F, Fut>(
    ids: Option<&[String]>,
    one_by_one: bool,
    list: F,
) -> Result<Listing, CallError>
where
    F: Fn(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(String, String)>, CallError>>,
{
    let by_id = |ids: Vec<String>| async {
        let mut out = std::collections::HashMap::new();
        let mut n = 0;
        for id in ids {
            let found = list(Some(id)).await?;
            n += found.len();
            out.extend(found);
        }
        Ok::<_, CallError>((out, n))
    };
    match ids {
        Some(ids) if one_by_one || ids.len() <= 1 => by_id(ids.to_vec()).await,
        _ => {
            let all = list(None).await?;
            let n = all.len();
            let mut out: std::collections::HashMap<String, String> = all.into_iter().collect();
            if n >= crate::api::ops::PAGE_SIZE {
                let absent: Vec<String> = ids
                    .unwrap_or_default()
                    .iter()
                    .filter(|id| !out.contains_key(*id))
                    .cloned()
                    .collect();
                out.extend(by_id(absent).await?.0);
            }
            Ok((out, n))
        }
    }
}
