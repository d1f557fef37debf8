//! IPsec connection bound to a transit router (`vco-`, Vpc): DescribeVpnAttachments,
//! DeleteVpnAttachment (alibaba-api.md §4). Blocked by the TR attachment that binds it.

use super::{
    Discovery, Kind, KindSpec, ListQuery, StepSpec, absent_ok, fetched_by_ids, no_call,
};
use crate::api::ops::vpc;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{DiscoverError, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The TR-bound IPsec connection kind.
pub struct Spec;

/// A TR-bound IPsec connection as discovery records it (`transit_router` fact).
pub fn resource(region: &str, a: &vpc::VpnAttachment) -> Resource {
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

    fn list<'a>(
        &'a self,
        cx: &'a Discovery,
        q: ListQuery<'a>,
    ) -> BoxFuture<'a, Result<Vec<Resource>, DiscoverError>> {
        Box::pin(async move {
            Ok(vpc::describe_vpn_attachments(&cx.client, q.region, None)
                .await?
                .iter()
                .map(|a| resource(q.region, a))
                .collect())
        })
    }

    fn find_by_ids<'a>(
        &'a self,
        cx: &'a Discovery,
        q: ListQuery<'a>,
        ids: Vec<String>,
    ) -> BoxFuture<'a, Result<Vec<Resource>, DiscoverError>> {
        Box::pin(fetched_by_ids(self, cx, q, ids, |c, region, id| async move {
            let found = absent_ok(vpc::describe_vpn_attachments(&c, &region, Some(&id)).await)?;
            Ok(found
                .unwrap_or_default()
                .iter()
                .filter(|a| a.is_bound_to_transit_router() || a.attach_type == "CEN")
                .map(|a| resource(&region, a))
                .collect())
        }))
    }

    fn steps(&self, _r: &Resource) -> Result<Vec<StepSpec>, String> {
        Ok(vec![StepSpec::call(
            Action::Delete,
            "DeleteVpnAttachment",
            "the TR-bound IPsec connection itself",
        )])
    }

    fn blockers(&self) -> &'static [Kind] {
        &[Kind::TransitRouterVpnAttachment]
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
        "DescribeVpnAttachments"
    }

    fn probe<'a>(
        &'a self,
        c: &'a ReadClient,
        step: &'a Step,
    ) -> BoxFuture<'a, Result<String, CallError>> {
        Box::pin(async move {
            let list = vpc::describe_vpn_attachments(c, &step.region, Some(&step.resource)).await?;
            Ok(if list.is_empty() { "gone" } else { "attached" }.to_string())
        })
    }
}
