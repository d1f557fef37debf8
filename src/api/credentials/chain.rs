//! The default chain (SDK `provider/default.py`): flags, then environment, OIDC variables,
//! aliyun CLI profile, credentials file, ECS instance role, credentials URI.
//!
//! [`resolve`] reads the variables and files at once (so a typo in a file is reported before
//! anything is sent) and returns a provider that, on its first use, asks each step in order
//! and keeps the first that delivers (the SDK's `reuse_last_provider`). When none does, the
//! error lists every step and why it was skipped or failed.
//!
//! Three choices differ from the SDK, all to keep a mistake from silently switching the
//! account decom acts on: half an AccessKey pair (flags or variables) is an error; a profile
//! named with `--profile` / `ALIBABA_CLOUD_PROFILE` that neither file has is an error; and
//! a named profile that fails ends the chain (no fall-through to the instance role or the
//! URI). A `current` profile that fails falls through, as in the SDK.

use std::path::PathBuf;

use super::cli_profile::CliConfig;
use super::ini::CredentialsFile;
use super::provider::{ChainStep, CredentialsProvider};
use super::uri::UriSource;
use super::{CredentialsError, ExplicitCredentials, Network, ecs, env, non_empty, oidc};

/// The inputs of the chain, injectable so tests need no real environment, home directory or
/// network.
pub struct ChainInputs<'a> {
    /// Flags.
    pub explicit: ExplicitCredentials,
    /// Environment lookup.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The home directory (for `~/.aliyun` and `~/.alibabacloud`).
    pub home: Option<PathBuf>,
    /// `--profile` (wins over `ALIBABA_CLOUD_PROFILE`).
    pub profile: Option<String>,
    /// How sources reach STS, the metadata service and credentials URIs.
    pub network: Network,
}

impl ChainInputs<'static> {
    /// The real process environment and home directory.
    pub fn from_process(
        explicit: ExplicitCredentials,
        profile: Option<String>,
        network: Network,
    ) -> Self {
        fn real_env(name: &str) -> Option<String> {
            std::env::var(name).ok()
        }
        ChainInputs {
            explicit,
            env: &real_env,
            home: std::env::var_os("HOME").map(PathBuf::from),
            profile,
            network,
        }
    }
}

/// What the chain resolved to.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The credentials (fixed, or resolved and refreshed on use).
    pub provider: CredentialsProvider,
    /// The selected aliyun CLI profile's `region_id`: the default region.
    pub region: Option<String>,
}

