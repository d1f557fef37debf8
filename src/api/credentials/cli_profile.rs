//! Step 3 of the chain: a profile of the aliyun CLI's `~/.aliyun/config.json` (SDK
//! `provider/cli_profile.py`): `--profile` / `ALIBABA_CLOUD_PROFILE`, else the file's
//! `current`, else `default`.
//!
//! Modes and the fields each reads (the CLI's names):
//!
//! | mode | fields |
//! |---|---|
//! | `AK` | `access_key_id`, `access_key_secret` |
//! | `StsToken` | + `sts_token` |
//! | `RamRoleArn` | `access_key_id`, `access_key_secret` (+ `sts_token`), `ram_role_arn`, `ram_session_name`, `expired_seconds`, `policy`, `external_id` |
//! | `ChainableRamRoleArn` | `source_profile` (any mode, any depth; cycles refused) + the `RamRoleArn` role fields |
//! | `EcsRamRole` | `ram_role_name` (discovered when empty) |
//! | `OIDC` | `ram_role_arn`, `oidc_provider_arn`, `oidc_token_file`, `role_session_name`, `expired_seconds`, `policy` |
//! | `CredentialsURI` | `credentials_uri` |
//! | `External` | `process_command` |
//!
//! Role modes also read `sts_endpoint`, `sts_region` and `enable_vpc`. `CloudSSO`, `OAuth`
//! and the rest are refused with a clear "not supported yet". A profile's `region_id` is
//! decom's default region.

use std::path::{Path, PathBuf};

use super::external::External;
use super::oidc::{OidcRole, OidcSettings};
use super::provider::CredentialsProvider;
use super::ram_role::{RamRole, StsSettings, sts_endpoints};
use super::uri::UriSource;
use super::{CredentialSource, Credentials, CredentialsError, Network, Secret, ecs, read_file};
use crate::api::ops::sts::AssumeRoleParams;

/// The modes decom supports, for messages.
pub const SUPPORTED: &str =
    "AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC, CredentialsURI, External";

