//! Express Connect circuits (`pc-`, alibaba-api.md §1): the `physical_connections` world
//! section, DescribePhysicalConnections, Cancel/Terminate/DeletePhysicalConnection and the
//! `Enabled → Terminating → Terminated` and pre-enable `→ Canceled` transitions.

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{EmulatedKind, by_id, ids_in};
use crate::api::Product::Vpc;
use crate::emulator::ops::{CREATED, Ctx, Fail, Operation, Res, fail, paged, pass, region_checked};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, Tags, World};

/// The actions this kind serves, with the parameters each requires (the official SDKs
/// metadata; a request without one is refused like the API gateway does).
const OPERATIONS: &[Operation] = &[
    Operation::read(
        Vpc,
        "DescribePhysicalConnections",
        &["RegionId"],
        describe_pcs,
    ),
    Operation::mutate(
        Vpc,
        "CancelPhysicalConnection",
        &["RegionId", "PhysicalConnectionId"],
        cancel_pc,
    ),
    Operation::mutate(
        Vpc,
        "TerminatePhysicalConnection",
        &["RegionId", "PhysicalConnectionId"],
        terminate_pc,
    ),
    Operation::mutate(
        Vpc,
        "DeletePhysicalConnection",
        &["RegionId", "PhysicalConnectionId"],
        delete_pc,
    ),
];

/// The circuit kind.
pub struct Kind;

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &["physical_connections"]
    }

    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>) {
        for pc in &world.physical_connections {
            cx.id(&pc.referenced, &pc.value.id, "pc-");
            cx.region(&pc.referenced, &pc.value.region);
            cx.status(&pc.referenced, &pc.value.status, PC_STATUSES);
        }
    }

    /// `Terminating` → `Terminated` after `terminate_physical_connection`. (Pre-enable states
    /// and `Allocating` are stable: a cancellation keeps its status until `Canceled`.)
    fn seed(&self, world: &World, st: &mut State, now: Instant) {
        st.pcs = by_id(&world.physical_connections, |p| &p.id);
        let at = now + st.timings.terminate_physical_connection.0;
        for id in ids_in(&st.pcs, |p| &p.status, "Terminating") {
            st.schedule(at, move |st| set_status(st, &id, "Terminated"));
        }
    }

    fn count(&self, st: &State) -> usize {
        st.pcs.len()
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
}

/// An Express Connect circuit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhysicalConnection {
    /// `pc-…`.
    pub id: String,
    /// Region.
    pub region: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Status (alibaba-api.md §1.1): Initial, Approved, Allocating, Allocated, Confirmed,
    /// Enabled, Rejected, Canceled, AllocationFailed, Terminating, Terminated.
    #[serde(default = "enabled")]
    pub status: String,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// Hosted connections still on the circuit (block terminate and delete).
    #[serde(default)]
    pub hosted_connections: u32,
    /// A MACsec key still bound (blocks terminate).
    #[serde(default)]
    pub macsec: bool,
    /// Line operator.
    #[serde(default = "default_operator")]
    pub line_operator: String,
    /// Access point.
    #[serde(default = "default_access_point")]
    pub access_point: String,
    /// Bandwidth in Mbit/s.
    #[serde(default = "default_bandwidth")]
    pub bandwidth: u32,
}

fn enabled() -> String {
    "Enabled".into()
}
fn default_operator() -> String {
    "CT".into()
}
fn default_access_point() -> String {
    "ap-cn-hangzhou-xs-A".into()
}
fn default_bandwidth() -> u32 {
    1000
}

/// Statuses the world may give a circuit (alibaba-api.md §1.1).
const PC_STATUSES: &[&str] = &[
    "Initial",
    "Approved",
    "Allocating",
    "Allocated",
    "Confirmed",
    "Enabled",
    "Rejected",
    "Canceled",
    "AllocationFailed",
    "Allocation Failed",
    "Terminating",
    "Terminated",
];

/// Set a circuit's status (the end of a transition).
fn set_status(st: &mut State, id: &str, status: &str) {
    if let Some(pc) = st.pcs.get_mut(id) {
        pc.status = status.to_string();
    }
}

fn pc_json(p: &PhysicalConnection) -> Value {
    json!({
        "PhysicalConnectionId": p.id, "AccessPointId": p.access_point, "Type": "VPC",
        "Status": p.status, "BusinessStatus": "Normal", "CreationTime": CREATED,
        "EnabledTime": CREATED, "LineOperator": p.line_operator, "Spec": "1G", "PeerLocation": "",
        "PortType": "1000Base-LX", "Name": p.name, "Description": "", "Bandwidth": p.bandwidth,
        "ChargeType": "PostPaid", "VirtualPhysicalConnectionCount": p.hosted_connections,
        "Tags": { "tags": p.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>() },
    })
}

