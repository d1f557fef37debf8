//! API errors: the service's JSON error body parsed into [`ApiError`], everything that can go
//! wrong with one call in [`CallError`], and the classification by error **Code** into the
//! five classes the executor acts on (design.md §6).

use std::fmt;

use serde::Serialize;

/// What to do about an error, decided by its Code (never by its message text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The resource does not exist (`*.NotFound` on a resource id): a delete is done.
    Gone,
    /// Flow control (`Throttling*`, `Rejected.Throttling`): back off, slow that API down.
    Throttled,
    /// Server or network trouble (5xx, `ServiceUnavailable`, `InternalError`, transport):
    /// retry with the same ClientToken.
    Transient,
    /// The resource is busy or still blocked by something being removed
    /// (`IncorrectStatus*`, `Operation.Blocking`, `*.Configuring`, `DependencyViolation.*`,
    /// `OperationConflict`, `TaskConflict`, ...): wait, then retry.
    Busy,
    /// Anything else: fail the step and show the code.
    Fatal,
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorClass::Gone => "gone",
            ErrorClass::Throttled => "throttled",
            ErrorClass::Transient => "transient",
            ErrorClass::Busy => "busy",
            ErrorClass::Fatal => "fatal",
        })
    }
}

/// `*.NotFound` codes that speak of the request, not of the resource: these must never be
/// read as "already deleted".
const CONTEXT_NOT_FOUND: &[&str] = &[
    "InvalidRegionId.NotFound",
    "InvalidAccessKeyId.NotFound",
    "InvalidRouteTable.NotFound",
    "InvalidAction.NotFound",
    "InvalidApi.NotFound",
    "InvalidVersion.NotFound",
    "InvalidProduct.NotFound",
    "InvalidSecurityToken.NotFound",
    "InvalidResourceGroupId.NotFound",
];

/// Codes that mean "busy or blocked for now; the same call will succeed later".
const BUSY: &[&str] = &[
    "IncorrectStatus",
    "IncorrectRIStatus",
    "Operation.Blocking",
    "OperationConflict",
    "TaskConflict",
    "SystemBusy",
    "LastTokenProcessing",
    "OperationFailed.LastTokenProcessing",
    "OperationFailed.OperationLocked",
    "InvalidInstance.StatusError",
    "InstanceStatus.NotSupport",
    "VpnTask.CONFLICT",
    "InvalidStatus.NotAllowed",
    // A dependency that decom's own graph removes first but that is still being removed
    // asynchronously (an association Dissociating, a VBR attachment Detaching, BGP groups
    // cleaned up in the background): the documented order holds, the state lags.
    "OperationFailed.RouteTableAssociationExist",
    "OperationFailed.RouteEntryExist",
    "OperationFailed.RouteTablePropagationExist",
    "InvalidOperation.RouterInterfaceNotDeleted",
    "Forbidden.VbrAttached",
    "Forbidden.VBRExists",
    "Forbidden.AssociateToVBR",
    "OperationFailed.AttachmentReferencedVpcRouteEntryExisted",
    // ECR child detach: a route of the VBR is mid-change, or the ECR is locked by another
    // change (Terraform retries both, PR aliyun/terraform-provider-alicloud#8429).
    "OperationDenied.VbrHasRouteEntryInMiddleStatus",
    "Conflict.Lock",
    // A VBR route not `Available` yet/any more (Terraform's DeleteRouteEntry retry list).
    "IncorrectRouteEntryStatus",
];

/// Codes that are transient although their HTTP status may be 4xx.
const TRANSIENT: &[&str] = &[
    "ServiceUnavailable",
    "InternalError",
    "InternalServerError",
    "UnknownError",
    "ServiceTimeout",
    // Retrying always signs with a fresh nonce, so a reused nonce heals itself.
    "SignatureNonceUsed",
];

