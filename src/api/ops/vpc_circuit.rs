//! Vpc 2016-04-28 operations on what hangs off a circuit or a pair of VBRs: MACsec keys
//! (`DisassociateMacSecKey`), hosted connections (`ListVirtualPhysicalConnections`; they are
//! deleted with `DeletePhysicalConnection` on their own id) and VBR failover groups
//! (`DescribeVbrHa`, `DeleteVbrHa`).
//!
//! Sources: the official SDK models (tests/data/api-contract.json; blockers.md §2.1):
//! - `DisassociateMacSecKey`: `RegionId`, `PhysicalConnectionId`, `Ckn`, all required; no
//!   ClientToken; response `{RequestId}`. Disassociating an `Associated` key makes the most
//!   recent other key active; disassociating a `Disassociated` key deletes it.
//! - `ListVirtualPhysicalConnections`: `RegionId` (required), `PhysicalConnectionId` (the
//!   parent), `VirtualPhysicalConnectionIds.N`, `MaxResults` (≤ 100), `NextToken`; response
//!   `VirtualPhysicalConnections[]` (a flat array) with `NextToken`.
//! - `DescribeVbrHa`: `RegionId` (required), `VbrId` or `VbrHaId`; a flat body
//!   `{VbrHaId, VbrId, PeerVbrId, Status, Name, ...}`, with an empty `VbrHaId` when the VBR is
//!   in no group (Terraform's reading).
//! - `DeleteVbrHa`: `RegionId` and **`InstanceId`** (the `vbrha-` id; not `VbrHaId`,
//!   blockers.md §3.16), `ClientToken`; response `{RequestId}`. Errors: 400 `IllegalParam.%s`,
//!   404 `ResourceNotFound.VbrHa` [doc].

use serde::{Deserialize, Serialize};

use super::{all_token_pages, decode, mutate, string_or_number};
use crate::api::{ApiRequest, CallError, Product, ReadClient, WriteClient};

/// A Vpc request in `region`.
fn vpc(action: &str, region: &str) -> ApiRequest {
    ApiRequest::new(Product::Vpc, action).region(region)
}

// ---------------------------------------------------------------------------------------
// MACsec keys

/// A MACsec key bound to a circuit's port (`MacsecKeys.MacsecKey[]` of
/// DescribePhysicalConnections).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct MacsecKey {
    /// Connectivity association key name (hex; 32 or 64 characters).
    pub ckn: String,
    /// `Associated` (the active key) or `Disassociated`.
    pub status: String,
    /// Cipher suite (`GCM-AES-128`, `GCM-AES-XPN-256`, ...).
    pub cipher_suite: String,
    /// When the key became active.
    pub start_on: String,
}

/// `DisassociateMacSecKey`: an `Associated` key becomes `Disassociated` (the most recent
/// other key becomes active); a `Disassociated` key is deleted. Returns the RequestId.
pub async fn disassociate_macsec_key(
    w: &WriteClient,
    region: &str,
    physical_connection_id: &str,
    ckn: &str,
) -> Result<String, CallError> {
    mutate(
        w,
        vpc("DisassociateMacSecKey", region)
            .param("PhysicalConnectionId", physical_connection_id)
            .param("Ckn", ckn),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Hosted connections

/// A hosted connection on a partner's circuit (`VirtualPhysicalConnections[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VirtualPhysicalConnection {
    /// The hosted connection's own `pc-` id.
    pub physical_connection_id: String,
    /// The partner's circuit it runs on.
    pub parent_physical_connection_id: String,
    /// The partner's account.
    #[serde(deserialize_with = "string_or_number")]
    pub parent_physical_connection_ali_uid: String,
    /// The tenant's account.
    #[serde(deserialize_with = "string_or_number")]
    pub ali_uid: String,
    /// Circuit lifecycle status (the circuit enum).
    pub status: String,
    /// `Confirmed`, `UnConfirmed`, `Deleted`.
    pub virtual_physical_connection_status: String,
    /// `Normal`, `FinancialLocked`, `SecurityLocked`.
    pub business_status: String,
    /// Display name.
    pub name: String,
    /// VLAN id.
    #[serde(deserialize_with = "string_or_number")]
    pub vlan_id: String,
}

/// `ListVirtualPhysicalConnections`: the hosted connections in `region` on `parent` (every
/// partner circuit of the region when `None`), all token pages.
pub async fn list_virtual_physical_connections(
    c: &ReadClient,
    region: &str,
    parent: Option<&str>,
) -> Result<Vec<VirtualPhysicalConnection>, CallError> {
    let req =
        vpc("ListVirtualPhysicalConnections", region).opt_param("PhysicalConnectionId", parent);
    all_token_pages(c, &req, &["VirtualPhysicalConnections"]).await
}

// ---------------------------------------------------------------------------------------
// VBR failover groups

/// A VBR failover group (the flat body of DescribeVbrHa).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VbrHa {
    /// `vbrha-…`; empty when the VBR asked about is in no group.
    pub vbr_ha_id: String,
    /// One VBR of the pair.
    pub vbr_id: String,
    /// The other VBR.
    pub peer_vbr_id: String,
    /// `Creating`, `Active`, `Deleting`.
    pub status: String,
    /// Display name.
    pub name: String,
    /// Region.
    pub region_id: String,
}

/// `DescribeVbrHa` for one VBR (`VbrId`) or one group (`VbrHaId`): the group, or `None` when
/// the answer names none.
pub async fn describe_vbr_ha(
    c: &ReadClient,
    region: &str,
    vbr_id: Option<&str>,
    vbr_ha_id: Option<&str>,
) -> Result<Option<VbrHa>, CallError> {
    let req = vpc("DescribeVbrHa", region)
        .opt_param("VbrId", vbr_id)
        .opt_param("VbrHaId", vbr_ha_id);
    let body = c.call(&req).await?;
    let ha: VbrHa = decode(&req.action, body)?;
    Ok(Some(ha).filter(|h| !h.vbr_ha_id.is_empty()))
}

/// `DeleteVbrHa` (`InstanceId` = the group's id; asynchronous in practice: Terraform polls
/// until it is gone). Returns the RequestId.
pub async fn delete_vbr_ha(
    w: &WriteClient,
    region: &str,
    vbr_ha_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    mutate(
        w,
        vpc("DeleteVbrHa", region)
            .param("InstanceId", vbr_ha_id)
            .opt_param("ClientToken", client_token),
    )
    .await
}
