//! VBR failover groups (`vbrha-`, Vpc) and CEN VBR health checks (Cbn), blockers.md V9–V10:
//! the `vbr_failover_groups` and `cen_vbr_health_checks` world sections, DescribeVbrHa /
//! DeleteVbrHa and DescribeCenVbrHealthCheck / DisableCenVbrHealthCheck, both removals
//! asynchronous.
//!
//! Open question (not documented): what refuses to move while a group or a health check
//! exists. The emulator's choice: DeleteTransitRouterVbrAttachment of either VBR answers
//! 400 `OperationFailed.VbrHaExist` while a group holds the VBR, and 400
//! `OperationFailed.VbrHealthCheckExist` while a health check of it is configured (see
//! [`refuse_detach`]); the transit-router module asks before detaching a VBR.

use serde::Deserialize;
use serde_json::{Value, json};

use tokio::time::Instant;

use super::EmulatedKind;
use crate::api::Product::{Cbn, Vpc};
use crate::emulator::ops::{Ctx, Fail, Operation, Res, fail, paged, region_checked};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, World};

/// The actions this kind serves.
const OPERATIONS: &[Operation] = &[
    Operation::read(Vpc, "DescribeVbrHa", &["RegionId"], describe_vbr_ha),
    Operation::mutate(
        Vpc,
        "DeleteVbrHa",
        &["RegionId", "InstanceId"],
        delete_vbr_ha,
    ),
    Operation::read(
        Cbn,
        "DescribeCenVbrHealthCheck",
        &["VbrInstanceRegionId"],
        describe_health_checks,
    ),
    Operation::mutate(
        Cbn,
        "DisableCenVbrHealthCheck",
        &["CenId", "VbrInstanceId", "VbrInstanceRegionId"],
        disable_health_check,
    ),
];

/// The failover-group and health-check kind.
pub struct Kind;

/// A VBR failover group: two VBRs of one region attached to the same CEN.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VbrHa {
    /// `vbrha-…`.
    pub id: String,
    /// Region (the VBRs').
    pub region: String,
    /// One VBR.
    pub vbr: String,
    /// The other VBR.
    pub peer_vbr: String,
    /// `Creating`, `Active`, `Deleting`.
    #[serde(default = "active")]
    pub status: String,
    /// Name.
    #[serde(default)]
    pub name: String,
}

fn active() -> String {
    "Active".into()
}

/// A health check of a VBR in a CEN.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VbrHealthCheck {
    /// The CEN.
    pub cen: String,
    /// The VBR.
    pub vbr: String,
    /// Probe target.
    #[serde(default = "target")]
    pub target_ip: String,
    /// Set once DisableCenVbrHealthCheck was accepted (not in world files).
    #[serde(skip)]
    pub disabling: bool,
}

fn target() -> String {
    "10.0.0.2".into()
}

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &["vbr_failover_groups", "cen_vbr_health_checks"]
    }

    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>) {
        let attached = |vbr: &str| {
            world
                .transit_router_attachments
                .iter()
                .any(|a| a.value.vbr.as_deref() == Some(vbr))
        };
        let mut in_group: Vec<&str> = Vec::new();
        for h in &world.vbr_failover_groups {
            let (loc, v) = (&h.referenced, &h.value);
            cx.id(loc, &v.id, "vbrha-");
            cx.region(loc, &v.region);
            cx.status(loc, &v.status, &["Creating", "Active", "Deleting"]);
            for vbr in [&v.vbr, &v.peer_vbr] {
                cx.reference(loc, "vbr", vbr);
                if in_group.contains(&vbr.as_str()) {
                    cx.link_problem(loc, format!("{vbr} is in two failover groups"));
                }
                in_group.push(vbr);
                if !attached(vbr) {
                    cx.link_problem(
                        loc,
                        format!("{vbr}: a VBR failover group needs both VBRs attached to a transit router"),
                    );
                }
            }
        }
        for h in &world.cen_vbr_health_checks {
            let (loc, v) = (&h.referenced, &h.value);
            cx.reference(loc, "cen", &v.cen);
            cx.reference(loc, "vbr", &v.vbr);
            if !attached(&v.vbr) {
                cx.link_problem(
                    loc,
                    format!(
                        "{}: a CEN health check needs the VBR attached to a transit router",
                        v.vbr
                    ),
                );
            }
        }
    }

    fn seed(&self, world: &World, st: &mut State, _now: Instant) {
        st.vbr_has = super::by_id(&world.vbr_failover_groups, |h| &h.id);
        st.health_checks = world
            .cen_vbr_health_checks
            .iter()
            .map(|h| (format!("{}/{}", h.value.cen, h.value.vbr), h.value.clone()))
            .collect();
    }

    fn count(&self, st: &State) -> usize {
        st.vbr_has.len() + st.health_checks.len()
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
}

