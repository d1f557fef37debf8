//! The Alibaba Cloud RPC layer.
//!
//! One seam: an [`ApiRequest`] (product, action, region, params) goes in, a JSON value or a
//! [`CallError`] comes out. In between the client picks the endpoint, signs (V3 by default,
//! V1 on request) with a fresh nonce and timestamp on every attempt, sends through a
//! [`Transport`] (HTTPS, or the in-process emulator), parses the documented error shape and
//! retries what is safe to retry.
//!
//! Reads and writes are separate capabilities: a [`ReadClient`] refuses every mutating
//! action, and only a [`WriteClient`] (which `apply` alone builds) can send one. A
//! `ReadClient` can never be turned into a `WriteClient`.

pub mod actions;
pub mod contract;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod http;
pub mod ops;
pub mod redact;
pub mod sign;
pub mod wire;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use credentials::{Credentials, CredentialsProvider, Secret};
pub use endpoint::Endpoints;
pub use error::{ApiError, CallError, ErrorClass};
pub use sign::SignatureVersion;
pub use wire::{WireRequest, WireResponse};

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("decom/", env!("CARGO_PKG_VERSION"));

/// A boxed, sendable future (what [`Transport::send`] returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An Alibaba Cloud product decom talks to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Product {
    /// VPC: Express Connect, VBRs, router interfaces, BGP, IPsec-VPN (2016-04-28).
    Vpc,
    /// CEN / transit routers (2017-09-12).
    Cbn,
    /// Security Token Service (2015-04-01).
    Sts,
    /// Express Connect Router (2023-09-01, one global endpoint). Its operations carry their
    /// parameters in a form body, not the query (the SDK model marks them `in: body`).
    ExpressConnectRouter,
}

impl Product {
    /// The API version string of this product.
    pub fn version(self) -> &'static str {
        match self {
            Product::Vpc => "2016-04-28",
            Product::Cbn => "2017-09-12",
            Product::Sts => "2015-04-01",
            Product::ExpressConnectRouter => "2023-09-01",
        }
    }

    /// True when the product's operations send their own parameters in an
    /// `application/x-www-form-urlencoded` body (ExpressConnectRouter: every request
    /// parameter of its SDK models is `in: body`, tests/data/api-contract.json).
    pub fn form_body(self) -> bool {
        self == Product::ExpressConnectRouter
    }

    /// The product whose API version this is.
    pub fn from_version(version: &str) -> Option<Product> {
        [
            Product::Vpc,
            Product::Cbn,
            Product::Sts,
            Product::ExpressConnectRouter,
        ]
        .into_iter()
        .find(|p| p.version() == version)
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Product::Vpc => "Vpc",
            Product::Cbn => "Cbn",
            Product::Sts => "Sts",
            Product::ExpressConnectRouter => "ExpressConnectRouter",
        })
    }
}

impl std::str::FromStr for Product {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "vpc" => Ok(Product::Vpc),
            "cbn" | "cen" => Ok(Product::Cbn),
            "sts" => Ok(Product::Sts),
            "expressconnectrouter" | "ecr" => Ok(Product::ExpressConnectRouter),
            other => Err(format!(
                "unknown product {other:?}: use Vpc, Cbn, Sts or ExpressConnectRouter"
            )),
        }
    }
}

/// One API call, before signing.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiRequest {
    /// The product (and so the API version and endpoint).
    pub product: Product,
    /// The action name, e.g. `DescribePhysicalConnections`.
    pub action: String,
    /// The region whose endpoint serves the call (Vpc); also sent as `RegionId` when the
    /// params do not already carry one and the product is regional.
    pub region: Option<String>,
    /// The API's own parameters, flattened (`Filter.1.Key`, ...), in insertion order.
    pub params: Vec<(String, String)>,
}

/// Parameters whose values are secrets (`AssumeRoleWithOIDC`'s token): `Debug` hides them.
const SECRET_PARAMS: &[&str] = &["OIDCToken"];

