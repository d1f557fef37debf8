//! Client-side rate limits per (product, region, action) at the documented quota
//! (alibaba-api.md §11: "N calls per 60 s" per region, action and account): never more than
//! N grants in any 60 s ([`WINDOW`]), so a whole window's quota may go at once — what the
//! documented quota allows under any reading of it (a fixed window, a sliding window or a
//! bucket of N refilled over 60 s) — and a token bucket at N / 60 s per second on top, whose
//! rate halves on a throttling answer and recovers gradually on success (adaptive slow-down;
//! while the rate is the documented one the window is what binds). When calls queue for a key's tokens, the one
//! with the highest priority goes first (the executor passes the length of the step's
//! remaining critical path), FIFO among equals: a slow chain never waits behind a crowd of
//! independent deletes for quota, as for call slots ([`super::gate`]). Built on tokio time,
//! so tests run it on a paused clock.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, VecDeque};
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
    /// Burst size of the bucket: the window's quota, halved with the rate on throttling
    /// (a key slowed down does not spend a whole window at once after an idle spell).
    capacity: f64,
    /// The window's quota (the capacity before any throttling): at most ⌊quota⌋ grants in
    /// any [`WINDOW`].
    quota: f64,
    tokens: f64,
    last: Instant,
    /// When each call of the last [`WINDOW`] was granted, oldest first.
    granted: VecDeque<Instant>,
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