/// Refuse to detach `vbr` from its transit router while a failover group or a health check
/// holds it (the emulator's choice, see the module docs).
pub fn refuse_detach(st: &State, vbr: &str) -> Result<(), Fail> {
    if st
        .vbr_has
        .values()
        .any(|h| h.vbr == vbr || h.peer_vbr == vbr)
    {
        return Err(fail(
            400,
            "OperationFailed.VbrHaExist",
            "Operation failed because the VBR is in a VBR failover group.",
        ));
    }
    if st.health_checks.values().any(|h| h.vbr == vbr) {
        return Err(fail(
            400,
            "OperationFailed.VbrHealthCheckExist",
            "Operation failed because a health check is configured for the VBR.",
        ));
    }
    Ok(())
}

fn ha_json(h: &VbrHa) -> Value {
    json!({ "VbrHaId": h.id, "VbrId": h.vbr, "PeerVbrId": h.peer_vbr, "Status": h.status,
            "Name": h.name, "Description": "", "CreationTime": crate::emulator::ops::CREATED,
            "RegionId": h.region })
}

fn ha_not_found() -> Fail {
    fail(
        404,
        "ResourceNotFound.VbrHa",
        "The VBR HA resource is not found.",
    )
}

/// DescribeVbrHa: by `VbrHaId` (404 `ResourceNotFound.VbrHa` when unknown) or by `VbrId`
/// (an empty body when the VBR is in no group, as Terraform reads it).
fn describe_vbr_ha(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    if let Some(id) = ctx.get("VbrHaId") {
        return st
            .vbr_has
            .get(id)
            .filter(|h| h.region == region)
            .map(ha_json)
            .ok_or_else(ha_not_found);
    }
    let vbr = ctx.get("VbrId");
    Ok(st
        .vbr_has
        .values()
        .filter(|h| h.region == region)
        .find(|h| vbr.is_some_and(|v| v == h.vbr || v == h.peer_vbr))
        .map_or_else(|| json!({}), ha_json))
}

fn delete_vbr_ha(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?.to_string();
    let id = ctx.req("InstanceId")?.to_string();
    let delay = st.timings.delete_vbr_ha.0;
    let h = st
        .vbr_has
        .get_mut(&id)
        .filter(|h| h.region == region)
        .ok_or_else(ha_not_found)?;
    if h.status != "Active" {
        return Err(fail(
            400,
            "IncorrectStatus.VbrHa",
            "The VBR HA is not in a stable state.",
        ));
    }
    h.status = "Deleting".into();
    st.schedule(ctx.now + delay, move |st| {
        st.vbr_has.remove(&id);
    });
    Ok(json!({}))
}

/// The VBR's region, for health checks (which the world files key by CEN and VBR).
fn vbr_region<'a>(st: &'a State, vbr: &str) -> &'a str {
    st.vbrs.get(vbr).map_or("", |v| v.region.as_str())
}

fn describe_health_checks(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = ctx.req("VbrInstanceRegionId")?;
    if !st.regions.contains(region) {
        return Err(fail(
            400,
            "IllegalParam.VbrInstanceRegionId",
            "The specified VbrInstanceRegionId is invalid.",
        ));
    }
    let page = ctx.page()?;
    let (cen, vbr) = (ctx.get("CenId"), ctx.get("VbrInstanceId"));
    let items = st
        .health_checks
        .values()
        .filter(|h| vbr_region(st, &h.vbr) == region)
        .filter(|h| cen.is_none_or(|c| c == h.cen) && vbr.is_none_or(|v| v == h.vbr));
    Ok(paged(
        items,
        page,
        "VbrHealthChecks",
        "VbrHealthCheck",
        |h| {
            json!({ "CenId": h.cen, "VbrInstanceId": h.vbr, "VbrInstanceRegionId": region,
                    "HealthCheckSourceIp": "", "HealthCheckTargetIp": h.target_ip,
                    "HealthCheckInterval": 2, "HealthyThreshold": 8, "HealthCheckOnly": false,
                    "Description": "" })
        },
    ))
}

fn disable_health_check(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let key = format!("{}/{}", ctx.req("CenId")?, ctx.req("VbrInstanceId")?);
    let region = ctx.req("VbrInstanceRegionId")?.to_string();
    let delay = st.timings.disable_health_check.0;
    let found = st.health_checks.contains_key(&key)
        && st
            .health_checks
            .get(&key)
            .is_some_and(|h| vbr_region(st, &h.vbr) == region);
    if !found {
        // Not documented; a NotFound code, so a repeated disable reads as done.
        return Err(fail(
            404,
            "InvalidVbrHealthCheck.NotFound",
            "The specified health check does not exist.",
        ));
    }
    let h = st.health_checks.get_mut(&key).expect("checked");
    if !h.disabling {
        h.disabling = true;
        st.schedule(ctx.now + delay, move |st| {
            st.health_checks.remove(&key);
        });
    }
    Ok(json!({}))
}