impl fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: Vec<(&str, &str)> = self
            .params
            .iter()
            .map(|(k, v)| {
                let shown = if SECRET_PARAMS.contains(&k.as_str()) {
                    "***"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("ApiRequest")
            .field("product", &self.product)
            .field("action", &self.action)
            .field("region", &self.region)
            .field("params", &params)
            .finish()
    }
}

impl ApiRequest {
    /// A request with no parameters.
    pub fn new(product: Product, action: impl Into<String>) -> Self {
        ApiRequest {
            product,
            action: action.into(),
            region: None,
            params: Vec::new(),
        }
    }

    /// Set the region (endpoint selection; `RegionId` for Vpc).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Add a parameter.
    pub fn param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((key.into(), value.into()));
        self
    }

    /// Add a parameter when there is a value.
    pub fn opt_param(self, key: impl Into<String>, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.param(key, v),
            None => self,
        }
    }

    /// The value of a parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The region this call is about: `region`, else the `RegionId` parameter.
    pub fn effective_region(&self) -> Option<&str> {
        self.region.as_deref().or_else(|| self.get("RegionId"))
    }
}

/// A transport failure: no usable HTTP answer at all.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{detail}")]
pub struct TransportError {
    /// What happened, readable, without the URL (its query holds signatures).
    pub detail: String,
    /// True when trying again cannot help: the server's certificate was refused, or the
    /// TLS handshake failed. The call fails at once instead of being retried.
    pub permanent: bool,
}

impl TransportError {
    /// A failure worth retrying (connect, timeout, a connection closed mid-answer).
    pub fn new(detail: impl Into<String>) -> Self {
        TransportError {
            detail: detail.into(),
            permanent: false,
        }
    }

    /// A failure retrying cannot fix (certificate, TLS handshake).
    pub fn permanent(detail: impl Into<String>) -> Self {
        TransportError {
            detail: detail.into(),
            permanent: true,
        }
    }
}

/// Sends one signed request and returns the raw answer. HTTPS and the in-process emulator
/// implement it.
pub trait Transport: Send + Sync + 'static {
    /// Send `req` and return the HTTP answer.
    fn send(&self, req: WireRequest) -> BoxFuture<'_, Result<WireResponse, TransportError>>;
}

/// The default read deadline: how long a read keeps retrying throttling and transient
/// errors (`--read-timeout`).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(300);

/// How the client retries on its own: only what is safe, always re-signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total of a write (1 = no retry), and of a read without `read_timeout`.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles each time.
    pub base_delay: Duration,
    /// Upper bound of one delay.
    pub max_delay: Duration,
    /// Reads retry throttling and transient errors until this long after their first
    /// attempt was sent (whatever `max_attempts` says; a first attempt's wait for its turn
    /// at a throttled action does not count), paced by the adaptive slow-down the executor
    /// uses once the API throttles them. `None`: reads are capped by `max_attempts` too.
    pub read_timeout: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            read_timeout: Some(DEFAULT_READ_TIMEOUT),
        }
    }
}

impl RetryPolicy {
    /// No retries at all (the executor's own policy takes over).
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            read_timeout: None,
            ..Default::default()
        }
    }

    /// The delay after failed attempt `attempt` (1-based): base × 2^(attempt-1), capped.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Everything a client needs besides its transport.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Where requests go.
    pub endpoints: Endpoints,
    /// Who signs them: fixed credentials (`Credentials::into()`) or a refreshing source.
    pub credentials: CredentialsProvider,
    /// V3 (default) or V1.
    pub signature: SignatureVersion,
    /// The client's own retries.
    pub retry: RetryPolicy,
}

/// Calls per action, for reports and the benchmark.
pub type CallCounts = BTreeMap<String, u64>;

struct Inner {
    transport: Arc<dyn Transport>,
    config: ClientConfig,
    /// Attempts sent per action (every retry counts: the API sees each one).
    counts: Mutex<CallCounts>,
    /// The adaptive slow-down of calls the API throttled (keys it never throttled are not
    /// paced).
    pace: crate::exec::limiter::Limiter,
    /// Requests in flight at once, whatever fans them out ([`MAX_IN_FLIGHT`]).
    in_flight: tokio::sync::Semaphore,
    /// Requests of one (product, region, action) in flight at once, for the reads paced
    /// here ([`MAX_IN_FLIGHT_PER_ACTION`]).
    per_action: Mutex<
        std::collections::HashMap<crate::exec::limiter::LimitKey, Arc<tokio::sync::Semaphore>>,
    >,
}

/// The most requests one client has in flight at once (discovery's waves, regions, parents
/// and pages all fan out; this bounds the sockets and the burst the API sees).
pub const MAX_IN_FLIGHT: usize = 128;

/// The most reads of one (product, region, action) one client has in flight at once: no
/// action takes every slot of [`MAX_IN_FLIGHT`], and when the API starts throttling an
/// action it has not paced yet, at most this many calls were already on their way to be
/// refused (32 at a 100 ms round trip is 320 calls/s, past every documented quota).
pub const MAX_IN_FLIGHT_PER_ACTION: usize = 32;

