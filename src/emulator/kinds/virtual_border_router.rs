//! Virtual border routers (`vbr-`, alibaba-api.md §2): the `virtual_border_routers` world
//! section, DescribeVirtualBorderRouters(ForPhysicalConnection), Terminate/Delete and the
//! `active → terminating → terminated` transition. A VBR's deletion is blocked by the router
//! interfaces, BGP groups and TR attachments on it; a VBR blocks its circuit.

use serde::Deserialize;
use serde_json::{Value, json};

use super::physical_connection::pc_mut;
use super::{EmulatedKind, by_id};
use crate::api::Product::Vpc;
use crate::emulator::ops::{CREATED, Ctx, Fail, Operation, Res, fail, paged, pass, region_checked};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, Tags, World};

/// The actions this kind serves.
const OPERATIONS: &[Operation] = &[
    Operation::read(Vpc, "DescribeVirtualBorderRouters", describe_vbrs),
    Operation::read(
        Vpc,
        "DescribeVirtualBorderRoutersForPhysicalConnection",
        describe_vbrs_for_pc,
    ),
    Operation::mutate(Vpc, "TerminateVirtualBorderRouter", terminate_vbr),
    Operation::mutate(Vpc, "DeleteVirtualBorderRouter", delete_vbr),
];

/// The VBR kind.
pub struct Kind;

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &["virtual_border_routers"]
    }

    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>) {
        for v in &world.virtual_border_routers {
            cx.id(&v.referenced, &v.value.id, "vbr-");
            cx.region(&v.referenced, &v.value.region);
            cx.status(&v.referenced, &v.value.status, VBR_STATUSES);
            cx.reference(
                &v.referenced,
                "physical_connection",
                &v.value.physical_connection,
            );
        }
    }

    fn seed(&self, world: &World, st: &mut State) {
        st.vbrs = by_id(&world.virtual_border_routers, |v| &v.id);
        for v in st.vbrs.values_mut() {
            v.status = v.status.to_ascii_lowercase();
        }
    }

    fn count(&self, st: &State) -> usize {
        st.vbrs.len()
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
}

/// A virtual border router.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualBorderRouter {
    /// `vbr-…`.
    pub id: String,
    /// Region.
    pub region: String,
    /// The circuit it sits on.
    pub physical_connection: String,
    /// Owning account (the world's account when absent).
    #[serde(default)]
    pub owner: Option<String>,
    /// `unconfirmed`, `active`, `terminating`, `terminated`, `recovering`, `deleting`.
    #[serde(default = "active")]
    pub status: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// VLAN id.
    #[serde(default)]
    pub vlan_id: u32,
}

fn active() -> String {
    "active".into()
}

/// Statuses the world may give a VBR (alibaba-api.md §2.1).
const VBR_STATUSES: &[&str] = &[
    "unconfirmed",
    "active",
    "terminating",
    "terminated",
    "recovering",
    "deleting",
];

impl State {
    /// The owner account of a VBR.
    pub fn vbr_owner<'a>(&'a self, vbr: &'a VirtualBorderRouter) -> &'a str {
        vbr.owner.as_deref().unwrap_or(&self.account_id)
    }
}

/// Set a VBR's status (the end of a transition).
fn set_status(st: &mut State, id: &str, status: &str) {
    if let Some(v) = st.vbrs.get_mut(id) {
        v.status = status.to_string();
    }
}

fn vbr_json(st: &State, v: &VirtualBorderRouter) -> Value {
    let pc_status = st
        .pcs
        .get(&v.physical_connection)
        .map(|p| p.status.clone())
        .unwrap_or_default();
    let cens: Vec<Value> = st
        .attachments
        .values()
        .filter(|a| a.spec.vbr.as_deref() == Some(v.id.as_str()))
        .filter_map(|a| st.trs.get(&a.spec.transit_router))
        .map(|(cen, _)| json!({"CenId": cen, "CenOwnerId": st.account_id.parse::<u64>().unwrap_or(0), "CenStatus": "Attached"}))
        .collect();
    json!({
        "VbrId": v.id, "Status": v.status, "CreationTime": CREATED, "ActivationTime": CREATED,
        "VlanId": v.vlan_id, "CircuitCode": "", "RouteTableId": format!("vtb-{}", v.id.trim_start_matches("vbr-")),
        "VlanInterfaceId": format!("ri-{}", v.id.trim_start_matches("vbr-")), "LocalGatewayIp": "10.0.0.1",
        "PeerGatewayIp": "10.0.0.2", "PeeringSubnetMask": "255.255.255.252",
        "PhysicalConnectionId": v.physical_connection, "PhysicalConnectionStatus": pc_status,
        "PhysicalConnectionBusinessStatus": "Normal", "PhysicalConnectionOwnerUid": st.account_id,
        "AccessPointId": "ap-cn-hangzhou-xs-A", "Name": v.name, "Description": "", "Type": "pconnVBR",
        "AssociatedPhysicalConnections": { "AssociatedPhysicalConnection": [ {
            "PhysicalConnectionId": v.physical_connection, "VlanId": v.vlan_id.to_string(),
            "PhysicalConnectionStatus": pc_status, "PhysicalConnectionOwnerUid": st.account_id } ] },
        "AssociatedCens": { "AssociatedCen": cens },
        "Tags": { "Tags": v.tags.iter().map(|(k, val)| json!({"Key": k, "Value": val})).collect::<Vec<_>>() },
    })
}

