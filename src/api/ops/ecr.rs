//! ExpressConnectRouter 2023-09-01 operations (one global endpoint; every parameter in a
//! form body, see [`crate::api::Product::form_body`]): the VBR child instances of an
//! Express Connect Router (ECR).
//!
//! Sources: the SDK models (`alibabacloud-expressconnectrouter20230901` 4.1.3, pinned in
//! tests/data/api-contract.json) and blockers.md §2.2 / row V8. Every answer carries
//! `Success`/`Code`/`Message`; a 200 answer with `"Success": false` is returned as the same
//! [`CallError::Api`] a 4xx gives.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{MAX_PAGES, PAGE_SIZE, body_failure, lenient_bool, request_id, string_or_number};
use crate::api::{ApiRequest, CallError, Product, ReadClient, WriteClient};

/// The child-instance type decom handles.
pub const VBR: &str = "VBR";

fn ecr(action: &str) -> ApiRequest {
    ApiRequest::new(Product::ExpressConnectRouter, action)
}

/// A 200 body that says it failed becomes an error.
fn checked(action: &str, body: Value) -> Result<Value, CallError> {
    if lenient_bool(body.get("Success")) == Some(false) {
        return Err(body_failure(action, &body));
    }
    Ok(body)
}

/// One child instance of an ECR (`ChildInstanceList[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct EcrChildInstance {
    /// `ecr-…`.
    pub ecr_id: String,
    /// The VBR (or VPC, TR) id.
    pub child_instance_id: String,
    /// `VBR`, `VPC`, `TR`.
    pub child_instance_type: String,
    /// The child's region.
    pub child_instance_region_id: String,
    /// The child's owner account (an integer in the SDK model).
    #[serde(deserialize_with = "string_or_number")]
    pub child_instance_owner_id: String,
    /// CREATING, ACTIVE, ASSOCIATING, DISSOCIATING, UPDATING, DELETING.
    pub status: String,
    /// The association id.
    pub association_id: String,
}

/// `DescribeExpressConnectRouterChildInstance`: the VBR children of `ecr_id` (one of them
/// with `child_instance_id`), every page (`MaxResults`/`NextToken`).
pub async fn describe_express_connect_router_child_instance(
    c: &ReadClient,
    ecr_id: &str,
    child_instance_id: Option<&str>,
) -> Result<Vec<EcrChildInstance>, CallError> {
    let base = ecr("DescribeExpressConnectRouterChildInstance")
        .param("EcrId", ecr_id)
        .param("ChildInstanceType", VBR)
        .opt_param("ChildInstanceId", child_instance_id);
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let req = base
            .clone()
            .param("MaxResults", PAGE_SIZE.to_string())
            .opt_param("NextToken", token.take());
        let body = checked(&req.action, c.call(&req).await?)?;
        let items: Vec<EcrChildInstance> = match body.get("ChildInstanceList") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => serde_json::from_value(v.clone()).map_err(|e| CallError::Decode {
                action: req.action.clone(),
                status: 200,
                excerpt: format!("ChildInstanceList: {e}"),
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

/// `DetachExpressConnectRouterChildInstance` of a VBR (asynchronous: the child goes
/// `DISSOCIATING`, then disappears). Returns the RequestId.
pub async fn detach_express_connect_router_child_instance(
    w: &WriteClient,
    ecr_id: &str,
    vbr_id: &str,
    client_token: Option<&str>,
) -> Result<String, CallError> {
    let req = ecr("DetachExpressConnectRouterChildInstance")
        .param("EcrId", ecr_id)
        .param("ChildInstanceId", vbr_id)
        .param("ChildInstanceType", VBR)
        .opt_param("ClientToken", client_token);
    let body = checked(&req.action, w.call(&req).await?)?;
    Ok(request_id(&body))
}