/// The priority of a read's retry at the pacer of a throttled action: before the first
/// attempts queued there.
const RETRY_PRIORITY: u64 = 1;

/// A client that can only read: every mutating action is refused before anything is sent.
/// This is what `plan`, `graph` and discovery hold.
#[derive(Clone)]
pub struct ReadClient {
    inner: Arc<Inner>,
}

/// A client that can read and write. Only `apply` (and `decom api --allow-mutation`) builds
/// one; it hands out [`ReadClient`]s for discovery.
#[derive(Clone)]
pub struct WriteClient {
    read: ReadClient,
}

impl fmt::Debug for ReadClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadClient")
            .field("endpoints", &self.inner.config.endpoints)
            .field("credentials", &self.inner.config.credentials)
            .finish()
    }
}

impl fmt::Debug for WriteClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteClient").field(&self.read).finish()
    }
}

impl WriteClient {
    /// Build a read-write client.
    pub fn new(config: ClientConfig, transport: Arc<dyn Transport>) -> Self {
        WriteClient {
            read: ReadClient::new(config, transport),
        }
    }

    /// The read capability of this client (shares its counters).
    pub fn reader(&self) -> ReadClient {
        self.read.clone()
    }

    /// Send any request, mutating or not.
    pub async fn call(&self, req: &ApiRequest) -> Result<serde_json::Value, CallError> {
        self.read.execute(req, Signing::Signed).await
    }
}

impl std::ops::Deref for WriteClient {
    type Target = ReadClient;
    fn deref(&self) -> &ReadClient {
        &self.read
    }
}

impl ReadClient {
    /// Build a read-only client.
    pub fn new(config: ClientConfig, transport: Arc<dyn Transport>) -> Self {
        ReadClient {
            inner: Arc::new(Inner {
                transport,
                config,
                counts: Mutex::new(BTreeMap::new()),
                pace: crate::exec::limiter::Limiter::new(1.0, Default::default()),
                in_flight: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
                per_action: Mutex::new(std::collections::HashMap::new()),
            }),
        }
    }

    /// Send a read request; a mutating action is refused with [`CallError::ReadOnly`].
    pub async fn call(&self, req: &ApiRequest) -> Result<serde_json::Value, CallError> {
        if actions::access_of(&req.action) != actions::Access::Read {
            return Err(CallError::ReadOnly {
                action: req.action.clone(),
            });
        }
        self.execute(req, Signing::Signed).await
    }

    /// Send a read request without any signature (STS `AssumeRoleWithOIDC`, whose SDK
    /// operation has `auth_type = 'Anonymous'`): no credentials are needed or sent.
    pub async fn call_anonymous(&self, req: &ApiRequest) -> Result<serde_json::Value, CallError> {
        if actions::access_of(&req.action) != actions::Access::Read {
            return Err(CallError::ReadOnly {
                action: req.action.clone(),
            });
        }
        self.execute(req, Signing::Anonymous).await
    }

