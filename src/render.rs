//! Previews of a teardown [`Graph`]: the human diff `decom plan` prints, its JSON and
//! Markdown forms (`--output json|markdown`), and the DOT and Mermaid drawings of
//! `decom graph`.
//!
//! Every function is pure: graph in, text out. The CLI decides where the text goes and
//! whether colour is on (a TTY, `NO_COLOR` unset). Strings that come from the cloud (names,
//! statuses, reasons quoting them) are sanitised for each target: control characters are
//! shown escaped in the terminal, `|` and Markdown punctuation are escaped in Markdown, and
//! labels are quoted for DOT and Mermaid.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value;

use crate::graph::{Disposition, Entry, Graph, Step};
use crate::model::{Action, Kind};

pub mod header;

/// The version of the [`json`] document; bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// Lines of the human diff are wrapped at this many characters where they can be.
const WIDTH: usize = 100;

/// How many hex characters of the plan fingerprint the previews show.
const SHORT_FINGERPRINT: usize = 12;

// ---------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------

/// The first 12 characters of a fingerprint.
fn short(fingerprint: &str) -> &str {
    fingerprint.get(..SHORT_FINGERPRINT).unwrap_or(fingerprint)
}

/// `N changes (D deletions), M already gone, K blocked` (+ `P left alone (protected)`,
/// `E matched nothing`): the vocabulary of [`crate::graph::Counts`], the same numbers the
/// prompt, the blast-radius check and the report use.
pub fn summary_line(graph: &Graph) -> String {
    let c = graph.counts();
    let mut line = format!(
        "{} change{} ({} deletion{}), {} already gone, {} blocked",
        c.changes,
        if c.changes == 1 { "" } else { "s" },
        c.deletions,
        if c.deletions == 1 { "" } else { "s" },
        c.already_gone,
        c.blocked
    );
    if c.kept > 0 {
        let _ = write!(line, ", {} left alone (protected)", c.kept);
    }
    if c.matched_nothing > 0 {
        let _ = write!(line, ", {} matched nothing", c.matched_nothing);
    }
    line
}

/// `refused: N deletions exceed policy.max_deletions M`, when the blast radius is exceeded.
fn refusal(graph: &Graph) -> Option<String> {
    graph.over_blast_radius().then(|| {
        format!(
            "refused: {} deletions exceed policy.max_deletions {}",
            graph.deletions,
            graph.max_deletions.unwrap_or_default()
        )
    })
}

/// The step with this id (ids are positions, but do not rely on it).
fn step(graph: &Graph, id: usize) -> Option<&Step> {
    graph
        .steps
        .get(id)
        .filter(|s| s.id == id)
        .or_else(|| graph.steps.iter().find(|s| s.id == id))
}

/// The entries in preview order: resources to destroy in execution order (by the
/// smallest level of their steps, then the first step), then blocked ones, then those
/// already gone, then selectors that matched nothing (last: [`matched_nothing`]); each
/// group otherwise in the graph's order.
/// Protected resources that selectors matched are listed with the blocked ones, marked
/// as left alone.
fn sections(graph: &Graph) -> (Vec<&Entry>, Vec<&Entry>, Vec<&Entry>) {
    let mut destroy: Vec<&Entry> = Vec::new();
    let mut blocked: Vec<&Entry> = Vec::new();
    let mut gone: Vec<&Entry> = Vec::new();
    for e in &graph.entries {
        match e.disposition {
            Disposition::Destroy => destroy.push(e),
            Disposition::Blocked { .. } | Disposition::Kept { .. } => blocked.push(e),
            Disposition::AlreadyGone => gone.push(e),
            Disposition::MatchedNothing => {}
        }
    }
    destroy.sort_by_key(|e| {
        e.steps
            .iter()
            .filter_map(|id| step(graph, *id))
            .map(|s| (s.level, s.id))
            .min()
            .unwrap_or((usize::MAX, usize::MAX))
    });
    (destroy, blocked, gone)
}

/// Selectors that matched nothing, in the graph's order.
fn matched_nothing(graph: &Graph) -> Vec<&Entry> {
    graph
        .entries
        .iter()
        .filter(|e| e.disposition == Disposition::MatchedNothing)
        .collect()
}

/// `, owner account 9876543210987654` for another account's resource, else nothing.
fn owner_note(e: &Entry) -> String {
    match e.owner.as_deref() {
        Some(o) if o.chars().all(|c| c.is_ascii_digit()) => format!("owner account {o}"),
        Some(o) => format!("owner {o}"),
        None => String::new(),
    }
}

/// The name of the resource a step acts on, if the graph has an entry for it.
fn name_of<'g>(graph: &'g Graph, kind: Kind, id: &str) -> Option<&'g str> {
    graph
        .entries
        .iter()
        .find(|e| e.kind == kind && e.id == id)
        .map(|e| e.name.as_str())
        .filter(|n| !n.is_empty())
}

/// Steps grouped by the resource they act on, in order of each resource's first step.
fn by_resource(graph: &Graph) -> Vec<((Kind, &str), Vec<&Step>)> {
    let mut groups: Vec<((Kind, &str), Vec<&Step>)> = Vec::new();
    for s in &graph.steps {
        let key = (s.kind, s.resource.as_str());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, steps)) => steps.push(s),
            None => groups.push((key, vec![s])),
        }
    }
    groups
}

/// What a step calls: the API, or for a wait `until <status> (<poll API>)`.
fn step_call(s: &Step) -> String {
    match (&s.action, &s.until) {
        (Action::Wait, Some(until)) => format!("until {} ({})", clean(until), s.api),
        (Action::Wait, None) => format!("until done ({})", s.api),
        _ => s.api.clone(),
    }
}

