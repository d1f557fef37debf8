//! Coalesced polling: every wait registers with a poller per scope (a kind in a region, or
//! the transit router, route table or VPN gateway its resource lives in), and ONE List or
//! Describe call answers every pending wait of that scope — filtered by up to 5 ids, or the
//! whole scope paged by 50 when more are pending. While a wait is young (under twice
//! `poll_initial`, or than 1.25 × the longest transition of its kind already seen in this run)
//! its scope is re-polled every tick; after that the interval grows ×1.5 up to `poll_max`.
//! Once waits of a kind have finished in this run, a later wait backs off ×1.5 of its age
//! until the time every one of them was still under way, and ticks only from then
//! ([`next_poll`]). A resource missing from a complete answer is gone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::calls::{self, Probe};
use super::{Ctx, Event, Outcome};
use crate::api::{CallError, ErrorClass, WriteClient};
use crate::graph::Step;
use crate::kinds::PollScope;
use crate::model::Kind;

/// Ids per filtered call (the API's filter limit).
const FILTER_IDS: usize = 5;

/// Confirmations of ids missing from one walk sent at once (each takes its turn at the
/// action's quota; together they hold the poll's one call slot, and the client's cap on
/// requests in flight bounds them).
const CONFIRM_CONCURRENCY: usize = 16;

/// What a poll scope lists.
pub type Scope = PollScope;

/// How a wait ended, from the poller.
#[derive(Debug)]
pub enum Polled {
    /// The condition was reached.
    Reached,
    /// A poll failed for good.
    Failed(Outcome),
}

/// What a waiting step shares with the poller.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    /// Last state seen (`unknown` until a poll answers).
    pub last: Arc<Mutex<String>>,
    /// The retryable error of the last poll, when it failed (cleared by an answer).
    pub error: Arc<Mutex<Option<String>>>,
    /// Polls that covered it.
    pub attempts: Arc<AtomicU32>,
}

struct Entry {
    /// Shared with every poll that covers it (a poll takes the pending steps without
    /// copying them).
    step: Arc<Step>,
    registered: Instant,
    due: Instant,
    interval: Duration,
    /// Time since `registered` of the last poll that did not find it done.
    under_way: Option<Duration>,
    tx: Option<oneshot::Sender<Polled>>,
    watch: Watch,
}

#[derive(Default)]
struct ScopeState {
    entries: Vec<Entry>,
    running: bool,
    /// Pages of the scope's last whole listing (0 until one was made).
    pages: usize,
}

/// The pollers of one run.
#[derive(Default)]
pub struct Poller {
    scopes: Mutex<HashMap<Scope, ScopeState>>,
    /// What the finished waits of each (kind, awaited state) taught this run.
    learned: Mutex<HashMap<(Kind, String), Learned>>,
}

/// What the finished waits of one kind and awaited state taught a run ([`next_poll`]).
#[derive(Debug, Clone, Copy)]
struct Learned {
    /// The longest of them: waits keep ticking until a little past it before they back off.
    longest: Duration,
    /// How long every one of them was still under way: the least of each wait's last poll
    /// that did not find it done (a tick before its end when its first poll found it done).
    /// Later waits back off ×1.5 until then instead of ticking.
    fastest: Duration,
}

impl Poller {
    /// Register a wait; its first poll is due after `poll_initial`.
    pub(super) fn register(ctx: &Arc<Ctx>, step: &Step) -> (oneshot::Receiver<Polled>, Watch) {
        let (tx, rx) = oneshot::channel();
        let watch = Watch::default();
        *watch.last.lock().unwrap_or_else(|p| p.into_inner()) = "unknown".into();
        let now = Instant::now();
        let scope = Scope::of(step);
        let spawn = {
            let mut scopes = ctx.poller.scopes.lock().unwrap_or_else(|p| p.into_inner());
            let st = scopes.entry(scope.clone()).or_default();
            st.entries.push(Entry {
                step: Arc::new(step.clone()),
                registered: now,
                due: now + ctx.opts.poll_initial,
                interval: tick(&ctx.opts),
                under_way: None,
                tx: Some(tx),
                watch: watch.clone(),
            });
            !std::mem::replace(&mut st.running, true)
        };
        if spawn {
            let ctx = ctx.clone();
            tokio::spawn(async move { run_scope(ctx, scope).await });
        }
        (rx, watch)
    }
}

