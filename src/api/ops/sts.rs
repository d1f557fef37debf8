//! STS 2015-04-01: who the credentials belong to (`GetCallerIdentity`), for the identity line
//! of `decom api`, `plan` and `apply`, and for telling this account's resources from other
//! accounts' (VBR owner UIDs); and role assumption for the credential sources
//! (`AssumeRole`, `AssumeRoleWithOIDC`).
//!
//! Parameters and response shapes of the role operations: the official SDK
//! `alibabacloud-sts20150401==1.2.0` (`models/_assume_role_request.py`,
//! `_assume_role_response_body.py`, `_assume_role_with_oidcrequest.py`,
//! `_assume_role_with_oidcresponse_body.py`; `client.py` for the anonymous auth of
//! `AssumeRoleWithOIDC`), as recorded in `tests/data/api-contract.json`.

use serde::{Deserialize, Serialize};

use super::{decode, string_or_number};
use crate::api::credentials::Secret;
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

/// Temporary credentials as STS issues them (`Credentials` of `AssumeRole` and
/// `AssumeRoleWithOIDC`). `Debug` hides the secret and the token.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct StsCredentials {
    /// `STS.…` AccessKeyId.
    pub access_key_id: String,
    /// The AccessKeySecret.
    pub access_key_secret: Secret,
    /// The SecurityToken to send with every request.
    pub security_token: Secret,
    /// When they stop working, UTC `yyyy-MM-ddTHH:mm:ssZ`.
    pub expiration: String,
}

/// The assumed identity (`AssumedRoleUser`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AssumedRoleUser {
    /// `acs:ram::<account>:assumed-role/<role>/<session>`.
    pub arn: String,
    /// `<role id>:<session>`.
    pub assumed_role_id: String,
}

/// What the OIDC token said (`OIDCTokenInfo` of `AssumeRoleWithOIDC`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct OidcTokenInfo {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `aud`, comma-separated.
    pub client_ids: String,
    /// `exp`, as a time string.
    pub expiration_time: String,
    /// `iat`, as a time string.
    pub issuance_time: String,
    /// How the token was verified.
    pub verification_info: String,
}

/// The answer of `AssumeRole` and `AssumeRoleWithOIDC`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AssumedRole {
    /// The temporary credentials.
    pub credentials: StsCredentials,
    /// Who they are.
    pub assumed_role_user: AssumedRoleUser,
    /// `SourceIdentity`, when one was set.
    pub source_identity: String,
    /// Only for `AssumeRoleWithOIDC`.
    #[serde(rename = "OIDCTokenInfo")]
    pub oidc_token_info: OidcTokenInfo,
    /// The request, to quote to support.
    pub request_id: String,
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

impl Default for Secret {
    fn default() -> Self {
        Secret::new(String::new())
    }
}

/// `AssumeRole` parameters (SDK `AssumeRoleRequest`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssumeRoleParams {
    /// `RoleArn` (required): `acs:ram::<account>:role/<name>`.
    pub role_arn: String,
    /// `RoleSessionName` (required): 2–64 of `[A-Za-z0-9.@_-]`.
    pub role_session_name: String,
    /// `DurationSeconds`: 900 up to the role's maximum session duration (default 3600).
    pub duration_seconds: Option<u32>,
    /// `Policy`: a session policy narrowing the role's permissions (JSON, ≤ 2048 bytes).
    pub policy: Option<String>,
    /// `ExternalId`, when the role's trust policy requires one.
    pub external_id: Option<String>,
}

/// `AssumeRoleWithOIDC` parameters (SDK `AssumeRoleWithOIDCRequest`). `Debug` hides the
/// token.
#[derive(Debug, Clone, Default)]
pub struct AssumeRoleWithOidcParams {
    /// `RoleArn`.
    pub role_arn: String,
    /// `OIDCProviderArn`: `acs:ram::<account>:oidc-provider/<name>`.
    pub oidc_provider_arn: String,
    /// `OIDCToken`: the JWT issued by the identity provider (a secret).
    pub oidc_token: Secret,
    /// `RoleSessionName`.
    pub role_session_name: String,
    /// `DurationSeconds`.
    pub duration_seconds: Option<u32>,
    /// `Policy`.
    pub policy: Option<String>,
}

/// Decode an answer that carries credentials: a mismatch is reported without quoting
/// anything (serde's messages may quote the offending value).
fn decode_secret<T: serde::de::DeserializeOwned>(
    action: &str,
    body: serde_json::Value,
) -> Result<T, CallError> {
    serde_json::from_value(body).map_err(|_| CallError::Decode {
        action: action.to_string(),
        status: 200,
        excerpt:
            "the answer does not have the documented shape (not quoted: it carries credentials)"
                .into(),
    })
}

