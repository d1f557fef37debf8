//! IPsec-VPN (alibaba-api.md §4): the `vpn_gateways` and `vpn_connections` world sections.
//! A connection is bound to a VPN gateway (DeleteVpnConnection; the gateway goes `updating`
//! → `active`) or, without a gateway, to a transit router (DeleteVpnAttachment once its TR
//! VPN attachment is gone). Serves DescribeVpnAttachments, DescribeVpnConnection(s) and
//! DescribeVpnGateway.

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{EmulatedKind, by_id, ids_in};
use crate::api::Product::Vpc;
use crate::emulator::ops::{Ctx, Fail, Operation, Res, fail, page_of, paged, region_checked};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, Tags, World};

/// The actions this kind serves, with the parameters each requires (the official SDKs
/// metadata; a request without one is refused like the API gateway does).
const OPERATIONS: &[Operation] = &[
    Operation::read(
        Vpc,
        "DescribeVpnAttachments",
        &["RegionId"],
        describe_vpn_attachments,
    ),
    Operation::read(
        Vpc,
        "DescribeVpnConnection",
        &["RegionId", "VpnConnectionId"],
        describe_vpn_connection,
    ),
    Operation::read(
        Vpc,
        "DescribeVpnConnections",
        &["RegionId"],
        describe_vpn_connections,
    ),
    Operation::read(
        Vpc,
        "DescribeVpnGateway",
        &["RegionId", "VpnGatewayId"],
        describe_vpn_gateway,
    ),
    Operation::mutate(
        Vpc,
        "DeleteVpnConnection",
        &["RegionId", "VpnConnectionId"],
        delete_vpn_connection,
    ),
    Operation::mutate(
        Vpc,
        "DeleteVpnAttachment",
        &["RegionId", "VpnConnectionId"],
        delete_vpn_attachment,
    ),
];

/// The IPsec-VPN kind: gateways and connections.
pub struct Kind;

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &["vpn_gateways", "vpn_connections"]
    }

    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>) {
        for g in &world.vpn_gateways {
            cx.id(&g.referenced, &g.value.id, "vpn-");
            cx.region(&g.referenced, &g.value.region);
        }
        for c in &world.vpn_connections {
            cx.id(&c.referenced, &c.value.id, "vco-");
            cx.region(&c.referenced, &c.value.region);
            if let Some(s) = &c.value.state {
                cx.status(&c.referenced, s, CONNECTION_STATES);
            }
            if let Some(g) = &c.value.vpn_gateway {
                cx.reference(&c.referenced, "vpn_gateway", g);
            }
        }
    }

    /// A gateway seeded `updating` (or still `init` / `provisioning`) becomes `active` after
    /// `vpn_gateway_update`; a connection seeded in a transitional `state` settles after
    /// `vpn_connection_settle`.
    fn seed(&self, world: &World, st: &mut State, now: Instant) {
        st.gateways = by_id(&world.vpn_gateways, |g| &g.id);
        st.vpn_connections = by_id(&world.vpn_connections, |c| &c.id);
        let at = now + st.timings.vpn_gateway_update.0;
        for from in ["updating", "init", "provisioning"] {
            for id in ids_in(&st.gateways, |g| &g.status, from) {
                st.schedule(at, move |st| set_gateway_status(st, &id, "active"));
            }
        }
        // A connection the world leaves in a transitional state settles by itself.
        let settle = now + st.timings.vpn_connection_settle.0;
        let transitional: Vec<String> = st
            .vpn_connections
            .values()
            .filter(|c| c.state.as_deref().is_some_and(is_transitional))
            .map(|c| c.id.clone())
            .collect();
        for id in transitional {
            st.schedule(settle, move |st| {
                if let Some(c) = st.vpn_connections.get_mut(&id) {
                    c.state = None;
                }
            });
        }
    }

    fn count(&self, st: &State) -> usize {
        st.gateways.len() + st.vpn_connections.len()
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
}

/// A VPN gateway.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpnGateway {
    /// `vpn-…`.
    pub id: String,
    /// Region.
    pub region: String,
    /// `active`, `updating`, ...
    #[serde(default = "active")]
    pub status: String,
    /// Name.
    #[serde(default)]
    pub name: String,
}

/// An IPsec-VPN connection, bound to a VPN gateway or to a transit router.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpnConnection {
    /// `vco-…`.
    pub id: String,
    /// Region.
    pub region: String,
    /// The VPN gateway (gateway-bound connections).
    #[serde(default)]
    pub vpn_gateway: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// `State` when it is not the one the binding implies (`active` on a gateway,
    /// `attached` with a TR attachment, `init` without): a transitional state
    /// (`attaching`, `detaching`, `provisioning`, `updating`, `upgrading`) settles after
    /// `timings.vpn_connection_settle`; `financialLocked` stays; `deleted` is listed but
    /// gone for every change.
    #[serde(default)]
    pub state: Option<String>,
}

