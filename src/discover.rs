//! Discovery: find every plan target and everything that blocks its deletion, with the read
//! capability only (a [`ReadClient`] cannot mutate), following alibaba-api.md §12.
//!
//! The engine resolves the plan's targets (ids and selectors, all at once, with the caller's
//! identity) with each kind's listing, then asks every kind of the registry
//! ([`crate::kinds`]) to add its instances that block what is already known: in waves of
//! kinds that do not depend on each other ([`crate::kinds::discovery_waves`]), each kind
//! writing into its own [`Found`] over the shared inventory, merged in registry order — the
//! result is the registry-order walk's, in as many round trips as the waves are deep. How a
//! kind is listed and found lives in its module; calls are batched where the API allows
//! (filters take 5 values, pages hold 50), every region and parent concurrently, the pages a
//! `TotalCount` implies together; where many resources of one kind are needed in a region, a
//! kind lists the whole region once instead of asking per parent.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::api::ops::Tags;
use crate::api::{CallError, ReadClient};
use crate::kinds::{Discovery, ListQuery};
use crate::model::Kind;
use crate::plan::{Plan, Selector};

/// A key that identifies one resource: its kind and id.
pub type Key = (Kind, String);

/// The fact that names further resources (comma-separated ids) a resource blocks besides
/// its parent: a route with next hops on two router interfaces, the association of a VBR
/// with a second circuit (part of the VBR, and blocking that circuit too).
pub const ALSO_BLOCKS: &str = "also_blocks";

/// A fact whose text the preview adds to why a blocker is in the plan (the circuits that
/// keep a VBR whose association with a retired circuit is removed instead of the VBR).
pub const NOTE: &str = "note";

/// The fact that names what a coalesced poll lists a resource by, carried into its steps'
/// [`crate::graph::Step::scope`]: a VBR route's route table, an ECR child's ECR, a Basic CEN
/// child's CEN.
pub const SCOPE: &str = "scope";

/// One resource as discovery saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// Kind.
    pub kind: Kind,
    /// Id (`<attachment>/<route table>` for associations and propagations).
    pub id: String,
    /// Region (the TR's or the attached resource's region for Cbn resources).
    pub region: String,
    /// Name, when the API has one.
    pub name: String,
    /// Status as the API reported it.
    pub status: String,
    /// Tags.
    pub tags: Tags,
    /// Owning account, when it is not the caller's (cross-account VBRs).
    pub owner: Option<String>,
    /// The resource this one hangs off: circuit of a VBR, VBR of a router interface or BGP
    /// group, group of a peer, attachment of an association/propagation/route entry, TR
    /// attachment of a TR-bound IPsec connection, gateway of a gateway-bound one.
    pub parent: Option<String>,
    /// Other facts steps and blockers depend on (`charge_type`, `hosted_connections`,
    /// `transit_router`, `route_table`, `vpn_gateway_status`, ...).
    pub facts: BTreeMap<String, String>,
}

impl Resource {
    /// A resource with only its kind, id and region known.
    pub fn new(kind: Kind, id: impl Into<String>, region: impl Into<String>) -> Self {
        Resource {
            kind,
            id: id.into(),
            region: region.into(),
            name: String::new(),
            status: String::new(),
            tags: Tags::new(),
            owner: None,
            parent: None,
            facts: BTreeMap::new(),
        }
    }

    /// The key of this resource.
    pub fn key(&self) -> Key {
        (self.kind, self.id.clone())
    }

    /// A fact, or "".
    pub fn fact(&self, k: &str) -> &str {
        self.facts.get(k).map(String::as_str).unwrap_or("")
    }

    /// A short fingerprint of what steps rely on (status, parent, owner, facts).
    pub fn state_fingerprint(&self) -> String {
        use sha2::Digest as _;
        let text = format!(
            "{}|{:?}|{:?}|{:?}",
            self.status, self.parent, self.owner, self.facts
        );
        hex::encode(&sha2::Sha256::digest(text.as_bytes())[..8])
    }
}

/// How one plan target resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// Index of the target in the plan.
    pub target: usize,
    /// The resources it names (empty: already gone, or a selector that matched nothing).
    pub found: Vec<Key>,
}

/// Everything discovery found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inventory {
    /// Every resource, by key.
    pub resources: BTreeMap<Key, Resource>,
    /// One entry per plan target.
    pub resolutions: Vec<Resolution>,
    /// The caller's account (STS GetCallerIdentity): other accounts' VBRs are told apart
    /// by it.
    pub account: Option<String>,
}

