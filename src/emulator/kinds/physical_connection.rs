//! Express Connect circuits (`pc-`, alibaba-api.md §1): the `physical_connections` world
//! section, DescribePhysicalConnections, Cancel/Terminate/DeletePhysicalConnection and the
//! `Enabled → Terminating → Terminated` and pre-enable `→ Canceled` transitions; the MACsec
//! keys bound to a circuit (DisassociateMacSecKey) and hosted connections
//! (ListVirtualPhysicalConnections; a hosted connection is a circuit with a
//! `parent_physical_connection`), blockers.md C4–C6.

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{EmulatedKind, by_id, ids_in};
use crate::api::Product::Vpc;
use crate::emulator::ops::{
    CREATED, Ctx, Fail, Operation, Res, fail, paged, pass, region_checked, token_paged,
};
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
    Operation::mutate(
        Vpc,
        "DisassociateMacSecKey",
        &["RegionId", "Ckn", "PhysicalConnectionId"],
        disassociate_macsec_key,
    ),
    Operation::read(
        Vpc,
        "ListVirtualPhysicalConnections",
        &["RegionId"],
        list_virtual_physical_connections,
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
            let (loc, p) = (&pc.referenced, &pc.value);
            cx.id(loc, &p.id, "pc-");
            cx.region(loc, &p.region);
            cx.status(loc, &p.status, PC_STATUSES);
            for k in &p.macsec_keys {
                cx.status(loc, &k.status, &["Associated", "Disassociated"]);
                if k.ckn.is_empty() || !k.ckn.chars().all(|c| c.is_ascii_hexdigit()) {
                    cx.problem(loc, format!("macsec key ckn {:?} must be hex", k.ckn));
                }
            }
            if p.macsec_keys
                .iter()
                .filter(|k| k.status == "Associated")
                .count()
                > 1
            {
                cx.link_problem(
                    loc,
                    format!("{}: at most one MACsec key is Associated", p.id),
                );
            }
            match (&p.parent_physical_connection, &p.parent_owner) {
                // The partner's circuit is in this world.
                (Some(parent), None) => cx.reference(loc, "parent_physical_connection", parent),
                (None, Some(_)) => cx.link_problem(
                    loc,
                    format!("{}: parent_owner needs parent_physical_connection", p.id),
                ),
                _ => {}
            }
            if p.owner.is_some() && p.parent_physical_connection.is_none() {
                cx.link_problem(
                    loc,
                    format!("{}: only a hosted connection (parent_physical_connection) belongs to another account", p.id),
                );
            }
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
        for p in st.pcs.values_mut() {
            // `macsec: true` is shorthand for one active key.
            if p.macsec && p.macsec_keys.is_empty() {
                p.macsec_keys.push(MacsecKey {
                    ckn: ckn_of(&p.id),
                    status: "Associated".into(),
                    cipher_suite: default_cipher(),
                });
            }
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
    /// Shorthand for one `Associated` MACsec key (blocks terminate) when `macsec_keys` is
    /// empty.
    #[serde(default)]
    pub macsec: bool,
    /// MACsec keys bound to the port (block terminate).
    #[serde(default)]
    pub macsec_keys: Vec<MacsecKey>,
    /// Set for a hosted connection: the partner's circuit it runs on. In this world when
    /// `parent_owner` is unset (the world's account is the partner; `owner` is the tenant);
    /// in another account otherwise (the world's account is the tenant).
    #[serde(default)]
    pub parent_physical_connection: Option<String>,
    /// The partner's account, when the parent circuit is not in this world.
    #[serde(default)]
    pub parent_owner: Option<String>,
    /// The tenant of a hosted connection on this world's circuit (the world's account when
    /// absent).
    #[serde(default)]
    pub owner: Option<String>,
    /// A hosted connection's `VirtualPhysicalConnectionStatus`: `Confirmed`, `UnConfirmed`.
    #[serde(default = "confirmed")]
    pub vpconn_status: String,
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
fn confirmed() -> String {
    "Confirmed".into()
}
fn default_cipher() -> String {
    "gcm-aes-xpn-128".into()
}

/// A MACsec key bound to a circuit's port.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MacsecKey {
    /// Connectivity association key name (hex).
    pub ckn: String,
    /// `Associated` (active) or `Disassociated`.
    #[serde(default = "associated")]
    pub status: String,
    /// Cipher suite.
    #[serde(default = "default_cipher")]
    pub cipher_suite: String,
}

fn associated() -> String {
    "Associated".into()
}

/// The CKN of the key `macsec: true` stands for: 32 hex digits from the circuit id.
fn ckn_of(id: &str) -> String {
    let h = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{h:016x}{:016x}", h.rotate_left(17))
}

impl PhysicalConnection {
    /// True for a hosted connection.
    pub fn is_hosted(&self) -> bool {
        self.parent_physical_connection.is_some()
    }
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

fn pc_json(st: &State, p: &PhysicalConnection) -> Value {
    let hosted = hosted_on(st, &p.id).count();
    let keys: Vec<Value> = p
        .macsec_keys
        .iter()
        .map(|k| json!({"Ckn": k.ckn, "Status": k.status, "CipherSuite": k.cipher_suite, "StartOn": CREATED, "Cak": ""}))
        .collect();
    let mut v = json!({
        "PhysicalConnectionId": p.id, "AccessPointId": p.access_point, "Type": "VPC",
        "Status": p.status, "BusinessStatus": "Normal", "CreationTime": CREATED,
        "EnabledTime": CREATED, "LineOperator": p.line_operator, "Spec": "1G", "PeerLocation": "",
        "PortType": "1000Base-LX", "Name": p.name, "Description": "", "Bandwidth": p.bandwidth,
        "ChargeType": "PostPaid", "VirtualPhysicalConnectionCount": hosted,
        "ProductType": if p.is_hosted() { "VirtualPhysicalConnection" } else { "PhysicalConnection" },
        "MacsecKeys": { "MacsecKey": keys },
        "Tags": { "tags": p.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>() },
    });
    if let Some(parent) = &p.parent_physical_connection {
        let owner = p.parent_owner.as_deref().unwrap_or(&st.account_id);
        v["ParentPhysicalConnectionId"] = json!(parent);
        v["ParentPhysicalConnectionAliUid"] = json!(owner.parse::<u64>().unwrap_or(0));
        v["VpconnStatus"] = json!(p.vpconn_status);
    }
    v
}

/// The hosted connections on circuit `pc` (partner side: the tenants' virtual circuits).
fn hosted_on<'a>(st: &'a State, pc: &'a str) -> impl Iterator<Item = &'a PhysicalConnection> {
    st.pcs.values().filter(move |h| {
        h.parent_physical_connection.as_deref() == Some(pc) && h.parent_owner.is_none()
    })
}

/// Is this circuit the caller's own (not a tenant's hosted connection on the caller's port)?
fn own(p: &PhysicalConnection) -> bool {
    p.owner.is_none()
}

fn describe_pcs(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let page = ctx.page()?;
    let f = ctx.filters()?;
    let items = st
        .pcs
        .values()
        .filter(|p| p.region == region && own(p))
        .filter(|p| {
            pass(&f, "PhysicalConnectionId", &p.id)
                && pass(&f, "Status", &p.status)
                && pass(&f, "Name", &p.name)
        })
        .filter(|p| {
            pass(&f, "LineOperator", &p.line_operator) && pass(&f, "AccessPointId", &p.access_point)
        });
    Ok(paged(
        items,
        page,
        "PhysicalConnectionSet",
        "PhysicalConnectionType",
        |p| pc_json(st, p),
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

fn tenant_refused() -> Fail {
    // Open question (blockers.md C5): which side may terminate or delete a hosted connection
    // is not documented; the emulator lets only the partner delete it (Terraform's
    // partner-side resource) and answers the tenant with the only related documented code.
    fail(
        400,
        "OperationDenied.NeedVpconnOwner",
        "The operation is denied because hosted connections are deleted by the owner of the parent physical connection.",
    )
}

fn terminate_pc(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let delay = st.timings.terminate_physical_connection.0;
    let pc = pc_mut(st, ctx)?;
    if pc.is_hosted() {
        return Err(tenant_refused());
    }
    if pc.status != "Enabled" {
        return Err(not_in_state());
    }
    let (id, macsec) = (pc.id.clone(), !pc.macsec_keys.is_empty());
    // Open question 4 (alibaba-api.md §13): a VBR that is terminated but not deleted still
    // blocks termination; the doc text says VBRs must be deleted first.
    if vbrs_on(st, &id) > 0 {
        return Err(fail(
            400,
            "Forbidden.VbrAttached",
            "Cannot terminate physical connection when virtual border routers are still attached.",
        ));
    }
    if hosted_on(st, &id).next().is_some() {
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
    let id = pc.id.clone();
    if pc.is_hosted() {
        // The partner (the world's account, owner of the parent) deletes a tenant's hosted
        // connection once no VBR is left on it, in any state (not documented; Terraform's
        // partner-side resource does no more); the tenant cannot.
        if pc.parent_owner.is_some() {
            return Err(tenant_refused());
        }
        if vbrs_on(st, &id) > 0 {
            return Err(fail(
                400,
                "Forbidden.VBRExists",
                "physical connection owner's vbr still exists.",
            ));
        }
        st.pcs.remove(&id);
        return Ok(json!({}));
    }
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
    if vbrs_on(st, &id) > 0 {
        return Err(fail(
            400,
            "Forbidden.VBRExists",
            "physical connection owner's vbr still exists.",
        ));
    }
    if hosted_on(st, &id).next().is_some() {
        return Err(fail(
            400,
            "OperationDenied.NeedVpconnOwner",
            "The operation is denied because the hosted connections must be deleted first by the owner of this physical connection.",
        ));
    }
    st.pcs.remove(&id);
    Ok(json!({}))
}

/// DisassociateMacSecKey (blockers.md §2.1): an `Associated` key becomes `Disassociated` and
/// the most recent other key (the last in the list) becomes active; a `Disassociated` key is
/// deleted. Open question (async behaviour and codes not documented): the emulator makes both
/// asynchronous (`Disassociating` / `Deleting` for `timings.disassociate_macsec_key`) and
/// answers 400 `IncorrectStatus.MacsecKey` for a key in transition, 404
/// `InvalidCkn.NotFound` for an unknown key.
fn disassociate_macsec_key(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let delay = st.timings.disassociate_macsec_key.0;
    let ckn = ctx.req("Ckn")?.to_string();
    let pc = pc_mut(st, ctx)?;
    let id = pc.id.clone();
    let Some(key) = pc.macsec_keys.iter_mut().find(|k| k.ckn == ckn) else {
        return Err(fail(
            404,
            "InvalidCkn.NotFound",
            "The specified Ckn does not exist.",
        ));
    };
    let next = match key.status.as_str() {
        "Associated" => "Disassociating",
        "Disassociated" => "Deleting",
        _ => {
            return Err(fail(
                400,
                "IncorrectStatus.MacsecKey",
                "The MACsec key is being changed.",
            ));
        }
    };
    key.status = next.into();
    st.schedule(ctx.now + delay, move |st| {
        let Some(pc) = st.pcs.get_mut(&id) else {
            return;
        };
        let Some(pos) = pc.macsec_keys.iter().position(|k| k.ckn == ckn) else {
            return;
        };
        if pc.macsec_keys[pos].status == "Deleting" {
            pc.macsec_keys.remove(pos);
            return;
        }
        pc.macsec_keys[pos].status = "Disassociated".into();
        let active = pc.macsec_keys.iter().any(|k| k.status == "Associated");
        if !active
            && let Some(other) = pc
                .macsec_keys
                .iter_mut()
                .rev()
                .find(|k| k.ckn != ckn && k.status == "Disassociated")
        {
            other.status = "Associated".into();
        }
    });
    Ok(json!({}))
}

/// ListVirtualPhysicalConnections: the hosted connections on the caller's circuits in the
/// region (on one parent with `PhysicalConnectionId`), token-paged.
fn list_virtual_physical_connections(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let page = ctx.token_page(20)?;
    let parent = ctx.get("PhysicalConnectionId");
    let items = st
        .pcs
        .values()
        .filter(|h| h.region == region && h.parent_owner.is_none())
        .filter_map(|h| Some((h, h.parent_physical_connection.as_deref()?)))
        .filter(|(_, p)| parent.is_none_or(|x| x == *p));
    // The contract's body: `Count` (this page), `TotalCount`, `NextToken`; no `MaxResults`.
    let mut body = token_paged(items, page, "VirtualPhysicalConnections", |(h, p)| {
        json!({
            "PhysicalConnectionId": h.id, "ParentPhysicalConnectionId": p,
            "ParentPhysicalConnectionAliUid": st.account_id,
            "AliUid": h.owner.clone().unwrap_or_else(|| st.account_id.clone()),
            "Status": h.status, "VirtualPhysicalConnectionStatus": h.vpconn_status,
            "BusinessStatus": "Normal", "Name": h.name, "VlanId": "0", "Spec": "50M",
            "ProductType": "VirtualPhysicalConnection", "OrderMode": "PayByVirtualPhysicalConnectionOwner",
            "AccessPointId": h.access_point, "LineOperator": h.line_operator, "CreationTime": CREATED,
            "Tags": h.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
        })
    });
    if let Some(o) = body.as_object_mut() {
        o.remove("MaxResults");
        let n = o["VirtualPhysicalConnections"]
            .as_array()
            .map_or(0, Vec::len);
        o.insert("Count".into(), json!(n));
    }
    Ok(body)
}
