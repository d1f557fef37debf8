//! Step 4 of the chain: a section of the credentials file (SDK `provider/profile.py`):
//! `ALIBABA_CLOUD_CREDENTIALS_FILE`, else `~/.alibabacloud/credentials` (or the SDK's newer
//! `credentials.ini` next to it); section `--profile` / `ALIBABA_CLOUD_PROFILE`, else
//! `default`.
//!
//! Types and the keys each reads:
//!
//! | `type` | keys |
//! |---|---|
//! | `access_key` (default) | `access_key_id`, `access_key_secret` |
//! | `sts` | + `security_token` |
//! | `ram_role_arn` | `access_key_id`, `access_key_secret`, `role_arn`, `role_session_name`, `policy`, `external_id`, `duration_seconds` |
//! | `ecs_ram_role` | `role_name` (discovered when empty) |
//! | `oidc_role_arn` | `role_arn`, `oidc_provider_arn`, `oidc_token_file_path`, `role_session_name`, `policy`, `duration_seconds` |
//! | `credentials_uri` | `credentials_uri` |
//!
//! Role types also read `sts_endpoint` and `sts_region`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::oidc::{OidcRole, OidcSettings};
use super::provider::CredentialsProvider;
use super::ram_role::{RamRole, StsSettings, sts_endpoints};
use super::uri::UriSource;
use super::{CredentialSource, Credentials, CredentialsError, Network, Secret, ecs, read_file};
use crate::api::ops::sts::AssumeRoleParams;

/// The types decom supports, for messages.
pub const SUPPORTED: &str =
    "access_key, sts, ram_role_arn, ecs_ram_role, oidc_role_arn, credentials_uri";

/// Parse a minimal INI file: `[section]` headers and `key = value` lines; `#` and `;` start
/// comments (also after a value, as in the documented example).
pub fn parse_ini(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_string();
            out.entry(current.clone()).or_default();
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v
                .split(" #")
                .next()
                .unwrap_or("")
                .split(" ;")
                .next()
                .unwrap_or("");
            out.entry(current.clone())
                .or_default()
                .insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
        }
    }
    out
}

/// A parsed credentials file.
#[derive(Debug, Clone)]
pub struct CredentialsFile {
    path: PathBuf,
    sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl CredentialsFile {
    /// Read and parse the file.
    pub fn load(path: &Path) -> Result<CredentialsFile, CredentialsError> {
        Ok(CredentialsFile {
            path: path.to_path_buf(),
            sections: parse_ini(&read_file(path)?),
        })
    }

    /// Whether the file has this section.
    pub fn has(&self, section: &str) -> bool {
        self.sections.contains_key(section)
    }

    /// The sections' names, comma-separated.
    pub fn names(&self) -> String {
        self.sections
            .keys()
            .filter(|k| !k.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The credentials of `section`.
    pub fn provider(
        &self,
        section: &str,
        network: &Network,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<CredentialsProvider, CredentialsError> {
        let path = self.path.display().to_string();
        let Some(s) = self.sections.get(section) else {
            return Err(CredentialsError::NoSuchProfile {
                path,
                profile: section.to_string(),
                available: self.names(),
            });
        };
        let get = |k: &str| s.get(k).filter(|v| !v.is_empty()).cloned();
        let what = format!("section [{section}] of {path}");
        let source = CredentialSource::CredentialsFile {
            path: self.path.clone(),
            section: section.to_string(),
        };
        let config = |detail: String| CredentialsError::Config {
            source_name: what.clone(),
            detail,
        };
        let ty = get("type").unwrap_or_else(|| "access_key".into());
        let keys = || -> Result<Credentials, CredentialsError> {
            let (Some(id), Some(secret)) = (get("access_key_id"), get("access_key_secret")) else {
                return Err(config(format!(
                    "type {ty} needs access_key_id and access_key_secret"
                )));
            };
            Ok(Credentials::new(id, secret, source.clone()))
        };
        let duration = || -> Result<Option<u32>, CredentialsError> {
            get("duration_seconds")
                .map(|d| {
                    d.parse::<u32>()
                        .map_err(|_| config(format!("duration_seconds {d:?} is not a number")))
                })
                .transpose()
        };
        let sts = StsSettings {
            endpoint: get("sts_endpoint"),
            region: get("sts_region"),
            vpc: None,
        };
        match ty.as_str() {
            "access_key" => Ok(CredentialsProvider::fixed(keys()?)),
            "sts" => {
                let mut c = keys()?;
                let token = get("security_token")
                    .or_else(|| get("sts_token"))
                    .ok_or_else(|| config("type sts has no security_token".into()))?;
                c.security_token = Some(Secret::new(token));
                Ok(CredentialsProvider::fixed(c))
            }
            "ram_role_arn" => {
                let params = AssumeRoleParams {
                    role_arn: get("role_arn").unwrap_or_default(),
                    role_session_name: get("role_session_name")
                        .unwrap_or_else(super::ram_role::default_session_name),
                    duration_seconds: duration()?,
                    policy: get("policy"),
                    external_id: get("external_id"),
                };
                let endpoints = sts_endpoints(network, env, &sts)?;
                let signer = CredentialsProvider::fixed(keys()?);
                RamRole::new(
                    network,
                    endpoints,
                    signer,
                    params,
                    source.clone(),
                    what.clone(),
                )
                .map(CredentialsProvider::refreshing)
            }
            "ecs_ram_role" => ecs::EcsRole::new(
                network.metadata_transport.clone(),
                env,
                get("role_name"),
                what.clone(),
            )
            .map(CredentialsProvider::refreshing),
            "oidc_role_arn" => {
                let settings = OidcSettings {
                    role_arn: get("role_arn").unwrap_or_default(),
                    provider_arn: get("oidc_provider_arn").unwrap_or_default(),
                    token_file: PathBuf::from(get("oidc_token_file_path").unwrap_or_default()),
                    session_name: get("role_session_name"),
                    duration_seconds: duration()?,
                    policy: get("policy"),
                };
                let endpoints = sts_endpoints(network, env, &sts)?;
                OidcRole::new(network, endpoints, settings, source.clone(), what.clone())
                    .map(CredentialsProvider::refreshing)
            }
            "credentials_uri" => {
                let uri = get("credentials_uri")
                    .ok_or_else(|| config("type credentials_uri needs credentials_uri".into()))?;
                UriSource::new(network.transport.clone(), &uri, what.clone())
                    .map(CredentialsProvider::refreshing)
            }
            other => Err(CredentialsError::UnsupportedMode {
                path,
                profile: section.to_string(),
                mode: other.to_string(),
                supported: SUPPORTED.into(),
            }),
        }
    }
}
