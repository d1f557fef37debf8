//! Client-side rate limits per (product, region, action): a token bucket per key at the
//! documented quota (alibaba-api.md §11), halved on every throttling answer and recovering
//! gradually on success (adaptive slow-down). When calls queue for a key's tokens, the one
//! with the highest priority goes first (the executor passes the length of the step's
//! remaining critical path), FIFO among equals: a slow chain never waits behind a crowd of
//! independent deletes for quota, as for call slots ([`super::gate`]). Built on tokio time,
//! so tests run it on a paused clock.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use tokio::time::Instant;

use crate::api::Product;

/// A rate-limit key.
pub type LimitKey = (Product, String, String);

#[derive(Debug)]
struct Bucket {
    /// Current rate (tokens per second), ≤ `base`.
    rate: f64,
    /// The configured rate.
    base: f64,
    /// Burst size.
    capacity: f64,
    tokens: f64,
    last: Instant,
    /// Calls waiting for a token, best first: (priority, arrival) → their wake-up.
    queue: BTreeMap<(Reverse<u64>, u64), Arc<Notify>>,
    /// Arrival counter (FIFO among equal priorities).
    seq: u64,
    /// When the rate was last halved: the answers of calls already in flight then say
    /// nothing new, so the rate halves at most once per [`HALVING_WINDOW`].
    halved_at: Option<Instant>,
}

/// Throttling answers within this long of the last halving do not halve the rate again
/// (the calls sent before the halving answer all at once; multiplicative decrease once
/// per round of answers, as in TCP's congestion control).
const HALVING_WINDOW: Duration = Duration::from_secs(1);

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.last = now;
    }

    /// Wake the call now at the head of the queue (it takes the next token).
    fn wake_head(&self) {
        if let Some(n) = self.queue.values().next() {
            n.notify_one();
        }
    }
}

/// A queued call; leaving the queue (served or cancelled) hands the head to the next one.
struct InQueue<'a> {
    limiter: &'a Limiter,
    key: &'a LimitKey,
    slot: (Reverse<u64>, u64),
}

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        let mut buckets = self
            .limiter
            .buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get_mut(self.key)
            && b.queue.remove(&self.slot).is_some()
        {
            b.wake_head();
        }
    }
}

/// Token buckets per key.
#[derive(Debug)]
pub struct Limiter {
    buckets: Mutex<HashMap<LimitKey, Bucket>>,
    /// Multiplies every quota (e.g. the emulator's `rate_limits.scale`).
    scale: f64,
    /// Per-action overrides in calls per minute.
    overrides: HashMap<String, u32>,
}

/// Lowest rate after repeated throttling: one call per 10 s.
const MIN_RATE: f64 = 0.1;

impl Limiter {
    /// Limits at `scale` × the documented quotas, with per-action overrides (calls/minute).
    pub fn new(scale: f64, overrides: HashMap<String, u32>) -> Limiter {
        Limiter {
            buckets: Mutex::new(HashMap::new()),
            scale: if scale > 0.0 { scale } else { 1.0 },
            overrides,
        }
    }

    fn per_minute(&self, action: &str) -> f64 {
        f64::from(
            self.overrides
                .get(action)
                .copied()
                .unwrap_or_else(|| crate::api::actions::quota_per_minute(action)),
        ) * self.scale
    }

    fn bucket(&self, key: &LimitKey, now: Instant) -> Bucket {
        let per_minute = self.per_minute(&key.2);
        let base = per_minute / 60.0;
        // A burst of a few seconds' worth, like the API's own window tolerates, but never
        // the whole minute at once.
        let capacity = (base * 5.0).clamp(1.0, per_minute.max(1.0));
        Bucket {
            rate: base,
            base,
            capacity,
            tokens: capacity,
            last: now,
            queue: BTreeMap::new(),
            seq: 0,
            halved_at: None,
        }
    }

