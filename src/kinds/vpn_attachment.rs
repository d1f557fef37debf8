//! IPsec connection of the transit-router type (`vco-`, Vpc): bound to a transit router
//! (`AttachType=CEN`), or unbound (`State=init`, `AttachType=NO_ASSOCIATED`, e.g. after a
//! previous run or the console removed its TR attachment). Both are removed with
//! DeleteVpnAttachment (API page: an unbound connection is deleted with it too); a bound one
//! is blocked by the TR attachment that binds it.
//!
//! Discovery: by id with DescribeVpnConnection (it answers for connections in every state
//! and binding, unlike DescribeVpnAttachments, whose documented scope is connections bound
//! to a transit router); selectors list DescribeVpnAttachments and DescribeVpnConnections
//! (the unbound ones appear only in the latter). `State` (SDK enum, blockers.md §1D I2):
//! `active`, `init`, `attached` are settled and deleted at once; `attaching`, `detaching`,
//! `provisioning`, `updating`, `upgrading` are waited out first (polled with
//! DescribeVpnConnection until settled); `financialLocked` cannot be deleted until the
//! bill is settled; `deleted` counts as gone.

use std::collections::BTreeMap;

use super::{
    Discovery, Kind, KindSpec, ListQuery, StepSpec, absent_ok, fetched_by_ids, no_call,
};
use crate::api::ops::vpc;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{DiscoverError, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The transit-router-type IPsec connection kind.
pub struct Spec;

/// `State` values of an IPsec connection that allow its deletion now.
pub const SETTLED: &[&str] = &["active", "init", "attached"];
/// `State` values that pass by themselves: waited out before the deletion.
pub const TRANSITIONAL: &[&str] = &[
    "attaching",
    "detaching",
    "provisioning",
    "updating",
    "upgrading",
];
/// The state a wait on a transitional connection waits for (any of [`SETTLED`]).
pub const SETTLED_STATE: &str = "settled";

/// The state a wait sees: `settled` for any of [`SETTLED`], `gone` for `deleted`, else the
/// connection's `State`.
pub fn observed_state(state: &str) -> String {
    if SETTLED.iter().any(|s| s.eq_ignore_ascii_case(state)) {
        SETTLED_STATE.to_string()
    } else if state.eq_ignore_ascii_case("deleted") {
        "gone".to_string()
    } else {
        state.to_string()
    }
}

/// The wait that precedes the deletion of a connection in a transitional state (none for
/// a settled one); `Err` for a state that allows no deletion.
pub fn state_steps(r: &Resource) -> Result<Option<StepSpec>, String> {
    let s = r.status.as_str();
    if s.is_empty() || SETTLED.iter().any(|x| x.eq_ignore_ascii_case(s)) {
        return Ok(None);
    }
    if TRANSITIONAL.iter().any(|x| x.eq_ignore_ascii_case(s)) {
        return Ok(Some(StepSpec::wait(
            "DescribeVpnConnection",
            SETTLED_STATE,
            format!("the connection is {s}: changes are refused (VpnConnection.Configuring) until it settles"),
        )));
    }
    Err(format!("state {s}: not deletable"))
}

/// Why a connection in `financialLocked` cannot be deleted.
pub fn financially_locked(r: &Resource) -> Option<String> {
    r.status.eq_ignore_ascii_case("financialLocked").then(|| {
        format!(
            "{} is financialLocked (overdue payment): the account owner must settle the bill; \
             then rerun decom",
            r.id
        )
    })
}

/// A TR-type connection from DescribeVpnConnection(s) (`transit_router` fact when bound).
pub fn resource(region: &str, v: &vpc::VpnConnection) -> Resource {
    let mut r = Resource::new(Kind::VpnAttachment, &v.vpn_connection_id, region);
    r.name = v.name.clone();
    r.status = if v.state.is_empty() {
        "attached".into()
    } else {
        v.state.clone()
    };
    r.tags = v.tags.clone();
    if !v.transit_router_id.is_empty() {
        r.facts
            .insert("transit_router".into(), v.transit_router_id.clone());
    }
    if !v.attach_type.is_empty() {
        r.facts.insert("attach_type".into(), v.attach_type.clone());
    }
    r
}

/// Every IPsec connection of `region` (DescribeVpnConnections without a filter), listed once
/// per discovery and shared by both IPsec kinds ([`Discovery::vpn_connections`]). Errors:
/// the listing's.
pub async fn region_connections(
    cx: &Discovery,
    region: &str,
) -> Result<std::sync::Arc<Vec<vpc::VpnConnection>>, CallError> {
    // Without a budget the listing is always read whole.
    Ok(region_connections_within(cx, region, usize::MAX)
        .await?
        .unwrap_or_default())
}

/// [`region_connections`], unless the listing takes more than `budget` calls (`None`, after
/// its first call; nothing is kept). Errors: the listing's.
pub async fn region_connections_within(
    cx: &Discovery,
    region: &str,
    budget: usize,
) -> Result<Option<std::sync::Arc<Vec<vpc::VpnConnection>>>, CallError> {
    let all = vpc::VpnConnectionFilter::default();
    cx.vpn_connections
        .get_within(region, || {
            vpc::describe_vpn_connections_within(&cx.client, region, &all, budget)
        })
        .await
}

/// A TR-bound connection from DescribeVpnAttachments (which has no `State`: `attached`).
pub fn attachment_resource(region: &str, a: &vpc::VpnAttachment) -> Resource {
    let mut r = Resource::new(Kind::VpnAttachment, &a.instance_id, region);
    r.name = a.name.clone();
    r.status = "attached".into();
    r.tags = a.tags.clone();
    if !a.transit_router_id.is_empty() {
        r.facts
            .insert("transit_router".into(), a.transit_router_id.clone());
    }
    r
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "vpn_attachment"
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
        &["transit_router"]
    }

    /// DescribeVpnAttachments (bound connections) and DescribeVpnConnections (every
    /// connection: the unbound TR-type ones are only there), merged by id.
    fn list<'a>(
        &'a self,
        cx: &'a Discovery,
        q: ListQuery<'a>,
    ) -> BoxFuture<'a, Result<Vec<Resource>, DiscoverError>> {
        Box::pin(async move {
            let mut out: BTreeMap<String, Resource> = BTreeMap::new();
            for a in vpc::describe_vpn_attachments(&cx.client, q.region, None).await? {
                let r = attachment_resource(q.region, &a);
                out.insert(r.id.clone(), r);
            }
            // The region's whole listing, shared with the gateway-bound kind's.
            let listed = super::vpn_attachment::region_connections(cx, q.region).await?;
            for v in listed.iter() {
                if !v.is_transit_router_type() {
                    continue;
                }
                if v.is_deleted() {
                    out.remove(&v.vpn_connection_id);
                    continue;
                }
                let mut r = resource(q.region, v);
                if let Some(old) = out.get(&r.id) {
                    if r.name.is_empty() {
                        r.name = old.name.clone();
                    }
                    if r.tags.is_empty() {
                        r.tags = old.tags.clone();
                    }
                    if r.fact("transit_router").is_empty() && !old.fact("transit_router").is_empty()
                    {
                        r.facts.insert(
                            "transit_router".into(),
                            old.fact("transit_router").to_string(),
                        );
                    }
                }
                out.insert(r.id.clone(), r);
            }
            Ok(out.into_values().collect())
        })
    }

    /// The region's connections (shared with the gateway-bound kind) within all but one of
    /// the calls, and one page of DescribeVpnAttachments.
    fn listing_within<'a>(
        &'a self,
        cx: &'a Discovery,
        region: &'a str,
        calls: usize,
    ) -> BoxFuture<'a, Result<bool, CallError>> {
        Box::pin(async move {
            Ok(calls >= 2
                && region_connections_within(cx, region, calls - 1)
                    .await?
                    .is_some())
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
                .filter(|v| v.is_transit_router_type() && !v.is_deleted())
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
        // `attached` / `init` follow from the binding; any other state is written.
        let state = (!["attached", "init"].contains(&r.status.as_str())).then_some(&r.status);
        out.set(
            "vpn_connections",
            &r.id,
            serde_json::json!({"id": r.id, "region": r.region, "name": r.name, "tags": r.tags,
                "state": state}),
        );
    }

    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String> {
        let what = if r.fact("transit_router").is_empty() {
            "the IPsec connection itself (not bound to a transit router: DeleteVpnAttachment \
             deletes unbound connections too)"
        } else {
            "the TR-bound IPsec connection itself"
        };
        let mut steps: Vec<StepSpec> = state_steps(r)?.into_iter().collect();
        steps.push(StepSpec::call(Action::Delete, "DeleteVpnAttachment", what));
        Ok(steps)
    }

    fn note(&self, r: &Resource) -> Option<String> {
        r.fact("transit_router").is_empty().then(|| {
            format!(
                "not bound to a transit router (State {}, AttachType {}): DeleteVpnAttachment \
                 deletes it all the same",
                r.status,
                if r.fact("attach_type").is_empty() {
                    "NO_ASSOCIATED"
                } else {
                    r.fact("attach_type")
                }
            )
        })
    }

    fn blockers(&self) -> &'static [Kind] {
        &[Kind::TransitRouterVpnAttachment]
    }

    fn unremovable(&self, _inv: &Inventory, r: &Resource) -> Option<String> {
        financially_locked(r)
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
                    vpc::delete_vpn_attachment(w, &step.region, &step.resource, token)
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
        "DescribeVpnConnection"
    }

    /// The connection's state as a wait sees it ([`observed_state`]); NotFound is gone.
    fn probe<'a>(
        &'a self,
        c: &'a ReadClient,
        step: &'a Step,
    ) -> BoxFuture<'a, Result<String, CallError>> {
        Box::pin(async move {
            let v = vpc::describe_vpn_connection(c, &step.region, &step.resource).await?;
            Ok(observed_state(&v.state))
        })
    }
}
