//! The ECS instance RAM role, from the instance metadata service (SDK
//! `provider/ecs_ram_role.py`): step 5 of the chain, the `EcsRamRole` profile mode and the
//! `ecs_ram_role` credentials file type.
//!
//! IMDSv2 first: `PUT /latest/api/token` (header `X-aliyun-ecs-metadata-token-ttl-seconds`)
//! gives a token sent as `X-aliyun-ecs-metadata-token` with the reads; without one the reads
//! go out plain (IMDSv1) unless `ALIBABA_CLOUD_IMDSV1_DISABLED=true`. The role name is
//! `ALIBABA_CLOUD_ECS_METADATA` (or the profile's), else the one listed at
//! `/latest/meta-data/ram/security-credentials/`; its credentials are at
//! `/latest/meta-data/ram/security-credentials/<role>`. The service lives at
//! `http://100.100.100.200`; `DECOM_ECS_METADATA_URL` overrides it (tests point it at the
//! emulator on loopback). `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` turns the source off.

use std::sync::Arc;

use super::provider::{Fetch, Fetched};
use super::{
    CredentialSource, Credentials, CredentialsError, ECS_METADATA_URL, ECS_METADATA_URL_VAR,
    Secret, non_empty,
};
use crate::api::endpoint::BaseUrl;
use crate::api::{BoxFuture, Transport, WireRequest, WireResponse};

/// Lifetime asked for an IMDSv2 token (the SDK's 21600 s).
pub const TOKEN_TTL_SECONDS: u32 = 21600;

const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";

/// Whether `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`.
pub fn disabled(env: &dyn Fn(&str) -> Option<String>) -> bool {
    non_empty(env("ALIBABA_CLOUD_ECS_METADATA_DISABLED"))
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The metadata service's base URL (`DECOM_ECS_METADATA_URL`, else the real address).
pub fn base_url(env: &dyn Fn(&str) -> Option<String>) -> Result<BaseUrl, CredentialsError> {
    let raw = non_empty(env(ECS_METADATA_URL_VAR)).unwrap_or_else(|| ECS_METADATA_URL.into());
    let url = reqwest::Url::parse(&raw).map_err(|e| CredentialsError::Config {
        source_name: ECS_METADATA_URL_VAR.into(),
        detail: format!("{raw:?} is not a URL: {e}"),
    })?;
    let host = url.host_str().unwrap_or_default();
    Ok(BaseUrl {
        scheme: url.scheme().to_string(),
        host: match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        },
    })
}

/// Credentials of the instance's RAM role.
pub struct EcsRole {
    transport: Arc<dyn Transport>,
    base: BaseUrl,
    role: Option<String>,
    imds_v1_disabled: bool,
    what: String,
}

impl EcsRole {
    /// A source for `role` (discovered when `None`), unless the variables disable it.
    pub fn new(
        transport: Arc<dyn Transport>,
        env: &dyn Fn(&str) -> Option<String>,
        role: Option<String>,
        what: String,
    ) -> Result<EcsRole, CredentialsError> {
        if disabled(env) {
            return Err(CredentialsError::Config {
                source_name: what,
                detail: "disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED=true".into(),
            });
        }
        Ok(EcsRole {
            transport,
            base: base_url(env)?,
            role: role
                .and_then(|r| non_empty(Some(r)))
                .or_else(|| non_empty(env("ALIBABA_CLOUD_ECS_METADATA"))),
            imds_v1_disabled: non_empty(env("ALIBABA_CLOUD_IMDSV1_DISABLED"))
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            what,
        })
    }

    fn request(&self, method: &str, path: &str, headers: Vec<(String, String)>) -> WireRequest {
        let mut all = vec![("host".to_string(), self.base.host.clone())];
        all.extend(headers);
        WireRequest {
            method: method.into(),
            scheme: self.base.scheme.clone(),
            host: self.base.host.clone(),
            path: path.into(),
            query: Vec::new(),
            headers: all,
            body: Vec::new(),
        }
    }

