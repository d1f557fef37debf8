//! Saved plans (`decom plan --out FILE`): what `decom apply FILE` executes exactly, and what
//! `decom show FILE` prints.
//!
//! A saved plan is self-contained: it embeds the plan file's text (checked again when it is
//! read, and tied to the graph by the plan's fingerprint), the account and endpoint it was
//! planned against, and the graph — every step with its ClientToken and the fingerprint of
//! the live state it relied on. It can move from a plan job to an apply job, to another
//! directory or machine; the plan's YAML is never re-read.
//!
//! Before executing, apply compares the graph of the live state with the saved one
//! ([`staleness`]): any new step, any step whose resource changed, any saved step no longer
//! possible refuses the run (exit 5). No journal vouches for a change: a saved plan applied
//! halfway is planned again, never resumed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::graph::{Graph, Step};
use crate::model::{Action, Kind};

/// The saved-plan format this build writes and reads. Version 2 embeds the plan (version 1
/// named the plan file by a relative path and re-read it); a version-1 file is refused with
/// a request to plan again.
pub const VERSION: u64 = 2;

/// A saved plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedPlan {
    /// Saved-plan format version ([`VERSION`]).
    pub format_version: u32,
    /// When it was saved (RFC 3339).
    pub saved_at: String,
    /// The plan file it came from, as given to `decom plan` (for display only).
    pub plan_file: String,
    /// The plan file's text, checked again on load.
    pub plan_source: String,
    /// The account the plan is for (from the plan, else the caller's at planning time).
    pub account: Option<String>,
    /// The API endpoint it was planned against ([`endpoint_label`]).
    pub endpoint: String,
    /// The graph, with ClientTokens and the state fingerprint each step relied on.
    pub graph: Graph,
}

/// A saved plan borrowed from its parts, to write without copying the graph: it
/// serializes exactly like the [`SavedPlan`] with the same fields (same names, same order).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SavedPlanRef<'a> {
    /// See [`SavedPlan::format_version`].
    pub format_version: u32,
    /// See [`SavedPlan::saved_at`].
    pub saved_at: &'a str,
    /// See [`SavedPlan::plan_file`].
    pub plan_file: &'a str,
    /// See [`SavedPlan::plan_source`].
    pub plan_source: &'a str,
    /// See [`SavedPlan::account`].
    pub account: Option<&'a str>,
    /// See [`SavedPlan::endpoint`].
    pub endpoint: &'a str,
    /// See [`SavedPlan::graph`].
    pub graph: &'a Graph,
}

impl SavedPlanRef<'_> {
    /// Write the saved plan (pretty JSON) to `path`, created or truncated like
    /// `std::fs::write` does, serialized through a buffer as it is written: no copy of the
    /// document is held in memory.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        use std::io::Write as _;
        let file = std::fs::File::create(path)?;
        let mut w = std::io::BufWriter::with_capacity(64 * 1024, file);
        serde_json::to_writer_pretty(&mut w, self)?;
        w.flush()?;
        Ok(())
    }
}

/// What the endpoint of a run is called in saved plans and journal keys: the `--endpoint`
/// URL, `emulator:<world file>` for an embedded emulator, `alibaba-cloud` for the real API.
pub fn endpoint_label(endpoint: Option<&str>, emulator: Option<&Path>) -> String {
    match (emulator, endpoint) {
        (Some(world), _) => format!("emulator:{}", world.display()),
        (None, Some(url)) => url.trim_end_matches('/').to_string(),
        (None, None) => "alibaba-cloud".to_string(),
    }
}

