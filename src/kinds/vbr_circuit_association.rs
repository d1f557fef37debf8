//! The association of a VBR with a further circuit (id `<vbr-…>/<pc-…>`, Vpc): a VBR can
//! ride several circuits (`AssociatedPhysicalConnections.AssociatedPhysicalConnection[]` of
//! DescribeVirtualBorderRouters, its primary `PhysicalConnectionId` first);
//! UnassociatePhysicalConnectionFromVirtualBorderRouter takes it off one (blockers.md C3,
//! §2.1). Found from the VBRs already discovered (no call of its own).
//!
//! - A VBR that is removed (a target, or every circuit it rides is retired): each
//!   association with a secondary circuit is a part of the VBR (unassociated before
//!   DeleteVirtualBorderRouter, which otherwise answers `InvalidStatus.NotAllowed`, "The
//!   virtual border has been associated by physicalConnection") and blocks that circuit's
//!   termination too (fact [`crate::discover::ALSO_BLOCKS`]).
//! - A VBR that also rides a circuit the plan keeps stays: it leaves the inventory, and its
//!   association with each retired circuit blocks that circuit (cascade) — the circuit is
//!   unassociated instead of the VBR being deleted. The preview names the circuits that keep
//!   it.
//!
//! Open question (blockers.md §2.1: "not allowed for the VBR's last/primary circuit"): the
//! docs do not say whether the circuit a VBR was created on can be unassociated. Chosen: it
//! cannot (the safe reading: decom blocks in `plan` rather than fail in `apply`); a VBR that
//! must leave its primary circuit while staying on another is reported as blocked.
//!
//! Unassociation is asynchronous in practice (Terraform polls until the pair disappears):
//! decom waits until the circuit leaves the VBR's list.

use std::collections::{BTreeMap, BTreeSet};

