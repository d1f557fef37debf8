//! [`CredentialsProvider`]: what a client signs with. Static credentials are just handed out;
//! temporary ones are cached and refreshed before they expire.
//!
//! Refresh rules (after the SDK's `RefreshCachedSupplier`, `provider/refreshable.py`, which
//! treats credentials as stale 15 minutes before their `Expiration`):
//!
//! - a set is refreshed once its remaining life falls below the *margin*: 15 minutes, or a
//!   quarter of its life when that is shorter. The SDK's fixed 15 minutes would make a token
//!   of the minimum STS duration (900 s) stale on arrival, and a scaled rehearsal (20 s
//!   tokens) would refresh on every call;
//! - the cache is behind one async lock held across the refresh: concurrent callers wait for
//!   the one refresh in flight and all get its result, so a set is never refreshed twice at
//!   once;
//! - a failed refresh keeps the old set while it still lives (retried at most every 10 s,
//!   like the SDK's stale-value handling); once it has expired the error is returned;
//! - the service saying `InvalidSecurityToken.Expired` (a clock skew, a revoked session)
//!   forces the next call to refresh ([`CredentialsProvider::expired`]).
//!
//! All timing uses tokio's clock: the `Expiration` is turned into a remaining lifetime when
//! the set arrives, so paused-time tests drive expiry deterministically.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::{CredentialSource, Credentials, CredentialsError};
use crate::api::BoxFuture;

/// Longest refresh margin (the SDK's stale time).
pub const MAX_MARGIN: Duration = Duration::from_secs(15 * 60);

/// Shortest interval between two attempts to refresh a set that still works.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(10);

/// A freshly fetched set.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The credentials.
    pub credentials: Credentials,
    /// When they stop working (STS `Expiration`); `None` for long-lived keys.
    pub expiration: Option<jiff::Timestamp>,
}

/// A source that can fetch a fresh set of credentials (STS, metadata service, URI, ...).
pub trait Fetch: Send + Sync + 'static {
    /// Fetch a fresh set. Errors carry no secret.
    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>>;

    /// What this source is, for messages (`profile "ci" of ~/.aliyun/config.json`).
    fn describe(&self) -> String;
}

struct Cached {
    credentials: Credentials,
    /// When to fetch a new set (`None`: never).
    refresh_at: Option<Instant>,
    /// When this set stops working (`None`: never).
    expires_at: Option<Instant>,
}

struct Refreshing {
    fetch: Box<dyn Fetch>,
    cache: tokio::sync::Mutex<Option<Cached>>,
    fetches: AtomicU64,
}

/// One step of the default chain: a source, or why there is none.
pub struct ChainStep {
    /// The step (`environment`, `aliyun CLI profile`, ...).
    pub name: String,
    /// Its source, or why it was skipped or could not be built.
    pub outcome: Result<CredentialsProvider, String>,
    /// When this step fails, stop: later steps are not tried (an explicitly named profile).
    pub last: bool,
}

struct Chain {
    steps: Vec<ChainStep>,
    winner: tokio::sync::OnceCell<Result<CredentialsProvider, CredentialsError>>,
}

impl Chain {
    /// The first step whose source delivers; else every step with why not.
    async fn pick(&self) -> Result<CredentialsProvider, CredentialsError> {
        let mut tried = Vec::new();
        for step in &self.steps {
            match &step.outcome {
                Err(why) => tried.push(format!("{}: {why}", step.name)),
                Ok(p) => match Box::pin(p.get()).await {
                    Ok(c) => {
                        tracing::debug!(step = %step.name, source = %c.source, "credentials found");
                        return Ok(p.clone());
                    }
                    Err(e) => tried.push(format!("{}: {e}", step.name)),
                },
            }
            if step.last {
                break;
            }
        }
        Err(CredentialsError::NotFound { tried })
    }
}

enum Kind {
    Static(Credentials),
    Refreshing(Refreshing),
    Anonymous,
    Chain(Chain),
}

/// What a client signs with: cheap to clone, shared by every clone (one cache, one refresh).
#[derive(Clone)]
pub struct CredentialsProvider(Arc<Kind>);

impl fmt::Debug for CredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            Kind::Static(c) => f.debug_tuple("CredentialsProvider").field(c).finish(),
            Kind::Refreshing(r) => f
                .debug_struct("CredentialsProvider")
                .field("refreshing", &r.fetch.describe())
                .finish_non_exhaustive(),
            Kind::Anonymous => f.write_str("CredentialsProvider(anonymous)"),
            Kind::Chain(c) => f
                .debug_struct("CredentialsProvider")
                .field(
                    "chain",
                    &c.steps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
                )
                .finish_non_exhaustive(),
        }
    }
}

impl From<Credentials> for CredentialsProvider {
    fn from(c: Credentials) -> Self {
        CredentialsProvider::fixed(c)
    }
}

/// The refresh margin of a set that lives `lifetime`: 15 minutes, or a quarter of its life.
pub fn margin(lifetime: Duration) -> Duration {
    MAX_MARGIN.min(lifetime / 4)
}

