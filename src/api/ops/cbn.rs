//! Cbn 2017-09-12 operations on Enterprise Edition transit routers: VBR and VPN
//! attachments, route-table associations and propagations, static route entries.
//!
//! The Cbn endpoint is global (`cbn.aliyuncs.com`), so requests carry no endpoint region;
//! `RegionId` is sent as a parameter where the API takes one. Lists are token-paged
//! ([`super::all_token_pages`]) and answer plain arrays.
//!
//! Sources: alibaba-api.md §5. Where it is silent, the official Go SDK
//! (`aliyun/alibaba-cloud-sdk-go`, `services/cbn`) and the Alibaba Cloud API reference were
//! followed: `ListTransitRouterRouteEntries` (required `TransitRouterRouteTableId`, optional
//! `TransitRouterRouteEntryStatus`; response `TransitRouterRouteEntries[]`),
//! `DeleteTransitRouterRouteEntry` (either `TransitRouterRouteEntryId` alone, or
//! `TransitRouterRouteTableId` + `TransitRouterRouteEntryDestinationCidrBlock` +
//! `TransitRouterRouteEntryNextHopType` [+ `TransitRouterRouteEntryNextHopId` unless
//! blackhole]; asynchronous, `Deleting` then gone) and the association/propagation items
//! (`TransitRouterAttachmentId`, `TransitRouterRouteTableId`, `Status`, `ResourceType`,
//! `ResourceId`).

use serde::{Deserialize, Serialize};

use super::{
    PAGE_SIZE, TokenPage, all_token_pages, mutate, string_or_number, token_first_page,
    token_pages_after, token_pages_of,
};
use crate::api::{ApiRequest, CallError, Product, ReadClient, WriteClient};

/// `MaxResults` of the Cbn listings whose documented range is 1–100:
/// ListTransitRouterRouteEntries and ListTransitRouterRouteTables ("Valid values: 1 to 100",
/// SDK model alibabacloud-go/cbn-20170912 `ListTransitRouterRouteEntriesRequest`,
/// `ListTransitRouterRouteTablesRequest`). The attachment, association and propagation
/// listings document only a default (20, 50), no range: they keep
/// [`super::PAGE_SIZE`].
pub const LARGE_PAGE: usize = 100;

/// A Cbn request.
fn cbn(action: &str) -> ApiRequest {
    ApiRequest::new(Product::Cbn, action)
}

// ---------------------------------------------------------------------------------------
// Attachments (alibaba-api.md §5.2, §5.3, §5.5, §5.6)

/// Which transit router attachments to list. The API wants one of: `transit_router_id`
/// alone, `cen_id` + `region_id`, or `transit_router_attachment_id`; other combinations
/// answer 200 with no data (documented). Unset fields are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachmentQuery {
    /// `CenId`.
    pub cen_id: Option<String>,
    /// `RegionId`: the transit router's region.
    pub region_id: Option<String>,
    /// `TransitRouterId`.
    pub transit_router_id: Option<String>,
    /// `TransitRouterAttachmentId`.
    pub transit_router_attachment_id: Option<String>,
}

impl AttachmentQuery {
    /// The request for `action` with this query's parameters.
    fn request(&self, action: &str) -> ApiRequest {
        cbn(action)
            .opt_param("CenId", self.cen_id.as_deref())
            .opt_param("RegionId", self.region_id.as_deref())
            .opt_param("TransitRouterId", self.transit_router_id.as_deref())
            .opt_param(
                "TransitRouterAttachmentId",
                self.transit_router_attachment_id.as_deref(),
            )
    }
}

/// A VBR attached to a transit router (`TransitRouterAttachments[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct TransitRouterVbrAttachment {
    /// `tr-attach-…`.
    pub transit_router_attachment_id: String,
    /// `tr-…`.
    pub transit_router_id: String,
    /// `Attaching`, `Attached`, `Detaching` (gone once detached).
    pub status: String,
    /// `VBR`.
    pub resource_type: String,
    /// The VBR.
    pub vbr_id: String,
    /// The VBR's region.
    pub vbr_region_id: String,
    /// The VBR's owner (an integer in this response).
    #[serde(deserialize_with = "string_or_number")]
    pub vbr_owner_id: String,
    /// Display name.
    pub transit_router_attachment_name: String,
    /// Free-text description.
    pub transit_router_attachment_description: String,
    /// When it was created.
    pub creation_time: String,
    /// Tags: `Tags[]` (SDK model).
    #[serde(deserialize_with = "super::tags")]
    pub tags: super::Tags,
}

