//! The apply journal and lock, under `<state-dir>/<plan>-<fingerprint>/`.
//!
//! `journal.jsonl` gets one JSON line per event (flushed as written), so an interrupted
//! apply (Ctrl-C, a crash, kill -9) leaves a readable record; the next apply reads it back to
//! reuse ClientToken generations and to report what the last run did. `lock` is the plan's
//! [`super::lock::Lock`]: a second apply of the same plan is refused with the holder named;
//! the record of a run killed while holding it is reported and taken over.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::lock::{Lock, LockError};
use crate::model::{Action, Kind};

/// A step's identity across runs (step numbers change when the graph is rebuilt).
pub type StepKey = (Kind, String, Action);

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Record {
    /// An apply started.
    Begin {
        /// RFC 3339 time.
        time: String,
        /// The plan's fingerprint.
        plan_fingerprint: String,
        /// The process.
        pid: u32,
        /// Steps in this run's graph.
        steps: usize,
    },
    /// A step started (or was retried with a new token generation).
    Started {
        /// RFC 3339 time.
        time: String,
        /// Kind.
        kind: Kind,
        /// Resource id.
        resource: String,
        /// Action.
        action: Action,
        /// ClientToken generation.
        generation: u32,
        /// The ClientToken.
        client_token: Option<String>,
    },
    /// A step finished.
    Finished {
        /// RFC 3339 time.
        time: String,
        /// Kind.
        kind: Kind,
        /// Resource id.
        resource: String,
        /// Action.
        action: Action,
        /// `done`, `already_gone`, `failed`, `timed_out`, `skipped`, `not_started`.
        outcome: String,
        /// Error code or detail, if any.
        detail: Option<String>,
    },
    /// What a selector target matched when an apply went ahead (before its steps), so a
    /// later run can tell "removed by this plan" from "matched nothing".
    Resolved {
        /// RFC 3339 time.
        time: String,
        /// The target: `kind {selector}`.
        target: String,
        /// The ids it matched.
        found: Vec<String>,
    },
    /// What this run talks to (written once, after `Begin`), for `decom status`.
    Run {
        /// RFC 3339 time.
        time: String,
        /// The plan's name.
        plan: String,
        /// The account.
        account: String,
        /// The endpoint ([`crate::saved::endpoint_label`]).
        endpoint: String,
        /// True against an emulator world (`--emulator`).
        rehearsal: bool,
    },
    /// A step saw a new state (a wait's status, or an error code it retries on); written to
    /// `states.jsonl` beside the journal.
    State {
        /// RFC 3339 time.
        time: String,
        /// Kind.
        kind: Kind,
        /// Resource id.
        resource: String,
        /// Action.
        action: Action,
        /// The state.
        state: String,
    },
    /// The apply ended.
    End {
        /// RFC 3339 time.
        time: String,
        /// True when Ctrl-C or a failure stopped it early.
        interrupted: bool,
    },
}

/// What earlier runs left.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Token generation per step (bumped only after `IdempotentParameterMismatch`).
    pub generations: BTreeMap<StepKey, u32>,
    /// Last outcome per step.
    pub outcomes: BTreeMap<StepKey, String>,
    /// Runs begun.
    pub runs: usize,
    /// True when the last run has no `End` (it was killed).
    pub last_run_unfinished: bool,
    /// Every id each selector target (`kind {selector}`) matched in earlier runs.
    pub matched: BTreeMap<String, std::collections::BTreeSet<String>>,
}

impl History {
    /// True when an earlier run recorded the Delete of this resource as done (or the
    /// resource as already gone).
    pub fn deleted(&self, kind: Kind, id: &str) -> bool {
        self.outcomes
            .get(&(kind, id.to_string(), Action::Delete))
            .is_some_and(|o| o == "done" || o == "already_gone")
    }
}