    /// Wait only when `key` was slowed down by a throttling answer before (see
    /// [`Limiter::throttled_or_start`]): reads are not paced until the API asks for it.
    pub async fn acquire_if_slowed(&self, key: &LimitKey) {
        let slowed = self
            .buckets
            .lock()
            .map(|b| b.contains_key(key))
            .unwrap_or(false);
        if slowed {
            self.acquire(key).await;
        }
    }

    /// A throttling answer to a call that was not paced: start pacing `key` at its quota,
    /// then slow it down as [`Limiter::throttled`] does.
    pub fn throttled_or_start(&self, key: &LimitKey) {
        {
            let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
            if !buckets.contains_key(key) {
                let b = self.bucket(key, Instant::now());
                buckets.insert(key.clone(), b);
            }
        }
        self.throttled(key);
    }

    /// Wait until a call under `key` may be sent (priority 0).
    pub async fn acquire(&self, key: &LimitKey) {
        self.acquire_with(key, 0).await;
    }

    /// Wait until a call under `key` may be sent: at once when a token is there and nobody
    /// queues; else in the key's queue, highest `priority` first, FIFO among equals. The head
    /// of the queue sleeps until the next token; the others sleep until they are the head.
    pub async fn acquire_with(&self, key: &LimitKey, priority: u64) {
        let (slot, notify) = {
            let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let bucket = buckets
                .entry(key.clone())
                .or_insert_with(|| self.bucket(key, now));
            bucket.refill(now);
            // A hair of tolerance: float refills converge on 1.0 from below.
            if bucket.queue.is_empty() && bucket.tokens >= 1.0 - 1e-9 {
                bucket.tokens = (bucket.tokens - 1.0).max(0.0);
                return;
            }
            bucket.seq += 1;
            let slot = (Reverse(priority), bucket.seq);
            let notify = Arc::new(Notify::new());
            bucket.queue.insert(slot, notify.clone());
            (slot, notify)
        };
        let _queued = InQueue {
            limiter: self,
            key,
            slot,
        };
        loop {
            let wait = {
                let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let Some(bucket) = buckets.get_mut(key) else {
                    return;
                };
                bucket.refill(now);
                let head = bucket.queue.keys().next() == Some(&slot);
                if !head {
                    None
                } else if bucket.tokens >= 1.0 - 1e-9 {
                    bucket.tokens = (bucket.tokens - 1.0).max(0.0);
                    // `_queued` leaves the queue on return and wakes the next head.
                    return;
                } else {
                    // Round up to whole milliseconds so the wait always makes progress.
                    let secs = (1.0 - bucket.tokens) / bucket.rate;
                    Some(Duration::from_millis((secs * 1000.0).ceil().max(1.0) as u64))
                }
            };
            match wait {
                // The head sleeps until its token, but wakes early when a call of higher
                // priority takes its place (it is then notified again when it is the head).
                Some(d) => {
                    let _ = tokio::time::timeout(d, notify.notified()).await;
                }
                None => notify.notified().await,
            }
        }
    }