/// `ListTransitRouterVbrAttachments`: every VBR attachment matching `query`.
pub async fn list_transit_router_vbr_attachments(
    c: &ReadClient,
    query: &AttachmentQuery,
) -> Result<Vec<TransitRouterVbrAttachment>, CallError> {
    let req = query.request("ListTransitRouterVbrAttachments");
    all_token_pages(c, &req, &["TransitRouterAttachments"]).await
}

/// An IPsec connection attached to a transit router (`TransitRouterAttachments[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct TransitRouterVpnAttachment {
    /// `tr-attach-…`.
    pub transit_router_attachment_id: String,
    /// `tr-…`.
    pub transit_router_id: String,
    /// `Attaching`, `Attached`, `Detaching` (gone once detached).
    pub status: String,
    /// `VPN`.
    pub resource_type: String,
    /// The IPsec connection (`vco-…`).
    pub vpn_id: String,
    /// The IPsec connection's region.
    pub vpn_region_id: String,
    /// The IPsec connection's owner (an integer in this response).
    #[serde(deserialize_with = "string_or_number")]
    pub vpn_owner_id: String,
    /// Billing method.
    pub charge_type: String,
    /// Display name.
    pub transit_router_attachment_name: String,
    /// When it was created.
    pub creation_time: String,
    /// Tags: `Tags[]` (SDK model).
    #[serde(deserialize_with = "super::tags")]
    pub tags: super::Tags,
}

/// `ListTransitRouterVpnAttachments`: every VPN attachment matching `query`.
pub async fn list_transit_router_vpn_attachments(
    c: &ReadClient,
    query: &AttachmentQuery,
) -> Result<Vec<TransitRouterVpnAttachment>, CallError> {
    let req = query.request("ListTransitRouterVpnAttachments");
    all_token_pages(c, &req, &["TransitRouterAttachments"]).await
}

/// Send a transit router attachment delete, with `Force=true` only when asked.
async fn delete_attachment(
    w: &WriteClient,
    action: &str,
    transit_router_attachment_id: &str,
    force: bool,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let mut req = cbn(action)
        .param("TransitRouterAttachmentId", transit_router_attachment_id)
        .opt_param("ClientToken", client_token);
    if force {
        req = req.param("Force", "true");
    }
    mutate(w, req).await
}

/// `DeleteTransitRouterVbrAttachment` (asynchronous: `Detaching`, then gone). `force`
/// sends `Force=true`; false leaves the parameter out (the API default, which fails while
/// associations, propagations or routes remain). Returns the RequestId.
pub async fn delete_transit_router_vbr_attachment(
    w: &WriteClient,
    transit_router_attachment_id: &str,
    force: bool,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let action = "DeleteTransitRouterVbrAttachment";
    delete_attachment(w, action, transit_router_attachment_id, force, client_token).await
}

/// `DeleteTransitRouterVpnAttachment` (asynchronous; `force` as for
/// [`delete_transit_router_vbr_attachment`]). Returns the RequestId.
pub async fn delete_transit_router_vpn_attachment(
    w: &WriteClient,
    transit_router_attachment_id: &str,
    force: bool,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let action = "DeleteTransitRouterVpnAttachment";
    delete_attachment(w, action, transit_router_attachment_id, force, client_token).await
}

// ---------------------------------------------------------------------------------------
// Route-table associations and propagations (alibaba-api.md §5.4)

/// Which associations or propagations to list: at least one field must be set (the API
/// requires a route table or an attachment). Unset fields are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTableLinkQuery {
    /// `TransitRouterRouteTableId` (`vtb-…`).
    pub transit_router_route_table_id: Option<String>,
    /// `TransitRouterAttachmentId`.
    pub transit_router_attachment_id: Option<String>,
}