/// `AssumeRole`: temporary credentials of a RAM role, signed with the caller's credentials.
pub async fn assume_role(c: &ReadClient, p: &AssumeRoleParams) -> Result<AssumedRole, CallError> {
    let req = ApiRequest::new(Product::Sts, "AssumeRole")
        .param("RoleArn", &p.role_arn)
        .param("RoleSessionName", &p.role_session_name)
        .opt_param("DurationSeconds", p.duration_seconds.map(|d| d.to_string()))
        .opt_param("Policy", p.policy.as_deref())
        .opt_param("ExternalId", p.external_id.as_deref());
    let body = c.call(&req).await?;
    decode_secret(&req.action, body)
}

/// `AssumeRoleWithOIDC`: temporary credentials of a RAM role for the holder of an OIDC
/// token. Anonymous: nothing is signed, the client's credentials are not used.
pub async fn assume_role_with_oidc(
    c: &ReadClient,
    p: &AssumeRoleWithOidcParams,
) -> Result<AssumedRole, CallError> {
    let req = ApiRequest::new(Product::Sts, "AssumeRoleWithOIDC")
        .param("RoleArn", &p.role_arn)
        .param("OIDCProviderArn", &p.oidc_provider_arn)
        .param("OIDCToken", p.oidc_token.expose())
        .param("RoleSessionName", &p.role_session_name)
        .opt_param("DurationSeconds", p.duration_seconds.map(|d| d.to_string()))
        .opt_param("Policy", p.policy.as_deref());
    let body = c.call_anonymous(&req).await?;
    decode_secret(&req.action, body)
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
    async fn assume_role_sends_the_sdk_parameters_and_hides_the_answer() {
        let script = Script::new(vec![ok(
            r#"{"RequestId": "R", "Credentials": {"AccessKeyId": "STS.x", "AccessKeySecret": "role-secret",
                "SecurityToken": "role-token", "Expiration": "2030-01-02T15:04:05Z"},
                "AssumedRoleUser": {"Arn": "acs:ram::1:assumed-role/r/s", "AssumedRoleId": "3:s"}}"#,
        )]);
        let p = AssumeRoleParams {
            role_arn: "acs:ram::1:role/r".into(),
            role_session_name: "s".into(),
            duration_seconds: Some(900),
            policy: None,
            external_id: Some("ext".into()),
        };
        let got = assume_role(&script.reader(), &p).await.unwrap();
        assert_eq!(got.credentials.access_key_id, "STS.x");
        assert_eq!(got.credentials.security_token.expose(), "role-token");
        assert_eq!(got.assumed_role_user.arn, "acs:ram::1:assumed-role/r/s");
        let shown = format!("{got:?}");
        assert!(!shown.contains("role-secret") && !shown.contains("role-token"));
        let r = script.only();
        assert!(r.header("authorization").is_some());
        let params = api_params(&r);
        assert_eq!(
            params,
            vec![
                ("DurationSeconds".to_string(), "900".to_string()),
                ("ExternalId".into(), "ext".into()),
                ("RoleArn".into(), "acs:ram::1:role/r".into()),
                ("RoleSessionName".into(), "s".into()),
            ]
        );
    }

    #[tokio::test]
    async fn assume_role_with_oidc_is_anonymous_and_quotes_no_secret() {
        let script = Script::new(vec![ok(
            r#"{"Credentials": {"AccessKeyId": "STS.y", "AccessKeySecret": 17}}"#,
        )]);
        let p = AssumeRoleWithOidcParams {
            role_arn: "acs:ram::1:role/r".into(),
            oidc_provider_arn: "acs:ram::1:oidc-provider/gh".into(),
            oidc_token: Secret::new("jwt-secret"),
            role_session_name: "s".into(),
            ..Default::default()
        };
        let e = assume_role_with_oidc(&script.reader(), &p)
            .await
            .unwrap_err();
        assert!(!e.to_string().contains("17"), "{e}");
        assert!(!format!("{p:?}").contains("jwt-secret"));
        let r = script.only();
        assert!(r.header("authorization").is_none());
        assert!(r.query_param("AccessKeyId").is_none());
        assert_eq!(r.query_param("OIDCToken"), Some("jwt-secret"));
        assert_eq!(r.header("x-acs-action"), Some("AssumeRoleWithOIDC"));
        let req =
            ApiRequest::new(Product::Sts, "AssumeRoleWithOIDC").param("OIDCToken", "jwt-secret");
        assert!(!format!("{req:?}").contains("jwt-secret"));
    }

    #[tokio::test]
    async fn an_unexpected_body_is_a_decode_error() {
        let script = Script::new(vec![ok(r#"{"AccountId": {"nested": true}}"#)]);
        let e = get_caller_identity(&script.reader()).await.unwrap_err();
        assert!(matches!(e, CallError::Decode { status: 200, .. }), "{e}");
    }
}
