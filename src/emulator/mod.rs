//! The local Alibaba Cloud emulator: a stateful stand-in for the Vpc, Cbn and STS operations
//! decom uses, faithful enough for the official SDKs.
//!
//! Every request goes through [`Emulator::handle`]: signature check (V1 and V3, with the
//! API layer's verifier), timestamp skew and nonce replay, dispatch on action and version,
//! per-(region, action) rate limits, seeded fault injection, ClientToken idempotency, the
//! operation's own rules (its kind's module in [`kinds`], dispatched through [`ops`]) over
//! the world's state ([`state`]), and the audit log.
//! The HTTP front ([`server`]) and the in-process [`Transport`] are thin layers over it.

pub mod kinds;
pub mod ops;
pub mod server;
pub mod state;
pub mod sts;
pub mod world;
pub mod worldgen;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::api::credentials::{CredentialSource, Credentials, Secret};
use crate::api::sign::{self, VerifyError};
use crate::api::{
    BoxFuture, Product, Transport, TransportError, WireRequest, WireResponse, actions,
};
use ops::{Ctx, Fail, fail};
use state::State;
use world::{FaultKind, World};

pub use world::WorldError;

/// Allowed clock skew of a request timestamp, and how long nonces are remembered.
const SKEW: Duration = Duration::from_secs(15 * 60);

/// One accepted mutation, as recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// Sequence number, from 1.
    pub seq: u64,
    /// Wall-clock time (RFC 3339, UTC).
    pub time: String,
    /// The action.
    pub action: String,
    /// The API parameters, sorted.
    pub params: BTreeMap<String, String>,
    /// The ClientToken, if one was sent.
    pub client_token: Option<String>,
    /// The RequestId answered.
    pub request_id: String,
    /// `ok`, or the error Code.
    pub result: String,
    /// True when this request changed state (a success that was not a replay).
    pub applied: bool,
    /// True when a ClientToken replay returned the first result without any change.
    pub replay: bool,
    /// True when the connection was then closed without an answer (lost-response fault).
    pub response_lost: bool,
}

/// The answer to one request.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What to send back.
    pub response: WireResponse,
    /// When true the answer is lost: the connection is closed without it.
    pub lost: bool,
}

/// A token bucket for one (region, action).
#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// SplitMix64: a tiny, seedable generator (deterministic fault sequences).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Mutable bookkeeping besides the resources.
struct Books {
    nonces: HashSet<String>,
    nonce_order: VecDeque<(Instant, String)>,
    /// (action, ClientToken) → (parameter fingerprint, first response body).
    tokens: HashMap<(String, String), (String, Value)>,
    buckets: HashMap<(String, String), Bucket>,
    rng: Rng,
    audit: Vec<AuditEntry>,
}

struct Inner {
    world: World,
    state: Mutex<State>,
    books: Mutex<Books>,
    requests: AtomicU64,
    audit_file: Mutex<Option<std::fs::File>>,
    /// Held from the ClientToken lookup of a mutating call to the recording of its token:
    /// two calls with one token at the same moment are one change and one replay, as the
    /// API promises, never two changes.
    token_gate: Mutex<()>,
    /// Issued STS sessions and the ECS metadata front ([`sts`]).
    sts: sts::StsState,
}

