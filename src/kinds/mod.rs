//! The kinds registry: everything decom knows about one kind of resource lives in one
//! module of this folder, and every module has the same shape — a unit struct `Spec` that
//! implements [`KindSpec`]:
//!
//! | part | what it says |
//! |---|---|
//! | identity | plan name, id prefix, product, regional or global, targetable, selector link keys |
//! | discovery | how the kind is listed (selectors, ids) and how its instances that block other resources are found ([`KindSpec::discover`]); how an API item becomes a [`Resource`] |
//! | graph | the steps that remove it by status, the kinds that block it (cascade) or go with it (parts), when it is unremovable and why, its serialisation scope |
//! | execution | its mutating calls, which states mean a lost call took effect, the deadline, how a wait on it is polled (the coalesced scope and listing) or probed |
//!
//! The engine (`discover`, `graph`, `exec`, `render`) holds no per-kind `match`: it iterates
//! [`Kind::ALL`] and asks [`Kind::spec`]. The [`registry!`] invocation below declares the
//! [`Kind`] enum and its registry in one list, so a kind without its module does not compile
//! and no wildcard arm can hide a missing case.
//!
//! # Adding a resource kind
//! 1. Add `src/kinds/<kind>.rs` with `pub struct Spec;` and `impl KindSpec for Spec` (copy
//!    the closest existing module; every method without a default must be written).
//! 2. Add one line to the `registry!` list below, after the kinds it is found from, and say
//!    which kinds its [`KindSpec::discover`] reads ([`KindSpec::discovered_from`]) and, beyond
//!    its own, changes ([`KindSpec::completes`]): discovery runs independent kinds
//!    concurrently ([`discovery_waves`]); a kind that says nothing runs after every kind
//!    before it.
//! 3. Name it in the blocker lists ([`KindSpec::blockers`] / [`KindSpec::parts`]) of the
//!    kinds it blocks.
//! 4. The emulator side: see `emulator::kinds`.
//!
//! The operations it calls go in `api/ops/*` (typed request and response) and `api/actions.rs`
//! (product, read or mutate, ClientToken), as for any API operation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::api::{BoxFuture, CallError, ErrorClass, Product, ReadClient, WriteClient};
use crate::discover::{DiscoverError, Found, Inventory, Resource};
use crate::graph::Step;
use crate::model::Action;
use crate::plan::{Match, Target};

pub mod transit_router;

