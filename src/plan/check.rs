//! From the located YAML tree to a [`Plan`], collecting every problem with its position.

use std::collections::{BTreeMap, HashMap};

use serde_saphyr::Location;

use super::node::{self, Node, SNode};
use super::{Match, Plan, PlanError, PlanErrors, Policy, Protect, Selector, Target, Window};
use crate::model::{Kind, REGIONS};

const TOP_KEYS: &[&str] = &[
    "version", "name", "account", "region", "window", "policy", "targets",
];
const WINDOW_KEYS: &[&str] = &["not_before", "not_after"];
const POLICY_KEYS: &[&str] = &["cascade", "max_deletions", "protect", "on_blocked"];
const PROTECT_KEYS: &[&str] = &["ids", "tags", "names"];
const SELECTOR_KEYS: &[&str] = &[
    "name",
    "tags",
    "physical_connection",
    "transit_router",
    "vpn_gateway",
];
/// The selector keys that name a parent or scope; a kind accepts those its
/// [`crate::kinds::KindSpec::link_keys`] lists.
const LINK_KEYS: &[&str] = &["physical_connection", "transit_router", "vpn_gateway"];
const WINDOW_EXPECTED: &str = "not_before and not_after, RFC 3339 timestamps with an offset";
const MAX_ID_LEN: usize = 64;
const MAX_NAME_LEN: usize = 128;

/// Parse and check; see [`super::parse`].
pub(super) fn parse(file: &str, text: &str) -> Result<Plan, PlanErrors> {
    let mut cx = Cx {
        text,
        errors: Vec::new(),
        suggested: Vec::new(),
    };
    let plan = match node::read(text) {
        Ok(root) => cx.plan(file, &root),
        Err(e) => {
            cx.yaml_error(&e);
            None
        }
    };
    match plan {
        Some(plan) if cx.errors.is_empty() => Ok(plan),
        _ => Err(cx.finish(file)),
    }
}

/// One `key: value` of a mapping whose key is a scalar.
struct Entry<'n> {
    key: String,
    key_node: &'n SNode,
    value: &'n SNode,
}

/// The plan's default region, as far as targets are concerned.
enum DefaultRegion {
    Absent,
    /// Already reported; targets still get checked (for duplicates and protect conflicts)
    /// against this text, but no plan is built.
    Invalid(String),
    Valid(String),
}

/// The checking context: the source text (for raw scalars and source lines) and the
/// problems found so far.
struct Cx<'t> {
    text: &'t str,
    errors: Vec<PlanError>,
    /// Keys offered as "did you mean" for an unknown key: not reported again as missing.
    suggested: Vec<&'static str>,
}