    /// The configuration (endpoints, credentials, signature version).
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Attempts sent so far, per action.
    pub fn call_counts(&self) -> CallCounts {
        self.inner
            .counts
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// A slot among the [`MAX_IN_FLIGHT_PER_ACTION`] of `key`.
    async fn action_slot(
        &self,
        key: &crate::exec::limiter::LimitKey,
    ) -> tokio::sync::OwnedSemaphorePermit {
        let sem = self
            .inner
            .per_action
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.clone())
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT_PER_ACTION)))
            .clone();
        sem.acquire_owned().await.expect("never closed")
    }

    /// Send with the client's retry policy: throttling is always retried (the call was not
    /// applied); transient failures are retried for reads, and for writes only when they carry
    /// a ClientToken (so a retry cannot apply twice). Reads retry until the policy's
    /// `read_timeout`, writes up to `max_attempts`; an action the API throttled is paced
    /// from then on (halved on each throttling answer, recovering on success). A permanent
    /// refusal (auth, permission, not found) is returned at once. Every attempt is signed
    /// anew.
    ///
    /// An `InvalidSecurityToken.Expired` answer (the call was refused, nothing applied)
    /// makes the credentials refresh and the same request — same ClientToken — is sent once
    /// more, outside the retry budget: an expiry never fails a step.
    async fn execute(
        &self,
        req: &ApiRequest,
        signing: Signing,
    ) -> Result<serde_json::Value, CallError> {
        let policy = self.inner.config.retry;
        let mutating = actions::access_of(&req.action) == actions::Access::Mutate;
        let has_token = req.get("ClientToken").is_some();
        let read_timeout = policy.read_timeout.filter(|_| !mutating);
        // A read retries for `read_timeout` from its first send: the time its first attempt
        // waits for its turn at a throttled action does not count.
        let mut deadline: Option<tokio::time::Instant> = None;
        let key = (
            req.product,
            req.effective_region().unwrap_or("global").to_string(),
            req.action.clone(),
        );
        // Only reads that retry until a deadline are paced here; the executor paces its
        // own calls.
        let pace = read_timeout.map(|_| &self.inner.pace);
        let mut attempt = 1;
        let mut refreshed = false;
        let mut last: Option<CallError> = None;
        loop {
            // Whether this attempt waited its turn at the pacer.
            let mut paced = false;
            if let Some(pace) = pace {
                // A retry's turn at the pacer counts against the read's deadline (past it,
                // the last answer is the error) and comes before the first attempts queued
                // there (else a read that failed once waits behind every read of its action
                // not sent yet); a first attempt always waits its turn.
                paced = match (&last, deadline) {
                    (Some(_), Some(deadline)) => {
                        match tokio::time::timeout_at(
                            deadline,
                            pace.acquire_if_slowed(&key, RETRY_PRIORITY),
                        )
                        .await
                        {
                            Ok(p) => p,
                            Err(_) => return Err(last.take().expect("checked")),
                        }
                    }
                    _ => pace.acquire_if_slowed(&key, 0).await,
                };
            }
            let result = {
                let _action_slot = match pace {
                    Some(_) => Some(self.action_slot(&key).await),
                    None => None,
                };
                let _slot = self.inner.in_flight.acquire().await.expect("never closed");
                // An unpaced read that queued for a slot while the API began throttling its
                // action goes back to the pacer: sent now, it would only be throttled too.
                if let Some(pace) = pace
                    && !paced
                    && pace.is_slowed(&key)
                {
                    continue;
                }
                if let Some(t) = read_timeout {
                    deadline.get_or_insert_with(|| tokio::time::Instant::now() + t);
                }
                self.attempt(req, signing, attempt).await
            };
            last = None;
            let err = match result {
                Ok(v) => {
                    if let Some(pace) = pace {
                        pace.succeeded(&key);
                    }
                    return Ok(v);
                }
                Err(e) => e,
            };
            if err.code() == Some(error::EXPIRED_TOKEN)
                && !refreshed
                && self.inner.config.credentials.as_fixed().is_none()
            {
                refreshed = true;
                tracing::info!(action = %req.action, "security token expired; refreshing the credentials and sending again");
                continue;
            }
            let retryable = match err.class() {
                ErrorClass::Throttled => {
                    if let Some(pace) = pace
                        && pace.throttled_or_start(&key, paced)
                    {
                        tracing::warn!(
                            action = %req.action,
                            region = %key.1,
                            "the API throttles this action (its quota is per account and region): decom now paces it just under the documented rate, or 300 per 60 s where none is documented; reads of it wait their turn"
                        );
                    }
                    true
                }
                ErrorClass::Transient => !mutating || has_token,
                _ => false,
            };
            // A throttled read that the pacer now spaces waits its turn there: no growing
            // backoff on top (it would leave the key's quota unused while everyone sleeps).
            let delay = if err.class() == ErrorClass::Throttled && pace.is_some() {
                policy.base_delay
            } else {
                policy.delay(attempt)
            };
            let within = match deadline {
                Some(d) => tokio::time::Instant::now() + delay < d,
                None => read_timeout.is_none() && attempt < policy.max_attempts,
            };
            if !retryable || !within {
                return Err(err);
            }
            tracing::debug!(action = %req.action, attempt, error = %err, "retrying");
            tokio::time::sleep(delay).await;
            last = Some(err);
            attempt += 1;
        }
    }

    /// One attempt, signed with the credentials of the moment (or not at all); its error
    /// carries no secret (see [`redact`]). Logged at debug as one line (target
    /// `decom::api::call`): product, action, region, HTTP status, error code, request id,
    /// duration and attempt — never a parameter value or a signature.
    async fn attempt(
        &self,
        req: &ApiRequest,
        signing: Signing,
        attempt: u32,
    ) -> Result<serde_json::Value, CallError> {
        let creds = match signing {
            Signing::Signed => Some(self.inner.config.credentials.get().await.map_err(|e| {
                CallError::Credentials {
                    action: req.action.clone(),
                    source: e,
                }
            })?),
            Signing::Anonymous => None,
        };
        let mut secrets: Vec<&str> = Vec::new();
        if let Some(c) = &creds {
            secrets.push(c.access_key_secret.expose());
            if let Some(t) = &c.security_token {
                secrets.push(t.expose());
            }
        }
        let started = std::time::Instant::now();
        let result = self
            .attempt_raw(req, creds.as_ref())
            .await
            .map_err(|e| e.redacted(&secrets));
        if tracing::enabled!(target: "decom::api::call", tracing::Level::DEBUG) {
            let ms = started.elapsed().as_millis() as u64;
            let region = req.effective_region().unwrap_or("-");
            match &result {
                Ok(v) => tracing::debug!(
                    target: "decom::api::call",
                    product = %req.product,
                    action = %req.action,
                    region = %region,
                    status = 200u16,
                    request_id = %v.get("RequestId").and_then(|r| r.as_str()).unwrap_or("-"),
                    ms,
                    attempt,
                    "API call"
                ),
                Err(e) => tracing::debug!(
                    target: "decom::api::call",
                    product = %req.product,
                    action = %req.action,
                    region = %region,
                    status = e.api().map_or(0, |a| a.http_status),
                    code = %e.code().unwrap_or(match e {
                        CallError::Transport { .. } => "Transport",
                        CallError::Decode { .. } => "Decode",
                        _ => "Error",
                    }),
                    request_id = %e.api().and_then(|a| a.request_id.as_deref()).unwrap_or("-"),
                    ms,
                    attempt,
                    "API call failed"
                ),
            }
        }
        result
    }

    async fn attempt_raw(
        &self,
        req: &ApiRequest,
        creds: Option<&Credentials>,
    ) -> Result<serde_json::Value, CallError> {
        let config = &self.inner.config;
        let base = config
            .endpoints
            .resolve(req.product, req.effective_region())?;
        let wire = match creds {
            Some(creds) => build_signed(req, &base, creds, config.signature, &Nonce::fresh()),
            None => build_anonymous(req, &base, &Nonce::fresh()),
        };
        if let Ok(mut counts) = self.inner.counts.lock() {
            *counts.entry(req.action.clone()).or_default() += 1;
        }
        let resp = self
            .inner
            .transport
            .send(wire)
            .await
            .map_err(|e| CallError::Transport {
                action: req.action.clone(),
                endpoint: base.to_string(),
                detail: e.detail,
                permanent: e.permanent,
            })?;
        if !(200..300).contains(&resp.status) {
            let err = error::parse_error_response(&req.action, resp.status, &resp.body);
            if let (Some(error::EXPIRED_TOKEN), Some(used)) = (err.code(), creds) {
                config.credentials.expired(used).await;
            }
            return Err(err);
        }
        serde_json::from_slice(&resp.body).map_err(|e| CallError::Decode {
            action: req.action.clone(),
            status: resp.status,
            excerpt: format!(
                "{}: {}",
                if e.is_eof() {
                    "truncated JSON"
                } else {
                    "not JSON"
                },
                if actions::returns_credentials(&req.action) {
                    "(not quoted: the answer carries credentials)".to_string()
                } else {
                    error::excerpt(&resp.body)
                }
            ),
        })
    }
}