/// Declares [`Kind`] (variants in discovery order), [`Kind::ALL`] and [`Kind::spec`] from one
/// list of `Variant => module` lines, and the modules themselves.
macro_rules! registry {
    ($( $(#[$doc:meta])* $variant:ident => $module:ident, )*) => {
        $( pub mod $module; )*

        /// A kind of resource decom can remove (or must remove on the way). The variant order
        /// is the discovery order (and the order outputs list kinds in).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind {
            $( $(#[$doc])* $variant, )*
        }

        impl Kind {
            /// Every kind, in discovery order.
            pub const ALL: &'static [Kind] = &[ $( Kind::$variant, )* ];

            /// Everything decom knows about this kind.
            pub fn spec(self) -> &'static dyn KindSpec {
                match self {
                    $( Kind::$variant => &$module::Spec, )*
                }
            }
        }
    };
}

registry! {
    /// Express Connect circuit (`pc-`).
    PhysicalConnection => physical_connection,
    /// MACsec key bound to a circuit's port (`<pc-…>/<ckn>`).
    MacsecKey => macsec_key,
    /// Hosted connection on a partner's circuit (`pc-`), deleted by the partner.
    HostedConnection => hosted_connection,
    /// Virtual border router (`vbr-`).
    VirtualBorderRouter => virtual_border_router,
    /// A VBR's association with a further circuit (`<vbr-…>/<pc-…>`).
    VbrCircuitAssociation => vbr_circuit_association,
    /// Router interface on a VBR (`ri-`).
    RouterInterface => router_interface,
    /// A custom route of a VBR's route table via one of its router interfaces (`rte-`).
    VbrRouteEntry => vbr_route_entry,
    /// BGP group on a VBR (`bgpg-`).
    BgpGroup => bgp_group,
    /// BGP peer in a group (`bgp-`).
    BgpPeer => bgp_peer,
    /// A network a VBR advertises over BGP (`<vbr-…>/<cidr>`).
    BgpNetwork => bgp_network,
    /// A network-quality probe on a VBR (`nqa-`).
    Nqa => nqa,
    /// A VBR attached to an Express Connect Router (`<ecr-…>/<vbr-…>`).
    EcrChildInstance => ecr_child_instance,
    /// Transit-router attachment of a VBR (`tr-attach-`).
    TransitRouterVbrAttachment => transit_router_vbr_attachment,
    /// A VBR's attachment to a transit router of another account's CEN (`<cen-…>/<vbr-…>`).
    ForeignCenAttachment => foreign_cen_attachment,
    /// A VBR attached to a Basic-Edition CEN (`<cen-…>/<vbr-…>`).
    CenChildInstance => cen_child_instance,
    /// VBR failover group (`vbrha-`): removed before its VBRs leave their CEN / ECR.
    VbrHa => vbr_ha,
    /// CEN health check of a VBR (`<cen-…>/<vbr-…>`): removed before the VBR leaves the CEN.
    VbrHealthCheck => vbr_health_check,
    /// Transit-router attachment of an IPsec connection (`tr-attach-`).
    TransitRouterVpnAttachment => transit_router_vpn_attachment,
    /// IPsec connection bound to a transit router (`vco-`).
    VpnAttachment => vpn_attachment,
    /// IPsec connection bound to a VPN gateway (`vco-`).
    VpnConnection => vpn_connection,
    /// A route-table association of a TR attachment (`<tr-attach-…>/<vtb-…>`).
    RouteTableAssociation => route_table_association,
    /// A route-table propagation of a TR attachment (`<tr-attach-…>/<vtb-…>`).
    RouteTablePropagation => route_table_propagation,
    /// A prefix-list association whose next hop is a TR attachment (`<pl-…>/<vtb-…>`).
    TransitRouterPrefixListAssociation => transit_router_prefix_list_association,
    /// A custom TR route entry whose next hop is an attachment (`rte-`).
    TransitRouterRouteEntry => transit_router_route_entry,
}

impl Kind {
    /// Kinds a plan may name as targets, in registry order.
    pub fn targetable() -> Vec<Kind> {
        Kind::ALL
            .iter()
            .copied()
            .filter(|k| k.spec().targetable())
            .collect()
    }

    /// The name used in plan files and outputs.
    pub fn plan_name(self) -> &'static str {
        self.spec().plan_name()
    }

    /// The kind with this plan name (targetable kinds only).
    pub fn from_plan_name(name: &str) -> Option<Kind> {
        Kind::targetable()
            .into_iter()
            .find(|k| k.plan_name() == name)
    }

    /// The id prefix of this kind's ids.
    pub fn id_prefix(self) -> &'static str {
        self.spec().id_prefix()
    }

    /// True for kinds whose ids live in a region (Vpc); TR attachments are global (Cbn).
    pub fn is_regional(self) -> bool {
        self.spec().regional()
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.plan_name())
    }
}

/// One step template of a kind: what it does, the API operation (the List/Describe a wait
/// polls), the status a wait waits for (`gone` for disappearance), and why it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepSpec {
    /// What the step does.
    pub action: Action,
    /// The API operation.
    pub api: &'static str,
    /// For waits: the awaited status.
    pub until: Option<&'static str>,
    /// Why the step exists (shown in previews).
    pub reason: String,
}

impl StepSpec {
    /// A mutating call.
    pub fn call(action: Action, api: &'static str, reason: impl Into<String>) -> StepSpec {
        StepSpec {
            action,
            api,
            until: None,
            reason: reason.into(),
        }
    }

    /// A wait: poll `api` until the resource has `until` (or is gone).
    pub fn wait(api: &'static str, until: &'static str, reason: impl Into<String>) -> StepSpec {
        StepSpec {
            action: Action::Wait,
            api,
            until: Some(until),
            reason: reason.into(),
        }
    }
}

/// What a listing for a plan target asks: the target (named in errors), its region, the
/// selector's fields, and ids to filter by (empty: everything in scope).
#[derive(Debug, Clone, Copy)]
pub struct ListQuery<'a> {
    /// The plan target.
    pub target: &'a Target,
    /// The region listed.
    pub region: &'a str,
    /// Selector fields (link keys narrow the listing where the API can).
    pub matcher: &'a Match,
    /// Ids to filter by, for kinds the API filters by several ids.
    pub ids: &'a [String],
}

/// What a coalesced poll lists: a kind in a region, within a transit router, route table or
/// VPN gateway (`key`; empty for regional listings). Built by [`KindSpec::poll_scope`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PollScope {
    /// The kind polled.
    pub kind: Kind,
    /// The region of the steps.
    pub region: String,
    /// Transit router, route table, VPN gateway or resource; empty for a regional listing.
    pub key: String,
}