impl Cx<'_> {
    /// Record a problem at `loc` (unknown locations fall back to 1:1).
    fn err(&mut self, loc: &Location, message: impl Into<String>, expected: Option<String>) {
        let (mut line, mut column) = node::pos(loc);
        if line == 0 {
            line = 1;
            column = 1;
        }
        self.errors.push(PlanError {
            line,
            column: column.max(1),
            message: message.into(),
            expected,
            source_line: None,
        });
    }

    /// Sort by position and attach the offending lines.
    fn finish(mut self, file: &str) -> PlanErrors {
        let lines = source_lines(self.text);
        for e in &mut self.errors {
            e.source_line = usize::try_from(e.line)
                .ok()
                .and_then(|l| l.checked_sub(1))
                .and_then(|i| lines.get(i))
                .map(|l| l.to_string());
        }
        self.errors.sort_by_key(|e| (e.line, e.column));
        self.errors.dedup();
        PlanErrors {
            file: file.to_string(),
            errors: self.errors,
        }
    }

    fn yaml_error(&mut self, e: &serde_saphyr::Error) {
        let loc = e.location().unwrap_or(Location::UNKNOWN);
        let full = e.to_string();
        let mut message = full.lines().next().unwrap_or("").to_string();
        if let Some(i) = message.rfind(" at line ") {
            message.truncate(i);
        }
        let message = if message.contains("Documents {") {
            "a plan file holds a single YAML document; found a second one".to_string()
        } else if message.contains("budget breached: Depth") {
            "the YAML is nested too deeply for a plan".to_string()
        } else if message.contains("budget breached") {
            format!("the YAML is too large for a plan ({message})")
        } else if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
            let key = rest
                .split(", set DuplicateKeyPolicy")
                .next()
                .unwrap_or(rest);
            format!("duplicate key {key:?}")
        } else {
            format!("invalid YAML: {message}")
        };
        // The scanner reports a tab where the token before it began (a plain scalar on the
        // line above, for a tab indenting the next line): point at the tab itself.
        if let Some((line, column)) = message
            .contains("tab")
            .then(|| first_tab_from(self.text, node::pos(&loc)))
            .flatten()
        {
            self.errors.push(PlanError {
                line,
                column,
                message,
                expected: None,
                source_line: None,
            });
            return;
        }
        self.err(&loc, message, None);
    }

    /// The text of a scalar: strings as they are, numbers and booleans as written.
    fn scalar(&self, n: &SNode) -> Option<String> {
        match &n.value {
            Node::Str(s) => Some(s.clone()),
            Node::Int(_) | Node::Float(_) | Node::Bool(_) => {
                let span = n.defined.span();
                let raw = span.byte_offset().zip(span.byte_len()).and_then(|(o, l)| {
                    let o = usize::try_from(o).ok()?;
                    let l = usize::try_from(l).ok()?;
                    self.text.get(o..o.checked_add(l)?)
                });
                match raw {
                    Some(r) if !r.is_empty() && !r.starts_with('*') => Some(r.trim().to_string()),
                    _ => n.value.key_text(),
                }
            }
            Node::Null | Node::Seq(_) | Node::Map(_) => None,
        }
    }

    /// A scalar's text, or an error saying what was expected.
    fn scalar_or_err(&mut self, n: &SNode, what: &str, expected: &str) -> Option<String> {
        let s = self.scalar(n);
        if s.is_none() {
            let found = n.value.what();
            self.err(
                &n.referenced,
                format!("{what} must be a single value, found {found}"),
                Some(expected.to_string()),
            );
        }
        s
    }

    /// The entries of a mapping (scalar keys only), or an error.
    fn mapping<'n>(&mut self, n: &'n SNode, what: &str, expected: &str) -> Option<Vec<Entry<'n>>> {
        let Node::Map(items) = &n.value else {
            let found = n.value.what();
            self.err(
                &n.referenced,
                format!("{what} must be a mapping, found {found}"),
                Some(expected.to_string()),
            );
            return None;
        };
        let mut entries = Vec::new();
        for (k, v) in items {
            match k.value.key_text() {
                Some(key) => entries.push(Entry {
                    key,
                    key_node: k,
                    value: v,
                }),
                None => self.err(
                    &k.referenced,
                    format!(
                        "keys in {what} must be plain words, found {}",
                        k.value.what()
                    ),
                    None,
                ),
            }
        }
        Some(entries)
    }

    /// Split entries into known fields; report unknown keys (with a suggestion).
    fn fields<'n>(
        &mut self,
        entries: Vec<Entry<'n>>,
        allowed: &[&str],
        context: &str,
        hint: impl Fn(&str) -> Option<String>,
    ) -> BTreeMap<&'static str, Entry<'n>> {
        let mut out = BTreeMap::new();
        for e in entries {
            match allowed.iter().find(|a| **a == e.key) {
                Some(_) => {
                    let key: &'static str = static_key(&e.key);
                    out.insert(key, e);
                }
                None => {
                    let mut message = format!("unknown key {:?} in {context}", e.key);
                    let close = closest_within(&e.key, allowed);
                    if let Some(c) = close {
                        self.suggested.push(static_key(c));
                    }
                    let h = hint(&e.key).or_else(|| close.map(|c| format!("did you mean {c:?}?")));
                    if let Some(h) = h {
                        message = format!("{message}; {h}");
                    }
                    self.err(
                        &e.key_node.referenced,
                        message,
                        Some(format!("one of: {}", allowed.join(", "))),
                    );
                }
            }
        }
        out
    }

    fn missing(&mut self, at: &SNode, key: &str, context: &str, expected: &str) {
        if self.suggested.contains(&key) {
            return;
        }
        self.err(
            &at.referenced,
            format!("{context} is missing the required key {key:?}"),
            Some(expected.to_string()),
        );
    }

    fn plan(&mut self, file: &str, root: &SNode) -> Option<Plan> {
        if root.value == Node::Null {
            self.err(
                &root.referenced,
                "the plan is empty",
                Some("a mapping with version, name and targets".into()),
            );
            return None;
        }
        let entries = self.mapping(root, "the plan", "a mapping with version, name and targets")?;
        let mut f = self.fields(entries, TOP_KEYS, "the plan", |k| match k {
            "cascade" | "max_deletions" | "protect" => Some(format!("{k} belongs under policy:")),
            "not_before" | "not_after" => Some(format!("{k} belongs under window:")),
            "target" => Some("the key is \"targets\"".into()),
            _ => None,
        });

        let version = match f.remove("version") {
            None => {
                self.missing(root, "version", "the plan", "version: 1");
                None
            }
            Some(e) => self.version(e.value),
        };
        let name = match f.remove("name") {
            None => {
                self.missing(root, "name", "the plan", "name: <plan name>");
                None
            }
            Some(e) => self.name(e.value),
        };
        let account = f.remove("account").map(|e| self.account(e.value));
        let region = match f.remove("region") {
            None => DefaultRegion::Absent,
            Some(e) => match self.region(e.value) {
                Some(r) => DefaultRegion::Valid(r),
                None => DefaultRegion::Invalid(self.scalar(e.value).unwrap_or_default()),
            },
        };
        let window = f.remove("window").map(|e| self.window(e.value));
        let (policy, protect_locs) = match f.remove("policy") {
            None => (Some(Policy::default()), Vec::new()),
            Some(e) => self.policy(e.value),
        };
        let targets = match f.remove("targets") {
            None => {
                self.missing(
                    root,
                    "targets",
                    "the plan",
                    "targets: a list of at least one target",
                );
                None
            }
            Some(e) => self.targets(e.value, &region, &protect_locs),
        };

        let plan = Plan {
            version: version?,
            name: name?,
            account: account.flatten(),
            region: match region {
                DefaultRegion::Valid(r) => Some(r),
                DefaultRegion::Absent => None,
                DefaultRegion::Invalid(_) => return None,
            },
            window: window.flatten(),
            policy: policy?,
            targets: targets?,
            file: file.to_string(),
            fingerprint: String::new(),
        };
        Some(Plan {
            fingerprint: super::fingerprint::fingerprint(&plan),
            ..plan
        })
    }

    fn version(&mut self, n: &SNode) -> Option<u32> {
        match &n.value {
            Node::Int(1) => Some(1),
            Node::Int(v) => {
                self.err(
                    &n.referenced,
                    format!("unsupported plan version {v}; this decom reads version 1"),
                    Some("1".into()),
                );
                None
            }
            other => {
                self.err(
                    &n.referenced,
                    format!("version must be a whole number, found {}", other.what()),
                    Some("1".into()),
                );
                None
            }
        }
    }

    fn name(&mut self, n: &SNode) -> Option<String> {
        const EXPECTED: &str =
            "a name made of letters, digits, '.', '_' and '-', at most 128 characters";
        let name = self.scalar_or_err(n, "name", EXPECTED)?;
        let problem = if name.is_empty() {
            Some("name is empty".to_string())
        } else if name.chars().count() > MAX_NAME_LEN {
            Some(format!("name is longer than {MAX_NAME_LEN} characters"))
        } else if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            Some(format!("name {name:?} contains {c:?}"))
        } else if name.starts_with('.') {
            Some(format!("name {name:?} starts with '.'"))
        } else {
            None
        };
        match problem {
            Some(p) => {
                self.err(&n.referenced, p, Some(EXPECTED.into()));
                None
            }
            None => Some(name),
        }
    }

    fn account(&mut self, n: &SNode) -> Option<String> {
        // An Alibaba Cloud account id (UID) is 16 digits: anything else can never match
        // what GetCallerIdentity answers, so the account guard would refuse every apply.
        const EXPECTED: &str = "the account id: 16 digits, e.g. \"1234567890123456\"";
        let account = self.scalar_or_err(n, "account", EXPECTED)?;
        if account.len() != 16 || !account.bytes().all(|b| b.is_ascii_digit()) {
            self.err(
                &n.referenced,
                format!("account {account:?} is not an account id"),
                Some(EXPECTED.into()),
            );
            return None;
        }
        Some(account)
    }

    fn region(&mut self, n: &SNode) -> Option<String> {
        let region = self.scalar_or_err(n, "region", "a region id such as cn-shanghai")?;
        if REGIONS.contains(&region.as_str()) {
            return Some(region);
        }
        let closest = closest(&region, REGIONS, 3);
        self.err(
            &n.referenced,
            format!("unknown region {region:?}"),
            Some(format!("a known region; closest: {}", closest.join(", "))),
        );
        None
    }

    fn window(&mut self, n: &SNode) -> Option<Window> {
        let entries = self.mapping(n, "window", WINDOW_EXPECTED)?;
        let mut f = self.fields(entries, WINDOW_KEYS, "window", |_| None);
        let before = self.stamp(n, &mut f, "not_before");
        let after = self.stamp(n, &mut f, "not_after");
        let ((not_before, before_text, before_node), (not_after, after_text, after_node)) =
            (before?, after?);
        if not_after <= not_before {
            self.err(
                &after_node.referenced,
                format!(
                    "window.not_after {after_text} is not after window.not_before {before_text} (line {})",
                    before_node.referenced.line()
                ),
                Some("a not_after later than not_before".into()),
            );
            return None;
        }
        Some(Window {
            not_before,
            not_after,
        })
    }

    /// One timestamp of the window, and its node.
    fn stamp<'n>(
        &mut self,
        window: &SNode,
        f: &mut BTreeMap<&'static str, Entry<'n>>,
        key: &str,
    ) -> Option<(jiff::Timestamp, String, &'n SNode)> {
        let Some(e) = f.remove(key) else {
            self.missing(window, key, "window", WINDOW_EXPECTED);
            return None;
        };
        let expected = "an RFC 3339 timestamp with an offset, e.g. 2026-12-01T02:00:00+08:00";
        let text = self.scalar_or_err(e.value, &format!("window.{key}"), expected)?;
        match text.trim().parse::<jiff::Timestamp>() {
            Ok(t) => Some((t, text, e.value)),
            Err(err) => {
                let why = err.to_string();
                let why = why.lines().next().unwrap_or("");
                self.err(
                    &e.value.referenced,
                    format!("window.{key} {text:?} is not a timestamp: {why}"),
                    Some(expected.into()),
                );
                None
            }
        }
    }

    /// The policy, and where each protected id is written (for conflicts with targets).
    fn policy(&mut self, n: &SNode) -> (Option<Policy>, Vec<(String, u64)>) {
        let expected = "a mapping with cascade, max_deletions, protect and on_blocked";
        let Some(entries) = self.mapping(n, "policy", expected) else {
            return (None, Vec::new());
        };
        let mut f = self.fields(entries, POLICY_KEYS, "policy", |k| match k {
            "ids" | "tags" | "names" => Some(format!("{k} belongs under policy.protect:")),
            _ => None,
        });
        let mut ok = true;
        let cascade = match f.remove("cascade") {
            None => false,
            Some(e) => match e.value.value {
                Node::Bool(b) => b,
                ref other => {
                    self.err(
                        &e.value.referenced,
                        format!(
                            "policy.cascade must be true or false, found {}",
                            other.what()
                        ),
                        Some("true or false".into()),
                    );
                    ok = false;
                    false
                }
            },
        };
        let max_deletions = match f.remove("max_deletions") {
            None => None,
            Some(e) => {
                let expected = Some(format!("a whole number from 1 to {}", u32::MAX));
                match e.value.value {
                    Node::Int(v) if v >= 1 && v <= i128::from(u32::MAX) => u32::try_from(v).ok(),
                    Node::Int(v) => {
                        let why = if v < 1 { "at least 1" } else { "too large" };
                        self.err(
                            &e.value.referenced,
                            format!("policy.max_deletions is {v}; it must be {why}"),
                            expected,
                        );
                        ok = false;
                        None
                    }
                    ref other => {
                        self.err(
                            &e.value.referenced,
                            format!(
                                "policy.max_deletions must be a whole number, found {}",
                                other.what()
                            ),
                            expected,
                        );
                        ok = false;
                        None
                    }
                }
            }
        };
        let on_blocked = match f.remove("on_blocked") {
            None => super::OnBlocked::Refuse,
            Some(e) => match self.scalar(e.value).as_deref() {
                Some("refuse") => super::OnBlocked::Refuse,
                Some("skip") => super::OnBlocked::Skip,
                other => {
                    self.err(
                        &e.value.referenced,
                        match other {
                            Some(v) => {
                                format!("policy.on_blocked must be refuse or skip, found {v:?}")
                            }
                            None => format!(
                                "policy.on_blocked must be refuse or skip, found {}",
                                e.value.value.what()
                            ),
                        },
                        Some("refuse or skip".into()),
                    );
                    ok = false;
                    super::OnBlocked::Refuse
                }
            },
        };
        let mut locs = Vec::new();
        let protect = match f.remove("protect") {
            None => Protect::default(),
            Some(e) => match self.protect(e.value, &mut locs) {
                Some(p) => p,
                None => {
                    ok = false;
                    Protect::default()
                }
            },
        };
        let policy = Policy {
            cascade,
            max_deletions,
            protect,
            on_blocked,
        };
        (ok.then_some(policy), locs)
    }

    fn protect(&mut self, n: &SNode, locs: &mut Vec<(String, u64)>) -> Option<Protect> {
        let errors_before = self.errors.len();
        let entries = self.mapping(n, "policy.protect", "a mapping with ids, tags and names")?;
        let mut f = self.fields(entries, PROTECT_KEYS, "policy.protect", |_| None);
        let mut protect = Protect::default();
        if let Some(e) = f.remove("ids") {
            for item in self.list(e.value, "policy.protect.ids", "a list of resource ids") {
                if let Some(id) = self.scalar_or_err(item, "a protected id", "a resource id")
                    && self.id_chars(item, &id)
                {
                    locs.push((id.clone(), item.referenced.line()));
                    protect.ids.push(id);
                }
            }
        }
        if let Some(e) = f.remove("tags") {
            protect.tags = self.tags(e.value, "policy.protect.tags");
        }
        if let Some(e) = f.remove("names") {
            for item in self.list(e.value, "policy.protect.names", "a list of name globs") {
                if let Some(g) = self.glob(item, "a protected name") {
                    protect.names.push(g);
                }
            }
        }
        (self.errors.len() == errors_before).then_some(protect)
    }

    /// The items of a list, or an error (and no items).
    fn list<'n>(&mut self, n: &'n SNode, what: &str, expected: &str) -> &'n [SNode] {
        match &n.value {
            Node::Seq(items) => items,
            other => {
                self.err(
                    &n.referenced,
                    format!("{what} must be a list, found {}", other.what()),
                    Some(expected.to_string()),
                );
                &[]
            }
        }
    }

    /// A non-empty name glob.
    fn glob(&mut self, n: &SNode, what: &str) -> Option<String> {
        let expected = "a name or a glob with * and ?, e.g. \"legacy-*\"";
        let g = self.scalar_or_err(n, what, expected)?;
        if g.is_empty() {
            self.err(
                &n.referenced,
                format!("{what} is empty"),
                Some(expected.into()),
            );
            return None;
        }
        Some(g)
    }

    /// A `key: value` tag mapping (values may be written unquoted; `~` is refused).
    fn tags(&mut self, n: &SNode, what: &str) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::new();
        let Some(entries) = self.mapping(n, what, "a mapping of tag keys to values") else {
            return tags;
        };
        for e in entries {
            if e.key.is_empty() {
                self.err(
                    &e.key_node.referenced,
                    format!("empty tag key in {what}"),
                    None,
                );
                continue;
            }
            match self.scalar(e.value) {
                Some(v) => {
                    tags.insert(e.key, v);
                }
                None => self.err(
                    &e.value.referenced,
                    format!(
                        "tag {:?} in {what} has {} as its value",
                        e.key,
                        e.value.value.what()
                    ),
                    Some("a value; write \"\" for an empty one".into()),
                ),
            }
        }
        tags
    }

    /// Check an id's characters and length (not its prefix).
    fn id_chars(&mut self, n: &SNode, id: &str) -> bool {
        let expected =
            Some("an id made of letters, digits, '-' and '_', at most 64 characters".to_string());
        if id.is_empty() {
            self.err(&n.referenced, "the id is empty", expected);
            return false;
        }
        if let Some(c) = id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
        {
            self.err(
                &n.referenced,
                format!("id {id:?} contains {c:?}, which no Alibaba Cloud id has"),
                expected,
            );
            return false;
        }
        if id.len() > MAX_ID_LEN {
            self.err(
                &n.referenced,
                format!("id {id:?} is longer than {MAX_ID_LEN} characters"),
                expected,
            );
            return false;
        }
        true
    }

    /// Check an id with its prefix; `what` names the kind or link (`virtual_border_router`).
    fn id(&mut self, n: &SNode, what: &str, prefix: &str) -> Option<String> {
        let expected = format!("an id starting with {prefix:?}");
        let id = self.scalar_or_err(n, what, &expected)?;
        let wrong_prefix = !id.starts_with(prefix)
            // A transit router is `tr-…`; `tr-attach-…` is one of its attachments.
            || (prefix == "tr-" && id.starts_with("tr-attach-"));
        if wrong_prefix {
            let mut message = format!("id {id:?} is not a {what} id");
            if let Some(k) = Kind::targetable()
                .iter()
                .filter(|k| id.starts_with(k.id_prefix()))
                .max_by_key(|k| k.id_prefix().len())
            {
                message = format!("{message}; it looks like a {} id", k.plan_name());
            }
            self.err(&n.referenced, message, Some(expected));
            return None;
        }
        if id.len() == prefix.len() {
            self.err(
                &n.referenced,
                format!("id {id:?} has nothing after its prefix"),
                Some(expected),
            );
            return None;
        }
        self.id_chars(n, &id).then_some(id)
    }

    fn targets(
        &mut self,
        n: &SNode,
        default: &DefaultRegion,
        protected: &[(String, u64)],
    ) -> Option<Vec<Target>> {
        let Node::Seq(items) = &n.value else {
            let found = n.value.what();
            self.err(
                &n.referenced,
                format!("targets must be a list, found {found}"),
                Some("a list of targets such as \"- physical_connection: pc-…\"".into()),
            );
            return None;
        };
        if items.is_empty() {
            self.err(
                &n.referenced,
                "the plan has no targets",
                Some("at least one target such as \"- physical_connection: pc-…\"".into()),
            );
            return None;
        }
        let errors_before = self.errors.len();
        let mut targets = Vec::new();
        // (kind, selector, region) → line of the first entry.
        let mut seen: HashMap<(Kind, Selector, String), u64> = HashMap::new();
        for item in items {
            let Some((target, value)) = self.target(item, default) else {
                continue;
            };
            let key = (target.kind, target.selector.clone(), target.region.clone());
            if let Some(first) = seen.get(&key) {
                self.err(
                    &item.referenced,
                    format!(
                        "duplicate target: {} in {} is already listed at line {first}",
                        target.describe(),
                        target.region
                    ),
                    Some("each target once".into()),
                );
                continue;
            }
            seen.insert(key, target.line);
            if let Selector::Id(id) = &target.selector
                && let Some((_, line)) = protected.iter().find(|(p, _)| p == id)
            {
                self.err(
                    &value.referenced,
                    format!(
                        "target {} is also protected by policy.protect.ids (line {line})",
                        target.describe()
                    ),
                    Some("a target that is not protected; remove one of the two".into()),
                );
                continue;
            }
            targets.push(target);
        }
        (self.errors.len() == errors_before).then_some(targets)
    }

    /// One target entry, and the node of its id or selector.
    fn target<'n>(
        &mut self,
        item: &'n SNode,
        default: &DefaultRegion,
    ) -> Option<(Target, &'n SNode)> {
        let kinds_list = || {
            let names: Vec<&str> = Kind::targetable().iter().map(|k| k.plan_name()).collect();
            format!("one of: {}", names.join(", "))
        };
        let entries = self.mapping(
            item,
            "a target",
            "a mapping such as \"physical_connection: pc-…\" (with an optional region)",
        )?;
        let errors_before = self.errors.len();
        let mut kinds: Vec<(Kind, &Entry)> = Vec::new();
        let mut region_entry = None;
        let mut unknown = Vec::new();
        for e in &entries {
            if let Some(k) = Kind::from_plan_name(&e.key) {
                kinds.push((k, e));
            } else if e.key == "region" {
                region_entry = Some(e);
            } else {
                unknown.push(e);
            }
        }
        let kind_names: Vec<&str> = Kind::targetable().iter().map(|k| k.plan_name()).collect();
        if kinds.is_empty()
            && let Some(e) = unknown
                .iter()
                .find(|e| matches!(e.key.as_str(), "kind" | "type"))
        {
            // `- kind: physical_connection` + `id: pc-1`: show the right spelling.
            let kind = self.scalar(e.value).unwrap_or_else(|| "<kind>".into());
            let id = unknown
                .iter()
                .find(|e| e.key == "id")
                .and_then(|e| self.scalar(e.value))
                .unwrap_or_else(|| "<id or selector>".into());
            self.err(
                &e.key_node.referenced,
                format!(
                    "a target is written \"<kind>: <id or selector>\": here \"- {kind}: {id}\""
                ),
                Some(kinds_list()),
            );
            return None;
        }
        for e in &unknown {
            let key = &e.key;
            let at = &e.key_node.referenced;
            if let Some(k) = Kind::ALL
                .iter()
                .find(|k| !k.spec().targetable() && k.plan_name() == key)
            {
                // What it blocks (or is part of): name that instead.
                let holders: Vec<&str> = Kind::ALL
                    .iter()
                    .filter(|h| h.spec().blockers().contains(k) || h.spec().parts().contains(k))
                    .map(|h| h.plan_name())
                    .collect();
                self.err(
                    at,
                    format!(
                        "{key} cannot be a target: decom removes it on the way, before the {} it blocks (with cascade); name that instead",
                        holders.join(" or ")
                    ),
                    Some(kinds_list()),
                );
            } else if !kinds.is_empty() {
                let mut message = format!("unknown key {key:?} in a target");
                if let Some(h) = did_you_mean(key, &["region"]) {
                    message = format!("{message}; {h}");
                }
                self.err(at, message, Some("only region next to the kind".into()));
            } else {
                let hint = match key.as_str() {
                    "id" | "selector" => Some(
                        "a target is written \"<kind>: <id or selector>\", e.g. \"- physical_connection: pc-…\"".to_string(),
                    ),
                    "vbr" => Some("did you mean \"virtual_border_router\"?".into()),
                    "pc" | "circuit" => Some("did you mean \"physical_connection\"?".into()),
                    "ri" => Some("did you mean \"router_interface\"?".into()),
                    _ => did_you_mean(key, &kind_names),
                };
                let mut message = format!("unknown kind {key:?}");
                if let Some(h) = hint {
                    message = format!("{message}; {h}");
                }
                self.err(at, message, Some(kinds_list()));
            }
        }
        if kinds.is_empty() {
            if unknown.is_empty() {
                self.err(
                    &item.referenced,
                    "the target names no kind",
                    Some(kinds_list()),
                );
            }
            return None;
        }
        for (k, e) in kinds.iter().skip(1) {
            self.err(
                &e.key_node.referenced,
                format!(
                    "a target names exactly one kind; this one also names {} (line {})",
                    kinds[0].0,
                    kinds[0].1.key_node.referenced.line()
                ),
                Some(format!("a separate \"- {k}: …\" entry")),
            );
        }
        let (kind, kind_entry) = kinds[0];
        let region = match region_entry {
            Some(e) => self.region(e.value),
            None => match default {
                DefaultRegion::Valid(r) => Some(r.clone()),
                DefaultRegion::Invalid(r) => Some(r.clone()),
                DefaultRegion::Absent => {
                    self.err(
                        &item.referenced,
                        format!("no region for the target {kind}"),
                        Some(
                            "a \"region:\" on the target or a top-level \"region:\" default".into(),
                        ),
                    );
                    None
                }
            },
        };
        let value = kind_entry.value;
        let selector = self.selector(kind, value);
        if self.errors.len() != errors_before {
            return None;
        }
        let (line, column) = node::pos(&item.referenced);
        Some((
            Target {
                kind,
                selector: selector?,
                region: region?,
                line: line.max(1),
                column: column.max(1),
            },
            value,
        ))
    }

    fn selector(&mut self, kind: Kind, n: &SNode) -> Option<Selector> {
        let allowed = selector_keys(kind);
        let prefix = kind.id_prefix();
        let expected = format!(
            "an id starting with {prefix:?} or a selector with {}",
            allowed.join(", ")
        );
        match &n.value {
            Node::Map(_) => {}
            Node::Null => {
                self.err(
                    &n.referenced,
                    format!("the {kind} target has no id or selector"),
                    Some(expected),
                );
                return None;
            }
            Node::Seq(_) => {
                self.err(
                    &n.referenced,
                    format!("a {kind} target names one id or one selector, not a list"),
                    Some(format!("{expected}; write one entry per id")),
                );
                return None;
            }
            _ => return self.id(n, kind.plan_name(), prefix).map(Selector::Id),
        }
        let errors_before = self.errors.len();
        let entries = self.mapping(n, "a selector", &expected)?;
        let had_entries = !entries.is_empty();
        let mut m = Match::default();
        for e in entries {
            let at = &e.key_node.referenced;
            if !allowed.contains(&e.key.as_str()) {
                let message = if SELECTOR_KEYS.contains(&e.key.as_str()) {
                    format!("selector key {:?} does not apply to {kind}", e.key)
                } else if e.key == "id" {
                    format!(
                        "unknown selector key \"id\"; write the id directly: \"{kind}: {prefix}…\""
                    )
                } else {
                    let mut message = format!("unknown selector key {:?}", e.key);
                    if let Some(h) = did_you_mean(&e.key, &allowed) {
                        message = format!("{message}; {h}");
                    }
                    message
                };
                self.err(at, message, Some(format!("one of: {}", allowed.join(", "))));
                continue;
            }
            match e.key.as_str() {
                "name" => m.name = self.glob(e.value, "selector name"),
                "tags" => m.tags = self.tags(e.value, "selector tags"),
                "physical_connection" => {
                    m.physical_connection = self.id(e.value, "physical_connection", "pc-");
                }
                "transit_router" => {
                    m.transit_router = self.id(e.value, "transit_router", "tr-");
                }
                "vpn_gateway" => m.vpn_gateway = self.id(e.value, "vpn_gateway", "vpn-"),
                _ => {}
            }
        }
        if self.errors.len() != errors_before {
            return None;
        }
        if m.is_empty() {
            let message = if had_entries {
                format!("the selector sets no condition and would select every {kind}")
            } else {
                format!("empty selector: it would select every {kind}")
            };
            self.err(
                &n.referenced,
                message,
                Some(format!("at least one of: {}", allowed.join(", "))),
            );
            return None;
        }
        // A key the API cannot list the kind without (attachments are listed per transit
        // router): what discovery would refuse, said here with its place.
        for key in kind.spec().required_link_keys() {
            let given = match *key {
                "physical_connection" => m.physical_connection.is_some(),
                "transit_router" => m.transit_router.is_some(),
                "vpn_gateway" => m.vpn_gateway.is_some(),
                _ => true,
            };
            if !given {
                self.err(
                    &n.referenced,
                    format!("a {kind} selector needs {key}: the API lists {kind}s per {key} only"),
                    Some(format!("{key}: <id>, beside the other conditions")),
                );
                return None;
            }
        }
        Some(Selector::Match(m))
    }
}

