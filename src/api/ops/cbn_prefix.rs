//! Cbn 2017-09-12 operations on what routes via a transit-router attachment beyond its
//! route-table links: prefix-list associations (a VPC prefix list associated with a TR
//! route table, next hop an attachment: its routes block the attachment's deletion,
//! blockers.md §1C T4) and the route listing by id that polls asynchronous route deletes
//! (blockers.md §3.6).
//!
//! Sources: the API contract from the official SDKs (`tests/data/api-contract.json`,
//! alibabacloud-cbn20170912 1.4.0): `ListTransitRouterPrefixListAssociation` requires
//! `RegionId` and `TransitRouterId` and is **page-number** paged (`PageNumber`/`PageSize`
//! ≤ 100, `TotalCount`), unlike the other Cbn `List*` calls; its items are
//! `PrefixLists[]` (a flat array) with `OwnerUid` as an integer.
//! `DeleteTransitRouterPrefixListAssociation` requires `RegionId`, `PrefixListId`,
//! `TransitRouterId`, `TransitRouterTableId` and `NextHop`; deleting the association
//! withdraws its routes (SDK description). Whether the delete is asynchronous is not
//! documented (Terraform does not poll); decom waits for the association to disappear from
//! the listing, which costs one poll when it is synchronous.

use serde::{Deserialize, Serialize};

use super::{all_pages, all_token_pages, cbn::TransitRouterRouteEntry, mutate, string_or_number};
use crate::api::{ApiRequest, CallError, Product, ReadClient, WriteClient};

/// One prefix-list association of a transit router (`PrefixLists[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct PrefixListAssociation {
    /// The VPC prefix list (`pl-…`).
    pub prefix_list_id: String,
    /// The transit router (`tr-…`).
    pub transit_router_id: String,
    /// The route table the prefix list is associated with (`vtb-…`).
    pub transit_router_table_id: String,
    /// The next hop: an attachment id (`tr-attach-…`), or `BlackHole`.
    pub next_hop: String,
    /// `VBR`, `VPC`, `TR` or `BlackHole`.
    pub next_hop_type: String,
    /// The network instance behind the next hop (the VBR or VPC id).
    pub next_hop_instance_id: String,
    /// The prefix list's owner (an integer in the SDK model).
    #[serde(deserialize_with = "string_or_number")]
    pub owner_uid: String,
    /// `Active` or `Updating` (SDK enum).
    pub status: String,
}

/// `ListTransitRouterPrefixListAssociation`: every prefix-list association of one transit
/// router (`region`: the transit router's region; both are required by the contract).
pub async fn list_transit_router_prefix_list_associations(
    c: &ReadClient,
    region: &str,
    transit_router_id: &str,
) -> Result<Vec<PrefixListAssociation>, CallError> {
    let req = ApiRequest::new(Product::Cbn, "ListTransitRouterPrefixListAssociation")
        .param("RegionId", region)
        .param("TransitRouterId", transit_router_id);
    all_pages(c, &req, &["PrefixLists"]).await
}

/// What names one prefix-list association for its deletion (every field but `next_hop_type`
/// is required by the contract).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefixListAssociationRef {
    /// `RegionId`: the transit router's region.
    pub region: String,
    /// `PrefixListId`.
    pub prefix_list_id: String,
    /// `TransitRouterId`.
    pub transit_router_id: String,
    /// `TransitRouterTableId`.
    pub transit_router_table_id: String,
    /// `NextHop`.
    pub next_hop: String,
    /// `NextHopType` (optional).
    pub next_hop_type: Option<String>,
}

/// `DeleteTransitRouterPrefixListAssociation`: remove the association (its routes are
/// withdrawn with it). Returns the RequestId.
pub async fn delete_transit_router_prefix_list_association(
    w: &WriteClient,
    r: &PrefixListAssociationRef,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let req = ApiRequest::new(Product::Cbn, "DeleteTransitRouterPrefixListAssociation")
        .param("RegionId", &r.region)
        .param("PrefixListId", &r.prefix_list_id)
        .param("TransitRouterId", &r.transit_router_id)
        .param("TransitRouterTableId", &r.transit_router_table_id)
        .param("NextHop", &r.next_hop)
        .opt_param("NextHopType", r.next_hop_type.as_deref())
        .opt_param("ClientToken", client_token);
    mutate(w, req).await
}

/// `ListTransitRouterRouteEntries` for some route ids of one route table, every status
/// (`TransitRouterRouteEntryIds.N`, `TransitRouterRouteEntryStatus=All`): how the wait after
/// an asynchronous DeleteTransitRouterRouteEntry is polled (`Deleting`, then gone).
pub async fn list_transit_router_route_entries_by_ids(
    c: &ReadClient,
    transit_router_route_table_id: &str,
    ids: &[String],
) -> Result<Vec<TransitRouterRouteEntry>, CallError> {
    let mut req = ApiRequest::new(Product::Cbn, "ListTransitRouterRouteEntries")
        .param("TransitRouterRouteTableId", transit_router_route_table_id)
        .param("TransitRouterRouteEntryStatus", "All");
    for (i, id) in ids.iter().enumerate() {
        req = req.param(format!("TransitRouterRouteEntryIds.{}", i + 1), id);
    }
    all_token_pages(c, &req, &["TransitRouterRouteEntries"]).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::testkit::{Script, action, ok};

    #[tokio::test]
    async fn prefix_list_associations_are_page_number_paged_and_owner_uids_decode() {
        let page = json!({"TotalCount": 1, "PageNumber": 1, "PageSize": 50, "PrefixLists": [{
            "PrefixListId": "pl-1", "TransitRouterId": "tr-1", "TransitRouterTableId": "vtb-1",
            "NextHop": "tr-attach-1", "NextHopType": "VBR", "NextHopInstanceId": "vbr-1",
            "OwnerUid": 1234567890123456_u64, "Status": "Active"}]});
        let script = Script::new(vec![ok(&page.to_string())]);
        let got = list_transit_router_prefix_list_associations(&script.reader(), "r", "tr-1")
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].owner_uid, "1234567890123456");
        assert_eq!(got[0].next_hop, "tr-attach-1");
        let r = script.only();
        assert_eq!(action(&r), "ListTransitRouterPrefixListAssociation");
        assert_eq!(r.query_param("RegionId"), Some("r"));
        assert_eq!(r.query_param("PageNumber"), Some("1"));
    }

    #[tokio::test]
    async fn route_entries_by_id_send_every_id_and_all_statuses() {
        let script = Script::new(vec![ok("{}")]);
        let ids = vec!["rte-1".to_string(), "rte-2".to_string()];
        list_transit_router_route_entries_by_ids(&script.reader(), "vtb-1", &ids)
            .await
            .unwrap();
        let r = script.only();
        assert_eq!(r.query_param("TransitRouterRouteEntryIds.2"), Some("rte-2"));
        assert_eq!(r.query_param("TransitRouterRouteEntryStatus"), Some("All"));
    }
}