impl CredentialsProvider {
    /// Credentials that never change (AccessKeys, a fixed STS token).
    pub fn fixed(c: Credentials) -> Self {
        CredentialsProvider(Arc::new(Kind::Static(c)))
    }

    /// Credentials fetched from `fetch` on first use and refreshed before they expire.
    pub fn refreshing(fetch: impl Fetch) -> Self {
        CredentialsProvider(Arc::new(Kind::Refreshing(Refreshing {
            fetch: Box::new(fetch),
            cache: tokio::sync::Mutex::new(None),
            fetches: AtomicU64::new(0),
        })))
    }

    /// No credentials: for anonymous calls (`AssumeRoleWithOIDC`). [`get`](Self::get) fails.
    pub fn anonymous() -> Self {
        CredentialsProvider(Arc::new(Kind::Anonymous))
    }

    /// The default chain: its steps are tried in order on first use, and the first that
    /// delivers is kept.
    pub fn chain(steps: Vec<ChainStep>) -> Self {
        CredentialsProvider(Arc::new(Kind::Chain(Chain {
            steps,
            winner: tokio::sync::OnceCell::new(),
        })))
    }

    /// The chosen source of a chain, once chosen; `self` otherwise.
    fn settled(&self) -> &CredentialsProvider {
        match &*self.0 {
            Kind::Chain(c) => match c.winner.get() {
                Some(Ok(p)) => p.settled(),
                _ => self,
            },
            _ => self,
        }
    }

    /// How many times the source was asked for a fresh set (0 for fixed credentials).
    pub fn fetch_count(&self) -> u64 {
        match &*self.settled().0 {
            Kind::Refreshing(r) => r.fetches.load(Ordering::Relaxed),
            _ => 0,
        }
    }

    /// The fixed credentials, when these are fixed (no network needed).
    pub fn as_fixed(&self) -> Option<&Credentials> {
        match &*self.settled().0 {
            Kind::Static(c) => Some(c),
            _ => None,
        }
    }

    /// The credentials to sign with now: the cached set, or a fresh one when it is due.
    pub async fn get(&self) -> Result<Credentials, CredentialsError> {
        let r = match &*self.0 {
            Kind::Static(c) => return Ok(c.clone()),
            Kind::Anonymous => return Err(CredentialsError::Anonymous),
            Kind::Refreshing(r) => r,
            Kind::Chain(c) => {
                return match c.winner.get_or_init(|| c.pick()).await {
                    Ok(p) => Box::pin(p.get()).await,
                    Err(e) => Err(e.clone()),
                };
            }
        };
        let mut slot = r.cache.lock().await;
        let now = Instant::now();
        if let Some(c) = slot.as_ref()
            && c.refresh_at.is_none_or(|t| now < t)
        {
            return Ok(c.credentials.clone());
        }
        r.fetches.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(source = %r.fetch.describe(), "fetching fresh credentials");
        match r.fetch.fetch().await {
            Ok(fetched) => {
                let cached = cache_entry(fetched, Instant::now());
                let out = cached.credentials.clone();
                *slot = Some(cached);
                Ok(out)
            }
            Err(e) => match slot.as_mut() {
                Some(c) if c.expires_at.is_some_and(|t| now < t) => {
                    let left = c.expires_at.map_or(Duration::ZERO, |t| t - now);
                    tracing::warn!(
                        source = %r.fetch.describe(),
                        error = %e,
                        "refreshing the credentials failed; the current ones still work for {}s",
                        left.as_secs()
                    );
                    c.refresh_at = Some(now + RETRY_INTERVAL.min(left / 2));
                    Ok(c.credentials.clone())
                }
                Some(_) => Err(CredentialsError::Expired {
                    source_name: r.fetch.describe(),
                    detail: e.to_string(),
                }),
                None => Err(e),
            },
        }
    }

    /// The service refused `used` as expired: make the next [`get`](Self::get) refresh,
    /// unless another caller already replaced that set. Returns whether a refresh can help
    /// (false for fixed credentials).
    pub async fn expired(&self, used: &Credentials) -> bool {
        let Kind::Refreshing(r) = &*self.settled().0 else {
            return false;
        };
        let mut slot = r.cache.lock().await;
        if let Some(c) = slot.as_mut()
            && c.credentials.access_key_id == used.access_key_id
            && c.credentials.security_token == used.security_token
        {
            c.refresh_at = Some(Instant::now());
            c.expires_at = Some(Instant::now());
        }
        true
    }

    /// Where the credentials come from, without fetching: the fixed set's source, else the
    /// cached set's, else `None`.
    pub async fn source(&self) -> Option<CredentialSource> {
        match &*self.settled().0 {
            Kind::Static(c) => Some(c.source.clone()),
            Kind::Anonymous | Kind::Chain(_) => None,
            Kind::Refreshing(r) => r
                .cache
                .lock()
                .await
                .as_ref()
                .map(|c| c.credentials.source.clone()),
        }
    }
}