impl RouteTableLinkQuery {
    /// The request for `action` with this query's parameters.
    fn request(&self, action: &str) -> ApiRequest {
        debug_assert!(
            self.transit_router_route_table_id.is_some()
                || self.transit_router_attachment_id.is_some(),
            "{action} needs a route table or an attachment"
        );
        cbn(action)
            .opt_param(
                "TransitRouterRouteTableId",
                self.transit_router_route_table_id.as_deref(),
            )
            .opt_param(
                "TransitRouterAttachmentId",
                self.transit_router_attachment_id.as_deref(),
            )
    }
}

/// An attachment's link to a route table: an association (`TransitRouterAssociations[]`)
/// or a propagation (`TransitRouterPropagations[]`); both have the same fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct RouteTableLink {
    /// The attachment.
    pub transit_router_attachment_id: String,
    /// The route table (`vtb-…`).
    pub transit_router_route_table_id: String,
    /// Associations: `Associating`, `Active`, `Dissociating`; propagations: `Enabling`,
    /// `Active`, `Disabling`.
    pub status: String,
    /// The attached resource's type (`VBR`, `VPN`, …).
    pub resource_type: String,
    /// The attached resource's id.
    pub resource_id: String,
}

/// `ListTransitRouterRouteTableAssociations`: every association matching `query` (an empty
/// list once dissociated).
pub async fn list_transit_router_route_table_associations(
    c: &ReadClient,
    query: &RouteTableLinkQuery,
) -> Result<Vec<RouteTableLink>, CallError> {
    let req = query.request("ListTransitRouterRouteTableAssociations");
    all_token_pages(c, &req, &["TransitRouterAssociations"]).await
}

/// Page 1 of [`list_transit_router_route_table_associations`]: with its `TotalCount`, the
/// caller knows what the whole listing costs before paying for it (alibaba-cbn20170912
/// 1.4.0 `ListTransitRouterRouteTableAssociationsResponseBody.TotalCount`).
pub async fn route_table_associations_first_page(
    c: &ReadClient,
    query: &RouteTableLinkQuery,
) -> Result<TokenPage<RouteTableLink>, CallError> {
    let req = query.request("ListTransitRouterRouteTableAssociations");
    token_first_page(c, &req, &["TransitRouterAssociations"], PAGE_SIZE).await
}

/// The rest of [`list_transit_router_route_table_associations`] after its `first` page.
pub async fn route_table_associations_after(
    c: &ReadClient,
    query: &RouteTableLinkQuery,
    first: TokenPage<RouteTableLink>,
) -> Result<Vec<RouteTableLink>, CallError> {
    let req = query.request("ListTransitRouterRouteTableAssociations");
    token_pages_after(c, &req, &["TransitRouterAssociations"], PAGE_SIZE, first).await
}

/// `ListTransitRouterRouteTablePropagations`: every propagation into `route_table`, of
/// `attachment` only when given. The route table is required (SDK model
/// alibabacloud-cbn20170912 1.4.0 `ListTransitRouterRouteTablePropagationsRequest`;
/// blockers.md §3.1): the signature makes a query without it impossible.
pub async fn list_transit_router_route_table_propagations(
    c: &ReadClient,
    route_table: &str,
    attachment: Option<&str>,
) -> Result<Vec<RouteTableLink>, CallError> {
    let query = RouteTableLinkQuery {
        transit_router_route_table_id: Some(route_table.to_string()),
        transit_router_attachment_id: attachment.map(str::to_string),
    };
    let req = query.request("ListTransitRouterRouteTablePropagations");
    all_token_pages(c, &req, &["TransitRouterPropagations"]).await
}

/// A request naming an attachment and a route table, with an optional ClientToken.
async fn route_table_link_mutation(
    w: &WriteClient,
    action: &str,
    transit_router_attachment_id: &str,
    transit_router_route_table_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let req = cbn(action)
        .param("TransitRouterAttachmentId", transit_router_attachment_id)
        .param("TransitRouterRouteTableId", transit_router_route_table_id)
        .opt_param("ClientToken", client_token);
    mutate(w, req).await
}

