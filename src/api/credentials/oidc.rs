//! OIDC role assumption with STS `AssumeRoleWithOIDC` (SDK `provider/oidc.py`): a CI job or
//! a Kubernetes pod (ACK RRSA) holds a token file written by its platform; STS trades the
//! token for credentials of a role that trusts the identity provider. The call is anonymous
//! (nothing is signed) and the token file is read again on every refresh, since platforms
//! rotate it.
//!
//! Step 2 of the chain when `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
//! `ALIBABA_CLOUD_OIDC_TOKEN_FILE` are all set (`ALIBABA_CLOUD_ROLE_SESSION_NAME`
//! optional); also the `OIDC` profile mode and the `oidc_role_arn` credentials file type.

use std::path::PathBuf;

use super::provider::{CredentialsProvider, Fetch, Fetched};
use super::ram_role::{self, StsSettings};
use super::{CredentialSource, CredentialsError, Network, Secret, non_empty};
use crate::api::ops::sts::{self, AssumeRoleWithOidcParams};
use crate::api::{BoxFuture, Endpoints, ReadClient};

/// The variables of the OIDC step, in the order the chain reports them missing.
pub const VARS: [&str; 3] = [
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
];

/// What an OIDC source needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OidcSettings {
    /// `RoleArn`.
    pub role_arn: String,
    /// `OIDCProviderArn`.
    pub provider_arn: String,
    /// The file holding the token.
    pub token_file: PathBuf,
    /// `RoleSessionName` (a default when `None`).
    pub session_name: Option<String>,
    /// `DurationSeconds`.
    pub duration_seconds: Option<u32>,
    /// `Policy`.
    pub policy: Option<String>,
}

/// `AssumeRoleWithOIDC` with a token file.
pub struct OidcRole {
    client: ReadClient,
    settings: OidcSettings,
    session_name: String,
    source: CredentialSource,
    what: String,
}

impl OidcRole {
    /// Check the settings and build the source.
    pub fn new(
        network: &Network,
        endpoints: Endpoints,
        settings: OidcSettings,
        source: CredentialSource,
        what: String,
    ) -> Result<OidcRole, CredentialsError> {
        let missing = |field: &str| CredentialsError::Config {
            source_name: what.clone(),
            detail: format!("{field} is empty"),
        };
        if settings.role_arn.trim().is_empty() {
            return Err(missing("the role ARN"));
        }
        if settings.provider_arn.trim().is_empty() {
            return Err(missing("the OIDC provider ARN"));
        }
        if settings.token_file.as_os_str().is_empty() {
            return Err(missing("the OIDC token file"));
        }
        let session_name = settings
            .session_name
            .clone()
            .and_then(|s| non_empty(Some(s)))
            .unwrap_or_else(ram_role::default_session_name);
        ram_role::check_session_name(&session_name, &what)?;
        if let Some(d) = settings.duration_seconds {
            ram_role::check_duration(d, &what)?;
        }
        Ok(OidcRole {
            client: ram_role::sts_client(network, endpoints, CredentialsProvider::anonymous()),
            settings,
            session_name,
            source,
            what,
        })
    }
}

impl Fetch for OidcRole {
    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        Box::pin(async move {
            let err = |detail: String| CredentialsError::Fetch {
                source_name: self.what.clone(),
                detail,
            };
            let path = &self.settings.token_file;
            let token = tokio::fs::read_to_string(path).await.map_err(|e| {
                err(format!(
                    "cannot read the OIDC token file {}: {e}",
                    path.display()
                ))
            })?;
            let token = token.trim();
            if token.is_empty() {
                return Err(err(format!(
                    "the OIDC token file {} is empty",
                    path.display()
                )));
            }
            let params = AssumeRoleWithOidcParams {
                role_arn: self.settings.role_arn.clone(),
                oidc_provider_arn: self.settings.provider_arn.clone(),
                oidc_token: Secret::new(token),
                role_session_name: self.session_name.clone(),
                duration_seconds: self.settings.duration_seconds,
                policy: self.settings.policy.clone(),
            };
            let answer = sts::assume_role_with_oidc(&self.client, &params)
                .await
                .map_err(|e| err(format!("assuming {}: {e}", self.settings.role_arn)))?;
            ram_role::fetched(answer, self.source.clone()).map_err(err)
        })
    }

    fn describe(&self) -> String {
        format!("{} (role {})", self.what, self.settings.role_arn)
    }
}

/// Step 2 of the chain: a source when the three variables are set, else why it was skipped.
pub fn from_environment(
    env: &dyn Fn(&str) -> Option<String>,
    network: &Network,
) -> Result<Result<CredentialsProvider, CredentialsError>, String> {
    let get = |name: &str| non_empty(env(name));
    let missing: Vec<&str> = VARS.iter().copied().filter(|v| get(v).is_none()).collect();
    if !missing.is_empty() {
        return Err(format!("{} not set", missing.join(", ")));
    }
    let settings = OidcSettings {
        role_arn: get(VARS[0]).unwrap_or_default(),
        provider_arn: get(VARS[1]).unwrap_or_default(),
        token_file: PathBuf::from(get(VARS[2]).unwrap_or_default()),
        session_name: get("ALIBABA_CLOUD_ROLE_SESSION_NAME"),
        duration_seconds: None,
        policy: None,
    };
    let what = "OIDC variables (ALIBABA_CLOUD_OIDC_*)".to_string();
    let source = CredentialSource::OidcEnvironment {
        role_arn: settings.role_arn.clone(),
    };
    Ok(
        ram_role::sts_endpoints(network, env, &StsSettings::default()).and_then(|endpoints| {
            OidcRole::new(network, endpoints, settings, source, what)
                .map(CredentialsProvider::refreshing)
        }),
    )
}
