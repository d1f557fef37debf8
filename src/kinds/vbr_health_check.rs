//! CEN health check of a VBR (`<cen-…>/<vbr-…>`, Cbn; blockers.md V10): listed with
//! DescribeCenVbrHealthCheck once per region of own VBRs attached to a CEN (the listing takes
//! `VbrInstanceRegionId` and pages), removed with DisableCenVbrHealthCheck and waited until
//! the listing no longer shows it. Terraform removes it before the VBR's CEN attachment;
//! whether it refuses the detach is not documented (the emulator's choice:
//! `OperationFailed.VbrHealthCheckExist` on DeleteTransitRouterVbrAttachment). It hangs off
//! the resource that detaches the VBR (see [`super::vbr_ha::holders`]).

use std::collections::{BTreeMap, BTreeSet};

use super::vbr_ha::{attached_own_vbrs, holders};
use super::{Discovery, Kind, KindSpec, Listing, PollScope, StepSpec, concurrently, link, no_call};
use crate::api::ops::cbn_health;
use crate::api::{BoxFuture, CallError, Product, ReadClient, WriteClient};
use crate::discover::{Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The health-check kind.
pub struct Spec;

/// The status decom records for a configured health check (the API has none).
const CONFIGURED: &str = "Configured";

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "vbr_health_check"
    }
    fn id_prefix(&self) -> &'static str {
        "cen-"
    }
    fn product(&self) -> Product {
        Product::Cbn
    }
    fn regional(&self) -> bool {
        true
    }
    fn targetable(&self) -> bool {
        false
    }

    /// One DescribeCenVbrHealthCheck listing per region holding own VBRs attached to a CEN.
    fn discover<'a>(
        &'a self,
        cx: &'a Discovery,
        inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (region, v) in attached_own_vbrs(inv) {
                wanted.entry(region).or_default().insert(v);
            }
            let c = cx.client.clone();
            let regions: Vec<String> = wanted.keys().cloned().collect();
            let lists = concurrently(regions, move |region| {
                let c = c.clone();
                async move {
                    let list =
                        cbn_health::describe_cen_vbr_health_checks(&c, &region, None, None).await?;
                    Ok((region, list))
                }
            })
            .await?;
            for (region, list) in lists {
                for h in list {
                    if !wanted[&region].contains(&h.vbr_instance_id) {
                        continue;
                    }
                    let found = holders(inv, &h.vbr_instance_id, Kind::VbrHealthCheck);
                    let Some((parent, rest)) = found.split_first() else {
                        continue;
                    };
                    let id = format!("{}/{}", h.cen_id, h.vbr_instance_id);
                    let mut r = Resource::new(Kind::VbrHealthCheck, &id, &region);
                    r.status = CONFIGURED.into();
                    r.parent = Some(parent.clone());
                    if !rest.is_empty() {
                        r.facts
                            .insert(crate::discover::ALSO_BLOCKS.into(), rest.join(","));
                    }
                    r.facts.insert("target_ip".into(), h.health_check_target_ip);
                    inv.insert(r);
                }
            }
            Ok(())
        })
    }

    fn discovered_from(&self) -> Option<&'static [Kind]> {
        Some(&[Kind::VirtualBorderRouter, Kind::TransitRouterVbrAttachment, Kind::ForeignCenAttachment, Kind::EcrChildInstance, Kind::CenChildInstance])
    }

    fn snapshot(
        &self,
        r: &Resource,
        _inv: &Inventory,
        out: &mut crate::snapshot::WorldDoc,
    ) {
        let (cen, vbr) = super::link(&r.id);
        out.set(
            "cen_vbr_health_checks",
            &r.id,
            serde_json::json!({"cen": cen, "vbr": vbr, "target_ip": r.fact("target_ip")}),
        );
        out.cen(cen, serde_json::json!({}));
        out.ensure_vbr(vbr, &r.region, &r.id);
        out.ensure_attached(vbr, &r.region, &r.id);
    }

    fn steps(&self, _r: &Resource) -> Result<Vec<StepSpec>, String> {
        Ok(vec![
            StepSpec::call(
                Action::Delete,
                "DisableCenVbrHealthCheck",
                "a CEN health check of the VBR goes before the VBR leaves the CEN",
            ),
            StepSpec::wait(
                "DescribeCenVbrHealthCheck",
                "gone",
                "DisableCenVbrHealthCheck is asynchronous",
            ),
        ])
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "checks the VBR of"
    }

    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        _token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let (cen, vbr) = link(&step.resource);
            match step.action {
                Action::Delete => {
                    cbn_health::disable_cen_vbr_health_check(w, cen, vbr, &step.region)
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
        "DescribeCenVbrHealthCheck"
    }
    fn poll_scope(&self, _step: &Step) -> String {
        String::new()
    }
    fn listable(&self) -> bool {
        true
    }
    /// The region's health checks in one listing (by VBR when one id is asked).
    fn poll_list<'a>(
        &'a self,
        c: &'a ReadClient,
        scope: &'a PollScope,
        ids: Option<&'a [String]>,
        one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(async move {
            let ids = ids.unwrap_or_default();
            let vbrs: Vec<Option<&str>> = if one_by_one || ids.len() == 1 {
                ids.iter().map(|id| Some(link(id).1)).collect()
            } else {
                vec![None]
            };
            let mut out = std::collections::HashMap::new();
            let mut n = 0;
            for vbr in vbrs {
                let list =
                    cbn_health::describe_cen_vbr_health_checks(c, &scope.region, None, vbr).await?;
                n += list.len();
                out.extend(list.into_iter().map(|h| {
                    (
                        format!("{}/{}", h.cen_id, h.vbr_instance_id),
                        CONFIGURED.to_string(),
                    )
                }));
            }
            Ok((out, n))
        })
    }
}