fn describe_pcs(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let page = ctx.page()?;
    let f = ctx.filters()?;
    let items = st
        .pcs
        .values()
        .filter(|p| p.region == region)
        .filter(|p| {
            pass(&f, "PhysicalConnectionId", &p.id)
                && pass(&f, "Status", &p.status)
                && pass(&f, "Name", &p.name)
        })
        .filter(|p| {
            pass(&f, "LineOperator", &p.line_operator) && pass(&f, "AccessPointId", &p.access_point)
        })
        .map(pc_json)
        .collect();
    Ok(paged(
        items,
        page,
        "PhysicalConnectionSet",
        "PhysicalConnectionType",
    ))
}

pub(crate) fn pc_mut<'a>(
    st: &'a mut State,
    ctx: &Ctx<'_>,
) -> Result<&'a mut PhysicalConnection, Fail> {
    let region = region_checked(st, ctx)?.to_string();
    let id = ctx.req("PhysicalConnectionId")?;
    st.pcs
        .get_mut(id)
        .filter(|p| p.region == region)
        .ok_or_else(|| {
            fail(
                404,
                "InvalidPhysicalConnectionId.NotFound",
                "The PhysicalConnectionId provided does not exist in our records.",
            )
        })
}

fn not_in_state() -> Fail {
    fail(
        400,
        "Forbidden.NotAllowedInState",
        "The request does not allow in this state.",
    )
}

fn vbrs_on(st: &State, pc: &str) -> usize {
    st.vbrs
        .values()
        .filter(|v| {
            v.physical_connection == pc || v.associated_physical_connections.iter().any(|a| a == pc)
        })
        .count()
}

fn cancel_pc(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let delay = st.timings.cancel_physical_connection.0;
    let pc = pc_mut(st, ctx)?;
    if !["Initial", "Approved", "Allocated", "Confirmed"].contains(&pc.status.as_str()) {
        return Err(not_in_state());
    }
    let id = pc.id.clone();
    st.schedule(ctx.now + delay, move |st| set_status(st, &id, "Canceled"));
    Ok(json!({}))
}

fn terminate_pc(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let delay = st.timings.terminate_physical_connection.0;
    let pc = pc_mut(st, ctx)?;
    if pc.status != "Enabled" {
        return Err(not_in_state());
    }
    let (id, hosted, macsec) = (pc.id.clone(), pc.hosted_connections, pc.macsec);
    // Open question 4 (alibaba-api.md §13): a VBR that is terminated but not deleted still
    // blocks termination; the doc text says VBRs must be deleted first.
    if vbrs_on(st, &id) > 0 {
        return Err(fail(
            400,
            "Forbidden.VbrAttached",
            "Cannot terminate physical connection when virtual border routers are still attached.",
        ));
    }
    if hosted > 0 {
        return Err(fail(
            400,
            "OperationFailed.VpconnAttached",
            "Cannot terminate physical connection when vpconn are still attached.",
        ));
    }
    if macsec {
        return Err(fail(
            400,
            "OperationDenied.MacsecAttached",
            "The operation is not allowed because of MacsecAttached.",
        ));
    }
    if let Some(p) = st.pcs.get_mut(&id) {
        p.status = "Terminating".into();
    }
    st.schedule(ctx.now + delay, move |st| set_status(st, &id, "Terminated"));
    Ok(json!({}))
}

fn delete_pc(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let pc = pc_mut(st, ctx)?;
    // The current docs' list (alibaba-api.md §1.5), which includes Allocated and Confirmed.
    const DELETABLE: &[&str] = &[
        "Allocated",
        "Confirmed",
        "Rejected",
        "Canceled",
        "AllocationFailed",
        "Allocation Failed",
        "Terminated",
    ];
    if !DELETABLE.contains(&pc.status.as_str()) {
        return Err(not_in_state());
    }
    let (id, hosted) = (pc.id.clone(), pc.hosted_connections);
    if vbrs_on(st, &id) > 0 {
        return Err(fail(
            400,
            "Forbidden.VBRExists",
            "physical connection owner's vbr still exists.",
        ));
    }
    if hosted > 0 {
        return Err(fail(
            400,
            "OperationDenied.NeedVpconnOwner",
            "The operation is denied because the hosted connections must be deleted by their owner.",
        ));
    }
    st.pcs.remove(&id);
    Ok(json!({}))
}
