//! A VBR attached to a Basic-Edition CEN as a child instance (id `<cen-…>/<vbr-…>`, Cbn;
//! blockers.md V7, §2.3): found from the VBR's `AssociatedCens`, listed with
//! DescribeCenAttachedChildInstances (one listing per CEN, `ChildInstanceType=VBR`),
//! removed with DetachCenChildInstance (no ClientToken), then waited out until the CEN no
//! longer lists it (`Detaching`, then gone; a single child is looked at with
//! DescribeCenAttachedChildInstanceAttribute).
//!
//! Documented refusals of the detach: `OperationFailed.AttachmentReferencedVpcRouteEntryExisted`
//! (routes in a VPC route table still point at the attachment; retried as busy),
//! `Forbidden.OptimizationCCNExisted`, `Forbidden.PrivatezoneRouteExisted` (CCN and
//! PrivateZone features, not visible to decom's discovery: the step fails with the code and
//! the README says what to remove). A CEN of another account (`CenOwnerId`) must detach the
//! VBR itself: blocked, naming that account.
//!
//! A VBR with a transit-router attachment is attached through its Enterprise transit router
//! (the TR VBR attachment kind removes it): its CENs are not listed for child instances, so
//! decom never sends a Basic-Edition detach for an Enterprise attachment (whether
//! DescribeCenAttachedChildInstances lists TR-attached VBRs is not documented).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Discovery, Kind, KindSpec, Listing, PollScope, StepSpec, concurrently, link, no_call};
use crate::api::ops::cbn_basic;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{Found, Inventory, Resource, SCOPE};
use crate::graph::Step;
use crate::model::Action;

/// The Basic-Edition CEN child-instance kind.
pub struct Spec;

const LIST: &str = "DescribeCenAttachedChildInstances";

fn child(vbr: &Resource, cen: &str, status: &str, owner: &str) -> Resource {
    let mut r = Resource::new(
        Kind::CenChildInstance,
        format!("{cen}/{}", vbr.id),
        &vbr.region,
    );
    r.status = status.to_string();
    r.parent = Some(vbr.id.clone());
    r.facts.insert(SCOPE.into(), cen.to_string());
    r.facts.insert("cen_owner".into(), owner.to_string());
    r
}