    /// The API answered with throttling: halve this key's rate (at most once per
    /// [`HALVING_WINDOW`]) and drop its burst.
    pub fn throttled(&self, key: &LimitKey) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get_mut(key) {
            let now = Instant::now();
            if b.halved_at
                .is_none_or(|t| now.duration_since(t) >= HALVING_WINDOW)
            {
                b.rate = (b.rate / 2.0).max(MIN_RATE);
                b.halved_at = Some(now);
            }
            b.tokens = b.tokens.min(0.0);
        }
    }

    /// A call under `key` succeeded: recover 5% of the configured rate.
    pub fn succeeded(&self, key: &LimitKey) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get_mut(key) {
            b.rate = (b.rate + b.base * 0.05).min(b.base);
        }
    }

    /// The current rate of a key (calls per second), for tests and progress output.
    pub fn rate(&self, key: &LimitKey) -> Option<f64> {
        self.buckets.lock().ok()?.get(key).map(|b| b.rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(action: &str) -> LimitKey {
        (Product::Vpc, "cn-shanghai".into(), action.into())
    }

    #[tokio::test(start_paused = true)]
    async fn paces_at_the_documented_quota_after_the_burst() {
        // DeleteVirtualBorderRouter: 300/min = 5/s, burst 25.
        let l = Limiter::new(1.0, HashMap::new());
        let k = key("DeleteVirtualBorderRouter");
        let start = Instant::now();
        for _ in 0..25 {
            l.acquire(&k).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst goes at once");
        for _ in 0..50 {
            l.acquire(&k).await;
        }
        let took = start.elapsed().as_secs_f64();
        assert!(
            (9.9..=10.1).contains(&took),
            "50 more calls at 5/s take 10 s, took {took}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_halves_and_success_recovers() {
        let l = Limiter::new(1.0, HashMap::from([("DescribeVpnGateway".to_string(), 60)]));
        let k = key("DescribeVpnGateway");
        l.acquire(&k).await;
        assert_eq!(l.rate(&k), Some(1.0));
        l.throttled(&k);
        assert_eq!(l.rate(&k), Some(0.5));
        let before = Instant::now();
        l.acquire(&k).await;
        assert_eq!(
            before.elapsed(),
            Duration::from_secs(2),
            "one token at 0.5/s"
        );
        for _ in 0..20 {
            l.succeeded(&k);
        }
        assert_eq!(l.rate(&k), Some(1.0), "recovers to, never above, the quota");
        // Answers of calls in flight together halve it once; a second later, again.
        for _ in 0..20 {
            l.throttled(&k);
        }
        assert_eq!(l.rate(&k), Some(0.5), "one halving per round of answers");
        for _ in 0..20 {
            tokio::time::advance(HALVING_WINDOW).await;
            l.throttled(&k);
        }
        assert_eq!(l.rate(&k), Some(MIN_RATE));
    }

    #[tokio::test(start_paused = true)]
    async fn queued_calls_get_tokens_by_priority_then_arrival() {
        // 60/min = 1/s, burst 5: drain the burst, then queue five calls of mixed priority.
        let l = Arc::new(Limiter::new(
            1.0,
            HashMap::from([("DeleteBgpPeer".to_string(), 60)]),
        ));
        let k = key("DeleteBgpPeer");
        for _ in 0..5 {
            l.acquire(&k).await;
        }
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, prio) in [
            ("bulk-1", 1),
            ("bulk-2", 1),
            ("chain", 600),
            ("bulk-3", 1),
            ("mid", 30),
        ] {
            let (l, k, order) = (l.clone(), k.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                l.acquire_with(&k, prio).await;
                order.lock().unwrap().push((name, Instant::now()));
            }));
            // Arrival order is the listed order.
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        let names: Vec<&str> = order.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["chain", "mid", "bulk-1", "bulk-2", "bulk-3"]);
        // Still one token a second: priority reorders, it never adds quota.
        for pair in order.windows(2) {
            assert!(pair[1].1.duration_since(pair[0].1) >= Duration::from_millis(999));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_head_hands_its_place_on() {
        let l = Arc::new(Limiter::new(
            1.0,
            HashMap::from([("DeleteBgpPeer".to_string(), 60)]),
        ));
        let k = key("DeleteBgpPeer");
        for _ in 0..5 {
            l.acquire(&k).await;
        }
        // The head gives up before its token; the next call still gets one within a second.
        let head = tokio::time::timeout(Duration::from_millis(100), l.acquire_with(&k, 9)).await;
        assert!(head.is_err());
        let start = Instant::now();
        l.acquire_with(&k, 1).await;
        assert!(start.elapsed() <= Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn keys_are_independent_and_scale_applies() {
        let l = Limiter::new(10.0, HashMap::new());
        let a = key("DeletePhysicalConnection");
        let b = (
            Product::Vpc,
            "cn-hangzhou".into(),
            "DeletePhysicalConnection".into(),
        );
        let start = Instant::now();
        for _ in 0..250 {
            l.acquire(&a).await;
            l.acquire(&b).await;
        }
        // 3000/min scaled = 50/s, burst 250: all at once on both keys.
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