/// Why the journal or lock cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Another apply of this plan holds the lock (or a leftover record stands in the way).
    #[error("{0}")]
    Locked(#[from] LockError),
    /// File system trouble.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Append one record to the append-only file at `path` (created if missing) with a single
/// write (the state tap of `apply` writes `states.jsonl` beside the journal).
pub fn append(path: &Path, rec: &Record) -> std::io::Result<()> {
    let mut line = serde_json::to_string(rec).map_err(std::io::Error::other)?;
    line.push('\n');
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(line.as_bytes())
}

/// The current time as the journal writes it.
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// An open journal holding the plan's lock (released on drop).
#[derive(Debug)]
pub struct Journal {
    file: File,
    lock: Lock,
    /// A stale lock that was taken over (for the report).
    pub took_over: Option<String>,
}

impl Journal {
    /// The directory of a plan's journal for one account and endpoint:
    /// `<state-dir>/<plan>-<key>`, where the key hashes the plan's fingerprint, the account
    /// and the endpoint ([`crate::saved::endpoint_label`]). A rehearsal against the emulator
    /// and the real run therefore never share a journal, and neither do two accounts.
    pub fn dir_for(
        state_dir: &Path,
        plan_name: &str,
        fingerprint: &str,
        account: &str,
        endpoint: &str,
    ) -> PathBuf {
        use sha2::Digest as _;
        let key = hex::encode(sha2::Sha256::digest(
            format!("{fingerprint}\n{account}\n{endpoint}").as_bytes(),
        ));
        Self::dir_named(state_dir, plan_name, &key)
    }

    fn dir_named(state_dir: &Path, plan_name: &str, fingerprint: &str) -> PathBuf {
        let safe: String = plan_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        state_dir.join(format!(
            "{safe}-{}",
            &fingerprint[..fingerprint.len().min(12)]
        ))
    }

    /// Read what earlier runs recorded (empty when there is no journal).
    pub fn history(dir: &Path) -> Result<History, JournalError> {
        let path = dir.join("journal.jsonl");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(History::default()),
            Err(e) => return Err(io(&path)(e)),
        };
        let mut h = History::default();
        for line in text.lines() {
            // A line cut by a crash mid-write is skipped; every complete line counts.
            let Ok(rec) = serde_json::from_str::<Record>(line) else {
                continue;
            };
            match rec {
                Record::Begin { .. } => {
                    h.runs += 1;
                    h.last_run_unfinished = true;
                }
                Record::End { .. } => h.last_run_unfinished = false,
                Record::Run { .. } | Record::State { .. } => {}
                Record::Resolved { target, found, .. } => {
                    h.matched.entry(target).or_default().extend(found);
                }
                Record::Started {
                    kind,
                    resource,
                    action,
                    generation,
                    ..
                } => {
                    let g = h.generations.entry((kind, resource, action)).or_default();
                    *g = (*g).max(generation);
                }
                Record::Finished {
                    kind,
                    resource,
                    action,
                    outcome,
                    ..
                } => {
                    h.outcomes.insert((kind, resource, action), outcome);
                }
            }
        }
        Ok(h)
    }

    /// Take the plan's lock (see [`super::lock`]) and open the journal for appending.
    pub fn open(dir: &Path) -> Result<Journal, JournalError> {
        Journal::open_for(dir, None)
    }

    /// [`Journal::open`], naming the plan in the lock's record.
    pub fn open_for(dir: &Path, plan: Option<&str>) -> Result<Journal, JournalError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock = Lock::acquire(&dir.join("lock"), "the lock of this plan", plan)?;
        let took_over = lock
            .took_over
            .as_ref()
            .map(|h| format!("{} (no longer running)", h.describe()));
        let path = dir.join("journal.jsonl");
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        Ok(Journal {
            file,
            lock,
            took_over,
        })
    }

    /// The lock file this journal holds.
    pub fn lock_path(&self) -> &Path {
        self.lock.path()
    }

    /// Append a record and flush it to the OS (survives the process being killed).
    pub fn write(&mut self, rec: &Record) {
        if let Ok(mut line) = serde_json::to_string(rec) {
            // One write per line: another appender (the state tap) never splits it.
            line.push('\n');
            let _ = self.file.write_all(line.as_bytes());
            let _ = self.file.flush();
        }
    }

    /// The journal file.
    pub fn path(&self) -> PathBuf {
        self.lock.path().with_file_name("journal.jsonl")
    }

    /// `Begin`.
    pub fn begin(&mut self, plan_fingerprint: &str, steps: usize) {
        self.write(&Record::Begin {
            time: now(),
            plan_fingerprint: plan_fingerprint.to_string(),
            pid: std::process::id(),
            steps,
        });
    }

    /// `Started`.
    pub fn started(&mut self, key: &StepKey, generation: u32, client_token: Option<&str>) {
        self.write(&Record::Started {
            time: now(),
            kind: key.0,
            resource: key.1.clone(),
            action: key.2,
            generation,
            client_token: client_token.map(str::to_string),
        });
    }

    /// `Finished`.
    pub fn finished(&mut self, key: &StepKey, outcome: &str, detail: Option<String>) {
        self.write(&Record::Finished {
            time: now(),
            kind: key.0,
            resource: key.1.clone(),
            action: key.2,
            outcome: outcome.to_string(),
            detail,
        });
    }

    /// `Resolved`.
    pub fn resolved(&mut self, target: &str, found: Vec<String>) {
        self.write(&Record::Resolved {
            time: now(),
            target: target.to_string(),
            found,
        });
    }

    /// `End`, and sync to disk.
    pub fn end(&mut self, interrupted: bool) {
        self.write(&Record::End {
            time: now(),
            interrupted,
        });
        let _ = self.file.sync_all();
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // The lock (a field) is released after this.
        let _ = self.file.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_history_survives_a_cut_line() {
        let dir = tempfile::tempdir().unwrap();
        let d = Journal::dir_named(dir.path(), "my plan/x", "0123456789abcdef");
        assert!(d.ends_with("my_plan_x-0123456789ab"));
        // Keyed by account and endpoint as well as the plan.
        let key = |a: &str, e: &str| Journal::dir_for(dir.path(), "p", "fp", a, e);
        assert_ne!(key("1", "alibaba-cloud"), key("1", "emulator:w.yaml"));
        assert_ne!(key("1", "alibaba-cloud"), key("2", "alibaba-cloud"));
        assert_eq!(key("1", "alibaba-cloud"), key("1", "alibaba-cloud"));
        {
            let mut j = Journal::open(&d).unwrap();
            j.begin("fp", 3);
            let k = (
                Kind::PhysicalConnection,
                "pc-1".to_string(),
                Action::Terminate,
            );
            j.started(&k, 0, Some("t0"));
            j.started(&k, 1, Some("t1"));
            j.finished(&k, "done", None);
        }
        // A crash mid-line: the cut line is ignored, the run counts as unfinished.
        let mut f = OpenOptions::new()
            .append(true)
            .open(d.join("journal.jsonl"))
            .unwrap();
        write!(f, "{{\"event\":\"finished\",\"ki").unwrap();
        let h = Journal::history(&d).unwrap();
        assert_eq!(h.runs, 1);
        assert!(h.last_run_unfinished);
        let k = (
            Kind::PhysicalConnection,
            "pc-1".to_string(),
            Action::Terminate,
        );
        assert_eq!(h.generations[&k], 1);
        assert_eq!(h.outcomes[&k], "done");
    }

    #[test]
    fn a_live_lock_is_refused_and_a_dead_one_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open_for(dir.path(), Some("demo")).unwrap();
        let err = Journal::open(dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("pid {} on ", std::process::id())),
            "{err}"
        );
        drop(j);
        // A leftover record of a live process (pid 1) on another host is respected.
        std::fs::write(
            dir.path().join("lock"),
            r#"{"pid":1,"host":"ci","since":"2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        let err = Journal::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("pid 1 on ci"), "{err}");
        let host = super::super::lock::hostname();
        std::fs::write(
            dir.path().join("lock"),
            format!(r#"{{"pid":4000000,"host":"{host}","since":"2026-01-01T00:00:00Z"}}"#),
        )
        .unwrap();
        let j = Journal::open(dir.path()).unwrap();
        assert!(j.took_over.as_deref().unwrap().contains("pid 4000000"));
        drop(j);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("lock")).unwrap(),
            "",
            "released on drop"
        );
    }
}