/// Every CEN a VBR reports (`cens` fact) with its owner (`cen_owners` fact; "" when the
/// answer does not say).
fn owners(v: &Resource) -> BTreeMap<String, String> {
    let known = super::virtual_border_router::cen_owners(v);
    v.fact("cens")
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|c| (c.to_string(), known.get(c).cloned().unwrap_or_default()))
        .collect()
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "cen_child_instance"
    }
    fn id_prefix(&self) -> &'static str {
        "cen-"
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

    /// Own VBRs with CENs and no TR attachment: one listing per CEN of this account; a VBR
    /// on another account's CEN is recorded from its own fields.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let account = inv.account.clone().unwrap_or_default();
            let with_tr: BTreeSet<String> = inv
                .of_kind(Kind::TransitRouterVbrAttachment)
                .filter_map(|a| a.parent.clone())
                .collect();
            let mut by_cen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            let mut foreign: Vec<Resource> = Vec::new();
            for v in inv.of_kind(Kind::VirtualBorderRouter) {
                if v.owner.is_some() || with_tr.contains(&v.id) {
                    continue;
                }
                for (cen, owner) in owners(v) {
                    // Another account's CEN is named once, by `foreign_cen_attachment`
                    // (whichever edition it is).
                    if inv
                        .get(Kind::ForeignCenAttachment, &format!("{cen}/{}", v.id))
                        .is_some()
                    {
                        continue;
                    }
                    if !owner.is_empty() && !account.is_empty() && owner != account {
                        let mut r = child(v, &cen, "Attached", &owner);
                        r.owner = Some(owner.clone());
                        foreign.push(r);
                    } else {
                        by_cen.entry(cen).or_default().insert(v.id.clone());
                    }
                }
            }
            for r in foreign {
                inv.insert(r);
            }
            let c = cx.client.clone();
            let listed = concurrently(by_cen.into_iter().collect(), move |(cen, vbrs)| {
                let c = c.clone();
                async move {
                    let list = super::absent_ok(
                        cbn_basic::describe_cen_attached_child_instances(&c, &cen, None).await,
                    )?
                    .unwrap_or_default();
                    Ok((cen, vbrs, list))
                }
            })
            .await?;
            for (cen, vbrs, list) in listed {
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
                    inv.insert(child(&v, &cen, &ch.status, ""));
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
        Some(&[Kind::VirtualBorderRouter, Kind::TransitRouterVbrAttachment, Kind::ForeignCenAttachment])
    }

    fn snapshot(
        &self,
        r: &Resource,
        inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        let (cen, vbr) = super::link(&r.id);
        let owner = r.fact("cen_owner");
        let foreign = !owner.is_empty() && inv.account.as_deref().is_some_and(|a| a != owner);
        let cen_owner = foreign.then(|| out.other_account(owner));
        out.set(
            "cen_child_instances",
            &r.id,
            serde_json::json!({"cen": cen, "vbr": vbr, "status": r.status,
                "cen_owner": cen_owner}),
        );
        out.cen(cen, serde_json::json!({}));
        out.ensure_vbr(vbr, &r.region, &r.id);
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        let detach = StepSpec::call(
            Action::Detach,
            "DetachCenChildInstance",
            "a VBR attached to a Basic-Edition CEN is detached before it is deleted",
        );
        let gone = StepSpec::wait(LIST, "gone", "the detach is asynchronous (Detaching)");
        Ok(match r.status.as_str() {
            "Attached" => vec![detach, gone],
            "Detaching" => vec![StepSpec::wait(LIST, "gone", "already detaching")],
            "Attaching" => vec![
                StepSpec::wait(LIST, "Attached", "still attaching"),
                detach,
                gone,
            ],
            other => return Err(format!("status {other}: not detachable")),
        })
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "is the Basic-Edition CEN attachment of"
    }

    fn unremovable(&self, _inv: &Inventory, r: &Resource) -> Option<String> {
        let owner = r.owner.as_deref()?;
        let (cen, vbr) = link(&r.id);
        Some(format!(
            "{vbr} is attached to CEN {cen} of account {owner}: only that account can detach it \
             (DetachCenChildInstance with ChildInstanceOwnerId); then revoke the grant \
             (RevokeInstanceFromCen)"
        ))
    }

    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        _token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            match step.action {
                Action::Detach => {
                    let (cen, vbr) = link(&step.resource);
                    cbn_basic::detach_cen_child_instance(w, cen, vbr, &step.region, None)
                        .await
                        .map(|_| ())
                }
                _ => Err(no_call(step)),
            }
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        action == Action::Detach && matches!(state, "Detaching" | "gone")
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
    /// The CEN's VBR children in the region (one listing for every wait on that CEN); the
    /// attribute call for a single child, or when confirming (not found: gone).
    fn poll_list<'a>(
        &'a self,
        c: &'a ReadClient,
        scope: &'a PollScope,
        ids: Option<&'a [String]>,
        one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(async move {
            let mut out = HashMap::new();
            match ids {
                Some(ids) if one_by_one || ids.len() == 1 => {
                    for id in ids {
                        let (cen, vbr) = link(id);
                        match cbn_basic::describe_cen_attached_child_instance_attribute(
                            c,
                            cen,
                            vbr,
                            &scope.region,
                        )
                        .await
                        {
                            Ok(a) if !a.status.is_empty() => {
                                out.insert(id.clone(), a.status);
                            }
                            Ok(_) => {}
                            // Terraform reads these as "not attached any more".
                            Err(e)
                                if e.code() == Some("ParameterInstanceId")
                                    || e.class() == crate::api::ErrorClass::Gone => {}
                            Err(e) => return Err(e),
                        }
                    }
                    let n = out.len();
                    Ok((out, n))
                }
                _ => {
                    let list = cbn_basic::describe_cen_attached_child_instances(
                        c,
                        &scope.key,
                        Some(&scope.region),
                    )
                    .await?;
                    let n = list.len();
                    out.extend(list.into_iter().map(|ch| {
                        (
                            format!("{}/{}", scope.key, ch.child_instance_id),
                            ch.status,
                        )
                    }));
                    Ok((out, n))
                }
            }
        })
    }
}
