//! The executor: runs a [`Graph`] against the API.
//!
//! A ready-queue scheduler over the graph (tokio): a step starts as soon as everything it
//! depends on is done; at most `parallelism` API calls are on the wire at once (a waiting
//! step holds no slot while it sleeps between polls), each paced by the per-(product,
//! region, action) [`limiter`]. Errors are handled by class (design.md §6): gone is success,
//! throttling slows that API down, transient and busy errors are retried with the same
//! ClientToken until the step's deadline, anything else fails the step;
//! `IdempotentParameterMismatch` alone derives a new token generation. A failure skips only
//! the failed step's dependents; independent branches go on (`fail_fast` stops early).
//! Every start and finish is written to the [`journal`] and sent as an [`Event`] to the
//! reporters. A stop signal (Ctrl-C) starts nothing new and lets in-flight steps finish.

pub mod blocker_codes;
pub mod calls;
pub mod gate;
pub mod journal;
pub mod limiter;
pub mod lock;
pub mod poll;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::api::{ErrorClass, WriteClient};
use crate::graph::{Graph, Step, client_token};
use crate::model::{Action, Kind};
use journal::{History, Journal, StepKey};
use limiter::Limiter;

/// How the executor behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// API calls in flight at most (waits sleeping between polls do not count).
    pub parallelism: usize,
    /// Stop scheduling at the first failure.
    pub fail_fast: bool,
    /// First poll of a wait, after its mutation.
    pub poll_initial: Duration,
    /// Longest interval between polls.
    pub poll_max: Duration,
    /// First retry delay after a busy or transient error.
    pub retry_initial: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Per-step deadline overriding the per-kind defaults.
    pub step_timeout: Option<Duration>,
    /// Multiplies the documented quotas (a rehearsal against a scaled emulator).
    pub rate_scale: f64,
    /// Per-action quota overrides (calls per minute).
    pub rate_overrides: std::collections::HashMap<String, u32>,
    /// The end of the plan's window (`window.not_after`) on the runtime's clock: no
    /// mutating call starts at or after it (calls on the wire finish, waits go on).
    pub window_end: Option<Instant>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            parallelism: 32,
            fail_fast: false,
            poll_initial: Duration::from_secs(2),
            poll_max: Duration::from_secs(20),
            retry_initial: Duration::from_secs(2),
            retry_max: Duration::from_secs(30),
            step_timeout: None,
            rate_scale: 1.0,
            rate_overrides: Default::default(),
            window_end: None,
        }
    }
}

impl Options {
    /// The deadline of one step: the override, else the kind's (longer than Terraform's
    /// defaults: 30 min for circuits, 20 for TR attachments, 10 for the rest).
    pub fn deadline(&self, kind: Kind) -> Duration {
        self.step_timeout.unwrap_or_else(|| kind.spec().deadline())
    }
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The call succeeded / the wait's condition was reached.
    Done,
    /// The resource was already gone (`*.NotFound`).
    AlreadyGone,
    /// The API refused it for good.
    Failed {
        /// Error code (or `Transport`, `Decode`).
        code: String,
        /// The message.
        message: String,
        /// The RequestId, for support.
        request_id: Option<String>,
    },
    /// The deadline passed (the call in flight, if any, was abandoned at the deadline).
    TimedOut {
        /// The last state of the resource seen (`Terminating`, `active`, `gone`, ...), or
        /// `unknown` when no answer told it.
        last_state: String,
        /// After how long (the step's deadline).
        after_secs: u64,
        /// The last error answered (a Code, or `Transport`), when the last answer was one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_error: Option<String>,
    },
    /// Not run because a step it depends on failed.
    Skipped {
        /// The failed step that caused it.
        because: usize,
    },
    /// Not run: the apply was stopped first.
    NotStarted,
    /// Stopped (Ctrl-C, fail-fast) after it began: its last call finished, nothing more was
    /// sent; a rerun re-checks it.
    Interrupted,
}

impl Outcome {
    /// Done or already gone.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Done | Outcome::AlreadyGone)
    }

    /// The journal's word for it.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::AlreadyGone => "already_gone",
            Outcome::Failed { .. } => "failed",
            Outcome::TimedOut { .. } => "timed_out",
            Outcome::Skipped { .. } => "skipped",
            Outcome::NotStarted => "not_started",
            Outcome::Interrupted => "interrupted",
        }
    }
}