fn describe_vbrs(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let page = ctx.page()?;
    let f = ctx.filters()?;
    let cross = ctx.flag("IncludeCrossAccountVbr");
    let items = st
        .vbrs
        .values()
        .filter(|v| v.region == region)
        .filter(|v| cross || st.vbr_owner(v) == st.account_id)
        .filter(|v| {
            pass(&f, "VbrId", &v.id) && pass(&f, "PhysicalConnectionId", &v.physical_connection)
        })
        .filter(|v| pass(&f, "Status", &v.status) && pass(&f, "Name", &v.name))
        .map(|v| vbr_json(st, v))
        .collect();
    Ok(paged(
        items,
        page,
        "VirtualBorderRouterSet",
        "VirtualBorderRouterType",
    ))
}

fn describe_vbrs_for_pc(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let page = ctx.page()?;
    let pc = pc_mut(st, ctx)?.id.clone();
    let f = ctx.filters()?;
    let items = st
        .vbrs
        .values()
        .filter(|v| v.physical_connection == pc)
        .filter(|v| pass(&f, "VbrId", &v.id) && pass(&f, "Status", &v.status))
        .map(|v| {
            json!({ "VbrId": v.id, "VbrOwnerUid": st.vbr_owner(v).parse::<u64>().unwrap_or(0), "Status": v.status,
                    "CreationTime": CREATED, "ActivationTime": CREATED, "VlanId": v.vlan_id, "CircuitCode": "",
                    "Type": "pconnVBR" })
        })
        .collect();
    Ok(paged(
        items,
        page,
        "VirtualBorderRouterForPhysicalConnectionSet",
        "VirtualBorderRouterForPhysicalConnectionType",
    ))
}

fn vbr_lookup(st: &State, ctx: &Ctx<'_>) -> Result<String, Fail> {
    let region = region_checked(st, ctx)?;
    let id = ctx.req("VbrId")?;
    st.vbrs
        .get(id)
        .filter(|v| v.region == region)
        .map(|v| v.id.clone())
        .ok_or_else(|| {
            fail(
                404,
                "InvalidVbrId.NotFound",
                "The specified VirutalBorderRouter is not found.",
            )
        })
}

fn terminate_vbr(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let id = vbr_lookup(st, ctx)?;
    let delay = st.timings.terminate_vbr.0;
    let v = st.vbrs.get_mut(&id).expect("looked up");
    if v.status != "active" {
        return Err(fail(
            400,
            "InvalidOperation.OperationNotAllowedInState",
            "The specified VirutalBorderRouter is in invalid state.",
        ));
    }
    v.status = "terminating".into();
    st.schedule(ctx.now + delay, move |st| set_status(st, &id, "terminated"));
    Ok(json!({}))
}

fn delete_vbr(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let id = vbr_lookup(st, ctx)?;
    let v = &st.vbrs[&id];
    if st.vbr_owner(v) != st.account_id && v.status != "unconfirmed" {
        return Err(fail(
            403,
            "Forbidden.OperationNotAllowedByUser",
            "The caller is not allowed to delete the specified VirtualBorderRouter.",
        ));
    }
    if !["unconfirmed", "active", "terminated"].contains(&v.status.as_str()) {
        return Err(fail(
            400,
            "InvalidOperation.OperationNotAllowedInState",
            "The specified VirutalBorderRouter is in invalid state.",
        ));
    }
    if st.ris.values().any(|r| r.vbr == id) {
        return Err(fail(
            400,
            "InvalidOperation.RouterInterfaceNotDeleted",
            "The specified VirutalBorderRouter still has routerInterface.",
        ));
    }
    if st.bgp_groups.values().any(|g| g.vbr == id) {
        return Err(fail(
            400,
            "DependencyViolation.BgpGroup",
            "bgp group exists, cannot delete vbr.",
        ));
    }
    // Open question 3 (alibaba-api.md §13): the code for a VBR still attached to a transit
    // router is not documented; we answer with the documented `InvalidStatus.NotAllowed`
    // ("The virtual border has been associated ...") until the attachment is gone.
    if st
        .attachments
        .values()
        .any(|a| a.spec.vbr.as_deref() == Some(id.as_str()))
    {
        return Err(fail(
            400,
            "InvalidStatus.NotAllowed",
            "The virtual border router has been associated by a transit router attachment.",
        ));
    }
    // Asynchronous (Terraform polls until gone; blockers.md V12): `deleting`, then gone.
    let delay = st.timings.delete_vbr.0;
    set_status(st, &id, "deleting");
    st.schedule(ctx.now + delay, move |st| {
        st.vbrs.remove(&id);
    });
    Ok(json!({}))
}
