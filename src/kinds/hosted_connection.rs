//! Hosted connection (`pc-`, Vpc; blockers.md C4, §3.15): a tenant's virtual circuit on the
//! caller's (the partner's) dedicated circuit. Listed with ListVirtualPhysicalConnections
//! (per parent circuit, or once per region when several parents carry them), removed by the
//! partner with DeletePhysicalConnection on the hosted connection's own id (Terraform's
//! partner-side resource). It blocks TerminatePhysicalConnection
//! (`OperationFailed.VpconnAttached`) and DeletePhysicalConnection
//! (`OperationDenied.NeedVpconnOwner`) of its parent. The tenant's VBRs on it block it; they
//! are found by the VBR kind like VBRs on any circuit, and only the tenant can delete them
//! once they are confirmed.
//!
//! Open questions (not documented): in which states the partner may delete a hosted
//! connection — decom tries in any state; whether the delete is asynchronous — decom does not
//! wait (neither does Terraform); whether the partner sees the tenant's VBRs — decom assumes
//! DescribeVirtualBorderRoutersForPhysicalConnection on the hosted connection's id shows
//! them, as it shows other accounts' VBRs on the partner's own circuit.

use std::collections::BTreeMap;

use super::{Discovery, Kind, KindSpec, StepSpec, concurrently, no_call};
use crate::api::ops::{vpc, vpc_circuit};
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The hosted-connection kind.
pub struct Spec;

/// Parent circuits in one region above which the region is listed once instead of per
/// parent.
const REGION_WIDE_PARENTS: usize = 1;

/// A hosted connection as discovery records it (parent: the partner's circuit; owner: the
/// tenant; `vpconn_status` fact).
pub fn resource(region: &str, v: &vpc_circuit::VirtualPhysicalConnection) -> Resource {
    let mut r = Resource::new(Kind::HostedConnection, &v.physical_connection_id, region);
    r.name = v.name.clone();
    r.status = v.status.clone();
    r.parent = Some(v.parent_physical_connection_id.clone());
    r.owner = Some(v.ali_uid.clone()).filter(|o| !o.is_empty() && o != "0");
    r.facts.insert(
        "vpconn_status".into(),
        v.virtual_physical_connection_status.clone(),
    );
    r
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "hosted_connection"
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

    /// The hosted connections of every circuit whose answer counts some
    /// (`VirtualPhysicalConnectionCount`): per parent, or one listing of the region when
    /// several parents in it carry them.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let mut parents: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for pc in inv.of_kind(Kind::PhysicalConnection) {
                let n: u64 = pc.fact("hosted_connections").parse().unwrap_or(0);
                if n > 0 && pc.fact("product_type").is_empty() {
                    parents
                        .entry(pc.region.clone())
                        .or_default()
                        .push(pc.id.clone());
                }
            }
            let mut queries: Vec<(String, Option<String>)> = Vec::new();
            for (region, pcs) in &parents {
                if pcs.len() > REGION_WIDE_PARENTS {
                    queries.push((region.clone(), None));
                } else {
                    queries.extend(pcs.iter().map(|p| (region.clone(), Some(p.clone()))));
                }
            }
            let c = cx.client.clone();
            let lists = concurrently(queries, move |(region, parent)| {
                let c = c.clone();
                async move {
                    let list = vpc_circuit::list_virtual_physical_connections(
                        &c,
                        &region,
                        parent.as_deref(),
                    )
                    .await?;
                    Ok((region, list))
                }
            })
            .await?;
            for (region, list) in lists {
                for v in list {
                    let on_ours = parents
                        .get(&region)
                        .is_some_and(|p| p.contains(&v.parent_physical_connection_id));
                    if on_ours && v.virtual_physical_connection_status != "Deleted" {
                        inv.insert(resource(&region, &v));
                    }
                }
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
        let parent = r.parent.clone().unwrap_or_default();
        let owner = r.owner.as_deref().map(|o| out.other_account(o));
        out.set(
            "physical_connections",
            &r.id,
            serde_json::json!({"id": r.id, "region": r.region, "name": r.name,
                "status": r.status, "parent_physical_connection": parent, "owner": owner,
                "vpconn_status": r.fact("vpconn_status")}),
        );
        out.ensure_circuit(&parent, &r.region, &r.id);
    }

    fn steps(&self, _r: &Resource) -> Result<Vec<StepSpec>, String> {
        Ok(vec![StepSpec::call(
            Action::Delete,
            "DeletePhysicalConnection",
            "the partner deletes the hosted connections on its circuit (on the hosted \
             connection's id); they block TerminatePhysicalConnection \
             (OperationFailed.VpconnAttached)",
        )])
    }

    fn blockers(&self) -> &'static [Kind] {
        &[Kind::VirtualBorderRouter]
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "is a hosted connection on"
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
                    vpc::delete_physical_connection(w, &step.region, &step.resource, token)
                        .await
                        .map(|_| ())
                }
                _ => Err(no_call(step)),
            }
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        action == Action::Delete && state == "gone"
    }

    fn poll_action(&self, _step: &Step) -> &'static str {
        "ListVirtualPhysicalConnections"
    }

    /// The hosted connection's status among its parent's, or `gone`.
    fn probe<'a>(
        &'a self,
        c: &'a ReadClient,
        step: &'a Step,
    ) -> BoxFuture<'a, Result<String, CallError>> {
        Box::pin(async move {
            let list = vpc_circuit::list_virtual_physical_connections(
                c,
                &step.region,
                step.parent.as_deref(),
            )
            .await?;
            Ok(list
                .into_iter()
                .find(|v| {
                    v.physical_connection_id == step.resource
                        && v.virtual_physical_connection_status != "Deleted"
                })
                .map_or_else(|| "gone".to_string(), |v| v.status))
        })
    }
}