impl Inventory {
    /// A resource by key.
    pub fn get(&self, kind: Kind, id: &str) -> Option<&Resource> {
        self.resources.get(&(kind, id.to_string()))
    }

    /// Resources whose parent is `id` (or that also block `id`, [`ALSO_BLOCKS`]) and whose
    /// kind is `kind`.
    pub fn children(&self, kind: Kind, parent: &str) -> impl Iterator<Item = &Resource> {
        self.of_kind(kind).filter(move |r| {
            r.parent.as_deref() == Some(parent)
                || r.fact(ALSO_BLOCKS).split(',').any(|p| p == parent)
        })
    }

    /// The resources of one kind, in id order.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Resource> {
        self.resources
            .range((kind, String::new())..)
            .take_while(move |((k, _), _)| *k == kind)
            .map(|(_, r)| r)
    }

    /// Add or replace a resource.
    pub fn insert(&mut self, r: Resource) {
        self.resources.insert(r.key(), r);
    }

    /// The resource with this key, created with only kind, id and region when absent.
    pub fn entry(&mut self, kind: Kind, id: &str, region: &str) -> &mut Resource {
        self.resources
            .entry((kind, id.to_string()))
            .or_insert_with(|| Resource::new(kind, id, region))
    }
}

/// What one kind's [`crate::kinds::KindSpec::discover`] adds to, changes in or removes from
/// the inventory, kept apart from it so kinds that do not depend on each other run
/// concurrently on one shared `&Inventory` and are merged afterwards (in registry order).
///
/// It reads through to the inventory: [`Found::get`], [`Found::of_kind`] and
/// [`Found::children`] see the kind's own changes first, so a kind reads back what it wrote
/// exactly as if it wrote into the inventory. `Deref` gives the inventory's other fields
/// (`account`, `resolutions`) as they were before the kind ran.
#[derive(Debug)]
pub struct Found<'a> {
    base: &'a Inventory,
    changed: BTreeMap<Key, Resource>,
    removed: std::collections::BTreeSet<Key>,
}

impl<'a> Found<'a> {
    /// Nothing found yet, over `base`.
    pub fn new(base: &'a Inventory) -> Found<'a> {
        Found {
            base,
            changed: BTreeMap::new(),
            removed: std::collections::BTreeSet::new(),
        }
    }

    /// A resource by key: as this kind changed it, else as the inventory has it.
    pub fn get(&self, kind: Kind, id: &str) -> Option<&Resource> {
        let key = (kind, id.to_string());
        if self.removed.contains(&key) {
            return None;
        }
        self.changed
            .get(&key)
            .or_else(|| self.base.resources.get(&key))
    }

    /// The resources of one kind, in id order (this kind's changes included).
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Resource> {
        let mut mine = self
            .changed
            .range((kind, String::new())..)
            .take_while(move |((k, _), _)| *k == kind)
            .map(|(_, r)| r)
            .peekable();
        let mut base = self
            .base
            .of_kind(kind)
            .filter(|r| self.removed.is_empty() || !self.removed.contains(&r.key()))
            .peekable();
        // A merge of two id-ordered runs; a changed resource replaces the inventory's.
        std::iter::from_fn(move || match (mine.peek(), base.peek()) {
            (Some(m), Some(b)) if m.id == b.id => {
                base.next();
                mine.next()
            }
            (Some(m), Some(b)) if m.id < b.id => mine.next(),
            (Some(_), Some(_)) => base.next(),
            (Some(_), None) => mine.next(),
            (None, _) => base.next(),
        })
    }

    /// Resources of `kind` whose parent is `parent` or that also block it ([`ALSO_BLOCKS`]).
    pub fn children(&self, kind: Kind, parent: &str) -> impl Iterator<Item = &Resource> {
        self.of_kind(kind).filter(move |r| {
            r.parent.as_deref() == Some(parent)
                || r.fact(ALSO_BLOCKS).split(',').any(|p| p == parent)
        })
    }

    /// Add or replace a resource.
    pub fn insert(&mut self, r: Resource) {
        let key = r.key();
        self.removed.remove(&key);
        self.changed.insert(key, r);
    }

    /// Remove a resource from the inventory.
    pub fn remove(&mut self, key: &Key) {
        self.changed.remove(key);
        self.removed.insert(key.clone());
    }

    /// The resource with this key to change: this kind's copy, else a copy of the
    /// inventory's, else a new one with only kind, id and region.
    pub fn entry(&mut self, kind: Kind, id: &str, region: &str) -> &mut Resource {
        let key = (kind, id.to_string());
        let known = (!self.removed.contains(&key))
            .then(|| self.base.resources.get(&key))
            .flatten();
        self.removed.remove(&key);
        self.changed.entry(key).or_insert_with(|| {
            known
                .cloned()
                .unwrap_or_else(|| Resource::new(kind, id, region))
        })
    }

    /// The changes, to merge into the inventory.
    pub fn into_changes(self) -> Changes {
        Changes {
            changed: self.changed,
            removed: self.removed,
        }
    }
}

impl std::ops::Deref for Found<'_> {
    type Target = Inventory;
    fn deref(&self) -> &Inventory {
        self.base
    }
}