/// What the executor tells reporters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run begins.
    Begin {
        /// Steps in the graph.
        steps: usize,
    },
    /// A step started.
    Started {
        /// Step id.
        step: usize,
        /// Its deadline, in seconds from now.
        deadline_secs: u64,
    },
    /// A wait polled, or a call is retried.
    Progress {
        /// Step id.
        step: usize,
        /// Current state or error code.
        state: String,
        /// Attempts so far.
        attempt: u32,
    },
    /// A step finished.
    Finished {
        /// Step id.
        step: usize,
        /// How.
        #[serde(flatten)]
        outcome: Outcome,
        /// Seconds it took.
        elapsed_secs: f64,
    },
    /// Ctrl-C: nothing new starts.
    Stopping,
    /// The plan's window closed: no mutating call starts any more; calls on the wire and
    /// waits finish.
    WindowClosed,
}

/// One step's line in the final report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepResult {
    /// The step.
    pub step: Step,
    /// How it ended.
    pub outcome: Outcome,
    /// API attempts it made.
    pub attempts: u32,
    /// Seconds it took.
    pub elapsed_secs: f64,
    /// The ClientToken it used last.
    pub client_token: Option<String>,
}

/// The final report of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Every step, in graph order.
    pub steps: Vec<StepResult>,
    /// True when a stop signal or fail-fast ended it early.
    pub interrupted: bool,
    /// True when the plan's window closed before every change was made.
    pub window_closed: bool,
    /// Wall time in seconds.
    pub elapsed_secs: f64,
}

impl Report {
    /// True when every step succeeded.
    pub fn complete(&self) -> bool {
        !self.interrupted
            && !self.window_closed
            && self.steps.iter().all(|s| s.outcome.is_success())
    }

    /// Changes and deletions (the vocabulary of [`crate::graph::Counts`]), made and planned:
    /// `(changes made, changes, deletions made, deletions)`. A change is made when every
    /// step of its resource succeeded; a deletion when its Delete call did.
    pub fn resources(&self) -> (usize, usize, usize, usize) {
        let mut all: BTreeMap<(Kind, &str), bool> = BTreeMap::new();
        let (mut deletions, mut deleted) = (0, 0);
        for s in &self.steps {
            let ok = all.entry((s.step.kind, &s.step.resource)).or_insert(true);
            *ok &= s.outcome.is_success();
            if s.step.action == Action::Delete {
                deletions += 1;
                deleted += usize::from(s.outcome.is_success());
            }
        }
        let made = all.values().filter(|ok| **ok).count();
        (made, all.len(), deleted, deletions)
    }

    /// Counts per outcome word.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for s in &self.steps {
            *m.entry(s.outcome.word()).or_default() += 1;
        }
        m
    }
}

struct Ctx {
    client: WriteClient,
    limiter: Limiter,
    /// Bounds the API calls in flight (`parallelism`): a step holds a permit only while one
    /// of its calls is on the wire, so thousands of waits can sleep side by side. Queued
    /// calls go critical-path first.
    calls: gate::Gate,
    /// Coalesces the polls of waiting steps.
    poller: poll::Poller,
    /// Per step: the expected time of the longest path from it to the end of the graph.
    tail: Vec<u64>,
    opts: Options,
    events: mpsc::UnboundedSender<Event>,
    plan_fingerprint: String,
    /// True once Ctrl-C (or fail-fast) stops the run: no new call starts.
    stop: watch::Receiver<bool>,
    /// Per step: its (kind, resource), to tell whether a blocker code's cause is still being
    /// removed by this run ([`blocker_codes::pending_removal`]).
    resources: Vec<(Kind, String)>,
    /// Resource id → the id of the resource it hangs off.
    parents: std::collections::HashMap<String, String>,
    /// Per step: finished (done, failed or skipped).
    finished: Vec<std::sync::atomic::AtomicBool>,
}

impl Ctx {
    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Is an unfinished step of this run removing what blocker code `b` names?
    fn removal_pending(&self, b: &blocker_codes::BlockerCode, step: &Step) -> bool {
        blocker_codes::pending_removal(b, step, &self.resources, &self.parents, |i| {
            self.finished[i].load(std::sync::atomic::Ordering::Relaxed)
        })
    }