/// `DissociateTransitRouterAttachmentFromRouteTable` (asynchronous: `Dissociating`, then
/// gone from the association list). Returns the RequestId.
pub async fn dissociate_transit_router_attachment_from_route_table(
    w: &WriteClient,
    transit_router_attachment_id: &str,
    transit_router_route_table_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    route_table_link_mutation(
        w,
        "DissociateTransitRouterAttachmentFromRouteTable",
        transit_router_attachment_id,
        transit_router_route_table_id,
        client_token,
    )
    .await
}

/// `DisableTransitRouterRouteTablePropagation` (asynchronous: `Disabling`, then gone).
/// Returns the RequestId.
pub async fn disable_transit_router_route_table_propagation(
    w: &WriteClient,
    transit_router_attachment_id: &str,
    transit_router_route_table_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    route_table_link_mutation(
        w,
        "DisableTransitRouterRouteTablePropagation",
        transit_router_attachment_id,
        transit_router_route_table_id,
        client_token,
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Route entries

/// A route in a transit router route table (`TransitRouterRouteEntries[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct TransitRouterRouteEntry {
    /// `rte-…`; only static routes have one.
    pub transit_router_route_entry_id: String,
    /// Destination CIDR block.
    pub transit_router_route_entry_destination_cidr_block: String,
    /// `Static` (deletable) or `Propagated` (learned; goes with its propagation).
    pub transit_router_route_entry_type: String,
    /// `Creating`, `Active`, `Deleting`, …
    pub transit_router_route_entry_status: String,
    /// The next hop: an attachment id for `Attachment` routes.
    pub transit_router_route_entry_next_hop_id: String,
    /// `Attachment` or `BlackHole`.
    pub transit_router_route_entry_next_hop_type: String,
    /// Display name.
    pub transit_router_route_entry_name: String,
    /// The prefix list that generated the route (prefix-list routes; not deletable as
    /// routes: removed with their prefix-list association).
    pub prefix_list_id: String,
    /// `false` for routes the system generated (not deletable); absent in older answers
    /// (SDK model, blockers.md §3.11).
    pub operational_mode: Option<bool>,
    /// What originated the route (`VPC`, `VBR`, `TR`, `VPN`, …).
    pub transit_router_route_entry_origin_resource_type: String,
}

impl TransitRouterRouteEntry {
    /// A route DeleteTransitRouterRouteEntry can remove by id: it has an id, is not
    /// propagated, not generated by a prefix list and not marked `OperationalMode=false`
    /// (SDK model: the id is returned only for static routes; blockers.md §1C T4, §3.11).
    pub fn is_deletable(&self) -> bool {
        !self.transit_router_route_entry_id.is_empty()
            && self.prefix_list_id.is_empty()
            && self.operational_mode != Some(false)
            && !self
                .transit_router_route_entry_type
                .eq_ignore_ascii_case("Propagated")
    }

    /// A static route (the only kind DeleteTransitRouterRouteEntry removes).
    pub fn is_static(&self) -> bool {
        self.transit_router_route_entry_type
            .eq_ignore_ascii_case("Static")
    }
}

/// `ListTransitRouterRouteEntries`: every route in one route table.
///
/// `status` is sent as `TransitRouterRouteEntryStatus` when given. Current API pages say an
/// absent status lists only `Active` routes and `All` lists every state (older pages
/// document only `Creating`/`Active`/`Deleting`); pass `Some("All")` to see routes that
/// are still being created.
pub async fn list_transit_router_route_entries(
    c: &ReadClient,
    transit_router_route_table_id: &str,
    status: Option<&str>,
) -> Result<Vec<TransitRouterRouteEntry>, CallError> {
    let req = cbn("ListTransitRouterRouteEntries")
        .param("TransitRouterRouteTableId", transit_router_route_table_id)
        .opt_param("TransitRouterRouteEntryStatus", status);
    token_pages_of(c, &req, &["TransitRouterRouteEntries"], LARGE_PAGE).await
}

/// A transit router's route table (`TransitRouterRouteTables[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct RouteTable {
    /// `vtb-…`.
    pub transit_router_route_table_id: String,
    /// `System` (the default table) or `Custom`.
    pub transit_router_route_table_type: String,
    /// `Creating`, `Active`, `Deleting`.
    pub transit_router_route_table_status: String,
    /// Name.
    pub transit_router_route_table_name: String,
}