/// The lines of the text as YAML counts them (`\n`, `\r\n` or a lone `\r` end a line),
/// without a leading byte-order mark.
fn source_lines(text: &str) -> Vec<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    lines.push(&text[start..]);
    lines
}

/// The selector keys valid for a kind.
fn selector_keys(kind: Kind) -> Vec<&'static str> {
    SELECTOR_KEYS
        .iter()
        .copied()
        .filter(|k| !LINK_KEYS.contains(k) || kind.spec().link_keys().contains(k))
        .collect()
}

/// The `'static` spelling of a known key.
fn static_key(key: &str) -> &'static str {
    TOP_KEYS
        .iter()
        .chain(WINDOW_KEYS)
        .chain(POLICY_KEYS)
        .chain(PROTECT_KEYS)
        .find(|k| **k == key)
        .copied()
        .unwrap_or("")
}

/// Edit distance between two strings in characters, a swap of two neighbours counting as one
/// edit (optimal string alignment).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The candidate closest to `word` when it is close enough to be a typo of it.
fn closest_within<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if word.chars().count() > 64 {
        return None;
    }
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `did you mean "x"?` when one candidate is close enough.
fn did_you_mean(word: &str, candidates: &[&str]) -> Option<String> {
    closest_within(word, candidates).map(|c| format!("did you mean {c:?}?"))
}

/// The `n` candidates closest to `word`.
fn closest<'a>(word: &str, candidates: &[&'a str], n: usize) -> Vec<&'a str> {
    let word: String = word.chars().take(64).collect();
    let mut scored: Vec<(usize, usize, &str)> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (distance(&word, c), i, *c))
        .collect();
    scored.sort();
    scored.into_iter().take(n).map(|(_, _, c)| c).collect()
}

/// The first tab at or after `from` (1-based line and column): its line and column.
fn first_tab_from(text: &str, from: (u64, u64)) -> Option<(u64, u64)> {
    let (line, column) = (usize::try_from(from.0).ok()?, usize::try_from(from.1).ok()?);
    for (i, l) in text.split('\n').enumerate().skip(line.saturating_sub(1)) {
        let skip = if i + 1 == line {
            column.saturating_sub(1)
        } else {
            0
        };
        if let Some(c) = l.chars().skip(skip).position(|c| c == '\t') {
            return Some(((i + 1) as u64, (skip + c + 1) as u64));
        }
    }
    None
}