use super::{Discovery, Kind, KindSpec, Listing, PollScope, StepSpec, link, no_call};
use crate::api::ops::{vpc, vpc_vbr};
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{ALSO_BLOCKS, Found, Inventory, NOTE, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The VBR-circuit association kind.
pub struct Spec;

const LIST: &str = "DescribeVirtualBorderRouters";

fn association(vbr: &Resource, pc: &str) -> Resource {
    let mut r = Resource::new(
        Kind::VbrCircuitAssociation,
        format!("{}/{pc}", vbr.id),
        &vbr.region,
    );
    // The VBR's name and tags: a protect rule on the VBR covers its associations too.
    r.name = vbr.name.clone();
    r.tags = vbr.tags.clone();
    r.status = "active".into();
    r
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "vbr_circuit_association"
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

    /// From the `circuits` fact of every own VBR that rides more than one circuit.
    fn discover<'a>(
        &'a self,
        _cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let retired: BTreeSet<String> = inv
                .of_kind(Kind::PhysicalConnection)
                .map(|r| r.id.clone())
                .collect();
            let targets: BTreeSet<String> = inv
                .resolutions
                .iter()
                .flat_map(|r| r.found.iter())
                .filter(|(k, _)| *k == Kind::VirtualBorderRouter)
                .map(|(_, id)| id.clone())
                .collect();
            let multi: Vec<Resource> = inv
                .of_kind(Kind::VirtualBorderRouter)
                .filter(|v| v.owner.is_none() && v.fact("circuits").contains(','))
                .cloned()
                .collect();
            for mut v in multi {
                let circuits: Vec<String> =
                    v.fact("circuits").split(',').map(str::to_string).collect();
                let primary = circuits[0].clone();
                let gone: Vec<&String> = circuits.iter().filter(|c| retired.contains(*c)).collect();
                if targets.contains(&v.id) || gone.len() == circuits.len() {
                    // The VBR goes: its secondary associations first.
                    for pc in &circuits[1..] {
                        let mut a = association(&v, pc);
                        a.parent = Some(v.id.clone());
                        if retired.contains(pc) {
                            a.facts.insert(ALSO_BLOCKS.into(), pc.clone());
                        }
                        inv.insert(a);
                    }
                    if retired.contains(&primary) {
                        v.parent = Some(primary);
                        inv.insert(v);
                    }
                    continue;
                }
                // The VBR stays on the circuits the plan keeps.
                let keeps: Vec<&str> = circuits
                    .iter()
                    .filter(|c| !retired.contains(*c))
                    .map(String::as_str)
                    .collect();
                inv.remove(&v.key());
                for pc in gone {
                    let mut a = association(&v, pc);
                    a.parent = Some(pc.clone());
                    a.facts.insert("keeps".into(), keeps.join(","));
                    a.facts.insert(
                        NOTE.into(),
                        format!(
                            "{} stays on {}, which the plan keeps: it is unassociated from {pc}, not deleted",
                            v.id,
                            keeps.join(", ")
                        ),
                    );
                    if *pc == primary {
                        a.facts.insert("primary".into(), "true".into());
                    }
                    inv.insert(a);
                }
            }
            Ok(())
        })
    }

    fn discovered_from(&self) -> Option<&'static [Kind]> {
        Some(&[Kind::PhysicalConnection, Kind::VirtualBorderRouter])
    }

    fn completes(&self) -> &'static [Kind] {
        &[Kind::VirtualBorderRouter]
    }

    fn snapshot(
        &self,
        r: &Resource,
        inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        // Of a VBR that goes, the VBR's `associated_physical_connections` (its `circuits`
        // fact) carries it. A VBR that stays on circuits the plan keeps is not in the
        // inventory: rebuild it from its associations (`keeps`, `primary`).
        let (vbr, pc) = super::link(&r.id);
        out.ensure_circuit(pc, &r.region, &r.id);
        if inv.get(Kind::VirtualBorderRouter, vbr).is_some() {
            return;
        }
        let mine: Vec<&Resource> = inv
            .of_kind(Kind::VbrCircuitAssociation)
            .filter(|a| super::link(&a.id).0 == vbr && a.fact("keeps") == r.fact("keeps"))
            .collect();
        let keeps: Vec<&str> = r.fact("keeps").split(',').filter(|c| !c.is_empty()).collect();
        let primary = mine
            .iter()
            .find(|a| a.fact("primary") == "true")
            .map(|a| super::link(&a.id).1)
            .or(keeps.first().copied())
            .unwrap_or(pc);
        let further: Vec<&str> = keeps
            .iter()
            .copied()
            .chain(mine.iter().map(|a| super::link(&a.id).1))
            .filter(|c| *c != primary)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        out.set(
            "virtual_border_routers",
            vbr,
            serde_json::json!({"id": vbr, "region": r.region, "physical_connection": primary,
                "status": "active", "name": r.name, "tags": r.tags,
                "associated_physical_connections": further}),
        );
        for c in keeps {
            out.ensure_circuit(c, &r.region, vbr);
        }
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        let keeps = r.fact("keeps");
        let why = if keeps.is_empty() {
            "a VBR still associated with a further circuit cannot be deleted (InvalidStatus.NotAllowed)"
                .to_string()
        } else {
            format!(
                "the VBR stays on {keeps}: only its association with this circuit goes, the VBR is not deleted"
            )
        };
        Ok(match r.status.as_str() {
            "deleting" => vec![StepSpec::wait(LIST, "gone", "already unassociating")],
            _ => vec![
                StepSpec::call(
                    Action::Unassociate,
                    "UnassociatePhysicalConnectionFromVirtualBorderRouter",
                    why,
                ),
                StepSpec::wait(LIST, "gone", "unassociation is asynchronous"),
            ],
        })
    }

    fn relation(&self, blocked: Kind) -> &'static str {
        if blocked == Kind::VirtualBorderRouter {
            "is a further-circuit association of"
        } else {
            "is a VBR association of"
        }
    }

    fn unremovable(&self, _inv: &Inventory, r: &Resource) -> Option<String> {
        let (vbr, pc) = link(&r.id);
        (r.fact("primary") == "true").then(|| {
            format!(
                "{vbr} was created on {pc} and also rides {}, which the plan keeps: a VBR cannot \
                 be unassociated from the circuit it was created on (decom's reading; not \
                 documented). Delete {vbr} (add it to the plan), or keep {pc}",
                r.fact("keeps")
            )
        })
    }

    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            match step.action {
                Action::Unassociate => {
                    let (vbr, pc) = link(&step.resource);
                    vpc_vbr::unassociate_physical_connection_from_virtual_border_router(
                        w,
                        &step.region,
                        vbr,
                        pc,
                        token,
                    )
                    .await
                    .map(|_| ())
                }
                _ => Err(no_call(step)),
            }
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        action == Action::Unassociate && matches!(state, "deleting" | "gone")
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
    /// The VBRs of the associations, filtered by id (5 per call): an association is there
    /// while its circuit is in the VBR's `AssociatedPhysicalConnections`.
    fn poll_list<'a>(
        &'a self,
        c: &'a ReadClient,
        scope: &'a PollScope,
        ids: Option<&'a [String]>,
        _one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(async move {
            let vbrs: BTreeSet<String> = ids
                .unwrap_or_default()
                .iter()
                .map(|id| link(id).0.to_string())
                .collect();
            let f = vpc::VbrFilter {
                vbr_ids: vbrs.into_iter().collect(),
                include_cross_account: true,
                ..Default::default()
            };
            let list = vpc::describe_virtual_border_routers(c, &scope.region, &f).await?;
            let n = list.len();
            let mut out = BTreeMap::new();
            for v in list {
                for a in &v.associated_physical_connections {
                    let status = if a.status.is_empty() {
                        "active".to_string()
                    } else {
                        a.status.to_ascii_lowercase()
                    };
                    out.insert(format!("{}/{}", v.vbr_id, a.physical_connection_id), status);
                }
            }
            Ok((out.into_iter().collect(), n))
        })
    }
}