/// One profile, with the fields decom reads (the others are ignored).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
struct Profile {
    name: String,
    mode: String,
    access_key_id: String,
    access_key_secret: String,
    sts_token: String,
    ram_role_arn: String,
    ram_session_name: String,
    role_session_name: String,
    expired_seconds: Option<u32>,
    policy: String,
    external_id: String,
    source_profile: String,
    ram_role_name: String,
    oidc_provider_arn: String,
    oidc_token_file: String,
    credentials_uri: String,
    process_command: String,
    sts_endpoint: String,
    sts_region: String,
    enable_vpc: Option<bool>,
    region_id: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
struct Config {
    current: String,
    profiles: Vec<Profile>,
}

/// A parsed `config.json`.
#[derive(Debug, Clone)]
pub struct CliConfig {
    path: PathBuf,
    config: Config,
}

fn opt(s: &str) -> Option<String> {
    super::non_empty(Some(s.to_string()))
}

impl CliConfig {
    /// Read and parse the file. Parse errors give a position, never the offending text.
    pub fn load(path: &Path) -> Result<CliConfig, CredentialsError> {
        let text = read_file(path)?;
        let config: Config = serde_json::from_str(&text).map_err(|e| CredentialsError::File {
            path: path.display().to_string(),
            detail: format!(
                "not a valid aliyun CLI config (line {}, column {})",
                e.line(),
                e.column()
            ),
        })?;
        Ok(CliConfig {
            path: path.to_path_buf(),
            config,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The profile to use: `name`, else `current`, else `default`.
    pub fn selected(&self, name: Option<&str>) -> String {
        name.map(str::to_string)
            .or_else(|| opt(&self.config.current))
            .unwrap_or_else(|| "default".into())
    }

    fn find(&self, name: &str) -> Option<&Profile> {
        self.config.profiles.iter().find(|p| p.name == name)
    }

    /// Whether the file has this profile.
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The profiles' names, comma-separated.
    pub fn names(&self) -> String {
        self.config
            .profiles
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The profile's `region_id`, when set.
    pub fn region_of(&self, name: &str) -> Option<String> {
        self.find(name).and_then(|p| opt(&p.region_id))
    }

    /// The credentials of profile `name`.
    pub fn provider(
        &self,
        name: &str,
        network: &Network,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<CredentialsProvider, CredentialsError> {
        self.provider_in(name, network, env, &mut Vec::new())
    }

    fn provider_in(
        &self,
        name: &str,
        network: &Network,
        env: &dyn Fn(&str) -> Option<String>,
        visiting: &mut Vec<String>,
    ) -> Result<CredentialsProvider, CredentialsError> {
        let path = self.path.display().to_string();
        if visiting.iter().any(|v| v == name) {
            let mut cycle = visiting.clone();
            cycle.push(name.to_string());
            return Err(CredentialsError::Cycle {
                path,
                cycle: cycle.join(" -> "),
            });
        }
        visiting.push(name.to_string());
        let Some(p) = self.find(name) else {
            return Err(CredentialsError::NoSuchProfile {
                path,
                profile: name.to_string(),
                available: self.names(),
            });
        };
        let what = format!("profile {name:?} of {path}");
        let source = CredentialSource::AliyunProfile {
            path: self.path.clone(),
            profile: name.to_string(),
        };
        let config = |detail: String| CredentialsError::Config {
            source_name: what.clone(),
            detail,
        };
        let mode = opt(&p.mode).unwrap_or_else(|| "AK".into());
        let keys = |mode: &str| -> Result<Credentials, CredentialsError> {
            if p.access_key_id.is_empty() || p.access_key_secret.is_empty() {
                return Err(config(format!(
                    "mode {mode} needs access_key_id and access_key_secret"
                )));
            }
            let mut c = Credentials::new(&p.access_key_id, &p.access_key_secret, source.clone());
            c.security_token = opt(&p.sts_token).map(Secret::new);
            Ok(c)
        };
        let sts = StsSettings {
            endpoint: opt(&p.sts_endpoint),
            region: opt(&p.sts_region),
            vpc: p.enable_vpc,
        };
        let role = |signer: CredentialsProvider| -> Result<CredentialsProvider, CredentialsError> {
            let params = AssumeRoleParams {
                role_arn: p.ram_role_arn.clone(),
                role_session_name: opt(&p.ram_session_name)
                    .unwrap_or_else(super::ram_role::default_session_name),
                duration_seconds: p.expired_seconds.filter(|d| *d > 0),
                policy: opt(&p.policy),
                external_id: opt(&p.external_id),
            };
            let endpoints = sts_endpoints(network, env, &sts)?;
            RamRole::new(
                network,
                endpoints,
                signer,
                params,
                source.clone(),
                what.clone(),
            )
            .map(CredentialsProvider::refreshing)
        };
        match mode.as_str() {
            "AK" => {
                let mut c = keys("AK")?;
                c.security_token = None;
                Ok(CredentialsProvider::fixed(c))
            }
            "StsToken" => {
                let c = keys("StsToken")?;
                if c.security_token.is_none() {
                    return Err(config("mode StsToken has no sts_token".into()));
                }
                Ok(CredentialsProvider::fixed(c))
            }
            "RamRoleArn" => role(CredentialsProvider::fixed(keys("RamRoleArn")?)),
            "ChainableRamRoleArn" => {
                let Some(src) = opt(&p.source_profile) else {
                    return Err(config(
                        "mode ChainableRamRoleArn needs source_profile".into(),
                    ));
                };
                let signer = self.provider_in(&src, network, env, visiting)?;
                role(signer)
            }
            "EcsRamRole" => ecs::EcsRole::new(
                network.metadata_transport.clone(),
                env,
                opt(&p.ram_role_name),
                what.clone(),
            )
            .map(CredentialsProvider::refreshing),
            "OIDC" => {
                let settings = OidcSettings {
                    role_arn: p.ram_role_arn.clone(),
                    provider_arn: p.oidc_provider_arn.clone(),
                    token_file: PathBuf::from(&p.oidc_token_file),
                    session_name: opt(&p.role_session_name).or_else(|| opt(&p.ram_session_name)),
                    duration_seconds: p.expired_seconds.filter(|d| *d > 0),
                    policy: opt(&p.policy),
                };
                let endpoints = sts_endpoints(network, env, &sts)?;
                OidcRole::new(network, endpoints, settings, source.clone(), what.clone())
                    .map(CredentialsProvider::refreshing)
            }
            "CredentialsURI" => {
                let Some(uri) = opt(&p.credentials_uri) else {
                    return Err(config("mode CredentialsURI needs credentials_uri".into()));
                };
                UriSource::new(network.transport.clone(), &uri, what.clone())
                    .map(CredentialsProvider::refreshing)
            }
            "External" => External::new(&p.process_command, source.clone(), what.clone())
                .map(CredentialsProvider::refreshing),
            other => Err(CredentialsError::UnsupportedMode {
                path,
                profile: name.to_string(),
                mode: other.to_string(),
                supported: SUPPORTED.into(),
            }),
        }
    }
}