/// Every documented `State` of an IPsec connection (SDK enum, blockers.md §3.3).
const CONNECTION_STATES: &[&str] = &[
    "active",
    "init",
    "attaching",
    "attached",
    "detaching",
    "financialLocked",
    "provisioning",
    "updating",
    "upgrading",
    "deleted",
];

fn is_transitional(s: &str) -> bool {
    [
        "attaching",
        "detaching",
        "provisioning",
        "updating",
        "upgrading",
    ]
    .contains(&s)
}

fn active() -> String {
    "active".into()
}

impl State {
    /// Is this IPsec connection of the transit-router type (created as a VPN attachment,
    /// bound to a transit router or not)?
    pub fn is_tr_bound(&self, vco: &VpnConnection) -> bool {
        vco.vpn_gateway.is_none()
    }

    /// The connection's `State`: the world's explicit one, else what its binding implies.
    pub fn vco_state(&self, vco: &VpnConnection) -> String {
        if let Some(s) = &vco.state {
            return s.clone();
        }
        if !self.is_tr_bound(vco) {
            "active"
        } else if self.attachment_of_vpn(&vco.id).is_some() {
            "attached"
        } else {
            "init"
        }
        .to_string()
    }
}

/// Set a gateway's status (the end of a transition).
fn set_gateway_status(st: &mut State, id: &str, status: &str) {
    if let Some(g) = st.gateways.get_mut(id) {
        g.status = status.to_string();
    }
}

/// An IPsec connection: the flat DescribeVpnConnection body (`single`, tags under
/// `Tags.Tag[]`) or a DescribeVpnConnections item (tags under `Tag.Tag[]`), as the SDK
/// models have them.
fn vco_json(st: &State, c: &VpnConnection, single: bool) -> Value {
    let tr = st
        .attachment_of_vpn(&c.id)
        .map(|a| a.spec.transit_router.clone())
        .unwrap_or_default();
    let cen = st
        .trs
        .get(&tr)
        .map(|(cen, _)| cen.clone())
        .unwrap_or_default();
    let tr_bound = st.is_tr_bound(c);
    // AttachType (SDK enum): VPNGW on a gateway, CEN when bound to a transit router,
    // NO_ASSOCIATED for a transit-router-type connection that is not bound.
    let attach_type = if !tr_bound {
        "VPNGW"
    } else if tr.is_empty() {
        "NO_ASSOCIATED"
    } else {
        "CEN"
    };
    json!({
        "VpnConnectionId": c.id, "Name": c.name, "VpnGatewayId": c.vpn_gateway.clone().unwrap_or_default(),
        "CustomerGatewayId": format!("cgw-{}", c.id.trim_start_matches("vco-")), "LocalSubnet": "10.0.0.0/8",
        "RemoteSubnet": "192.168.0.0/16", "CreateTime": 1_740_816_000_000_u64, "EffectImmediately": false,
        "Status": "ipsec_sa_established",
        "State": st.vco_state(c), "AttachType": attach_type, "TransitRouterId": tr, "AttachInstanceId": cen,
        (if single { "Tags" } else { "Tag" }): { "Tag": c.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>() },
    })
}

/// An unknown IPsec connection: 404 (DescribeVpnConnection / DeleteVpnConnection error
/// tables, blockers.md §3.7).
fn vco_not_found() -> Fail {
    fail(
        404,
        "InvalidVpnConnectionInstanceId.NotFound",
        "The specified vpn connection instance id does not exist.",
    )
}

/// An unknown VPN gateway: 404 (DeleteVpnGateway / DeleteVpnRouteEntry error tables,
/// blockers.md §3.7).
fn gateway_not_found() -> Fail {
    fail(
        404,
        "InvalidVpnGatewayInstanceId.NotFound",
        "The specified vpn gateway instance id does not exist.",
    )
}

fn vco_lookup(st: &State, ctx: &Ctx<'_>) -> Result<String, Fail> {
    let region = region_checked(st, ctx)?;
    let id = ctx.req("VpnConnectionId")?;
    st.vpn_connections
        .get(id)
        .filter(|c| c.region == region)
        .map(|c| c.id.clone())
        .ok_or_else(vco_not_found)
}

/// The gateway named by `VpnGatewayId`, which must exist in the request's region.
fn gateway_lookup<'a>(st: &'a State, region: &str, id: &str) -> Result<&'a VpnGateway, Fail> {
    st.gateways
        .get(id)
        .filter(|g| g.region == region)
        .ok_or_else(gateway_not_found)
}