/// The window of the documented quotas: "N calls per 60 s" (alibaba-api.md §11).
pub const WINDOW: Duration = Duration::from_secs(60);

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.last = now;
        while self
            .granted
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.granted.pop_front();
        }
    }

    /// How long until a call may go (after [`Bucket::refill`]): zero when a token is there
    /// and the window has room. Rounded up to whole milliseconds so a wait always makes
    /// progress.
    fn wait(&self, now: Instant) -> Duration {
        // A hair of tolerance: float refills converge on 1.0 from below.
        let token = if self.tokens >= 1.0 - 1e-9 {
            Duration::ZERO
        } else {
            let secs = (1.0 - self.tokens) / self.rate;
            Duration::from_millis((secs * 1000.0).ceil().max(1.0) as u64)
        };
        let window = match self.granted.front() {
            Some(oldest) if self.granted.len() as f64 >= self.quota.floor() => {
                (*oldest + WINDOW).saturating_duration_since(now)
            }
            _ => Duration::ZERO,
        };
        token.max(window)
    }

    /// Spend a token and record the grant.
    fn grant(&mut self, now: Instant) {
        self.tokens = (self.tokens - 1.0).max(0.0);
        self.granted.push_back(now);
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

/// The share of its documented rate a key is paced at once the API has throttled it
/// unpaced: the API's bucket refills at the documented rate and is empty then, so a client
/// at exactly that rate is throttled again whenever two calls arrive a little closer than
/// they were sent (0.95: 5 calls/s become 4.75).
pub const RESUMED_SHARE: f64 = 0.95;

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
        let per_minute = self.per_minute(&key.2).max(1.0);
        let base = per_minute / WINDOW.as_secs_f64();
        Bucket {
            rate: base,
            base,
            capacity: per_minute,
            quota: per_minute,
            tokens: per_minute,
            last: now,
            granted: VecDeque::new(),
            queue: BTreeMap::new(),
            seq: 0,
            halved_at: None,
        }
    }

    /// True once a throttling answer made `key` paced (see [`Limiter::throttled_or_start`]).
    pub fn is_slowed(&self, key: &LimitKey) -> bool {
        self.buckets
            .lock()
            .map(|b| b.contains_key(key))
            .unwrap_or(false)
    }

    /// Wait only when `key` was slowed down by a throttling answer before (see
    /// [`Limiter::throttled_or_start`]): reads are not paced until the API asks for it.
    /// Queued calls go by `priority` (highest first), then arrival. Returns whether the call
    /// waited its turn (was paced).
    pub async fn acquire_if_slowed(&self, key: &LimitKey, priority: u64) -> bool {
        let slowed = self.is_slowed(key);
        if slowed {
            self.acquire_with(key, priority).await;
        }
        slowed
    }

    /// A throttling answer to a read: the first for `key` starts pacing it just under its
    /// documented rate ([`RESUMED_SHARE`]) with no token in hand (the API's own burst is
    /// spent: that is all the answer says, the rate is not halved). Later answers to calls
    /// that were sent unpaced (before pacing began) say nothing new and change nothing; an
    /// answer to a `paced` call slows the key down as [`Limiter::throttled`] does.
    ///
    /// Returns true when this answer started the pacing of `key`.
    pub fn throttled_or_start(&self, key: &LimitKey, paced: bool) -> bool {
        {
            let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
            if buckets.contains_key(key) && !paced {
                return false;
            }
            if !buckets.contains_key(key) {
                let now = Instant::now();
                let mut b = self.bucket(key, now);
                b.base *= RESUMED_SHARE;
                b.rate = b.base;
                b.tokens = 0.0;
                b.halved_at = Some(now);
                buckets.insert(key.clone(), b);
                return true;
            }
        }
        self.throttled(key);
        false
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
            if bucket.queue.is_empty() && bucket.wait(now).is_zero() {
                bucket.grant(now);
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
                } else {
                    let wait = bucket.wait(now);
                    if wait.is_zero() {
                        bucket.grant(now);
                        // `_queued` leaves the queue on return and wakes the next head.
                        return;
                    }
                    Some(wait)
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

    /// The API answered with throttling: halve this key's rate and burst size (at most once
    /// per [`HALVING_WINDOW`]) and drop the tokens in hand.
    pub fn throttled(&self, key: &LimitKey) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get_mut(key) {
            let now = Instant::now();
            if b.halved_at
                .is_none_or(|t| now.duration_since(t) >= HALVING_WINDOW)
            {
                b.rate = (b.rate / 2.0).max(MIN_RATE);
                b.capacity = (b.capacity / 2.0).max(1.0);
                b.halved_at = Some(now);
            }
            b.tokens = b.tokens.min(0.0);
        }
    }

    /// A call under `key` succeeded: recover 5% of the configured rate and burst size.
    pub fn succeeded(&self, key: &LimitKey) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get_mut(key) {
            b.rate = (b.rate + b.base * 0.05).min(b.base);
            b.capacity = (b.capacity + b.quota * 0.05).min(b.quota);
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

    /// Grant times of `n` calls under `key`, one after another.
    async fn grants(l: &Limiter, k: &LimitKey, n: usize) -> Vec<Duration> {
        let start = Instant::now();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            l.acquire(k).await;
            out.push(start.elapsed());
        }
        out
    }

    #[tokio::test(start_paused = true)]
    async fn a_whole_window_goes_at_once_and_never_more_per_window() {
        // DeleteVirtualBorderRouter: 300 per 60 s.
        let l = Limiter::new(1.0, HashMap::new());
        let t = grants(&l, &key("DeleteVirtualBorderRouter"), 750).await;
        assert!(
            t[..300].iter().all(|d| d.is_zero()),
            "the window's quota at once"
        );
        assert_eq!(
            t[300], WINDOW,
            "the 301st waits for the first to leave the window"
        );
        assert!(t[300..600].iter().all(|d| *d == WINDOW));
        assert_eq!(t[749], 2 * WINDOW);
        for (a, b) in t.iter().zip(&t[300..]) {
            assert!(*b - *a >= WINDOW, "301 grants within {:?}", *b - *a);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_first_throttling_answer_paces_just_under_the_documented_rate() {
        // DescribeVbrHa is read unpaced until the API throttles it: its burst is then spent,
        // so the key starts just under its documented rate (4.75/s of 5) with no token, not
        // at half of it; the other answers of that round change nothing, and successes do
        // not raise it past that.
        let l = Limiter::new(1.0, HashMap::new());
        let k = key("DescribeVbrHa");
        assert!(
            l.throttled_or_start(&k, false),
            "this answer starts the pacing"
        );
        assert!(!l.throttled_or_start(&k, false));
        assert_eq!(l.rate(&k), Some(5.0 * RESUMED_SHARE));
        let t = grants(&l, &k, 19).await;
        assert_eq!(t[0], Duration::from_millis(211));
        // 19 calls at 4.75/s: 4 s (waits are rounded up to whole milliseconds).
        let last = t[18].as_secs_f64();
        assert!((4.0..4.01).contains(&last), "{last}");
        l.succeeded(&k);
        assert_eq!(l.rate(&k), Some(5.0 * RESUMED_SHARE));
        // Answers to calls sent before pacing began, even seconds later, change nothing.
        tokio::time::advance(HALVING_WINDOW * 3).await;
        l.throttled_or_start(&k, false);
        assert_eq!(l.rate(&k), Some(5.0 * RESUMED_SHARE));
        // Throttled again while paced, a round later: the quota is shared or lower.
        tokio::time::advance(HALVING_WINDOW).await;
        l.throttled_or_start(&k, true);
        assert_eq!(l.rate(&k), Some(2.5 * RESUMED_SHARE));
        // An idle spell refills the bucket only to half a window: a key slowed down does
        // not spend a whole window at once.
        tokio::time::advance(WINDOW * 5).await;
        let t = grants(&l, &k, 151).await;
        assert!(t[149].is_zero(), "{:?}", t[149]);
        assert!(!t[150].is_zero(), "151 at once");
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
        // 60/min = 1/s: a rate halved once (0.5/s) with no token, then five calls of mixed
        // priority queue for it.
        let l = Arc::new(Limiter::new(
            1.0,
            HashMap::from([("DeleteBgpPeer".to_string(), 60)]),
        ));
        let k = key("DeleteBgpPeer");
        l.acquire(&k).await;
        l.throttled(&k);
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
        // Still one token per two seconds: priority reorders, it never adds quota.
        for pair in order.windows(2) {
            assert!(pair[1].1.duration_since(pair[0].1) >= Duration::from_millis(1999));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_head_hands_its_place_on() {
        let l = Arc::new(Limiter::new(
            1.0,
            HashMap::from([("DeleteBgpPeer".to_string(), 60)]),
        ));
        let k = key("DeleteBgpPeer");
        let start = Instant::now();
        for _ in 0..60 {
            l.acquire(&k).await;
        }
        // The head gives up before the window frees; the next call still goes when it does.
        let head = tokio::time::timeout(Duration::from_millis(100), l.acquire_with(&k, 9)).await;
        assert!(head.is_err());
        l.acquire_with(&k, 1).await;
        assert_eq!(start.elapsed(), WINDOW);
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
        // 3000/min scaled: 250 well within the window, at once on both keys.
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn paused_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
    }

    fn bgp_peer_limiter(per_minute: u32) -> Limiter {
        Limiter::new(
            1.0,
            HashMap::from([("DeleteBgpPeer".to_string(), per_minute)]),
        )
    }

    /// Two grants `q` apart in `times` (sorted) that are less than a window apart.
    fn too_close(times: &[Duration], q: usize) -> Option<(Duration, Duration)> {
        times
            .iter()
            .zip(&times[q.min(times.len())..])
            .find(|(a, b)| **b - **a < WINDOW)
            .map(|(a, b)| (*a, *b))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Whatever the arrivals and priorities, never more than the quota in any window,
        /// and no call waits while the window has room and its rate a token: a call that
        /// arrives when both allow it goes at once.
        /// With cancellations, throttling answers and successes mixed in: never more than
        /// the quota in any window, and every call that is not cancelled is granted (no
        /// starvation, no deadlock) within a bounded time.
        #[test]
        fn the_window_holds_and_every_call_goes_whatever_the_answers(
            per_minute in 1u32..8,
            arrivals in proptest::collection::vec((0u64..120_000, 0u64..3, 0u8..6), 1..40),
        ) {
            let rt = paused_runtime();
            let out = rt.block_on(async move {
                let l = Arc::new(bgp_peer_limiter(per_minute));
                let start = Instant::now();
                let mut tasks = Vec::new();
                for (at, prio, what) in arrivals {
                    let l = l.clone();
                    tasks.push(tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(at)).await;
                        let k = (Product::Vpc, "cn-shanghai".to_string(), "DeleteBgpPeer".to_string());
                        match what {
                            // Gives up after 500 ms in the queue.
                            0 => tokio::time::timeout(Duration::from_millis(500), l.acquire_with(&k, prio))
                                .await
                                .ok()
                                .map(|()| start.elapsed()),
                            1 => {
                                l.acquire_with(&k, prio).await;
                                l.throttled(&k);
                                Some(start.elapsed())
                            }
                            2 => {
                                l.throttled_or_start(&k, prio == 0);
                                l.acquire_with(&k, prio).await;
                                Some(start.elapsed())
                            }
                            _ => {
                                l.acquire_with(&k, prio).await;
                                l.succeeded(&k);
                                Some(start.elapsed())
                            }
                        }
                    }));
                }
                let all = async {
                    let mut out = Vec::new();
                    for t in tasks {
                        out.push(t.await.unwrap());
                    }
                    out
                };
                tokio::time::timeout(Duration::from_secs(24 * 3600), all).await
            });
            prop_assert!(out.is_ok(), "a call was never granted (starved or deadlocked)");
            let mut times: Vec<Duration> = out.unwrap().into_iter().flatten().collect();
            times.sort();
            let q = per_minute as usize;
            if let Some((a, b)) = too_close(&times, q) {
                prop_assert!(false, "{} grants within {:?}", q + 1, b - a);
            }
        }

        #[test]
        fn never_more_than_the_quota_in_any_window(
            per_minute in 1u32..12,
            arrivals in proptest::collection::vec((0u64..150_000, 0u64..3), 1..40),
        ) {
            let rt = paused_runtime();
            let granted = rt.block_on(async move {
                let l = Arc::new(bgp_peer_limiter(per_minute));
                let start = Instant::now();
                let mut tasks = Vec::new();
                for (at, prio) in arrivals {
                    let l = l.clone();
                    tasks.push(tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(at)).await;
                        let k = (Product::Vpc, "cn-shanghai".to_string(), "DeleteBgpPeer".to_string());
                        l.acquire_with(&k, prio).await;
                        (Duration::from_millis(at), start.elapsed())
                    }));
                }
                let mut out = Vec::new();
                for t in tasks {
                    out.push(t.await.unwrap());
                }
                out
            });
            let mut times: Vec<Duration> = granted.iter().map(|g| g.1).collect();
            times.sort();
            let q = per_minute as usize;
            if let Some((a, b)) = too_close(&times, q) {
                prop_assert!(false, "{} grants within {:?}", q + 1, b - a);
            }
            for (arrived, at) in &granted {
                prop_assert!(at >= arrived);
            }
            // Work-conserving: at the documented rate the bucket always has a token while
            // the window has room, so a call that waited went the moment an earlier grant
            // left the window (to tokio's timer resolution, 1 ms).
            for (arrived, at) in &granted {
                if at > arrived {
                    prop_assert!(
                        times.iter().any(|t| {
                            *t + WINDOW <= *at && *at <= *t + WINDOW + Duration::from_millis(2)
                        }),
                        "waited from {arrived:?} to {at:?}, not at a window's end"
                    );
                }
            }
        }
    }
}