/// `ListTransitRouterRouteTables`: every route table of a transit router (custom routes
/// that point at an attachment can sit in any of them, associated or not).
pub async fn list_transit_router_route_tables(
    c: &ReadClient,
    transit_router_id: &str,
) -> Result<Vec<RouteTable>, CallError> {
    let req = cbn("ListTransitRouterRouteTables").param("TransitRouterId", transit_router_id);
    token_pages_of(c, &req, &["TransitRouterRouteTables"], LARGE_PAGE).await
}

/// How DeleteTransitRouterRouteEntry names the route: by id, or by table, destination and
/// next hop (the API rejects a mix of the two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteEntryRef {
    /// `TransitRouterRouteEntryId` alone.
    Id(String),
    /// Route table, destination and next hop.
    Match {
        /// `TransitRouterRouteTableId`.
        route_table_id: String,
        /// `TransitRouterRouteEntryDestinationCidrBlock`.
        destination_cidr_block: String,
        /// `TransitRouterRouteEntryNextHopType` (`Attachment` or `BlackHole`).
        next_hop_type: String,
        /// `TransitRouterRouteEntryNextHopId` (none for a blackhole route).
        next_hop_id: Option<String>,
    },
}

impl RouteEntryRef {
    /// The way to name a listed route: its id when it has one, else table + destination +
    /// next hop.
    pub fn of(route_table_id: &str, entry: &TransitRouterRouteEntry) -> Self {
        if !entry.transit_router_route_entry_id.is_empty() {
            return RouteEntryRef::Id(entry.transit_router_route_entry_id.clone());
        }
        let next_hop = &entry.transit_router_route_entry_next_hop_id;
        RouteEntryRef::Match {
            route_table_id: route_table_id.to_string(),
            destination_cidr_block: entry
                .transit_router_route_entry_destination_cidr_block
                .clone(),
            next_hop_type: entry.transit_router_route_entry_next_hop_type.clone(),
            next_hop_id: (!next_hop.is_empty()).then(|| next_hop.clone()),
        }
    }
}

