//! RAM role assumption with STS `AssumeRole`, signed with another source's credentials: the
//! `RamRoleArn` and `ChainableRamRoleArn` profile modes and the `ram_role_arn` credentials
//! file type (SDK `provider/ram_role_arn.py`).
//!
//! Also where STS requests go, for this and for [`super::oidc`]:
//! `ALIBABA_CLOUD_STS_ENDPOINT`, else `--endpoint`, else the profile's `sts_endpoint`, else
//! `sts[-vpc].<sts_region>.aliyuncs.com` (the profile's `sts_region` or
//! `ALIBABA_CLOUD_STS_REGION`; `-vpc` with `enable_vpc` or
//! `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`), else `sts.aliyuncs.com` (the SDK's order,
//! with decom's endpoint variable and flag in front).

use super::provider::{CredentialsProvider, Fetch, Fetched};
use super::{CredentialSource, Credentials, CredentialsError, Network, non_empty};
use crate::api::ops::sts::{self, AssumeRoleParams, AssumedRole};
use crate::api::{BoxFuture, ClientConfig, Endpoints, ReadClient, RetryPolicy};

/// The SDK's default `DurationSeconds`.
pub const DEFAULT_DURATION_SECONDS: u32 = 3600;

/// The shortest session STS grants (`DurationSeconds` ≥ 900).
pub const MIN_DURATION_SECONDS: u32 = 900;

/// Where a profile's STS settings point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StsSettings {
    /// The profile's `sts_endpoint`.
    pub endpoint: Option<String>,
    /// The profile's `sts_region`.
    pub region: Option<String>,
    /// The profile's `enable_vpc`.
    pub vpc: Option<bool>,
}

/// The STS endpoint for a source with these settings.
pub fn sts_endpoints(
    network: &Network,
    env: &dyn Fn(&str) -> Option<String>,
    settings: &StsSettings,
) -> Result<Endpoints, CredentialsError> {
    let parse = |url: &str, what: &str| {
        Endpoints::parse_override(url).map_err(|e| CredentialsError::Config {
            source_name: what.to_string(),
            detail: e.to_string(),
        })
    };
    if let Some(url) = non_empty(env("ALIBABA_CLOUD_STS_ENDPOINT")) {
        return parse(&url, "ALIBABA_CLOUD_STS_ENDPOINT");
    }
    if let Some(e) = &network.endpoint_override {
        return Ok(e.clone());
    }
    if let Some(url) = settings.endpoint.clone().and_then(|u| non_empty(Some(u))) {
        return parse(&url, "sts_endpoint");
    }
    let vpc = settings.vpc.unwrap_or_else(|| {
        non_empty(env("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    });
    let prefix = if vpc { "sts-vpc" } else { "sts" };
    match settings
        .region
        .clone()
        .and_then(|r| non_empty(Some(r)))
        .or_else(|| non_empty(env("ALIBABA_CLOUD_STS_REGION")))
    {
        Some(region) => parse(&format!("{prefix}.{region}.aliyuncs.com"), "sts_region"),
        None if vpc => parse("sts-vpc.aliyuncs.com", "enable_vpc"),
        None => Ok(Endpoints::Cloud),
    }
}

/// A read client for STS calls signed by `credentials`.
pub fn sts_client(
    network: &Network,
    endpoints: Endpoints,
    credentials: CredentialsProvider,
) -> ReadClient {
    ReadClient::new(
        ClientConfig {
            endpoints,
            credentials,
            signature: network.signature,
            retry: RetryPolicy::default(),
        },
        network.transport.clone(),
    )
}

/// A session name when none is configured: `decom-<unix seconds>` (the SDK uses
/// `credentials-python-<unix seconds>`).
pub fn default_session_name() -> String {
    format!("decom-{}", jiff::Timestamp::now().as_second())
}

/// Check a `RoleSessionName` (2–64 of `[A-Za-z0-9.@_-]`, the documented form).
pub fn check_session_name(name: &str, source: &str) -> Result<(), CredentialsError> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(CredentialsError::Config {
            source_name: source.to_string(),
            detail: format!(
                "role session name {name:?} must be 2 to 64 letters, digits or . @ _ -"
            ),
        })
    }
}

/// Check a `DurationSeconds` (≥ 900; the role's maximum is the service's to enforce).
pub fn check_duration(seconds: u32, source: &str) -> Result<(), CredentialsError> {
    if seconds < MIN_DURATION_SECONDS {
        return Err(CredentialsError::Config {
            source_name: source.to_string(),
            detail: format!(
                "session duration {seconds}s is below the minimum of {MIN_DURATION_SECONDS}s"
            ),
        });
    }
    Ok(())
}

/// Temporary credentials of an `AssumeRole` answer, labelled with `source`.
pub fn fetched(answer: AssumedRole, source: CredentialSource) -> Result<Fetched, String> {
    let c = answer.credentials;
    if c.access_key_id.is_empty() || c.access_key_secret.expose().is_empty() {
        return Err("the answer has no credentials".into());
    }
    let expiration = super::parse_expiration(&c.expiration)
        .ok_or_else(|| format!("the answer's Expiration {:?} is not a time", c.expiration))?;
    Ok(Fetched {
        credentials: Credentials {
            access_key_id: c.access_key_id,
            access_key_secret: c.access_key_secret,
            security_token: Some(c.security_token).filter(|t| !t.expose().is_empty()),
            source,
        },
        expiration: Some(expiration),
    })
}

/// `AssumeRole` with another source's credentials.
pub struct RamRole {
    client: ReadClient,
    params: AssumeRoleParams,
    source: CredentialSource,
    what: String,
}

impl RamRole {
    /// Assume `params.role_arn`, signing with `signer`, through `endpoints`. `source` labels
    /// the result; `what` names this source in messages. Checks the session name and
    /// duration.
    pub fn new(
        network: &Network,
        endpoints: Endpoints,
        signer: CredentialsProvider,
        params: AssumeRoleParams,
        source: CredentialSource,
        what: String,
    ) -> Result<RamRole, CredentialsError> {
        if params.role_arn.trim().is_empty() {
            return Err(CredentialsError::Config {
                source_name: what,
                detail: "no role ARN (ram_role_arn / role_arn)".into(),
            });
        }
        check_session_name(&params.role_session_name, &what)?;
        if let Some(d) = params.duration_seconds {
            check_duration(d, &what)?;
        }
        Ok(RamRole {
            client: sts_client(network, endpoints, signer),
            params,
            source,
            what,
        })
    }
}

impl Fetch for RamRole {
    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        Box::pin(async move {
            let err = |detail: String| CredentialsError::Fetch {
                source_name: self.what.clone(),
                detail,
            };
            let answer = sts::assume_role(&self.client, &self.params)
                .await
                .map_err(|e| err(format!("assuming {}: {e}", self.params.role_arn)))?;
            fetched(answer, self.source.clone()).map_err(err)
        })
    }

    fn describe(&self) -> String {
        format!("{} (role {})", self.what, self.params.role_arn)
    }
}