impl PollScope {
    /// The scope a step's resource is polled in.
    pub fn of(step: &Step) -> PollScope {
        PollScope {
            kind: step.kind,
            region: step.region.clone(),
            key: step.kind.spec().poll_scope(step),
        }
    }
}

/// What one poll listing saw: resource id → status, and how many items the answer held.
pub type Listing = (HashMap<String, String>, usize);

/// Shared state of one discovery run: the read client and what several kinds need from the
/// same calls (the route tables of transit routers, a region's IPsec connections).
pub struct Discovery {
    /// The read capability.
    pub client: ReadClient,
    /// Memoised transit-router facts (route tables), shared by the TR kinds.
    pub transit_routers: transit_router::Memo,
    /// Every IPsec connection of a region (DescribeVpnConnections without a filter), read
    /// by both IPsec kinds' listings: one listing per region serves both.
    pub vpn_connections: PerRegion<Vec<crate::api::ops::vpc::VpnConnection>>,
    /// The failover group of each VBR asked (DescribeVbrHa, one call per VBR), fetched by
    /// [`vbr_ha`]'s prefetch as soon as the VBRs are known.
    pub vbr_ha: vbr_ha::Prefetched,
}

impl Discovery {
    /// A fresh discovery context.
    pub fn new(client: ReadClient) -> Discovery {
        Discovery {
            client,
            transit_routers: transit_router::Memo::default(),
            vpn_connections: PerRegion::default(),
            vbr_ha: vbr_ha::Prefetched::default(),
        }
    }
}

/// A region-wide listing several kinds read, fetched at most once per region and discovery
/// (concurrent readers wait for the one fetch). A failed fetch is not kept: the next reader
/// fetches again.
pub struct PerRegion<V> {
    cells: std::sync::Mutex<BTreeMap<String, Arc<tokio::sync::OnceCell<Arc<V>>>>>,
}

impl<V> Default for PerRegion<V> {
    fn default() -> Self {
        PerRegion {
            cells: std::sync::Mutex::new(BTreeMap::new()),
        }
    }
}

impl<V> PerRegion<V> {
    /// The region's cell (created empty on first use).
    fn cell(&self, region: &str) -> Arc<tokio::sync::OnceCell<Arc<V>>> {
        self.cells
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(region.to_string())
            .or_default()
            .clone()
    }

    /// The region's listing when it was fetched before or `fetch()` gives it (`Some`), else
    /// `None` (`fetch` found it over its budget: nothing is kept, a later reader tries
    /// again). Errors: `fetch`'s.
    pub async fn get_within<F, Fut>(
        &self,
        region: &str,
        fetch: F,
    ) -> Result<Option<Arc<V>>, CallError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<V>, CallError>>,
    {
        enum Miss {
            Over,
            Failed(CallError),
        }
        let cell = self.cell(region);
        let got = cell
            .get_or_try_init(|| async {
                match fetch().await {
                    Ok(Some(v)) => Ok(Arc::new(v)),
                    Ok(None) => Err(Miss::Over),
                    Err(e) => Err(Miss::Failed(e)),
                }
            })
            .await;
        match got {
            Ok(v) => Ok(Some(v.clone())),
            Err(Miss::Over) => Ok(None),
            Err(Miss::Failed(e)) => Err(e),
        }
    }
}

/// Everything decom knows about one kind of resource. See the module docs for the shape.
pub trait KindSpec: Send + Sync {
    // ---- identity ----