/// `DeleteTransitRouterRouteEntry` (static routes only; asynchronous: `Deleting`, then
/// gone). Returns the RequestId.
pub async fn delete_transit_router_route_entry(
    w: &WriteClient,
    route: &RouteEntryRef,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let req = cbn("DeleteTransitRouterRouteEntry");
    let req = match route {
        RouteEntryRef::Id(id) => req.param("TransitRouterRouteEntryId", id),
        RouteEntryRef::Match {
            route_table_id,
            destination_cidr_block,
            next_hop_type,
            next_hop_id,
        } => req
            .param("TransitRouterRouteTableId", route_table_id)
            .param(
                "TransitRouterRouteEntryDestinationCidrBlock",
                destination_cidr_block,
            )
            .param("TransitRouterRouteEntryNextHopType", next_hop_type)
            .opt_param("TransitRouterRouteEntryNextHopId", next_hop_id.as_deref()),
    };
    mutate(w, req.opt_param("ClientToken", client_token)).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::testkit::{Script, action, api_params, ok};

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = v
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        p.sort();
        p
    }

    #[tokio::test]
    async fn vbr_attachments_page_by_token_with_int_owner() {
        let script = Script::new(vec![
            ok(&json!({"RequestId": "r", "NextToken": "n1", "TotalCount": 2, "TransitRouterAttachments": [
                {"TransitRouterAttachmentId": "tr-attach-1", "VbrId": "vbr-1", "VbrOwnerId": 1_234_567_890_123_456_u64, "Status": "Attached"}
            ]}).to_string()),
            ok(&json!({"RequestId": "r", "NextToken": "", "TransitRouterAttachments": [
                {"TransitRouterAttachmentId": "tr-attach-2", "VbrId": "vbr-2", "VbrOwnerId": "77", "Status": "Detaching"}
            ]}).to_string()),
        ]);
        let q = AttachmentQuery {
            cen_id: Some("cen-1".into()),
            region_id: Some("cn-hangzhou".into()),
            ..Default::default()
        };
        let atts = list_transit_router_vbr_attachments(&script.reader(), &q)
            .await
            .unwrap();
        assert_eq!(atts.len(), 2);
        assert_eq!(atts[0].vbr_owner_id, "1234567890123456");
        assert_eq!(atts[1].vbr_owner_id, "77");
        let seen = script.seen();
        assert_eq!(action(&seen[0]), "ListTransitRouterVbrAttachments");
        assert_eq!(
            api_params(&seen[0]),
            pairs(&[
                ("CenId", "cen-1"),
                ("MaxResults", "50"),
                ("RegionId", "cn-hangzhou")
            ])
        );
        assert_eq!(seen[1].query_param("NextToken"), Some("n1"));
    }

    #[tokio::test]
    async fn vpn_attachments_links_and_routes() {
        let script = Script::new(vec![
            ok(&json!({"TransitRouterAttachments": [
                {"TransitRouterAttachmentId": "tr-attach-3", "VpnId": "vco-1", "VpnOwnerId": 5, "Status": "Attached"}
            ]}).to_string()),
            ok(r#"{"RequestId":"r","TransitRouterAssociations":[{"TransitRouterAttachmentId":"tr-attach-3","TransitRouterRouteTableId":"vtb-1","Status":"Active","ResourceType":"VPN","ResourceId":"vco-1"}]}"#),
            ok(r#"{"RequestId":"r","TransitRouterPropagations":[]}"#),
            ok(&json!({"TransitRouterRouteEntries": [
                {"TransitRouterRouteEntryId": "rte-1", "TransitRouterRouteEntryDestinationCidrBlock": "10.0.0.0/8",
                 "TransitRouterRouteEntryType": "Static", "TransitRouterRouteEntryStatus": "Active",
                 "TransitRouterRouteEntryNextHopId": "tr-attach-3", "TransitRouterRouteEntryNextHopType": "Attachment"},
                {"TransitRouterRouteEntryDestinationCidrBlock": "192.168.0.0/16",
                 "TransitRouterRouteEntryType": "Propagated", "TransitRouterRouteEntryNextHopId": "tr-attach-3",
                 "TransitRouterRouteEntryNextHopType": "Attachment"}
            ]}).to_string()),
        ]);
        let c = script.reader();
        let vpn = list_transit_router_vpn_attachments(
            &c,
            &AttachmentQuery {
                transit_router_id: Some("tr-1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(vpn[0].vpn_owner_id, "5");
        assert_eq!(vpn[0].vpn_id, "vco-1");
        let by_attachment = RouteTableLinkQuery {
            transit_router_attachment_id: Some("tr-attach-3".into()),
            ..Default::default()
        };
        let assoc = list_transit_router_route_table_associations(&c, &by_attachment)
            .await
            .unwrap();
        assert_eq!(assoc[0].transit_router_route_table_id, "vtb-1");
        assert_eq!(assoc[0].resource_id, "vco-1");
        let props = list_transit_router_route_table_propagations(&c, "vtb-1", Some("tr-attach-3"))
            .await
            .unwrap();
        assert!(props.is_empty());
        let routes = list_transit_router_route_entries(&c, "vtb-1", Some("All"))
            .await
            .unwrap();
        assert!(routes[0].is_static());
        assert!(!routes[1].is_static());
        assert_eq!(
            RouteEntryRef::of("vtb-1", &routes[0]),
            RouteEntryRef::Id("rte-1".into())
        );
        assert_eq!(
            RouteEntryRef::of("vtb-1", &routes[1]),
            RouteEntryRef::Match {
                route_table_id: "vtb-1".into(),
                destination_cidr_block: "192.168.0.0/16".into(),
                next_hop_type: "Attachment".into(),
                next_hop_id: Some("tr-attach-3".into()),
            }
        );

        let seen = script.seen();
        let sent: Vec<(&str, Vec<(String, String)>)> =
            seen.iter().map(|r| (action(r), api_params(r))).collect();
        assert_eq!(
            sent[0],
            (
                "ListTransitRouterVpnAttachments",
                pairs(&[("MaxResults", "50"), ("TransitRouterId", "tr-1")])
            )
        );
        assert_eq!(
            sent[1],
            (
                "ListTransitRouterRouteTableAssociations",
                pairs(&[
                    ("MaxResults", "50"),
                    ("TransitRouterAttachmentId", "tr-attach-3")
                ])
            )
        );
        assert_eq!(sent[2].0, "ListTransitRouterRouteTablePropagations");
        assert_eq!(
            sent[3],
            (
                "ListTransitRouterRouteEntries",
                pairs(&[
                    // The documented range is 1–100 (LARGE_PAGE); the link listings, whose
                    // range is not documented, keep 50.
                    ("MaxResults", "100"),
                    ("TransitRouterRouteEntryStatus", "All"),
                    ("TransitRouterRouteTableId", "vtb-1")
                ])
            )
        );
        for r in &seen {
            assert_eq!(r.header("x-acs-version"), Some("2017-09-12"));
        }
    }

    /// Every Cbn mutation: the action, its parameters and the ClientToken (sent exactly when
    /// the ACTIONS table says the action takes one); no endpoint region is needed.
    #[tokio::test]
    async fn each_mutation_sends_its_action_params_and_token() {
        let tok = Some("tok-1");
        let blackhole = RouteEntryRef::Match {
            route_table_id: "vtb-1".into(),
            destination_cidr_block: "10.0.0.0/8".into(),
            next_hop_type: "BlackHole".into(),
            next_hop_id: None,
        };
        let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
            (
                "DissociateTransitRouterAttachmentFromRouteTable",
                vec![
                    ("TransitRouterAttachmentId", "tr-attach-1"),
                    ("TransitRouterRouteTableId", "vtb-1"),
                ],
            ),
            (
                "DisableTransitRouterRouteTablePropagation",
                vec![
                    ("TransitRouterAttachmentId", "tr-attach-1"),
                    ("TransitRouterRouteTableId", "vtb-1"),
                ],
            ),
            (
                "DeleteTransitRouterRouteEntry",
                vec![("TransitRouterRouteEntryId", "rte-1")],
            ),
            (
                "DeleteTransitRouterRouteEntry",
                vec![
                    ("TransitRouterRouteTableId", "vtb-1"),
                    ("TransitRouterRouteEntryDestinationCidrBlock", "10.0.0.0/8"),
                    ("TransitRouterRouteEntryNextHopType", "BlackHole"),
                ],
            ),
            (
                "DeleteTransitRouterVbrAttachment",
                vec![("TransitRouterAttachmentId", "tr-attach-1")],
            ),
            (
                "DeleteTransitRouterVpnAttachment",
                vec![
                    ("TransitRouterAttachmentId", "tr-attach-1"),
                    ("Force", "true"),
                ],
            ),
        ];
        for (i, (name, params)) in cases.into_iter().enumerate() {
            let script = Script::new(vec![ok(r#"{"RequestId":"RID"}"#)]);
            let w = script.writer();
            let rid = match i {
                0 => {
                    dissociate_transit_router_attachment_from_route_table(
                        &w,
                        "tr-attach-1",
                        "vtb-1",
                        tok,
                    )
                    .await
                }
                1 => {
                    disable_transit_router_route_table_propagation(&w, "tr-attach-1", "vtb-1", tok)
                        .await
                }
                2 => {
                    delete_transit_router_route_entry(&w, &RouteEntryRef::Id("rte-1".into()), tok)
                        .await
                }
                3 => delete_transit_router_route_entry(&w, &blackhole, tok).await,
                4 => delete_transit_router_vbr_attachment(&w, "tr-attach-1", false, tok).await,
                5 => delete_transit_router_vpn_attachment(&w, "tr-attach-1", true, tok).await,
                _ => unreachable!(),
            }
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(rid, "RID");
            let sent = script.only();
            assert_eq!(action(&sent), name);
            let info = crate::api::actions::lookup(name).expect("in the ACTIONS table");
            assert_eq!(info.product, Product::Cbn);
            let mut want = params;
            if info.client_token {
                want.push(("ClientToken", "tok-1"));
            }
            assert_eq!(api_params(&sent), pairs(&want), "{name}");
        }
    }
}