fn describe_vpn_attachments(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let (number, size) = ctx.page()?;
    let only = ctx.get("VpnConnectionId");
    let items = st
        .vpn_connections
        .values()
        // Documented scope: connections bound to a transit router (an unbound one is not
        // listed; `deleted` ones neither).
        .filter(|c| c.region == region && st.is_tr_bound(c) && only.is_none_or(|id| id == c.id))
        .filter_map(|c| {
            let tr = st.attachment_of_vpn(&c.id)?.spec.transit_router.as_str();
            (c.state.as_deref() != Some("deleted")).then_some((c, tr))
        });
    let (total, page) = page_of(items, (number - 1).saturating_mul(size), size, |(c, tr)| {
        let tr_name = st
            .trs
            .get(tr)
            .map(|(_, t)| t.name.clone())
            .unwrap_or_default();
        json!({ "InstanceId": c.id, "Name": c.name, "Description": "", "AttachType": "CEN",
                "TransitRouterId": tr, "TransitRouterName": tr_name, "CrossAccountAuthorized": false,
                // `Tag` is a system-tag string, `Tags` the tag list (SDK model).
                "Tag": "VpnEnableBgp",
                "Tags": c.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>() })
    });
    Ok(
        json!({ "PageNumber": number, "PageSize": size, "TotalCount": total, "VpnAttachments": page }),
    )
}

fn describe_vpn_connection(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let id = vco_lookup(st, ctx)?;
    Ok(vco_json(st, &st.vpn_connections[&id], true))
}

fn describe_vpn_connections(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let page = ctx.page()?;
    let gw = ctx.get("VpnGatewayId");
    if let Some(g) = gw {
        gateway_lookup(st, region, g)?;
    }
    let only = ctx.get("VpnConnectionId");
    let items = st
        .vpn_connections
        .values()
        .filter(|c| c.region == region && only.is_none_or(|id| id == c.id))
        .filter(|c| gw.is_none_or(|g| c.vpn_gateway.as_deref() == Some(g)));
    Ok(paged(items, page, "VpnConnections", "VpnConnection", |c| {
        vco_json(st, c, false)
    }))
}

fn describe_vpn_gateway(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let id = ctx.req("VpnGatewayId")?;
    let g = gateway_lookup(st, region, id)?;
    Ok(
        json!({ "VpnGatewayId": g.id, "Name": g.name, "Status": g.status, "BusinessStatus": "Normal",
               "ChargeType": "PostPaid", "Spec": "10M", "CreateTime": 1_740_816_000_000_u64,
               "VpnType": "Normal", "SslVpn": "disable", "IpsecVpn": "enable" }),
    )
}

/// The refusals a connection's own `State` causes: `deleted` is not found, a transitional
/// state is `VpnConnection.Configuring` (documented), `financialLocked` is
/// `VpnConnection.FinancialLocked` (not documented; the gateway's analogue is).
fn vco_state_check(st: &State, id: &str) -> Result<(), Fail> {
    match st.vpn_connections[id].state.as_deref() {
        Some("deleted") => Err(fail(
            404,
            "InvalidVpnConnectionInstanceId.NotFound",
            "The specified vpn connection instance id does not exist.",
        )),
        Some("financialLocked") => Err(fail(
            400,
            "VpnConnection.FinancialLocked",
            "The IPsec connection is locked for an overdue payment.",
        )),
        Some(s) if is_transitional(s) => Err(fail(
            400,
            "VpnConnection.Configuring",
            "The specified service is configuring.",
        )),
        _ => Ok(()),
    }
}

fn delete_vpn_connection(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let id = vco_lookup(st, ctx)?;
    vco_state_check(st, &id)?;
    let Some(gw) = st.vpn_connections[&id].vpn_gateway.clone() else {
        // Not documented: DeleteVpnConnection on an IPsec connection bound to a transit router.
        // The emulator refuses; such connections are removed with DeleteVpnAttachment.
        return Err(fail(
            400,
            "OperationDenied.VpnConnectionAttachedToTransitRouter",
            "The IPsec connection is bound to a transit router; use DeleteVpnAttachment.",
        ));
    };
    let delay = st.timings.vpn_gateway_update.0;
    let Some(g) = st.gateways.get_mut(&gw) else {
        return Err(gateway_not_found());
    };
    if g.status != "active" {
        return Err(fail(
            400,
            "VpnGateway.Configuring",
            "The specified service is configuring.",
        ));
    }
    g.status = "updating".into();
    st.vpn_connections.remove(&id);
    st.schedule(ctx.now + delay, move |st| {
        set_gateway_status(st, &gw, "active")
    });
    Ok(json!({}))
}

fn delete_vpn_attachment(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let id = vco_lookup(st, ctx)?;
    vco_state_check(st, &id)?;
    if !st.is_tr_bound(&st.vpn_connections[&id]) {
        return Err(fail(
            400,
            "OperationDenied.NotVpnAttachment",
            "The IPsec connection is bound to a VPN gateway; use DeleteVpnConnection.",
        ));
    }
    // Open question 3: a connection still bound to a transit router is refused with the one
    // code DeleteVpnAttachment documents, `VpnConnection.Configuring`.
    if st.attachment_of_vpn(&id).is_some() {
        return Err(fail(
            400,
            "VpnConnection.Configuring",
            "The specified service is configuring.",
        ));
    }
    st.vpn_connections.remove(&id);
    Ok(json!({ "Code": "200", "Success": true, "Message": "successful" }))
}
