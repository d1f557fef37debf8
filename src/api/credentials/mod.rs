//! Credentials and where they come from.
//!
//! Explicit flags first, then the official default chain of the `alibabacloud-credentials`
//! SDK (`provider/default.py`, 1.0.12), in its order:
//!
//! 1. [`env`] — `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` (+ `ALIBABA_CLOUD_SECURITY_TOKEN`);
//! 2. [`oidc`] — `ALIBABA_CLOUD_ROLE_ARN` + `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` +
//!    `ALIBABA_CLOUD_OIDC_TOKEN_FILE` (STS `AssumeRoleWithOIDC`);
//! 3. [`cli_profile`] — a profile of the aliyun CLI's `~/.aliyun/config.json`;
//! 4. [`ini`] — a section of the credentials file (`~/.alibabacloud/credentials`);
//! 5. [`ecs`] — the ECS instance RAM role, from the metadata service (IMDSv2 first);
//! 6. [`uri`] — `ALIBABA_CLOUD_CREDENTIALS_URI`.
//!
//! Temporary credentials (STS tokens) are held by a [`CredentialsProvider`], which refreshes
//! them before they expire, once for every concurrent caller ([`provider`]). The chain itself
//! is resolved lazily on the first call ([`chain`]), like the SDK's, and remembers the source
//! that worked.
//!
//! Secrets live in [`Secret`], whose `Debug` and `Display` print `***`: no log line, error or
//! report can show one by accident. Errors of this module never quote a response body that
//! may carry credentials.

pub mod chain;
pub mod cli_profile;
pub mod ecs;
pub mod env;
pub mod external;
pub mod ini;
pub mod oidc;
pub mod provider;
pub mod ram_role;
pub mod uri;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

pub use chain::{ChainInputs, Resolved, resolve};
pub use provider::{CredentialsProvider, Fetch, Fetched};

use super::{Endpoints, SignatureVersion, Transport};

/// A secret string (AccessKeySecret, STS token, OIDC token). Printing it shows `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for signing. Never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a set of credentials was found, for `decom api`'s and apply's identity line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `--access-key-id` / `--access-key-secret` flags.
    Flags,
    /// `ALIBABA_CLOUD_ACCESS_KEY_ID` and friends (or the legacy `ALICLOUD_*` names).
    Environment,
    /// The `ALIBABA_CLOUD_ROLE_ARN` / `_OIDC_PROVIDER_ARN` / `_OIDC_TOKEN_FILE` variables.
    OidcEnvironment {
        /// The role assumed.
        role_arn: String,
    },
    /// A profile of the aliyun CLI's `config.json`.
    AliyunProfile {
        /// The file read.
        path: PathBuf,
        /// The profile used.
        profile: String,
    },
    /// A section of the credentials ini file.
    CredentialsFile {
        /// The file read.
        path: PathBuf,
        /// The section used.
        section: String,
    },
    /// The ECS instance RAM role (metadata service).
    EcsRamRole {
        /// The role name (discovered when not configured).
        role: String,
    },
    /// `ALIBABA_CLOUD_CREDENTIALS_URI`.
    CredentialsUri {
        /// The URI, without its query (which may hold a token).
        uri: String,
    },
    /// The embedded emulator's world file.
    Emulator,
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Flags => f.write_str("command-line flags"),
            CredentialSource::Environment => f.write_str("environment variables"),
            CredentialSource::OidcEnvironment { role_arn } => {
                write!(f, "OIDC role {role_arn} (ALIBABA_CLOUD_OIDC_* variables)")
            }
            CredentialSource::AliyunProfile { path, profile } => {
                write!(f, "profile {profile:?} of {}", path.display())
            }
            CredentialSource::CredentialsFile { path, section } => {
                write!(f, "section [{section}] of {}", path.display())
            }
            CredentialSource::EcsRamRole { role } => write!(f, "ECS instance RAM role {role}"),
            CredentialSource::CredentialsUri { uri } => write!(f, "credentials URI {uri}"),
            CredentialSource::Emulator => f.write_str("the emulator world"),
        }
    }
}

/// An AccessKey pair, optionally with an STS token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The AccessKeyId (not secret: it appears in every signed request).
    pub access_key_id: String,
    /// The AccessKeySecret.
    pub access_key_secret: Secret,
    /// The STS SecurityToken, for temporary credentials.
    pub security_token: Option<Secret>,
    /// Where they came from.
    pub source: CredentialSource,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &self.access_key_secret)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "***"),
            )
            .field("source", &self.source)
            .finish()
    }
}

impl Credentials {
    /// Plain AccessKey credentials.
    pub fn new(id: impl Into<String>, secret: impl Into<String>, source: CredentialSource) -> Self {
        Credentials {
            access_key_id: id.into(),
            access_key_secret: Secret::new(secret),
            security_token: None,
            source,
        }
    }
}

