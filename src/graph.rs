//! The teardown graph: nodes are steps on resources (Terminate pc-1, wait Terminated,
//! Delete pc-1), edges are the documented "must finish before" rules of alibaba-api.md §12.
//!
//! [`build`] decides, for every target and every blocker discovery found, whether it is
//! destroyed (with which steps, and why it is in the plan), already gone, or blocked (and
//! why: cascade off, protected, or a blocker decom cannot remove). Protect rules win over
//! cascade. The graph is checked for cycles with petgraph and numbered in execution order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use petgraph::graph::{DiGraph, NodeIndex};
use serde::{Deserialize, Serialize};

use crate::discover::{Inventory, Key, Resource};
use crate::model::{Action, Kind};
use crate::plan::{Plan, Selector};

/// One step of the teardown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Position in execution order (0-based); `depends_on` refers to these.
    pub id: usize,
    /// Kind of the resource.
    pub kind: Kind,
    /// Resource id.
    pub resource: String,
    /// Region.
    pub region: String,
    /// The resource this one hangs off (the VPN gateway a connection's wait watches).
    #[serde(default)]
    pub parent: Option<String>,
    /// What a coalesced poll lists this resource by: the transit router of a TR attachment,
    /// the route table of a TR route entry.
    #[serde(default)]
    pub scope: Option<String>,
    /// What the step does.
    pub action: Action,
    /// The API operation it calls (the List/Describe it polls, for waits).
    pub api: String,
    /// For waits: the status waited for, or `gone`.
    pub until: Option<String>,
    /// Why this step exists.
    pub reason: String,
    /// Steps that must finish first.
    pub depends_on: Vec<usize>,
    /// The ClientToken (mutations that take one).
    pub client_token: Option<String>,
    /// Fingerprint of the live state this step relied on.
    pub state: String,
    /// Depth in the graph: steps of one level can run together.
    pub level: usize,
}

/// What happens to a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "disposition", rename_all = "snake_case")]
pub enum Disposition {
    /// It gets steps.
    Destroy,
    /// A target named by id that does not exist, or a selector that matches nothing now
    /// but matched resources an earlier apply of this plan removed (see
    /// [`Graph::settle_empty_selectors`]).
    AlreadyGone,
    /// A selector that matched nothing, with no record of an earlier apply of this plan
    /// (same account and endpoint) that removed what it matched: most likely a typo.
    /// `plan` and `apply` exit 1 on it.
    MatchedNothing,
    /// It cannot be removed; `why` says what stands in the way and who can remove it.
    Blocked {
        /// The explanation.
        why: String,
    },
    /// A selector matched it but a protect rule keeps it: left alone, not an error.
    Kept {
        /// The protect rule.
        why: String,
    },
}

/// One resource the plan considered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Kind.
    pub kind: Kind,
    /// Id (or the selector, for one that matched nothing).
    pub id: String,
    /// Region.
    pub region: String,
    /// Name.
    pub name: String,
    /// Status when discovered ("" when gone).
    pub status: String,
    /// The account that owns it, when it is not the caller's (another account's VBR on one
    /// of the caller's circuits); `another account` when the API did not name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Destroy / already gone / blocked.
    #[serde(flatten)]
    pub disposition: Disposition,
    /// Why it is in the plan: a target (with its plan line), or the resource it blocks.
    pub reason: String,
    /// Its steps, in order.
    pub steps: Vec<usize>,
    /// What else the preview should say about it (what its removal withdraws, an unusual
    /// binding): [`crate::kinds::KindSpec::note`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For a blocked resource: what stands in its way directly — blockers that are blocked
    /// or protected themselves, and those left because cascade is off (`decom graph` draws
    /// them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<BlockerRef>,
}

/// A resource that blocks another, by kind and id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BlockerRef {
    /// Its kind.
    pub kind: Kind,
    /// Its id.
    pub id: String,
}