/// Codes that are final although some are answered with a 5xx status.
const FATAL: &[&str] = &[
    // A prepaid router interface cannot be deleted (documented with HTTP 500).
    "InvalidRouterInterfaceChargeType.Malformed",
];

/// Classify an error Code (with its HTTP status for 5xx without a known code).
pub fn classify(code: &str, http_status: u16) -> ErrorClass {
    // `ResourceNotFound.VbrHa` (DeleteVbrHa, 404) and the ExpressConnectRouter
    // `ResourceNotFound.*` codes name the resource the call was about.
    if code.starts_with("ResourceNotFound.") {
        return ErrorClass::Gone;
    }
    if code.ends_with(".NotFound") {
        return if CONTEXT_NOT_FOUND.contains(&code) {
            ErrorClass::Fatal
        } else {
            ErrorClass::Gone
        };
    }
    if code.to_ascii_lowercase().contains("throttling") {
        return ErrorClass::Throttled;
    }
    if FATAL.contains(&code) {
        return ErrorClass::Fatal;
    }
    if TRANSIENT.contains(&code) {
        return ErrorClass::Transient;
    }
    if BUSY.contains(&code)
        || code.starts_with("IncorrectStatus.")
        || code.starts_with("DependencyViolation.")
        || code.ends_with(".Configuring")
    {
        return ErrorClass::Busy;
    }
    if http_status >= 500 {
        return ErrorClass::Transient;
    }
    ErrorClass::Fatal
}

/// An error answered by the service, with everything its JSON body said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiError {
    /// The action that failed (for messages; not part of the body).
    pub action: String,
    /// HTTP status of the answer.
    pub http_status: u16,
    /// `Code`: what classification and every decision is based on.
    pub code: String,
    /// `Message`, as the service wrote it.
    pub message: String,
    /// `RequestId`, to quote to Alibaba Cloud support.
    pub request_id: Option<String>,
    /// `HostId`: the endpoint that answered.
    pub host_id: Option<String>,
    /// `Recommend`: the troubleshooting link.
    pub recommend: Option<String>,
    /// `AccessDeniedDetail` of RAM denials (object, or a JSON string in some products).
    pub access_denied_detail: Option<serde_json::Value>,
}

impl ApiError {
    /// This error's class.
    pub fn class(&self) -> ErrorClass {
        classify(&self.code, self.http_status)
    }