/// The changes one kind's discovery made ([`Found::into_changes`]), merged with
/// [`Inventory::apply`].
#[derive(Debug, Default)]
pub struct Changes {
    changed: BTreeMap<Key, Resource>,
    removed: std::collections::BTreeSet<Key>,
}

impl Inventory {
    /// Merge one kind's changes: its removals, then its additions and replacements.
    pub fn apply(&mut self, c: Changes) {
        for k in c.removed {
            self.resources.remove(&k);
        }
        self.resources.extend(c.changed);
    }
}

/// Discovery failures.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// An API call failed.
    #[error("discovery failed: {0}")]
    Api(#[from] CallError),
    /// Targets that name a resource that exists, but as another kind (an IPsec connection
    /// bound to a transit router named as `vpn_connection`, or one on a VPN gateway named
    /// as `vpn_attachment`; a VBR attachment named as a VPN one): one line per target,
    /// naming the kind to write. decom refuses rather than calling it "already gone".
    #[error("{}", .0.join("\n"))]
    WrongKind(Vec<String>),
    /// A selector discovery cannot evaluate.
    #[error("{target}: {why}")]
    Selector {
        /// The target, as written.
        target: String,
        /// Why.
        why: String,
    },
}

/// Discover the plan's targets and their blockers: the caller's identity and the targets at
/// once, then the blocker kinds wave by wave ([`crate::kinds::discovery_waves`]). Errors:
/// API failures, targets of the wrong kind, selectors the API cannot list by.
pub async fn discover(client: &ReadClient, plan: &Plan) -> Result<Inventory, DiscoverError> {
    discover_with(client, plan, &crate::kinds::discovery_waves()).await
}

/// [`discover`] with the blocker kinds run in `waves` (each kind exactly once; a kind after
/// every kind it depends on): `Kind::ALL` one kind per wave is the registry-order walk the
/// waves must agree with.
pub async fn discover_with(
    client: &ReadClient,
    plan: &Plan,
    waves: &[Vec<Kind>],
) -> Result<Inventory, DiscoverError> {
    let started = std::time::Instant::now();
    let cx = Discovery::new(client.clone());
    let mut inv = Inventory::default();
    // The caller's account is only needed by the blocker kinds: asked while the targets are
    // resolved (its failure, an authentication one, is reported first).
    let (identity, resolved) = futures_util::future::join(
        crate::api::ops::sts::get_caller_identity(client),
        resolve_targets(&cx, plan, &mut inv),
    )
    .await;
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "targets resolved"
    );
    inv.account = Some(identity?.account_id)
        .filter(|a| !a.is_empty())
        .or_else(|| plan.account.clone());
    resolved?;
    blockers(&cx, &mut inv, waves).await?;
    Ok(inv)
}

/// Blockers: each kind finds its instances that block what is already in the inventory,
/// wave by wave ([`crate::kinds::discovery_waves`]); the kinds of one wave run concurrently
/// on the same inventory and their changes are merged in registry order. Errors: the first
/// failed kind's (in registry order).
pub async fn blockers(
    cx: &Discovery,
    inv: &mut Inventory,
    waves: &[Vec<Kind>],
) -> Result<(), CallError> {
    use futures_util::StreamExt as _;
    // Lookups started ahead of their kind's wave (KindSpec::prefetch), driven alongside the
    // waves.
    let mut prefetches = futures_util::stream::FuturesUnordered::new();
    let mut known: std::collections::BTreeSet<Kind> = std::collections::BTreeSet::new();
    let mut prefetched: std::collections::BTreeSet<Kind> = std::collections::BTreeSet::new();
    for wave in waves {
        for &k in Kind::ALL {
            let from = k.spec().prefetched_from();
            if !from.is_empty()
                && !prefetched.contains(&k)
                && from.iter().all(|f| known.contains(f))
            {
                prefetched.insert(k);
                prefetches.push(k.spec().prefetch(cx, inv));
            }
        }
        let started = std::time::Instant::now();
        let base: &Inventory = inv;
        let runs = wave.iter().map(|kind| async move {
            let mut found = Found::new(base);
            kind.spec().discover(cx, &mut found).await?;
            Ok::<Changes, CallError>(found.into_changes())
        });
        let changes = {
            let mut runs = std::pin::pin!(futures_util::future::join_all(runs));
            loop {
                tokio::select! {
                    changes = &mut runs => break changes,
                    Some(done) = prefetches.next() => done?,
                }
            }
        };
        for c in changes {
            inv.apply(c?);
        }
        known.extend(wave.iter().copied());
        tracing::debug!(kinds = ?wave, elapsed_ms = started.elapsed().as_millis() as u64, "discovery wave");
    }
    while let Some(done) = prefetches.next().await {
        done?;
    }
    Ok(())
}

