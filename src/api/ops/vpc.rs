//! Vpc 2016-04-28 operations: Express Connect circuits, VBRs, router interfaces, BGP groups
//! and peers, IPsec-VPN connections and attachments.
//!
//! Every request names its region (the endpoint, and `RegionId` in the query). List reads
//! collect every page ([`super::all_pages`]); filters with more than five values per key are
//! split into several requests ([`super::filter_batches`]) and the results concatenated.
//!
//! Sources: alibaba-api.md §1–§4 for everything it documents. Where it is silent, the
//! official Go SDK (`aliyun/alibaba-cloud-sdk-go`, `services/vpc`) and the Alibaba Cloud API
//! reference pages were followed: `DescribeBgpGroups` / `DescribeBgpPeers` (request
//! `RegionId`, `RouterId`, `BgpGroupId`, `BgpPeerId`, `PageNumber`, `PageSize`; response
//! `BgpGroups.BgpGroup[]` / `BgpPeers.BgpPeer[]`, with `PeerAsn`/`LocalAsn` strings in the SDK
//! and integers in newer pages), `DeleteBgpPeer` / `DeleteBgpGroup` (`BgpPeerId` /
//! `BgpGroupId`, `ClientToken`; response `{RequestId}`), `DescribeVpnGateway` (flat object:
//! `VpnGatewayId`, `VpcId`, `Status`, `BusinessStatus`, `ChargeType`, …) and
//! `DescribeRouterInterfaces` (`RouterInterfaceSet.RouterInterfaceType[]`).

use serde::{Deserialize, Serialize};

use super::{
    all_pages, body_failure, decode, filter_batches, lenient_bool, mutate, request_id,
    string_or_number, wrapped_list,
};
use crate::api::{ApiRequest, CallError, Product, ReadClient, WriteClient};

/// A Vpc request in `region`.
fn vpc(action: &str, region: &str) -> ApiRequest {
    ApiRequest::new(Product::Vpc, action).region(region)
}

/// Every page of `req` for each filter batch, concatenated.
async fn filtered_pages<T: serde::de::DeserializeOwned>(
    c: &ReadClient,
    req: ApiRequest,
    keys: &[(&str, &[String])],
    items: &[&str],
) -> Result<Vec<T>, CallError> {
    // Every batch at once (the client bounds the requests in flight); results in batch order.
    let calls = filter_batches(keys).into_iter().map(|batch| {
        let mut r = req.clone();
        r.params.extend(batch);
        async move { all_pages(c, &r, items).await }
    });
    let mut all = Vec::new();
    for got in futures_util::future::join_all(calls).await {
        all.extend(got?);
    }
    Ok(all)
}

/// A mutation that names one resource by id, with an optional ClientToken.
async fn by_id(
    w: &WriteClient,
    action: &str,
    region: &str,
    (key, id): (&str, &str),
    client_token: Option<&str>,
) -> Result<String, CallError> {
    mutate(
        w,
        vpc(action, region)
            .param(key, id)
            .opt_param("ClientToken", client_token),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Express Connect circuits (alibaba-api.md §1)

/// An Express Connect circuit (`PhysicalConnectionSet.PhysicalConnectionType[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct PhysicalConnection {
    /// `pc-…`.
    pub physical_connection_id: String,
    /// Display name.
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// Lifecycle: `Initial`, `Approved`, `Allocating`, `Allocated`, `Confirmed`, `Enabled`,
    /// `Rejected`, `Canceled`, `Allocation Failed`, `Terminating`, `Terminated`.
    pub status: String,
    /// Payment state: `Normal`, `FinancialLocked`, `SecurityLocked`.
    pub business_status: String,
    /// Access point (`ap-…`).
    pub access_point_id: String,
    /// Circuit type (`VPC`).
    #[serde(rename = "Type")]
    pub kind: String,
    /// Line operator (`CT`, `CU`, `CM`, `CO`, `Equinix`, `Other`).
    pub line_operator: String,
    /// Port spec.
    pub spec: String,
    /// Circuit code from the operator.
    pub circuit_code: String,
    /// Bandwidth (number or string depending on the response).
    #[serde(deserialize_with = "string_or_number")]
    pub bandwidth: String,
    /// The redundant circuit, if any.
    pub redundant_physical_connection_id: String,
    /// Hosted connections on this circuit (newer responses; they block termination).
    #[serde(deserialize_with = "string_or_number")]
    pub virtual_physical_connection_count: String,
    /// Billing method.
    pub charge_type: String,
    /// When it was created.
    pub creation_time: String,
    /// When it was enabled.
    pub enabled_time: String,
    /// Tags (`Tags.tags[]` / `Tags.Tags[]` / `Tags.Tag[]`: the wrapper differs by API).
    #[serde(deserialize_with = "super::tags")]
    pub tags: super::Tags,
    /// MACsec keys bound to the port (`MacsecKeys.MacsecKey[]`, SDK model; blockers.md C6):
    /// they block TerminatePhysicalConnection (`OperationDenied.MacsecAttached`).
    #[serde(deserialize_with = "wrapped_list")]
    pub macsec_keys: Vec<super::vpc_circuit::MacsecKey>,
    /// `PhysicalConnection`, or `VirtualPhysicalConnection` for a hosted connection (SDK
    /// model; blockers.md C5).
    pub product_type: String,
    /// For a hosted connection: the partner's circuit it runs on.
    pub parent_physical_connection_id: String,
    /// For a hosted connection: the partner's account (an integer in the SDK model).
    #[serde(deserialize_with = "string_or_number")]
    pub parent_physical_connection_ali_uid: String,
    /// For a hosted connection: `Confirmed`, `UnConfirmed`, `Deleted`.
    pub vpconn_status: String,
}

/// Which circuits to list (`Filter.N.Key` values; empty lists are not sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhysicalConnectionFilter {
    /// `PhysicalConnectionId` values.
    pub physical_connection_ids: Vec<String>,
    /// `Status` values.
    pub statuses: Vec<String>,
    /// `Name` values.
    pub names: Vec<String>,
}