    /// True once the plan's window has closed: no mutating call may start.
    fn window_closed(&self) -> bool {
        window_closed(self.opts.window_end)
    }
}

fn window_closed(end: Option<Instant>) -> bool {
    end.is_some_and(|e| Instant::now() >= e)
}

/// What a finished task reports back to the scheduler.
struct Done {
    id: usize,
    outcome: Outcome,
    attempts: u32,
    generation: u32,
    token: Option<String>,
    elapsed: f64,
}

fn key_of(step: &Step) -> StepKey {
    (step.kind, step.resource.clone(), step.action)
}

/// Run the graph. `stop` turning true starts nothing new; in-flight steps finish.
pub async fn run(
    client: WriteClient,
    graph: &Graph,
    opts: Options,
    history: &History,
    mut journal: Option<&mut Journal>,
    events: mpsc::UnboundedSender<Event>,
    mut stop: watch::Receiver<bool>,
) -> Report {
    let started = Instant::now();
    let n = graph.steps.len();
    // Steps see a stop signal that fail-fast can raise too.
    let (task_stop_tx, task_stop) = watch::channel(false);
    let ctx = Arc::new(Ctx {
        client,
        limiter: Limiter::new(opts.rate_scale, opts.rate_overrides.clone()),
        calls: gate::Gate::new(opts.parallelism),
        poller: poll::Poller::default(),
        tail: tails(graph),
        opts: opts.clone(),
        events: events.clone(),
        plan_fingerprint: graph.plan_fingerprint.clone(),
        stop: task_stop,
        resources: graph
            .steps
            .iter()
            .map(|s| (s.kind, s.resource.clone()))
            .collect(),
        parents: graph
            .steps
            .iter()
            .filter_map(|s| Some((s.resource.clone(), s.parent.clone()?)))
            .collect(),
        finished: (0..n)
            .map(|_| std::sync::atomic::AtomicBool::new(false))
            .collect(),
    });
    let _ = events.send(Event::Begin { steps: n });
    if let Some(j) = journal.as_mut() {
        j.begin(&graph.plan_fingerprint, n);
    }
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting: Vec<usize> = vec![0; n];
    for s in &graph.steps {
        waiting[s.id] = s.depends_on.len();
        for d in &s.depends_on {
            dependents[*d].push(s.id);
        }
    }
    let mut results: Vec<Option<StepResult>> = vec![None; n];
    let mut ready: VecDeque<usize> = (0..n).filter(|i| waiting[*i] == 0).collect();
    let mut set: tokio::task::JoinSet<Done> = tokio::task::JoinSet::new();
    let mut stopping = false;
    let mut failed = false;
    let mut closed = false;
    loop {
        if *stop.borrow() && !stopping {
            stopping = true;
            let _ = events.send(Event::Stopping);
        }
        if !closed && window_closed(opts.window_end) {
            closed = true;
            let _ = events.send(Event::WindowClosed);
        }
        if opts.fail_fast && failed {
            stopping = true;
        }
        if stopping {
            let _ = task_stop_tx.send(true);
        }
        while let Some(id) = ready.pop_front().filter(|_| !stopping) {
            if closed && graph.steps[id].action != Action::Wait {
                // After the window: a mutation that becomes ready is never started.
                continue;
            }
            let step = graph.steps[id].clone();
            let key = key_of(&step);
            let generation = history.generations.get(&key).copied().unwrap_or(0);
            let token = token_for(&ctx.plan_fingerprint, &step, generation);
            if let Some(j) = journal.as_mut() {
                j.started(&key, generation, token.as_deref());
            }
            tracing::debug!(step = id, kind = %step.kind, resource = %step.resource, action = %step.action, generation, "step scheduled");
            let ctx = ctx.clone();
            set.spawn(async move { run_step(ctx, step, generation).await });
        }
        if set.is_empty() {
            break;
        }
        // Wake at the window's end, so that the steps that become ready afterwards are held.
        let window_end = opts.window_end.filter(|_| !closed);
        let done = tokio::select! {
            joined = set.join_next() => match joined {
                Some(Ok(d)) => d,
                Some(Err(e)) => {
                    // A panicking step task: fail it loudly rather than hang.
                    tracing::error!("a step task failed: {e}");
                    continue;
                }
                None => break,
            },
            _ = stop.changed(), if !stopping => continue,
            () = sleep_until_opt(window_end), if window_end.is_some() => continue,
        };
        let step = &graph.steps[done.id];
        let key = key_of(step);
        if let Some(j) = journal.as_mut() {
            if done.generation > 0 {
                j.started(&key, done.generation, done.token.as_deref());
            }
            j.finished(&key, done.outcome.word(), detail(&done.outcome));
        }
        tracing::debug!(step = done.id, kind = %step.kind, resource = %step.resource, action = %step.action, outcome = done.outcome.word(), attempts = done.attempts, secs = done.elapsed, "step finished");
        let _ = events.send(Event::Finished {
            step: done.id,
            outcome: done.outcome.clone(),
            elapsed_secs: done.elapsed,
        });
        let ok = done.outcome.is_success();
        ctx.finished[done.id].store(true, std::sync::atomic::Ordering::Relaxed);
        let interrupted_step = done.outcome == Outcome::Interrupted;
        let cause_word = done.outcome.word().replace('_', " ");
        results[done.id] = Some(StepResult {
            step: step.clone(),
            outcome: done.outcome,
            attempts: done.attempts,
            elapsed_secs: done.elapsed,
            client_token: done.token,
        });
        if ok {
            for d in &dependents[done.id] {
                waiting[*d] -= 1;
                if waiting[*d] == 0 && results[*d].is_none() {
                    ready.push_back(*d);
                }
            }
        } else if interrupted_step {
            // Stopped, not failed: what depends on it simply does not start (a rerun does
            // it), so nothing is reported as skipped because of a failure.
        } else {
            failed = true;
            // Skip everything downstream of the failure, naming the cause.
            let mut stack = dependents[done.id].clone();
            while let Some(d) = stack.pop() {
                if results[d].is_some() {
                    continue;
                }
                let outcome = Outcome::Skipped { because: done.id };
                ctx.finished[d].store(true, std::sync::atomic::Ordering::Relaxed);
                if let Some(j) = journal.as_mut() {
                    j.finished(
                        &key_of(&graph.steps[d]),
                        outcome.word(),
                        Some(format!("step {} {cause_word}", done.id)),
                    );
                }
                let _ = events.send(Event::Finished {
                    step: d,
                    outcome: outcome.clone(),
                    elapsed_secs: 0.0,
                });
                results[d] = Some(StepResult {
                    step: graph.steps[d].clone(),
                    outcome,
                    attempts: 0,
                    elapsed_secs: 0.0,
                    client_token: None,
                });
                stack.extend(dependents[d].iter().copied());
            }
        }
    }
    let interrupted = stopping;
    let window_closed = closed
        && results
            .iter()
            .any(|r| r.as_ref().is_none_or(|r| !r.outcome.is_success()));
    let steps: Vec<StepResult> = results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or_else(|| StepResult {
                step: graph.steps[i].clone(),
                outcome: Outcome::NotStarted,
                attempts: 0,
                elapsed_secs: 0.0,
                client_token: graph.steps[i].client_token.clone(),
            })
        })
        .collect();
    if let Some(j) = journal.as_mut() {
        j.end(interrupted);
    }
    Report {
        steps,
        interrupted,
        window_closed,
        elapsed_secs: started.elapsed().as_secs_f64(),
    }
}