/// Control characters (an escape sequence in a resource name, a newline) shown escaped,
/// so cloud-provided text cannot drive the terminal or break a line-based format.
fn clean(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(
            s.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

// ---------------------------------------------------------------------------------------
// Human
// ---------------------------------------------------------------------------------------

/// ANSI styling, or none.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn red(self, s: &str) -> String {
        self.wrap("31", s)
    }
    fn bold_red(self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    fn warn(self, s: &str) -> String {
        self.wrap("1;33", s)
    }
    fn dim(self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
}

/// `text` as lines of at most [`WIDTH`] characters, the first starting with `prefix` and
/// the others indented to align with the text after it. A word longer than a line stays
/// whole.
fn wrap(prefix: &str, text: &str) -> Vec<String> {
    let indent = " ".repeat(prefix.chars().count() + 1);
    let mut lines = Vec::new();
    let mut line = format!("{prefix} ");
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            lines.push(std::mem::replace(&mut line, indent.clone()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line.trim_end().to_string());
    lines
}

/// The head line of one resource, without its marker:
/// `kind id (name)  region  status`.
fn resource_line(e: &Entry) -> String {
    let mut line = format!("{} {}", e.kind, clean(&e.id));
    if !e.name.is_empty() {
        let _ = write!(line, " ({})", clean(&e.name));
    }
    if !e.region.is_empty() {
        let _ = write!(line, "  {}", clean(&e.region));
    }
    if e.owner.is_some() {
        let _ = write!(line, "  [{}]", clean(&owner_note(e)));
    }
    let status = match (&e.disposition, e.status.is_empty()) {
        (Disposition::Destroy, false) => format!("{} → gone", clean(&e.status)),
        (Disposition::Destroy, true) => "→ gone".to_string(),
        (Disposition::Blocked { .. } | Disposition::Kept { .. }, false) => {
            format!("{} (stays)", clean(&e.status))
        }
        (Disposition::Blocked { .. } | Disposition::Kept { .. }, true) => "stays".to_string(),
        (Disposition::AlreadyGone, _) => "already gone".to_string(),
        (Disposition::MatchedNothing, _) => "MATCHED NOTHING".to_string(),
    };
    let _ = write!(line, "  {status}");
    line
}

/// The human diff `decom plan` prints: a header with the plan and its short fingerprint,
/// the resources to destroy in execution order (each with its steps and why it is in the
/// plan), then the blocked ones (with what blocks them) and those already gone, and the
/// summary line `N changes (D deletions), M already gone, K blocked` (plus a `refused:` line when the
/// blast-radius limit is exceeded).
///
/// Markers: `-` destroy (red), `!` blocked (bold yellow), `=` already gone (dim); ANSI
/// escapes only when `color` is true. Step numbers count within a resource; a step that
/// waits for another resource says so (`(after delete vbr-1)`).
pub fn human(graph: &Graph, color: bool) -> String {
    let p = Paint(color);
    let mut lines = Lines::default();
    lines.push(p.bold(&format!(
        "Plan: {} (fingerprint {})",
        clean(&graph.plan),
        short(&graph.plan_fingerprint)
    )));
    lines.extend(header::human_lines(graph, jiff::Timestamp::now()));
    let (destroy, blocked, gone) = sections(graph);

    if !destroy.is_empty() {
        lines.push(String::new());
        lines.push(p.bold("Destroy, in execution order:"));
        for e in destroy {
            lines.push(format!("{} {}", p.red("-"), resource_line(e)));
            let steps: Vec<&Step> = e.steps.iter().filter_map(|id| step(graph, *id)).collect();
            if steps.is_empty() {
                lines.push("    (no steps)");
            }
            for (n, s) in steps.iter().enumerate() {
                let line = format!(
                    "    {}. {:<11} {}",
                    n + 1,
                    s.action.to_string(),
                    step_call(s)
                );
                let deps: Vec<&Step> = s
                    .depends_on
                    .iter()
                    .filter_map(|d| step(graph, *d))
                    .filter(|d| d.kind != s.kind || d.resource != s.resource)
                    .collect();
                // Two resources of one id (a route-table association and a propagation of
                // one attachment) are told apart by their kind.
                let after: Vec<String> = deps
                    .iter()
                    .map(|d| {
                        if deps.iter().filter(|o| o.resource == d.resource).count() > 1 {
                            format!("{} {} {}", d.action, d.kind, clean(&d.resource))
                        } else {
                            format!("{} {}", d.action, clean(&d.resource))
                        }
                    })
                    .collect();
                let inline = format!("{line}  (after {})", after.join(", "));
                if after.is_empty() {
                    lines.push(line);
                } else if inline.chars().count() <= WIDTH {
                    lines.push(inline);
                } else {
                    // Too long for one line: the dependencies on their own, wrapped.
                    lines.push(line);
                    lines.extend(wrap("       after:", &after.join(", ")));
                }
            }
            lines.extend(wrap("    why:", &clean(&e.reason)));
            if let Some(n) = &e.note {
                lines.extend(wrap("    note:", &clean(n)));
            }
        }
    }

    if !blocked.is_empty() {
        lines.push(String::new());
        lines.push(p.bold("Blocked or protected, left in place:"));
        for e in blocked {
            if let Disposition::Kept { why } = &e.disposition {
                lines.push(p.dim(&format!("~ {}", resource_line(e))));
                for l in wrap("    kept:", &clean(why)) {
                    lines.push(p.dim(&l));
                }
                continue;
            }
            lines.push(format!("{} {}", p.warn("!"), resource_line(e)));
            if let Disposition::Blocked { why } = &e.disposition {
                for (i, l) in wrap("    blocked:", &clean(why)).into_iter().enumerate() {
                    lines.push(if i == 0 {
                        l.replacen("blocked:", &p.warn("blocked:"), 1)
                    } else {
                        l
                    });
                }
            }
            lines.extend(wrap("    why:", &clean(&e.reason)));
        }
    }

    if !gone.is_empty() {
        lines.push(String::new());
        lines.push(p.bold("Already gone:"));
        for e in gone {
            lines.push(p.dim(&format!("= {}", resource_line(e))));
            for l in wrap("    why:", &clean(&e.reason)) {
                lines.push(p.dim(&l));
            }
        }
    }

    let nothing = matched_nothing(graph);
    if !nothing.is_empty() {
        lines.push(String::new());
        lines.push(p.bold(
            "Matched nothing (a selector that selects nothing is an error: check it for typos):",
        ));
        for e in nothing {
            lines.push(format!("{} {}", p.warn("?"), resource_line(e)));
            lines.extend(wrap("    why:", &clean(&e.reason)));
        }
    }

    lines.push(String::new());
    lines.push(p.bold(&summary_line(graph)));
    if let Some(r) = refusal(graph) {
        lines.push(p.bold_red(&r));
    }
    lines.0
}

/// A text being rendered line by line, written into one string as the lines come (each
/// followed by a newline) rather than kept as a vector of lines joined at the end.
#[derive(Debug, Default)]
struct Lines(String);

impl Lines {
    fn push(&mut self, line: impl AsRef<str>) {
        self.0.push_str(line.as_ref());
        self.0.push('\n');
    }

    fn extend(&mut self, lines: impl IntoIterator<Item = String>) {
        for l in lines {
            self.push(l);
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------

/// The plan as a versioned JSON document (`--output json`). Schema, `format_version` 1:
///
/// ```text
/// {
///   "format_version": 1,
///   "plan": "<plan name>",
///   "plan_fingerprint": "<hex; part of every ClientToken>",
///   "summary": {                // the vocabulary of graph::Counts
///     "changes": N,             // resources that get steps
///     "destroy": N,             // the same number (its name before `changes`)
///     "already_gone": M,        // targets not found, or emptied by this plan earlier
///     "matched_nothing": E,     // selectors that matched nothing (plan/apply exit 1)
///     "steps": S,               // calls and waits
///     "blocked": K,             // resources left in place, with a reason
///     "kept": P,                // selector matches that protect rules keep (not an error)
///     "deletions": D,           // resources that get a delete step (the blast radius)
///     "max_deletions": L|null,  // policy.max_deletions
///     "over_blast_radius": bool // true: apply refuses (exit code 5)
///   },
///   "rails": {                  // what apply will respect
///     "account": "…"|null, "window": {"not_before", "not_after"}|null,
///     "cascade": bool, "on_blocked": "refuse"|"skip", "max_deletions": L|null
///   },
///   "steps": [                  // in execution order; "id" is the position (0-based)
///     {
///       "id": 0,
///       "kind": "physical_connection",   // plan name of the kind
///       "resource": "pc-…",              // resource id
///       "region": "cn-hangzhou",
///       "action": "cancel|terminate|deactivate|dissociate|disable_propagation|delete|wait",
///       "api": "TerminatePhysicalConnection", // the operation called (polled, for waits)
///       "until": "Terminated"|"gone"|null,    // waits: the status waited for
///       "reason": "why this step exists",
///       "depends_on": [ids],                  // steps that must finish first
///       "client_token": "uuid"|null,          // mutations that take a ClientToken
///       "level": 0,                           // depth: steps of one level can run together
///       "state": "fingerprint of the live state the step relied on"
///     }
///   ],
///   "resources": [              // every resource the plan considered, in the graph's order
///     {
///       "kind": "virtual_border_router",
///       "id": "vbr-…",                   // or the selector, for one that matched nothing
///       "region": "cn-hangzhou",
///       "name": "…"|"",
///       "status": "active"|"",           // status when discovered; "" when gone
///       "owner": "9876543210987654",     // only for another account's resource
///       "disposition": "destroy"|"already_gone"|"blocked"|"kept"|"matched_nothing",
///       "why": "what blocks it, who can remove it", // only when blocked
///       "reason": "why it is in the plan: a target (plan line), or what it blocks",
///       "steps": [ids],                  // its steps, in order
///       "note": "what it withdraws, …"   // only when there is one (added within version 1)
///     }
///   ]
/// }
/// ```
///
/// Fields are only added within a format version; removing or changing one bumps it.
pub fn json(graph: &Graph) -> Value {
    serde_json::to_value(json_doc(graph)).expect("the plan document serializes")
}

/// The [`json`] document as a view borrowing `graph`: serialize it straight into a writer
/// (`serde_json::to_writer_pretty`) and no copy of the document is ever held in memory. It
/// writes exactly the bytes `serde_json::to_string_pretty(&json(graph))` would: every object
/// lists its keys in the sorted order a [`Value`] map has.
pub fn json_doc(graph: &Graph) -> JsonDoc<'_> {
    let c = graph.counts();
    JsonDoc {
        format_version: FORMAT_VERSION,
        plan: &graph.plan,
        plan_fingerprint: &graph.plan_fingerprint,
        rails: JsonRails {
            account: graph.rails.account.as_deref(),
            cascade: graph.rails.cascade,
            max_deletions: graph.max_deletions,
            on_blocked: Shown(&graph.rails.on_blocked),
            window: graph.rails.window.as_ref().map(|w| JsonWindow {
                not_after: &w.not_after,
                not_before: &w.not_before,
            }),
        },
        resources: Each(&graph.entries),
        saved: None,
        steps: Each(&graph.steps),
        summary: JsonSummary {
            already_gone: c.already_gone,
            blocked: c.blocked,
            changes: c.changes,
            deletions: c.deletions,
            destroy: c.changes,
            kept: c.kept,
            matched_nothing: c.matched_nothing,
            max_deletions: graph.max_deletions,
            over_blast_radius: graph.over_blast_radius(),
            steps: c.steps,
        },
    }
}

/// The plan document of [`json`], borrowed from a graph ([`json_doc`]). Fields are in the
/// sorted order of the keys (a [`Value`] map's order), so the bytes match [`json`]'s.
#[derive(Debug, serde::Serialize)]
pub struct JsonDoc<'g> {
    format_version: u32,
    plan: &'g str,
    plan_fingerprint: &'g str,
    rails: JsonRails<'g>,
    resources: Each<'g, Entry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    saved: Option<JsonSaved<'g>>,
    steps: Each<'g, Step>,
    summary: JsonSummary,
}

impl<'g> JsonDoc<'g> {
    /// The document of `decom show --output json`: with its `saved` object.
    pub fn with_saved(mut self, saved: JsonSaved<'g>) -> JsonDoc<'g> {
        self.saved = Some(saved);
        self
    }
}

/// The `saved` object `decom show --output json` adds to the plan document: where the
/// saved plan came from (keys in sorted order, as in a [`Value`] map).
#[derive(Debug, serde::Serialize)]
pub struct JsonSaved<'a> {
    /// The account the plan is for.
    pub account: Option<&'a str>,
    /// The endpoint it was planned against.
    pub endpoint: &'a str,
    /// The saved-plan format version.
    pub format_version: u32,
    /// The plan file it came from.
    pub plan_file: &'a str,
    /// When it was saved.
    pub saved_at: &'a str,
}

#[derive(Debug, serde::Serialize)]
struct JsonRails<'g> {
    account: Option<&'g str>,
    cascade: bool,
    max_deletions: Option<u32>,
    on_blocked: Shown<'g, crate::plan::OnBlocked>,
    window: Option<JsonWindow<'g>>,
}

#[derive(Debug, serde::Serialize)]
struct JsonWindow<'g> {
    not_after: &'g str,
    not_before: &'g str,
}

#[derive(Debug, serde::Serialize)]
struct JsonSummary {
    already_gone: usize,
    blocked: usize,
    changes: usize,
    deletions: usize,
    destroy: usize,
    kept: usize,
    matched_nothing: usize,
    max_deletions: Option<u32>,
    over_blast_radius: bool,
    steps: usize,
}

/// A value serialized as its `Display` text (no `String` allocated).
#[derive(Debug)]
struct Shown<'a, T>(&'a T);

impl<T: std::fmt::Display> serde::Serialize for Shown<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

/// A slice of steps or entries serialized as the array of their JSON views, one at a time.
#[derive(Debug)]
struct Each<'g, T>(&'g [T]);

