//! Credentials and where they come from: explicit flags, the `ALIBABA_CLOUD_*` environment
//! variables, the aliyun CLI profile file (`~/.aliyun/config.json`) and the credentials ini
//! file (`~/.alibabacloud/credentials`), tried in that order.
//!
//! Secrets live in [`Secret`], whose `Debug` and `Display` print `***`: no log line, error or
//! report can show one by accident.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A secret string (AccessKeySecret, STS token). Printing it shows `***`.
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
    /// The embedded emulator's world file.
    Emulator,
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Flags => f.write_str("command-line flags"),
            CredentialSource::Environment => f.write_str("environment variables"),
            CredentialSource::AliyunProfile { path, profile } => {
                write!(f, "profile {profile:?} of {}", path.display())
            }
            CredentialSource::CredentialsFile { path, section } => {
                write!(f, "section [{section}] of {}", path.display())
            }
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

/// Why no usable credentials were found.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialsError {
    /// Nothing in any source.
    #[error(
        "no credentials found: pass --access-key-id/--access-key-secret, set \
         ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, configure the aliyun \
         CLI (~/.aliyun/config.json) or write ~/.alibabacloud/credentials"
    )]
    NotFound,
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
    /// A credential mode decom does not implement.
    #[error(
        "{path}: profile {profile:?} uses mode {mode:?}, which decom does not support yet \
         (supported: AK, StsToken); export ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET/SECURITY_TOKEN instead"
    )]
    UnsupportedMode {
        /// The file.
        path: String,
        /// The profile.
        profile: String,
        /// Its mode.
        mode: String,
    },
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

/// The inputs of the chain, injectable so tests need no real environment or home directory.
pub struct ChainInputs<'a> {
    /// Flags.
    pub explicit: ExplicitCredentials,
    /// Environment lookup.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The home directory (for `~/.aliyun` and `~/.alibabacloud`).
    pub home: Option<PathBuf>,
}

impl ChainInputs<'static> {
    /// The real process environment and home directory.
    pub fn from_process(explicit: ExplicitCredentials) -> Self {
        fn real_env(name: &str) -> Option<String> {
            std::env::var(name).ok()
        }
        ChainInputs {
            explicit,
            env: &real_env,
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// Resolve credentials: flags, environment, aliyun CLI profile, credentials ini.
pub fn resolve(inputs: &ChainInputs<'_>) -> Result<Credentials, CredentialsError> {
    let env = |name: &str| non_empty((inputs.env)(name));

    // 1. Flags.
    let ex = &inputs.explicit;
    match (&ex.access_key_id, &ex.access_key_secret) {
        (Some(id), Some(secret)) => {
            return Ok(Credentials {
                access_key_id: id.clone(),
                access_key_secret: secret.clone(),
                security_token: ex.security_token.clone(),
                source: CredentialSource::Flags,
            });
        }
        (Some(_), None) => {
            return Err(incomplete(
                "command-line flags",
                "--access-key-id",
                "--access-key-secret",
            ));
        }
        (None, Some(_)) => {
            return Err(incomplete(
                "command-line flags",
                "--access-key-secret",
                "--access-key-id",
            ));
        }
        (None, None) => {}
    }

    // 2. Environment (current names first, then the legacy ALICLOUD_* names).
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
                return Ok(Credentials {
                    access_key_id: id,
                    access_key_secret: Secret::new(secret),
                    security_token: token_vars.iter().find_map(|v| env(v)).map(Secret::new),
                    source: CredentialSource::Environment,
                });
            }
            (Some(_), None) => return Err(incomplete("environment", id_var, secret_var)),
            (None, Some(_)) => return Err(incomplete("environment", secret_var, id_var)),
            (None, None) => {}
        }
    }

    let profile_env = env("ALIBABA_CLOUD_PROFILE");

    // 3. The aliyun CLI profile file.
    let ignore_profile = env("ALIBABA_CLOUD_IGNORE_PROFILE").is_some_and(|v| v == "TRUE");
    if let (false, Some(home)) = (ignore_profile, &inputs.home) {
        let path = home.join(".aliyun").join("config.json");
        if path.exists() {
            return from_aliyun_config(&path, profile_env.as_deref());
        }
    }

    // 4. The credentials ini file.
    let ini_path = env("ALIBABA_CLOUD_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| {
            inputs
                .home
                .as_ref()
                .map(|h| h.join(".alibabacloud").join("credentials"))
        });
    if let Some(path) = ini_path {
        if path.exists() {
            let section = profile_env.unwrap_or_else(|| "default".to_string());
            return from_credentials_ini(&path, &section);
        }
        if env("ALIBABA_CLOUD_CREDENTIALS_FILE").is_some() {
            return Err(CredentialsError::File {
                path: path.display().to_string(),
                detail: "ALIBABA_CLOUD_CREDENTIALS_FILE names a file that does not exist".into(),
            });
        }
    }
    Err(CredentialsError::NotFound)
}

