//! VBRs attached to Basic-Edition CENs as child instances (Cbn 2017-09-12, blockers.md V7,
//! §2.3): the `cen_child_instances` world section, DescribeCenAttachedChildInstances,
//! DescribeCenAttachedChildInstanceAttribute and DetachCenChildInstance (`Attached` →
//! `Detaching` → gone). The VBR lists the CEN in `AssociatedCens`.
//!
//! Only Basic-Edition children are listed (Enterprise attachments are the transit-router
//! module's). Not-found answers use `ParameterInstanceId` (the code Terraform reads as gone);
//! a detach while the child is not `Attached` answers `Operation.Blocking`; a CEN of
//! another account refuses the VBR owner's detach with `Forbidden.NoPermission` (this
//! emulator's choice: not documented).

use serde::Deserialize;
use serde_json::{Value, json};

use tokio::time::Instant;

use super::EmulatedKind;
use crate::api::Product::Cbn;
use crate::emulator::ops::{CREATED, Ctx, Fail, Operation, Res, fail, paged};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, World};

/// The actions this kind serves.
const OPERATIONS: &[Operation] = &[
    Operation::read(
        Cbn,
        "DescribeCenAttachedChildInstances",
        &["CenId"],
        describe_children,
    ),
    Operation::read(
        Cbn,
        "DescribeCenAttachedChildInstanceAttribute",
        &[
            "CenId",
            "ChildInstanceId",
            "ChildInstanceRegionId",
            "ChildInstanceType",
        ],
        describe_child,
    ),
    Operation::mutate(
        Cbn,
        "DetachCenChildInstance",
        &[
            "CenId",
            "ChildInstanceId",
            "ChildInstanceRegionId",
            "ChildInstanceType",
        ],
        detach_child,
    ),
];

/// The Basic-Edition CEN child-instance kind.
pub struct Kind;

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &["cen_child_instances"]
    }

    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>) {
        let mut seen = std::collections::BTreeSet::new();
        for c in &world.cen_child_instances {
            cx.status(&c.referenced, &c.value.status, STATUSES);
            cx.reference(&c.referenced, "cen", &c.value.cen);
            cx.reference(&c.referenced, "vbr", &c.value.vbr);
            if !seen.insert((c.value.cen.as_str(), c.value.vbr.as_str())) {
                cx.link_problem(
                    &c.referenced,
                    format!(
                        "vbr {:?} is attached to {:?} twice",
                        c.value.vbr, c.value.cen
                    ),
                );
            }
        }
    }

    fn seed(&self, world: &World, st: &mut State, _now: Instant) {
        st.cen_children = world
            .cen_child_instances
            .iter()
            .map(|c| (format!("{}/{}", c.value.cen, c.value.vbr), c.value.clone()))
            .collect();
    }

    fn count(&self, st: &State) -> usize {
        st.cen_children.len()
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
}

/// A VBR attached to a Basic-Edition CEN.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CenChildInstance {
    /// The CEN (`cen-…`, from `cens`).
    pub cen: String,
    /// The VBR.
    pub vbr: String,
    /// `Attached` (default), `Attaching`, `Detaching`.
    #[serde(default = "attached")]
    pub status: String,
    /// The CEN's owner account (the world's account when absent).
    #[serde(default)]
    pub cen_owner: Option<String>,
}

fn attached() -> String {
    "Attached".into()
}

const STATUSES: &[&str] = &["Attaching", "Attached", "Detaching"];

fn num(s: &str) -> u64 {
    s.parse().unwrap_or(0)
}

fn child_json(st: &State, c: &CenChildInstance) -> Value {
    let (region, owner) = st
        .vbrs
        .get(&c.vbr)
        .map(|v| (v.region.clone(), st.vbr_owner(v).to_string()))
        .unwrap_or_default();
    json!({
        "CenId": c.cen, "ChildInstanceId": c.vbr, "ChildInstanceType": "VBR",
        "ChildInstanceRegionId": region, "ChildInstanceOwnerId": num(&owner),
        "ChildInstanceAttachTime": CREATED, "Status": c.status,
    })
}

fn describe_children(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let page = ctx.page()?;
    let cen = ctx.req("CenId")?;
    if !st.cens.contains_key(cen) {
        return Err(fail(
            400,
            "ParameterCenInstanceId",
            "The specified CEN instance does not exist.",
        ));
    }
    let region = ctx.get("ChildInstanceRegionId");
    let kind = ctx.get("ChildInstanceType");
    let items = st
        .cen_children
        .values()
        .filter(|c| c.cen == cen && kind.is_none_or(|k| k == "VBR"))
        .filter(|c| region.is_none_or(|r| st.vbrs.get(&c.vbr).is_some_and(|v| v.region == r)));
    Ok(paged(items, page, "ChildInstances", "ChildInstance", |c| {
        child_json(st, c)
    }))
}

fn child_key(st: &State, ctx: &Ctx<'_>) -> Result<String, Fail> {
    let cen = ctx.req("CenId")?;
    let id = ctx.req("ChildInstanceId")?;
    let region = ctx.req("ChildInstanceRegionId")?;
    let kind = ctx.req("ChildInstanceType")?;
    let key = format!("{cen}/{id}");
    let found = st.cen_children.contains_key(&key)
        && kind == "VBR"
        && st.vbrs.get(id).is_some_and(|v| v.region == region);
    if !found {
        return Err(fail(
            400,
            "ParameterInstanceId",
            "The specified child instance is not attached to the CEN.",
        ));
    }
    Ok(key)
}

fn describe_child(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let key = child_key(st, ctx)?;
    let mut body = child_json(st, &st.cen_children[&key]);
    body["ChildInstanceName"] = json!("");
    Ok(body)
}

fn detach_child(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let key = child_key(st, ctx)?;
    let c = &st.cen_children[&key];
    if c.cen_owner.as_deref().is_some_and(|o| o != st.account_id) {
        return Err(fail(
            403,
            "Forbidden.NoPermission",
            "Only the owner of the CEN instance can detach this child instance.",
        ));
    }
    if c.status != "Attached" {
        return Err(fail(
            400,
            "Operation.Blocking",
            "The child instance is being changed; try again later.",
        ));
    }
    let delay = st.timings.detach_cen_child.0;
    if let Some(c) = st.cen_children.get_mut(&key) {
        c.status = "Detaching".into();
    }
    st.schedule(ctx.now + delay, move |st| {
        st.cen_children.remove(&key);
    });
    Ok(json!({}))
}