/// When a wait not yet done is polled again: `(interval, after)`, the wait's new backoff
/// interval and the time from now to its next poll. `age`: time since it registered;
/// `interval`: its backoff interval so far (a tick at first); `longest` / `fastest`: the
/// longest wait of its kind and state seen in this run, and how long every such wait was
/// still under way ([`Poller`]).
///
/// - Younger than `fastest`: ×1.5 of its age, but not past `fastest` nor more than
///   `poll_max` from now (never later than half again as long as it has waited, so a wait
///   quicker than the ones before it is still found within half its time; no tick is
///   spent before any wait ever finished).
/// - Then, while young (under twice `poll_initial` or 1.25 × `longest`): every tick.
/// - After that: the interval grows ×1.5 up to `poll_max`.
pub(super) fn next_poll(
    opts: &super::Options,
    age: Duration,
    interval: Duration,
    longest: Option<Duration>,
    fastest: Option<Duration>,
) -> (Duration, Duration) {
    let tick = tick(opts);
    if let Some(f) = fastest
        && age + tick < f
    {
        let next = age.mul_f64(1.5).min(f);
        return (
            interval,
            next.saturating_sub(age).max(tick).min(opts.poll_max),
        );
    }
    let young = (opts.poll_initial * 2).max(longest.map_or(Duration::ZERO, |d| d.mul_f64(1.25)));
    if age >= young {
        let grown = interval.mul_f64(1.5).min(opts.poll_max);
        (grown, grown)
    } else {
        (interval, interval)
    }
}

/// The re-poll interval of young waits.
pub(super) fn tick(opts: &super::Options) -> Duration {
    (opts.poll_initial / 5)
        .max(Duration::from_millis(100))
        .min(opts.poll_initial)
}

async fn run_scope(ctx: Arc<Ctx>, scope: Scope) {
    loop {
        let next = {
            let mut scopes = ctx.poller.scopes.lock().unwrap_or_else(|p| p.into_inner());
            let Some(st) = scopes.get_mut(&scope) else {
                return;
            };
            st.entries
                .retain(|e| e.tx.as_ref().is_some_and(|tx| !tx.is_closed()));
            match st.entries.iter().map(|e| e.due).min() {
                Some(due) => due,
                None => {
                    scopes.remove(&scope);
                    return;
                }
            }
        };
        tokio::time::sleep_until(next).await;
        let (steps, pages): (Vec<Arc<Step>>, usize) = {
            let scopes = ctx.poller.scopes.lock().unwrap_or_else(|p| p.into_inner());
            let Some(st) = scopes.get(&scope) else { return };
            (
                st.entries.iter().map(|e| e.step.clone()).collect(),
                st.pages,
            )
        };
        if steps.is_empty() {
            continue;
        }
        let action = calls::probe_action(&steps[0]);
        let key = calls::limit_key(&steps[0], action);
        // A poll's quota priority is that of the most critical wait it answers.
        let priority = steps.iter().map(|s| ctx.tail[s.id]).max().unwrap_or(0);
        ctx.limiter.acquire_with(&key, priority).await;
        // What a poll that does not find a wait done says is how long it was still under
        // way when the poll was sent.
        let sent = Instant::now();
        let result = {
            let _permit = ctx.calls.acquire(u64::MAX).await;
            probe_scope(&ctx, &scope, &steps, pages, (&key, priority)).await
        };
        // A scope that no longer exists (its transit router or gateway is gone) holds nothing.
        let result = match result {
            Err(e) if e.class() == ErrorClass::Gone => Ok((HashMap::new(), None)),
            other => other,
        };
        let now = Instant::now();
        let mut scopes = ctx.poller.scopes.lock().unwrap_or_else(|p| p.into_inner());
        let Some(st) = scopes.get_mut(&scope) else {
            return;
        };
        match result {
            Ok((states, walked)) => {
                if let Some(pages) = walked {
                    st.pages = pages;
                }
                ctx.limiter.succeeded(&key);
                let polled: std::collections::HashSet<usize> = steps.iter().map(|s| s.id).collect();
                for e in &mut st.entries {
                    if !polled.contains(&e.step.id) {
                        continue;
                    }
                    let state = states
                        .get(&e.step.resource)
                        .cloned()
                        .unwrap_or_else(|| "gone".to_string());
                    e.watch.attempts.fetch_add(1, Ordering::Relaxed);
                    *e.watch.error.lock().unwrap_or_else(|p| p.into_inner()) = None;
                    e.watch
                        .last
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clone_from(&state);
                    let learn_key = (e.step.kind, e.step.until.clone().unwrap_or_default());
                    if calls::reached(
                        &e.step,
                        &Probe {
                            state: state.clone(),
                        },
                    ) {
                        let took = now.duration_since(e.registered);
                        let under_way = e
                            .under_way
                            .unwrap_or_else(|| took.saturating_sub(tick(&ctx.opts)));
                        let mut learned =
                            ctx.poller.learned.lock().unwrap_or_else(|p| p.into_inner());
                        let l = learned.entry(learn_key).or_insert(Learned {
                            longest: took,
                            fastest: under_way,
                        });
                        l.longest = l.longest.max(took);
                        l.fastest = l.fastest.min(under_way);
                        if let Some(tx) = e.tx.take() {
                            let _ = tx.send(Polled::Reached);
                        }
                        continue;
                    }
                    e.under_way = Some(sent.saturating_duration_since(e.registered));
                    // Every poll is reported (the reporters print changes, and count polls for
                    // their heartbeats).
                    let _ = ctx.events.send(Event::Progress {
                        step: e.step.id,
                        state,
                        attempt: e.watch.attempts.load(Ordering::Relaxed),
                    });
                    let learned = ctx
                        .poller
                        .learned
                        .lock()
                        .map(|m| m.get(&learn_key).copied())
                        .unwrap_or_default();
                    let (interval, after) = next_poll(
                        &ctx.opts,
                        now.duration_since(e.registered),
                        e.interval,
                        learned.map(|l| l.longest),
                        learned.map(|l| l.fastest),
                    );
                    e.interval = interval;
                    e.due = now + after;
                }
            }
            Err(err) => {
                let class = err.class();
                if class == ErrorClass::Throttled {
                    ctx.limiter.throttled(&key);
                }
                for e in &mut st.entries {
                    if class == ErrorClass::Fatal {
                        let api = err.api();
                        if let Some(tx) = e.tx.take() {
                            let _ = tx.send(Polled::Failed(Outcome::Failed {
                                code: err.code().unwrap_or("Error").to_string(),
                                message: api.map_or_else(|| err.to_string(), |a| a.message.clone()),
                                request_id: api.and_then(|a| a.request_id.clone()),
                            }));
                        }
                    } else {
                        *e.watch.error.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(err.code().unwrap_or("transport error").to_string());
                        e.due = now + e.interval;
                    }
                }
            }
        }
        st.entries.retain(|e| e.tx.is_some());
    }
}

