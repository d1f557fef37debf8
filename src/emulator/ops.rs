//! Per-operation rules: parameters, preconditions, state changes, response shapes and error
//! codes, one handler per action, following alibaba-api.md §1–§5.
//!
//! Where alibaba-api.md §13 leaves a question open, the choice is written next to the code
//! that makes it (search for "Open question").

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::state::{Attachment, Effect, State};
use crate::api::Product;

/// An error answer: HTTP status, Code, Message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    /// HTTP status.
    pub status: u16,
    /// `Code`.
    pub code: String,
    /// `Message`.
    pub message: String,
}

/// Build a [`Fail`].
pub fn fail(status: u16, code: &str, message: impl Into<String>) -> Fail {
    Fail {
        status,
        code: code.to_string(),
        message: message.into(),
    }
}

/// What a handler sees of the request.
pub struct Ctx<'a> {
    /// The API parameters (common signature parameters removed).
    pub params: &'a [(String, String)],
    /// The emulator's clock.
    pub now: Instant,
}

type Res = Result<Value, Fail>;

/// An operation handler.
pub type Handler = fn(&mut State, &Ctx<'_>) -> Res;

impl Ctx<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A mandatory parameter: absent → `Missing<Name>` like the API gateway.
    fn req(&self, key: &str) -> Result<&str, Fail> {
        self.get(key).ok_or_else(|| {
            fail(
                400,
                &format!("Missing{key}"),
                format!("{key} is mandatory for this action."),
            )
        })
    }

    fn flag(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// PageNumber (≥ 1, default 1) and PageSize (1..=50, default 10).
    fn page(&self) -> Result<(usize, usize), Fail> {
        let number = match self.get("PageNumber") {
            None => 1,
            Some(v) => v.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                fail(
                    400,
                    "InvalidPageNumber",
                    "The specified PageNumber is invalid.",
                )
            })?,
        };
        let size = match self.get("PageSize") {
            None => 10,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=50).contains(n))
                .ok_or_else(|| {
                    fail(
                        400,
                        "InvalidPageSize",
                        "The specified PageSize is invalid; it must be 1 to 50.",
                    )
                })?,
        };
        Ok((number, size))
    }

    /// `Filter.N.Key` / `Filter.N.Value.M` (N, M ≤ 5): key → accepted values.
    fn filters(&self) -> Result<BTreeMap<String, Vec<String>>, Fail> {
        let mut keys: BTreeMap<u32, String> = BTreeMap::new();
        let mut values: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for (k, v) in self.params {
            let Some(rest) = k.strip_prefix("Filter.") else {
                continue;
            };
            let mut parts = rest.split('.');
            let n: u32 = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            if !(1..=5).contains(&n) {
                return Err(fail(
                    400,
                    "InvalidFilterKey.ValueNotSupported",
                    format!("The filter index in {k} is out of range 1..5."),
                ));
            }
            match (parts.next(), parts.next()) {
                (Some("Key"), None) => {
                    keys.insert(n, v.clone());
                }
                (Some("Value"), Some(m)) => {
                    let m: u32 = m.parse().unwrap_or(0);
                    if !(1..=5).contains(&m) {
                        return Err(fail(
                            400,
                            "InvalidFilterValue",
                            format!("The filter value index in {k} is out of range 1..5."),
                        ));
                    }
                    values.entry(n).or_default().push(v.clone());
                }
                _ => {
                    return Err(fail(
                        400,
                        "InvalidFilterKey.ValueNotSupported",
                        format!("Malformed filter parameter {k}."),
                    ));
                }
            }
        }
        Ok(keys
            .into_iter()
            .map(|(n, key)| (key, values.remove(&n).unwrap_or_default()))
            .collect())
    }

    /// `MaxResults` (default `default`, 1..=100) and `NextToken` (an offset we issued).
    fn token_page(&self, default: usize) -> Result<(usize, usize), Fail> {
        let max = match self.get("MaxResults") {
            None => default,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| {
                    fail(
                        400,
                        "IllegalParam.MaxResults",
                        "The specified MaxResults is invalid.",
                    )
                })?,
        };
        let start = match self.get("NextToken") {
            None => 0,
            Some(t) => t
                .strip_prefix("nt-")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| {
                    fail(
                        400,
                        "IllegalParam.NextToken",
                        "The specified NextToken is invalid.",
                    )
                })?,
        };
        Ok((start, max))
    }
}

