//! Vpc 2016-04-28 operations on what else hangs off a VBR: the association of a VBR with a
//! further circuit, the custom routes of the VBR's route table, BGP networks and NQA probes.
//!
//! Sources: the SDK models (`alibabacloud-vpc20160428` 7.2.2) via
//! tests/data/api-contract.json and blockers.md §2.1 (UnassociatePhysicalConnectionFrom
//! VirtualBorderRouter, DescribeRouteEntryList / DeleteRouteEntry, DescribeBgpNetworks /
//! DeleteBgpNetwork). DescribeNqas / DeleteNqa exist only in the legacy API metadata
//! (`aliyun-python-sdk-vpc` 3.0.5, `aliyun-openapi-meta` vpc/DescribeNqas.json): no response
//! model; the list wrapper `Nqas.Nqa[]` is the Java unmarshaller's path (`Nqas[i]`) with the
//! usual Vpc inner key, and the decoder also accepts a flat array.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{MAX_PAGES, PAGE_SIZE, all_pages, mutate, wrapped_list};
use crate::api::{ApiRequest, CallError, Product, ReadClient, WriteClient};

fn vpc(action: &str, region: &str) -> ApiRequest {
    ApiRequest::new(Product::Vpc, action).region(region)
}

// ---------------------------------------------------------------------------------------
// A VBR on several circuits

/// `UnassociatePhysicalConnectionFromVirtualBorderRouter`: take the VBR off one of its
/// circuits (asynchronous in practice: the circuit leaves the VBR's
/// `AssociatedPhysicalConnections` a little later). Returns the RequestId.
pub async fn unassociate_physical_connection_from_virtual_border_router(
    w: &WriteClient,
    region: &str,
    vbr_id: &str,
    physical_connection_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    mutate(
        w,
        vpc(
            "UnassociatePhysicalConnectionFromVirtualBorderRouter",
            region,
        )
        .param("VbrId", vbr_id)
        .param("PhysicalConnectionId", physical_connection_id)
        .opt_param("ClientToken", client_token),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// VBR route table

/// One next hop of a route (`NextHops.NextHop[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct NextHop {
    /// The next hop's id (`ri-…` for a VBR custom route).
    pub next_hop_id: String,
    /// `RouterInterface`, `Attachment`, `Ecr`, …
    pub next_hop_type: String,
}

/// A route of a route table (`RouteEntrys.RouteEntry[]`, the API's spelling).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct RouteEntry {
    /// `rte-…`.
    pub route_entry_id: String,
    /// Its route table.
    pub route_table_id: String,
    /// Destination.
    pub destination_cidr_block: String,
    /// `Custom`, `System`, `BGP`, `CEN`, `ECR`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// `Pending`, `Available`, `Modifying`, `Creating`, `Deleting`.
    pub status: String,
    /// Name.
    pub route_entry_name: String,
    /// Its next hops.
    #[serde(deserialize_with = "wrapped_list")]
    pub next_hops: Vec<NextHop>,
}

/// `DescribeRouteEntryList` of one route table (`RouteTableId` is required), optionally only
/// `Custom` routes or one route; every page (`MaxResult` ≤ 100 / `NextToken`).
pub async fn describe_route_entry_list(
    c: &ReadClient,
    region: &str,
    route_table_id: &str,
    route_entry_type: Option<&str>,
    route_entry_id: Option<&str>,
) -> Result<Vec<RouteEntry>, CallError> {
    let base = vpc("DescribeRouteEntryList", region)
        .param("RouteTableId", route_table_id)
        .opt_param("RouteEntryType", route_entry_type)
        .opt_param("RouteEntryId", route_entry_id);
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let req = base
            .clone()
            .param("MaxResult", PAGE_SIZE.to_string())
            .opt_param("NextToken", token.take());
        let body = c.call(&req).await?;
        let items: Vec<RouteEntry> = match body.get("RouteEntrys") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => wrapped_list(v.clone()).map_err(|e| CallError::Decode {
                action: req.action.clone(),
                status: 200,
                excerpt: format!("RouteEntrys: {e}"),
            })?,
        };
        let got = items.len();
        all.extend(items);
        match body.get("NextToken").and_then(Value::as_str) {
            Some(t) if !t.is_empty() && got > 0 => token = Some(t.to_string()),
            _ => return Ok(all),
        }
    }
    Err(CallError::Decode {
        action: base.action,
        status: 200,
        excerpt: format!("still paging after {MAX_PAGES} pages"),
    })
}

