//! Reporters of an apply: consumers of the executor's [`Event`] stream, and the final report.
//!
//! - on a TTY, an indicatif view: an overall bar with the [`eta`] from the critical path,
//!   one line per step in flight (elapsed / deadline, the state it last saw), and one
//!   persistent line per resource when it is gone;
//! - otherwise, plain log lines on stderr, with a heartbeat every minute for each wait still
//!   pending (`still Terminating after 5m (poll 12, deadline 30m)`) and the ETA;
//! - with `--output json`, JSON lines on stdout ([`events`], one per event, then the report).
//!
//! Steps are named as the preview numbers them: the resource, then the step's position
//! among that resource's steps (`physical_connection pc-1: 2/3 wait until Terminated`).

pub mod eta;
pub mod events;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use crate::exec::{Event, Outcome, Report};
use crate::graph::{Graph, Step};

/// How often lines mode reports the waits still pending.
pub const HEARTBEAT: Duration = Duration::from_secs(60);

/// Which reporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// indicatif bars (stderr is a TTY).
    Bars,
    /// Plain lines on stderr.
    Lines,
    /// JSON lines on stdout.
    Json,
}

/// Step names as the preview numbers them: per step, its resource and its position among
/// that resource's steps.
#[derive(Debug, Clone)]
pub struct Labels {
    labels: Vec<String>,
}

impl Labels {
    /// Labels of `steps` (in graph order).
    pub fn new<'a>(steps: impl IntoIterator<Item = &'a Step>) -> Labels {
        let steps: Vec<&Step> = steps.into_iter().collect();
        let mut count: BTreeMap<(crate::model::Kind, &str), usize> = BTreeMap::new();
        for s in &steps {
            *count.entry((s.kind, s.resource.as_str())).or_default() += 1;
        }
        let mut seen: BTreeMap<(crate::model::Kind, &str), usize> = BTreeMap::new();
        let labels = steps
            .iter()
            .map(|s| {
                let key = (s.kind, s.resource.as_str());
                let n = seen.entry(key).or_default();
                *n += 1;
                let what = match (&s.until, s.action) {
                    (Some(u), crate::model::Action::Wait) => format!("wait until {u}"),
                    _ => s.action.to_string(),
                };
                format!("{} {}: {n}/{} {what}", s.kind, s.resource, count[&key])
            })
            .collect();
        Labels { labels }
    }

    /// The label of step `id`.
    pub fn get(&self, id: usize) -> &str {
        self.labels.get(id).map_or("?", String::as_str)
    }
}

pub(crate) fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Done => "done".into(),
        Outcome::AlreadyGone => "already gone".into(),
        Outcome::Failed {
            code,
            message,
            request_id,
        } => match request_id {
            Some(r) => format!("FAILED {code}: {message} (request id {r})"),
            None => format!("FAILED {code}: {message}"),
        },
        Outcome::TimedOut {
            last_state,
            after_secs,
            last_error,
        } => {
            let state = if last_state == "unknown" {
                format!("TIMED OUT after {after_secs}s, no state seen")
            } else {
                format!("TIMED OUT after {after_secs}s, still {last_state}")
            };
            match last_error {
                Some(e) => format!("{state} (last error {e})"),
                None => state,
            }
        }
        Outcome::Skipped { because } => format!("skipped: step {because} did not complete"),
        Outcome::NotStarted => "not started".into(),
        Outcome::Interrupted => "interrupted (rerun to finish)".into(),
    }
}

/// [`outcome_text`], with a skipped step's cause named and said as it ended (`failed`,
/// `timed out`): `skipped: physical_connection pc-1: 2/3 wait until Terminated timed out`.
fn outcome_text_with_cause(o: &Outcome, labels: &Labels, cause: Option<&Outcome>) -> String {
    match (o, cause) {
        (Outcome::Skipped { because }, Some(c)) => format!(
            "skipped: {} {}",
            labels.get(*because),
            match c {
                Outcome::TimedOut { .. } => "timed out",
                Outcome::Interrupted => "was interrupted",
                Outcome::Skipped { .. } => "was skipped",
                _ => "failed",
            }
        ),
        _ => outcome_text(o),
    }
}