/// The whole teardown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graph {
    /// The plan's name.
    pub plan: String,
    /// The plan's fingerprint (part of every ClientToken).
    pub plan_fingerprint: String,
    /// Steps in execution order.
    pub steps: Vec<Step>,
    /// Every resource considered.
    pub entries: Vec<Entry>,
    /// Deletions: the resources that get a Delete call (the blast radius).
    pub deletions: usize,
    /// The plan's blast-radius limit.
    pub max_deletions: Option<u32>,
    /// The plan's other rails, for the preview header (absent in graphs saved by older
    /// builds).
    #[serde(default)]
    pub rails: Rails,
}

/// The rails of the plan a graph was built from, shown in the preview header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rails {
    /// The account guard (`account:`), if any.
    pub account: Option<String>,
    /// The window, as RFC 3339 instants.
    pub window: Option<WindowSpan>,
    /// `policy.cascade`.
    pub cascade: bool,
    /// `policy.on_blocked`.
    #[serde(default)]
    pub on_blocked: crate::plan::OnBlocked,
}

/// A plan's window, as RFC 3339 instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSpan {
    /// Earliest start.
    pub not_before: String,
    /// No change starts after it.
    pub not_after: String,
}

impl WindowSpan {
    /// The window as timestamps (`None` if a saved text does not parse).
    pub fn parse(&self) -> Option<crate::plan::Window> {
        Some(crate::plan::Window {
            not_before: self.not_before.parse().ok()?,
            not_after: self.not_after.parse().ok()?,
        })
    }
}

impl Rails {
    /// The rails of a plan.
    pub fn of(plan: &Plan) -> Rails {
        Rails {
            account: plan.account.clone(),
            window: plan.window.map(|w| WindowSpan {
                not_before: w.not_before.to_string(),
                not_after: w.not_after.to_string(),
            }),
            cascade: plan.policy.cascade,
            on_blocked: plan.policy.on_blocked,
        }
    }
}

/// The counts of a preview, in one vocabulary (README "Counts"):
///
/// - **changes**: resources the apply changes — every resource with steps (it is deleted,
///   or, for a part such as a route-table association or a propagation, removed by its own
///   call);
/// - **deletions**: the changes that delete a resource with a Delete call; the blast radius
///   `policy.max_deletions` counts these;
/// - **steps**: API calls and waits (not resources).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Resources with steps.
    pub changes: usize,
    /// Resources that get a Delete call.
    pub deletions: usize,
    /// Steps (calls and waits).
    pub steps: usize,
    /// Targets already gone.
    pub already_gone: usize,
    /// Resources that cannot be removed.
    pub blocked: usize,
    /// Selector matches protect rules keep.
    pub kept: usize,
    /// Selectors that matched nothing.
    pub matched_nothing: usize,
}

impl Graph {
    /// `(changes, already gone, blocked)`: see [`Graph::counts`] for every count.
    pub fn summary(&self) -> (usize, usize, usize) {
        let count =
            |f: fn(&Disposition) -> bool| self.entries.iter().filter(|e| f(&e.disposition)).count();
        (
            count(|d| *d == Disposition::Destroy),
            count(|d| *d == Disposition::AlreadyGone),
            count(|d| matches!(d, Disposition::Blocked { .. })),
        )
    }

    /// Every count of the preview (see [`Counts`]).
    pub fn counts(&self) -> Counts {
        let count =
            |f: fn(&Disposition) -> bool| self.entries.iter().filter(|e| f(&e.disposition)).count();
        Counts {
            changes: count(|d| *d == Disposition::Destroy),
            deletions: self.deletions,
            steps: self.steps.len(),
            already_gone: count(|d| *d == Disposition::AlreadyGone),
            blocked: count(|d| matches!(d, Disposition::Blocked { .. })),
            kept: self.kept(),
            matched_nothing: count(|d| *d == Disposition::MatchedNothing),
        }
    }

    /// True when blocked resources refuse the whole plan (`policy.on_blocked: refuse`).
    pub fn refuses_blocked(&self) -> bool {
        self.rails.on_blocked == crate::plan::OnBlocked::Refuse && self.counts().blocked > 0
    }

