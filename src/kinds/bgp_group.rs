//! BGP group on a VBR (`bgpg-`, Vpc): DescribeBgpGroups, DeleteBgpGroup (alibaba-api.md
//! §3). Blocks its VBR (`DependencyViolation.BgpGroup`); its peers go with it. Deletes of
//! groups and peers are waited out (`Deleting`, then gone), polled per region. Note for the
//! BGP-network kind (another branch): DeleteBgpNetwork is asynchronous too (Terraform polls
//! until gone) and wants the same `wait gone` step, and a row in
//! `exec::blocker_codes` if it has a blocking code.

use std::collections::BTreeSet;

use super::virtual_border_router::own_by_region;
use super::{
    Discovery, Kind, KindSpec, ListQuery, Listing, PollScope, StepSpec,
    absent_ok, fetched_by_ids, no_call, per_region, region_or_parents,
};
use crate::api::ops::vpc;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{DiscoverError, Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The BGP-group kind.
pub struct Spec;

/// A BGP group as discovery records it (parent: its VBR).
pub fn resource(region: &str, g: &vpc::BgpGroup) -> Resource {
    let mut r = Resource::new(Kind::BgpGroup, &g.bgp_group_id, region);
    r.name = g.name.clone();
    r.status = g.status.clone();
    r.parent = Some(g.router_id.clone());
    r
}

fn by_id(id: String) -> vpc::BgpGroupFilter {
    vpc::BgpGroupFilter {
        bgp_group_id: Some(id),
        ..Default::default()
    }
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "bgp_group"
    }
    fn id_prefix(&self) -> &'static str {
        "bgpg-"
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
                vpc::describe_bgp_groups(&cx.client, q.region, &Default::default())
                    .await?
                    .iter()
                    .map(|g| resource(q.region, g))
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
            let found = absent_ok(vpc::describe_bgp_groups(&c, &region, &by_id(id)).await)?;
            Ok(found
                .unwrap_or_default()
                .iter()
                .map(|g| resource(&region, g))
                .collect())
        }))
    }

    /// The groups of every own VBR: per VBR, or with many VBRs in a region one listing of
    /// the region.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            // Every region at once: the whole region's groups, or each VBR's.
            let listed = per_region(cx, own_by_region(inv), |c, region, vbrs| async move {
                region_or_parents(
                    &c,
                    &region,
                    vbrs,
                    |budget| vpc::describe_region_bgp_groups(&c, &region, budget),
                    |c, region, vbr| async move {
                        let f = vpc::BgpGroupFilter {
                            router_id: Some(vbr),
                            ..Default::default()
                        };
                        vpc::describe_bgp_groups(&c, &region, &f).await
                    },
                )
                .await
            })
            .await?;
            for (region, vbrs, groups) in listed {
                let wanted: BTreeSet<&str> = vbrs.iter().map(String::as_str).collect();
                for g in groups
                    .iter()
                    .filter(|g| wanted.contains(g.router_id.as_str()))
                {
                    inv.insert(resource(&region, g));
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
            "bgp_groups",
            &r.id,
            serde_json::json!({"id": r.id, "region": r.region, "vbr": vbr, "status": r.status,
                "name": r.name}),
        );
        out.ensure_vbr(&vbr, &r.region, &r.id);
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        // DeleteBgpGroup is asynchronous in practice (Terraform polls until gone;
        // blockers.md V3): the VBR's delete starts once the group is gone.
        let gone = StepSpec::wait(
            "DescribeBgpGroups",
            "gone",
            "DeleteBgpGroup is asynchronous (Deleting, then gone)",
        );
        if r.status == "Deleting" {
            return Ok(vec![gone]);
        }
        Ok(vec![
            StepSpec::call(
                Action::Delete,
                "DeleteBgpGroup",
                "BGP groups block DeleteVirtualBorderRouter (DependencyViolation.BgpGroup)",
            ),
            gone,
        ])
    }

    fn parts(&self) -> &'static [Kind] {
        &[Kind::BgpPeer]
    }

    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            match step.action {
                Action::Delete => vpc::delete_bgp_group(w, &step.region, &step.resource, token)
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
        "DescribeBgpGroups"
    }
    fn poll_scope(&self, _step: &Step) -> String {
        String::new()
    }
    fn listable(&self) -> bool {
        true
    }
    /// One id: by `BgpGroupId`; several: the region's groups in one listing (the API filters
    /// by one id only).
    fn poll_list<'a>(
        &'a self,
        c: &'a ReadClient,
        scope: &'a PollScope,
        ids: Option<&'a [String]>,
        one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(super::bgp_peer::poll_by_region(
            ids,
            one_by_one,
            move |id| {
                let f = id.map(by_id).unwrap_or_default();
                async move {
                    let list = vpc::describe_bgp_groups(c, &scope.region, &f).await?;
                    Ok(list.into_iter().map(|g| (g.bgp_group_id, g.status)).collect())
                }
            },
        ))
    }
}