/// True when `text` looks like a saved plan (a JSON object), not a YAML plan.
pub fn looks_saved(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

impl SavedPlan {
    /// Parse a saved plan's text and check its embedded plan against its graph.
    pub fn parse(path: &Path, text: &str) -> anyhow::Result<(crate::plan::Plan, SavedPlan)> {
        // Straight into the struct: no JSON tree of the whole file beside it. Anything else
        // (another version, a malformed file) takes the path below, for its exact message.
        let direct = serde_json::from_str::<SavedPlan>(text)
            .ok()
            .filter(|s| u64::from(s.format_version) == VERSION);
        let saved = match direct {
            Some(saved) => saved,
            None => Self::parse_value(path, text)?,
        };
        let plan = crate::plan::parse(&saved.plan_file, &saved.plan_source).map_err(|e| {
            anyhow::anyhow!(
                "{}: the plan it embeds no longer passes this decom's checks: plan again\n{e}",
                path.display()
            )
        })?;
        if plan.fingerprint != saved.graph.plan_fingerprint {
            bail!(
                "{}: its embedded plan does not match its steps (fingerprint {} vs {}): the file was edited; plan again",
                path.display(),
                &plan.fingerprint[..12.min(plan.fingerprint.len())],
                &saved.graph.plan_fingerprint[..12.min(saved.graph.plan_fingerprint.len())]
            );
        }
        Ok((plan, saved))
    }

    /// A saved plan through a JSON tree, with the version checked first: the messages for
    /// a file that is not a saved plan, or of another version.
    fn parse_value(path: &Path, text: &str) -> anyhow::Result<SavedPlan> {
        let not_saved = || format!("{} is not a saved plan (decom plan --out)", path.display());
        let value: serde_json::Value = serde_json::from_str(text).with_context(not_saved)?;
        match value
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
        {
            Some(VERSION) => {}
            Some(v) => bail!(
                "{} is a saved plan of format_version {v}; this decom reads format_version {VERSION}: plan again with this version",
                path.display()
            ),
            None => bail!("{}: no format_version", not_saved()),
        }
        serde_json::from_value(value).with_context(not_saved)
    }

    /// The lines `decom show` prints above the preview.
    pub fn describe(&self, path: &Path) -> Vec<(&'static str, String)> {
        vec![
            ("saved plan", path.display().to_string()),
            ("saved at", self.saved_at.clone()),
            (
                "from",
                format!(
                    "{} (fingerprint {})",
                    self.plan_file,
                    &self.graph.plan_fingerprint[..12.min(self.graph.plan_fingerprint.len())]
                ),
            ),
            (
                "for account",
                self.account.clone().unwrap_or_else(|| "unknown".into()),
            ),
            ("endpoint", self.endpoint.clone()),
            ("apply with", {
                // The endpoint it was planned against goes with it.
                let target = if let Some(world) = self.endpoint.strip_prefix("emulator:") {
                    format!(" --emulator {world}")
                } else if self.endpoint == "alibaba-cloud" {
                    String::new()
                } else {
                    format!(" --endpoint {}", self.endpoint)
                };
                format!("decom{target} apply {}", path.display())
            }),
        ]
    }

    /// `decom show FILE`, for humans.
    pub fn show_human(&self, path: &Path, color: bool) -> String {
        let mut out = String::new();
        for (k, v) in self.describe(path) {
            out.push_str(&format!("{:<12}{v}\n", format!("{k}:")));
        }
        out.push('\n');
        out.push_str(&crate::render::human(&self.graph, color));
        out
    }

    /// `decom show FILE --output json`: the plan document of `decom plan --output json`,
    /// with a `saved` object; a view to serialize straight into a writer.
    pub fn show_json(&self) -> crate::render::JsonDoc<'_> {
        crate::render::json_doc(&self.graph).with_saved(crate::render::JsonSaved {
            account: self.account.as_deref(),
            endpoint: &self.endpoint,
            format_version: self.format_version,
            plan_file: &self.plan_file,
            saved_at: &self.saved_at,
        })
    }

    /// `decom show FILE --output markdown`.
    pub fn show_markdown(&self, path: &Path) -> String {
        let mut out = crate::render::markdown(&self.graph);
        out.push_str("\n#### Saved plan\n\n");
        for (k, v) in self.describe(path) {
            out.push_str(&format!("- **{k}**: `{}`\n", v.replace('`', "'")));
        }
        out
    }
}

type StepKey = (Kind, String, Action);

/// What changed between a saved plan and the live state: steps that appeared, steps whose
/// resource changed (by state fingerprint), and saved steps that are no longer needed or
/// possible. Nothing is excused: a journal that says a step finished (a rehearsal, or an
/// earlier run of this saved plan) does not make a difference acceptable.
pub fn staleness(saved: &Graph, live: &Graph) -> Vec<String> {
    let saved_steps: BTreeMap<StepKey, &Step> = saved
        .steps
        .iter()
        .map(|s| ((s.kind, s.resource.clone(), s.action), s))
        .collect();
    let mut changes = Vec::new();
    for s in &live.steps {
        let key = (s.kind, s.resource.clone(), s.action);
        match saved_steps.get(&key) {
            None => changes.push(format!("new step: {} {} {}", s.action, s.kind, s.resource)),
            Some(old) if old.state != s.state => changes.push(format!(
                "{} {} changed since the plan was saved",
                s.kind, s.resource
            )),
            _ => {}
        }
    }
    let live_steps: BTreeSet<StepKey> = live
        .steps
        .iter()
        .map(|s| (s.kind, s.resource.clone(), s.action))
        .collect();
    for (key, s) in &saved_steps {
        if !live_steps.contains(key) {
            changes.push(format!(
                "{} {} {}: no longer needed or possible (the resource is gone or changed since the plan was saved)",
                s.action, s.kind, s.resource
            ));
        }
    }
    changes.dedup();
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_saved_plan_writes_the_bytes_of_the_owned_one() {
        let graph = Graph {
            plan: "p".into(),
            plan_fingerprint: "ab".repeat(32),
            steps: vec![],
            entries: vec![],
            deletions: 0,
            max_deletions: Some(3),
            rails: Default::default(),
        };
        let owned = SavedPlan {
            format_version: VERSION as u32,
            saved_at: "2026-01-01T00:00:00Z".into(),
            plan_file: "plans/p.yaml".into(),
            plan_source: "version: 1\nname: \"p\"\n".into(),
            account: None,
            endpoint: "emulator:w.yaml".into(),
            graph: graph.clone(),
        };
        let borrowed = SavedPlanRef {
            format_version: owned.format_version,
            saved_at: &owned.saved_at,
            plan_file: &owned.plan_file,
            plan_source: &owned.plan_source,
            account: owned.account.as_deref(),
            endpoint: &owned.endpoint,
            graph: &graph,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("saved.json");
        std::fs::write(
            &path,
            "a longer earlier content that must be truncated away",
        )
        .unwrap();
        borrowed.write(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            serde_json::to_string_pretty(&owned).unwrap()
        );
    }
}