impl serde::Serialize for Each<'_, Step> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(step_json))
    }
}

impl serde::Serialize for Each<'_, Entry> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(entry_json))
    }
}

/// One step of the JSON document (keys in sorted order).
#[derive(Debug, serde::Serialize)]
struct StepJson<'g> {
    action: Shown<'g, Action>,
    api: &'g str,
    client_token: Option<&'g str>,
    depends_on: &'g [usize],
    id: usize,
    kind: &'static str,
    level: usize,
    reason: &'g str,
    region: &'g str,
    resource: &'g str,
    state: &'g str,
    until: Option<&'g str>,
}

fn step_json(s: &Step) -> StepJson<'_> {
    StepJson {
        action: Shown(&s.action),
        api: &s.api,
        client_token: s.client_token.as_deref(),
        depends_on: &s.depends_on,
        id: s.id,
        kind: s.kind.plan_name(),
        level: s.level,
        reason: &s.reason,
        region: &s.region,
        resource: &s.resource,
        state: &s.state,
        until: s.until.as_deref(),
    }
}

/// One resource of the JSON document (keys in sorted order; `note`, `owner` and `why` only
/// when there is one).
#[derive(Debug, serde::Serialize)]
struct EntryJson<'g> {
    disposition: &'static str,
    id: &'g str,
    kind: &'static str,
    name: &'g str,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'g str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'g str>,
    reason: &'g str,
    region: &'g str,
    status: &'g str,
    steps: &'g [usize],
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<&'g str>,
}

