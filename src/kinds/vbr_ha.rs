//! VBR failover group (`vbrha-`, Vpc; blockers.md V9): two BFD-enabled VBRs attached to the
//! same CEN or ECR. Found with DescribeVbrHa per VBR attached to a CEN (the API lists no
//! groups: it answers for one `VbrId` or one `VbrHaId`); removed with DeleteVbrHa
//! (`InstanceId` = the group's id) and waited until gone (Terraform polls until gone).
//!
//! It must go before either VBR leaves its CEN / ECR (the feature requires both attached;
//! the refusal code is not documented — the emulator's choice is
//! `OperationFailed.VbrHaExist` on DeleteTransitRouterVbrAttachment). So the group hangs off
//! the resource that detaches its first VBR (a kind that lists [`Kind::VbrHa`] in its
//! blockers: the TR VBR attachment here; ECR / Basic-CEN child instances once they exist),
//! else off the VBR itself, and names the other VBR's in its `also_blocks` fact. Note for
//! the ECR and Basic-CEN child-instance kinds (another branch): list [`Kind::VbrHa`] and
//! [`Kind::VbrHealthCheck`] in their `blockers()`, register them before these kinds, and set
//! an `ecr` fact on VBRs attached to an ECR (read by [`attached`]).

use std::collections::BTreeMap;

use super::virtual_border_router::own_by_region;
use super::{Discovery, Kind, KindSpec, StepSpec, absent_ok, concurrently, no_call};
use crate::api::ops::vpc_circuit;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The VBR-failover-group kind.
pub struct Spec;

/// The resources whose removal takes VBR `vbr` out of a CEN / ECR and that `kind` must
/// precede: every child of the VBR of a kind that lists `kind` among its blockers (its TR
/// attachment, ECR child, Basic-CEN child), else the VBR itself (when the inventory has it).
pub fn holders(inv: &Inventory, vbr: &str, kind: Kind) -> Vec<String> {
    let mut out: Vec<String> = Kind::ALL
        .iter()
        .filter(|k| **k != Kind::VirtualBorderRouter && k.spec().blockers().contains(&kind))
        .flat_map(|k| inv.children(*k, vbr).map(|r| r.id.clone()))
        .collect();
    if out.is_empty()
        && let Some(v) = inv.get(Kind::VirtualBorderRouter, vbr)
    {
        out.push(v.id.clone());
    }
    out
}

/// What DescribeVbrHa answered per VBR asked (region, failover group if any), shared by the
/// prefetch and [`KindSpec::discover`]: one fetch at a time, later askers wait for it.
#[derive(Debug, Default)]
pub struct Prefetched {
    asked: tokio::sync::Mutex<BTreeMap<String, (String, Option<vpc_circuit::VbrHa>)>>,
}

impl Prefetched {
    /// The answers for `asks` ((region, VBR)): those already fetched, the others fetched now
    /// (concurrently) and kept. Errors: the first failed call.
    async fn answers(
        &self,
        c: &crate::api::ReadClient,
        asks: Vec<(String, String)>,
    ) -> Result<Vec<(String, Option<vpc_circuit::VbrHa>)>, CallError> {
        let mut asked = self.asked.lock().await;
        let missing: Vec<(String, String)> = asks
            .iter()
            .filter(|(_, v)| !asked.contains_key(v))
            .cloned()
            .collect();
        let c = c.clone();
        let fetched = concurrently(missing, move |(region, vbr)| {
            let c = c.clone();
            async move {
                let ha = absent_ok(
                    vpc_circuit::describe_vbr_ha(&c, &region, Some(&vbr), None).await,
                )?
                .flatten();
                Ok((vbr, (region, ha)))
            }
        })
        .await?;
        asked.extend(fetched);
        Ok(asks
            .iter()
            .filter_map(|(_, v)| asked.get(v).cloned())
            .collect())
    }
}

/// The own VBRs attached to a CEN or ECR, as (region, VBR), in region order: the ones
/// DescribeVbrHa is asked about, and whose CEN health checks are looked for.
pub fn attached_own_vbrs(inv: &Inventory) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (region, vbrs) in own_by_region(inv) {
        for v in vbrs {
            if inv
                .get(Kind::VirtualBorderRouter, &v)
                .is_some_and(attached)
            {
                out.push((region.clone(), v));
            }
        }
    }
    out
}

