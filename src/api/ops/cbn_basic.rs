//! Cbn 2017-09-12 operations of Basic-Edition CEN child instances (a VBR attached to a CEN
//! directly, without an Enterprise transit router): list, look at one, detach.
//!
//! Sources: the SDK models (`alibabacloud-cbn20170912` 1.4.0) via
//! tests/data/api-contract.json and blockers.md §2.3 / row V7. `DetachCenChildInstance` takes
//! no ClientToken; it is asynchronous (the child goes `Detaching`, then disappears).

use serde::{Deserialize, Serialize};

use super::{all_pages, mutate, string_or_number};
use crate::api::{ApiRequest, CallError, Product, ReadClient, WriteClient};

/// The child-instance type decom handles.
pub const VBR: &str = "VBR";

/// A child instance of a CEN (`ChildInstances.ChildInstance[]`), or the attribute call's
/// flat body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct CenChildInstance {
    /// `cen-…`.
    pub cen_id: String,
    /// The VBR (VPC, CCN) id.
    pub child_instance_id: String,
    /// `VBR`, `VPC`, `CCN`.
    pub child_instance_type: String,
    /// The child's region.
    pub child_instance_region_id: String,
    /// The child's owner (an integer in the SDK model).
    #[serde(deserialize_with = "string_or_number")]
    pub child_instance_owner_id: String,
    /// `Attaching`, `Attached`, `Detaching`.
    pub status: String,
}

/// `DescribeCenAttachedChildInstances`: every VBR child of `cen_id` (in one region, or all).
pub async fn describe_cen_attached_child_instances(
    c: &ReadClient,
    cen_id: &str,
    region: Option<&str>,
) -> Result<Vec<CenChildInstance>, CallError> {
    let req = ApiRequest::new(Product::Cbn, "DescribeCenAttachedChildInstances")
        .param("CenId", cen_id)
        .param("ChildInstanceType", VBR)
        .opt_param("ChildInstanceRegionId", region);
    all_pages(c, &req, &["ChildInstances", "ChildInstance"]).await
}

/// `DescribeCenAttachedChildInstanceAttribute` of one VBR child.
pub async fn describe_cen_attached_child_instance_attribute(
    c: &ReadClient,
    cen_id: &str,
    vbr_id: &str,
    region: &str,
) -> Result<CenChildInstance, CallError> {
    let req = ApiRequest::new(Product::Cbn, "DescribeCenAttachedChildInstanceAttribute")
        .param("CenId", cen_id)
        .param("ChildInstanceId", vbr_id)
        .param("ChildInstanceRegionId", region)
        .param("ChildInstanceType", VBR);
    let body = c.call(&req).await?;
    super::decode(&req.action, body)
}

/// `DetachCenChildInstance` of a VBR (no ClientToken in the API; `CenOwnerId` when the CEN
/// belongs to another account). Returns the RequestId.
pub async fn detach_cen_child_instance(
    w: &WriteClient,
    cen_id: &str,
    vbr_id: &str,
    region: &str,
    cen_owner_id: Option<&str>,
) -> Result<String, CallError> {
    mutate(
        w,
        ApiRequest::new(Product::Cbn, "DetachCenChildInstance")
            .param("CenId", cen_id)
            .param("ChildInstanceId", vbr_id)
            .param("ChildInstanceRegionId", region)
            .param("ChildInstanceType", VBR)
            .opt_param("CenOwnerId", cen_owner_id),
    )
    .await
}