    /// Turn each selector that matched nothing into "already gone" when an earlier apply of
    /// this plan, in this account and endpoint (its journal), matched resources with it and
    /// deleted every one of them. `earlier` maps a target (`kind {selector}`) to the ids it
    /// matched; `deleted` says whether the journal recorded an id's Delete as done.
    pub fn settle_empty_selectors(
        &mut self,
        earlier: &BTreeMap<String, BTreeSet<String>>,
        deleted: impl Fn(Kind, &str) -> bool,
    ) {
        for e in &mut self.entries {
            if e.disposition != Disposition::MatchedNothing {
                continue;
            }
            // The journal names a selector as the plan target describes it
            // ([`crate::plan::Target::describe`]: `<kind> <selector>`); the entry's id is the
            // selector alone.
            let Some(ids) = earlier
                .get(&format!("{} {}", e.kind, e.id))
                .filter(|ids| !ids.is_empty())
            else {
                continue;
            };
            if ids.iter().all(|id| deleted(e.kind, id)) {
                let list: Vec<&str> = ids.iter().map(String::as_str).collect();
                e.disposition = Disposition::AlreadyGone;
                e.reason = format!(
                    "{}; an earlier apply of this plan removed what it matched ({})",
                    e.reason,
                    list.join(", ")
                );
            }
        }
    }

    /// Resources a selector matched that protect rules keep.
    pub fn kept(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.disposition, Disposition::Kept { .. }))
            .count()
    }

    /// True when the blast-radius limit is exceeded.
    pub fn over_blast_radius(&self) -> bool {
        self.max_deletions
            .is_some_and(|m| self.deletions > m as usize)
    }

    /// True when some entry is blocked only by protect rules (a safety rail).
    pub fn blocked_by_protection(&self) -> bool {
        self.entries.iter().any(
            |e| matches!(&e.disposition, Disposition::Blocked { why } if why.contains("protected")),
        )
    }
}

/// Why a graph cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The rules produced a cycle (they should not): the steps on it, by name.
    #[error("dependency cycle: {0}")]
    Cycle(String),
}

/// The namespace of decom's ClientTokens (UUIDv5).
const TOKEN_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6465_636f_6d2d_746f_6b65_6e73_2d76_3100);

/// The ClientToken of one step: UUIDv5 of (scope, resource, step, generation), ≤ 64 ASCII.
/// Deterministic, so `plan`, `apply` and every retry and resume agree.
///
/// The scope is [`token_scope`]: the account and region for a change that can happen only
/// once in a resource's life (so two plans naming the same resource send the same token and
/// the API applies the change once), the plan's fingerprint for the rest.
pub fn client_token(scope: &str, kind: Kind, id: &str, action: Action, generation: u32) -> String {
    let name = format!("{scope}/{kind}/{id}/{action}/{generation}");
    uuid::Uuid::new_v5(&TOKEN_NAMESPACE, name.as_bytes()).to_string()
}

/// The scope a step's ClientToken is derived in.
///
/// - `Delete` and `Cancel`: `account/region`, shared by every plan. A deleted resource never
///   comes back under its id, and a `Canceled` circuit can only be deleted, so the same
///   change on the same id can never be due twice: a second plan (or a second state
///   directory) sending the same token gets the first result back instead of a second
///   change, which is exactly right.
/// - `Terminate`, `Deactivate`, `Dissociate`, `DisablePropagation`: the plan's fingerprint.
///   Each can be undone (RecoverPhysicalConnection, ActivateRouterInterface, a new
///   association or propagation), after which the same change is due again and must reach
///   the API as a new request; a token shared beyond one plan could be answered from the
///   API's idempotency cache instead. Two plans overlapping on these are kept apart by the
///   account/region lock of `apply` and by the API's own state checks (a second Terminate
///   of a `Terminating` circuit is refused, and decom's probe sees it done).
///
/// Without a known account, every scope is the plan's fingerprint.
pub fn token_scope(
    plan_fingerprint: &str,
    account: Option<&str>,
    region: &str,
    action: Action,
) -> String {
    match (action, account) {
        (Action::Delete | Action::Cancel, Some(account)) => format!("{account}/{region}"),
        _ => plan_fingerprint.to_string(),
    }
}