fn entry_json(e: &Entry) -> EntryJson<'_> {
    EntryJson {
        disposition: match e.disposition {
            Disposition::Destroy => "destroy",
            Disposition::AlreadyGone => "already_gone",
            Disposition::Blocked { .. } => "blocked",
            Disposition::Kept { .. } => "kept",
            Disposition::MatchedNothing => "matched_nothing",
        },
        id: &e.id,
        kind: e.kind.plan_name(),
        name: &e.name,
        note: e.note.as_deref(),
        owner: e.owner.as_deref(),
        reason: &e.reason,
        region: &e.region,
        status: &e.status,
        steps: &e.steps,
        why: match &e.disposition {
            Disposition::Blocked { why } | Disposition::Kept { why } => Some(why),
            _ => None,
        },
    }
}

// ---------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------

/// Cloud-provided text made inert in Markdown: punctuation that could start emphasis, code,
/// links, HTML or end a table cell is backslash-escaped, and line breaks become spaces.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' | '\t' => out.push(' '),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// The plan as a pull-request comment (`--output markdown`): a heading, the summary in
/// bold, a table of every resource (destroy / blocked / gone), the numbered steps in a
/// collapsed `<details>` block (numbers are step ids, as in the JSON), and what blocks
/// each blocked resource.
pub fn markdown(graph: &Graph) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### decom plan: {}", md(&graph.plan));
    out.push('\n');
    for l in header::markdown_lines(graph, jiff::Timestamp::now()) {
        let _ = writeln!(out, "{l}");
    }
    out.push('\n');
    let _ = writeln!(out, "**{}**", summary_line(graph));
    if let Some(r) = refusal(graph) {
        let _ = writeln!(out, "\n> **{r}**");
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "Plan fingerprint `{}`.",
        short(&graph.plan_fingerprint)
    );

    let (destroy, blocked, gone) = sections(graph);
    if !graph.entries.is_empty() {
        out.push('\n');
        out.push_str("| | kind | id | region | status | steps | why |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        let nothing = matched_nothing(graph);
        for e in destroy.iter().chain(&blocked).chain(&gone).chain(&nothing) {
            let (marker, status) = match &e.disposition {
                Disposition::Destroy => ("destroy", format!("{} → gone", md(&e.status))),
                Disposition::Blocked { .. } => ("blocked", format!("{} (stays)", md(&e.status))),
                Disposition::Kept { .. } => ("kept", format!("{} (stays)", md(&e.status))),
                Disposition::AlreadyGone => ("gone", "already gone".to_string()),
                Disposition::MatchedNothing => (
                    "**matched nothing**",
                    "selector matched nothing".to_string(),
                ),
            };
            let mut id = md(&e.id);
            if !e.name.is_empty() {
                let _ = write!(id, " ({})", md(&e.name));
            }
            if e.owner.is_some() {
                let _ = write!(id, ", {}", md(&owner_note(e)));
            }
            let steps: Vec<String> = e
                .steps
                .iter()
                .filter_map(|s| step(graph, *s))
                .map(|s| s.action.to_string())
                .collect();
            let _ = writeln!(
                out,
                "| {marker} | {} | {id} | {} | {} | {} | {} |",
                e.kind,
                md(&e.region),
                status.trim(),
                if steps.is_empty() {
                    "—".to_string()
                } else {
                    steps.join(" → ")
                },
                md(&match &e.note {
                    Some(n) => format!("{}; {n}", e.reason),
                    None => e.reason.clone(),
                }),
            );
        }
    }

    if !graph.steps.is_empty() {
        let n = graph.steps.len();
        out.push('\n');
        let _ = writeln!(
            out,
            "<details><summary>{n} step{}</summary>",
            if n == 1 { "" } else { "s" }
        );
        out.push('\n');
        for s in &graph.steps {
            let what = match s.action {
                Action::Wait => format!("wait {} {}", md(&s.resource), md(&step_call(s))),
                _ => format!("{} {} ({})", s.action, md(&s.resource), md(&s.api)),
            };
            let _ = write!(out, "{}. {what}", s.id);
            if !s.depends_on.is_empty() {
                let deps: Vec<String> = s.depends_on.iter().map(usize::to_string).collect();
                let _ = write!(out, " — after {}", deps.join(", "));
            }
            out.push('\n');
        }
        out.push('\n');
        out.push_str("</details>\n");
    }

    if !blocked.is_empty() {
        out.push('\n');
        out.push_str("#### Blocked or protected\n\n");
        for e in blocked {
            if let Disposition::Blocked { why } | Disposition::Kept { why } = &e.disposition {
                let _ = writeln!(out, "- **{} {}**: {}", e.kind, md(&e.id), md(why));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// DOT and Mermaid
// ---------------------------------------------------------------------------------------

/// A step's node label: `action kind id`, or `wait <until>` for waits (their cluster names
/// the resource).
fn node_label(s: &Step) -> String {
    match (s.action, &s.until) {
        (Action::Wait, Some(until)) => format!("wait {}", clean(until)),
        (Action::Wait, None) => "wait".to_string(),
        _ => format!("{} {} {}", s.action, s.kind, clean(&s.resource)),
    }
}

/// A resource's cluster label: `kind id (name)`.
fn cluster_label(graph: &Graph, kind: Kind, id: &str) -> String {
    match name_of(graph, kind, id) {
        Some(name) => format!("{kind} {} ({})", clean(id), clean(name)),
        None => format!("{kind} {}", clean(id)),
    }
}

/// A DOT quoted string (`"` and `\` escaped; control characters were escaped by [`clean`]).
fn dot_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The step graph in Graphviz DOT (`decom graph --format dot`): one node `s<id>` per step,
/// a `cluster_<n>` per resource, an edge from each dependency to its step. Waits are
/// dashed.
pub fn dot(graph: &Graph) -> String {
    let mut out = String::new();
    out.push_str("digraph decom {\n");
    let title = format!(
        "decom plan {} ({})",
        clean(&graph.plan),
        short(&graph.plan_fingerprint)
    );
    let _ = writeln!(out, "  label={};", dot_str(&title));
    out.push_str("  labelloc=t;\n");
    out.push_str("  rankdir=LR;\n");
    out.push_str("  node [shape=box, fontname=\"Helvetica\"];\n");
    for (n, ((kind, id), steps)) in by_resource(graph).into_iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_{n} {{");
        let _ = writeln!(
            out,
            "    label={};",
            dot_str(&cluster_label(graph, kind, id))
        );
        for s in steps {
            let style = if s.action == Action::Wait {
                ", style=dashed"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    s{} [label={}{style}];",
                s.id,
                dot_str(&node_label(s))
            );
        }
        out.push_str("  }\n");
    }
    for s in &graph.steps {
        for d in &s.depends_on {
            let _ = writeln!(out, "  s{d} -> s{};", s.id);
        }
    }
    let held = held_back(graph);
    for (n, h) in held.nodes.iter().enumerate() {
        let style = match h.how {
            Held::Blocked => {
                "shape=octagon, style=filled, fillcolor=\"#fde0dd\", color=\"#c0392b\""
            }
            Held::Protected => {
                "shape=box, style=\"filled,dashed\", fillcolor=\"#eeeeee\", color=\"#7f8c8d\""
            }
            Held::NotCascaded => "shape=box, style=dashed, color=\"#d35400\"",
        };
        let _ = writeln!(out, "  b{n} [label={}, {style}];", dot_str(&h.label));
    }
    for (from, to) in &held.edges {
        let _ = writeln!(
            out,
            "  b{from} -> b{to} [label=\"blocks\", color=\"#c0392b\", style=bold];"
        );
    }
    out.push_str("}\n");
    out
}

/// How a resource that stays is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// Blocked: something stands in its way.
    Blocked,
    /// Protected by a policy rule (blocked by it, or left alone).
    Protected,
    /// A blocker left in place because cascade is off.
    NotCascaded,
}

/// A resource that stays, as `decom graph` draws it.
struct HeldNode {
    label: String,
    how: Held,
}

/// The resources that stay and what blocks what among them (edges blocker → blocked, by
/// position in `nodes`).
struct HeldBack {
    nodes: Vec<HeldNode>,
    edges: Vec<(usize, usize)>,
}

/// Blocked and protected entries, and the blockers they name (those without an entry of
/// their own are the ones cascade would have removed).
fn held_back(graph: &Graph) -> HeldBack {
    let mut index: std::collections::BTreeMap<(Kind, &str), usize> = Default::default();
    let mut nodes: Vec<HeldNode> = Vec::new();
    for e in &graph.entries {
        let (how, why) = match &e.disposition {
            Disposition::Blocked { why }
                if why.starts_with(&format!("{} is protected by ", e.id)) =>
            {
                (Held::Protected, why)
            }
            Disposition::Blocked { why } => (Held::Blocked, why),
            Disposition::Kept { why } => (Held::Protected, why),
            _ => continue,
        };
        let mut label = resource_label(graph, e.kind, &e.id);
        if e.blocked_by.is_empty() || how == Held::Protected {
            let _ = write!(label, "\n{}", clean(why));
        }
        index.insert((e.kind, e.id.as_str()), nodes.len());
        nodes.push(HeldNode { label, how });
    }
    let mut edges = Vec::new();
    for e in &graph.entries {
        let Some(&to) = index.get(&(e.kind, e.id.as_str())) else {
            continue;
        };
        for b in &e.blocked_by {
            let from = match index.get(&(b.kind, b.id.as_str())) {
                Some(&n) => n,
                None => {
                    index.insert((b.kind, b.id.as_str()), nodes.len());
                    nodes.push(HeldNode {
                        label: format!("{} {}\nnot removed (cascade off)", b.kind, clean(&b.id)),
                        how: Held::NotCascaded,
                    });
                    nodes.len() - 1
                }
            };
            edges.push((from, to));
        }
    }
    HeldBack { nodes, edges }
}

/// `kind id (name)`, the name when the graph knows it.
fn resource_label(graph: &Graph, kind: Kind, id: &str) -> String {
    cluster_label(graph, kind, id)
}

/// A Mermaid quoted label: characters Mermaid would interpret become entity codes.
fn mermaid_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '`' => out.push_str("#96;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The step graph as a Mermaid flowchart (`decom graph --format mermaid`; GitHub renders it
/// in a ```` ```mermaid ```` block): one node `s<id>` per step, a `subgraph r<n>` per
/// resource, an edge from each dependency to its step. Waits are drawn as stadiums.
pub fn mermaid(graph: &Graph) -> String {
    let mut out = String::new();
    out.push_str("flowchart LR\n");
    let _ = writeln!(
        out,
        "%% decom plan {} ({})",
        clean(&graph.plan).replace("%%", "% %"),
        short(&graph.plan_fingerprint)
    );
    for (n, ((kind, id), steps)) in by_resource(graph).into_iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph r{n}[{}]",
            mermaid_str(&cluster_label(graph, kind, id))
        );
        for s in steps {
            let label = mermaid_str(&node_label(s));
            if s.action == Action::Wait {
                let _ = writeln!(out, "    s{}([{label}])", s.id);
            } else {
                let _ = writeln!(out, "    s{}[{label}]", s.id);
            }
        }
        out.push_str("  end\n");
    }
    for s in &graph.steps {
        for d in &s.depends_on {
            let _ = writeln!(out, "  s{d} --> s{}", s.id);
        }
    }
    let held = held_back(graph);
    if !held.nodes.is_empty() {
        out.push_str("  classDef blocked fill:#fde0dd,stroke:#c0392b;\n");
        out.push_str("  classDef protected fill:#eeeeee,stroke:#7f8c8d,stroke-dasharray: 5 5;\n");
        out.push_str("  classDef notcascaded stroke:#d35400,stroke-dasharray: 5 5;\n");
    }
    for (n, h) in held.nodes.iter().enumerate() {
        let label = mermaid_str(&h.label.replace('\n', " — "));
        let (shape, class) = match h.how {
            Held::Blocked => (format!("{{{{{label}}}}}"), "blocked"),
            Held::Protected => (format!("[{label}]"), "protected"),
            Held::NotCascaded => (format!("[{label}]"), "notcascaded"),
        };
        let _ = writeln!(out, "  b{n}{shape}:::{class}");
    }
    for (from, to) in &held.edges {
        let _ = writeln!(out, "  b{from} == blocks ==> b{to}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::client_token;

    const FP: &str = "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9012345abcdef0123456789abcdef01";

    #[allow(clippy::too_many_arguments)]
    fn step(
        id: usize,
        kind: Kind,
        resource: &str,
        action: Action,
        api: &str,
        until: Option<&str>,
        reason: &str,
        depends_on: Vec<usize>,
    ) -> Step {
        Step {
            id,
            kind,
            resource: resource.to_string(),
            region: "cn-hangzhou".to_string(),
            parent: None,
            scope: None,
            action,
            api: api.to_string(),
            until: until.map(str::to_string),
            reason: reason.to_string(),
            depends_on,
            client_token: action
                .is_mutation()
                .then(|| client_token(FP, kind, resource, action, 0)),
            state: format!("st-{resource}"),
            level: id,
        }
    }

    /// A circuit (Enabled: terminate, wait, delete) after the VBR on it, a VBR of another
    /// account that cannot be removed, and a target that is already gone.
    fn sample() -> Graph {
        let pc = Kind::PhysicalConnection;
        let vbr = Kind::VirtualBorderRouter;
        Graph {
            plan: "retire-dc1".to_string(),
            plan_fingerprint: FP.to_string(),
            steps: vec![
                step(0, vbr, "vbr-1", Action::Delete, "DeleteVirtualBorderRouter", None, "the VBR itself", vec![]),
                step(
                    1,
                    pc,
                    "pc-1",
                    Action::Terminate,
                    "TerminatePhysicalConnection",
                    None,
                    "Enabled circuits are terminated before deletion",
                    vec![0],
                ),
                step(
                    2,
                    pc,
                    "pc-1",
                    Action::Wait,
                    "DescribePhysicalConnections",
                    Some("Terminated"),
                    "DeletePhysicalConnection needs Terminated",
                    vec![1],
                ),
                step(3, pc, "pc-1", Action::Delete, "DeletePhysicalConnection", None, "the circuit itself", vec![2]),
            ],
            entries: vec![
                Entry {
                    kind: pc,
                    id: "pc-1".to_string(),
                    region: "cn-hangzhou".to_string(),
                    name: "legacy-dc1".to_string(),
                    status: "Enabled".to_string(),
                    owner: None,
                    disposition: Disposition::Destroy,
                    reason: "target (plan line 4)".to_string(),
                    steps: vec![1, 2, 3],
                    note: None,
                    blocked_by: vec![],
                },
                Entry {
                    kind: vbr,
                    id: "vbr-9".to_string(),
                    region: "cn-hangzhou".to_string(),
                    name: String::new(),
                    status: "active".to_string(),
                    owner: Some("1234567890123456".to_string()),
                    disposition: Disposition::Blocked {
                        why: "vbr-9 belongs to account 1234567890123456 and is active: only that account can \
                              delete it (DeleteVirtualBorderRouter would answer \
                              Forbidden.OperationNotAllowedByUser)"
                            .to_string(),
                    },
                    reason: "target (plan line 6)".to_string(),
                    steps: vec![],
                    note: None,
                    blocked_by: vec![],
                },
                Entry {
                    kind: vbr,
                    id: "vbr-1".to_string(),
                    region: "cn-hangzhou".to_string(),
                    name: "dc1-vbr".to_string(),
                    status: "active".to_string(),
                    owner: None,
                    disposition: Disposition::Destroy,
                    reason: "vbr-1 sits on pc-1 (cascade)".to_string(),
                    steps: vec![0],
                    note: None,
                    blocked_by: vec![],
                },
                Entry {
                    kind: pc,
                    id: "pc-old".to_string(),
                    region: "cn-hangzhou".to_string(),
                    name: String::new(),
                    status: String::new(),
                    owner: None,
                    disposition: Disposition::AlreadyGone,
                    reason: "target (plan line 8): not found, already gone".to_string(),
                    steps: vec![],
                    note: None,
                    blocked_by: vec![],
                },
            ],
            deletions: 2,
            max_deletions: Some(10),
            rails: Default::default(),
        }
    }

    fn edges(g: &Graph) -> usize {
        g.steps.iter().map(|s| s.depends_on.len()).sum()
    }

    #[test]
    fn human_snapshot() {
        insta::assert_snapshot!(human(&sample(), false));
    }

    #[test]
    fn human_has_no_ansi_without_color_and_has_it_with() {
        let g = sample();
        assert!(!human(&g, false).contains('\x1b'));
        let c = human(&g, true);
        assert!(c.contains("\x1b[31m-\x1b[0m physical_connection pc-1"));
        assert!(c.contains("\x1b[1;33m!\x1b[0m virtual_border_router vbr-9"));
        assert!(c.contains("\x1b[2m= physical_connection pc-old"));
    }

    #[test]
    fn human_lines_are_short_and_clean() {
        for color in [false, true] {
            for line in human(&sample(), color).lines() {
                assert_eq!(line, line.trim_end(), "trailing whitespace: {line:?}");
                if !color {
                    assert!(line.chars().count() <= WIDTH, "too long: {line:?}");
                }
            }
        }
    }

    #[test]
    fn human_summary_and_refusal() {
        let mut g = sample();
        let out = human(&g, false);
        assert!(
            out.lines()
                .any(|l| l == "2 changes (2 deletions), 1 already gone, 1 blocked")
        );
        assert!(!out.contains("refused"));
        g.max_deletions = Some(1);
        let out = human(&g, false);
        assert!(out.ends_with("refused: 2 deletions exceed policy.max_deletions 1\n"));
        assert!(markdown(&g).contains("> **refused: 2 deletions exceed policy.max_deletions 1**"));
        assert_eq!(json(&g)["summary"]["over_blast_radius"], true);
    }

    #[test]
    fn human_escapes_control_characters() {
        let mut g = sample();
        g.entries[0].name = "evil\x1b[2Jname\nnext".to_string();
        let out = human(&g, false);
        assert!(!out.contains('\x1b'));
        assert!(out.contains("(evil\\u{1b}[2Jname\\nnext)"));
    }

    /// The plan document as it was built before it was streamed: a `json!` tree.
    fn reference_json(graph: &Graph) -> Value {
        use serde_json::json;
        let c = graph.counts();
        let steps: Vec<Value> = graph
            .steps
            .iter()
            .map(|s| {
                json!({
                    "id": s.id, "kind": s.kind.plan_name(), "resource": s.resource,
                    "region": s.region, "action": s.action.to_string(), "api": s.api,
                    "until": s.until, "reason": s.reason, "depends_on": s.depends_on,
                    "client_token": s.client_token, "level": s.level, "state": s.state,
                })
            })
            .collect();
        let entries: Vec<Value> = graph
            .entries
            .iter()
            .map(|e| {
                let mut v = json!({
                    "kind": e.kind.plan_name(), "id": e.id, "region": e.region, "name": e.name,
                    "status": e.status,
                    "disposition": match e.disposition {
                        Disposition::Destroy => "destroy",
                        Disposition::AlreadyGone => "already_gone",
                        Disposition::Blocked { .. } => "blocked",
                        Disposition::Kept { .. } => "kept",
                        Disposition::MatchedNothing => "matched_nothing",
                    },
                    "reason": e.reason, "steps": e.steps,
                });
                if let Some(owner) = &e.owner {
                    v["owner"] = Value::String(owner.clone());
                }
                if let Disposition::Blocked { why } | Disposition::Kept { why } = &e.disposition {
                    v["why"] = Value::String(why.clone());
                }
                if let Some(n) = &e.note {
                    v["note"] = Value::String(n.clone());
                }
                v
            })
            .collect();
        json!({
            "format_version": FORMAT_VERSION,
            "plan": graph.plan,
            "plan_fingerprint": graph.plan_fingerprint,
            "summary": {
                "destroy": c.changes, "changes": c.changes, "already_gone": c.already_gone,
                "blocked": c.blocked, "kept": c.kept, "matched_nothing": c.matched_nothing,
                "deletions": c.deletions, "steps": c.steps,
                "max_deletions": graph.max_deletions,
                "over_blast_radius": graph.over_blast_radius(),
            },
            "rails": {
                "account": graph.rails.account,
                "window": graph.rails.window.as_ref().map(|w| json!({
                    "not_before": w.not_before, "not_after": w.not_after,
                })),
                "cascade": graph.rails.cascade,
                "on_blocked": graph.rails.on_blocked.to_string(),
                "max_deletions": graph.max_deletions,
            },
            "steps": steps,
            "resources": entries,
        })
    }

    #[test]
    fn streamed_json_is_byte_identical_to_the_value_document() {
        let plain = sample();
        // Every optional field set: window, account, a kept and a matched-nothing entry,
        // a note, no blast-radius limit.
        let mut full = sample();
        full.rails = crate::graph::Rails {
            account: Some("1234567890123456".into()),
            window: Some(crate::graph::WindowSpan {
                not_before: "2026-01-01T00:00:00Z".into(),
                not_after: "2026-01-01T04:00:00Z".into(),
            }),
            cascade: true,
            on_blocked: crate::plan::OnBlocked::Skip,
        };
        full.max_deletions = None;
        full.entries[0].note = Some("withdraws 3 routes \"quoted\"\n".into());
        full.entries[2].disposition = Disposition::Kept {
            why: "protected by tag env=prod".into(),
        };
        full.entries[3].disposition = Disposition::MatchedNothing;
        for g in [plain, full] {
            let want = serde_json::to_string_pretty(&reference_json(&g)).unwrap();
            let streamed = serde_json::to_string_pretty(&json_doc(&g)).unwrap();
            assert_eq!(streamed, want);
            assert_eq!(serde_json::to_string_pretty(&json(&g)).unwrap(), want);
            let saved = JsonSaved {
                account: Some("1234567890123456"),
                endpoint: "emulator:w.yaml",
                format_version: 2,
                plan_file: "p.yaml",
                saved_at: "2026-01-01T00:00:00Z",
            };
            let mut v = reference_json(&g);
            v["saved"] = serde_json::json!({
                "format_version": 2, "saved_at": "2026-01-01T00:00:00Z", "plan_file": "p.yaml",
                "account": "1234567890123456", "endpoint": "emulator:w.yaml",
            });
            assert_eq!(
                serde_json::to_string_pretty(&json_doc(&g).with_saved(saved)).unwrap(),
                serde_json::to_string_pretty(&v).unwrap()
            );
        }
    }

    #[test]
    fn json_snapshot() {
        insta::assert_snapshot!(serde_json::to_string_pretty(&json(&sample())).unwrap());
    }

    #[test]
    fn json_lists_every_step_with_its_token() {
        let g = sample();
        let v = json(&g);
        assert_eq!(v["format_version"], 1);
        let steps = v["steps"].as_array().unwrap();
        assert_eq!(steps.len(), g.steps.len());
        for (s, j) in g.steps.iter().zip(steps) {
            assert_eq!(j["resource"], s.resource.as_str());
            assert_eq!(j["client_token"].as_str(), s.client_token.as_deref());
        }
        let blocked = &v["resources"][1];
        assert_eq!(blocked["disposition"], "blocked");
        assert!(
            blocked["why"]
                .as_str()
                .unwrap()
                .contains("1234567890123456")
        );
        assert!(v["resources"][0].get("why").is_none());
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(markdown(&sample()));
    }

    #[test]
    fn markdown_escapes_pipes_in_cells() {
        let mut g = sample();
        g.entries[0].name = "dc1 | primary".to_string();
        g.entries[0].reason = "a|b".to_string();
        let out = markdown(&g);
        let row = out
            .lines()
            .find(|l| l.starts_with("| destroy | physical_connection | pc-1 "))
            .unwrap();
        assert!(row.contains("pc-1 (dc1 \\| primary)"), "{row}");
        assert!(row.contains("a\\|b"), "{row}");
        // Unescaped pipes: the same number of cell borders as the header.
        let borders = |l: &str| l.replace("\\|", "").matches('|').count();
        let header = out.lines().find(|l| l.starts_with("| | kind")).unwrap();
        assert_eq!(borders(row), borders(header));
    }

    #[test]
    fn dot_snapshot() {
        insta::assert_snapshot!(dot(&sample()));
    }

    #[test]
    fn mermaid_snapshot() {
        insta::assert_snapshot!(mermaid(&sample()));
    }

    #[test]
    fn drawings_have_one_node_per_step_and_one_edge_per_dependency() {
        let g = sample();
        let is_node = |l: &str, open: &[char]| {
            let l = l.trim_start();
            l.strip_prefix('s').is_some_and(|rest| {
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                digits > 0 && rest[digits..].starts_with(open)
            })
        };
        let d = dot(&g);
        assert_eq!(
            d.lines()
                .filter(|l| is_node(l, &[' ']))
                .filter(|l| l.contains("[label="))
                .count(),
            g.steps.len()
        );
        assert_eq!(d.lines().filter(|l| l.contains(" -> ")).count(), edges(&g));
        assert_eq!(d.matches("subgraph cluster_").count(), 2);
        let m = mermaid(&g);
        assert_eq!(
            m.lines().filter(|l| is_node(l, &['[', '('])).count(),
            g.steps.len()
        );
        assert_eq!(m.lines().filter(|l| l.contains(" --> ")).count(), edges(&g));
        assert_eq!(m.lines().filter(|l| l.trim() == "end").count(), 2);
    }

    #[test]
    fn drawings_show_what_stays_and_what_blocks_it() {
        // Without cascade the circuit is blocked by vbr-1 (left in place) and by vbr-9 (of
        // another account); a protected VBR is left alone.
        let mut g = sample();
        g.steps.clear();
        g.entries[0].disposition = Disposition::Blocked {
            why: "vbr-1 sits on pc-1; vbr-9 sits on pc-1".into(),
        };
        g.entries[0].steps.clear();
        g.entries[0].blocked_by = vec![
            crate::graph::BlockerRef {
                kind: Kind::VirtualBorderRouter,
                id: "vbr-1x".into(),
            },
            crate::graph::BlockerRef {
                kind: Kind::VirtualBorderRouter,
                id: "vbr-9".into(),
            },
        ];
        g.entries[2].disposition = Disposition::Kept {
            why: "matched by a selector but protected by policy.protect.tags env=prod: left alone"
                .into(),
        };
        g.entries[2].steps.clear();
        insta::assert_snapshot!("blocked_dot", dot(&g));
        insta::assert_snapshot!("blocked_mermaid", mermaid(&g));
        let d = dot(&g);
        assert_eq!(d.matches(" -> ").count(), 2);
        assert!(d.contains("shape=octagon"));
        assert!(d.contains("not removed (cascade off)"));
        let m = mermaid(&g);
        assert_eq!(m.matches(" == blocks ==> ").count(), 2);
        assert!(m.contains(":::protected"));
    }

    #[test]
    fn drawings_quote_labels() {
        let mut g = sample();
        g.steps[0].resource = "vbr-\"x\"\\<y>#1".to_string();
        let d = dot(&g);
        assert!(
            d.contains(r#"s0 [label="delete virtual_border_router vbr-\"x\"\\<y>#1"];"#),
            "{d}"
        );
        let m = mermaid(&g);
        assert!(
            m.contains(r#"s0["delete virtual_border_router vbr-#quot;x#quot;\#lt;y#gt;#35;1"]"#),
            "{m}"
        );
    }

    #[test]
    fn empty_graph_renders() {
        let g = Graph {
            plan: "empty".to_string(),
            plan_fingerprint: "abc".to_string(),
            steps: vec![],
            entries: vec![],
            deletions: 0,
            max_deletions: None,
            rails: Default::default(),
        };
        assert_eq!(
            human(&g, false),
            "Plan: empty (fingerprint abc)\n  account guard: none (any account the credentials reach)\n  window:        none (apply runs whenever it is started)\n  cascade:       off (blockers are listed, not removed)\n  on blocked:    refuse (one blocked resource stops the whole plan)\n  max deletions: no limit (this plan: 0 deletions)\n\n0 changes (0 deletions), 0 already gone, 0 blocked\n"
        );
        assert!(!markdown(&g).contains("<details>"));
        assert_eq!(json(&g)["summary"]["max_deletions"], Value::Null);
        assert!(dot(&g).ends_with("node [shape=box, fontname=\"Helvetica\"];\n}\n"));
        assert!(mermaid(&g).starts_with("flowchart LR\n"));
    }

    #[test]
    fn wrap_keeps_every_word() {
        let text = "word ".repeat(60);
        let lines = wrap("    why:", &text);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH));
        assert_eq!(
            lines
                .iter()
                .flat_map(|l| l.split_whitespace())
                .filter(|w| *w == "word")
                .count(),
            60
        );
        assert!(lines[1].starts_with("         word"));
    }
}