fn detail(o: &Outcome) -> Option<String> {
    match o {
        Outcome::Failed {
            code, request_id, ..
        } => Some(match request_id {
            Some(r) => format!("{code} (request id {r})"),
            None => code.clone(),
        }),
        Outcome::TimedOut {
            last_state,
            last_error,
            ..
        } => Some(match last_error {
            Some(e) => format!("last state {last_state}, last error {e}"),
            None => format!("last state {last_state}"),
        }),
        _ => None,
    }
}

/// The ClientToken of a step at a generation: generation 0 is the one `plan` shows; a later
/// generation derives from it, so it stays in the same scope (see
/// [`crate::graph::token_scope`]).
fn token_for(_plan_fingerprint: &str, step: &Step, generation: u32) -> Option<String> {
    match (&step.client_token, generation) {
        (None, _) => None,
        (Some(t), 0) => Some(t.clone()),
        (Some(t), g) => Some(client_token(t, step.kind, &step.resource, step.action, g)),
    }
}

async fn run_step(ctx: Arc<Ctx>, step: Step, generation: u32) -> Done {
    let start = Instant::now();
    let (outcome, attempts, generation, token) = if step.action == Action::Wait {
        let (o, a) = wait_step(&ctx, &step).await;
        (o, a, generation, None)
    } else {
        mutation_step(&ctx, &step, generation).await
    };
    Done {
        id: step.id,
        outcome,
        attempts,
        generation,
        token,
        elapsed: start.elapsed().as_secs_f64(),
    }
}