/// The emulator. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("account_id", &self.inner.world.account_id)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// An emulator seeded from a checked world.
    pub fn new(world: World) -> Emulator {
        let state = State::new(&world);
        let rng = Rng(world.faults.seed);
        Emulator {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                books: Mutex::new(Books {
                    nonces: HashSet::new(),
                    nonce_order: VecDeque::new(),
                    tokens: HashMap::new(),
                    buckets: HashMap::new(),
                    rng,
                    audit: Vec::new(),
                }),
                world,
                requests: AtomicU64::new(0),
                audit_file: Mutex::new(None),
                token_gate: Mutex::new(()),
                sts: sts::StsState::default(),
            }),
        }
    }

    /// Load a world file.
    pub fn load(path: &std::path::Path) -> Result<Emulator, WorldError> {
        World::load(path).map(Emulator::new)
    }

    /// Also append every audit entry, as a JSON line, to this file.
    pub fn set_audit_file(&self, file: std::fs::File) {
        if let Ok(mut slot) = self.inner.audit_file.lock() {
            *slot = Some(file);
        }
    }

    /// The world's account id.
    pub fn account_id(&self) -> &str {
        &self.inner.world.account_id
    }

    /// Credentials for the world's first access key.
    pub fn credentials(&self) -> Credentials {
        let key = &self.inner.world.access_keys[0];
        Credentials {
            access_key_id: key.id.clone(),
            access_key_secret: Secret::new(key.secret.clone()),
            security_token: key.security_token.clone().map(Secret::new),
            source: CredentialSource::Emulator,
        }
    }

    /// The audit log so far.
    pub fn audit(&self) -> Vec<AuditEntry> {
        self.inner
            .books
            .lock()
            .map(|b| b.audit.clone())
            .unwrap_or_default()
    }

    /// Requests received so far (all of them, rejected ones included).
    pub fn request_count(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// Run `f` on the current state (after applying due transitions).
    pub fn with_state<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        let mut st = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        st.advance(Instant::now());
        f(&st)
    }

    /// An in-process transport to this emulator.
    pub fn transport(&self) -> Arc<dyn Transport> {
        Arc::new(self.clone())
    }

    /// Answer one request.
    pub async fn handle(&self, req: WireRequest) -> Outcome {
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let request_id = uuid::Uuid::new_v4().to_string().to_ascii_uppercase();
        let latency = self.inner.world.timings.latency.0;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        // The ECS metadata and credentials-URI fronts (plain HTTP, not the API).
        if let Some(response) = sts::front(self, &req) {
            return Outcome {
                response,
                lost: false,
            };
        }
        match self.process(&req, &request_id).await {
            Ok((mut body, lost)) => {
                if let Some(obj) = body.as_object_mut() {
                    obj.entry("RequestId").or_insert_with(|| json!(request_id));
                }
                Outcome {
                    response: WireResponse::json(200, &body),
                    lost,
                }
            }
            Err(f) => Outcome {
                response: error_response(&f, &request_id, &req.host, &product_of(&req)),
                lost: false,
            },
        }
    }

    async fn process(&self, req: &WireRequest, request_id: &str) -> Result<(Value, bool), Fail> {
        // AssumeRoleWithOIDC is anonymous: served before the signature check.
        if let Some(result) = sts::anonymous(self, req) {
            return result.map(|body| (body, false));
        }
        let world = &self.inner.world;
        let verified = sign::verify(req, |id| {
            world
                .access_keys
                .iter()
                .find(|k| k.id == id)
                .map(|k| k.secret.clone())
                .or_else(|| sts::secret_of(self, id))
        })
        .map_err(verify_fail)?;
        let now = Instant::now();
        // The caller: a world key (its token checked) or an issued session (not expired).
        let caller = sts::caller(self, &verified, now)?;
        check_timestamp(&verified.timestamp)?;
        self.remember_nonce(&verified.nonce, now)?;

        let product = Product::from_version(&verified.api_version).ok_or_else(|| {
            fail(
                400,
                "InvalidVersion",
                "Specified parameter Version is not valid.",
            )
        })?;
        // STS (identity and role assumption) is answered by `sts`, rate-limited, no faults.
        if product == Product::Sts && sts::knows(&verified.action) {
            self.take_token("global", &verified.action, now)?;
            return sts::serve(self, &caller, &verified.action, &verified.params, now)
                .map(|body| (body, false));
        }
        let operation = ops::lookup(product, &verified.action).ok_or_else(|| {
            fail(
                404,
                "InvalidAction.NotFound",
                "Specified api is not found, please check your url and method.",
            )
        })?;
        let (handler, mutating) = (operation.handler, operation.mutates);
        let params = &verified.params;
        let region = params
            .iter()
            .find(|(k, _)| k == "RegionId")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "global".into());
        self.take_token(&region, &verified.action, now)?;

        // Fault injection, drawn per accepted request from the seeded generator.
        let fault = self.draw_fault(&verified.action);
        match fault {
            Some(FaultKind::Unavailable) => {
                return Err(fail(
                    503,
                    "ServiceUnavailable",
                    "The request has failed due to a temporary failure of the server.",
                ));
            }
            Some(FaultKind::InternalError) => {
                return Err(fail(
                    500,
                    "InternalError",
                    "The request processing has failed due to some unknown error, exception or failure.",
                ));
            }
            Some(FaultKind::Throttling) => {
                return Err(fail(
                    400,
                    "Throttling.User",
                    "Request was denied due to user flow control.",
                ));
            }
            Some(FaultKind::Latency) => tokio::time::sleep(world.faults.latency.0).await,
            Some(FaultKind::LostResponse) | None => {}
        }
        let lost = fault == Some(FaultKind::LostResponse);

        let token = params
            .iter()
            .find(|(k, _)| k == "ClientToken")
            .map(|(_, v)| v.clone())
            .filter(|t| !t.is_empty());
        let sorted: BTreeMap<String, String> = params.iter().cloned().collect();
        let fingerprint = sorted
            .iter()
            .filter(|(k, _)| *k != "ClientToken")
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");

        let _gate = (mutating && token.is_some()).then(|| {
            self.inner
                .token_gate
                .lock()
                .unwrap_or_else(|p| p.into_inner())
        });
        if mutating && let Some(t) = &token {
            let replay = {
                let books = self.inner.books.lock().unwrap_or_else(|p| p.into_inner());
                books
                    .tokens
                    .get(&(verified.action.clone(), t.clone()))
                    .cloned()
            };
            if let Some((fp, body)) = replay {
                if fp != fingerprint {
                    let f = fail(
                        400,
                        "IdempotentParameterMismatch",
                        "The request uses the same client token as a previous, but non-identical request.",
                    );
                    self.record(
                        &verified.action,
                        sorted,
                        token,
                        request_id,
                        &f.code,
                        false,
                        false,
                        false,
                    );
                    return Err(f);
                }
                self.record(
                    &verified.action,
                    sorted,
                    token,
                    request_id,
                    "ok",
                    false,
                    true,
                    lost,
                );
                return Ok((body, lost));
            }
        }

        let ctx = Ctx {
            params,
            now,
            required: operation.required,
        };
        let result = ctx.check_required().and_then(|()| {
            let mut st = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            st.advance(now);
            handler(&mut st, &ctx)
        });
        match result {
            Ok(mut body) => {
                if let Some(obj) = body.as_object_mut() {
                    obj.insert("RequestId".into(), json!(request_id));
                }
                if mutating {
                    if let Some(t) = &token {
                        let mut books = self.inner.books.lock().unwrap_or_else(|p| p.into_inner());
                        books.tokens.insert(
                            (verified.action.clone(), t.clone()),
                            (fingerprint, body.clone()),
                        );
                    }
                    self.record(
                        &verified.action,
                        sorted,
                        token,
                        request_id,
                        "ok",
                        true,
                        false,
                        lost,
                    );
                }
                Ok((body, lost))
            }
            Err(f) => {
                if mutating {
                    self.record(
                        &verified.action,
                        sorted,
                        token,
                        request_id,
                        &f.code,
                        false,
                        false,
                        false,
                    );
                }
                Err(f)
            }
        }
    }

    fn remember_nonce(&self, nonce: &str, now: Instant) -> Result<(), Fail> {
        let mut books = self.inner.books.lock().unwrap_or_else(|p| p.into_inner());
        while let Some((t, _)) = books.nonce_order.front() {
            if now.duration_since(*t) <= SKEW {
                break;
            }
            if let Some((_, old)) = books.nonce_order.pop_front() {
                books.nonces.remove(&old);
            }
        }
        if !books.nonces.insert(nonce.to_string()) {
            return Err(fail(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
        books.nonce_order.push_back((now, nonce.to_string()));
        Ok(())
    }

    fn take_token(&self, region: &str, action: &str, now: Instant) -> Result<(), Fail> {
        let limits = &self.inner.world.rate_limits;
        if !limits.enabled {
            return Ok(());
        }
        let per_minute = limits
            .per_minute
            .get(action)
            .copied()
            .unwrap_or_else(|| actions::quota_per_minute(action));
        let capacity = (f64::from(per_minute) * limits.scale).max(1.0);
        let rate = capacity / 60.0;
        let mut books = self.inner.books.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = books
            .buckets
            .entry((region.to_string(), action.to_string()))
            .or_insert(Bucket {
                tokens: capacity,
                last: now,
            });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.last = now;
        if bucket.tokens < 1.0 {
            return Err(fail(
                400,
                "Throttling.User",
                "Request was denied due to user flow control.",
            ));
        }
        bucket.tokens -= 1.0;
        Ok(())
    }

    fn draw_fault(&self, action: &str) -> Option<FaultKind> {
        let faults = &self.inner.world.faults;
        if faults.rate <= 0.0 || faults.kinds.is_empty() {
            return None;
        }
        if !faults.actions.is_empty() && !faults.actions.iter().any(|a| a == action) {
            return None;
        }
        let mut books = self.inner.books.lock().unwrap_or_else(|p| p.into_inner());
        if books.rng.unit() >= faults.rate {
            return None;
        }
        let i = (books.rng.next_u64() % faults.kinds.len() as u64) as usize;
        Some(faults.kinds[i])
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        action: &str,
        params: BTreeMap<String, String>,
        client_token: Option<String>,
        request_id: &str,
        result: &str,
        applied: bool,
        replay: bool,
        response_lost: bool,
    ) {
        let mut books = self.inner.books.lock().unwrap_or_else(|p| p.into_inner());
        let entry = AuditEntry {
            seq: books.audit.len() as u64 + 1,
            time: jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string(),
            action: action.to_string(),
            params,
            client_token,
            request_id: request_id.to_string(),
            result: result.to_string(),
            applied,
            replay,
            response_lost,
        };
        if let Ok(mut file) = self.inner.audit_file.lock()
            && let Some(f) = file.as_mut()
        {
            use std::io::Write as _;
            let _ = writeln!(f, "{}", serde_json::to_string(&entry).unwrap_or_default());
        }
        books.audit.push(entry);
    }
}

fn verify_fail(e: VerifyError) -> Fail {
    match e {
        VerifyError::Unsigned => fail(
            400,
            "MissingSignature",
            "Signature is mandatory for this action.",
        ),
        VerifyError::Missing(name) => {
            let code = if name.starts_with("x-acs-") || name == "host" {
                "MissingParameter".to_string()
            } else {
                format!("Missing{name}")
            };
            fail(400, &code, format!("{name} is mandatory for this action."))
        }
        VerifyError::MalformedAuthorization(why) => fail(
            400,
            "IncompleteSignature",
            format!("The request signature does not conform to Aliyun standards: {why}."),
        ),
        VerifyError::UnsupportedMethod(m) => fail(
            400,
            "InvalidSignatureMethod",
            format!("Specified signature method {m} is not supported."),
        ),
        VerifyError::UnknownAccessKey(_) => fail(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        ),
        VerifyError::Mismatch { string_to_sign } => fail(
            400,
            "SignatureDoesNotMatch",
            format!(
                "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
            ),
        ),
    }
}

/// The product a request is for (from its version), for the `Recommend` link.
fn product_of(req: &WireRequest) -> String {
    let version = req
        .header("x-acs-version")
        .or_else(|| req.query_param("Version"))
        .unwrap_or_default();
    Product::from_version(version).map_or_else(|| "Vpc".to_string(), |p| p.to_string())
}

fn check_timestamp(ts: &str) -> Result<(), Fail> {
    let parsed: jiff::Timestamp = ts.parse().map_err(|_| {
        fail(
            400,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        )
    })?;
    let skew = jiff::Timestamp::now().duration_since(parsed).unsigned_abs();
    if skew > SKEW {
        return Err(fail(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    Ok(())
}

/// The documented error body: RequestId, HostId, Code, Message, Recommend.
fn error_response(f: &Fail, request_id: &str, host: &str, product: &str) -> WireResponse {
    WireResponse::json(
        f.status,
        &json!({
            "RequestId": request_id,
            "HostId": host,
            "Code": f.code,
            "Message": f.message,
            "Recommend": format!("https://api.aliyun.com/troubleshoot?q={}&product={product}&requestId={request_id}", f.code),
        }),
    )
}

impl Transport for Emulator {
    fn send(&self, req: WireRequest) -> BoxFuture<'_, Result<WireResponse, TransportError>> {
        Box::pin(async move {
            let out = self.handle(req).await;
            if out.lost {
                return Err(TransportError::new(
                    "connection closed before the response arrived",
                ));
            }
            Ok(out.response)
        })
    }
}

#[cfg(test)]
mod tests;