fn is_true(v: Option<String>) -> bool {
    non_empty(v).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The chain up to an explicitly named profile, which is final: when it fails, the error is
/// not hidden by a later source.
fn last(mut steps: Vec<ChainStep>) -> CredentialsProvider {
    if let Some(s) = steps.last_mut() {
        s.last = true;
    }
    CredentialsProvider::chain(steps)
}

/// Build the chain from flags, variables and files (no network yet).
pub fn resolve(inputs: &ChainInputs<'_>) -> Result<Resolved, CredentialsError> {
    let env = |name: &str| non_empty((inputs.env)(name));
    let network = &inputs.network;
    let named = inputs
        .profile
        .clone()
        .and_then(|p| non_empty(Some(p)))
        .or_else(|| env("ALIBABA_CLOUD_PROFILE"));

    // The aliyun CLI config, read once: credentials (step 3) and the default region.
    let cli_disabled = if is_true(env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED")) {
        Some("disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true".to_string())
    } else if env("ALIBABA_CLOUD_IGNORE_PROFILE").is_some_and(|v| v == "TRUE") {
        Some("disabled by ALIBABA_CLOUD_IGNORE_PROFILE=TRUE".to_string())
    } else {
        None
    };
    let cli_path = inputs
        .home
        .as_ref()
        .map(|h| h.join(".aliyun").join("config.json"));
    let cli: Option<Result<CliConfig, CredentialsError>> = match (&cli_disabled, &cli_path) {
        (None, Some(p)) if p.exists() => Some(CliConfig::load(p)),
        _ => None,
    };
    let region = match &cli {
        Some(Ok(c)) => c.region_of(&c.selected(named.as_deref())),
        _ => None,
    };
    let resolved = |provider| {
        Ok(Resolved {
            provider,
            region: region.clone(),
        })
    };

    // Flags.
    if let Some(c) = env::from_flags(&inputs.explicit)? {
        return resolved(CredentialsProvider::fixed(c));
    }
    let mut steps: Vec<ChainStep> = Vec::new();
    let mut step = |name: &str, outcome: Result<CredentialsProvider, String>| {
        steps.push(ChainStep {
            name: name.to_string(),
            outcome,
            last: false,
        })
    };
    let is_named = named.is_some();

    // 1. Environment AccessKeys.
    match env::from_environment(&env)? {
        Ok(c) => return resolved(CredentialsProvider::fixed(c)),
        Err(why) => step("environment", Err(why)),
    }

    // 2. OIDC variables.
    // Set OIDC variables are final, like a named profile: a refused role assumption (a
    // misconfigured trust in CI) ends the chain with its error instead of quietly falling
    // through to whatever else the machine holds (another account's keys).
    match oidc::from_environment(&env, network) {
        Ok(Ok(p)) => {
            step("OIDC role", Ok(p));
            return resolved(last(steps));
        }
        Ok(Err(e)) => step("OIDC role", Err(e.to_string())),
        Err(why) => step("OIDC role", Err(why)),
    }

    // 3. The aliyun CLI profile.
    let mut searched: Vec<String> = Vec::new();
    let mut named_found = false;
    match (&cli_disabled, &cli_path, cli) {
        (Some(why), _, _) => step("aliyun CLI profile", Err(why.clone())),
        (None, None, _) => step("aliyun CLI profile", Err("no home directory".into())),
        (None, Some(p), None) => {
            searched.push(format!("{} (does not exist)", p.display()));
            step(
                "aliyun CLI profile",
                Err(format!("{} does not exist", p.display())),
            );
        }
        (None, Some(_), Some(Err(e))) => step("aliyun CLI profile", Err(e.to_string())),
        (None, Some(p), Some(Ok(c))) => {
            let name = c.selected(named.as_deref());
            if named.is_some() && !c.has(&name) {
                searched.push(format!("{} (profiles: {})", p.display(), c.names()));
                step(
                    "aliyun CLI profile",
                    Err(format!("{} has no profile {name:?}", p.display())),
                );
            } else {
                named_found = true;
                step(
                    "aliyun CLI profile",
                    c.provider(&name, network, &env).map_err(|e| e.to_string()),
                );
                if is_named {
                    return resolved(last(steps));
                }
            }
        }
    }

    // 4. The credentials file.
    let ini_env = env("ALIBABA_CLOUD_CREDENTIALS_FILE");
    let ini_path = ini_env.clone().map(PathBuf::from).or_else(|| {
        inputs.home.as_ref().map(|h| {
            let plain = h.join(".alibabacloud").join("credentials");
            let newer = h.join(".alibabacloud").join("credentials.ini");
            if !plain.exists() && newer.exists() {
                newer
            } else {
                plain
            }
        })
    });
    match ini_path {
        None => step("credentials file", Err("no home directory".into())),
        Some(p) if !p.exists() => {
            searched.push(format!("{} (does not exist)", p.display()));
            let why = if ini_env.is_some() {
                format!(
                    "{} (named by ALIBABA_CLOUD_CREDENTIALS_FILE) does not exist",
                    p.display()
                )
            } else {
                format!("{} does not exist", p.display())
            };
            step("credentials file", Err(why));
        }
        Some(p) => match CredentialsFile::load(&p) {
            Err(e) => step("credentials file", Err(e.to_string())),
            Ok(f) => {
                let section = named.clone().unwrap_or_else(|| "default".into());
                if !f.has(&section) {
                    searched.push(format!("{} (sections: {})", p.display(), f.names()));
                    step(
                        "credentials file",
                        Err(format!("{} has no section [{section}]", p.display())),
                    );
                } else {
                    named_found = true;
                    step(
                        "credentials file",
                        f.provider(&section, network, &env)
                            .map_err(|e| e.to_string()),
                    );
                    if is_named {
                        return resolved(last(steps));
                    }
                }
            }
        },
    }
    if let (Some(profile), false) = (&named, named_found) {
        return Err(CredentialsError::ProfileNowhere {
            profile: profile.clone(),
            searched,
        });
    }

    // 5. The ECS instance RAM role.
    step(
        "ECS instance RAM role",
        ecs::EcsRole::new(
            network.metadata_transport.clone(),
            &env,
            None,
            "ECS instance RAM role".into(),
        )
        .map(CredentialsProvider::refreshing)
        .map_err(|e| match e {
            CredentialsError::Config { detail, .. } => detail,
            other => other.to_string(),
        }),
    );

    // 6. The credentials URI.
    match env("ALIBABA_CLOUD_CREDENTIALS_URI") {
        None => step(
            "credentials URI",
            Err("ALIBABA_CLOUD_CREDENTIALS_URI is not set".into()),
        ),
        Some(uri) => step(
            "credentials URI",
            UriSource::new(
                network.transport.clone(),
                &uri,
                "ALIBABA_CLOUD_CREDENTIALS_URI".into(),
            )
            .map(CredentialsProvider::refreshing)
            .map_err(|e| e.to_string()),
        ),
    }
    resolved(CredentialsProvider::chain(steps))
}