/// True when the VBR is attached to a CEN or an ECR (facts `cens`, `ecr`): only then can it
/// be in a failover group or have a CEN health check.
pub fn attached(r: &Resource) -> bool {
    !r.fact("cens").is_empty() || !r.fact("ecr").is_empty()
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "vbr_ha"
    }
    fn id_prefix(&self) -> &'static str {
        "vbrha-"
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

    /// DescribeVbrHa for every own VBR attached to a CEN or ECR (one call each: the API has
    /// no listing), concurrently; a group found from both its VBRs is recorded once.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            // Fetched by the prefetch while the kinds between ran (what it lacks, now).
            let found = cx.vbr_ha.answers(&cx.client, attached_own_vbrs(inv)).await?;
            let mut groups: BTreeMap<String, (String, vpc_circuit::VbrHa)> = BTreeMap::new();
            for (region, ha) in found {
                if let Some(ha) = ha {
                    groups.entry(ha.vbr_ha_id.clone()).or_insert((region, ha));
                }
            }
            for (id, (region, ha)) in groups {
                let holders: Vec<String> = [&ha.vbr_id, &ha.peer_vbr_id]
                    .into_iter()
                    .flat_map(|v| holders(inv, v, Kind::VbrHa))
                    .collect();
                let Some((first, rest)) = holders.split_first() else {
                    continue;
                };
                let mut r = Resource::new(Kind::VbrHa, &id, &region);
                r.name = ha.name.clone();
                r.status = ha.status.clone();
                r.parent = Some(first.clone());
                r.facts.insert("vbr".into(), ha.vbr_id.clone());
                r.facts.insert("peer_vbr".into(), ha.peer_vbr_id.clone());
                if !rest.is_empty() {
                    r.facts.insert("also_blocks".into(), rest.join(","));
                }
                inv.insert(r);
            }
            Ok(())
        })
    }

    /// DescribeVbrHa needs only the VBRs (their CENs and ECRs): asked as soon as they are
    /// known, while the other VBR blockers are discovered.
    fn prefetched_from(&self) -> &'static [Kind] {
        &[Kind::VirtualBorderRouter, Kind::VbrCircuitAssociation]
    }

    fn prefetch<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &Inventory,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        let asks = attached_own_vbrs(inv);
        Box::pin(async move { cx.vbr_ha.answers(&cx.client, asks).await.map(|_| ()) })
    }

    fn discovered_from(&self) -> Option<&'static [Kind]> {
        Some(&[Kind::VirtualBorderRouter, Kind::TransitRouterVbrAttachment, Kind::ForeignCenAttachment, Kind::EcrChildInstance, Kind::CenChildInstance])
    }

    fn snapshot(
        &self,
        r: &Resource,
        _inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        let (vbr, peer) = (r.fact("vbr"), r.fact("peer_vbr"));
        out.set(
            "vbr_failover_groups",
            &r.id,
            serde_json::json!({"id": r.id, "region": r.region, "vbr": vbr, "peer_vbr": peer,
                "status": r.status, "name": r.name}),
        );
        for v in [vbr, peer] {
            out.ensure_vbr(v, &r.region, &r.id);
            out.ensure_attached(v, &r.region, &r.id);
        }
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        let gone = StepSpec::wait(
            "DescribeVbrHa",
            "gone",
            "DeleteVbrHa is asynchronous (Terraform polls until gone)",
        );
        if r.status == "Deleting" {
            return Ok(vec![gone]);
        }
        Ok(vec![
            StepSpec::call(
                Action::Delete,
                "DeleteVbrHa",
                "a VBR failover group goes before its VBRs leave their CEN / ECR",
            ),
            gone,
        ])
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "pairs the VBR of"
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
                    vpc_circuit::delete_vbr_ha(w, &step.region, &step.resource, token)
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
        "DescribeVbrHa"
    }

    /// DescribeVbrHa by the group's id: its status, or `gone` (an empty answer, or 404
    /// `ResourceNotFound.VbrHa`, which the caller reads as gone).
    fn probe<'a>(
        &'a self,
        c: &'a ReadClient,
        step: &'a Step,
    ) -> BoxFuture<'a, Result<String, CallError>> {
        Box::pin(async move {
            let ha = vpc_circuit::describe_vbr_ha(c, &step.region, None, Some(&step.resource))
                .await?;
            Ok(ha.map_or_else(|| "gone".to_string(), |h| h.status))
        })
    }
}
