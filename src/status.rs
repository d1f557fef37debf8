//! `decom status [PLAN]`: what the journal of the current or last apply of a plan says,
//! read without taking any lock (the journal is append-only, so it is readable while an
//! apply runs in another terminal or CI job): running or not (the lock's holder), steps
//! done / in flight / failed, the last state of each wait, the elapsed time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::exec::journal::{Record, StepKey};
use crate::exec::lock::Holder;
use crate::model::Action;

/// Whether the run is going on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Running {
    /// A live process holds the plan's lock.
    Running {
        /// Who.
        holder: String,
    },
    /// The last run ended (its `End` record), completely or not.
    Finished {
        /// True when Ctrl-C, a failure or the window stopped it early.
        interrupted: bool,
    },
    /// The last run has no `End` and no live holder: it was killed.
    Killed {
        /// The lock record it left, when there is one.
        holder: Option<String>,
    },
    /// The journal has no run yet.
    NeverRan,
}

/// One step of the last run, as the journal tells it.
#[derive(Debug, Clone, Serialize)]
pub struct StepStatus {
    /// `kind resource action`.
    pub step: String,
    /// `in_flight`, or the finished outcome (`done`, `failed`, ...).
    pub outcome: String,
    /// The last state it saw (a wait's status or an error code), if any.
    pub last_state: Option<String>,
    /// Error code or detail of a finished step.
    pub detail: Option<String>,
}

/// What one journal says about its last run.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The journal directory.
    pub journal: PathBuf,
    /// The plan (from the run record).
    pub plan: Option<String>,
    /// The account.
    pub account: Option<String>,
    /// The endpoint.
    pub endpoint: Option<String>,
    /// True for a rehearsal against an emulator world.
    pub rehearsal: bool,
    /// Running, finished, killed.
    pub running: Running,
    /// When the last run began.
    pub started: Option<String>,
    /// Seconds from its start to its end (or to now while it runs).
    pub elapsed_secs: Option<f64>,
    /// Steps in its graph.
    pub total: usize,
    /// Counts by outcome (`in_flight` too).
    pub counts: BTreeMap<String, usize>,
    /// Every step it started, in the order it started them.
    pub steps: Vec<StepStatus>,
    /// Runs recorded in the journal.
    pub runs: usize,
}

fn key_text(k: &StepKey) -> String {
    format!("{} {} {}", k.0, k.1, k.2)
}

fn secs_between(a: &str, b: Option<&str>) -> Option<f64> {
    let a: jiff::Timestamp = a.parse().ok()?;
    let b: jiff::Timestamp = match b {
        Some(b) => b.parse().ok()?,
        None => jiff::Timestamp::now(),
    };
    Some(a.duration_until(b).as_secs_f64().max(0.0))
}