fn incomplete(source: &str, present: &str, missing: &str) -> CredentialsError {
    CredentialsError::Incomplete {
        source_name: source.to_string(),
        present: present.to_string(),
        missing: missing.to_string(),
    }
}

fn read_file(path: &Path) -> Result<String, CredentialsError> {
    std::fs::read_to_string(path).map_err(|e| CredentialsError::File {
        path: path.display().to_string(),
        detail: format!("cannot read: {e}"),
    })
}

/// Read credentials from an aliyun CLI `config.json` (profile `profile`, or `current`).
pub fn from_aliyun_config(
    path: &Path,
    profile: Option<&str>,
) -> Result<Credentials, CredentialsError> {
    #[derive(serde::Deserialize)]
    struct Config {
        #[serde(default)]
        current: String,
        #[serde(default)]
        profiles: Vec<Profile>,
    }
    #[derive(serde::Deserialize)]
    struct Profile {
        name: String,
        #[serde(default)]
        mode: String,
        #[serde(default)]
        access_key_id: String,
        #[serde(default)]
        access_key_secret: String,
        #[serde(default)]
        sts_token: String,
    }
    let file_err = |detail: String| CredentialsError::File {
        path: path.display().to_string(),
        detail,
    };
    let text = read_file(path)?;
    // serde_json's messages quote no input, so no secret can leak through them.
    let config: Config = serde_json::from_str(&text)
        .map_err(|e| file_err(format!("not a valid aliyun CLI config: {e}")))?;
    let wanted = profile
        .map(str::to_string)
        .or_else(|| (!config.current.is_empty()).then(|| config.current.clone()))
        .unwrap_or_else(|| "default".to_string());
    let Some(p) = config.profiles.iter().find(|p| p.name == wanted) else {
        return Err(CredentialsError::NoSuchProfile {
            path: path.display().to_string(),
            profile: wanted,
            available: config
                .profiles
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let mode = if p.mode.is_empty() {
        "AK"
    } else {
        p.mode.as_str()
    };
    let source = CredentialSource::AliyunProfile {
        path: path.to_path_buf(),
        profile: wanted.clone(),
    };
    let pair = |what: &str| -> Result<(), CredentialsError> {
        if p.access_key_id.is_empty() || p.access_key_secret.is_empty() {
            Err(file_err(format!(
                "profile {wanted:?} (mode {what}) needs access_key_id and access_key_secret"
            )))
        } else {
            Ok(())
        }
    };
    match mode {
        "AK" => {
            pair("AK")?;
            Ok(Credentials::new(
                &p.access_key_id,
                &p.access_key_secret,
                source,
            ))
        }
        "StsToken" => {
            pair("StsToken")?;
            if p.sts_token.is_empty() {
                return Err(file_err(format!(
                    "profile {wanted:?} (mode StsToken) has no sts_token"
                )));
            }
            let mut c = Credentials::new(&p.access_key_id, &p.access_key_secret, source);
            c.security_token = Some(Secret::new(&p.sts_token));
            Ok(c)
        }
        other => Err(CredentialsError::UnsupportedMode {
            path: path.display().to_string(),
            profile: wanted.clone(),
            mode: other.to_string(),
        }),
    }
}

/// Parse a minimal INI file: `[section]` headers and `key = value` lines; `#` and `;` start
/// comments (also after a value, as in the documented example).
fn parse_ini(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
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

/// Read credentials from the credentials ini file, section `section`.
pub fn from_credentials_ini(path: &Path, section: &str) -> Result<Credentials, CredentialsError> {
    let text = read_file(path)?;
    let ini = parse_ini(&text);
    let Some(s) = ini.get(section) else {
        return Err(CredentialsError::NoSuchProfile {
            path: path.display().to_string(),
            profile: section.to_string(),
            available: ini
                .keys()
                .filter(|k| !k.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let ty = s.get("type").map(String::as_str).unwrap_or("access_key");
    let source = CredentialSource::CredentialsFile {
        path: path.to_path_buf(),
        section: section.to_string(),
    };
    let get = |k: &str| s.get(k).filter(|v| !v.is_empty()).cloned();
    match ty {
        "access_key" | "sts" => {
            let (Some(id), Some(secret)) = (get("access_key_id"), get("access_key_secret")) else {
                return Err(CredentialsError::File {
                    path: path.display().to_string(),
                    detail: format!(
                        "section [{section}] needs access_key_id and access_key_secret"
                    ),
                });
            };
            let mut c = Credentials::new(id, secret, source);
            if ty == "sts" {
                let token = get("security_token")
                    .or_else(|| get("sts_token"))
                    .ok_or_else(|| CredentialsError::File {
                        path: path.display().to_string(),
                        detail: format!("section [{section}] (type sts) has no security_token"),
                    })?;
                c.security_token = Some(Secret::new(token));
            }
            Ok(c)
        }
        other => Err(CredentialsError::UnsupportedMode {
            path: path.display().to_string(),
            profile: section.to_string(),
            mode: other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(
        explicit: ExplicitCredentials,
        vars: &[(&str, &str)],
        home: Option<&Path>,
    ) -> Result<Credentials, CredentialsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = move |k: &str| map.get(k).cloned();
        resolve(&ChainInputs {
            explicit,
            env: &env,
            home: home.map(Path::to_path_buf),
        })
    }

    fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    const CONFIG: &str = r#"{ "current": "work",
      "profiles": [
        { "name": "default", "mode": "AK", "access_key_id": "AK-DEF", "access_key_secret": "sec-def", "region_id": "cn-hangzhou" },
        { "name": "work", "mode": "StsToken", "access_key_id": "STS.ID", "access_key_secret": "sec-work", "sts_token": "tok-work" },
        { "name": "role", "mode": "RamRoleArn", "access_key_id": "x", "access_key_secret": "y", "ram_role_arn": "acs:ram::1:role/r" }
      ], "meta_path": "" }"#;

    #[test]
    fn flags_win_over_everything() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".aliyun/config.json", CONFIG);
        let c = run(
            ExplicitCredentials {
                access_key_id: Some("FLAG".into()),
                access_key_secret: Some(Secret::new("flag-secret")),
                security_token: None,
            },
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
            ],
            Some(home.path()),
        )
        .unwrap();
        assert_eq!(c.access_key_id, "FLAG");
        assert_eq!(c.source, CredentialSource::Flags);
    }

    #[test]
    fn half_a_flag_pair_is_an_error() {
        let err = run(
            ExplicitCredentials {
                access_key_id: Some("FLAG".into()),
                ..Default::default()
            },
            &[],
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("--access-key-secret"), "{err}");
    }

    #[test]
    fn environment_with_security_token() {
        let c = run(
            ExplicitCredentials::default(),
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
                ("ALIBABA_CLOUD_SECURITY_TOKEN", "env-token"),
            ],
            None,
        )
        .unwrap();
        assert_eq!(c.access_key_id, "ENV");
        assert_eq!(c.access_key_secret.expose(), "env-secret");
        assert_eq!(c.security_token.unwrap().expose(), "env-token");
        assert_eq!(c.source, CredentialSource::Environment);
    }

    #[test]
    fn legacy_environment_names() {
        let c = run(
            ExplicitCredentials::default(),
            &[
                ("ALICLOUD_ACCESS_KEY", "OLD"),
                ("ALICLOUD_SECRET_KEY", "old-secret"),
            ],
            None,
        )
        .unwrap();
        assert_eq!(c.access_key_id, "OLD");
    }

    #[test]
    fn environment_missing_secret_is_named() {
        let err = run(
            ExplicitCredentials::default(),
            &[("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV")],
            None,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
            "{err}"
        );
    }

    #[test]
    fn aliyun_profile_current_and_named() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".aliyun/config.json", CONFIG);
        let c = run(ExplicitCredentials::default(), &[], Some(home.path())).unwrap();
        assert_eq!(c.access_key_id, "STS.ID");
        assert_eq!(c.security_token.as_ref().unwrap().expose(), "tok-work");
        let c = run(
            ExplicitCredentials::default(),
            &[("ALIBABA_CLOUD_PROFILE", "default")],
            Some(home.path()),
        )
        .unwrap();
        assert_eq!(c.access_key_id, "AK-DEF");
        assert!(c.security_token.is_none());
        assert!(
            matches!(c.source, CredentialSource::AliyunProfile { ref profile, .. } if profile == "default")
        );
    }

    #[test]
    fn environment_wins_over_profile_and_ignore_profile_skips_it() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".aliyun/config.json", CONFIG);
        write(
            home.path(),
            ".alibabacloud/credentials",
            "[default]\naccess_key_id = INI\naccess_key_secret = ini-secret\n",
        );
        let c = run(
            ExplicitCredentials::default(),
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ENV"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s"),
            ],
            Some(home.path()),
        )
        .unwrap();
        assert_eq!(c.access_key_id, "ENV");
        let c = run(
            ExplicitCredentials::default(),
            &[("ALIBABA_CLOUD_IGNORE_PROFILE", "TRUE")],
            Some(home.path()),
        )
        .unwrap();
        assert_eq!(c.access_key_id, "INI");
    }

    #[test]
    fn unsupported_profile_mode_is_clear() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".aliyun/config.json", CONFIG);
        let err = run(
            ExplicitCredentials::default(),
            &[("ALIBABA_CLOUD_PROFILE", "role")],
            Some(home.path()),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("RamRoleArn") && msg.contains("not support yet"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_profile_lists_the_available_ones() {
        let home = tempfile::tempdir().unwrap();
        write(home.path(), ".aliyun/config.json", CONFIG);
        let err = run(
            ExplicitCredentials::default(),
            &[("ALIBABA_CLOUD_PROFILE", "nope")],
            Some(home.path()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("default, work, role"), "{err}");
    }

    #[test]
    fn broken_config_json_does_not_leak_secrets() {
        let home = tempfile::tempdir().unwrap();
        write(
            home.path(),
            ".aliyun/config.json",
            r#"{"profiles": [{"name": "default", "access_key_secret": "TOPSECRET" "#,
        );
        let err = run(ExplicitCredentials::default(), &[], Some(home.path())).unwrap_err();
        assert!(!err.to_string().contains("TOPSECRET"), "{err}");
        assert!(err.to_string().contains("config.json"));
    }

    #[test]
    fn credentials_ini_default_and_sts_sections() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "creds",
            "# comment\n[default]\ntype = access_key          # inline comment\naccess_key_id = foo\naccess_key_secret = bar\n\n[tmp]\ntype = sts\naccess_key_id = STS.x\naccess_key_secret = y\nsecurity_token = z\n",
        );
        let p = path.to_str().unwrap();
        let c = run(
            ExplicitCredentials::default(),
            &[("ALIBABA_CLOUD_CREDENTIALS_FILE", p)],
            None,
        )
        .unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.access_key_secret.expose()),
            ("foo", "bar")
        );
        let c = run(
            ExplicitCredentials::default(),
            &[
                ("ALIBABA_CLOUD_CREDENTIALS_FILE", p),
                ("ALIBABA_CLOUD_PROFILE", "tmp"),
            ],
            None,
        )
        .unwrap();
        assert_eq!(c.security_token.unwrap().expose(), "z");
    }

    #[test]
    fn credentials_ini_in_home() {
        let home = tempfile::tempdir().unwrap();
        write(
            home.path(),
            ".alibabacloud/credentials",
            "[default]\naccess_key_id = H\naccess_key_secret = hs\n",
        );
        let c = run(ExplicitCredentials::default(), &[], Some(home.path())).unwrap();
        assert_eq!(c.access_key_id, "H");
        let ini_type = write(
            home.path(),
            "other",
            "[default]\ntype = ecs_ram_role\nrole_name = r\n",
        );
        let err = run(
            ExplicitCredentials::default(),
            &[("ALIBABA_CLOUD_CREDENTIALS_FILE", ini_type.to_str().unwrap())],
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("ecs_ram_role"), "{err}");
    }

    #[test]
    fn nothing_anywhere() {
        let home = tempfile::tempdir().unwrap();
        let err = run(ExplicitCredentials::default(), &[], Some(home.path())).unwrap_err();
        assert_eq!(err, CredentialsError::NotFound);
    }

    #[test]
    fn secrets_never_show_in_debug_or_display() {
        let mut c = Credentials::new("AKID", "very-secret-value", CredentialSource::Flags);
        c.security_token = Some(Secret::new("very-secret-token"));
        let shown = format!("{c:?} {} {:?}", c.access_key_secret, c.security_token);
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("AKID"));
    }
}