/// Write a line to stdout, ignoring a closed pipe: a reader that went away (`| head -1`)
/// must not stop an apply or turn a finished command into a crash.
pub fn emit(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.trim_end()).and_then(|()| out.flush());
}

/// Write `value` to stdout as pretty JSON and a newline, serialized through a buffer as it
/// is written (no copy of the document in memory), ignoring a closed pipe like [`emit`]: the
/// bytes are those of `emit(&serde_json::to_string_pretty(value)?)`. Only an error of the
/// value itself (not of stdout) is returned.
pub fn emit_json<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<()> {
    emit_with(|out| serde_json::to_writer_pretty(out, value))
}

/// [`emit_json`] on one line (compact JSON, as `emit(&serde_json::to_string(value)?)`).
pub fn emit_json_line<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<()> {
    emit_with(|out| serde_json::to_writer(out, value))
}

fn emit_with(
    write: impl FnOnce(&mut dyn std::io::Write) -> serde_json::Result<()>,
) -> serde_json::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    match write(&mut out) {
        Ok(()) => {}
        // stdout went away (`| head -1`): like `emit`, not an error.
        Err(e) if e.is_io() => return Ok(()),
        Err(e) => return Err(e),
    }
    let _ = out.write_all(b"\n").and_then(|()| out.flush());
    Ok(())
}

/// A step in flight.
#[derive(Debug, Clone)]
struct Running {
    since: Instant,
    deadline: Duration,
    state: Option<String>,
    polls: u32,
    /// When its next heartbeat is due: every full [`HEARTBEAT`] of its own.
    next_beat: Instant,
}

/// What the reporters share: labels, the steps in flight, outcomes, resources finished,
/// and the ETA.
struct Tracker<'g> {
    graph: &'g Graph,
    labels: Labels,
    start: Instant,
    running: BTreeMap<usize, Running>,
    outcomes: Vec<Option<Outcome>>,
    /// Per step, the entry (resource) it belongs to.
    entry_of: Vec<Option<usize>>,
    /// Per entry, when its first step started.
    entry_start: BTreeMap<usize, Instant>,
    eta: eta::Eta,
}

/// What one event changed, for the reporters to say.
enum Change {
    Nothing,
    Started(usize),
    /// A new state (or error) of a step in flight.
    State(usize),
    /// A step finished; with the resource it completed, if it was that resource's last
    /// step and every one of them succeeded.
    Finished(usize, Option<usize>),
}

