//! STS 2015-04-01: who the credentials belong to (`GetCallerIdentity`), for the identity line
//! of `decom api`, `plan` and `apply`, and for telling this account's resources from other
//! accounts' (VBR owner UIDs).

use serde::{Deserialize, Serialize};

use super::{decode, string_or_number};
use crate::api::{ApiRequest, CallError, Product, ReadClient};

/// The caller behind the credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct CallerIdentity {
    /// The Alibaba Cloud account (UID) that owns the resources.
    #[serde(deserialize_with = "string_or_number")]
    pub account_id: String,
    /// The RAM user, or the account itself.
    #[serde(deserialize_with = "string_or_number")]
    pub user_id: String,
    /// `acs:ram::<account>:user/<name>`, `…:assumed-role/…`, or `…:root`.
    pub arn: String,
    /// `Account`, `RAMUser` or `AssumedRoleUser`.
    pub identity_type: String,
    /// The principal (for assumed roles: `<role id>:<session name>`).
    #[serde(deserialize_with = "string_or_number")]
    pub principal_id: String,
    /// `RoleId` of an assumed role (empty otherwise).
    pub role_id: String,
    /// The request, to quote to support.
    pub request_id: String,
}

/// `GetCallerIdentity`.
pub async fn get_caller_identity(c: &ReadClient) -> Result<CallerIdentity, CallError> {
    let req = ApiRequest::new(Product::Sts, "GetCallerIdentity");
    let body = c.call(&req).await?;
    decode(&req.action, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::testkit::{Script, action, api_params, ok};

    #[tokio::test]
    async fn caller_identity_with_numeric_account() {
        let script = Script::new(vec![ok(
            r#"{"AccountId": 1234567890123456, "UserId": "216959339000000000", "Arn": "acs:ram::1234567890123456:user/decom",
                "IdentityType": "RAMUser", "PrincipalId": "216959339000000000", "RequestId": "R-1", "Extra": 1}"#,
        )]);
        let who = get_caller_identity(&script.reader()).await.unwrap();
        assert_eq!(who.account_id, "1234567890123456");
        assert_eq!(who.identity_type, "RAMUser");
        assert_eq!(who.arn, "acs:ram::1234567890123456:user/decom");
        assert_eq!(who.request_id, "R-1");
        let r = script.only();
        assert_eq!(action(&r), "GetCallerIdentity");
        assert_eq!(r.header("x-acs-version"), Some("2015-04-01"));
        assert!(api_params(&r).is_empty());
    }

    #[tokio::test]
    async fn an_unexpected_body_is_a_decode_error() {
        let script = Script::new(vec![ok(r#"{"AccountId": {"nested": true}}"#)]);
        let e = get_caller_identity(&script.reader()).await.unwrap_err();
        assert!(matches!(e, CallError::Decode { status: 200, .. }), "{e}");
    }
}