/// Ids targeted as `kind` that do not exist as one: looked up as every other targetable kind
/// with the same id prefix (`vco-`: TR-type and gateway IPsec connections; `tr-attach-`:
/// VBR and VPN attachments). One line per id that exists as another kind, naming the plan
/// line and the kind to write.
async fn wrong_kind(
    cx: &Discovery,
    plan: &Plan,
    kind: Kind,
    region: &str,
    missing: Vec<String>,
) -> Result<Vec<String>, DiscoverError> {
    let no_match = crate::plan::Match::default();
    let mut out = Vec::new();
    for other in Kind::targetable() {
        if other == kind || other.id_prefix() != kind.id_prefix() {
            continue;
        }
        let target = plan
            .targets
            .iter()
            .find(|t| t.kind == kind)
            .expect("grouped from targets");
        let q = ListQuery {
            target,
            region,
            matcher: &no_match,
            ids: &[],
        };
        for r in other.spec().find_by_ids(cx, q, missing.clone()).await? {
            let line = plan
                .targets
                .iter()
                .find(|t| t.kind == kind && t.selector == Selector::Id(r.id.clone()))
                .map_or(0, |t| t.line);
            let mut detail = vec![format!("status {}", r.status)];
            if !r.fact("transit_router").is_empty() {
                detail.push(format!("transit router {}", r.fact("transit_router")));
            } else if other == Kind::VpnAttachment {
                detail.push("not bound to a transit router".into());
            }
            if let Some(p) = &r.parent {
                detail.push(format!("on {p}"));
            }
            out.push(format!(
                "plan line {line}: {kind} {id} does not exist as a {kind}, but as a {other} \
                 ({detail}), which decom removes with {api}: write the target as \
                 `{other}: {id}`",
                id = r.id,
                detail = detail.join(", "),
                api = other
                    .spec()
                    .steps(&r)
                    .ok()
                    .and_then(|s| s
                        .into_iter()
                        .find(|s| s.action == crate::model::Action::Delete))
                    .map_or("its own delete call", |s| s.api),
            ));
        }
    }
    Ok(out)
}