    /// The name used in plan files and outputs (`physical_connection`).
    fn plan_name(&self) -> &'static str;
    /// The id prefix (`pc-`).
    fn id_prefix(&self) -> &'static str;
    /// The product whose API serves it.
    fn product(&self) -> Product;
    /// True when its ids live in a region (Vpc); false for global (Cbn) ones.
    fn regional(&self) -> bool;
    /// True when a plan may name it as a target.
    fn targetable(&self) -> bool;
    /// The selector link keys it accepts beyond `name`/`tags`/`region`
    /// (`physical_connection`, `transit_router`, `vpn_gateway`).
    fn link_keys(&self) -> &'static [&'static str] {
        &[]
    }
    /// The link keys a selector of this kind must set: the API cannot list the kind without
    /// them (`validate` refuses such a selector with its place in the plan).
    fn required_link_keys(&self) -> &'static [&'static str] {
        &[]
    }

    // ---- discovery ----

    /// Every resource of the kind in the query's scope (selector matching is the caller's).
    /// Errors: API failures; a selector the API cannot list by.
    fn list<'a>(
        &'a self,
        _cx: &'a Discovery,
        _q: ListQuery<'a>,
    ) -> BoxFuture<'a, Result<Vec<Resource>, DiscoverError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// The resources with these ids in the query's region; ids that do not exist are not
    /// returned. Errors: API failures.
    fn find_by_ids<'a>(
        &'a self,
        _cx: &'a Discovery,
        _q: ListQuery<'a>,
        _ids: Vec<String>,
    ) -> BoxFuture<'a, Result<Vec<Resource>, DiscoverError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// For kinds looked up one id at a time ([`fetched_by_ids`]): true when the region-wide
    /// listing ([`KindSpec::list`]) takes at most `calls` calls; it may make the first of
    /// them to find out (keeping what it fetched for the listing). Default: not known, false.
    fn listing_within<'a>(
        &'a self,
        _cx: &'a Discovery,
        _region: &'a str,
        _calls: usize,
    ) -> BoxFuture<'a, Result<bool, CallError>> {
        Box::pin(async { Ok(false) })
    }

    /// Find the instances of this kind that block resources already in the inventory (or
    /// complete what is known of them), and add them to `inv` (which reads through to the
    /// inventory). Runs once per discovery, after every kind it depends on
    /// ([`KindSpec::discovered_from`], [`KindSpec::completes`]) and concurrently with the
    /// kinds it does not ([`discovery_waves`]). Errors: API failures.
    fn discover<'a>(
        &'a self,
        _cx: &'a Discovery,
        _inv: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async { Ok(()) })
    }
    /// The kinds whose resources [`KindSpec::discover`] reads (besides the plan's targets,
    /// which are all known before any kind runs); `None`: every kind listed before it in the
    /// registry (the safe default: it then runs after all of them).
    fn discovered_from(&self) -> Option<&'static [Kind]> {
        None
    }
    /// The kinds other than its own whose resources [`KindSpec::discover`] adds, changes or
    /// removes (a VBR's association with a further circuit changes the VBR).
    fn completes(&self) -> &'static [Kind] {
        &[]
    }
    /// The kinds [`KindSpec::prefetch`] reads, when a kind's lookups need fewer kinds than
    /// its discovery as a whole (empty: no prefetch).
    fn prefetched_from(&self) -> &'static [Kind] {
        &[]
    }
    /// Start this kind's lookups as soon as the kinds of [`KindSpec::prefetched_from`] are
    /// known, concurrently with the waves before its own: what they find is kept in the
    /// [`Discovery`], and [`KindSpec::discover`] uses it (asking itself for anything it
    /// lacks). The future cannot borrow the inventory. Errors: API failures.
    fn prefetch<'a>(
        &'a self,
        _cx: &'a Discovery,
        _inv: &Inventory,
    ) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async { Ok(()) })
    }
    /// False for kinds found by target resolution only (no [`KindSpec::discover`]): they
    /// take no place in the discovery waves.
    fn discovers(&self) -> bool {
        true
    }

    // ---- snapshot ----

    /// Write `r` into the world document of `decom snapshot` (its section entry, merged by
    /// id), with a stand-in for every resource it references that discovery did not see
    /// ([`crate::snapshot::WorldDoc::ensure`]). Required: a snapshot holds every kind.
    fn snapshot(&self, r: &Resource, inv: &Inventory, out: &mut crate::snapshot::WorldDoc);

    // ---- graph ----

    /// The steps that remove `r`, given its status; `Err` (why) when its status allows none.
    fn steps(&self, r: &Resource) -> Result<Vec<StepSpec>, String>;
    /// Kinds of separate resources (children of `r`) that block its deletion and need
    /// cascade, in the order they are listed.
    fn blockers(&self) -> &'static [Kind] {
        &[]
    }
    /// Kinds of children that go with it (no cascade needed).
    fn parts(&self) -> &'static [Kind] {
        &[]
    }
    /// How a resource of this kind relates to the one it blocks (`sits on`, `routes via`).
    fn relation(&self, _blocked: Kind) -> &'static str {
        "is attached to"
    }
    /// A note for the preview of `r` (what its removal withdraws with it, an unusual
    /// binding), or `None`.
    fn note(&self, _r: &Resource) -> Option<String> {
        None
    }
    /// Why `r` can never be removed by decom, naming the documented code and who can act.
    fn unremovable(&self, _inv: &Inventory, _r: &Resource) -> Option<String> {
        None
    }
    /// Resources with the same serialisation scope are removed one at a time (IPsec
    /// connections of one VPN gateway).
    fn serial_scope(&self, _r: &Resource) -> Option<String> {
        None
    }
    /// What the steps on `r` are polled within ([`Step::scope`]): by default the transit
    /// router of a TR resource (its `transit_router` fact), else the resource's
    /// [`crate::discover::SCOPE`] fact (a VBR route's route table, an ECR, ...); a kind polled
    /// per route table names the table.
    fn step_scope(&self, r: &Resource) -> Option<String> {
        [r.fact("transit_router"), r.fact(crate::discover::SCOPE)]
            .into_iter()
            .find(|t| !t.is_empty())
            .map(str::to_string)
    }

    // ---- execution ----

    /// The deadline of one step on this kind (seconds: 10 minutes unless the kind is slow).
    fn deadline(&self) -> Duration {
        Duration::from_secs(10 * 60)
    }
    /// Expected seconds of a wait on this kind (critical-path priority of the scheduler).
    fn wait_weight(&self) -> u64 {
        30
    }
    /// How long a wait on this kind typically takes (the progress view's ETA, until the run
    /// has seen one finish): the [`wait_weight`](KindSpec::wait_weight) unless a kind says
    /// otherwise.
    fn expected_transition(&self) -> Duration {
        Duration::from_secs(self.wait_weight())
    }
    /// Send the step's mutating call with `token` (ignored by calls without a ClientToken).
    /// Errors: the API's, or [`no_call`] for an action the kind has no call for.
    fn mutate<'a>(
        &'a self,
        w: &'a WriteClient,
        step: &'a Step,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), CallError>>;
    /// After an error, does `state` (a probe's status, or `gone`) show that `action`
    /// nevertheless took effect?
    fn already_applied(&self, action: Action, state: &str) -> bool;
    /// The API operation that polls a wait on this kind.
    fn poll_action(&self, step: &Step) -> &'static str;
    /// The key of the coalesced scope a step is polled in ([`PollScope::key`]).
    fn poll_scope(&self, step: &Step) -> String {
        step.resource.clone()
    }
    /// True when [`KindSpec::poll_list`] answers polls (one call for many waits).
    fn listable(&self) -> bool {
        false
    }
    /// How many ids one filtered [`KindSpec::poll_list`] call takes (the API's filter
    /// values, 5), for kinds whose poll filters by several ids; 0 otherwise. The poller
    /// then asks by ids instead of walking the scope when that takes fewer calls.
    fn poll_ids_per_call(&self) -> usize {
        0
    }
    /// The states of resources in `scope`: by `ids` (batched where the API filters; one
    /// query per id when `one_by_one`) or the whole scope. Listable kinds only.
    fn poll_list<'a>(
        &'a self,
        _c: &'a ReadClient,
        _scope: &'a PollScope,
        _ids: Option<&'a [String]>,
        _one_by_one: bool,
    ) -> BoxFuture<'a, Result<Listing, CallError>> {
        Box::pin(async { Ok((HashMap::new(), 0)) })
    }
    /// The status of the step's resource (`gone` when it no longer exists), for kinds that
    /// are not listable. Errors: the API's (a `*.NotFound` means gone to the caller).
    fn probe<'a>(
        &'a self,
        _c: &'a ReadClient,
        _step: &'a Step,
    ) -> BoxFuture<'a, Result<String, CallError>> {
        Box::pin(async { Ok("gone".to_string()) })
    }
}