/// One call (or a few pages) for every pending step of a scope: id → current state.
///
/// A listing of more than one page is not a snapshot: items deleted while it is read shift
/// later items onto pages already read. So an id missing from a long listing is confirmed
/// with a query by id before it counts as gone. (A second walk cannot stand in for it: pages
/// fetched together, listings of parents rather than of the resources, or an order that
/// moves items can make two walks miss the same live resource; one did, at 20,000
/// resources in the benchmark, and an attachment was deleted under a live propagation.)
async fn probe_scope(
    ctx: &Ctx,
    scope: &Scope,
    steps: &[Arc<Step>],
    pages: usize,
    (key, priority): (&super::limiter::LimitKey, u64),
) -> Result<(HashMap<String, String>, Option<usize>), CallError> {
    if !scope.kind.spec().listable() {
        // Scopes of one resource (a VPN gateway's connections): the step's own probe; every
        // step of the scope shares its answer.
        let p = calls::probe(&ctx.client, &steps[0]).await?;
        return Ok((
            steps
                .iter()
                .map(|s| (s.resource.clone(), p.state.clone()))
                .collect(),
            None,
        ));
    }
    let ids: Vec<String> = steps.iter().map(|s| s.resource.clone()).collect();
    // By ids when few, or when filtered calls (5 ids each, where the kind's poll filters by
    // several) take fewer calls than the scope's last walk had pages.
    let per_call = scope.kind.spec().poll_ids_per_call();
    let filtered = ids.len() <= FILTER_IDS
        || (per_call > 0 && pages > 0 && ids.len().div_ceil(per_call) < pages);
    let (mut out, listed) = query(
        &ctx.client,
        scope,
        if filtered { Some(&ids) } else { None },
        false,
    )
    .await?;
    let walked = (!filtered).then(|| listed.div_ceil(crate::api::ops::PAGE_SIZE));
    if !filtered && listed >= crate::api::ops::PAGE_SIZE {
        let absent: Vec<String> = ids
            .iter()
            .filter(|id| !out.contains_key(*id))
            .cloned()
            .collect();
        // Concurrently, one call per id (or per filtered batch where the kind's poll takes
        // several): a table whose links are being removed can miss dozens in one walk.
        let mut batches = absent.chunks(per_call.max(1));
        let mut confirms = futures_util::stream::FuturesUnordered::new();
        loop {
            while confirms.len() < CONFIRM_CONCURRENCY {
                let Some(ids) = batches.next() else { break };
                let ids = ids.to_vec();
                confirms.push(Box::pin(async move {
                    // Each confirmation is a call of the scope's action: it takes its own
                    // turn at the quota.
                    ctx.limiter.acquire_with(key, priority).await;
                    match query(&ctx.client, scope, Some(&ids), true).await {
                        // Asked by id, "not found" says those ids are gone (not the scope:
                        // the walk just listed it).
                        Err(e) if e.class() == ErrorClass::Gone => Ok(HashMap::new()),
                        other => other.map(|(found, _)| found),
                    }
                }));
            }
            match confirms.next().await {
                Some(found) => out.extend(found?),
                None => break,
            }
        }
    }
    Ok((out, walked))
}

/// The states of `steps` in `scope`: by `ids` (batched by 5 where the API filters; for
/// links and attachments by their table or router, or `one_by_one`) or by listing the
/// whole scope. Returns the states and how many items the answer held.
pub(super) async fn query(
    client: &WriteClient,
    scope: &Scope,
    ids: Option<&Vec<String>>,
    one_by_one: bool,
) -> Result<(HashMap<String, String>, usize), CallError> {
    let c = client.reader();
    scope
        .kind
        .spec()
        .poll_list(&c, scope, ids.map(Vec::as_slice), one_by_one)
        .await
}
