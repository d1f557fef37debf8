//! Reporters of an apply: consumers of the executor's [`Event`] stream, and the final report.
//!
//! - on a TTY, an indicatif view: an overall bar with ETA and one line per step in flight
//!   (elapsed time and the state it last saw);
//! - otherwise, plain log lines on stderr;
//! - with `--output json`, JSON lines on stdout (one per event, then the report).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::exec::{Event, Outcome, Report};
use crate::graph::Graph;

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

fn label(graph: &Graph, step: usize) -> String {
    let s = &graph.steps[step];
    match (&s.until, s.action) {
        (Some(u), crate::model::Action::Wait) => {
            format!("wait {} {} until {u}", s.kind, s.resource)
        }
        _ => format!("{} {} {}", s.action, s.kind, s.resource),
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
        Outcome::Skipped { because } => format!("skipped: step {because} failed"),
        Outcome::NotStarted => "not started".into(),
        Outcome::Interrupted => "interrupted (rerun to finish)".into(),
    }
}

/// Write a line to stdout, ignoring a closed pipe: a reader that went away must not stop an
/// apply or turn a finished one into a crash.
pub fn emit(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.trim_end()).and_then(|()| out.flush());
}

/// Consume events until the executor drops its sender.
pub async fn consume(mut events: UnboundedReceiver<Event>, graph: Graph, mode: Mode) {
    let start = Instant::now();
    match mode {
        Mode::Json => {
            while let Some(e) = events.recv().await {
                if let Ok(line) = serde_json::to_string(&e) {
                    emit(&line);
                }
            }
        }
        Mode::Lines => {
            while let Some(e) = events.recv().await {
                let t = start.elapsed().as_secs_f64();
                let line = match &e {
                    Event::Begin { steps } => format!("applying {steps} step(s)"),
                    Event::Started { step } => format!("start  #{step} {}", label(&graph, *step)),
                    Event::Progress { step, state, attempt } => format!("...    #{step} {} ({state}, poll {attempt})", label(&graph, *step)),
                    Event::Finished { step, outcome, elapsed_secs } => {
                        format!("{:<6} #{step} {} ({elapsed_secs:.1}s)", short(outcome), label(&graph, *step))
                            + &match outcome {
                                Outcome::Done | Outcome::AlreadyGone => String::new(),
                                o => format!(": {}", outcome_text(o)),
                            }
                    }
                    Event::Stopping => "interrupt: starting nothing new, letting in-flight steps finish (Ctrl-C again to quit at once)".into(),
                    Event::WindowClosed => "window closed: no change starts any more; calls on the wire and waits finish".into(),
                };
                eprintln!("[{t:>7.1}s] {line}");
            }
        }
        Mode::Bars => bars(events, &graph).await,
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

async fn bars(mut events: UnboundedReceiver<Event>, graph: &Graph) {
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let total = graph.steps.len() as u64;
    let overall = multi.add(ProgressBar::new(total));
    overall.set_style(
        ProgressStyle::with_template(
            "{prefix:.bold} [{bar:30}] {pos}/{len} steps  {elapsed_precise}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    overall.set_prefix("decom apply");
    overall.enable_steady_tick(Duration::from_millis(200));
    let line_style = ProgressStyle::with_template("  {spinner} {elapsed:>4} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    // One line per step in flight, up to a screenful; the rest are counted.
    const VISIBLE: usize = 12;
    let mut lines: BTreeMap<usize, ProgressBar> = BTreeMap::new();
    let mut hidden: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
    while let Some(e) = events.recv().await {
        match e {
            Event::Begin { .. } => {}
            Event::Started { step } if lines.len() >= VISIBLE => {
                hidden.insert(step);
            }
            Event::Started { step } => {
                let pb = multi.add(ProgressBar::new_spinner());
                pb.set_style(line_style.clone());
                pb.set_message(label(graph, step));
                pb.enable_steady_tick(Duration::from_millis(120));
                lines.insert(step, pb);
            }
            Event::Progress { step, state, .. } => {
                if let Some(pb) = lines.get(&step) {
                    pb.set_message(format!("{} ({state})", label(graph, step)));
                }
            }
            Event::Finished {
                step,
                outcome,
                elapsed_secs,
            } => {
                if let Some(pb) = lines.remove(&step) {
                    pb.finish_and_clear();
                }
                overall.inc(1);
                if !outcome.is_success() {
                    let _ = multi.println(format!(
                        "  {} #{step} {} ({elapsed_secs:.1}s): {}",
                        short(&outcome),
                        label(graph, step),
                        outcome_text(&outcome)
                    ));
                }
            }
            Event::Stopping => {
                let _ = multi.println("  interrupt: starting nothing new, letting in-flight steps finish (Ctrl-C again to quit)");
            }
            Event::WindowClosed => {
                let _ = multi.println(
                    "  window closed: no change starts any more; calls on the wire and waits finish",
                );
            }
        }
    }
    overall.finish_and_clear();
    for pb in lines.values() {
        pb.finish_and_clear();
    }
}

/// The final report for humans.
pub fn report_human(r: &Report) -> String {
    let mut out = String::new();
    let c = r.counts();
    let n = |k: &str| c.get(k).copied().unwrap_or(0);
    let _ = writeln!(
        out,
        "Apply {} in {:.1}s: {} done, {} already gone, {} failed, {} timed out, {} skipped, {} not started",
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
        n("skipped"),
        n("not_started"),
    );
    let (made, changes, deleted, deletions) = r.resources();
    let _ = writeln!(
        out,
        "Changes made: {made} of {changes} ({deleted} of {deletions} deletions)"
    );
    for s in &r.steps {
        if s.outcome.is_success() {
            continue;
        }
        let _ = writeln!(
            out,
            "  #{:<3} {} {} {} — {}",
            s.step.id,
            s.step.action,
            s.step.kind,
            s.step.resource,
            outcome_text(&s.outcome)
        );
    }
    out
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

/// The final report as Markdown (a CI job summary or PR comment).
pub fn report_markdown(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### decom apply\n");
    let _ = writeln!(
        out,
        "**{}**\n",
        report_human(r).lines().next().unwrap_or_default()
    );
    let _ = writeln!(out, "| # | step | outcome | attempts |\n|---|---|---|---|");
    for s in &r.steps {
        let _ = writeln!(
            out,
            "| {} | {} {} `{}` | {} | {} |",
            s.step.id,
            s.step.action,
            s.step.kind,
            s.step.resource,
            outcome_text(&s.outcome).replace('|', "\\|"),
            s.attempts
        );
    }
    out
}