/// `DeleteRouteEntry` by id (no ClientToken in the API). Asynchronous: the route goes
/// `Deleting`, then disappears; only `Available` routes can be deleted, one at a time per
/// route table. Returns the RequestId.
pub async fn delete_route_entry(
    w: &WriteClient,
    region: &str,
    route_entry_id: &str,
) -> Result<String, CallError> {
    mutate(
        w,
        vpc("DeleteRouteEntry", region).param("RouteEntryId", route_entry_id),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// BGP networks

/// A network a VBR advertises over BGP (`BgpNetworks.BgpNetwork[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct BgpNetwork {
    /// The advertised CIDR (with the router, its identity).
    pub dst_cidr_block: String,
    /// The VBR.
    pub router_id: String,
    /// Status (values not documented).
    pub status: String,
    /// VPC, for VPC routers.
    pub vpc_id: String,
}

/// Where the items of a `DescribeBgpNetworks` answer are (the filtered and the whole-region
/// listing alike).
const BGP_NETWORK_ITEMS: &[&str] = &["BgpNetworks", "BgpNetwork"];

/// `DescribeBgpNetworks` in `region`, of one router or all of them.
pub async fn describe_bgp_networks(
    c: &ReadClient,
    region: &str,
    router_id: Option<&str>,
) -> Result<Vec<BgpNetwork>, CallError> {
    let req = vpc("DescribeBgpNetworks", region).opt_param("RouterId", router_id);
    all_pages(c, &req, BGP_NETWORK_ITEMS).await
}

/// Every BGP network of `region` ([`describe_bgp_networks`] without a VBR), unless the
/// listing takes more than `budget` calls (`None`, after one call;
/// [`super::pages_within`]).
pub async fn describe_region_bgp_networks(
    c: &ReadClient,
    region: &str,
    budget: usize,
) -> Result<Option<Vec<BgpNetwork>>, CallError> {
    let req = vpc("DescribeBgpNetworks", region);
    super::pages_within(c, &req, BGP_NETWORK_ITEMS, budget).await
}

/// `DeleteBgpNetwork` (asynchronous in practice: Terraform polls until it is gone). Returns
/// the RequestId.
pub async fn delete_bgp_network(
    w: &WriteClient,
    region: &str,
    router_id: &str,
    dst_cidr_block: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    mutate(
        w,
        vpc("DeleteBgpNetwork", region)
            .param("RouterId", router_id)
            .param("DstCidrBlock", dst_cidr_block)
            .opt_param("ClientToken", client_token),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// NQA (legacy API metadata only)

/// A network-quality probe on a router (legacy `DescribeNqas` item).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Nqa {
    /// `nqa-…`.
    pub nqa_id: String,
    /// Region.
    pub region_id: String,
    /// Status.
    pub status: String,
    /// The VBR.
    pub router_id: String,
    /// The probed address.
    pub destination_ip: String,
}

/// `DescribeNqas` in `region`, of one router or all of them.
pub async fn describe_nqas(
    c: &ReadClient,
    region: &str,
    router_id: Option<&str>,
) -> Result<Vec<Nqa>, CallError> {
    let req = vpc("DescribeNqas", region).opt_param("RouterId", router_id);
    all_pages(c, &req, &["Nqas"]).await
}

/// `DeleteNqa`. Returns the RequestId.
pub async fn delete_nqa(
    w: &WriteClient,
    region: &str,
    nqa_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    mutate(
        w,
        vpc("DeleteNqa", region)
            .param("NqaId", nqa_id)
            .opt_param("ClientToken", client_token),
    )
    .await
}
