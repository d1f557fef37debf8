//! MACsec key bound to a circuit's port (`<pc-…>/<ckn>`, Vpc; blockers.md C6): read from
//! DescribePhysicalConnections (`MacsecKeys.MacsecKey[]`, already in the circuit's answer, so
//! discovery costs no call), removed with DisassociateMacSecKey until the list is empty.
//! TerminatePhysicalConnection answers `OperationDenied.MacsecAttached` while one is left.
//!
//! DisassociateMacSecKey on an `Associated` (active) key makes it `Disassociated` and the
//! most recent other key active; on a `Disassociated` key it deletes it [sdk]. So the
//! inactive keys go first (they are parts of the active key: their parent is the active
//! key; deleting an inactive key changes nothing else, so they go in parallel), then the
//! active one is disassociated twice: deactivate → wait `Disassociated` →
//! delete → wait gone. Open question (async behaviour not documented): decom waits after each
//! call, one poll of DescribePhysicalConnections (coalesced per region) each.

use std::collections::BTreeMap;

use super::{Discovery, Kind, KindSpec, Listing, PollScope, StepSpec, no_call};
use crate::api::ops::{vpc, vpc_circuit};
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The MACsec-key kind.
pub struct Spec;

/// The `Associated` (active) status.
const ACTIVE: &str = "Associated";

/// `(circuit, ckn)` of a key id.
pub fn split(id: &str) -> (&str, &str) {
    id.split_once('/').unwrap_or((id, ""))
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "macsec_key"
    }
    fn id_prefix(&self) -> &'static str {
        "pc-"
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

    /// The keys every circuit's answer listed (fact `macsec_keys`): the active key hangs
    /// off the circuit, the others off the active key (they go first).
    fn discover<'a>(
        &'a self,
        _cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let mut found = Vec::new();
            for pc in inv.of_kind(Kind::PhysicalConnection) {
                let keys: Vec<(&str, &str)> = pc
                    .fact("macsec_keys")
                    .split(',')
                    .filter(|k| !k.is_empty())
                    .map(|k| k.split_once(':').unwrap_or((k, "")))
                    .collect();
                let active = keys
                    .iter()
                    .find(|(_, s)| *s == ACTIVE)
                    .map(|(c, _)| format!("{}/{c}", pc.id));
                for (ckn, status) in keys {
                    let mut r = Resource::new(Kind::MacsecKey, format!("{}/{ckn}", pc.id), &pc.region);
                    r.name = ckn.to_string();
                    r.status = status.to_string();
                    r.parent = match &active {
                        Some(a) if *a != r.id => Some(a.clone()),
                        _ => Some(pc.id.clone()),
                    };
                    found.push(r);
                }
            }
            for r in found {
                inv.insert(r);
            }
            Ok(())
        })
    }

    fn discovered_from(&self) -> Option<&'static [Kind]> {
        Some(&[Kind::PhysicalConnection])
    }

    fn snapshot(
        &self,
        r: &Resource,
        _inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        let (pc, ckn) = super::link(&r.id);
        out.ensure_circuit(pc, &r.region, &r.id);
        let key = serde_json::json!({"ckn": ckn, "status": r.status});
        out.push("physical_connections", pc, "macsec_keys", key);
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        let api = "DisassociateMacSecKey";
        let list = "DescribePhysicalConnections";
        let delete = [
            StepSpec::call(
                Action::Delete,
                api,
                "a Disassociated key is deleted by disassociating it again; MACsec keys block \
                 TerminatePhysicalConnection (OperationDenied.MacsecAttached)",
            ),
            StepSpec::wait(list, "gone", "until MacsecKeys no longer lists it"),
        ];
        Ok(if r.status == ACTIVE {
            let mut v = vec![
                StepSpec::call(
                    Action::Deactivate,
                    api,
                    "the active key is disassociated first (the other keys are gone by then)",
                ),
                StepSpec::wait(list, "Disassociated", "the key must be inactive to be deleted"),
            ];
            v.extend(delete);
            v
        } else {
            delete.to_vec()
        })
    }

    fn parts(&self) -> &'static [Kind] {
        &[Kind::MacsecKey]
    }

    fn relation(&self, blocked: Kind) -> &'static str {
        if blocked == Kind::MacsecKey {
            "is an inactive MACsec key next to"
        } else {
            "is bound to"
        }
    }

    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        _token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let (pc, ckn) = split(&step.resource);
            match step.action {
                Action::Deactivate | Action::Delete => {
                    vpc_circuit::disassociate_macsec_key(w, &step.region, pc, ckn)
                        .await
                        .map(|_| ())
                }
                _ => Err(no_call(step)),
            }
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        match action {
            Action::Deactivate => matches!(state, "Disassociated" | "gone"),
            Action::Delete => state == "gone",
            _ => false,
        }
    }

    fn poll_action(&self, _step: &Step) -> &'static str {
        "DescribePhysicalConnections"
    }
    fn poll_scope(&self, _step: &Step) -> String {
        String::new()
    }
    fn listable(&self) -> bool {
        true
    }
    /// The keys of the circuits named by `ids` (5 circuits per filtered call), or of every
    /// circuit in the region.
    fn poll_list<'a>(
        &'a self,
        c: &'a ReadClient,
        scope: &'a PollScope,
        ids: Option<&'a [String]>,
        _one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(async move {
            let mut pcs: Vec<String> = ids
                .unwrap_or_default()
                .iter()
                .map(|id| split(id).0.to_string())
                .collect();
            pcs.sort();
            pcs.dedup();
            let f = vpc::PhysicalConnectionFilter {
                physical_connection_ids: pcs,
                ..Default::default()
            };
            let list = vpc::describe_physical_connections(c, &scope.region, &f).await?;
            let n = list.len();
            let states: BTreeMap<String, String> = list
                .into_iter()
                .flat_map(|p| {
                    let pc = p.physical_connection_id;
                    p.macsec_keys
                        .into_iter()
                        .map(move |k| (format!("{pc}/{}", k.ckn), k.status))
                })
                .collect();
            Ok((states.into_iter().collect(), n))
        })
    }
}
