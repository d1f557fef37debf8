//! The plan file: format, loading, validation with source locations.
//!
//! A plan is a small YAML file that names what to tear down and the rules to respect while
//! doing it. Everything else (blockers, order, waits) is discovered and derived.
//!
//! ```yaml
//! version: 1                       # required, only 1
//! name: decommission-shanghai-dc1  # required: letters, digits, '.', '_', '-' (≤ 128)
//! account: "1234567890123456"      # optional; digits; apply refuses any other account
//! region: cn-shanghai              # default region for targets (a known region)
//! window:                          # optional: apply only inside [not_before, not_after]
//!   not_before: 2026-12-01T02:00:00+08:00   # RFC 3339 with an offset (or Z)
//!   not_after:  2026-12-01T06:00:00+08:00
//! policy:                          # optional
//!   cascade: true                  # default false: fail and list blockers instead
//!   max_deletions: 40              # optional blast-radius limit (>= 1)
//!   protect:                       # never delete these, even through cascade
//!     ids: [vbr-keepme]
//!     tags: { env: prod }          # ANY of these key=value pairs protects a resource
//!     names: ["prod-*"]            # globs on the resource name
//!   on_blocked: skip               # default refuse: one unremovable resource stops the plan
//! targets:                         # required, at least one
//!   - physical_connection: pc-119mfjzm7                  # by id
//!   - vpn_attachment: vco-p0w7gtr14m09r9lkr
//!     region: ap-southeast-2                              # per-target region
//!   - virtual_border_router: { name: "legacy-*", physical_connection: pc-abc }
//!   - vpn_attachment: { tags: { decommission: "2026-q4" } }
//! ```
//!
//! Loading is two passes: the YAML is read into a located tree (`node.rs`), then every field is
//! checked and every problem is collected with its line and column, so one run of
//! `decom validate` shows all of them ([`PlanErrors`] renders them like rustc does).
//!
//! Each target entry is a mapping with exactly one kind key (a [`Kind::targetable`] plan name)
//! whose value is either an id (with the kind's prefix, e.g. `vbr-` for
//! `virtual_border_router`) or a selector mapping, plus an optional `region`. Selector keys:
//!
//! | key                   | matches                              | kinds                              |
//! |-----------------------|--------------------------------------|------------------------------------|
//! | `name`                | glob (`*`, `?`) on the resource name | all                                |
//! | `tags`                | every listed `key: value` present    | all                                |
//! | `physical_connection` | the circuit the VBR sits on (`pc-`)  | `virtual_border_router`            |
//! | `transit_router`      | the transit router (`tr-`)           | `transit_router_vbr_attachment`, `transit_router_vpn_attachment`, `vpn_attachment` |
//! | `vpn_gateway`         | the VPN gateway (`vpn-`)             | `vpn_connection`                   |
//!
//! An empty selector is refused (it would select every resource of the kind).

mod check;
mod error;
mod fingerprint;
mod node;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::model::{Kind, glob_match};

pub use error::{PlanError, PlanErrors};

/// The only plan format version this build reads.
pub const VERSION: u32 = 1;

/// A checked plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Format version (always [`VERSION`]).
    pub version: u32,
    /// The plan's name (letters, digits, `.`, `_`, `-`; at most 128 characters).
    pub name: String,
    /// The account the plan is for (digits); apply refuses to act on any other account.
    pub account: Option<String>,
    /// Default region for targets that do not name their own.
    pub region: Option<String>,
    /// When apply may act; outside it apply does nothing.
    pub window: Option<Window>,
    /// Cascade, blast-radius limit and protection rules.
    pub policy: Policy,
    /// What to remove, in file order (never empty).
    pub targets: Vec<Target>,
    /// The file the plan was read from, as given (`<input>` style names for text).
    pub file: String,
    /// Hex SHA-256 of a canonical serialisation of every field above except `file`: comments,
    /// whitespace, key order, list order of targets and protect rules, and the offset a
    /// timestamp is written with do not change it; any change of meaning does.
    pub fingerprint: String,
}

impl Plan {
    /// The fingerprint that keys the plan's journal: [`Plan::fingerprint`] without the window
    /// (moving the window after a run it stopped resumes that run's history).
    pub fn journal_fingerprint(&self) -> String {
        fingerprint::journal_fingerprint(self)
    }
}

/// The schedule window: apply acts only when `not_before <= now <= not_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Earliest instant apply may start.
    pub not_before: jiff::Timestamp,
    /// Latest instant apply may start (strictly after `not_before`).
    pub not_after: jiff::Timestamp,
}

impl Window {
    /// True when `now` is inside the window (both ends included).
    pub fn contains(&self, now: jiff::Timestamp) -> bool {
        self.not_before <= now && now <= self.not_after
    }
}

/// How far apply may go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Also remove discovered blockers (VBRs on a circuit, attachments, ...). When false, a
    /// target with blockers fails and the blockers are listed.
    pub cascade: bool,
    /// Refuse a plan that would delete more resources than this (at least 1).
    pub max_deletions: Option<u32>,
    /// Resources never deleted, even through cascade.
    pub protect: Protect,
    /// What apply does when something cannot be removed: refuse the whole plan (default),
    /// or remove everything removable and leave the blocked resources (exit 3).
    pub on_blocked: OnBlocked,
}