/// `DescribePhysicalConnections`: every circuit in `region` matching `filter`.
pub async fn describe_physical_connections(
    c: &ReadClient,
    region: &str,
    filter: &PhysicalConnectionFilter,
) -> Result<Vec<PhysicalConnection>, CallError> {
    filtered_pages(
        c,
        vpc("DescribePhysicalConnections", region),
        &[
            ("PhysicalConnectionId", &filter.physical_connection_ids),
            ("Status", &filter.statuses),
            ("Name", &filter.names),
        ],
        &["PhysicalConnectionSet", "PhysicalConnectionType"],
    )
    .await
}

/// `CancelPhysicalConnection` (before it is enabled → `Canceled`). Returns the RequestId.
pub async fn cancel_physical_connection(
    w: &WriteClient,
    region: &str,
    physical_connection_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let id = ("PhysicalConnectionId", physical_connection_id);
    by_id(w, "CancelPhysicalConnection", region, id, client_token).await
}

/// `TerminatePhysicalConnection` (`Enabled` → `Terminating` → `Terminated`). Returns the
/// RequestId.
pub async fn terminate_physical_connection(
    w: &WriteClient,
    region: &str,
    physical_connection_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let id = ("PhysicalConnectionId", physical_connection_id);
    by_id(w, "TerminatePhysicalConnection", region, id, client_token).await
}

/// `DeletePhysicalConnection`. Returns the RequestId.
pub async fn delete_physical_connection(
    w: &WriteClient,
    region: &str,
    physical_connection_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let id = ("PhysicalConnectionId", physical_connection_id);
    by_id(w, "DeletePhysicalConnection", region, id, client_token).await
}

// ---------------------------------------------------------------------------------------
// Virtual border routers (alibaba-api.md §2)

/// A VBR (`VirtualBorderRouterSet.VirtualBorderRouterType[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VirtualBorderRouter {
    /// `vbr-…`.
    pub vbr_id: String,
    /// Display name.
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// `unconfirmed`, `active`, `terminating`, `terminated`, `recovering`, `deleting` (older
    /// responses capitalise, and say `Enabled` for `active`).
    pub status: String,
    /// VBR type, e.g. `pconnVBR`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The primary circuit.
    pub physical_connection_id: String,
    /// Status of the primary circuit.
    pub physical_connection_status: String,
    /// Payment state of the primary circuit.
    pub physical_connection_business_status: String,
    /// Owner of the primary circuit.
    #[serde(deserialize_with = "string_or_number")]
    pub physical_connection_owner_uid: String,
    /// Access point.
    pub access_point_id: String,
    /// VLAN id.
    #[serde(deserialize_with = "string_or_number")]
    pub vlan_id: String,
    /// VLAN interface.
    pub vlan_interface_id: String,
    /// The VBR's route table.
    pub route_table_id: String,
    /// Alibaba Cloud side address.
    pub local_gateway_ip: String,
    /// Customer side address.
    pub peer_gateway_ip: String,
    /// When it was created.
    pub creation_time: String,
    /// Every circuit the VBR is associated with
    /// (`AssociatedPhysicalConnections.AssociatedPhysicalConnection[]`).
    #[serde(deserialize_with = "wrapped_list")]
    pub associated_physical_connections: Vec<AssociatedPhysicalConnection>,
    /// CEN instances the VBR is attached to directly (Basic Edition),
    /// `AssociatedCens.AssociatedCen[]`.
    #[serde(deserialize_with = "wrapped_list")]
    pub associated_cens: Vec<AssociatedCen>,
    /// The same as `associated_cens` under its older name (`AssociatedCbns.AssociatedCbn[]`).
    #[serde(deserialize_with = "wrapped_list")]
    pub associated_cbns: Vec<AssociatedCen>,
    /// Tags (`Tags.tags[]` / `Tags.Tags[]` / `Tags.Tag[]`: the wrapper differs by API).
    #[serde(deserialize_with = "super::tags")]
    pub tags: super::Tags,
    /// The Express Connect Router the VBR is attached to (`EcrId`, blockers.md §3.13).
    pub ecr_id: String,
    /// Its attachment status, spelt `EcrAttatchStatus` by the API.
    #[serde(rename = "EcrAttatchStatus")]
    pub ecr_attach_status: String,
    /// The ECR's owner account (a string in the SDK model).
    #[serde(deserialize_with = "string_or_number")]
    pub ecr_owner_id: String,
}

impl VirtualBorderRouter {
    /// Every circuit this VBR references: the primary one and every associated one, without
    /// duplicates or empty ids.
    pub fn physical_connection_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        let all = std::iter::once(self.physical_connection_id.as_str()).chain(
            self.associated_physical_connections
                .iter()
                .map(|a| a.physical_connection_id.as_str()),
        );
        for id in all {
            if !id.is_empty() && !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// Direct CEN attachments under either field name.
    pub fn cens(&self) -> impl Iterator<Item = &AssociatedCen> {
        self.associated_cens.iter().chain(&self.associated_cbns)
    }
}

/// One circuit a VBR is associated with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AssociatedPhysicalConnection {
    /// `pc-…`.
    pub physical_connection_id: String,
    /// Circuit status.
    pub physical_connection_status: String,
    /// Circuit payment state.
    pub physical_connection_business_status: String,
    /// Circuit owner.
    #[serde(deserialize_with = "string_or_number")]
    pub physical_connection_owner_uid: String,
    /// VLAN id on this circuit.
    #[serde(deserialize_with = "string_or_number")]
    pub vlan_id: String,
    /// VLAN interface on this circuit.
    pub vlan_interface_id: String,
    /// Status of the association.
    pub status: String,
}

/// A CEN instance a VBR is attached to directly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AssociatedCen {
    /// `cen-…`.
    pub cen_id: String,
    /// Owner of the CEN instance.
    #[serde(deserialize_with = "string_or_number")]
    pub cen_owner_id: String,
    /// e.g. `Attached`.
    pub cen_status: String,
}

/// Which VBRs to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VbrFilter {
    /// `VbrId` values.
    pub vbr_ids: Vec<String>,
    /// `PhysicalConnectionId` values.
    pub physical_connection_ids: Vec<String>,
    /// `Status` values.
    pub statuses: Vec<String>,
    /// Also list VBRs of other accounts on this account's circuits
    /// (`IncludeCrossAccountVbr=true`; not sent when false, the API default).
    pub include_cross_account: bool,
}