async fn resolve_targets(
    cx: &Discovery,
    plan: &Plan,
    inv: &mut Inventory,
) -> Result<(), DiscoverError> {
    // Group id targets per (kind, region) so each group is one batched query.
    let mut by_id: BTreeMap<(Kind, String), Vec<String>> = BTreeMap::new();
    for t in &plan.targets {
        if let Selector::Id(id) = &t.selector {
            by_id
                .entry((t.kind, t.region.clone()))
                .or_default()
                .push(id.clone());
        }
    }
    // Every (kind, region) group and every selector is looked up at once.
    let no_match = crate::plan::Match::default();
    let no_match = &no_match;
    let lookups = by_id.into_iter().map(|((kind, region), ids)| async move {
        let target = plan
            .targets
            .iter()
            .find(|t| t.kind == kind)
            .expect("grouped from targets");
        let q = ListQuery {
            target,
            region: &region,
            matcher: no_match,
            ids: &[],
        };
        let found = kind.spec().find_by_ids(cx, q, ids.clone()).await?;
        let missing: Vec<String> = ids
            .into_iter()
            .filter(|id| !found.iter().any(|r| &r.id == id))
            .collect();
        let wrong = if missing.is_empty() {
            Vec::new()
        } else {
            wrong_kind(cx, plan, kind, &region, missing).await?
        };
        Ok::<_, DiscoverError>((found, wrong))
    });
    let selectors = plan.targets.iter().filter_map(|t| match &t.selector {
        Selector::Match(m) => Some(async move {
            let q = ListQuery {
                target: t,
                region: &t.region,
                matcher: m,
                ids: &[],
            };
            let listed = t.kind.spec().list(cx, q).await?;
            Ok::<_, DiscoverError>(
                listed
                    .into_iter()
                    .filter(|r| m.matches(&r.name, &r.tags))
                    .collect::<Vec<Resource>>(),
            )
        }),
        Selector::Id(_) => None,
    });
    let (by_ids, by_selectors) = futures_util::future::join(
        futures_util::future::join_all(lookups),
        futures_util::future::join_all(selectors),
    )
    .await;
    let mut wrong: Vec<String> = Vec::new();
    for r in by_ids {
        let (found, w) = r?;
        for r in found {
            inv.insert(r);
        }
        wrong.extend(w);
    }
    if !wrong.is_empty() {
        return Err(DiscoverError::WrongKind(wrong));
    }
    // Selectors: the kind listed in the target's scope, matched.
    for r in by_selectors {
        for r in r? {
            inv.insert(r);
        }
    }
    // Resolutions.
    for (i, t) in plan.targets.iter().enumerate() {
        let found = match &t.selector {
            Selector::Id(id) => inv
                .get(t.kind, id)
                .map(|r| vec![r.key()])
                .unwrap_or_default(),
            Selector::Match(m) => inv
                .of_kind(t.kind)
                .filter(|r| !t.kind.is_regional() || r.region == t.region)
                .filter(|r| m.matches(&r.name, &r.tags))
                .filter(|r| {
                    m.physical_connection
                        .as_deref()
                        .is_none_or(|pc| r.parent.as_deref() == Some(pc))
                })
                .filter(|r| {
                    m.transit_router
                        .as_deref()
                        .is_none_or(|tr| r.fact("transit_router") == tr)
                })
                .filter(|r| {
                    m.vpn_gateway
                        .as_deref()
                        .is_none_or(|g| r.parent.as_deref() == Some(g))
                })
                .map(Resource::key)
                .collect(),
        };
        inv.resolutions.push(Resolution { target: i, found });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(kind: Kind, id: &str) -> Resource {
        Resource::new(kind, id, "cn-hangzhou")
    }

    #[test]
    fn found_reads_through_its_own_changes_in_id_order() {
        let mut inv = Inventory::default();
        for id in ["vbr-b", "vbr-d", "vbr-f"] {
            inv.insert(r(Kind::VirtualBorderRouter, id));
        }
        inv.insert(r(Kind::PhysicalConnection, "pc-1"));
        let mut f = Found::new(&inv);
        f.insert(r(Kind::VirtualBorderRouter, "vbr-a"));
        f.insert(r(Kind::VirtualBorderRouter, "vbr-e"));
        f.entry(Kind::VirtualBorderRouter, "vbr-d", "x").status = "changed".into();
        f.remove(&(Kind::VirtualBorderRouter, "vbr-f".to_string()));
        let ids: Vec<&str> = f
            .of_kind(Kind::VirtualBorderRouter)
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(ids, ["vbr-a", "vbr-b", "vbr-d", "vbr-e"]);
        assert_eq!(
            f.get(Kind::VirtualBorderRouter, "vbr-d").unwrap().status,
            "changed"
        );
        assert_eq!(
            f.get(Kind::VirtualBorderRouter, "vbr-d").unwrap().region,
            "cn-hangzhou"
        );
        assert!(f.get(Kind::VirtualBorderRouter, "vbr-f").is_none());
        assert!(f.get(Kind::PhysicalConnection, "pc-1").is_some());
        // The inventory is untouched until the changes are applied.
        assert_eq!(inv.of_kind(Kind::VirtualBorderRouter).count(), 3);
        let changes = f.into_changes();
        inv.apply(changes);
        let ids: Vec<&str> = inv
            .of_kind(Kind::VirtualBorderRouter)
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(ids, ["vbr-a", "vbr-b", "vbr-d", "vbr-e"]);
        assert_eq!(
            inv.get(Kind::VirtualBorderRouter, "vbr-d").unwrap().status,
            "changed"
        );
    }

    #[test]
    fn a_removed_then_reinserted_resource_is_kept() {
        let mut inv = Inventory::default();
        inv.insert(r(Kind::VirtualBorderRouter, "vbr-a"));
        let mut f = Found::new(&inv);
        f.remove(&(Kind::VirtualBorderRouter, "vbr-a".to_string()));
        let mut again = r(Kind::VirtualBorderRouter, "vbr-a");
        again.status = "back".into();
        f.insert(again);
        inv.apply(f.into_changes());
        assert_eq!(
            inv.get(Kind::VirtualBorderRouter, "vbr-a").unwrap().status,
            "back"
        );
    }
}