/// Does `value` pass the filter values for `key` (no filter on that key → yes)?
fn pass(filters: &BTreeMap<String, Vec<String>>, key: &str, value: &str) -> bool {
    filters
        .get(key)
        .is_none_or(|vals| vals.is_empty() || vals.iter().any(|v| v == value))
}

/// One page of a page-number list, with its wrapper object.
fn paged(items: Vec<Value>, (number, size): (usize, usize), outer: &str, inner: &str) -> Value {
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip((number - 1) * size)
        .take(size)
        .collect();
    json!({ "PageNumber": number, "PageSize": size, "TotalCount": total, outer: { inner: page } })
}

/// One page of a token list (Cbn style: a flat array plus `NextToken`).
fn token_paged(items: Vec<Value>, (start, max): (usize, usize), key: &str) -> Value {
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(max).collect();
    let next = if start + max < total {
        format!("nt-{}", start + max)
    } else {
        String::new()
    };
    json!({ "TotalCount": total, "MaxResults": max, "NextToken": next, key: page })
}

const CREATED: &str = "2025-03-01T08:00:00Z";

fn region_checked<'a>(st: &State, ctx: &'a Ctx<'_>) -> Result<&'a str, Fail> {
    let region = ctx.req("RegionId")?;
    if !st.regions.contains(region) {
        return Err(fail(
            404,
            "InvalidRegionId.NotFound",
            "The RegionId provided does not exist in our records.",
        ));
    }
    Ok(region)
}

/// Look up a handler: (handler, mutating).
pub fn lookup(product: Product, action: &str) -> Option<(Handler, bool)> {
    let h: (Handler, bool) = match (product, action) {
        (Product::Vpc, "DescribePhysicalConnections") => (describe_pcs, false),
        (Product::Vpc, "CancelPhysicalConnection") => (cancel_pc, true),
        (Product::Vpc, "TerminatePhysicalConnection") => (terminate_pc, true),
        (Product::Vpc, "DeletePhysicalConnection") => (delete_pc, true),
        (Product::Vpc, "DescribeVirtualBorderRouters") => (describe_vbrs, false),
        (Product::Vpc, "DescribeVirtualBorderRoutersForPhysicalConnection") => {
            (describe_vbrs_for_pc, false)
        }
        (Product::Vpc, "TerminateVirtualBorderRouter") => (terminate_vbr, true),
        (Product::Vpc, "DeleteVirtualBorderRouter") => (delete_vbr, true),
        (Product::Vpc, "DescribeRouterInterfaces") => (describe_ris, false),
        (Product::Vpc, "DeactivateRouterInterface") => (deactivate_ri, true),
        (Product::Vpc, "DeleteRouterInterface") => (delete_ri, true),
        (Product::Vpc, "DescribeBgpGroups") => (describe_bgp_groups, false),
        (Product::Vpc, "DescribeBgpPeers") => (describe_bgp_peers, false),
        (Product::Vpc, "DeleteBgpPeer") => (delete_bgp_peer, true),
        (Product::Vpc, "DeleteBgpGroup") => (delete_bgp_group, true),
        (Product::Vpc, "DescribeVpnAttachments") => (describe_vpn_attachments, false),
        (Product::Vpc, "DescribeVpnConnection") => (describe_vpn_connection, false),
        (Product::Vpc, "DescribeVpnConnections") => (describe_vpn_connections, false),
        (Product::Vpc, "DescribeVpnGateway") => (describe_vpn_gateway, false),
        (Product::Vpc, "DeleteVpnConnection") => (delete_vpn_connection, true),
        (Product::Vpc, "DeleteVpnAttachment") => (delete_vpn_attachment, true),
        (Product::Cbn, "ListTransitRouterVbrAttachments") => (list_vbr_attachments, false),
        (Product::Cbn, "ListTransitRouterVpnAttachments") => (list_vpn_attachments, false),
        (Product::Cbn, "ListTransitRouterRouteTableAssociations") => (list_associations, false),
        (Product::Cbn, "ListTransitRouterRouteTablePropagations") => (list_propagations, false),
        (Product::Cbn, "ListTransitRouterRouteEntries") => (list_route_entries, false),
        (Product::Cbn, "ListTransitRouterRouteTables") => (list_route_tables, false),
        (Product::Cbn, "DissociateTransitRouterAttachmentFromRouteTable") => (dissociate, true),
        (Product::Cbn, "DisableTransitRouterRouteTablePropagation") => (disable_propagation, true),
        (Product::Cbn, "DeleteTransitRouterRouteEntry") => (delete_route_entry, true),
        (Product::Cbn, "DeleteTransitRouterVbrAttachment") => (delete_vbr_attachment, true),
        (Product::Cbn, "DeleteTransitRouterVpnAttachment") => (delete_vpn_tr_attachment, true),
        _ => return None,
    };
    Some(h)
}