/// A step before numbering.
struct Draft {
    key: Key,
    action: Action,
    api: &'static str,
    until: Option<String>,
    reason: String,
}

/// The resources of the inventory by (kind, parent id — or id of another resource it also
/// blocks), in key order: built once per graph so that finding children is a lookup, not a
/// scan.
type Children<'a> = HashMap<(Kind, &'a str), Vec<&'a Resource>>;

fn children_index(inv: &Inventory) -> Children<'_> {
    let mut out: Children<'_> = HashMap::new();
    for r in inv.resources.values() {
        // Its parent, and every other resource it also blocks ([`crate::discover::ALSO_BLOCKS`]).
        let also = r
            .fact(crate::discover::ALSO_BLOCKS)
            .split(',')
            .filter(|p| !p.is_empty());
        for p in r.parent.as_deref().into_iter().chain(also) {
            let kids = out.entry((r.kind, p)).or_default();
            if !kids.iter().any(|k| k.id == r.id) {
                kids.push(r);
            }
        }
    }
    out
}

/// Blockers of `r` that need cascade (separate resources), and parts of `r` that go with it,
/// as its kind declares them: its children of those kinds, and resources of those kinds
/// whose `also_blocks` fact names it (a VBR failover group blocks the attachments of both
/// its VBRs).
fn dependents(children: &Children<'_>, r: &Resource) -> (Vec<Key>, Vec<Key>) {
    let keys = |kinds: &[Kind]| {
        kinds
            .iter()
            .flat_map(|k| {
                children
                    .get(&(*k, r.id.as_str()))
                    .into_iter()
                    .flatten()
                    .map(|c| c.key())
            })
            .collect::<Vec<_>>()
    };
    let spec = r.kind.spec();
    (keys(spec.blockers()), keys(spec.parts()))
}