async fn mutation_step(
    ctx: &Ctx,
    step: &Step,
    mut generation: u32,
) -> (Outcome, u32, u32, Option<String>) {
    let limit = ctx.opts.deadline(step.kind);
    let deadline = Instant::now() + limit;
    let key = calls::limit_key(step, &step.api);
    let mut token = token_for(&ctx.plan_fingerprint, step, generation);
    let mut delay = ctx.opts.retry_initial;
    let mut attempts = 0u32;
    // The last state a probe saw, and the last error: what a timeout reports.
    let mut last_state: Option<String> = None;
    let mut last_error: Option<String>;
    let timed_out = |last_state: &Option<String>, last_error: &Option<String>| Outcome::TimedOut {
        last_state: last_state.clone().unwrap_or_else(|| "unknown".into()),
        after_secs: limit.as_secs(),
        last_error: last_error.clone(),
    };
    loop {
        if ctx.stopped() {
            let o = if attempts == 0 {
                Outcome::NotStarted
            } else {
                Outcome::Interrupted
            };
            return (o, attempts, generation, token);
        }
        // Quota tokens and call slots both go to the longest remaining path first.
        ctx.limiter.acquire_with(&key, ctx.tail[step.id]).await;
        let permit = ctx.calls.acquire(ctx.tail[step.id]).await;
        // The window is checked at the last moment before the call goes out: a call queued
        // behind the rate limiter or the parallelism bound does not start after it closed.
        if ctx.stopped() || ctx.window_closed() {
            drop(permit);
            let o = if attempts == 0 {
                Outcome::NotStarted
            } else {
                Outcome::Interrupted
            };
            return (o, attempts, generation, token);
        }
        if attempts == 0 {
            let _ = ctx.events.send(Event::Started {
                step: step.id,
                deadline_secs: limit.as_secs(),
            });
        }
        attempts += 1;
        // The deadline bounds the call in flight too: no request outlives its step.
        let result =
            tokio::time::timeout_at(deadline, calls::mutate(&ctx.client, step, token.as_deref()))
                .await;
        drop(permit);
        let Ok(result) = result else {
            last_error = Some("no answer before the deadline".into());
            return (
                timed_out(&last_state, &last_error),
                attempts,
                generation,
                token,
            );
        };
        let err = match result {
            Ok(()) => {
                ctx.limiter.succeeded(&key);
                return (Outcome::Done, attempts, generation, token);
            }
            Err(e) => e,
        };
        let code = err.code().unwrap_or(match &err {
            crate::api::CallError::Transport { .. } => "Transport",
            _ => "Error",
        });
        last_error = Some(code.to_string());
        // A blocker code is busy only while this run still removes its cause; otherwise it
        // fails the step now, explained.
        let blocker = blocker_codes::lookup(code).filter(|_| err.api().is_some());
        let class = match blocker {
            Some(b) if ctx.removal_pending(b, step) => ErrorClass::Busy,
            Some(_) => ErrorClass::Fatal,
            None => err.class(),
        };
        match class {
            ErrorClass::Gone => {
                let o = if attempts == 1 {
                    Outcome::AlreadyGone
                } else {
                    Outcome::Done
                };
                return (o, attempts, generation, token);
            }
            ErrorClass::Throttled => ctx.limiter.throttled(&key),
            ErrorClass::Transient | ErrorClass::Busy | ErrorClass::Fatal => {
                if err.api().is_some_and(|a| a.needs_new_token()) && generation < 5 {
                    generation += 1;
                    token = token_for(&ctx.plan_fingerprint, step, generation);
                    continue;
                }
                // The change may already have happened (an answer lost after the commit, a
                // call without ClientToken repeated, a concurrent actor): look before
                // insisting. One read instead of a replay, and no false failure.
                let probed = {
                    let _permit = ctx.calls.acquire(ctx.tail[step.id]).await;
                    tokio::time::timeout_at(deadline, calls::probe(&ctx.client, step)).await
                };
                if let Ok(Ok(p)) = probed {
                    if calls::already_applied(step, &p) {
                        return (Outcome::Done, attempts, generation, token);
                    }
                    last_state = Some(p.state);
                }
                if class == ErrorClass::Fatal {
                    let api = err.api();
                    let message = api.map_or_else(|| err.to_string(), |a| a.message.clone());
                    return (
                        Outcome::Failed {
                            code: code.to_string(),
                            message: match blocker {
                                Some(b) => b.explain(step, &message),
                                None => message,
                            },
                            request_id: api.and_then(|a| a.request_id.clone()),
                        },
                        attempts,
                        generation,
                        token,
                    );
                }
            }
        }
        if Instant::now() + delay > deadline {
            return (
                timed_out(&last_state, &last_error),
                attempts,
                generation,
                token,
            );
        }
        let _ = ctx.events.send(Event::Progress {
            step: step.id,
            state: format!("{code}: retrying in {:.1}s", delay.as_secs_f64()),
            attempt: attempts,
        });
        if sleep_or_stop(ctx, delay).await {
            return (Outcome::Interrupted, attempts, generation, token);
        }
        delay = (delay * 2).min(ctx.opts.retry_max);
    }
}