// ----- Express Connect circuits (§1) -------------------------------------------------------

fn pc_json(p: &super::world::PhysicalConnection) -> Value {
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

fn pc_mut<'a>(
    st: &'a mut State,
    ctx: &Ctx<'_>,
) -> Result<&'a mut super::world::PhysicalConnection, Fail> {
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
        .filter(|v| v.physical_connection == pc)
        .count()
}

fn cancel_pc(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let delay = st.timings.cancel_physical_connection.0;
    let pc = pc_mut(st, ctx)?;
    if !["Initial", "Approved", "Allocated", "Confirmed"].contains(&pc.status.as_str()) {
        return Err(not_in_state());
    }
    let id = pc.id.clone();
    st.schedule(ctx.now + delay, Effect::PcStatus(id, "Canceled"));
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
    st.schedule(ctx.now + delay, Effect::PcStatus(id, "Terminated"));
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

// ----- VBRs (§2) ----------------------------------------------------------------------------

fn vbr_json(st: &State, v: &super::world::VirtualBorderRouter) -> Value {
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
    st.schedule(ctx.now + delay, Effect::VbrStatus(id, "terminated"));
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
    st.vbrs.remove(&id);
    Ok(json!({}))
}

// ----- Router interfaces (§3.1–§3.3) --------------------------------------------------------

fn describe_ris(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let page = ctx.page()?;
    let f = ctx.filters()?;
    let items = st
        .ris
        .values()
        .filter(|r| r.region == region)
        .filter(|r| pass(&f, "RouterInterfaceId", &r.id) && pass(&f, "RouterId", &r.vbr) && pass(&f, "RouterType", "VBR"))
        .filter(|r| pass(&f, "Status", &r.status) && pass(&f, "Name", &r.name))
        .map(|r| {
            json!({ "RouterInterfaceId": r.id, "RouterId": r.vbr, "RouterType": "VBR", "Role": "InitiatingSide",
                    "Status": r.status, "ChargeType": if r.charge_type == "PrePaid" { "PrePaid" } else { "AfterPay" },
                    "BusinessStatus": if r.financial_locked { "FinancialLocked" } else { "Normal" },
                    "OppositeRouterId": r.opposite_router, "OppositeRouterType": "VRouter", "Name": r.name,
                    "CreationTime": CREATED, "Spec": "Large.2" })
        })
        .collect();
    Ok(paged(
        items,
        page,
        "RouterInterfaceSet",
        "RouterInterfaceType",
    ))
}

fn ri_lookup(st: &State, ctx: &Ctx<'_>) -> Result<String, Fail> {
    let region = region_checked(st, ctx)?;
    let id = ctx.req("RouterInterfaceId")?;
    st.ris
        .get(id)
        .filter(|r| r.region == region)
        .map(|r| r.id.clone())
        .ok_or_else(|| {
            fail(
                404,
                "InvalidRouterInterfaceId.NotFound",
                "The specified RouterInterfaceId does not exist in our record.",
            )
        })
}

fn deactivate_ri(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let id = ri_lookup(st, ctx)?;
    let delay = st.timings.deactivate_router_interface.0;
    let r = st.ris.get_mut(&id).expect("looked up");
    if r.financial_locked {
        return Err(fail(
            400,
            "Forbidden.FinancialLocked",
            "This RouterInterface is financiel locked because of bills outstanding.",
        ));
    }
    if r.status != "Active" {
        return Err(fail(
            400,
            "IncorrectRIStatus",
            "RouterInterface can be operated by this action only when it's status is Active.",
        ));
    }
    r.status = "Deactivating".into();
    st.schedule(ctx.now + delay, Effect::RiStatus(id, "Inactive"));
    Ok(json!({}))
}

fn delete_ri(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let id = ri_lookup(st, ctx)?;
    let r = &st.ris[&id];
    if r.charge_type == "PrePaid" {
        return Err(fail(
            500,
            "InvalidRouterInterfaceChargeType.Malformed",
            "The prepaid routerinterface can not delete.",
        ));
    }
    if !["Idle", "Inactive"].contains(&r.status.as_str()) {
        return Err(fail(
            400,
            "InvalidInstance.StatusError",
            "The router instance status error.",
        ));
    }
    if r.route_entries > 0 {
        return Err(fail(
            400,
            "RouterInterfaceReferredByRouteEntry",
            "Router interface referred by route entry.",
        ));
    }
    st.ris.remove(&id);
    Ok(json!({}))
}

// ----- BGP (§3.4) ---------------------------------------------------------------------------

fn describe_bgp_groups(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let page = ctx.page()?;
    let router = ctx.get("RouterId");
    let group = ctx.get("BgpGroupId");
    let items = st
        .bgp_groups
        .values()
        .filter(|g| g.region == region && router.is_none_or(|r| r == g.vbr) && group.is_none_or(|x| x == g.id))
        .map(|g| {
            json!({ "BgpGroupId": g.id, "Name": g.name, "RouterId": g.vbr, "PeerAsn": g.peer_asn.to_string(),
                    "LocalAsn": "45104", "Status": g.status, "RegionId": g.region, "IsFake": "false",
                    "Hold": "180", "Keepalive": "60", "IpVersion": "IPV4" })
        })
        .collect();
    Ok(paged(items, page, "BgpGroups", "BgpGroup"))
}

fn describe_bgp_peers(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let page = ctx.page()?;
    let router = ctx.get("RouterId");
    let group = ctx.get("BgpGroupId");
    let peer = ctx.get("BgpPeerId");
    let items = st
        .bgp_groups
        .values()
        .filter(|g| g.region == region && router.is_none_or(|r| r == g.vbr) && group.is_none_or(|x| x == g.id))
        .flat_map(|g| g.peers.iter().map(move |p| (g, p)))
        .filter(|(_, p)| peer.is_none_or(|x| x == p.id))
        .map(|(g, p)| {
            json!({ "BgpPeerId": p.id, "BgpGroupId": g.id, "RouterId": g.vbr, "PeerIpAddress": p.peer_ip,
                    "PeerAsn": g.peer_asn.to_string(), "Status": p.status, "BgpStatus": "Established",
                    "RegionId": g.region })
        })
        .collect();
    Ok(paged(items, page, "BgpPeers", "BgpPeer"))
}

fn delete_bgp_peer(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?.to_string();
    let id = ctx.req("BgpPeerId")?;
    for g in st.bgp_groups.values_mut().filter(|g| g.region == region) {
        if let Some(pos) = g.peers.iter().position(|p| p.id == id) {
            g.peers.remove(pos);
            return Ok(json!({}));
        }
    }
    Err(fail(
        404,
        "InvalidBgpPeerId.NotFound",
        "The specified BgpPeerId does not exist.",
    ))
}

fn delete_bgp_group(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?.to_string();
    let id = ctx.req("BgpGroupId")?;
    let Some(g) = st.bgp_groups.get(id).filter(|g| g.region == region) else {
        return Err(fail(
            404,
            "InvalidBgpGroupId.NotFound",
            "The specified BgpGroupId does not exist.",
        ));
    };
    if g.status != "Available" {
        return Err(fail(
            400,
            "IncorrectStatus.BgpGroup",
            "The BGP group is not in a stable state.",
        ));
    }
    // Not documented: whether peers block the group's deletion. decom's documented order is
    // "peers, then the group" (alibaba-api.md §12 step 4), so the emulator enforces it.
    if !g.peers.is_empty() {
        return Err(fail(
            400,
            "DependencyViolation.BgpPeer",
            "bgp peer exists, cannot delete bgp group.",
        ));
    }
    st.bgp_groups.remove(id);
    Ok(json!({}))
}

// ----- IPsec-VPN (§4) -----------------------------------------------------------------------

/// An IPsec connection: the flat DescribeVpnConnection body (`single`, tags under
/// `Tags.Tag[]`) or a DescribeVpnConnections item (tags under `Tag.Tag[]`), as the SDK
/// models have them.
fn vco_json(st: &State, c: &super::world::VpnConnection, single: bool) -> Value {
    let tr = st
        .attachment_of_vpn(&c.id)
        .map(|a| a.spec.transit_router.clone())
        .unwrap_or_default();
    let tr_bound = st.is_tr_bound(c);
    json!({
        "VpnConnectionId": c.id, "Name": c.name, "VpnGatewayId": c.vpn_gateway.clone().unwrap_or_default(),
        "CustomerGatewayId": format!("cgw-{}", c.id.trim_start_matches("vco-")), "LocalSubnet": "10.0.0.0/8",
        "RemoteSubnet": "192.168.0.0/16", "CreateTime": 1_740_816_000_000_u64, "EffectImmediately": false,
        "Status": "ipsec_sa_established",
        "State": if !tr_bound { "active" } else if tr.is_empty() { "init" } else { "attached" },
        "AttachType": if tr_bound { "CEN" } else { "" }, "TransitRouterId": tr,
        (if single { "Tags" } else { "Tag" }): { "Tag": c.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>() },
    })
}

fn vco_lookup(st: &State, ctx: &Ctx<'_>) -> Result<String, Fail> {
    let region = region_checked(st, ctx)?;
    let id = ctx.req("VpnConnectionId")?;
    st.vpn_connections
        .get(id)
        .filter(|c| c.region == region)
        .map(|c| c.id.clone())
        .ok_or_else(|| {
            fail(
                400,
                "InvalidVpnConnectionInstanceId.NotFound",
                "The specified vpn connection instance id does not exist.",
            )
        })
}

fn describe_vpn_attachments(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let (number, size) = ctx.page()?;
    let only = ctx.get("VpnConnectionId");
    let items: Vec<Value> = st
        .vpn_connections
        .values()
        .filter(|c| c.region == region && st.is_tr_bound(c) && only.is_none_or(|id| id == c.id))
        .map(|c| {
            let tr = st.attachment_of_vpn(&c.id).map(|a| a.spec.transit_router.clone()).unwrap_or_default();
            let tr_name = st.trs.get(&tr).map(|(_, t)| t.name.clone()).unwrap_or_default();
            json!({ "InstanceId": c.id, "Name": c.name, "Description": "", "AttachType": "CEN",
                    "TransitRouterId": tr, "TransitRouterName": tr_name, "CrossAccountAuthorized": false,
                    // `Tag` is a system-tag string, `Tags` the tag list (SDK model).
                    "Tag": "VpnEnableBgp",
                    "Tags": c.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>() })
        })
        .collect();
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip((number - 1) * size)
        .take(size)
        .collect();
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
    let only = ctx.get("VpnConnectionId");
    let items = st
        .vpn_connections
        .values()
        .filter(|c| c.region == region && only.is_none_or(|id| id == c.id))
        .filter(|c| gw.is_none_or(|g| c.vpn_gateway.as_deref() == Some(g)))
        .map(|c| vco_json(st, c, false))
        .collect();
    Ok(paged(items, page, "VpnConnections", "VpnConnection"))
}

fn describe_vpn_gateway(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let id = ctx.req("VpnGatewayId")?;
    let g = st
        .gateways
        .get(id)
        .filter(|g| g.region == region)
        .ok_or_else(|| {
            fail(
                400,
                "InvalidVpnGatewayInstanceId.NotFound",
                "The specified vpn gateway instance id does not exist.",
            )
        })?;
    Ok(
        json!({ "VpnGatewayId": g.id, "Name": g.name, "Status": g.status, "BusinessStatus": "Normal",
               "ChargeType": "PostPaid", "Spec": "10M", "CreateTime": 1_740_816_000_000_u64,
               "VpnType": "Normal", "SslVpn": "disable", "IpsecVpn": "enable" }),
    )
}

fn delete_vpn_connection(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let id = vco_lookup(st, ctx)?;
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
    let g = st.gateways.get_mut(&gw).expect("world checks references");
    if g.status != "active" {
        return Err(fail(
            400,
            "VpnGateway.Configuring",
            "The specified service is configuring.",
        ));
    }
    g.status = "updating".into();
    st.vpn_connections.remove(&id);
    st.schedule(ctx.now + delay, Effect::GatewayStatus(gw, "active"));
    Ok(json!({}))
}

fn delete_vpn_attachment(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let id = vco_lookup(st, ctx)?;
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

// ----- CEN transit routers (§5) -------------------------------------------------------------

fn attachment_json(st: &State, a: &Attachment) -> Value {
    let (cen, region) = st
        .trs
        .get(&a.spec.transit_router)
        .map(|(cen, tr)| (cen.clone(), tr.region.clone()))
        .unwrap_or_default();
    let mut v = json!({
        "TransitRouterAttachmentId": a.spec.id, "TransitRouterId": a.spec.transit_router, "CenId": cen,
        "Status": a.spec.status, "ResourceType": a.resource_type(), "CreationTime": CREATED,
        "AutoPublishRouteEnabled": false, "TransitRouterAttachmentName": a.spec.name,
        "TransitRouterAttachmentDescription": "",
        "Tags": a.spec.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
    });
    let obj = v.as_object_mut().expect("object");
    let owner: u64 = st.account_id.parse().unwrap_or(0);
    if let Some(vbr) = &a.spec.vbr {
        obj.insert("VbrId".into(), json!(vbr));
        obj.insert(
            "VbrRegionId".into(),
            json!(st.vbrs.get(vbr).map(|v| v.region.clone()).unwrap_or(region)),
        );
        obj.insert("VbrOwnerId".into(), json!(owner));
    } else if let Some(vco) = &a.spec.vpn_connection {
        obj.insert("VpnId".into(), json!(vco));
        obj.insert(
            "VpnRegionId".into(),
            json!(
                st.vpn_connections
                    .get(vco)
                    .map(|c| c.region.clone())
                    .unwrap_or(region)
            ),
        );
        obj.insert("VpnOwnerId".into(), json!(owner));
        obj.insert("ChargeType".into(), json!("POSTPAY"));
    }
    v
}

fn list_attachments(st: &State, ctx: &Ctx<'_>, kind: &str) -> Res {
    let page = ctx.token_page(20)?;
    let (tr, cen, region, id) = (
        ctx.get("TransitRouterId"),
        ctx.get("CenId"),
        ctx.get("RegionId"),
        ctx.get("TransitRouterAttachmentId"),
    );
    // Documented pitfall (§5.2): without TransitRouterId, CenId+RegionId or an attachment id
    // the call still answers 200, with no data.
    let scoped = tr.is_some() || id.is_some() || (cen.is_some() && region.is_some());
    let items = st
        .attachments
        .values()
        .filter(|_| scoped)
        .filter(|a| a.resource_type() == kind)
        .filter(|a| {
            tr.is_none_or(|t| t == a.spec.transit_router) && id.is_none_or(|i| i == a.spec.id)
        })
        .filter(|a| {
            let (c, r) = st
                .trs
                .get(&a.spec.transit_router)
                .map(|(c, t)| (c.as_str(), t.region.as_str()))
                .unwrap_or(("", ""));
            cen.is_none_or(|x| x == c) && region.is_none_or(|x| x == r)
        })
        .map(|a| attachment_json(st, a))
        .collect();
    Ok(token_paged(items, page, "TransitRouterAttachments"))
}

fn list_vbr_attachments(st: &mut State, ctx: &Ctx<'_>) -> Res {
    list_attachments(st, ctx, "VBR")
}

fn list_vpn_attachments(st: &mut State, ctx: &Ctx<'_>) -> Res {
    list_attachments(st, ctx, "VPN")
}

/// (attachment, route table, status) for associations or propagations.
fn links<'a>(
    st: &'a State,
    propagations: bool,
) -> impl Iterator<Item = (&'a Attachment, &'a String, &'a String)> + 'a {
    st.attachments.values().flat_map(move |a| {
        let map = if propagations {
            &a.propagations
        } else {
            &a.associations
        };
        map.iter().map(move |(vtb, status)| (a, vtb, status))
    })
}

fn list_links(st: &State, ctx: &Ctx<'_>, propagations: bool) -> Res {
    let page = ctx.token_page(50)?;
    let (vtb, att) = (
        ctx.get("TransitRouterRouteTableId"),
        ctx.get("TransitRouterAttachmentId"),
    );
    if vtb.is_none() && att.is_none() {
        return Err(fail(
            400,
            "MissingParameter",
            "One of TransitRouterRouteTableId and TransitRouterAttachmentId is mandatory for this action.",
        ));
    }
    let items = links(st, propagations)
        .filter(|(a, t, _)| vtb.is_none_or(|x| x == *t) && att.is_none_or(|x| x == a.spec.id))
        .map(|(a, t, s)| {
            json!({ "TransitRouterAttachmentId": a.spec.id, "TransitRouterRouteTableId": t, "Status": s,
                    "ResourceType": a.resource_type(), "ResourceId": a.resource_id() })
        })
        .collect();
    Ok(token_paged(
        items,
        page,
        if propagations {
            "TransitRouterPropagations"
        } else {
            "TransitRouterAssociations"
        },
    ))
}

fn list_associations(st: &mut State, ctx: &Ctx<'_>) -> Res {
    list_links(st, ctx, false)
}

fn list_propagations(st: &mut State, ctx: &Ctx<'_>) -> Res {
    list_links(st, ctx, true)
}

fn list_route_entries(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let page = ctx.token_page(50)?;
    let vtb = ctx.req("TransitRouterRouteTableId")?;
    let items = st
        .route_entries
        .values()
        .filter(|e| e.route_table == vtb)
        .map(|e| {
            json!({ "TransitRouterRouteEntryId": e.id, "TransitRouterRouteEntryDestinationCidrBlock": e.destination,
                    "TransitRouterRouteEntryType": "Static", "TransitRouterRouteEntryStatus": "Active",
                    "TransitRouterRouteEntryNextHopType": "Attachment", "TransitRouterRouteEntryNextHopId": e.next_hop,
                    "TransitRouterRouteEntryName": "", "CreateTime": CREATED })
        })
        .collect();
    Ok(token_paged(items, page, "TransitRouterRouteEntries"))
}

fn list_route_tables(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let page = ctx.token_page(20)?;
    let tr = ctx.req("TransitRouterId")?;
    let Some((_, router)) = st.trs.get(tr) else {
        return Err(fail(
            400,
            "InvalidTransitRouterId.NotFound",
            "The specified TransitRouterId is not found.",
        ));
    };
    let items = router
        .route_tables
        .iter()
        .enumerate()
        .map(|(i, vtb)| {
            json!({ "TransitRouterRouteTableId": vtb, "TransitRouterRouteTableType": if i == 0 { "System" } else { "Custom" },
                    "TransitRouterRouteTableStatus": "Active", "TransitRouterRouteTableName": "", "CreateTime": CREATED })
        })
        .collect();
    Ok(token_paged(items, page, "TransitRouterRouteTables"))
}

fn attachment_lookup(st: &State, ctx: &Ctx<'_>, kind: Option<&str>) -> Result<String, Fail> {
    let id = ctx.req("TransitRouterAttachmentId")?;
    st.attachments
        .get(id)
        .filter(|a| kind.is_none_or(|k| a.resource_type() == k))
        .map(|a| a.spec.id.clone())
        .ok_or_else(|| {
            fail(
                400,
                "InvalidTransitRouterAttachmentId.NotFound",
                "The TransitRouterAttachmentId is not found.",
            )
        })
}

fn unlink(st: &mut State, ctx: &Ctx<'_>, propagation: bool) -> Res {
    let att = attachment_lookup(st, ctx, None)?;
    let vtb = ctx.req("TransitRouterRouteTableId")?.to_string();
    let delay = if propagation {
        st.timings.disable_propagation.0
    } else {
        st.timings.dissociate.0
    };
    let a = st.attachments.get_mut(&att).expect("looked up");
    let map = if propagation {
        &mut a.propagations
    } else {
        &mut a.associations
    };
    let Some(status) = map.get_mut(&vtb) else {
        // Not documented: the code for a link that does not exist. A `.NotFound` code lets a
        // client treat it as already removed.
        let code = if propagation {
            "InvalidPropagation.NotFound"
        } else {
            "InvalidAssociation.NotFound"
        };
        return Err(fail(
            400,
            code,
            "The specified route table link does not exist.",
        ));
    };
    if status != "Active" {
        return Err(fail(
            400,
            "IncorrectStatus.Status",
            "The current status of the resource does not support this operation.",
        ));
    }
    if ctx.flag("DryRun") {
        return Err(fail(
            400,
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        ));
    }
    *status = if propagation {
        "Disabling"
    } else {
        "Dissociating"
    }
    .to_string();
    let effect = if propagation {
        Effect::RemovePropagation(att, vtb)
    } else {
        Effect::RemoveAssociation(att, vtb)
    };
    st.schedule(ctx.now + delay, effect);
    Ok(json!({}))
}

fn dissociate(st: &mut State, ctx: &Ctx<'_>) -> Res {
    unlink(st, ctx, false)
}

fn disable_propagation(st: &mut State, ctx: &Ctx<'_>) -> Res {
    unlink(st, ctx, true)
}

fn delete_route_entry(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let id = ctx.req("TransitRouterRouteEntryId")?;
    if st.route_entries.remove(id).is_none() {
        return Err(fail(
            400,
            "InvalidTransitRouterRouteEntryId.NotFound",
            "The specified TransitRouterRouteEntryId is not found.",
        ));
    }
    Ok(json!({}))
}

fn delete_attachment(st: &mut State, ctx: &Ctx<'_>, kind: &str) -> Res {
    let id = attachment_lookup(st, ctx, Some(kind))?;
    let delay = st.timings.detach_attachment.0;
    let force = ctx.flag("Force");
    let a = &st.attachments[&id];
    if a.spec.status != "Attached" {
        return Err(fail(
            400,
            "IncorrectStatus.Status",
            "The current status of the resource does not support this operation.",
        ));
    }
    let has_routes = st.route_entries.values().any(|e| e.next_hop == id);
    // Open question 1 (alibaba-api.md §13): Force=true removes associations, propagations
    // and routes together with the attachment; Force=false refuses while any exist.
    if !force {
        if !a.associations.is_empty() {
            return Err(fail(
                400,
                "OperationFailed.RouteTableAssociationExist",
                "Operation failed because TransitRouterRouteTable exists.",
            ));
        }
        if !a.propagations.is_empty() {
            return Err(fail(
                400,
                "OperationFailed.RouteTablePropagationExist",
                "Operation failed because a route table propagation exists.",
            ));
        }
        if has_routes {
            return Err(fail(
                400,
                "OperationFailed.RouteEntryExist",
                "Operation failed because the TransitRouterAttachment exists in RouteTable.",
            ));
        }
    }
    if ctx.flag("DryRun") {
        return Err(fail(
            400,
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        ));
    }
    if force {
        st.route_entries.retain(|_, e| e.next_hop != id);
    }
    let a = st.attachments.get_mut(&id).expect("looked up");
    if force {
        a.associations.clear();
        a.propagations.clear();
    }
    a.spec.status = "Detaching".into();
    st.schedule(ctx.now + delay, Effect::RemoveAttachment(id));
    Ok(json!({}))
}

fn delete_vbr_attachment(st: &mut State, ctx: &Ctx<'_>) -> Res {
    delete_attachment(st, ctx, "VBR")
}

fn delete_vpn_tr_attachment(st: &mut State, ctx: &Ctx<'_>) -> Res {
    delete_attachment(st, ctx, "VPN")
}

// STS (GetCallerIdentity, AssumeRole, AssumeRoleWithOIDC) lives in `super::sts`.