/// The error for a step whose action the kind has no call for.
pub fn no_call(step: &Step) -> CallError {
    CallError::Decode {
        action: format!("{} {}", step.action, step.kind),
        status: 0,
        excerpt: "decom has no call for this step".into(),
    }
}

/// The order discovery runs the kinds in: waves of kinds that run concurrently, each wave
/// after every wave before it. Kind `k` runs after an earlier kind `j` (registry order) when
/// their reads and writes conflict: `k` reads or writes what `j` writes
/// ([`KindSpec::completes`] and `j` itself), or writes what `j` reads
/// ([`KindSpec::discovered_from`]); a kind that does not say what it reads runs after every
/// kind before it; kinds that do not discover ([`KindSpec::discovers`]) are in the
/// first wave. Shape: `waves[i]` in registry order; every kind exactly once.
pub fn discovery_waves() -> Vec<Vec<Kind>> {
    let writes = |k: Kind| -> Vec<Kind> {
        std::iter::once(k)
            .chain(k.spec().completes().iter().copied())
            .collect()
    };
    let mut wave_of: Vec<usize> = Vec::with_capacity(Kind::ALL.len());
    for (i, &k) in Kind::ALL.iter().enumerate() {
        let reads = k.spec().discovered_from();
        let mut wave = 0;
        for (j, &earlier) in Kind::ALL[..i].iter().enumerate() {
            if !k.spec().discovers() || !earlier.spec().discovers() {
                continue;
            }
            let depends = match reads {
                None => true,
                Some(reads) => {
                    let (wj, wk) = (writes(earlier), writes(k));
                    wj.iter().any(|w| reads.contains(w) || wk.contains(w))
                        || earlier
                            .spec()
                            .discovered_from()
                            .is_none_or(|rj| wk.iter().any(|w| rj.contains(w)))
                }
            };
            if depends {
                wave = wave.max(wave_of[j] + 1);
            }
        }
        wave_of.push(wave);
    }
    let mut waves: Vec<Vec<Kind>> = vec![Vec::new(); wave_of.iter().max().map_or(0, |m| m + 1)];
    for (i, w) in wave_of.into_iter().enumerate() {
        waves[w].push(Kind::ALL[i]);
    }
    waves
}