/// Whether an attempt is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signing {
    /// With the client's credentials (every action but one).
    Signed,
    /// Not at all (`AssumeRoleWithOIDC`).
    Anonymous,
}

/// Build an unsigned wire request, like the SDK's `auth_type = 'Anonymous'` RPC calls:
/// `POST /` with the parameters in the query and the V3 `x-acs-*` headers, but no
/// `Authorization` and no access key.
pub fn build_anonymous(req: &ApiRequest, base: &endpoint::BaseUrl, nonce: &Nonce) -> WireRequest {
    let mut params = req.params.clone();
    params.sort();
    WireRequest {
        method: "POST".into(),
        scheme: base.scheme.clone(),
        host: base.host.clone(),
        path: "/".into(),
        query: params,
        headers: vec![
            ("host".into(), base.host.clone()),
            ("accept".into(), "application/json".into()),
            ("user-agent".into(), USER_AGENT.into()),
            ("x-acs-action".into(), req.action.clone()),
            ("x-acs-version".into(), req.product.version().into()),
            ("x-acs-date".into(), nonce.timestamp.clone()),
            ("x-acs-signature-nonce".into(), nonce.nonce.clone()),
            ("x-acs-content-sha256".into(), sign::EMPTY_SHA256.into()),
        ],
        body: Vec::new(),
    }
}

