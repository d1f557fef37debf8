//! IPsec connection bound to a VPN gateway (`vco-`, Vpc): DescribeVpnConnection(s),
//! DeleteVpnConnection, DescribeVpnGateway (alibaba-api.md §4). The gateway is `updating`
//! until a deletion completes and refuses another change meanwhile
//! (`VpnGateway.Configuring`): connections of one gateway are removed one at a time.
//! The connection's own `State` is handled as for the TR-type kind
//! ([`super::vpn_attachment`]): transitional states are waited out with
//! DescribeVpnConnection, `financialLocked` blocks, `deleted` counts as gone.

use super::{
    Discovery, Kind, KindSpec, ListQuery, StepSpec, absent_ok, fetched_by_ids, no_call,
};
use crate::api::ops::vpc;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{DiscoverError, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The gateway-bound IPsec connection kind.
pub struct Spec;

/// A gateway-bound IPsec connection as discovery records it (parent: its gateway).
pub fn resource(region: &str, v: &vpc::VpnConnection) -> Resource {
    let mut r = Resource::new(Kind::VpnConnection, &v.vpn_connection_id, region);
    r.name = v.name.clone();
    r.status = if v.state.is_empty() {
        "active".into()
    } else {
        v.state.clone()
    };
    r.tags = v.tags.clone();
    r.parent = Some(v.vpn_gateway_id.clone());
    r
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "vpn_connection"
    }
    fn id_prefix(&self) -> &'static str {
        "vco-"
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
    fn link_keys(&self) -> &'static [&'static str] {
        &["vpn_gateway"]
    }

    fn list<'a>(
        &'a self,
        cx: &'a Discovery,
        q: ListQuery<'a>,
    ) -> BoxFuture<'a, Result<Vec<Resource>, DiscoverError>> {
        Box::pin(async move {
            let keep = |v: &&vpc::VpnConnection| !v.vpn_gateway_id.is_empty() && !v.is_deleted();
            if let Some(gw) = &q.matcher.vpn_gateway {
                let f = vpc::VpnConnectionFilter {
                    vpn_gateway_id: Some(gw.clone()),
                    ..Default::default()
                };
                let listed = vpc::describe_vpn_connections(&cx.client, q.region, &f).await?;
                return Ok(listed
                    .iter()
                    .filter(keep)
                    .map(|v| resource(q.region, v))
                    .collect());
            }
            // The region's whole listing, shared with the TR-bound kind's.
            let listed = super::vpn_attachment::region_connections(cx, q.region).await?;
            Ok(listed
                .iter()
                .filter(keep)
                .map(|v| resource(q.region, v))
                .collect())
        })
    }

    /// The region's connections (shared with the TR-bound kind) within `calls` calls.
    fn listing_within<'a>(
        &'a self,
        cx: &'a Discovery,
        region: &'a str,
        calls: usize,
    ) -> BoxFuture<'a, Result<bool, CallError>> {
        Box::pin(async move {
            Ok(
                super::vpn_attachment::region_connections_within(cx, region, calls)
                    .await?
                    .is_some(),
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
            let found = absent_ok(vpc::describe_vpn_connection(&c, &region, &id).await)?;
            Ok(found
                .iter()
                .filter(|v| !v.vpn_gateway_id.is_empty() && !v.is_deleted())
                .map(|v| resource(&region, v))
                .collect())
        }))
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
        let gateway = r.parent.clone().unwrap_or_default();
        let state = (r.status != "active").then_some(&r.status);
        out.set(
            "vpn_connections",
            &r.id,
            serde_json::json!({"id": r.id, "region": r.region, "vpn_gateway": gateway,
                "name": r.name, "tags": r.tags, "state": state}),
        );
        out.ensure_gateway(&gateway, &r.region, &r.id);
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        let first = super::vpn_attachment::state_steps(r)?;
        Ok(first
            .into_iter()
            .chain([
            StepSpec::call(
                Action::Delete,
                "DeleteVpnConnection",
                "the IPsec connection itself",
            ),
            StepSpec::wait(
                "DescribeVpnGateway",
                "active",
                "the gateway is updating until the deletion completes",
            ),
        ])
            .collect())
    }

    fn unremovable(&self, _inv: &Inventory, r: &Resource) -> Option<String> {
        super::vpn_attachment::financially_locked(r)
    }

    fn serial_scope(&self, r: &Resource) -> Option<String> {
        r.parent.as_ref().map(|gw| format!("vpn_gateway/{gw}"))
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
                    vpc::delete_vpn_connection(w, &step.region, &step.resource, token)
                        .await
                        .map(|_| ())
                }
                _ => Err(no_call(step)),
            }
        })
    }

    /// A gateway that is `updating` after an error does not show whether this connection's
    /// deletion was applied: never assume it was.
    fn already_applied(&self, _action: Action, _state: &str) -> bool {
        false
    }

    fn poll_action(&self, step: &Step) -> &'static str {
        if step.api == "DescribeVpnConnection" {
            "DescribeVpnConnection"
        } else {
            "DescribeVpnGateway"
        }
    }
    /// Waits on the gateway share the gateway's scope; a wait on the connection's own state
    /// is its own.
    fn poll_scope(&self, step: &Step) -> String {
        if step.api == "DescribeVpnConnection" {
            step.resource.clone()
        } else {
            step.parent.clone().unwrap_or_default()
        }
    }

    /// The wait after DeleteVpnConnection watches the gateway; other probes the connection.
    fn probe<'a>(
        &'a self,
        c: &'a ReadClient,
        step: &'a Step,
    ) -> BoxFuture<'a, Result<String, CallError>> {
        Box::pin(async move {
            match step.action {
                Action::Wait if step.api == "DescribeVpnConnection" => {
                    vpc::describe_vpn_connection(c, &step.region, &step.resource)
                        .await
                        .map(|v| super::vpn_attachment::observed_state(&v.state))
                }
                Action::Wait => match &step.parent {
                    Some(gw) => vpc::describe_vpn_gateway(c, &step.region, gw)
                        .await
                        .map(|g| g.status),
                    None => Ok("active".to_string()),
                },
                _ => vpc::describe_vpn_connection(c, &step.region, &step.resource)
                    .await
                    .map(|_| "active".to_string()),
            }
        })
    }
}