/// Split a route-table link id `<attachment>/<route table>`.
pub fn link(id: &str) -> (&str, &str) {
    id.split_once('/').unwrap_or((id, ""))
}

/// How many resources of a kind in a region make listing the whole region cheaper than
/// asking per id or per parent (5 filter values per call vs 50 items per page).
pub const LIST_ALL_THRESHOLD: usize = 25;
/// Run `f` over `items` all at once; results in input order. Errors: the first failure.
///
/// No cap of its own: the client bounds the requests on the wire ([`crate::api::MAX_IN_FLIGHT`])
/// and paces the actions the API throttles, and a cap here would let calls waiting for one
/// action's pace hold back every other action (at 20,000 resources one region's 900
/// `DescribeVbrHa` calls, paced at 4.75/s, kept the other region's waiting 80 s).
pub async fn concurrently<T, R, F, Fut>(items: Vec<T>, f: F) -> Result<Vec<R>, CallError>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<R, CallError>> + Send + 'static,
{
    let f = Arc::new(f);
    let mut set = tokio::task::JoinSet::new();
    for (i, item) in items.into_iter().enumerate() {
        let f = f.clone();
        set.spawn(async move { (i, f(item).await) });
    }
    let mut out: Vec<Option<R>> = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (i, r) = joined.expect("discovery task panicked");
        if out.len() <= i {
            out.resize_with(i + 1, || None);
        }
        out[i] = Some(r?);
    }
    Ok(out.into_iter().flatten().collect())
}

/// One listing per region, the regions concurrently ([`concurrently`]): `fetch(client,
/// region, items)` for every `(region, items)` of `regions`; results as `(region, items,
/// fetched)` in region order. Errors: the first failed listing.
pub async fn per_region<I, R, F, Fut>(
    cx: &Discovery,
    regions: std::collections::BTreeMap<String, I>,
    fetch: F,
) -> Result<Vec<(String, I, R)>, CallError>
where
    I: Clone + Send + 'static,
    R: Send + 'static,
    F: Fn(ReadClient, String, I) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<R, CallError>> + Send + 'static,
{
    let c = cx.client.clone();
    concurrently(
        regions.into_iter().collect(),
        move |(region, items): (String, I)| {
            let listing = fetch(c.clone(), region.clone(), items.clone());
            async move { Ok((region, items, listing.await?)) }
        },
    )
    .await
}

/// The resources of a region that hang off `parents` (VBRs), in the fewest calls the API
/// allows for kinds filtered by one parent per call: with more than [`LIST_ALL_THRESHOLD`]
/// parents the region-wide listing (`wide(usize::MAX)`); with one parent its own call; in
/// between, page 1 of the region-wide listing first (`wide(budget)`), kept when its
/// `TotalCount` shows the whole listing takes fewer calls than one per parent, else (or
/// when the listing is refused for permissions) one call per parent (`one(client, region, parent)`, concurrently). Items of other parents
/// are the caller's to drop. Errors: the first failed call.
pub async fn region_or_parents<T, W, WFut, O, OFut>(
    c: &ReadClient,
    region: &str,
    parents: Vec<String>,
    wide: W,
    one: O,
) -> Result<Vec<T>, CallError>
where
    T: Send + 'static,
    W: FnOnce(usize) -> WFut,
    WFut: std::future::Future<Output = Result<Option<Vec<T>>, CallError>>,
    O: Fn(ReadClient, String, String) -> OFut + Send + Sync + 'static,
    OFut: std::future::Future<Output = Result<Vec<T>, CallError>> + Send + 'static,
{
    let n = parents.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    if n > 1 {
        let budget = if n > LIST_ALL_THRESHOLD {
            usize::MAX
        } else {
            n - 1
        };
        if let Some(all) = wide(budget).await? {
            return Ok(all);
        }
    }
    let (c, region) = (c.clone(), region.to_string());
    Ok(
        concurrently(parents, move |p| one(c.clone(), region.clone(), p))
            .await?
            .into_iter()
            .flatten()
            .collect(),
    )
}