/// Build the graph for a plan over what discovery found.
pub fn build(plan: &Plan, inv: &Inventory) -> Result<Graph, GraphError> {
    // 1. Which resources, and why.
    let mut why: BTreeMap<Key, String> = BTreeMap::new();
    let mut order: Vec<Key> = Vec::new();
    let mut gone: Vec<Entry> = Vec::new();
    // Resources named by id somewhere in the plan (a protected one of those is an error);
    // resources found only by selectors are simply left alone when protected.
    let by_id: BTreeSet<Key> = inv
        .resolutions
        .iter()
        .filter(|r| matches!(plan.targets[r.target].selector, Selector::Id(_)))
        .flat_map(|r| r.found.iter().cloned())
        .collect();
    let mut kept: BTreeMap<Key, String> = BTreeMap::new();
    for res in &inv.resolutions {
        let t = &plan.targets[res.target];
        if res.found.is_empty() {
            let id = match &t.selector {
                Selector::Id(id) => id.clone(),
                // The kind is the entry's own field: `{tags: …}`, not `vpn_connection {tags: …}`.
                Selector::Match(m) => m.to_string(),
            };
            let reason = match &t.selector {
                Selector::Id(_) => {
                    format!("target (plan line {}): not found, already gone", t.line)
                }
                Selector::Match(_) => format!(
                    "target (plan line {}): the selector matched nothing",
                    t.line
                ),
            };
            gone.push(Entry {
                kind: t.kind,
                id,
                region: t.region.clone(),
                name: String::new(),
                status: String::new(),
                owner: None,
                disposition: match &t.selector {
                    Selector::Id(_) => Disposition::AlreadyGone,
                    Selector::Match(_) => Disposition::MatchedNothing,
                },
                reason,
                steps: vec![],
                note: None,
                blocked_by: vec![],
            });
        }
        for k in &res.found {
            if !why.contains_key(k) {
                why.insert(k.clone(), format!("target (plan line {})", t.line));
                order.push(k.clone());
            }
        }
    }
    // 2. Blockers (cascade) and parts, breadth first; blocked reasons propagate upwards.
    let children = children_index(inv);
    // The first `targets_end` entries of `order` are the plan's targets.
    let targets_end = order.len();
    let mut blocked: BTreeMap<Key, String> = BTreeMap::new();
    let mut blockers_of: BTreeMap<Key, Vec<Key>> = BTreeMap::new();
    // The parts of each resource (they go with it, and stay with it).
    let mut parts_of: BTreeMap<Key, Vec<Key>> = BTreeMap::new();
    let mut i = 0;
    while i < order.len() {
        let key = order[i].clone();
        i += 1;
        let Some(r) = inv.resources.get(&key) else {
            continue;
        };
        if let Some(p) = plan.policy.protect.reason(&r.id, &r.name, &r.tags) {
            if i <= targets_end && !by_id.contains(&key) {
                kept.insert(
                    key.clone(),
                    format!("matched by a selector but {p}: left alone"),
                );
            } else {
                blocked.insert(key.clone(), format!("{} is {p}", r.id));
            }
            continue;
        }
        if let Some(u) = r.kind.spec().unremovable(inv, r) {
            blocked.insert(key.clone(), u);
            continue;
        }
        let (cascade, parts) = dependents(&children, r);
        let mut not_cascaded: Vec<String> = Vec::new();
        for (k, is_part) in cascade
            .iter()
            .map(|k| (k, false))
            .chain(parts.iter().map(|k| (k, true)))
        {
            blockers_of.entry(key.clone()).or_default().push(k.clone());
            if is_part {
                parts_of.entry(key.clone()).or_default().push(k.clone());
            }
            let dep = &inv.resources[k];
            let verb = dep.kind.spec().relation(r.kind);
            let note = dep.fact(crate::discover::NOTE);
            let text = if note.is_empty() {
                format!("{} {verb} {}", dep.id, r.id)
            } else {
                format!("{} {verb} {} ({note})", dep.id, r.id)
            };
            if why.contains_key(k) {
                continue;
            }
            if !is_part && !plan.policy.cascade {
                not_cascaded.push(text);
                continue;
            }
            why.insert(
                k.clone(),
                if is_part {
                    text
                } else {
                    format!("{text} (cascade)")
                },
            );
            order.push(k.clone());
        }
        if !not_cascaded.is_empty() {
            blocked.insert(
                key.clone(),
                format!(
                    "{}; set policy.cascade: true to remove {} too, or remove {} first",
                    not_cascaded.join("; "),
                    if not_cascaded.len() == 1 {
                        "it"
                    } else {
                        "them"
                    },
                    if not_cascaded.len() == 1 {
                        "it"
                    } else {
                        "them"
                    },
                ),
            );
        }
    }
    // A resource whose status allows no steps is blocked like one decom cannot remove, so
    // that nothing it blocks starts either: decom never begins a disruptive step
    // (deactivate, terminate, detach) on a resource whose later steps it knows cannot
    // succeed.
    let mut planned: BTreeMap<Key, Vec<crate::kinds::StepSpec>> = BTreeMap::new();
    for key in &order {
        if blocked.contains_key(key) || kept.contains_key(key) {
            continue;
        }
        let Some(r) = inv.resources.get(key) else {
            continue;
        };
        match r.kind.spec().steps(r) {
            Ok(steps) => {
                planned.insert(key.clone(), steps);
            }
            Err(e) => {
                blocked.insert(key.clone(), format!("{}: {e}", r.id));
            }
        }
    }
    // Propagate: a resource with a blocked blocker or part — or one a protect rule keeps —
    // is blocked, up to the targets.
    loop {
        let mut changed = false;
        for (parent, kids) in &blockers_of {
            if blocked.contains_key(parent) || kept.contains_key(parent) {
                continue;
            }
            let stuck = kids.iter().find_map(|k| {
                blocked
                    .get(k)
                    .cloned()
                    .or_else(|| kept.get(k).map(|why| format!("{} is a target {why}", k.1)))
            });
            if let Some(inner) = stuck {
                blocked.insert(
                    parent.clone(),
                    format!("{} cannot be removed: {inner}", parent.1),
                );
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // A part of a blocked resource, or a blocker that exists only to free a blocked
    // resource, is not touched: drop those that serve nothing.
    let mut needed: BTreeSet<Key> = BTreeSet::new();
    for res in &inv.resolutions {
        for k in &res.found {
            mark_needed(k, &blockers_of, &blocked, &mut needed);
        }
    }
    // A partial teardown (`on_blocked: skip`) also removes what was found as a blocker of a
    // resource that stays, except the parts of what stays (and what hangs off those parts).
    if plan.policy.on_blocked == crate::plan::OnBlocked::Skip {
        let mut stays: BTreeSet<Key> = BTreeSet::new();
        let mut stack: Vec<Key> = blocked
            .keys()
            .flat_map(|k| parts_of.get(k).into_iter().flatten().cloned())
            .collect();
        while let Some(k) = stack.pop() {
            if stays.insert(k.clone()) {
                stack.extend(blockers_of.get(&k).into_iter().flatten().cloned());
            }
        }
        for k in &order {
            if !stays.contains(k) && !kept.contains_key(k) {
                mark_needed(k, &blockers_of, &blocked, &mut needed);
            }
        }
    }

    // 3. Steps.
    let mut drafts: Vec<Draft> = Vec::new();
    let mut first_last: BTreeMap<Key, (usize, usize)> = BTreeMap::new();
    let mut entries: Vec<Entry> = Vec::new();
    for key in &order {
        let Some(r) = inv.resources.get(key) else {
            continue;
        };
        if let Some(k) = kept.get(key) {
            entries.push(Entry {
                kind: r.kind,
                id: r.id.clone(),
                region: r.region.clone(),
                name: r.name.clone(),
                status: r.status.clone(),
                owner: r.owner.clone(),
                disposition: Disposition::Kept { why: k.clone() },
                reason: why.get(key).cloned().unwrap_or_default(),
                steps: vec![],
                note: None,
                blocked_by: vec![],
            });
            continue;
        }
        let mut entry = Entry {
            kind: r.kind,
            id: r.id.clone(),
            region: r.region.clone(),
            name: r.name.clone(),
            status: r.status.clone(),
            owner: r.owner.clone(),
            disposition: Disposition::Destroy,
            reason: why.get(key).cloned().unwrap_or_default(),
            steps: vec![],
            note: r.kind.spec().note(r),
            blocked_by: vec![],
        };
        if let Some(b) = blocked.get(key) {
            entry.disposition = Disposition::Blocked { why: b.clone() };
            entry.blocked_by = blockers_of
                .get(key)
                .into_iter()
                .flatten()
                .filter(|k| blocked.contains_key(*k) || !why.contains_key(*k))
                .filter_map(|k| inv.resources.get(k))
                .map(|r| BlockerRef {
                    kind: r.kind,
                    id: r.id.clone(),
                })
                .collect();
            entry.blocked_by.sort();
            entry.blocked_by.dedup();
            entries.push(entry);
            continue;
        }
        if !needed.contains(key) {
            continue;
        }
        if let Some(steps) = planned.remove(key) {
            let start = drafts.len();
            for s in steps {
                drafts.push(Draft {
                    key: key.clone(),
                    action: s.action,
                    api: s.api,
                    until: s.until.map(str::to_string),
                    reason: s.reason,
                });
            }
            if drafts.len() > start {
                first_last.insert(key.clone(), (start, drafts.len() - 1));
            }
        }
        entries.push(entry);
    }
    // 4. Edges: within a resource in order; a blocker's last step before its dependent's
    // first; resources of one serialisation scope (IPsec connections of one VPN gateway)
    // one at a time.
    let mut deps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); drafts.len()];
    for (first, last) in first_last.values() {
        for (s, d) in deps.iter_mut().enumerate().take(*last + 1).skip(first + 1) {
            d.insert(s - 1);
        }
    }
    for (parent, kids) in &blockers_of {
        let Some((pf, _)) = first_last.get(parent) else {
            continue;
        };
        for k in kids {
            if let Some((_, kl)) = first_last.get(k) {
                deps[*pf].insert(*kl);
            }
        }
    }
    let mut serial: BTreeMap<String, Vec<&Key>> = BTreeMap::new();
    for key in first_last.keys() {
        if let Some(scope) = inv
            .resources
            .get(key)
            .and_then(|r| r.kind.spec().serial_scope(r))
        {
            serial.entry(scope).or_default().push(key);
        }
    }
    for conns in serial.values() {
        for pair in conns.windows(2) {
            let (_, prev_last) = first_last[pair[0]];
            let (next_first, _) = first_last[pair[1]];
            deps[next_first].insert(prev_last);
        }
    }
    // 5. Order: topological sort with cycle detection, then levels.
    let mut g: DiGraph<usize, ()> = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..drafts.len()).map(|i| g.add_node(i)).collect();
    for (s, ds) in deps.iter().enumerate() {
        for d in ds {
            g.add_edge(nodes[*d], nodes[s], ());
        }
    }
    let sorted = petgraph::algo::toposort(&g, None).map_err(|c| {
        let d = &drafts[g[c.node_id()]];
        GraphError::Cycle(format!(
            "{} {} {} is part of a cycle",
            d.action, d.key.0, d.key.1
        ))
    })?;
    let mut level = vec![0usize; drafts.len()];
    for n in &sorted {
        let s = g[*n];
        level[s] = deps[s].iter().map(|d| level[*d] + 1).max().unwrap_or(0);
    }
    // Stable execution order: by level, then by the order resources were added.
    let mut ordered: Vec<usize> = (0..drafts.len()).collect();
    ordered.sort_by_key(|s| (level[*s], *s));
    let mut new_id = vec![0usize; drafts.len()];
    for (i, s) in ordered.iter().enumerate() {
        new_id[*s] = i;
    }
    let steps: Vec<Step> = ordered
        .iter()
        .map(|&s| {
            let d = &drafts[s];
            let r = &inv.resources[&d.key];
            let takes_token = d.action.is_mutation()
                && crate::api::actions::lookup(d.api).is_some_and(|a| a.client_token);
            let mut depends_on: Vec<usize> = deps[s].iter().map(|x| new_id[*x]).collect();
            depends_on.sort_unstable();
            Step {
                id: new_id[s],
                kind: d.key.0,
                resource: d.key.1.clone(),
                region: r.region.clone(),
                parent: r.parent.clone(),
                scope: r.kind.spec().step_scope(r),
                action: d.action,
                api: d.api.to_string(),
                until: d.until.clone(),
                reason: d.reason.clone(),
                depends_on,
                client_token: takes_token.then(|| {
                    let scope = token_scope(
                        &plan.fingerprint,
                        inv.account.as_deref(),
                        &r.region,
                        d.action,
                    );
                    client_token(&scope, d.key.0, &d.key.1, d.action, 0)
                }),
                state: r.state_fingerprint(),
                level: level[s],
            }
        })
        .collect();
    let mut steps_of: HashMap<(Kind, &str), Vec<usize>> = HashMap::new();
    for s in &steps {
        steps_of
            .entry((s.kind, s.resource.as_str()))
            .or_default()
            .push(s.id);
    }
    for e in &mut entries {
        e.steps = steps_of
            .get(&(e.kind, e.id.as_str()))
            .cloned()
            .unwrap_or_default();
    }
    entries.extend(gone);
    let deletions = entries
        .iter()
        .filter(|e| e.disposition == Disposition::Destroy)
        .filter(|e| e.steps.iter().any(|s| steps[*s].action == Action::Delete))
        .count();
    Ok(Graph {
        plan: plan.name.clone(),
        plan_fingerprint: plan.fingerprint.clone(),
        steps,
        entries,
        deletions,
        max_deletions: plan.policy.max_deletions,
        rails: Rails::of(plan),
    })
}

