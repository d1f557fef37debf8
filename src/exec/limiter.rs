//! Client-side rate limits per (product, region, action): a token bucket per key at the
//! documented quota (alibaba-api.md §11), halved on every throttling answer and recovering
//! gradually on success (adaptive slow-down). Built on tokio time, so tests run it on a
//! paused clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

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

    /// Wait until a call under `key` may be sent.
    pub async fn acquire(&self, key: &LimitKey) {
        loop {
            let wait = {
                let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                if !buckets.contains_key(key) {
                    let b = self.bucket(key, now);
                    buckets.insert(key.clone(), b);
                }
                let Some(bucket) = buckets.get_mut(key) else {
                    return;
                };
                let elapsed = now.duration_since(bucket.last).as_secs_f64();
                bucket.tokens = (bucket.tokens + elapsed * bucket.rate).min(bucket.capacity);
                bucket.last = now;
                // A hair of tolerance: float refills converge on 1.0 from below.
                if bucket.tokens >= 1.0 - 1e-9 {
                    bucket.tokens = (bucket.tokens - 1.0).max(0.0);
                    return;
                }
                // Round up to whole milliseconds so the wait always makes progress.
                let secs = (1.0 - bucket.tokens) / bucket.rate;
                Duration::from_millis((secs * 1000.0).ceil().max(1.0) as u64)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// The API answered with throttling: halve this key's rate and drop its burst.
    pub fn throttled(&self, key: &LimitKey) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get_mut(key) {
            b.rate = (b.rate / 2.0).max(MIN_RATE);
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
        for _ in 0..20 {
            l.throttled(&k);
        }
        assert_eq!(l.rate(&k), Some(MIN_RATE));
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