    async fn send(&self, req: WireRequest) -> Result<WireResponse, String> {
        let what = format!("{} {}{}", req.method, self.base, req.path);
        let resp = self
            .transport
            .send(req)
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        if resp.status != 200 {
            return Err(format!("{what}: HTTP {}", resp.status));
        }
        Ok(resp)
    }

    /// The IMDSv2 token, or `None` to go on without one (IMDSv1).
    async fn token(&self) -> Result<Option<Secret>, String> {
        let req = self.request(
            "PUT",
            "/latest/api/token",
            vec![(
                "x-aliyun-ecs-metadata-token-ttl-seconds".into(),
                TOKEN_TTL_SECONDS.to_string(),
            )],
        );
        match self.send(req).await {
            Ok(resp) => Ok(Some(Secret::new(
                String::from_utf8_lossy(&resp.body).trim().to_string(),
            ))),
            Err(e) if self.imds_v1_disabled => Err(format!(
                "no IMDSv2 token ({e}) and ALIBABA_CLOUD_IMDSV1_DISABLED=true"
            )),
            Err(e) => {
                tracing::debug!(error = %e, "no IMDSv2 token; trying IMDSv1");
                Ok(None)
            }
        }
    }

    async fn get(&self, path: &str, token: &Option<Secret>) -> Result<WireResponse, String> {
        let headers = token
            .iter()
            .map(|t| {
                (
                    "x-aliyun-ecs-metadata-token".to_string(),
                    t.expose().to_string(),
                )
            })
            .collect();
        self.send(self.request("GET", path, headers)).await
    }
}

/// The metadata answer for a role (its `Code` is `Success` when it worked).
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    #[serde(default)]
    code: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    security_token: String,
    #[serde(default)]
    expiration: String,
}

/// Parse a metadata or credentials-URI answer (`Code`, `AccessKeyId`, `AccessKeySecret`,
/// `SecurityToken`, `Expiration`) without ever quoting it.
pub(crate) fn parse_answer(body: &[u8], source: CredentialSource) -> Result<Fetched, String> {
    let a: Answer = serde_json::from_slice(body).map_err(
        |_| "the answer is not the documented JSON (not quoted: it carries credentials)",
    )?;
    if a.code != "Success" {
        return Err(format!(
            "the answer's Code is {:?}, not \"Success\"",
            a.code
        ));
    }
    if a.access_key_id.is_empty() || a.access_key_secret.is_empty() || a.security_token.is_empty() {
        return Err("the answer lacks AccessKeyId, AccessKeySecret or SecurityToken".into());
    }
    let expiration = super::parse_expiration(&a.expiration)
        .ok_or_else(|| format!("the answer's Expiration {:?} is not a time", a.expiration))?;
    Ok(Fetched {
        credentials: Credentials {
            access_key_id: a.access_key_id,
            access_key_secret: Secret::new(a.access_key_secret),
            security_token: Some(Secret::new(a.security_token)),
            source,
        },
        expiration: Some(expiration),
    })
}

impl Fetch for EcsRole {
    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        Box::pin(async move {
            let err = |detail: String| CredentialsError::Fetch {
                source_name: self.what.clone(),
                detail,
            };
            let token = self.token().await.map_err(err)?;
            let role = match &self.role {
                Some(r) => r.clone(),
                None => {
                    let resp = self.get(CREDENTIALS_PATH, &token).await.map_err(err)?;
                    let text = String::from_utf8_lossy(&resp.body);
                    text.lines()
                        .map(str::trim)
                        .find(|l| !l.is_empty())
                        .map(str::to_string)
                        .ok_or_else(|| err("the instance has no RAM role attached".into()))?
                }
            };
            let resp = self
                .get(&format!("{CREDENTIALS_PATH}{role}"), &token)
                .await
                .map_err(err)?;
            parse_answer(&resp.body, CredentialSource::EcsRamRole { role }).map_err(err)
        })
    }

    fn describe(&self) -> String {
        match &self.role {
            Some(r) => format!("{} (role {r})", self.what),
            None => self.what.clone(),
        }
    }
}