/// Mark `k` and, if it is not blocked, everything it needs removed first.
fn mark_needed(
    k: &Key,
    blockers_of: &BTreeMap<Key, Vec<Key>>,
    blocked: &BTreeMap<Key, String>,
    needed: &mut BTreeSet<Key>,
) {
    if blocked.contains_key(k) || !needed.insert(k.clone()) {
        return;
    }
    for kid in blockers_of.get(k).into_iter().flatten() {
        mark_needed(kid, blockers_of, blocked, needed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::Resolution;

    fn res(kind: Kind, id: &str, status: &str, parent: Option<&str>) -> Resource {
        let mut r = Resource::new(kind, id, "cn-shanghai");
        r.status = status.into();
        r.name = id.into();
        r.parent = parent.map(str::to_string);
        r
    }

    fn plan(extra: &str) -> Plan {
        crate::plan::parse(
            "p.yaml",
            &format!(
                "version: 1\nname: t\naccount: \"1234567890123456\"\nregion: cn-shanghai\npolicy:\n  cascade: true\n{extra}targets:\n  - physical_connection: pc-1\n  - virtual_border_router: {{ name: \"vbr-*\" }}\n"
            ),
        )
        .unwrap()
    }

    fn inventory(ri_status: &str) -> Inventory {
        let mut inv = Inventory::default();
        inv.insert(res(Kind::PhysicalConnection, "pc-1", "Enabled", None));
        inv.insert(res(
            Kind::VirtualBorderRouter,
            "vbr-1",
            "active",
            Some("pc-1"),
        ));
        inv.insert(res(Kind::RouterInterface, "ri-1", ri_status, Some("vbr-1")));
        inv.resolutions = vec![
            Resolution {
                target: 0,
                found: vec![(Kind::PhysicalConnection, "pc-1".into())],
            },
            Resolution {
                target: 1,
                found: vec![(Kind::VirtualBorderRouter, "vbr-1".into())],
            },
        ];
        inv
    }

    fn why(g: &Graph, id: &str) -> String {
        match &g.entries.iter().find(|e| e.id == id).unwrap().disposition {
            Disposition::Blocked { why } => why.clone(),
            other => panic!("{id}: {other:?}"),
        }
    }

    #[test]
    fn a_blocker_whose_status_allows_no_steps_blocks_everything_that_depends_on_it() {
        // Before: the interface was listed as blocked, but the VBR and circuit still got steps
        // (Terminate ran, then DeleteVirtualBorderRouter failed).
        let g = build(&plan(""), &inventory("Mystery")).unwrap();
        assert!(g.steps.is_empty(), "{:?}", g.steps);
        assert!(
            why(&g, "pc-1").contains("ri-1: status Mystery"),
            "{}",
            why(&g, "pc-1")
        );
        assert!(why(&g, "vbr-1").contains("ri-1"));
    }

    #[test]
    fn a_blocker_a_protect_rule_keeps_blocks_the_target_that_needs_it_gone() {
        // vbr-1 is matched by a selector and protected (kept): pc-1 cannot be terminated.
        let g = build(
            &plan("  protect:\n    names: [\"vbr-*\"]\n"),
            &inventory("Active"),
        )
        .unwrap();
        assert!(g.steps.is_empty(), "{:?}", g.steps);
        assert!(why(&g, "pc-1").contains("vbr-1 is a target matched by a selector but protected"));
        assert_eq!(g.kept(), 1);
    }

    #[test]
    fn client_tokens_are_deterministic_and_short() {
        let a = client_token("fp", Kind::PhysicalConnection, "pc-1", Action::Terminate, 0);
        assert_eq!(
            a,
            client_token("fp", Kind::PhysicalConnection, "pc-1", Action::Terminate, 0)
        );
        assert_ne!(
            a,
            client_token("fp", Kind::PhysicalConnection, "pc-1", Action::Terminate, 1)
        );
        assert_ne!(
            a,
            client_token(
                "fp2",
                Kind::PhysicalConnection,
                "pc-1",
                Action::Terminate,
                0
            )
        );
        assert!(a.len() <= 64 && a.is_ascii());
    }
}