/// True for a refusal of the caller's permissions (HTTP 403, `Forbidden*`, the API's own
/// misspelling `Forbbiden*`, `*NoPermission*`).
pub fn is_permission_error(e: &CallError) -> bool {
    let code = e.code().unwrap_or("");
    e.api().is_some_and(|a| a.http_status == 403)
        || code.starts_with("Forbidden")
        || code.starts_with("Forbbiden")
        || code.contains("NoPermission")
}

/// Treat `*.NotFound` as "no such resource".
pub fn absent_ok<T>(r: Result<T, CallError>) -> Result<Option<T>, CallError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.class() == ErrorClass::Gone => Ok(None),
        Err(e) => Err(e),
    }
}

/// By-id resolution for kinds the API filters by several ids: one filtered listing (the ops
/// layer batches 5 ids per call), or with many ids one paged listing of the region.
pub async fn listed_by_ids(
    spec: &dyn KindSpec,
    cx: &Discovery,
    q: ListQuery<'_>,
    ids: Vec<String>,
) -> Result<Vec<Resource>, DiscoverError> {
    let many = ids.len() > LIST_ALL_THRESHOLD;
    let filter = if many { Vec::new() } else { ids.clone() };
    let wanted: BTreeSet<String> = ids.into_iter().collect();
    Ok(spec
        .list(cx, ListQuery { ids: &filter, ..q })
        .await?
        .into_iter()
        .filter(|r| wanted.contains(&r.id))
        .collect())
}

