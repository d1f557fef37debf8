//! A network-quality probe (NQA) on a VBR (`nqa-`, Vpc; blockers.md V5, §2.1, §3.14):
//! DescribeNqas, DeleteNqa. These operations exist only in the legacy API metadata
//! (`aliyun-openapi-meta` vpc/DescribeNqas.json, vpc/DeleteNqa.json); the current Vpc SDKs
//! dropped them. An NQA blocks DeleteVirtualBorderRouter (400 `DependencyViolation.Nqa`,
//! "nqa exists, cannot delete vbr" [doc]).
//!
//! Open questions: whether DeleteNqa is asynchronous is not documented (decom waits until
//! the probe is gone, which costs one poll when it is synchronous); whether a real account
//! still answers DescribeNqas is not known — an `InvalidAction.NotFound` /
//! `InvalidApi.NotFound` answer is read as "no NQA" (the API is gone, so none can exist).

use std::collections::{BTreeSet, HashMap};

use super::virtual_border_router::own_by_region;
use super::{per_region, Discovery, Kind, KindSpec, Listing, PollScope, StepSpec, absent_ok, no_call};
use crate::api::ops::vpc_vbr;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The NQA kind.
pub struct Spec;

const LIST: &str = "DescribeNqas";

/// Every NQA of the region; an API that no longer exists has none.
async fn region_nqas(c: &ReadClient, region: &str) -> Result<Vec<vpc_vbr::Nqa>, CallError> {
    match vpc_vbr::describe_nqas(c, region, None).await {
        Err(e) if matches!(e.code(), Some("InvalidAction.NotFound" | "InvalidApi.NotFound")) => {
            tracing::warn!(region, "DescribeNqas is not served: no NQA can block a VBR");
            Ok(Vec::new())
        }
        other => Ok(absent_ok(other)?.unwrap_or_default()),
    }
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "nqa"
    }
    fn id_prefix(&self) -> &'static str {
        "nqa-"
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

    /// One listing per region with own VBRs (DescribeNqas without RouterId), filtered to
    /// those VBRs.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let listed = per_region(cx, own_by_region(inv), |c, region, _| async move {
                region_nqas(&c, &region).await
            })
            .await?;
            for (region, vbrs, nqas) in listed {
                let wanted: BTreeSet<String> = vbrs.into_iter().collect();
                for n in nqas {
                    if !wanted.contains(&n.router_id) {
                        continue;
                    }
                    let mut r = Resource::new(Kind::Nqa, &n.nqa_id, &region);
                    r.status = n.status.clone();
                    r.parent = Some(n.router_id.clone());
                    r.facts
                        .insert("destination".into(), n.destination_ip.clone());
                    inv.insert(r);
                }
            }
            Ok(())
        })
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
        let vbr = r.parent.clone().unwrap_or_default();
        out.set(
            "nqas",
            &r.id,
            serde_json::json!({"id": r.id, "vbr": vbr, "status": r.status,
                "destination_ip": r.fact("destination")}),
        );
        out.ensure_vbr(&vbr, &r.region, &r.id);
    }

    fn steps(&self, _r: &Resource) -> Result<Vec<StepSpec>, String> {
        Ok(vec![
            StepSpec::call(
                Action::Delete,
                "DeleteNqa",
                "an NQA blocks DeleteVirtualBorderRouter (DependencyViolation.Nqa); legacy API",
            ),
            StepSpec::wait(LIST, "gone", "whether DeleteNqa is asynchronous is not documented"),
        ])
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "probes from"
    }

    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            match step.action {
                Action::Delete => vpc_vbr::delete_nqa(w, &step.region, &step.resource, token)
                    .await
                    .map(|_| ()),
                _ => Err(no_call(step)),
            }
        })
    }

    fn already_applied(&self, action: Action, state: &str) -> bool {
        action == Action::Delete && state == "gone"
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
    fn poll_list<'a>(
        &'a self,
        c: &'a ReadClient,
        scope: &'a PollScope,
        _ids: Option<&'a [String]>,
        _one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(async move {
            let list = region_nqas(c, &scope.region).await?;
            let n = list.len();
            let out: HashMap<String, String> =
                list.into_iter().map(|x| (x.nqa_id, x.status)).collect();
            Ok((out, n))
        })
    }
}