/// `DescribeVirtualBorderRouters`: every VBR in `region` matching `filter`.
pub async fn describe_virtual_border_routers(
    c: &ReadClient,
    region: &str,
    filter: &VbrFilter,
) -> Result<Vec<VirtualBorderRouter>, CallError> {
    let mut req = vpc("DescribeVirtualBorderRouters", region);
    if filter.include_cross_account {
        req = req.param("IncludeCrossAccountVbr", "true");
    }
    filtered_pages(
        c,
        req,
        &[
            ("VbrId", &filter.vbr_ids),
            ("PhysicalConnectionId", &filter.physical_connection_ids),
            ("Status", &filter.statuses),
        ],
        &["VirtualBorderRouterSet", "VirtualBorderRouterType"],
    )
    .await
}

/// A VBR on a circuit, as the circuit owner sees it, whoever owns the VBR
/// (`VirtualBorderRouterForPhysicalConnectionSet.VirtualBorderRouterForPhysicalConnectionType[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VbrOnPhysicalConnection {
    /// `vbr-…`.
    pub vbr_id: String,
    /// The account that owns the VBR (an integer in this response).
    #[serde(deserialize_with = "string_or_number")]
    pub vbr_owner_uid: String,
    /// VBR status (see [`VirtualBorderRouter::status`]).
    pub status: String,
    /// VLAN id.
    #[serde(deserialize_with = "string_or_number")]
    pub vlan_id: String,
    /// Circuit code.
    pub circuit_code: String,
    /// When it was created.
    pub creation_time: String,
}

/// `DescribeVirtualBorderRoutersForPhysicalConnection`: every VBR on the circuit, including
/// VBRs of other accounts.
pub async fn describe_virtual_border_routers_for_physical_connection(
    c: &ReadClient,
    region: &str,
    physical_connection_id: &str,
) -> Result<Vec<VbrOnPhysicalConnection>, CallError> {
    let req = vpc("DescribeVirtualBorderRoutersForPhysicalConnection", region)
        .param("PhysicalConnectionId", physical_connection_id);
    all_pages(
        c,
        &req,
        &[
            "VirtualBorderRouterForPhysicalConnectionSet",
            "VirtualBorderRouterForPhysicalConnectionType",
        ],
    )
    .await
}

/// `TerminateVirtualBorderRouter` (`active` → `terminated`; circuit owner only). Returns the
/// RequestId.
pub async fn terminate_virtual_border_router(
    w: &WriteClient,
    region: &str,
    vbr_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let id = ("VbrId", vbr_id);
    by_id(w, "TerminateVirtualBorderRouter", region, id, client_token).await
}

/// `DeleteVirtualBorderRouter`. Returns the RequestId.
pub async fn delete_virtual_border_router(
    w: &WriteClient,
    region: &str,
    vbr_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let id = ("VbrId", vbr_id);
    by_id(w, "DeleteVirtualBorderRouter", region, id, client_token).await
}

// ---------------------------------------------------------------------------------------
// Router interfaces (alibaba-api.md §3.1–§3.3)

/// A router interface (`RouterInterfaceSet.RouterInterfaceType[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct RouterInterface {
    /// `ri-…`.
    pub router_interface_id: String,
    /// Display name.
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// `Idle`, `Active`, `Inactive`, `Activating`, `Deactivating`, …
    pub status: String,
    /// Payment state.
    pub business_status: String,
    /// Billing method; a prepaid (subscription) interface cannot be deleted through the API
    /// (`InvalidRouterInterfaceChargeType.Malformed`).
    pub charge_type: String,
    /// `InitiatingSide` or `AcceptingSide`.
    pub role: String,
    /// Spec.
    pub spec: String,
    /// The router it sits on (a VBR or a VRouter id).
    pub router_id: String,
    /// `VBR` or `VRouter`.
    pub router_type: String,
    /// The peer interface.
    pub opposite_interface_id: String,
    /// The peer router.
    pub opposite_router_id: String,
    /// `VBR` or `VRouter`.
    pub opposite_router_type: String,
    /// The peer's region.
    pub opposite_region_id: String,
    /// The peer interface's owner.
    #[serde(deserialize_with = "string_or_number")]
    pub opposite_interface_owner_id: String,
    /// When it was created.
    pub creation_time: String,
}

/// Which router interfaces to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouterInterfaceFilter {
    /// `RouterId` values (VBR or VRouter ids).
    pub router_ids: Vec<String>,
    /// `RouterInterfaceId` values.
    pub router_interface_ids: Vec<String>,
    /// `OppositeRouterId` values.
    pub opposite_router_ids: Vec<String>,
    /// `Status` values.
    pub statuses: Vec<String>,
}

/// `DescribeRouterInterfaces`: every router interface in `region` matching `filter`.
pub async fn describe_router_interfaces(
    c: &ReadClient,
    region: &str,
    filter: &RouterInterfaceFilter,
) -> Result<Vec<RouterInterface>, CallError> {
    filtered_pages(
        c,
        vpc("DescribeRouterInterfaces", region),
        &[
            ("RouterId", &filter.router_ids),
            ("RouterInterfaceId", &filter.router_interface_ids),
            ("OppositeRouterId", &filter.opposite_router_ids),
            ("Status", &filter.statuses),
        ],
        &["RouterInterfaceSet", "RouterInterfaceType"],
    )
    .await
}

/// `DeactivateRouterInterface` (`Active` → `Inactive`). The API takes no ClientToken, so
/// the client never retries it on a transient error. Returns the RequestId.
pub async fn deactivate_router_interface(
    w: &WriteClient,
    region: &str,
    router_interface_id: &str,
) -> Result<String, CallError> {
    let id = ("RouterInterfaceId", router_interface_id);
    by_id(w, "DeactivateRouterInterface", region, id, None).await
}

/// `DeleteRouterInterface` (only `Idle` or `Inactive`). Returns the RequestId.
pub async fn delete_router_interface(
    w: &WriteClient,
    region: &str,
    router_interface_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let id = ("RouterInterfaceId", router_interface_id);
    by_id(w, "DeleteRouterInterface", region, id, client_token).await
}