/// Why no usable credentials were found. No variant ever carries a secret.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CredentialsError {
    /// Every step of the chain was skipped or failed; each says why (like the SDK's
    /// "unable to load credentials from any of the providers in the chain").
    #[error(
        "no credentials found; every source was tried:\n{}\npass --access-key-id/--access-key-secret, \
         set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (or the OIDC variables), \
         configure the aliyun CLI (~/.aliyun/config.json) or write ~/.alibabacloud/credentials",
        .tried.iter().map(|t| format!("  - {t}")).collect::<Vec<_>>().join("\n")
    )]
    NotFound {
        /// One line per step: `<step>: <why it was skipped or failed>`.
        tried: Vec<String>,
    },
    /// One half of a pair without the other.
    #[error("{source_name}: {present} is set but {missing} is not")]
    Incomplete {
        /// Which source.
        source_name: String,
        /// What was found.
        present: String,
        /// What is missing.
        missing: String,
    },
    /// A file that exists but cannot be read or parsed.
    #[error("{path}: {detail}")]
    File {
        /// The file.
        path: String,
        /// What is wrong, without any secret.
        detail: String,
    },
    /// A named profile that the file does not have.
    #[error("{path}: no profile named {profile:?} (profiles: {available})")]
    NoSuchProfile {
        /// The file.
        path: String,
        /// The profile asked for.
        profile: String,
        /// The profiles it has.
        available: String,
    },
    /// A profile named with `--profile` / `ALIBABA_CLOUD_PROFILE` that no file has.
    #[error("profile {profile:?} is in neither {}", .searched.join(" nor "))]
    ProfileNowhere {
        /// The profile asked for.
        profile: String,
        /// The files searched, with what each has.
        searched: Vec<String>,
    },
    /// A credential mode decom does not implement.
    #[error(
        "{path}: profile {profile:?} uses mode {mode:?}, which decom does not support yet \
         (supported: {supported}); export ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET/SECURITY_TOKEN instead"
    )]
    UnsupportedMode {
        /// The file.
        path: String,
        /// The profile.
        profile: String,
        /// Its mode.
        mode: String,
        /// The modes that are supported there.
        supported: String,
    },
    /// A source whose settings are incomplete or out of range.
    #[error("{source_name}: {detail}")]
    Config {
        /// Which source (profile, section, variables).
        source_name: String,
        /// What is wrong.
        detail: String,
    },
    /// `source_profile` links that come back to a profile already in the chain.
    #[error("{path}: source_profile links form a cycle: {cycle}")]
    Cycle {
        /// The file.
        path: String,
        /// The profiles in order, the repeated one last.
        cycle: String,
    },
    /// Fetching credentials failed (STS refused, metadata service unreachable, process
    /// failed, ...). `detail` never quotes a body that may carry credentials.
    #[error("{source_name}: {detail}")]
    Fetch {
        /// Which source.
        source_name: String,
        /// What went wrong.
        detail: String,
    },
    /// The credentials expired and could not be refreshed.
    #[error("{source_name}: the credentials expired and the refresh failed: {detail}")]
    Expired {
        /// Which source.
        source_name: String,
        /// Why the refresh failed.
        detail: String,
    },
    /// An anonymous client (AssumeRoleWithOIDC) asked for credentials.
    #[error("this client is anonymous: it signs nothing")]
    Anonymous,
}

/// Credentials given on the command line.
#[derive(Debug, Default, Clone)]
pub struct ExplicitCredentials {
    /// `--access-key-id`.
    pub access_key_id: Option<String>,
    /// `--access-key-secret`.
    pub access_key_secret: Option<Secret>,
    /// `--security-token`.
    pub security_token: Option<Secret>,
}

/// How the credential sources reach the network: STS (AssumeRole, AssumeRoleWithOIDC), the
/// ECS metadata service and credentials URIs. Injectable, so tests talk to the in-process
/// emulator and never to a real address.
#[derive(Clone)]
pub struct Network {
    /// Sends STS requests and credentials-URI requests.
    pub transport: Arc<dyn Transport>,
    /// Sends ECS metadata requests (short timeouts: off ECS the address does not answer).
    pub metadata_transport: Arc<dyn Transport>,
    /// `--endpoint`: one endpoint for every product, STS included.
    pub endpoint_override: Option<Endpoints>,
    /// Signature of STS `AssumeRole` calls.
    pub signature: SignatureVersion,
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Network")
            .field("endpoint_override", &self.endpoint_override)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

/// Default base URL of the ECS metadata service.
pub const ECS_METADATA_URL: &str = "http://100.100.100.200";

/// The variable that overrides [`ECS_METADATA_URL`] (decom's own; the SDKs hard-code the
/// address). Tests point it at the emulator's metadata front on loopback.
pub const ECS_METADATA_URL_VAR: &str = "DECOM_ECS_METADATA_URL";

/// The value of a variable unless empty or blank.
pub(crate) fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

fn incomplete(source: &str, present: &str, missing: &str) -> CredentialsError {
    CredentialsError::Incomplete {
        source_name: source.to_string(),
        present: present.to_string(),
        missing: missing.to_string(),
    }
}

fn read_file(path: &std::path::Path) -> Result<String, CredentialsError> {
    std::fs::read_to_string(path).map_err(|e| CredentialsError::File {
        path: path.display().to_string(),
        detail: format!("cannot read: {e}"),
    })
}

/// Parse an STS `Expiration` (`2015-04-09T11:52:19Z`, UTC).
pub(crate) fn parse_expiration(text: &str) -> Option<jiff::Timestamp> {
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests;