/// `policy.on_blocked`: all-or-nothing, or a partial teardown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnBlocked {
    /// One resource that cannot be removed refuses the whole plan; nothing is done.
    #[default]
    Refuse,
    /// Remove everything removable; leave blocked resources, the resources that exist only
    /// to block them stay too when they are parts of them; report them and exit 3.
    Skip,
}

impl fmt::Display for OnBlocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OnBlocked::Refuse => "refuse",
            OnBlocked::Skip => "skip",
        })
    }
}

/// Protection rules: a resource matching any rule is never deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protect {
    /// Exact resource ids.
    pub ids: Vec<String>,
    /// `key: value` pairs; a resource carrying ANY of them is protected.
    pub tags: BTreeMap<String, String>,
    /// Globs (`*`, `?`) on the resource name.
    pub names: Vec<String>,
}

impl Protect {
    /// Why a resource is protected, or `None` when no rule matches. The reason names the rule,
    /// e.g. `protected by policy.protect.tags env=prod`.
    pub fn reason(&self, id: &str, name: &str, tags: &BTreeMap<String, String>) -> Option<String> {
        if self.ids.iter().any(|p| p == id) {
            return Some(format!("protected by policy.protect.ids {id}"));
        }
        if let Some((k, v)) = self
            .tags
            .iter()
            .find(|(k, v)| tags.get(k.as_str()) == Some(v))
        {
            return Some(format!("protected by policy.protect.tags {k}={v}"));
        }
        if let Some(glob) = self.names.iter().find(|g| glob_match(g, name)) {
            return Some(format!("protected by policy.protect.names {glob}"));
        }
        None
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.tags.is_empty() && self.names.is_empty()
    }
}

/// One entry of `targets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What kind of resource (one of [`Kind::targetable`]).
    pub kind: Kind,
    /// An id or a selector.
    pub selector: Selector,
    /// Where discovery looks: the entry's `region`, else the plan's. Kept for the global
    /// transit-router attachment kinds too.
    pub region: String,
    /// 1-based line of the entry in the plan file.
    pub line: u64,
    /// 1-based column of the entry in the plan file.
    pub column: u64,
}

impl Target {
    /// `physical_connection pc-1` or `virtual_border_router {name: legacy-*}`.
    pub fn describe(&self) -> String {
        format!("{} {}", self.kind, self.selector)
    }
}

/// How a target names its resources.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Selector {
    /// Exactly this resource.
    Id(String),
    /// Every resource of the kind in the region that matches.
    Match(Match),
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Id(id) => f.write_str(id),
            Selector::Match(m) => m.fmt(f),
        }
    }
}

/// A selector. At least one field is set. `name` and `tags` are checked by
/// [`Match::matches`]; the link fields are checked by discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Match {
    /// Glob (`*`, `?`) on the resource name.
    pub name: Option<String>,
    /// Every pair must be present on the resource.
    pub tags: BTreeMap<String, String>,
    /// VBRs on this circuit (`virtual_border_router` only).
    pub physical_connection: Option<String>,
    /// Attachments / IPsec connections on this transit router (`transit_router_*_attachment`,
    /// `vpn_attachment`).
    pub transit_router: Option<String>,
    /// IPsec connections on this VPN gateway (`vpn_connection` only).
    pub vpn_gateway: Option<String>,
}

impl Match {
    /// True when the name matches the glob (if any) and every tag is present with its value.
    pub fn matches(&self, name: &str, tags: &BTreeMap<String, String>) -> bool {
        self.name.as_deref().is_none_or(|g| glob_match(g, name))
            && self.tags.iter().all(|(k, v)| tags.get(k) == Some(v))
    }

    /// True when no field is set.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.tags.is_empty()
            && self.physical_connection.is_none()
            && self.transit_router.is_none()
            && self.vpn_gateway.is_none()
    }
}

impl fmt::Display for Match {
    /// `{name: legacy-*, tags: {env: prod}, physical_connection: pc-abc}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(n) = &self.name {
            parts.push(format!("name: {n}"));
        }
        if !self.tags.is_empty() {
            let tags: Vec<String> = self.tags.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            parts.push(format!("tags: {{{}}}", tags.join(", ")));
        }
        for (key, value) in [
            ("physical_connection", &self.physical_connection),
            ("transit_router", &self.transit_router),
            ("vpn_gateway", &self.vpn_gateway),
        ] {
            if let Some(v) = value {
                parts.push(format!("{key}: {v}"));
            }
        }
        write!(f, "{{{}}}", parts.join(", "))
    }
}

/// Parse and check a plan's text. `file` is used in messages and kept in [`Plan::file`].
pub fn parse(file: &str, text: &str) -> Result<Plan, PlanErrors> {
    check::parse(file, text)
}

/// Read, parse and check a plan file (read through [`crate::input`]: a regular file under
/// the size limit, UTF-8; an invalid byte is reported at its line and column).
pub fn load(path: &Path) -> Result<Plan, PlanErrors> {
    let file = path.display().to_string();
    match crate::input::read_text(path) {
        Ok(text) => parse(&file, &text),
        Err(e) => {
            let (line, column) = e.position().unwrap_or((0, 0));
            let source_line = match &e {
                crate::input::InputError::InvalidUtf8 { line_text, .. } => {
                    Some(format!("{line_text}\u{fffd}"))
                }
                _ => None,
            };
            Err(PlanErrors {
                file,
                errors: vec![PlanError {
                    line,
                    column,
                    message: format!("cannot read the plan file: {e}"),
                    expected: None,
                    source_line,
                }],
            })
        }
    }
}