/// By-id resolution for kinds the API looks up one id at a time: with many ids, or when the
/// kind's region-wide listing takes fewer calls than the ids ([`KindSpec::listing_within`]),
/// one paged listing of the region, else `one` per id, concurrently.
pub async fn fetched_by_ids<F, Fut>(
    spec: &dyn KindSpec,
    cx: &Discovery,
    q: ListQuery<'_>,
    ids: Vec<String>,
    one: F,
) -> Result<Vec<Resource>, DiscoverError>
where
    F: Fn(ReadClient, String, String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<Resource>, CallError>> + Send + 'static,
{
    let region_wide = ids.len() > LIST_ALL_THRESHOLD
        || (ids.len() > 1 && spec.listing_within(cx, q.region, ids.len() - 1).await?);
    if region_wide {
        let wanted: BTreeSet<String> = ids.into_iter().collect();
        return Ok(spec
            .list(cx, ListQuery { ids: &[], ..q })
            .await?
            .into_iter()
            .filter(|r| wanted.contains(&r.id))
            .collect());
    }
    each_by_id(cx, q.region, ids, one).await
}

/// By-id resolution one id at a time, without the region-wide shortcut (kinds that cannot
/// be listed without a parent).
pub async fn each_by_id<F, Fut>(
    cx: &Discovery,
    region: &str,
    ids: Vec<String>,
    one: F,
) -> Result<Vec<Resource>, DiscoverError>
where
    F: Fn(ReadClient, String, String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<Resource>, CallError>> + Send + 'static,
{
    let (c, region) = (cx.client.clone(), region.to_string());
    let found = concurrently(ids, move |id| one(c.clone(), region.clone(), id)).await?;
    Ok(found.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn concurrently_lets_no_call_wait_behind_others_it_does_not_need() {
        // 1,000 calls of one action wait for a pace that comes only after the 50 calls of
        // another action have answered (as one region's paced DescribeVbrHa calls and the
        // other region's): with any cap below 1,050 the 50 would never start.
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let go = Arc::new(tokio::sync::Notify::new());
        let items: Vec<bool> = (0..1050).map(|i| i >= 1000).collect();
        let (d, g) = (done.clone(), go.clone());
        let run = concurrently(items, move |fast| {
            let (done, go) = (d.clone(), g.clone());
            async move {
                if fast {
                    if done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == 50 {
                        go.notify_waiters();
                    }
                } else {
                    let wait = go.notified();
                    if done.load(std::sync::atomic::Ordering::SeqCst) < 50 {
                        wait.await;
                    }
                }
                Ok(fast)
            }
        });
        let out = tokio::time::timeout(std::time::Duration::from_secs(5), run)
            .await
            .expect("the 50 calls ran beside the 1,000 waiting ones")
            .unwrap();
        assert_eq!(out.len(), 1050);
        assert!(out[1000..].iter().all(|f| *f), "results in input order");
    }

    #[test]
    fn plan_names_match_the_serde_names_and_prefixes_are_set() {
        for k in Kind::ALL {
            let serde = serde_json::to_value(k).unwrap();
            assert_eq!(serde.as_str(), Some(k.plan_name()));
            assert!(k.id_prefix().ends_with('-'), "{k}");
        }
    }

    #[test]
    fn discovery_waves_hold_every_kind_once_after_what_it_reads() {
        let waves = discovery_waves();
        let flat: Vec<Kind> = waves.iter().flatten().copied().collect();
        assert_eq!(flat.len(), Kind::ALL.len());
        for k in Kind::ALL {
            assert_eq!(flat.iter().filter(|x| *x == k).count(), 1, "{k}");
        }
        let wave = |k: Kind| waves.iter().position(|w| w.contains(&k)).unwrap();
        for &k in Kind::ALL.iter().filter(|k| k.spec().discovers()) {
            for r in k.spec().discovered_from().unwrap_or(Kind::ALL) {
                // What a kind reads was written before its wave, by the kind itself (its own
                // earlier writes are read back through `Found`) or by an earlier wave.
                for w in Kind::ALL.iter().filter(|w| {
                    w.spec().discovers()
                        && **w != k
                        && (**w == *r || w.spec().completes().contains(r))
                }) {
                    if Kind::ALL.iter().position(|x| x == w)
                        < Kind::ALL.iter().position(|x| *x == k)
                    {
                        assert!(wave(*w) < wave(k), "{k} reads {r}, which {w} writes");
                    }
                }
            }
        }
        // A prefetch reads only what its kind reads, and starts a wave or more earlier.
        for &k in Kind::ALL {
            let from = k.spec().prefetched_from();
            for f in from {
                let reads = k.spec().discovered_from().unwrap_or(Kind::ALL);
                assert!(
                    reads.contains(f) || f.spec().completes().iter().any(|c| reads.contains(c)),
                    "{k} prefetches from {f}, which it does not read"
                );
                assert!(wave(*f) < wave(k), "{k}'s prefetch waits for {f}");
            }
        }
        assert!(!Kind::VbrHa.spec().prefetched_from().is_empty());
        // The failover-group and health-check kinds read every kind that takes a VBR out of
        // a CEN or ECR (`vbr_ha::holders`).
        for k in [Kind::VbrHa, Kind::VbrHealthCheck] {
            let reads = k.spec().discovered_from().unwrap();
            for h in Kind::ALL
                .iter()
                .filter(|h| h.spec().blockers().contains(&k))
            {
                assert!(reads.contains(h), "{k} must read {h}");
            }
        }
    }

    #[test]
    fn route_entries_declare_the_prefix_list_associations_they_read_and_note() {
        // transit_router_route_entry::discover reads prefix-list associations and notes the
        // routes they generate on them (`note_route`).
        let s = Kind::TransitRouterRouteEntry.spec();
        assert!(
            s.discovered_from()
                .unwrap()
                .contains(&Kind::TransitRouterPrefixListAssociation)
        );
        assert!(
            s.completes()
                .contains(&Kind::TransitRouterPrefixListAssociation)
        );
    }

    #[test]
    fn plan_names_round_trip() {
        for k in Kind::targetable() {
            assert_eq!(Kind::from_plan_name(k.plan_name()), Some(k));
        }
        assert_eq!(Kind::from_plan_name("route_table_association"), None);
    }

    #[test]
    fn every_blocker_and_part_is_discovered_after_the_kind_it_blocks_is_known() {
        // A blocker's discover() runs after the blocked kind's resources exist: the blocked
        // kind is listed before it in the registry, or is a target kind.
        // A kind may be a part of itself (the inactive MACsec keys of a circuit go before
        // its active one): found in the same discover().
        for k in Kind::ALL {
            for b in k.spec().blockers().iter().chain(k.spec().parts()) {
                assert!(
                    Kind::ALL.iter().position(|x| x == k) < Kind::ALL.iter().position(|x| x == b)
                        || k == b
                        || k.spec().targetable(),
                    "{b} blocks {k}"
                );
            }
        }
    }
}