    /// True when the ClientToken was used before with other parameters: the only reason to
    /// derive a new token.
    pub fn needs_new_token(&self) -> bool {
        self.code == "IdempotentParameterMismatch" || self.code == "InvalidIdempotenceParameter"
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed: {} (HTTP {}): {}",
            self.action, self.code, self.http_status, self.message
        )?;
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        if let Some(detail) = &self.access_denied_detail {
            write!(f, " [access denied detail {detail}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// Everything that can go wrong with one API call.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The service answered with an error body.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// No usable HTTP answer: connect, TLS, timeout or a connection closed mid-response.
    #[error("{action}: no answer from {endpoint}: {detail}")]
    Transport {
        /// The action that was being sent.
        action: String,
        /// Where it was sent (scheme://host, no query: the query holds signatures).
        endpoint: String,
        /// What the HTTP stack reported.
        detail: String,
        /// A certificate or TLS handshake failure: fatal, never retried.
        permanent: bool,
    },
    /// An answer that is not the JSON the API documents (an HTML error page, an empty or
    /// truncated body).
    #[error("{action}: unexpected response, HTTP {status}: {excerpt}")]
    Decode {
        /// The action whose answer this was.
        action: String,
        /// HTTP status of the answer.
        status: u16,
        /// A short, printable excerpt of the body (or what was wrong with it).
        excerpt: String,
    },
    /// A mutating action through a client that holds only the read capability.
    #[error("{action} changes resources; this client is read-only (decom plan never mutates)")]
    ReadOnly {
        /// The refused action.
        action: String,
    },
    /// The request could not be addressed (bad endpoint override, unknown product).
    #[error("{0}")]
    Endpoint(#[from] super::endpoint::EndpointError),
    /// No credentials to sign with: the chain found none, or temporary ones expired and
    /// could not be refreshed. Nothing was sent.
    #[error("{action}: {source}")]
    Credentials {
        /// The action that was to be sent.
        action: String,
        /// Why there are no credentials (never a secret).
        source: super::credentials::CredentialsError,
    },
}

/// The Code of an answer refusing an expired STS token: the client refreshes its
/// credentials and sends the request again.
pub const EXPIRED_TOKEN: &str = "InvalidSecurityToken.Expired";

impl CallError {
    /// The error class (transport trouble and 5xx answers are transient).
    pub fn class(&self) -> ErrorClass {
        match self {
            CallError::Api(e) => e.class(),
            CallError::Transport {
                permanent: true, ..
            } => ErrorClass::Fatal,
            CallError::Transport { .. } => ErrorClass::Transient,
            CallError::Decode { status, .. } if *status >= 500 => ErrorClass::Transient,
            CallError::Decode { .. }
            | CallError::ReadOnly { .. }
            | CallError::Endpoint(_)
            | CallError::Credentials { .. } => ErrorClass::Fatal,
        }
    }

    /// The same error with every secret removed from the texts it quotes: the values of
    /// secret parameters ([`super::redact::redact`]) and the exact `secrets` given, in any
    /// encoding ([`super::redact::scrub`]).
    pub fn redacted(self, secrets: &[&str]) -> CallError {
        let c = |s: String| super::redact::clean(&s, secrets);
        match self {
            CallError::Api(mut e) => {
                e.message = c(e.message);
                e.host_id = e.host_id.map(c);
                e.recommend = e.recommend.map(c);
                e.access_denied_detail = e.access_denied_detail.map(|v| {
                    let text = c(v.to_string());
                    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
                });
                CallError::Api(e)
            }
            CallError::Transport {
                action,
                endpoint,
                detail,
                permanent,
            } => CallError::Transport {
                action,
                endpoint: c(endpoint),
                detail: c(detail),
                permanent,
            },
            CallError::Decode {
                action,
                status,
                excerpt,
            } => CallError::Decode {
                action,
                status,
                excerpt: c(excerpt),
            },
            other => other,
        }
    }

    /// The service error, when the service answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            CallError::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The error Code, when there is one.
    pub fn code(&self) -> Option<&str> {
        self.api().map(|e| e.code.as_str())
    }
}

/// Longest body excerpt quoted in an error.
const EXCERPT_LEN: usize = 160;

/// A short, single-line, printable excerpt of a body for error messages.
pub fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "empty body".to_string();
    }
    let lossy = String::from_utf8_lossy(body);
    let text = super::redact::redact(&lossy);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT_LEN)
        .collect();
    out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > EXCERPT_LEN {
        out.push('…');
    }
    format!("{out:?}")
}

