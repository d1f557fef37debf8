//! Credentials printed by a command (SDK `provider/external.py`): the `External` profile
//! mode runs the profile's `process_command` (split like a POSIX shell, not run through one)
//! and reads one JSON object from its stdout: `{"mode": "AK"|"StsToken", "access_key_id",
//! "access_key_secret", "sts_token", "expiration"}`. A set with an `expiration` is
//! refreshed like any temporary set. The command's stderr goes to decom's stderr as it is;
//! its stdout is never shown.

use std::process::Stdio;
use std::time::Duration;

use super::provider::{Fetch, Fetched};
use super::{CredentialSource, Credentials, CredentialsError, Secret};
use crate::api::BoxFuture;

/// How long the command may run (the SDK's 60 s).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Run a command for credentials.
pub struct External {
    argv: Vec<String>,
    source: CredentialSource,
    what: String,
}

impl External {
    /// A source for `command`.
    pub fn new(
        command: &str,
        source: CredentialSource,
        what: String,
    ) -> Result<External, CredentialsError> {
        let argv = shlex::split(command)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| CredentialsError::Config {
                source_name: what.clone(),
                detail: "process_command is empty or not a valid command line".into(),
            })?;
        Ok(External { argv, source, what })
    }
}

#[derive(serde::Deserialize)]
struct Output {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    sts_token: String,
    #[serde(default)]
    expiration: String,
}

impl Fetch for External {
    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        Box::pin(async move {
            let err = |detail: String| CredentialsError::Fetch {
                source_name: self.what.clone(),
                detail: format!("command {:?}: {detail}", self.argv[0]),
            };
            let child = tokio::process::Command::new(&self.argv[0])
                .args(&self.argv[1..])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| err(format!("cannot run: {e}")))?;
            let out = tokio::time::timeout(TIMEOUT, child.wait_with_output())
                .await
                .map_err(|_| err(format!("timed out after {}s", TIMEOUT.as_secs())))?
                .map_err(|e| err(e.to_string()))?;
            if !out.status.success() {
                return Err(err(format!("failed: {}", out.status)));
            }
            let o: Output =
                serde_json::from_slice(&out.stdout).map_err(|_| {
                    err("its output is not the documented JSON (not quoted: it carries credentials)"
                    .into())
                })?;
            if o.access_key_id.is_empty() || o.access_key_secret.is_empty() {
                return Err(err(
                    "its output lacks access_key_id or access_key_secret".into()
                ));
            }
            if o.mode == "StsToken" && o.sts_token.is_empty() {
                return Err(err("mode StsToken without sts_token".into()));
            }
            let expiration =
                if o.expiration.is_empty() {
                    None
                } else {
                    Some(super::parse_expiration(&o.expiration).ok_or_else(|| {
                        err(format!("expiration {:?} is not a time", o.expiration))
                    })?)
                };
            Ok(Fetched {
                credentials: Credentials {
                    access_key_id: o.access_key_id,
                    access_key_secret: Secret::new(o.access_key_secret),
                    security_token: Some(o.sts_token).filter(|t| !t.is_empty()).map(Secret::new),
                    source: self.source.clone(),
                },
                expiration,
            })
        })
    }

    fn describe(&self) -> String {
        self.what.clone()
    }
}