// ---------------------------------------------------------------------------------------
// BGP (alibaba-api.md §3.4; response shapes from the Go SDK and API reference)

/// A BGP group on a VBR (`BgpGroups.BgpGroup[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct BgpGroup {
    /// `bgpg-…`.
    pub bgp_group_id: String,
    /// Display name.
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// The VBR it belongs to.
    pub router_id: String,
    /// `Available`, `Pending`, `Deleting` (delete only when `Available`).
    pub status: String,
    /// Customer-side ASN.
    #[serde(deserialize_with = "string_or_number")]
    pub peer_asn: String,
    /// Alibaba Cloud-side ASN.
    #[serde(deserialize_with = "string_or_number")]
    pub local_asn: String,
    /// Region.
    pub region_id: String,
}

/// Which BGP groups to list (unset fields are not sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BgpGroupFilter {
    /// `RouterId`: the VBR.
    pub router_id: Option<String>,
    /// `BgpGroupId`.
    pub bgp_group_id: Option<String>,
}

/// Where the items of a `DescribeBgpGroups` answer are (the filtered and the whole-region
/// listing alike).
const BGP_GROUP_ITEMS: &[&str] = &["BgpGroups", "BgpGroup"];

/// `DescribeBgpGroups`: every BGP group in `region` matching `filter`.
pub async fn describe_bgp_groups(
    c: &ReadClient,
    region: &str,
    filter: &BgpGroupFilter,
) -> Result<Vec<BgpGroup>, CallError> {
    let req = vpc("DescribeBgpGroups", region)
        .opt_param("RouterId", filter.router_id.as_deref())
        .opt_param("BgpGroupId", filter.bgp_group_id.as_deref());
    all_pages(c, &req, BGP_GROUP_ITEMS).await
}

/// Every BGP group of `region` ([`describe_bgp_groups`] without a filter), unless the
/// listing takes more than `budget` calls (`None`, after one call; [`super::pages_within`]).
pub async fn describe_region_bgp_groups(
    c: &ReadClient,
    region: &str,
    budget: usize,
) -> Result<Option<Vec<BgpGroup>>, CallError> {
    let req = vpc("DescribeBgpGroups", region);
    super::pages_within(c, &req, BGP_GROUP_ITEMS, budget).await
}

/// A BGP peer in a BGP group (`BgpPeers.BgpPeer[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct BgpPeer {
    /// `bgp-…`.
    pub bgp_peer_id: String,
    /// Display name.
    pub name: String,
    /// The group it belongs to.
    pub bgp_group_id: String,
    /// The VBR.
    pub router_id: String,
    /// Customer-side address.
    pub peer_ip_address: String,
    /// Resource state (`Available`, `Pending`, `Deleting`, …).
    pub status: String,
    /// Session state (`Idle`, `Established`, …); not a lifecycle state.
    pub bgp_status: String,
    /// Customer-side ASN.
    #[serde(deserialize_with = "string_or_number")]
    pub peer_asn: String,
    /// Region.
    pub region_id: String,
}

/// Which BGP peers to list (unset fields are not sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BgpPeerFilter {
    /// `RouterId`: the VBR.
    pub router_id: Option<String>,
    /// `BgpGroupId`.
    pub bgp_group_id: Option<String>,
    /// `BgpPeerId`.
    pub bgp_peer_id: Option<String>,
}

/// Where the items of a `DescribeBgpPeers` answer are (the filtered and the whole-region
/// listing alike).
const BGP_PEER_ITEMS: &[&str] = &["BgpPeers", "BgpPeer"];

/// `DescribeBgpPeers`: every BGP peer in `region` matching `filter`.
pub async fn describe_bgp_peers(
    c: &ReadClient,
    region: &str,
    filter: &BgpPeerFilter,
) -> Result<Vec<BgpPeer>, CallError> {
    let req = vpc("DescribeBgpPeers", region)
        .opt_param("RouterId", filter.router_id.as_deref())
        .opt_param("BgpGroupId", filter.bgp_group_id.as_deref())
        .opt_param("BgpPeerId", filter.bgp_peer_id.as_deref());
    all_pages(c, &req, BGP_PEER_ITEMS).await
}

/// Every BGP peer of `region` ([`describe_bgp_peers`] without a filter), unless the listing
/// takes more than `budget` calls (`None`, after one call; [`super::pages_within`]).
pub async fn describe_region_bgp_peers(
    c: &ReadClient,
    region: &str,
    budget: usize,
) -> Result<Option<Vec<BgpPeer>>, CallError> {
    let req = vpc("DescribeBgpPeers", region);
    super::pages_within(c, &req, BGP_PEER_ITEMS, budget).await
}

/// `DeleteBgpPeer`. Returns the RequestId.
pub async fn delete_bgp_peer(
    w: &WriteClient,
    region: &str,
    bgp_peer_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    by_id(
        w,
        "DeleteBgpPeer",
        region,
        ("BgpPeerId", bgp_peer_id),
        client_token,
    )
    .await
}

/// `DeleteBgpGroup` (the group must be `Available` and, in practice, without peers).
/// Returns the RequestId.
pub async fn delete_bgp_group(
    w: &WriteClient,
    region: &str,
    bgp_group_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let id = ("BgpGroupId", bgp_group_id);
    by_id(w, "DeleteBgpGroup", region, id, client_token).await
}

// ---------------------------------------------------------------------------------------
// IPsec-VPN (alibaba-api.md §4)

/// A transit-router-bound IPsec connection (`VpnAttachments[]`, a flat array).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VpnAttachment {
    /// The IPsec connection (`vco-…`).
    pub instance_id: String,
    /// Display name.
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// `CEN` for a transit-router-bound connection.
    pub attach_type: String,
    /// The transit router it is bound to (empty when not bound).
    pub transit_router_id: String,
    /// The transit router's name.
    pub transit_router_name: String,
    /// Tags: `Tags[]` (SDK model DescribeVpnAttachmentsResponseBody). The sibling `Tag` is
    /// a system-tag string (e.g. `VpnEnableBgp`), not tags: it is ignored.
    #[serde(deserialize_with = "super::tags")]
    pub tags: super::Tags,
}