/// The lock's holder record, without taking the lock: `None` when it is empty (released
/// cleanly, or never taken).
fn holder(dir: &Path) -> Option<Holder> {
    let text = std::fs::read_to_string(dir.join("lock")).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// Read the status of the journal in `dir`.
pub fn read(dir: &Path) -> anyhow::Result<Status> {
    let text = std::fs::read_to_string(dir.join("journal.jsonl"))?;
    let mut st = Status {
        journal: dir.to_path_buf(),
        plan: None,
        account: None,
        endpoint: None,
        rehearsal: false,
        running: Running::NeverRan,
        started: None,
        elapsed_secs: None,
        total: 0,
        counts: BTreeMap::new(),
        steps: Vec::new(),
        runs: 0,
    };
    let mut order: Vec<StepKey> = Vec::new();
    let mut steps: BTreeMap<StepKey, StepStatus> = BTreeMap::new();
    let mut ended: Option<(String, bool)> = None;
    // A `Run` record comes just before its `Begin`: it opens the run.
    let mut run_open = false;
    for line in text.lines() {
        let Ok(rec) = serde_json::from_str::<Record>(line) else {
            continue;
        };
        match rec {
            Record::Run {
                time,
                plan,
                account,
                endpoint,
                rehearsal,
            } => {
                (order, steps, ended) = (Vec::new(), BTreeMap::new(), None);
                st.plan = Some(plan);
                st.account = Some(account);
                st.endpoint = Some(endpoint);
                st.rehearsal = rehearsal;
                st.started = Some(time);
                run_open = true;
            }
            Record::Begin { time, steps: n, .. } => {
                if !run_open {
                    (order, steps, ended) = (Vec::new(), BTreeMap::new(), None);
                    st.started = Some(time);
                }
                run_open = false;
                st.runs += 1;
                st.total = n;
            }
            Record::Started {
                kind,
                resource,
                action,
                ..
            } => {
                let k = (kind, resource, action);
                if !steps.contains_key(&k) {
                    order.push(k.clone());
                }
                let s = steps.entry(k.clone()).or_insert_with(|| StepStatus {
                    step: key_text(&k),
                    outcome: String::new(),
                    last_state: None,
                    detail: None,
                });
                s.outcome = "in_flight".into();
            }
            Record::State {
                kind,
                resource,
                action,
                state,
                ..
            } => {
                if let Some(s) = steps.get_mut(&(kind, resource, action)) {
                    s.last_state = Some(state);
                }
            }
            Record::Finished {
                kind,
                resource,
                action,
                outcome,
                detail,
                ..
            } => {
                let k = (kind, resource, action);
                if !steps.contains_key(&k) {
                    order.push(k.clone());
                }
                let s = steps.entry(k.clone()).or_insert_with(|| StepStatus {
                    step: key_text(&k),
                    outcome: String::new(),
                    last_state: None,
                    detail: None,
                });
                s.outcome = outcome;
                s.detail = detail;
            }
            Record::Resolved { .. } => {}
            Record::End { time, interrupted } => ended = Some((time, interrupted)),
        }
    }
    // The states the run's steps saw (`states.jsonl`, beside the journal), from its start.
    let states = std::fs::read_to_string(dir.join("states.jsonl")).unwrap_or_default();
    for line in states.lines() {
        if let Ok(Record::State {
            time,
            kind,
            resource,
            action,
            state,
        }) = serde_json::from_str::<Record>(line)
            && st.started.as_deref().is_some_and(|s| time.as_str() >= s)
            && let Some(s) = steps.get_mut(&(kind, resource, action))
        {
            s.last_state = Some(state);
        }
    }
    st.steps = order.iter().filter_map(|k| steps.remove(k)).collect();
    for s in &st.steps {
        *st.counts.entry(s.outcome.clone()).or_default() += 1;
    }
    let live = holder(dir).filter(|h| !h.provably_gone());
    st.running = match (&ended, live, st.started.is_some()) {
        (_, _, false) => Running::NeverRan,
        (None, Some(h), _) => Running::Running {
            holder: h.describe(),
        },
        (Some((_, interrupted)), _, _) => Running::Finished {
            interrupted: *interrupted,
        },
        (None, None, _) => Running::Killed {
            holder: holder(dir).map(|h| h.describe()),
        },
    };
    // A killed run's steps that were in flight are not in flight any more.
    if matches!(st.running, Running::Killed { .. }) {
        for s in &mut st.steps {
            if s.outcome == "in_flight" {
                s.outcome = "cut_off".into();
            }
        }
        st.counts = BTreeMap::new();
        for s in &st.steps {
            *st.counts.entry(s.outcome.clone()).or_default() += 1;
        }
    }
    // Killed: the last record is as far as it got.
    let last_time: Option<String> = text
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["time"].as_str().map(str::to_string));
    let end = match &st.running {
        Running::Running { .. } => None,
        _ => ended.map(|(t, _)| t).or(last_time),
    };
    st.elapsed_secs = st
        .started
        .as_deref()
        .and_then(|s| secs_between(s, end.as_deref()));
    Ok(st)
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The journal directories under `state_dir` (of the plan named `plan`, or all), the most
/// recently written first.
pub fn journals(state_dir: &Path, plan: Option<&str>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(state_dir) else {
        return Vec::new();
    };
    let prefix = plan.map(|p| format!("{}-", safe(p)));
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("journal.jsonl").is_file())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            prefix.as_deref().is_none_or(|pre| {
                name.strip_prefix(pre).is_some_and(|key| {
                    key.len() == 12 && key.chars().all(|c| c.is_ascii_hexdigit())
                })
            })
        })
        .map(|p| {
            let t = std::fs::metadata(p.join("journal.jsonl"))
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (t, p)
        })
        .collect();
    found.sort_by_key(|a| std::cmp::Reverse(a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

/// The human text of one status.
pub fn human(st: &Status) -> String {
    let mut out = String::new();
    let what = st.plan.as_deref().unwrap_or("(plan not recorded)");
    out.push_str(&format!("plan {what}: journal {}\n", st.journal.display()));
    if let (Some(a), Some(e)) = (&st.account, &st.endpoint) {
        out.push_str(&format!(
            "  account {a}, {e}{}\n",
            if st.rehearsal {
                " — REHEARSAL (emulator world), not the cloud"
            } else {
                ""
            }
        ));
    }
    let state = match &st.running {
        Running::Running { holder } => format!("RUNNING ({holder})"),
        Running::Finished { interrupted: false } => "finished".to_string(),
        Running::Finished { interrupted: true } => "interrupted (rerun apply to resume)".into(),
        Running::Killed { holder } => format!(
            "KILLED: the last run ended without a record{} (rerun apply to resume)",
            holder
                .as_deref()
                .map(|h| format!("; its lock record: {h}"))
                .unwrap_or_default()
        ),
        Running::NeverRan => "no run recorded".into(),
    };
    out.push_str(&format!("  state: {state}\n"));
    if let Some(s) = &st.started {
        out.push_str(&format!(
            "  last run: started {s}, elapsed {:.1}s (run {} of this journal)\n",
            st.elapsed_secs.unwrap_or(0.0),
            st.runs
        ));
    }
    let n = |k: &str| st.counts.get(k).copied().unwrap_or(0);
    let finished_ok = n("done") + n("already_gone");
    let failed = n("failed") + n("timed_out");
    out.push_str(&format!(
        "  steps: {finished_ok} done, {} in flight, {failed} failed, {} other (of {})\n",
        n("in_flight"),
        st.steps.len() - finished_ok - failed - n("in_flight"),
        st.total
    ));
    let finished = |s: &&StepStatus| s.outcome == "done" || s.outcome == "already_gone";
    // What did not finish first (in flight, failed, ...), then the last state of each wait
    // that did.
    for s in st.steps.iter().filter(|s| !finished(s)) {
        out.push_str(&format!(
            "    {}: {}{}{}\n",
            s.step,
            s.outcome.replace('_', " "),
            s.last_state
                .as_deref()
                .map(|l| format!(", last seen {l}"))
                .unwrap_or_default(),
            s.detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ));
    }
    for s in st.steps.iter().filter(finished) {
        if s.step.ends_with(&format!(" {}", Action::Wait))
            && let Some(last) = &s.last_state
        {
            out.push_str(&format!("    {}: done (last seen {last})\n", s.step));
        }
    }
    out
}

/// `decom status`: 0, or 1 when no journal is found.
pub fn command(state_dir: &Path, plan: Option<&str>, json: bool) -> anyhow::Result<u8> {
    let dirs = journals(state_dir, plan);
    if dirs.is_empty() {
        eprintln!(
            "no journal{} under {}: apply has not run from this state directory (--state-dir, DECOM_STATE_DIR)",
            plan.map(|p| format!(" of plan {p}")).unwrap_or_default(),
            state_dir.display()
        );
        return Ok(crate::exit::ERROR);
    }
    let all: Vec<Status> = dirs.iter().filter_map(|d| read(d).ok()).collect();
    if json {
        crate::progress::emit(&serde_json::to_string_pretty(&serde_json::json!({
            "format_version": 1,
            "journals": all,
        }))?);
    } else {
        let text: Vec<String> = all.iter().map(human).collect();
        crate::progress::emit(text.join("\n").trim_end());
    }
    Ok(crate::exit::SUCCESS)
}
