//! A VBR of the plan attached to a transit router of a CEN that **another account** owns
//! (id `<cen-…>/<vbr-…>`): the VBR's `AssociatedCens[].CenOwnerId` names an account other
//! than the caller's (STS), or the CEN's attachment listing refused this account
//! (a permission error). Only the CEN's owner can delete that transit-router attachment
//! (DeleteTransitRouterVbrAttachment on their CEN); until they do, the VBR cannot be
//! deleted. decom never lists such a CEN's attachments (it is not allowed to) and never
//! lets a refused listing abort the rest of discovery: the attachment is named as a
//! blocker with its owner and what they must do (blockers.md §1C T9).
//!
//! Not a resource decom can remove: it has no steps; it is found by the TR VBR
//! attachment kind's discovery (`transit_router_vbr_attachment`), which is where the
//! CEN listings are made.

use super::{Kind, KindSpec, StepSpec, no_call};
use crate::api::{BoxFuture, CallError, Product, WriteClient};
use crate::discover::{Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;

/// The cross-account CEN attachment kind.
pub struct Spec;

/// The blocker for `vbr` attached to `cen` of `owner` (`None`: unknown because the listing
/// was refused with `refused`).
pub fn resource(
    cen: &str,
    vbr: &str,
    region: &str,
    owner: Option<&str>,
    refused: Option<&str>,
) -> Resource {
    let mut r = Resource::new(Kind::ForeignCenAttachment, format!("{cen}/{vbr}"), region);
    r.status = "Attached".into();
    r.parent = Some(vbr.to_string());
    r.owner = owner.map(str::to_string);
    r.facts.insert("cen".into(), cen.to_string());
    if let Some(code) = refused {
        r.facts.insert("refused".into(), code.to_string());
    }
    r
}

impl KindSpec for Spec {
    fn plan_name(&self) -> &'static str {
        "foreign_cen_attachment"
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
        // Another account's CEN: its transit router and the attachment are not listable,
        // so both are stand-ins, under a CEN with that owner.
        let (cen, vbr) = super::link(&r.id);
        let owner = out.other_account(r.owner.as_deref().unwrap_or(""));
        out.cen(
            cen,
            serde_json::json!({"owner": owner, "owner_visible": r.owner.is_some()}),
        );
        let tr = format!("tr-of-{cen}-{}", r.region);
        out.transit_router_cen(&tr, &r.region, cen);
        let att = format!("tr-attach-of-{vbr}-{cen}");
        out.ensure(
            "transit_router_attachments",
            &att,
            serde_json::json!({"id": att, "transit_router": tr, "vbr": vbr}),
            format!("transit router {tr} and attachment {att} of another account's CEN {cen}"),
        );
        out.ensure_vbr(vbr, &r.region, &r.id);
    }

    fn steps(&self, _r: &Resource) -> Result<Vec<StepSpec>, String> {
        Err("another account's transit-router attachment".into())
    }

    fn relation(&self, _blocked: Kind) -> &'static str {
        "attaches"
    }

    fn unremovable(&self, _inv: &Inventory, r: &Resource) -> Option<String> {
        let cen = r.fact("cen");
        let vbr = r.parent.as_deref().unwrap_or("");
        let whose = match (&r.owner, r.facts.get("refused")) {
            (Some(owner), _) => format!("{cen}, which belongs to account {owner}"),
            (None, Some(code)) => format!(
                "{cen}, whose attachments this account may not list \
                 (ListTransitRouterVbrAttachments answered {code}: another account owns it)"
            ),
            (None, None) => format!("{cen} of another account"),
        };
        Some(format!(
            "{vbr} is attached to a transit router of {whose}: the CEN's owner must detach it \
             (DeleteTransitRouterVbrAttachment on an Enterprise-Edition transit router, \
             DetachCenChildInstance on a Basic-Edition CEN), then rerun decom"
        ))
    }

    fn mutate<'a>(
        &'a self,
        _w: &'a WriteClient,
        step: &'a Step,
        _token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move { Err(no_call(step)) })
    }

    fn already_applied(&self, _action: Action, _state: &str) -> bool {
        false
    }

    fn poll_action(&self, _step: &Step) -> &'static str {
        "ListTransitRouterVbrAttachments"
    }
}