impl VpnAttachment {
    /// The documented marker of a TR-bound IPsec connection: `AttachType == "CEN"` and a
    /// transit router id.
    pub fn is_bound_to_transit_router(&self) -> bool {
        self.attach_type.eq_ignore_ascii_case("CEN") && !self.transit_router_id.is_empty()
    }
}

/// `DescribeVpnAttachments`: the TR-bound IPsec connections in `region`, or just
/// `vpn_connection_id`. `AttachType` is left at its default (`CEN`).
pub async fn describe_vpn_attachments(
    c: &ReadClient,
    region: &str,
    vpn_connection_id: Option<&str>,
) -> Result<Vec<VpnAttachment>, CallError> {
    let req = vpc("DescribeVpnAttachments", region).opt_param("VpnConnectionId", vpn_connection_id);
    all_pages(c, &req, &["VpnAttachments"]).await
}

/// An IPsec connection (the flat `DescribeVpnConnection` body, or one
/// `VpnConnections.VpnConnection[]` item).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VpnConnection {
    /// `vco-…`.
    pub vpn_connection_id: String,
    /// Display name.
    pub name: String,
    /// The VPN gateway (empty for a TR-bound connection).
    pub vpn_gateway_id: String,
    /// The customer gateway.
    pub customer_gateway_id: String,
    /// Resource lifecycle: `active`, `init`, `attaching`, `attached`, `detaching`,
    /// `financialLocked`, `provisioning`, `updating`, `upgrading`, `deleted` (SDK enum,
    /// blockers.md §3.3).
    pub state: String,
    /// Tunnel negotiation (`ike_sa_not_established`, …, `ipsec_sa_established`).
    pub status: String,
    /// `CEN` (bound to a transit router), `NO_ASSOCIATED` (a transit-router-type connection
    /// that is not bound, e.g. after its TR attachment was deleted) or `VPNGW` (on a VPN
    /// gateway) (SDK enum).
    pub attach_type: String,
    /// The transit router it is bound to (newer responses).
    pub transit_router_id: String,
    /// The CEN of the transit router it is bound to (SDK model).
    pub attach_instance_id: String,
    /// Tags: `Tags.Tag[]` in DescribeVpnConnection, `Tag.Tag[]` in DescribeVpnConnections
    /// items (SDK models); neither body has both keys.
    #[serde(alias = "Tag", deserialize_with = "super::tags")]
    pub tags: super::Tags,
}

impl VpnConnection {
    /// A transit-router-type connection (bound to a transit router, or unbound with
    /// `AttachType=NO_ASSOCIATED`): removed with DeleteVpnAttachment. A connection on a VPN
    /// gateway (`VPNGW`, or a gateway id) is not.
    pub fn is_transit_router_type(&self) -> bool {
        self.vpn_gateway_id.is_empty() && !self.attach_type.eq_ignore_ascii_case("VPNGW")
    }

    /// `State=deleted`: the connection is gone although still listed.
    pub fn is_deleted(&self) -> bool {
        self.state.eq_ignore_ascii_case("deleted")
    }
}

/// `DescribeVpnConnection`: one IPsec connection.
pub async fn describe_vpn_connection(
    c: &ReadClient,
    region: &str,
    vpn_connection_id: &str,
) -> Result<VpnConnection, CallError> {
    let req = vpc("DescribeVpnConnection", region).param("VpnConnectionId", vpn_connection_id);
    let body = c.call(&req).await?;
    decode(&req.action, body)
}

/// Which IPsec connections to list (unset fields are not sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VpnConnectionFilter {
    /// `VpnGatewayId`.
    pub vpn_gateway_id: Option<String>,
    /// `CustomerGatewayId`.
    pub customer_gateway_id: Option<String>,
    /// `VpnConnectionId`.
    pub vpn_connection_id: Option<String>,
}

/// `DescribeVpnConnections`: every IPsec connection in `region` matching `filter`.
pub async fn describe_vpn_connections(
    c: &ReadClient,
    region: &str,
    filter: &VpnConnectionFilter,
) -> Result<Vec<VpnConnection>, CallError> {
    Ok(
        describe_vpn_connections_within(c, region, filter, usize::MAX)
            .await?
            .unwrap_or_default(),
    )
}

/// [`describe_vpn_connections`], unless the listing takes more than `budget` calls (`None`,
/// after one call; [`super::pages_within`]).
pub async fn describe_vpn_connections_within(
    c: &ReadClient,
    region: &str,
    filter: &VpnConnectionFilter,
    budget: usize,
) -> Result<Option<Vec<VpnConnection>>, CallError> {
    let req = vpc("DescribeVpnConnections", region)
        .opt_param("VpnGatewayId", filter.vpn_gateway_id.as_deref())
        .opt_param("CustomerGatewayId", filter.customer_gateway_id.as_deref())
        .opt_param("VpnConnectionId", filter.vpn_connection_id.as_deref());
    super::pages_within(c, &req, &["VpnConnections", "VpnConnection"], budget).await
}

/// A VPN gateway (the flat `DescribeVpnGateway` body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VpnGateway {
    /// `vpn-…`.
    pub vpn_gateway_id: String,
    /// Display name.
    pub name: String,
    /// Its VPC.
    pub vpc_id: String,
    /// `init`, `provisioning`, `active`, `updating`, `deleting`; after DeleteVpnConnection
    /// it is `updating` until the connection is gone, then `active`.
    pub status: String,
    /// Payment state (`Normal`, `FinancialLocked`).
    pub business_status: String,
    /// Billing method.
    pub charge_type: String,
    /// Spec.
    pub spec: String,
}

/// `DescribeVpnGateway`: one VPN gateway.
pub async fn describe_vpn_gateway(
    c: &ReadClient,
    region: &str,
    vpn_gateway_id: &str,
) -> Result<VpnGateway, CallError> {
    let req = vpc("DescribeVpnGateway", region).param("VpnGatewayId", vpn_gateway_id);
    let body = c.call(&req).await?;
    decode(&req.action, body)
}

/// `DeleteVpnConnection` (gateway-bound; asynchronous, watch the gateway's status). Returns
/// the RequestId.
pub async fn delete_vpn_connection(
    w: &WriteClient,
    region: &str,
    vpn_connection_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let id = ("VpnConnectionId", vpn_connection_id);
    by_id(w, "DeleteVpnConnection", region, id, client_token).await
}

