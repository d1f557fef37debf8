//! Express Connect circuit (`pc-`, Vpc): DescribePhysicalConnections, Cancel/Terminate/
//! DeletePhysicalConnection (alibaba-api.md §1). Blocked by the VBRs on it, the hosted
//! connections the partner runs on it and the MACsec keys bound to its port (blockers.md C1,
//! C4, C6). A circuit that is itself a hosted connection (`ProductType`
//! `VirtualPhysicalConnection`, blockers.md C5) is explained, not removed: only the partner
//! that owns the parent circuit deletes it.

use super::{
    Discovery, Kind, KindSpec, ListQuery, Listing, PollScope, StepSpec, listed_by_ids, no_call,
};
use crate::api::ops::vpc;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{DiscoverError, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The circuit kind.
pub struct Spec;

/// The `ProductType` of a hosted connection.
pub const HOSTED: &str = "VirtualPhysicalConnection";

/// A circuit as discovery records it: facts `hosted_connections` (count), `macsec_keys`
/// (`ckn:status` list, read by the MACsec-key kind without another call), and for a hosted
/// connection `product_type`, `parent_physical_connection`, `parent_owner`.
pub fn resource(region: &str, p: &vpc::PhysicalConnection) -> Resource {
    let mut r = Resource::new(Kind::PhysicalConnection, &p.physical_connection_id, region);
    r.name = p.name.clone();
    r.status = p.status.clone();
    r.tags = p.tags.clone();
    r.facts.insert(
        "hosted_connections".into(),
        p.virtual_physical_connection_count.clone(),
    );
    if !p.macsec_keys.is_empty() {
        let keys: Vec<String> = p
            .macsec_keys
            .iter()
            .map(|k| format!("{}:{}", k.ckn, k.status))
            .collect();
        r.facts.insert("macsec_keys".into(), keys.join(","));
    }
    if p.product_type == HOSTED {
        r.facts.insert("product_type".into(), p.product_type.clone());
        r.facts.insert(
            "parent_physical_connection".into(),
            p.parent_physical_connection_id.clone(),
        );
        r.facts.insert(
            "parent_owner".into(),
            p.parent_physical_connection_ali_uid.clone(),
        );
    }
    r
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "physical_connection"
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
        true
    }

    fn list<'a>(
        &'a self,
        cx: &'a Discovery,
        q: ListQuery<'a>,
    ) -> BoxFuture<'a, Result<Vec<Resource>, DiscoverError>> {
        Box::pin(async move {
            let f = vpc::PhysicalConnectionFilter {
                physical_connection_ids: q.ids.to_vec(),
                ..Default::default()
            };
            Ok(vpc::describe_physical_connections(&cx.client, q.region, &f)
                .await?
                .iter()
                .map(|p| resource(q.region, p))
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

    /// Found by target resolution (or by another kind's discovery) only.
    fn discovered_from(&self) -> Option<&'static [Kind]> {
        Some(&[])
    }
    fn discovers(&self) -> bool {
        false
    }

    fn snapshot(
        &self,
        r: &Resource,
        _inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        let mut v = serde_json::json!({"id": r.id, "region": r.region, "name": r.name,
            "status": r.status, "tags": r.tags});
        if r.fact("product_type") == HOSTED {
            // This account is the tenant of a partner's circuit (not in the world).
            v["parent_physical_connection"] = r.fact("parent_physical_connection").into();
            v["parent_owner"] = out.other_account(r.fact("parent_owner")).into();
        }
        out.set("physical_connections", &r.id, v);
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        let s = r.status.as_str();
        let d = StepSpec::call(
            Action::Delete,
            "DeletePhysicalConnection",
            "the circuit itself",
        );
        let list = "DescribePhysicalConnections";
        Ok(match s {
            "Enabled" => vec![
                StepSpec::call(
                    Action::Terminate,
                    "TerminatePhysicalConnection",
                    "Enabled circuits are terminated before deletion",
                ),
                StepSpec::wait(
                    list,
                    "Terminated",
                    "DeletePhysicalConnection needs Terminated",
                ),
                d,
            ],
            "Initial" | "Approved" | "Allocated" | "Confirmed" => vec![
                StepSpec::call(
                    Action::Cancel,
                    "CancelPhysicalConnection",
                    format!("{s} (never enabled): cancel before deletion"),
                ),
                StepSpec::wait(list, "Canceled", "DeletePhysicalConnection needs Canceled"),
                d,
            ],
            "Terminating" => vec![StepSpec::wait(list, "Terminated", "already Terminating"), d],
            "Canceled" | "Rejected" | "AllocationFailed" | "Allocation Failed" | "Terminated" => {
                vec![d]
            }
            other => {
                return Err(format!(
                    "status {other}: no documented way to remove it from this state (wait until it is Allocated)"
                ));
            }
        })
    }

    fn blockers(&self) -> &'static [Kind] {
        &[
            Kind::VirtualBorderRouter,
            Kind::VbrCircuitAssociation,
            Kind::HostedConnection,
            Kind::MacsecKey,
        ]
    }

    /// A hosted connection seen from the tenant's side: only the partner that owns the parent
    /// circuit deletes it (Terraform's partner-side resource; blockers.md C5, choice: decom
    /// does not try, since the tenant's DeletePhysicalConnection answers
    /// `OperationDenied.NeedVpconnOwner`).
    fn unremovable(&self, _inv: &Inventory, r: &Resource) -> Option<String> {
        if r.fact("product_type") != HOSTED {
            return None;
        }
        let parent = r.fact("parent_physical_connection");
        let owner = match r.fact("parent_owner") {
            "" | "0" => "the partner".to_string(),
            o => format!("the partner (account {o})"),
        };
        Some(format!(
            "{} is a hosted connection on {parent}: only {owner} that owns {parent} can delete it \
             (DeletePhysicalConnection on its id); a tenant's Terminate/Delete answers \
             OperationDenied.NeedVpconnOwner. Delete your VBRs on it first (target them), then ask \
             the partner",
            r.id
        ))
    }

    fn deadline(&self) -> std::time::Duration {
        std::time::Duration::from_secs(30 * 60)
    }
    fn wait_weight(&self) -> u64 {
        600
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
                Action::Cancel => vpc::cancel_physical_connection(w, r, id, token).await,
                Action::Terminate => vpc::terminate_physical_connection(w, r, id, token).await,
                Action::Delete => vpc::delete_physical_connection(w, r, id, token).await,
                _ => Err(no_call(step)),
            }
            .map(|_| ())
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        match action {
            Action::Terminate => matches!(state, "Terminating" | "Terminated" | "gone"),
            Action::Cancel => matches!(state, "Canceled" | "gone"),
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
            let f = vpc::PhysicalConnectionFilter {
                physical_connection_ids: ids.map(<[String]>::to_vec).unwrap_or_default(),
                ..Default::default()
            };
            let list = vpc::describe_physical_connections(c, &scope.region, &f).await?;
            let n = list.len();
            Ok((
                list.into_iter()
                    .map(|p| (p.physical_connection_id, p.status))
                    .collect(),
                n,
            ))
        })
    }
}