/// Sleep until `at`; never returns when there is no `at`.
async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Sleep for `d`, or less if the run is stopped; true when stopped.
async fn sleep_or_stop(ctx: &Ctx, d: Duration) -> bool {
    let mut stop = ctx.stop.clone();
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep(d) => false,
        _ = stop.wait_for(|s| *s) => true,
    }
}

async fn wait_step(ctx: &Arc<Ctx>, step: &Step) -> (Outcome, u32) {
    let limit = ctx.opts.deadline(step.kind);
    let deadline = Instant::now() + limit;
    let _ = ctx.events.send(Event::Started {
        step: step.id,
        deadline_secs: limit.as_secs(),
    });
    let (rx, watch) = poll::Poller::register(ctx, step);
    let mut stop = ctx.stop.clone();
    let outcome = tokio::select! {
        polled = rx => match polled {
            Ok(poll::Polled::Reached) => Outcome::Done,
            Ok(poll::Polled::Failed(o)) => o,
            Err(_) => Outcome::Interrupted,
        },
        () = tokio::time::sleep_until(deadline) => {
            // The last state a poll saw (`unknown` when none answered), and the retryable
            // error of the last poll if it failed.
            let last_state = watch.last.lock().map(|l| l.clone()).unwrap_or_default();
            let last_state = if last_state.is_empty() { "unknown".to_string() } else { last_state };
            let last_error = watch.error.lock().map(|e| e.clone()).unwrap_or_default();
            Outcome::TimedOut { last_state, after_secs: limit.as_secs(), last_error }
        },
        _ = stop.wait_for(|s| *s) => Outcome::Interrupted,
    };
    (
        outcome,
        watch.attempts.load(std::sync::atomic::Ordering::Relaxed),
    )
}

/// Expected seconds of the longest path from each step to the end of the graph (waits on
/// circuits weigh most, mutations least): the priority of each step's calls.
fn tails(graph: &Graph) -> Vec<u64> {
    let cost = |s: &Step| -> u64 {
        match s.action {
            Action::Wait => s.kind.spec().wait_weight(),
            _ => 1,
        }
    };
    let mut tail = vec![0u64; graph.steps.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); graph.steps.len()];
    for s in &graph.steps {
        for d in &s.depends_on {
            dependents[*d].push(s.id);
        }
    }
    // Steps are in execution order, so a reverse pass sees dependents first.
    for s in graph.steps.iter().rev() {
        let after = dependents[s.id].iter().map(|d| tail[*d]).max().unwrap_or(0);
        tail[s.id] = cost(s) + after;
    }
    tail
}

#[cfg(test)]
mod tests;