impl<'g> Tracker<'g> {
    fn new(graph: &'g Graph, start: Instant) -> Tracker<'g> {
        let mut entry_of = vec![None; graph.steps.len()];
        for (i, e) in graph.entries.iter().enumerate() {
            for s in &e.steps {
                if let Some(slot) = entry_of.get_mut(*s) {
                    *slot = Some(i);
                }
            }
        }
        Tracker {
            graph,
            labels: Labels::new(&graph.steps),
            start,
            running: BTreeMap::new(),
            outcomes: vec![None; graph.steps.len()],
            entry_of,
            entry_start: BTreeMap::new(),
            eta: eta::Eta::new(graph),
        }
    }

    fn apply(&mut self, e: &Event) -> Change {
        let now = Instant::now();
        let t = now.duration_since(self.start);
        match e {
            Event::Begin { .. } | Event::Stopping | Event::WindowClosed => Change::Nothing,
            Event::Started {
                step,
                deadline_secs,
            } => {
                let deadline = Duration::from_secs(*deadline_secs);
                self.running.insert(
                    *step,
                    Running {
                        since: now,
                        deadline,
                        state: None,
                        polls: 0,
                        next_beat: now + HEARTBEAT,
                    },
                );
                if let Some(entry) = self.entry_of.get(*step).copied().flatten() {
                    self.entry_start.entry(entry).or_insert(now);
                }
                self.eta.started(*step, t, deadline);
                Change::Started(*step)
            }
            Event::Progress {
                step,
                state,
                attempt,
            } => {
                let Some(r) = self.running.get_mut(step) else {
                    return Change::Nothing;
                };
                r.polls = *attempt;
                if r.state.as_deref() == Some(state.as_str()) {
                    return Change::Nothing;
                }
                r.state = Some(state.clone());
                Change::State(*step)
            }
            Event::Finished { step, outcome, .. } => {
                self.running.remove(step);
                self.eta.finished(*step, t, outcome.is_success());
                if let Some(slot) = self.outcomes.get_mut(*step) {
                    *slot = Some(outcome.clone());
                }
                let entry = self.entry_of.get(*step).copied().flatten().filter(|e| {
                    self.graph.entries[*e].steps.iter().all(|s| {
                        self.outcomes
                            .get(*s)
                            .and_then(Option::as_ref)
                            .is_some_and(Outcome::is_success)
                    })
                });
                Change::Finished(*step, entry)
            }
        }
    }

    /// A finished resource: (`physical_connection pc-1 (legacy-dc1)`, `42s`).
    fn resource_done(&self, entry: usize) -> (String, String) {
        let e = &self.graph.entries[entry];
        let took = self
            .entry_start
            .get(&entry)
            .map(|s| s.elapsed())
            .unwrap_or_default();
        let name = if e.name.is_empty() {
            String::new()
        } else {
            format!(" ({})", e.name)
        };
        let took = if took < Duration::from_secs(60) {
            format!("{:.1}s", took.as_secs_f64())
        } else {
            eta::human(took)
        };
        (format!("{} {}{name}", e.kind, e.id), took)
    }

    fn outcome_line(&self, outcome: &Outcome) -> String {
        let cause = match outcome {
            Outcome::Skipped { because } => self.outcomes.get(*because).and_then(Option::as_ref),
            _ => None,
        };
        outcome_text_with_cause(outcome, &self.labels, cause).replace('\n', " ")
    }

    /// Steps that finished (skipped and not-started ones are not progress).
    fn finished_count(&self) -> usize {
        self.outcomes
            .iter()
            .flatten()
            .filter(|o| !matches!(o, Outcome::Skipped { .. } | Outcome::NotStarted))
            .count()
    }

    fn eta_text(&self) -> String {
        match self
            .eta
            .remaining(Instant::now().duration_since(self.start))
        {
            Some(d) => format!("ETA ~{}", eta::human(d)),
            None => String::new(),
        }
    }

    /// When the next heartbeat is due (none while nothing is in flight).
    fn next_beat(&self) -> Option<Instant> {
        self.running.values().map(|r| r.next_beat).min()
    }

    /// The heartbeats due now, one per step in flight for another full minute:
    /// `(step, "still Terminating after 5m (poll 12, deadline 30m)")`.
    fn heartbeats(&mut self) -> Vec<(usize, String)> {
        let now = Instant::now();
        let mut due = Vec::new();
        for (id, r) in &mut self.running {
            if r.next_beat > now {
                continue;
            }
            while r.next_beat <= now {
                r.next_beat += HEARTBEAT;
            }
            let elapsed = now.duration_since(r.since);
            let state = match &r.state {
                Some(s) => format!("still {s}"),
                None => "no answer yet".to_string(),
            };
            due.push((
                *id,
                format!(
                    "{state} after {}m (poll {}, deadline {})",
                    elapsed.as_secs() / 60,
                    r.polls,
                    eta::short(r.deadline)
                ),
            ));
        }
        due
    }
}

/// Sleep until `at`, or forever when there is nothing to wait for.
async fn beat_at(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Consume events until the executor drops its sender.
pub async fn consume(events: UnboundedReceiver<Event>, graph: Graph, mode: Mode) {
    match mode {
        Mode::Json => {
            json_lines(events, &graph, emit).await;
        }
        Mode::Lines => {
            let mut err = std::io::stderr();
            lines(events, &graph, &mut err).await;
        }
        Mode::Bars => bars(events, &graph).await,
    }
}

/// JSON lines ([`events`]): one per event (a wait's state once per change), and a
/// `waiting` line per pending wait every [`HEARTBEAT`].
pub async fn json_lines(
    mut events: UnboundedReceiver<Event>,
    graph: &Graph,
    mut out: impl FnMut(&str),
) {
    let mut tracker = Tracker::new(graph, Instant::now());
    loop {
        tokio::select! {
            e = events.recv() => {
                let Some(e) = e else { break };
                let change = tracker.apply(&e);
                if matches!(e, Event::Progress { .. }) && !matches!(change, Change::State(_)) {
                    continue;
                }
                out(&events::event(&e, graph).to_string());
            }
            () = beat_at(tracker.next_beat()) => {
                for (step, text) in tracker.heartbeats() {
                    let r = &tracker.running[&step];
                    out(&events::waiting(graph, step, r.state.as_deref(), r.polls, r.since.elapsed(), r.deadline, &text).to_string());
                }
            }
        }
    }
}

/// Plain lines (CI logs): one per start, state change and finish, one per resource gone, and
/// every [`HEARTBEAT`] one per step still in flight with the progress and the ETA.
pub async fn lines(
    mut events: UnboundedReceiver<Event>,
    graph: &Graph,
    out: &mut (dyn std::io::Write + Send),
) {
    let mut tracker = Tracker::new(graph, Instant::now());
    let total = graph.steps.len();
    loop {
        let mut said: Vec<String> = Vec::new();
        tokio::select! {
            e = events.recv() => {
                let Some(e) = e else { break };
                let change = tracker.apply(&e);
                match (&e, change) {
                    (Event::Begin { steps }, _) => said.push(format!("applying {steps} step(s)")),
                    (Event::Stopping, _) => said.push("interrupt: starting nothing new, letting in-flight steps finish (Ctrl-C again to quit at once)".into()),
                    (Event::WindowClosed, _) => said.push("window closed: no change starts any more; calls on the wire and waits finish".into()),
                    (_, Change::Started(step)) => said.push(format!("start   {}", tracker.labels.get(step))),
                    (Event::Progress { state, attempt, .. }, Change::State(step)) => {
                        said.push(format!("...     {} ({state}, poll {attempt})", tracker.labels.get(step)));
                    }
                    (Event::Finished { outcome, elapsed_secs, .. }, Change::Finished(step, entry)) => {
                        let mut line = format!("{:<7} {} ({elapsed_secs:.1}s)", short(outcome), tracker.labels.get(step));
                        if !outcome.is_success() {
                            let _ = write!(line, ": {}", tracker.outcome_line(outcome));
                        }
                        said.push(line);
                        if let Some(entry) = entry {
                            let (what, took) = tracker.resource_done(entry);
                            said.push(format!("destroyed {what} after {took}"));
                        }
                    }
                    _ => {}
                }
            }
            () = beat_at(tracker.next_beat()) => {
                for (step, text) in tracker.heartbeats() {
                    said.push(format!("waiting {}: {text}", tracker.labels.get(step)));
                }
                let mut line = format!(
                    "progress {}/{total} steps finished, {} in flight",
                    tracker.finished_count(),
                    tracker.running.len(),
                );
                let eta = tracker.eta_text();
                if !eta.is_empty() {
                    let _ = write!(line, ", {eta}");
                }
                said.push(line);
            }
        }
        let t = Instant::now().duration_since(tracker.start).as_secs_f64();
        for line in said {
            let _ = writeln!(out, "[{t:>7.1}s] {line}");
        }
    }
}

fn short(o: &Outcome) -> &'static str {
    match o {
        Outcome::Done => "done",
        Outcome::AlreadyGone => "gone",
        Outcome::Failed { .. } => "FAILED",
        Outcome::TimedOut { .. } => "TIMEOUT",
        Outcome::Skipped { .. } => "skip",
        Outcome::NotStarted => "-",
        Outcome::Interrupted => "INTERRUPTED",
    }
}

/// Width of the terminal (stderr), for lines that must not wrap.
fn term_width() -> usize {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ fills the winsize struct we own; a failure leaves it zeroed.
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok && ws.ws_col > 0 {
        usize::from(ws.ws_col)
    } else {
        80
    }
}

/// `text` cut to `width` characters (an ellipsis marks the cut).
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

async fn bars(mut events: UnboundedReceiver<Event>, graph: &Graph) {
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let total = graph.steps.len() as u64;
    let overall = multi.add(ProgressBar::new(total));
    overall.set_style(
        ProgressStyle::with_template(
            "{prefix:.bold} [{bar:30}] {pos}/{len} steps  {elapsed_precise}  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    overall.set_prefix("decom apply");
    overall.enable_steady_tick(Duration::from_millis(200));
    // `{elapsed} / {deadline}  label (state)`, cut to the terminal's width: a wrapped line
    // breaks the redraw.
    let line_style = ProgressStyle::with_template("  {spinner} {elapsed:>4} / {prefix:<4} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    // One line per step in flight, up to a screenful; the rest are counted.
    const VISIBLE: usize = 12;
    let mut shown: BTreeMap<usize, ProgressBar> = BTreeMap::new();
    let mut tracker = Tracker::new(graph, Instant::now());
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let line = |tracker: &Tracker<'_>, step: usize| -> String {
        let label = tracker.labels.get(step);
        let text = match tracker.running.get(&step).and_then(|r| r.state.as_ref()) {
            Some(state) => format!("{label} ({state})"),
            None => label.to_string(),
        };
        fit(&text, term_width().saturating_sub(16).max(20))
    };
    loop {
        tokio::select! {
            e = events.recv() => {
                let Some(e) = e else { break };
                match tracker.apply(&e) {
                    Change::Started(step) if shown.len() < VISIBLE => {
                        let pb = multi.add(ProgressBar::new_spinner());
                        pb.set_style(line_style.clone());
                        pb.set_prefix(eta::short(tracker.running[&step].deadline));
                        pb.set_message(line(&tracker, step));
                        pb.enable_steady_tick(Duration::from_millis(120));
                        shown.insert(step, pb);
                    }
                    Change::State(step) => {
                        if let Some(pb) = shown.get(&step) {
                            pb.set_message(line(&tracker, step));
                        }
                    }
                    Change::Finished(step, entry) => {
                        if let Some(pb) = shown.remove(&step) {
                            pb.finish_and_clear();
                        }
                        let Event::Finished { outcome, elapsed_secs, .. } = &e else { continue };
                        if !matches!(outcome, Outcome::Skipped { .. } | Outcome::NotStarted) {
                            overall.inc(1);
                        }
                        if !outcome.is_success() {
                            let _ = multi.println(format!(
                                "  {} {} ({elapsed_secs:.1}s): {}",
                                short(outcome),
                                tracker.labels.get(step),
                                tracker.outcome_line(outcome)
                            ));
                        }
                        if let Some(entry) = entry {
                            // The time first: a line cut to the terminal's width keeps it.
                            let (what, took) = tracker.resource_done(entry);
                            let line = format!("  ✓ {took:>7}  destroyed {what}");
                            let _ = multi.println(fit(&line, term_width()));
                        }
                    }
                    _ => {}
                }
                if matches!(e, Event::Stopping) {
                    let _ = multi.println("  interrupt: starting nothing new, letting in-flight steps finish (Ctrl-C again to quit)");
                }
                if matches!(e, Event::WindowClosed) {
                    let _ = multi.println(
                        "  window closed: no change starts any more; calls on the wire and waits finish",
                    );
                }
            }
            _ = tick.tick() => {}
        }
        overall.set_message(tracker.eta_text());
    }
    overall.finish_and_clear();
    for pb in shown.values() {
        pb.finish_and_clear();
    }
}

/// The final report for humans: the summary line (every outcome counted, interrupted
/// steps too), then each step that did not succeed, named as the preview numbers it.
pub fn report_human(r: &Report) -> String {
    let mut out = String::new();
    let c = r.counts();
    let n = |k: &str| c.get(k).copied().unwrap_or(0);
    let mut summary = format!(
        "Apply {} in {:.1}s: {} done, {} already gone, {} failed, {} timed out",
        if r.complete() {
            "complete"
        } else if r.window_closed {
            "stopped: window closed"
        } else if r.interrupted {
            "interrupted"
        } else {
            "finished partially"
        },
        r.elapsed_secs,
        n("done"),
        n("already_gone"),
        n("failed"),
        n("timed_out"),
    );
    if n("interrupted") > 0 {
        let _ = write!(summary, ", {} interrupted", n("interrupted"));
    }
    let _ = write!(
        summary,
        ", {} skipped, {} not started (of {})",
        n("skipped"),
        n("not_started"),
        r.steps.len()
    );
    let _ = writeln!(out, "{summary}");
    let (made, changes, deleted, deletions) = r.resources();
    let _ = writeln!(
        out,
        "Changes made: {made} of {changes} ({deleted} of {deletions} deletions)"
    );
    let labels = Labels::new(r.steps.iter().map(|s| &s.step));
    for s in &r.steps {
        if s.outcome.is_success() {
            continue;
        }
        let _ = writeln!(
            out,
            "  {} — {}",
            labels.get(s.step.id),
            step_outcome(r, &labels, &s.outcome)
        );
    }
    out
}

/// A step's outcome in a report, a skipped step's cause named.
fn step_outcome(r: &Report, labels: &Labels, o: &Outcome) -> String {
    let cause = match o {
        Outcome::Skipped { because } => r.steps.get(*because).map(|s| &s.outcome),
        _ => None,
    };
    outcome_text_with_cause(o, labels, cause)
}

/// The final report as JSON (`format_version` 1).
pub fn report_json(r: &Report) -> serde_json::Value {
    serde_json::json!({
        "format_version": 1,
        "complete": r.complete(),
        "interrupted": r.interrupted,
        "window_closed": r.window_closed,
        "elapsed_secs": r.elapsed_secs,
        "counts": r.counts(),
        "changes": { "made": r.resources().0, "planned": r.resources().1 },
        "deletions": { "made": r.resources().2, "planned": r.resources().3 },
        "steps": r.steps.iter().map(|s| serde_json::json!({
            "id": s.step.id, "kind": s.step.kind, "resource": s.step.resource, "region": s.step.region,
            "action": s.step.action, "api": s.step.api, "outcome": s.outcome, "attempts": s.attempts,
            "elapsed_secs": s.elapsed_secs, "client_token": s.client_token,
        })).collect::<Vec<_>>(),
    })
}

/// The final report as Markdown (a CI job summary or PR comment), titled `decom apply`.
pub fn report_markdown(r: &Report) -> String {
    report_markdown_titled(r, "decom apply")
}

/// The final report as Markdown under a title naming the plan and the account
/// (`decom apply: retire-dc1 (account 1234567890123456)`).
pub fn report_markdown_titled(r: &Report, title: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {}\n", title.replace(['\n', '\r'], " "));
    let _ = writeln!(
        out,
        "**{}**\n",
        report_human(r).lines().next().unwrap_or_default()
    );
    let labels = Labels::new(r.steps.iter().map(|s| &s.step));
    let _ = writeln!(out, "| # | step | outcome | attempts |\n|---|---|---|---|");
    for s in &r.steps {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            s.step.id,
            labels.get(s.step.id).replace('|', "\\|"),
            step_outcome(r, &labels, &s.outcome).replace('|', "\\|"),
            s.attempts
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Disposition, Entry};
    use crate::model::{Action, Kind};
    use tokio::sync::mpsc;

    fn step(id: usize, kind: Kind, resource: &str, action: Action, deps: Vec<usize>) -> Step {
        Step {
            id,
            kind,
            resource: resource.into(),
            region: "cn-shanghai".into(),
            parent: None,
            scope: None,
            action,
            api: "X".into(),
            until: (action == Action::Wait).then(|| "Terminated".to_string()),
            reason: String::new(),
            depends_on: deps,
            client_token: None,
            state: String::new(),
            level: id,
        }
    }

    fn entry(kind: Kind, id: &str, name: &str, steps: Vec<usize>) -> Entry {
        Entry {
            kind,
            id: id.into(),
            region: "cn-shanghai".into(),
            name: name.into(),
            status: "Enabled".into(),
            disposition: Disposition::Destroy,
            reason: String::new(),
            steps,
            note: None,
            owner: None,
            blocked_by: vec![],
        }
    }

    /// A VBR, then its circuit: terminate → wait Terminated → delete.
    fn circuit() -> Graph {
        let pc = Kind::PhysicalConnection;
        let vbr = Kind::VirtualBorderRouter;
        Graph {
            plan: "retire-dc1".into(),
            plan_fingerprint: "f".into(),
            steps: vec![
                step(0, vbr, "vbr-1", Action::Delete, vec![]),
                step(1, pc, "pc-1", Action::Terminate, vec![0]),
                step(2, pc, "pc-1", Action::Wait, vec![1]),
                step(3, pc, "pc-1", Action::Delete, vec![2]),
            ],
            entries: vec![
                entry(pc, "pc-1", "legacy-dc1", vec![1, 2, 3]),
                entry(vbr, "vbr-1", "", vec![0]),
            ],
            deletions: 2,
            max_deletions: None,
            rails: Default::default(),
        }
    }

    fn started(step: usize) -> Event {
        Event::Started {
            step,
            deadline_secs: 1800,
        }
    }

    fn finished(step: usize, outcome: Outcome, elapsed_secs: f64) -> Event {
        Event::Finished {
            step,
            outcome,
            elapsed_secs,
        }
    }

    /// Drive `lines` with `script`: (delay before, event) pairs, under paused time.
    async fn run_lines(graph: &Graph, script: Vec<(u64, Event)>) -> String {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut out: Vec<u8> = Vec::new();
        let driver = async move {
            for (delay, e) in script {
                tokio::time::sleep(Duration::from_secs(delay)).await;
                let _ = tx.send(e);
            }
        };
        tokio::join!(driver, lines(rx, graph, &mut out));
        String::from_utf8(out).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn lines_beat_every_minute_for_a_long_wait_and_record_each_resource() {
        let g = circuit();
        let out = run_lines(
            &g,
            vec![
                (0, Event::Begin { steps: 4 }),
                (0, started(0)),
                (1, finished(0, Outcome::Done, 1.0)),
                (0, started(1)),
                (1, finished(1, Outcome::Done, 1.0)),
                (0, started(2)),
                (
                    2,
                    Event::Progress {
                        step: 2,
                        state: "Terminating".into(),
                        attempt: 1,
                    },
                ),
                // The same state again: counted, not printed.
                (
                    100,
                    Event::Progress {
                        step: 2,
                        state: "Terminating".into(),
                        attempt: 7,
                    },
                ),
                (
                    190,
                    Event::Progress {
                        step: 2,
                        state: "Terminating".into(),
                        attempt: 12,
                    },
                ),
                (20, finished(2, Outcome::Done, 312.0)),
                (0, started(3)),
                (1, finished(3, Outcome::Done, 1.0)),
            ],
        )
        .await;
        insta::assert_snapshot!(out);
        assert!(out.contains("still Terminating after 5m (poll 12, deadline 30m)"));
    }

    #[tokio::test(start_paused = true)]
    async fn lines_name_how_the_cause_of_a_skip_ended() {
        let g = circuit();
        let out = run_lines(
            &g,
            vec![
                (0, Event::Begin { steps: 4 }),
                (0, started(2)),
                (
                    30,
                    finished(
                        2,
                        Outcome::TimedOut {
                            last_state: "Terminating".into(),
                            after_secs: 30,
                            last_error: None,
                        },
                        30.0,
                    ),
                ),
                (0, finished(3, Outcome::Skipped { because: 2 }, 0.0)),
            ],
        )
        .await;
        assert!(
            out.contains(
                "skip    physical_connection pc-1: 3/3 delete (0.0s): skipped: physical_connection pc-1: 2/3 wait until Terminated timed out"
            ),
            "{out}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn json_lines_name_every_step_and_beat_for_waits() {
        let g = circuit();
        let (tx, rx) = mpsc::unbounded_channel();
        let mut lines_out: Vec<serde_json::Value> = Vec::new();
        let driver = async move {
            for (delay, e) in [
                (0, Event::Begin { steps: 4 }),
                (0, started(2)),
                (
                    1,
                    Event::Progress {
                        step: 2,
                        state: "Terminating".into(),
                        attempt: 1,
                    },
                ),
                (
                    1,
                    Event::Progress {
                        step: 2,
                        state: "Terminating".into(),
                        attempt: 2,
                    },
                ),
                (119, finished(2, Outcome::Done, 121.0)),
            ] {
                tokio::time::sleep(Duration::from_secs(delay)).await;
                let _ = tx.send(e);
            }
        };
        tokio::join!(
            driver,
            json_lines(rx, &g, |l| lines_out.push(serde_json::from_str(l).unwrap()))
        );
        let events: Vec<&str> = lines_out
            .iter()
            .map(|v| v["event"].as_str().unwrap())
            .collect();
        assert_eq!(
            events,
            [
                "begin", "started", "progress", "waiting", "waiting", "finished"
            ]
        );
        assert_eq!(lines_out[0]["steps"].as_array().unwrap().len(), 4);
        for v in &lines_out {
            assert_eq!(v["format_version"], events::FORMAT_VERSION);
            assert!(
                v["time"]
                    .as_str()
                    .unwrap()
                    .parse::<jiff::Timestamp>()
                    .is_ok()
            );
        }
        for v in &lines_out[1..] {
            assert_eq!(v["step"], 2);
            assert_eq!(v["kind"], "physical_connection");
            assert_eq!(v["resource"], "pc-1");
            assert_eq!(v["region"], "cn-shanghai");
            assert_eq!(v["action"], "wait");
        }
        assert_eq!(lines_out[4]["polls"], 2);
        assert_eq!(lines_out[4]["elapsed_secs"], 120);
        assert_eq!(lines_out[5]["outcome"], "done");
    }

    #[tokio::test(start_paused = true)]
    async fn the_eta_in_the_heartbeat_follows_the_critical_path() {
        // Two minutes into the circuit's wait: what is left of its typical transition, plus
        // the delete after it.
        let g = circuit();
        let out = run_lines(
            &g,
            vec![
                (0, Event::Begin { steps: 4 }),
                (0, started(0)),
                (0, finished(0, Outcome::Done, 0.0)),
                (0, started(1)),
                (0, finished(1, Outcome::Done, 0.0)),
                (0, started(2)),
                (121, finished(2, Outcome::Done, 121.0)),
            ],
        )
        .await;
        let typical = Kind::PhysicalConnection.spec().expected_transition();
        let left = typical - Duration::from_secs(120) + eta::MUTATION;
        assert!(out.contains(&format!("ETA ~{}", eta::human(left))), "{out}");
    }

    fn report(outcomes: Vec<Outcome>) -> Report {
        let g = circuit();
        Report {
            steps: g
                .steps
                .iter()
                .zip(outcomes)
                .map(|(s, outcome)| crate::exec::StepResult {
                    step: s.clone(),
                    outcome,
                    attempts: 1,
                    elapsed_secs: 1.0,
                    client_token: None,
                })
                .collect(),
            interrupted: true,
            window_closed: false,
            elapsed_secs: 80.0,
        }
    }

    #[test]
    fn an_interrupted_report_counts_every_step_and_says_what_happened() {
        let r = report(vec![
            Outcome::Done,
            Outcome::Done,
            Outcome::Interrupted,
            Outcome::NotStarted,
        ]);
        insta::assert_snapshot!(report_human(&r));
        let md = report_markdown_titled(&r, "decom apply: retire-dc1 (account 1234567890123456)");
        assert!(md.starts_with("### decom apply: retire-dc1 (account 1234567890123456)\n"));
    }

    #[test]
    fn a_report_says_how_the_cause_of_a_skip_ended() {
        let mut r = report(vec![
            Outcome::Done,
            Outcome::Done,
            Outcome::TimedOut {
                last_state: "Terminating".into(),
                after_secs: 1800,
                last_error: None,
            },
            Outcome::Skipped { because: 2 },
        ]);
        r.interrupted = false;
        let text = report_human(&r);
        assert!(text.starts_with("Apply finished partially in 80.0s: 2 done, 0 already gone, 0 failed, 1 timed out, 1 skipped, 0 not started (of 4)\n"), "{text}");
        assert!(text.contains("physical_connection pc-1: 2/3 wait until Terminated — TIMED OUT after 1800s, still Terminating"), "{text}");
        assert!(text.contains("physical_connection pc-1: 3/3 delete — skipped: physical_connection pc-1: 2/3 wait until Terminated timed out"), "{text}");
        assert!(!text.contains("failed\n"), "{text}");
    }

    #[test]
    fn labels_number_steps_per_resource_like_the_preview() {
        let l = Labels::new(&circuit().steps);
        assert_eq!(l.get(0), "virtual_border_router vbr-1: 1/1 delete");
        assert_eq!(
            l.get(2),
            "physical_connection pc-1: 2/3 wait until Terminated"
        );
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }
}