/// The per-attempt values of a signature: a nonce and a timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nonce {
    /// `SignatureNonce` / `x-acs-signature-nonce`.
    pub nonce: String,
    /// `Timestamp` / `x-acs-date`, `yyyy-MM-ddTHH:mm:ssZ`.
    pub timestamp: String,
}

impl Nonce {
    /// A random nonce and the current UTC time.
    pub fn fresh() -> Self {
        Nonce {
            nonce: uuid::Uuid::new_v4().simple().to_string(),
            timestamp: jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
        }
    }
}

/// Build the signed wire request: `POST /` with every parameter in the query and an empty
/// body, like the official SDKs — except for products whose parameters go in a form body
/// ([`Product::form_body`]): there the operation's own parameters are sent as an
/// `application/x-www-form-urlencoded` body. V3 puts the action, version, date, nonce and
/// body hash in signed `x-acs-*` headers (the body is covered by `x-acs-content-sha256`,
/// which is both a signed header and the payload hash of the canonical request, and by
/// the signed `content-type`); V1 puts the common parameters in the query and signs them
/// together with the body's parameters (the RPC string-to-sign covers query and form).
pub fn build_signed(
    req: &ApiRequest,
    base: &endpoint::BaseUrl,
    creds: &Credentials,
    version: SignatureVersion,
    nonce: &Nonce,
) -> WireRequest {
    let mut params = req.params.clone();
    if let (Product::Vpc, None, Some(region)) = (req.product, req.get("RegionId"), &req.region) {
        params.push(("RegionId".into(), region.clone()));
    }
    let mut wire = WireRequest {
        method: "POST".into(),
        scheme: base.scheme.clone(),
        host: base.host.clone(),
        path: "/".into(),
        query: Vec::new(),
        headers: vec![
            ("host".into(), base.host.clone()),
            ("accept".into(), "application/json".into()),
            ("user-agent".into(), USER_AGENT.into()),
        ],
        body: Vec::new(),
    };
    let form = req.product.form_body();
    if form {
        wire.body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter())
            .finish()
            .into_bytes();
        wire.headers.push((
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
    }
    match version {
        SignatureVersion::V3 => {
            params.sort();
            let payload_hash = if form {
                sign::sha256_hex(&wire.body)
            } else {
                wire.query = params;
                sign::EMPTY_SHA256.to_string()
            };
            wire.headers.extend([
                ("x-acs-action".to_string(), req.action.clone()),
                (
                    "x-acs-version".to_string(),
                    req.product.version().to_string(),
                ),
                ("x-acs-date".to_string(), nonce.timestamp.clone()),
                ("x-acs-signature-nonce".to_string(), nonce.nonce.clone()),
                ("x-acs-content-sha256".to_string(), payload_hash),
            ]);
            if let Some(token) = &creds.security_token {
                wire.headers
                    .push(("x-acs-security-token".into(), token.expose().to_string()));
            }
            sign::sign_v3(
                &mut wire,
                &creds.access_key_id,
                creds.access_key_secret.expose(),
            );
        }
        SignatureVersion::V1 => {
            let mut all: Vec<(String, String)> = vec![
                ("Action".into(), req.action.clone()),
                ("Version".into(), req.product.version().into()),
                ("Format".into(), "JSON".into()),
                ("AccessKeyId".into(), creds.access_key_id.clone()),
                ("SignatureMethod".into(), "HMAC-SHA1".into()),
                ("SignatureVersion".into(), "1.0".into()),
                ("SignatureNonce".into(), nonce.nonce.clone()),
                ("Timestamp".into(), nonce.timestamp.clone()),
            ];
            if let Some(token) = &creds.security_token {
                all.push(("SecurityToken".into(), token.expose().to_string()));
            }
            let common = all.len();
            all.extend(params);
            let signature = sign::sign_v1(&wire.method, &all, creds.access_key_secret.expose());
            if form {
                // The body already holds the operation's parameters.
                all.truncate(common);
            }
            all.push(("Signature".into(), signature));
            wire.query = all;
        }
    }
    wire
}

#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;