/// `DeleteVpnAttachment` (TR-bound; detach it from the transit router first). Returns the
/// RequestId.
///
/// The API reports failure in a 200 body too (`{"Success": false, "Code": …}`); that is
/// returned as a [`CallError::Api`] with the body's Code, Message and RequestId and HTTP
/// status 200. A body without `Success` counts as success.
pub async fn delete_vpn_attachment(
    w: &WriteClient,
    region: &str,
    vpn_connection_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let req = vpc("DeleteVpnAttachment", region)
        .param("VpnConnectionId", vpn_connection_id)
        .opt_param("ClientToken", client_token);
    let body = w.call(&req).await?;
    if lenient_bool(body.get("Success")) == Some(false) {
        return Err(body_failure(&req.action, &body));
    }
    Ok(request_id(&body))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::ErrorClass;
    use crate::api::testkit::{Script, action, api_params, ok};

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn physical_connections_with_filters_and_wrappers() {
        let body = json!({
            "RequestId": "r", "TotalCount": 2, "PageNumber": 1, "PageSize": 50,
            "PhysicalConnectionSet": {"PhysicalConnectionType": [
                {"PhysicalConnectionId": "pc-1", "Status": "Enabled", "Type": "VPC",
                 "Bandwidth": 1000, "VirtualPhysicalConnectionCount": 0, "Unknown": {"x": 1}},
                {"PhysicalConnectionId": "pc-2", "Status": "Allocation Failed", "Bandwidth": "50"}
            ]}
        });
        let script = Script::new(vec![ok(&body.to_string())]);
        let filter = PhysicalConnectionFilter {
            physical_connection_ids: strings(&["pc-1", "pc-2"]),
            statuses: strings(&["Enabled"]),
            ..Default::default()
        };
        let pcs = describe_physical_connections(&script.reader(), "cn-hangzhou", &filter)
            .await
            .unwrap();
        assert_eq!(pcs.len(), 2);
        assert_eq!(pcs[0].kind, "VPC");
        assert_eq!(pcs[0].bandwidth, "1000");
        assert_eq!(pcs[1].bandwidth, "50");
        assert_eq!(pcs[1].status, "Allocation Failed");
        let r = script.only();
        assert_eq!(action(&r), "DescribePhysicalConnections");
        assert_eq!(r.query_param("RegionId"), Some("cn-hangzhou"));
        assert_eq!(r.query_param("Filter.1.Key"), Some("PhysicalConnectionId"));
        assert_eq!(r.query_param("Filter.1.Value.2"), Some("pc-2"));
        assert_eq!(r.query_param("Filter.2.Key"), Some("Status"));
        assert_eq!(r.query_param("Filter.2.Value.1"), Some("Enabled"));
        assert_eq!(r.query_param("Filter.3.Key"), None);

        for empty in [
            r#"{"RequestId":"r","TotalCount":0,"PhysicalConnectionSet":{}}"#,
            r#"{"RequestId":"r","TotalCount":0,"PhysicalConnectionSet":{"PhysicalConnectionType":[]}}"#,
            r#"{"RequestId":"r"}"#,
        ] {
            let script = Script::new(vec![ok(empty)]);
            let pcs = describe_physical_connections(&script.reader(), "r", &Default::default())
                .await
                .unwrap();
            assert!(pcs.is_empty(), "{empty}");
        }
    }

    #[tokio::test]
    async fn more_than_five_ids_are_split_into_batches() {
        let ids: Vec<String> = (1..=7).map(|i| format!("pc-{i}")).collect();
        let page = |ids: &[&str]| {
            let items: Vec<_> = ids
                .iter()
                .map(|id| json!({"PhysicalConnectionId": id}))
                .collect();
            ok(&json!({"TotalCount": ids.len(), "PhysicalConnectionSet": {"PhysicalConnectionType": items}}).to_string())
        };
        let script = Script::new(vec![page(&["pc-1", "pc-3"]), page(&["pc-7"])]);
        let filter = PhysicalConnectionFilter {
            physical_connection_ids: ids,
            ..Default::default()
        };
        let pcs = describe_physical_connections(&script.reader(), "r", &filter)
            .await
            .unwrap();
        assert_eq!(pcs.len(), 3);
        let seen = script.seen();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].query_param("Filter.1.Value.5"), Some("pc-5"));
        assert_eq!(seen[0].query_param("Filter.1.Value.6"), None);
        assert_eq!(seen[1].query_param("Filter.1.Value.1"), Some("pc-6"));
        assert_eq!(seen[1].query_param("Filter.1.Value.2"), Some("pc-7"));
    }

    #[tokio::test]
    async fn vbrs_cross_account_and_associations() {
        let body = json!({
            "TotalCount": 1,
            "VirtualBorderRouterSet": {"VirtualBorderRouterType": [{
                "VbrId": "vbr-1", "Status": "active", "PhysicalConnectionId": "pc-1",
                "PhysicalConnectionOwnerUid": 1234567890, "VlanId": 10,
                "AssociatedPhysicalConnections": {"AssociatedPhysicalConnection": [
                    {"PhysicalConnectionId": "pc-1", "VlanId": "10"},
                    {"PhysicalConnectionId": "pc-2", "PhysicalConnectionOwnerUid": "99"}
                ]},
                "AssociatedCens": {"AssociatedCen": [{"CenId": "cen-1", "CenOwnerId": 5, "CenStatus": "Attached"}]},
                "AssociatedCbns": {}
            }]}
        });
        let script = Script::new(vec![ok(&body.to_string())]);
        let filter = VbrFilter {
            physical_connection_ids: strings(&["pc-1"]),
            include_cross_account: true,
            ..Default::default()
        };
        let vbrs = describe_virtual_border_routers(&script.reader(), "cn-hangzhou", &filter)
            .await
            .unwrap();
        let v = &vbrs[0];
        assert_eq!(v.physical_connection_owner_uid, "1234567890");
        assert_eq!(v.vlan_id, "10");
        assert_eq!(v.physical_connection_ids(), vec!["pc-1", "pc-2"]);
        assert_eq!(
            v.associated_physical_connections[1].physical_connection_owner_uid,
            "99"
        );
        let cens: Vec<_> = v.cens().collect();
        assert_eq!(cens.len(), 1);
        assert_eq!(cens[0].cen_owner_id, "5");
        let r = script.only();
        assert_eq!(action(&r), "DescribeVirtualBorderRouters");
        assert_eq!(r.query_param("IncludeCrossAccountVbr"), Some("true"));
        assert_eq!(r.query_param("Filter.1.Key"), Some("PhysicalConnectionId"));

        let script = Script::new(vec![ok("{}")]);
        describe_virtual_border_routers(&script.reader(), "r", &VbrFilter::default())
            .await
            .unwrap();
        assert_eq!(script.only().query_param("IncludeCrossAccountVbr"), None);
    }

    #[tokio::test]
    async fn vbrs_for_physical_connection_with_int_owner() {
        let body = json!({
            "TotalCount": 2,
            "VirtualBorderRouterForPhysicalConnectionSet": {"VirtualBorderRouterForPhysicalConnectionType": [
                {"VbrId": "vbr-1", "VbrOwnerUid": 1_234_567_890_123_456_u64, "Status": "unconfirmed"},
                {"VbrId": "vbr-2", "VbrOwnerUid": "42", "Status": "active"}
            ]}
        });
        let script = Script::new(vec![ok(&body.to_string())]);
        let vbrs =
            describe_virtual_border_routers_for_physical_connection(&script.reader(), "r", "pc-1")
                .await
                .unwrap();
        assert_eq!(vbrs[0].vbr_owner_uid, "1234567890123456");
        assert_eq!(vbrs[1].vbr_owner_uid, "42");
        let r = script.only();
        assert_eq!(
            action(&r),
            "DescribeVirtualBorderRoutersForPhysicalConnection"
        );
        assert_eq!(r.query_param("PhysicalConnectionId"), Some("pc-1"));
        assert_eq!(r.query_param("PageSize"), Some("50"));
    }

    #[tokio::test]
    async fn router_interfaces_bgp_and_vpn_reads() {
        let script = Script::new(vec![
            ok(&json!({"TotalCount": 1, "RouterInterfaceSet": {"RouterInterfaceType": [
                {"RouterInterfaceId": "ri-1", "RouterId": "vbr-1", "Status": "Active",
                 "ChargeType": "AfterPay", "OppositeInterfaceOwnerId": 77}]}})
            .to_string()),
            ok(&json!({"TotalCount": 1, "BgpGroups": {"BgpGroup": [
                {"BgpGroupId": "bgpg-1", "RouterId": "vbr-1", "PeerAsn": 65001, "LocalAsn": "45104", "Status": "Available"}]}})
            .to_string()),
            ok(&json!({"TotalCount": 1, "BgpPeers": {"BgpPeer": [
                {"BgpPeerId": "bgp-1", "BgpGroupId": "bgpg-1", "PeerIpAddress": "10.0.0.1", "Status": "Available", "BgpStatus": "Idle"}]}})
            .to_string()),
            ok(&json!({"TotalCount": 1, "VpnAttachments": [
                {"InstanceId": "vco-1", "AttachType": "CEN", "TransitRouterId": "tr-1"}]})
            .to_string()),
            ok(&json!({"RequestId": "r", "VpnConnectionId": "vco-2", "VpnGatewayId": "vpn-1",
                "State": "active", "Status": "ipsec_sa_established", "CreateTime": 1_700_000_000_000_u64})
            .to_string()),
            ok(&json!({"TotalCount": 1, "VpnConnections": {"VpnConnection": [
                {"VpnConnectionId": "vco-2", "VpnGatewayId": "vpn-1"}]}})
            .to_string()),
            ok(&json!({"RequestId": "r", "VpnGatewayId": "vpn-1", "Status": "updating", "BusinessStatus": "Normal"})
                .to_string()),
        ]);
        let c = script.reader();
        let ris = describe_router_interfaces(
            &c,
            "r",
            &RouterInterfaceFilter {
                router_ids: strings(&["vbr-1"]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(ris[0].opposite_interface_owner_id, "77");
        let groups = describe_bgp_groups(
            &c,
            "r",
            &BgpGroupFilter {
                router_id: Some("vbr-1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(groups[0].peer_asn, "65001");
        assert_eq!(groups[0].local_asn, "45104");
        let peers = describe_bgp_peers(
            &c,
            "r",
            &BgpPeerFilter {
                bgp_group_id: Some("bgpg-1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(peers[0].peer_ip_address, "10.0.0.1");
        let atts = describe_vpn_attachments(&c, "r", None).await.unwrap();
        assert!(atts[0].is_bound_to_transit_router());
        let conn = describe_vpn_connection(&c, "r", "vco-2").await.unwrap();
        assert_eq!(conn.state, "active");
        assert_eq!(conn.vpn_gateway_id, "vpn-1");
        let conns = describe_vpn_connections(
            &c,
            "r",
            &VpnConnectionFilter {
                vpn_gateway_id: Some("vpn-1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(conns.len(), 1);
        let gw = describe_vpn_gateway(&c, "r", "vpn-1").await.unwrap();
        assert_eq!(gw.status, "updating");

        let seen = script.seen();
        let sent: Vec<(&str, Vec<(String, String)>)> =
            seen.iter().map(|r| (action(r), api_params(r))).collect();
        let has = |i: usize, k: &str, v: &str| {
            assert!(
                sent[i].1.contains(&(k.to_string(), v.to_string())),
                "{} lacks {k}={v}: {:?}",
                sent[i].0,
                sent[i].1
            )
        };
        assert_eq!(sent[0].0, "DescribeRouterInterfaces");
        has(0, "Filter.1.Key", "RouterId");
        has(0, "Filter.1.Value.1", "vbr-1");
        assert_eq!(sent[1].0, "DescribeBgpGroups");
        has(1, "RouterId", "vbr-1");
        has(1, "PageNumber", "1");
        assert!(!sent[1].1.iter().any(|(k, _)| k == "BgpGroupId"));
        assert_eq!(sent[2].0, "DescribeBgpPeers");
        has(2, "BgpGroupId", "bgpg-1");
        assert_eq!(sent[3].0, "DescribeVpnAttachments");
        assert!(
            !sent[3]
                .1
                .iter()
                .any(|(k, _)| k == "VpnConnectionId" || k == "AttachType")
        );
        assert_eq!(sent[4].0, "DescribeVpnConnection");
        has(4, "VpnConnectionId", "vco-2");
        assert_eq!(sent[5].0, "DescribeVpnConnections");
        has(5, "VpnGatewayId", "vpn-1");
        assert_eq!(sent[6].0, "DescribeVpnGateway");
        has(6, "VpnGatewayId", "vpn-1");
        for (name, params) in &sent {
            assert!(
                params.contains(&("RegionId".to_string(), "r".to_string())),
                "{name}"
            );
        }
    }

    /// Every Vpc mutation: the action, its id parameter, RegionId and the ClientToken (sent
    /// exactly when the ACTIONS table says the action takes one).
    #[tokio::test]
    async fn each_mutation_sends_its_action_params_and_token() {
        let tok = Some("tok-1");
        let cases: Vec<(&str, &str, &str)> = vec![
            ("CancelPhysicalConnection", "PhysicalConnectionId", "pc-1"),
            (
                "TerminatePhysicalConnection",
                "PhysicalConnectionId",
                "pc-1",
            ),
            ("DeletePhysicalConnection", "PhysicalConnectionId", "pc-1"),
            ("TerminateVirtualBorderRouter", "VbrId", "vbr-1"),
            ("DeleteVirtualBorderRouter", "VbrId", "vbr-1"),
            ("DeactivateRouterInterface", "RouterInterfaceId", "ri-1"),
            ("DeleteRouterInterface", "RouterInterfaceId", "ri-1"),
            ("DeleteBgpPeer", "BgpPeerId", "bgp-1"),
            ("DeleteBgpGroup", "BgpGroupId", "bgpg-1"),
            ("DeleteVpnConnection", "VpnConnectionId", "vco-1"),
            ("DeleteVpnAttachment", "VpnConnectionId", "vco-1"),
        ];
        for (name, key, id) in cases {
            let script = Script::new(vec![ok(r#"{"RequestId":"RID"}"#)]);
            let w = script.writer();
            let r = "cn-hangzhou";
            let rid = match name {
                "CancelPhysicalConnection" => cancel_physical_connection(&w, r, id, tok).await,
                "TerminatePhysicalConnection" => {
                    terminate_physical_connection(&w, r, id, tok).await
                }
                "DeletePhysicalConnection" => delete_physical_connection(&w, r, id, tok).await,
                "TerminateVirtualBorderRouter" => {
                    terminate_virtual_border_router(&w, r, id, tok).await
                }
                "DeleteVirtualBorderRouter" => delete_virtual_border_router(&w, r, id, tok).await,
                "DeactivateRouterInterface" => deactivate_router_interface(&w, r, id).await,
                "DeleteRouterInterface" => delete_router_interface(&w, r, id, tok).await,
                "DeleteBgpPeer" => delete_bgp_peer(&w, r, id, tok).await,
                "DeleteBgpGroup" => delete_bgp_group(&w, r, id, tok).await,
                "DeleteVpnConnection" => delete_vpn_connection(&w, r, id, tok).await,
                "DeleteVpnAttachment" => delete_vpn_attachment(&w, r, id, tok).await,
                other => unreachable!("{other}"),
            }
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(rid, "RID", "{name}");
            let sent = script.only();
            assert_eq!(action(&sent), name);
            let info = crate::api::actions::lookup(name).expect("in the ACTIONS table");
            assert_eq!(info.product, Product::Vpc);
            let mut want = vec![
                (key.to_string(), id.to_string()),
                ("RegionId".to_string(), r.to_string()),
            ];
            if info.client_token {
                want.push(("ClientToken".to_string(), "tok-1".to_string()));
            }
            want.sort();
            assert_eq!(api_params(&sent), want, "{name}");
        }
    }

    #[tokio::test]
    async fn mutations_without_a_token_send_none() {
        let script = Script::new(vec![ok(r#"{"RequestId":"RID"}"#)]);
        delete_virtual_border_router(&script.writer(), "r", "vbr-1", None)
            .await
            .unwrap();
        assert_eq!(script.only().query_param("ClientToken"), None);
    }

    #[tokio::test]
    async fn delete_vpn_attachment_checks_the_body() {
        let script = Script::new(vec![ok(
            r#"{"RequestId":"R9","Code":"VpnConnection.Configuring","Success":false,"Message":"The specified service is configuring."}"#,
        )]);
        let e = delete_vpn_attachment(&script.writer(), "r", "vco-1", Some("t"))
            .await
            .unwrap_err();
        let api = e.api().expect("an API error");
        assert_eq!(api.code, "VpnConnection.Configuring");
        assert_eq!(api.http_status, 200);
        assert_eq!(api.request_id.as_deref(), Some("R9"));
        assert_eq!(api.action, "DeleteVpnAttachment");
        assert_eq!(e.class(), ErrorClass::Busy);

        for body in [
            r#"{"RequestId":"R1","Code":"200","Success":true,"Message":"successful"}"#,
            r#"{"RequestId":"R1","Success":"true"}"#,
            r#"{"RequestId":"R1"}"#,
        ] {
            let script = Script::new(vec![ok(body)]);
            let rid = delete_vpn_attachment(&script.writer(), "r", "vco-1", None)
                .await
                .unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(rid, "R1");
        }
        let script = Script::new(vec![ok(r#"{"RequestId":"R1","Success":"false"}"#)]);
        let e = delete_vpn_attachment(&script.writer(), "r", "vco-1", None)
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some("OperationFailed"));
    }

    #[tokio::test]
    async fn api_errors_pass_through() {
        let script = Script::new(vec![Ok(crate::api::WireResponse {
            status: 404,
            headers: vec![],
            body: br#"{"RequestId":"R","Code":"InvalidVbrId.NotFound","Message":"m"}"#.to_vec(),
        })]);
        let e = delete_virtual_border_router(&script.writer(), "r", "vbr-1", Some("t"))
            .await
            .unwrap_err();
        assert_eq!(e.class(), ErrorClass::Gone);
    }
}
