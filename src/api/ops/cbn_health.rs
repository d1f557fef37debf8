//! Cbn 2017-09-12 CEN VBR health checks: `DescribeCenVbrHealthCheck`,
//! `DisableCenVbrHealthCheck` (blockers.md V10, §2.3).
//!
//! Sources: the official SDK models (tests/data/api-contract.json):
//! - `DescribeCenVbrHealthCheck`: `VbrInstanceRegionId` (required), `CenId`, `VbrInstanceId`,
//!   `VbrInstanceOwnerId`, `PageNumber`, `PageSize` (≤ 50); response
//!   `VbrHealthChecks.VbrHealthCheck[]` with `TotalCount` — one listing covers every health
//!   check of a region.
//! - `DisableCenVbrHealthCheck`: `CenId`, `VbrInstanceId`, `VbrInstanceRegionId` (required),
//!   `VbrInstanceOwnerId` (cross-account); no ClientToken; response `{RequestId}`.
//!   Asynchronous: done when the listing no longer shows the VBR (blockers.md §2.3).

use serde::{Deserialize, Serialize};

use super::{all_pages, mutate};
use crate::api::{ApiRequest, CallError, Product, ReadClient, WriteClient};

/// A health check of a VBR in a CEN (`VbrHealthChecks.VbrHealthCheck[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VbrHealthCheck {
    /// The CEN.
    pub cen_id: String,
    /// The VBR.
    pub vbr_instance_id: String,
    /// The VBR's region.
    pub vbr_instance_region_id: String,
    /// Probe source address.
    pub health_check_source_ip: String,
    /// Probe target address.
    pub health_check_target_ip: String,
}

/// `DescribeCenVbrHealthCheck`: every health check of VBRs in `vbr_region` (of one CEN when
/// `cen_id` is set), all pages.
pub async fn describe_cen_vbr_health_checks(
    c: &ReadClient,
    vbr_region: &str,
    cen_id: Option<&str>,
    vbr_id: Option<&str>,
) -> Result<Vec<VbrHealthCheck>, CallError> {
    let req = ApiRequest::new(Product::Cbn, "DescribeCenVbrHealthCheck")
        .param("VbrInstanceRegionId", vbr_region)
        .opt_param("CenId", cen_id)
        .opt_param("VbrInstanceId", vbr_id);
    all_pages(c, &req, &["VbrHealthChecks", "VbrHealthCheck"]).await
}

/// `DisableCenVbrHealthCheck` (asynchronous). Returns the RequestId.
pub async fn disable_cen_vbr_health_check(
    w: &WriteClient,
    cen_id: &str,
    vbr_id: &str,
    vbr_region: &str,
) -> Result<String, CallError> {
    mutate(
        w,
        ApiRequest::new(Product::Cbn, "DisableCenVbrHealthCheck")
            .param("CenId", cen_id)
            .param("VbrInstanceId", vbr_id)
            .param("VbrInstanceRegionId", vbr_region),
    )
    .await
}
