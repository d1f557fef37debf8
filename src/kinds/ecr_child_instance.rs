//! A VBR attached to an Express Connect Router (id `<ecr-…>/<vbr-…>`, ExpressConnectRouter
//! 2023-09-01; blockers.md V8, §2.2): found from the VBR's `EcrId` / `EcrAttatchStatus`
//! (sic) / `EcrOwnerId`, listed with DescribeExpressConnectRouterChildInstance (one listing
//! per ECR, `EcrId` is required), removed with DetachExpressConnectRouterChildInstance, then
//! waited out until the ECR no longer lists the VBR (the child passes `DISSOCIATING`).
//! `OperationDenied.VbrHasRouteEntryInMiddleStatus` and `Conflict.Lock` are retried as busy.
//!
//! The RAM resource of the detach is the ECR, so the ECR's owner detaches: an ECR of another
//! account blocks the VBR, naming that account. DeleteVirtualBorderRouter's answer for a VBR
//! still attached is not documented.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Discovery, Kind, KindSpec, Listing, PollScope, StepSpec, concurrently, link, no_call};
use crate::api::ops::ecr;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{Found, Inventory, Resource, SCOPE};
use crate::graph::Step;
use crate::model::Action;

/// The ECR child-instance kind.
pub struct Spec;

const LIST: &str = "DescribeExpressConnectRouterChildInstance";

fn child(vbr: &Resource, ecr_id: &str, status: &str) -> Resource {
    let mut r = Resource::new(
        Kind::EcrChildInstance,
        format!("{ecr_id}/{}", vbr.id),
        &vbr.region,
    );
    r.status = status.to_ascii_uppercase();
    r.parent = Some(vbr.id.clone());
    r.facts.insert(SCOPE.into(), ecr_id.to_string());
    r
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "ecr_child_instance"
    }
    fn id_prefix(&self) -> &'static str {
        "ecr-"
    }
    fn product(&self) -> Product {
        Product::ExpressConnectRouter
    }
    fn regional(&self) -> bool {
        false
    }
    fn targetable(&self) -> bool {
        false
    }

    /// Own VBRs with an `ecr` fact: one listing of VBR children per ECR of this account; a
    /// VBR on another account's ECR is recorded from its own fields (its owner cannot be
    /// listed with our keys).
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let account = inv.account.clone().unwrap_or_default();
            let mut by_ecr: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            let mut foreign: Vec<Resource> = Vec::new();
            for v in inv.of_kind(Kind::VirtualBorderRouter) {
                let ecr_id = v.fact("ecr");
                if v.owner.is_some() || ecr_id.is_empty() {
                    continue;
                }
                let owner = v.fact("ecr_owner");
                if !owner.is_empty() && !account.is_empty() && owner != account {
                    let mut r = child(v, ecr_id, v.fact("ecr_status"));
                    r.owner = Some(owner.to_string());
                    foreign.push(r);
                } else {
                    by_ecr
                        .entry(ecr_id.to_string())
                        .or_default()
                        .insert(v.id.clone());
                }
            }
            for r in foreign {
                inv.insert(r);
            }
            let c = cx.client.clone();
            let listed = concurrently(by_ecr.into_iter().collect(), move |(ecr_id, vbrs)| {
                let c = c.clone();
                async move {
                    let list = super::absent_ok(
                        ecr::describe_express_connect_router_child_instance(&c, &ecr_id, None)
                            .await,
                    )?
                    .unwrap_or_default();
                    Ok((ecr_id, vbrs, list))
                }
            })
            .await?;
            for (ecr_id, vbrs, list) in listed {
                for ch in list {
                    if !vbrs.contains(&ch.child_instance_id) {
                        continue;
                    }
                    let Some(v) = inv
                        .get(Kind::VirtualBorderRouter, &ch.child_instance_id)
                        .cloned()
                    else {
                        continue;
                    };
                    inv.insert(child(&v, &ecr_id, &ch.status));
                }
            }
            Ok(())
        })
    }

    /// A VBR failover group and a CEN health check of the VBR go before it leaves the
    /// CEN / ECR (blockers.md V9, V10).
    fn blockers(&self) -> &'static [Kind] {
        &[Kind::VbrHa, Kind::VbrHealthCheck]
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
        let (ecr, vbr) = super::link(&r.id);
        let owner = r.owner.as_deref().map(|o| out.other_account(o));
        out.set(
            "express_connect_routers",
            ecr,
            serde_json::json!({"id": ecr, "owner": owner}),
        );
        let child = serde_json::json!({"vbr": vbr, "status": r.status});
        out.push("express_connect_routers", ecr, "vbrs", child);
        out.ensure_vbr(vbr, &r.region, &r.id);
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        let detach = StepSpec::call(
            Action::Detach,
            "DetachExpressConnectRouterChildInstance",
            "a VBR attached to an Express Connect Router cannot be deleted",
        );
        let gone = StepSpec::wait(LIST, "gone", "the detach is asynchronous (DISSOCIATING)");
        Ok(match r.status.as_str() {
            "ACTIVE" => vec![detach, gone],
            "DISSOCIATING" | "DELETING" => vec![StepSpec::wait(LIST, "gone", "already detaching")],
            "CREATING" | "ASSOCIATING" | "UPDATING" => vec![
                StepSpec::wait(LIST, "ACTIVE", "the ECR only detaches ACTIVE children"),
                detach,
                gone,
            ],
            other => return Err(format!("status {other}: not detachable")),
        })
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "is the Express Connect Router attachment of"
    }

    fn unremovable(&self, _inv: &Inventory, r: &Resource) -> Option<String> {
        let owner = r.owner.as_deref()?;
        let (ecr_id, vbr) = link(&r.id);
        Some(format!(
            "{vbr} is attached to Express Connect Router {ecr_id} of account {owner}: only that \
             account can detach it (DetachExpressConnectRouterChildInstance; the RAM resource is \
             the ECR); then revoke the grant (RevokeInstanceFromExpressConnectRouter)"
        ))
    }

    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            match step.action {
                Action::Detach => {
                    let (ecr_id, vbr) = link(&step.resource);
                    ecr::detach_express_connect_router_child_instance(w, ecr_id, vbr, token)
                        .await
                        .map(|_| ())
                }
                _ => Err(no_call(step)),
            }
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        action == Action::Detach && matches!(state, "DISSOCIATING" | "DELETING" | "gone")
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
    /// The ECR's VBR children (one listing for every wait on that ECR); one child by id
    /// when confirming.
    fn poll_list<'a>(
        &'a self,
        c: &'a ReadClient,
        scope: &'a PollScope,
        ids: Option<&'a [String]>,
        one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(async move {
            let mut out = HashMap::new();
            let mut n = 0;
            let by_id: Vec<Option<&str>> = match ids {
                Some(ids) if one_by_one => ids.iter().map(|i| Some(link(i).1)).collect(),
                _ => vec![None],
            };
            for vbr in by_id {
                let list =
                    ecr::describe_express_connect_router_child_instance(c, &scope.key, vbr).await?;
                n += list.len();
                out.extend(list.into_iter().map(|ch| {
                    (
                        format!("{}/{}", scope.key, ch.child_instance_id),
                        ch.status.to_ascii_uppercase(),
                    )
                }));
            }
            Ok((out, n))
        })
    }
}