fn cache_entry(fetched: Fetched, now: Instant) -> Cached {
    let lifetime = fetched.expiration.map(|exp| {
        let left = jiff::Timestamp::now().duration_until(exp);
        Duration::try_from(left).unwrap_or(Duration::ZERO)
    });
    Cached {
        credentials: fetched.credentials,
        refresh_at: lifetime.map(|l| now + (l - margin(l))),
        expires_at: lifetime.map(|l| now + l),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A source handing out numbered sets that live `life`, counting fetches, optionally
    /// failing, with a delay so concurrent callers overlap.
    struct Counter {
        life: Duration,
        n: AtomicU64,
        fail: Mutex<bool>,
    }

    impl Fetch for Arc<Counter> {
        fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if *self.fail.lock().unwrap() {
                    return Err(CredentialsError::Fetch {
                        source_name: "counter".into(),
                        detail: "down".into(),
                    });
                }
                let n = self.n.fetch_add(1, Ordering::SeqCst) + 1;
                let mut c = Credentials::new(format!("STS.{n}"), "s", CredentialSource::Flags);
                c.security_token = Some(super::super::Secret::new(format!("t{n}")));
                Ok(Fetched {
                    credentials: c,
                    expiration: Some(
                        jiff::Timestamp::now()
                            .checked_add(jiff::SignedDuration::try_from(self.life).unwrap())
                            .unwrap(),
                    ),
                })
            })
        }
        fn describe(&self) -> String {
            "counter".into()
        }
    }

    fn counter(life: Duration) -> (Arc<Counter>, CredentialsProvider) {
        let c = Arc::new(Counter {
            life,
            n: AtomicU64::new(0),
            fail: Mutex::new(false),
        });
        (c.clone(), CredentialsProvider::refreshing(c))
    }

    #[test]
    fn margin_is_a_quarter_capped_at_fifteen_minutes() {
        assert_eq!(margin(Duration::from_secs(3600)), MAX_MARGIN);
        assert_eq!(margin(Duration::from_secs(900)), Duration::from_secs(225));
        assert_eq!(margin(Duration::from_secs(20)), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_refresh() {
        let (src, p) = counter(Duration::from_secs(900));
        let calls: Vec<_> = (0..50)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move { p.get().await.unwrap().access_key_id })
            })
            .collect();
        for c in calls {
            assert_eq!(c.await.unwrap(), "STS.1");
        }
        assert_eq!(src.n.load(Ordering::SeqCst), 1);
        // Not due yet: 900 s life, 225 s margin.
        tokio::time::advance(Duration::from_secs(600)).await;
        assert_eq!(p.get().await.unwrap().access_key_id, "STS.1");
        tokio::time::advance(Duration::from_secs(80)).await;
        let calls: Vec<_> = (0..50)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move { p.get().await.unwrap().access_key_id })
            })
            .collect();
        for c in calls {
            assert_eq!(c.await.unwrap(), "STS.2");
        }
        assert_eq!(p.fetch_count(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_refresh_keeps_a_live_set_then_fails_once_it_expired() {
        let (src, p) = counter(Duration::from_secs(900));
        p.get().await.unwrap();
        *src.fail.lock().unwrap() = true;
        tokio::time::advance(Duration::from_secs(700)).await;
        assert_eq!(p.get().await.unwrap().access_key_id, "STS.1");
        // Retried after RETRY_INTERVAL, not on every call.
        let before = p.fetch_count();
        p.get().await.unwrap();
        assert_eq!(p.fetch_count(), before);
        tokio::time::advance(Duration::from_secs(300)).await;
        let e = p.get().await.unwrap_err();
        assert!(matches!(e, CredentialsError::Expired { .. }), "{e}");
        *src.fail.lock().unwrap() = false;
        assert_eq!(p.get().await.unwrap().access_key_id, "STS.2");
    }

    #[tokio::test(start_paused = true)]
    async fn an_expired_answer_forces_one_refresh_for_everyone() {
        let (_src, p) = counter(Duration::from_secs(3600));
        let used = p.get().await.unwrap();
        assert!(p.expired(&used).await);
        // A second report about the same, already replaced set changes nothing more.
        let fresh = p.get().await.unwrap();
        assert_eq!(fresh.access_key_id, "STS.2");
        assert!(p.expired(&used).await);
        assert_eq!(p.get().await.unwrap().access_key_id, "STS.2");
        assert_eq!(p.fetch_count(), 2);
        let fixed = CredentialsProvider::fixed(used.clone());
        assert!(!fixed.expired(&used).await);
    }

    #[test]
    fn debug_shows_no_secret() {
        let mut c = Credentials::new("AKID", "very-secret", CredentialSource::Flags);
        c.security_token = Some(super::super::Secret::new("very-token"));
        let shown = format!("{:?}", CredentialsProvider::fixed(c));
        assert!(!shown.contains("very-"), "{shown}");
    }
}
