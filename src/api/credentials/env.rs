//! Step 1 of the chain, and the flags before it: AccessKeys given explicitly.
//!
//! The SDK's `EnvironmentVariableCredentialsProvider` (`provider/env.py`) reads
//! `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and
//! `ALIBABA_CLOUD_SECURITY_TOKEN`; decom also reads the legacy `ALICLOUD_*` names. Unlike
//! the SDK, half a pair is an error rather than a silent fall-through to the next source:
//! a forgotten secret must not quietly switch the account used.

use super::{CredentialSource, Credentials, CredentialsError, ExplicitCredentials, Secret};
use super::{incomplete, non_empty};

/// `--access-key-id` / `--access-key-secret` / `--security-token`: `None` when not given.
pub fn from_flags(ex: &ExplicitCredentials) -> Result<Option<Credentials>, CredentialsError> {
    match (&ex.access_key_id, &ex.access_key_secret) {
        (Some(id), Some(secret)) => Ok(Some(Credentials {
            access_key_id: id.clone(),
            access_key_secret: secret.clone(),
            security_token: ex.security_token.clone(),
            source: CredentialSource::Flags,
        })),
        (Some(_), None) => Err(incomplete(
            "command-line flags",
            "--access-key-id",
            "--access-key-secret",
        )),
        (None, Some(_)) => Err(incomplete(
            "command-line flags",
            "--access-key-secret",
            "--access-key-id",
        )),
        (None, None) => Ok(None),
    }
}

/// The AccessKey variables (current names first, then the legacy `ALICLOUD_*` names):
/// `Ok(None)` when neither pair is set, with why for the chain's report.
pub fn from_environment(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Result<Credentials, String>, CredentialsError> {
    let env = |name: &str| non_empty(env(name));
    for (id_var, secret_var, token_vars) in [
        (
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            &["ALIBABA_CLOUD_SECURITY_TOKEN"][..],
        ),
        (
            "ALICLOUD_ACCESS_KEY",
            "ALICLOUD_SECRET_KEY",
            &["ALICLOUD_ACCESS_KEY_STS_TOKEN", "ALICLOUD_SECURITY_TOKEN"][..],
        ),
    ] {
        match (env(id_var), env(secret_var)) {
            (Some(id), Some(secret)) => {
                return Ok(Ok(Credentials {
                    access_key_id: id,
                    access_key_secret: Secret::new(secret),
                    security_token: token_vars.iter().find_map(|v| env(v)).map(Secret::new),
                    source: CredentialSource::Environment,
                }));
            }
            (Some(_), None) => return Err(incomplete("environment", id_var, secret_var)),
            (None, Some(_)) => return Err(incomplete("environment", secret_var, id_var)),
            (None, None) => {}
        }
    }
    Ok(Err(
        "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set".into(),
    ))
}