/// Read a string field that some products send as a number.
fn field_str(v: &serde_json::Value, key: &str) -> Option<String> {
    match v.get(key)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Turn a non-2xx answer into a [`CallError`]: the documented JSON error body becomes
/// [`CallError::Api`]; anything else becomes [`CallError::Decode`] quoting the status and a
/// short excerpt.
pub fn parse_error_response(action: &str, status: u16, body: &[u8]) -> CallError {
    let decode = |why: &str| CallError::Decode {
        action: action.to_string(),
        status,
        excerpt: format!("{why}: {}", excerpt(body)),
    };
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) if e.is_eof() => return decode("truncated JSON"),
        Err(_) => return decode("not JSON"),
    };
    let Some(code) = field_str(&value, "Code") else {
        return decode("JSON without an error Code");
    };
    let detail = value.get("AccessDeniedDetail").cloned().map(|d| match d {
        serde_json::Value::String(s) => {
            serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s))
        }
        other => other,
    });
    CallError::Api(Box::new(ApiError {
        action: action.to_string(),
        http_status: status,
        code,
        // The service may quote the request (SignatureDoesNotMatch carries the V1
        // string-to-sign, SecurityToken included): redact at the source.
        message: field_str(&value, "Message")
            .map(|m| super::redact::redact(&m).into_owned())
            .unwrap_or_default(),
        request_id: field_str(&value, "RequestId"),
        host_id: field_str(&value, "HostId"),
        recommend: field_str(&value, "Recommend").map(|m| super::redact::redact(&m).into_owned()),
        access_denied_detail: detail,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code of alibaba-api.md §7.3 and §12 and the retry lists of peers.md §1.4, with
    /// the HTTP status it is documented with and the class decom gives it.
    const TABLE: &[(&str, u16, ErrorClass)] = &[
        // §7.3 common codes
        ("Throttling", 400, ErrorClass::Throttled),
        ("Throttling.User", 400, ErrorClass::Throttled),
        ("Throttling.User", 429, ErrorClass::Throttled),
        ("Throttling.Api", 400, ErrorClass::Throttled),
        ("Throttling.user", 400, ErrorClass::Throttled),
        ("Rejected.Throttling", 400, ErrorClass::Throttled),
        ("ServiceUnavailable", 503, ErrorClass::Transient),
        ("InternalError", 500, ErrorClass::Transient),
        ("InternalError", 400, ErrorClass::Transient),
        ("InternalServerError", 500, ErrorClass::Transient),
        ("IdempotentParameterMismatch", 400, ErrorClass::Fatal),
        ("InvalidIdempotenceParameter", 400, ErrorClass::Fatal),
        ("SignatureDoesNotMatch", 400, ErrorClass::Fatal),
        ("SignatureNonceUsed", 400, ErrorClass::Transient),
        ("InvalidTimeStamp.Expired", 400, ErrorClass::Fatal),
        ("IllegalTimestamp", 400, ErrorClass::Fatal),
        ("InvalidAccessKeyId.NotFound", 404, ErrorClass::Fatal),
        ("InvalidAccessKeyId", 403, ErrorClass::Fatal),
        ("Forbidden.RAM", 403, ErrorClass::Fatal),
        ("Forbidden", 403, ErrorClass::Fatal),
        ("Forbbiden.SubUser", 403, ErrorClass::Fatal),
        ("OperationConflict", 400, ErrorClass::Busy),
        ("TaskConflict", 400, ErrorClass::Busy),
        ("SystemBusy", 400, ErrorClass::Busy),
        ("LastTokenProcessing", 400, ErrorClass::Busy),
        ("OperationFailed.LastTokenProcessing", 400, ErrorClass::Busy),
        ("IncorrectStatus", 400, ErrorClass::Busy),
        ("IncorrectStatus.Status", 400, ErrorClass::Busy),
        ("IncorrectStatus.TransitRouter", 400, ErrorClass::Busy),
        ("Operation.Blocking", 400, ErrorClass::Busy),
        ("VpnGateway.Configuring", 400, ErrorClass::Busy),
        ("VpnConnection.Configuring", 400, ErrorClass::Busy),
        ("DryRunOperation", 400, ErrorClass::Fatal),
        // §1.4 / §1.5 physical connections
        ("Forbidden.NotAllowedInState", 400, ErrorClass::Fatal),
        ("Forbidden.VbrAttached", 400, ErrorClass::Busy),
        ("OperationFailed.VpconnAttached", 400, ErrorClass::Fatal),
        ("OperationDenied.MacsecAttached", 400, ErrorClass::Fatal),
        (
            "OperationFailed.ResourceLockedBySystem",
            400,
            ErrorClass::Fatal,
        ),
        (
            "InvalidPhysicalConnectionId.NotFound",
            404,
            ErrorClass::Gone,
        ),
        ("InvalidRegionId.NotFound", 404, ErrorClass::Fatal),
        (
            "InvalidPhysicalConnectionId.NotMatched",
            400,
            ErrorClass::Fatal,
        ),
        ("Forbidden.VBRExists", 400, ErrorClass::Busy),
        ("Forbidden.AssociateToVBR", 400, ErrorClass::Busy),
        ("OperationDenied.NeedVpconnOwner", 400, ErrorClass::Fatal),
        // §2 VBRs
        ("InvalidVbrId.NotFound", 404, ErrorClass::Gone),
        (
            "InvalidOperation.OperationNotAllowedInState",
            400,
            ErrorClass::Fatal,
        ),
        (
            "Forbidden.OperationTerminateNotAllowedByUser",
            403,
            ErrorClass::Fatal,
        ),
        (
            "Forbidden.OperationNotAllowedByUser",
            403,
            ErrorClass::Fatal,
        ),
        (
            "InvalidOperation.RouterInterfaceNotDeleted",
            400,
            ErrorClass::Busy,
        ),
        ("InvalidStatus.NotAllowed", 400, ErrorClass::Busy),
        (
            "DependencyViolation.RouterInterfaceReferedByRouteEntry",
            400,
            ErrorClass::Busy,
        ),
        ("DependencyViolation.BgpGroup", 400, ErrorClass::Busy),
        ("DependencyViolation.Nqa", 400, ErrorClass::Busy),
        // §3 router interfaces
        ("IncorrectRIStatus", 400, ErrorClass::Busy),
        ("Forbidden.FinancialLocked", 400, ErrorClass::Fatal),
        ("Forbbiden.InvaildOwner", 400, ErrorClass::Fatal),
        ("OperationFailed.OperationLocked", 400, ErrorClass::Busy),
        ("InvalidRouterInterfaceId.NotFound", 404, ErrorClass::Gone),
        ("InvalidInstance.StatusError", 400, ErrorClass::Busy),
        (
            "RouterInterfaceReferredByRouteEntry",
            400,
            ErrorClass::Fatal,
        ),
        (
            "ReferredByRouteEntry.RouterInterface",
            400,
            ErrorClass::Fatal,
        ),
        ("InvalidRouteTable.NotFound", 400, ErrorClass::Fatal),
        (
            "InvalidRouterInterfaceChargeType.Malformed",
            500,
            ErrorClass::Fatal,
        ),
        // §4 VPN
        (
            "InvalidVpnConnectionInstanceId.NotFound",
            400,
            ErrorClass::Gone,
        ),
        (
            "VpnDependencyViolation.VpnConnection",
            400,
            ErrorClass::Fatal,
        ),
        ("Appliance.Configuring", 400, ErrorClass::Busy),
        ("VpnTask.CONFLICT", 400, ErrorClass::Busy),
        // §5 CEN
        (
            "OperationFailed.RouteTableAssociationExist",
            400,
            ErrorClass::Busy,
        ),
        ("OperationFailed.RouteEntryExist", 400, ErrorClass::Busy),
        (
            "OperationFailed.RouteTablePropagationExist",
            400,
            ErrorClass::Busy,
        ),
        (
            "InvalidTransitRouterAttachmentId.NotFound",
            400,
            ErrorClass::Gone,
        ),
        ("InstanceStatus.NotSupport", 400, ErrorClass::Busy),
        (
            "OperationFailed.AttachmentReferencedVpcRouteEntryExisted",
            400,
            ErrorClass::Busy,
        ),
        ("Forbidden.OptimizationCCNExisted", 400, ErrorClass::Fatal),
        // generic fallbacks
        ("SomethingNew", 502, ErrorClass::Transient),
        ("SomethingNew", 400, ErrorClass::Fatal),
        ("InvalidAction.NotFound", 404, ErrorClass::Fatal),
        ("ResourceNotFound.VbrHa", 404, ErrorClass::Gone),
    ];

    #[test]
    fn classification_table() {
        for (code, status, want) in TABLE {
            assert_eq!(classify(code, *status), *want, "{code} (HTTP {status})");
        }
    }

    #[test]
    fn parses_documented_error_body() {
        let body = br#"{"RequestId":"4BC02B9F-1","HostId":"vpc.aliyuncs.com","Code":"InvalidVbrId.NotFound","Message":"The specified VirutalBorderRouter is not found.","Recommend":"https://api.aliyun.com/troubleshoot?q=InvalidVbrId.NotFound"}"#;
        let err = parse_error_response("DeleteVirtualBorderRouter", 404, body);
        let api = err.api().expect("api error");
        assert_eq!(api.code, "InvalidVbrId.NotFound");
        assert_eq!(api.request_id.as_deref(), Some("4BC02B9F-1"));
        assert_eq!(api.host_id.as_deref(), Some("vpc.aliyuncs.com"));
        assert!(api.recommend.as_deref().unwrap().contains("troubleshoot"));
        assert_eq!(err.class(), ErrorClass::Gone);
        let shown = err.to_string();
        assert!(
            shown.contains("InvalidVbrId.NotFound") && shown.contains("4BC02B9F-1"),
            "{shown}"
        );
    }

    #[test]
    fn parses_access_denied_detail_object_or_string() {
        let body = br#"{"Code":"Forbidden.RAM","Message":"denied","RequestId":"R","AccessDeniedDetail":"{\"AuthAction\":\"vpc:DeletePhysicalConnection\",\"NoPermissionType\":\"ImplicitDeny\"}"}"#;
        let err = parse_error_response("DeletePhysicalConnection", 403, body);
        let detail = err.api().unwrap().access_denied_detail.clone().unwrap();
        assert_eq!(detail["AuthAction"], "vpc:DeletePhysicalConnection");
        let body = br#"{"Code":"Forbidden.RAM","Message":"denied","RequestId":"R","AccessDeniedDetail":{"PolicyType":"ControlPolicy"}}"#;
        let err = parse_error_response("DeletePhysicalConnection", 403, body);
        assert_eq!(
            err.api().unwrap().access_denied_detail.as_ref().unwrap()["PolicyType"],
            "ControlPolicy"
        );
    }

    #[test]
    fn html_error_page_is_a_decode_error_with_excerpt() {
        let body = b"<html>\n<head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
        let err = parse_error_response("DescribeVpnGateway", 502, body);
        match &err {
            CallError::Decode {
                status, excerpt, ..
            } => {
                assert_eq!(*status, 502);
                assert!(
                    excerpt.contains("not JSON") && excerpt.contains("502 Bad Gateway"),
                    "{excerpt}"
                );
                assert!(!excerpt.contains('\n'));
            }
            other => panic!("expected Decode, got {other:?}"),
        }
        assert_eq!(err.class(), ErrorClass::Transient);
        assert!(err.to_string().contains("HTTP 502"));
    }

    #[test]
    fn empty_body_is_a_decode_error() {
        let err = parse_error_response("DescribeVpnGateway", 400, b"");
        assert!(matches!(err, CallError::Decode { status: 400, .. }));
        assert!(err.to_string().contains("empty body"), "{err}");
        assert_eq!(err.class(), ErrorClass::Fatal);
    }

    #[test]
    fn truncated_json_is_a_decode_error() {
        let err = parse_error_response(
            "DescribeVpnGateway",
            400,
            br#"{"RequestId":"abc","Code":"Throt"#,
        );
        assert!(err.to_string().contains("truncated JSON"), "{err}");
    }

    #[test]
    fn long_bodies_are_cut() {
        let body = vec![b'x'; 10_000];
        let e = excerpt(&body);
        assert!(e.chars().count() < 200, "{}", e.len());
    }
}
