//! Discovery: find every plan target and everything that blocks its deletion, with the read
//! capability only (a [`ReadClient`] cannot mutate), following alibaba-api.md §12.
//!
//! Calls are batched where the API allows (filters take 5 values, pages hold 50) and run
//! concurrently; where many resources of one kind are needed in a region, discovery lists
//! the whole region once instead of asking per parent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::api::ops::{Tags, cbn, vpc};
use crate::api::{CallError, ErrorClass, ReadClient};
use crate::model::Kind;
use crate::plan::{Plan, Selector, Target};

/// A key that identifies one resource: its kind and id.
pub type Key = (Kind, String);

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
    fn new(kind: Kind, id: impl Into<String>, region: impl Into<String>) -> Self {
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

    /// Resources whose parent is `id` and whose kind is `kind`.
    pub fn children(&self, kind: Kind, parent: &str) -> impl Iterator<Item = &Resource> {
        self.resources
            .values()
            .filter(move |r| r.kind == kind && r.parent.as_deref() == Some(parent))
    }

    fn insert(&mut self, r: Resource) {
        self.resources.insert(r.key(), r);
    }
}

/// Discovery failures.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// An API call failed.
    #[error("discovery failed: {0}")]
    Api(#[from] CallError),
    /// A selector discovery cannot evaluate.
    #[error("{target}: {why}")]
    Selector {
        /// The target, as written.
        target: String,
        /// Why.
        why: String,
    },
}

/// How many resources of a kind in a region make listing the whole region cheaper than
/// asking per parent (5 filter values per call vs 50 items per page).
const LIST_ALL_THRESHOLD: usize = 25;
/// Circuits in one region above which VBRs are listed region-wide rather than per circuit.
const REGION_WIDE_CIRCUITS: usize = 10;
/// Concurrent discovery calls.
const CONCURRENCY: usize = 16;

/// Run `f` over `items` with at most [`CONCURRENCY`] at once; results in input order.
async fn concurrently<T, R, F, Fut>(items: Vec<T>, f: F) -> Result<Vec<R>, CallError>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<R, CallError>> + Send + 'static,
{
    let f = Arc::new(f);
    let sem = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut set = tokio::task::JoinSet::new();
    for (i, item) in items.into_iter().enumerate() {
        let (f, sem) = (f.clone(), sem.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            (i, f(item).await)
        });
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

/// Treat `*.NotFound` as "no such resource".
fn absent_ok<T>(r: Result<T, CallError>) -> Result<Option<T>, CallError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.class() == ErrorClass::Gone => Ok(None),
        Err(e) => Err(e),
    }
}

fn pc_resource(region: &str, p: &vpc::PhysicalConnection) -> Resource {
    let mut r = Resource::new(Kind::PhysicalConnection, &p.physical_connection_id, region);
    r.name = p.name.clone();
    r.status = p.status.clone();
    r.tags = p.tags.clone();
    r.facts.insert(
        "hosted_connections".into(),
        p.virtual_physical_connection_count.clone(),
    );
    r
}

fn vbr_resource(region: &str, v: &vpc::VirtualBorderRouter) -> Resource {
    let mut r = Resource::new(Kind::VirtualBorderRouter, &v.vbr_id, region);
    r.name = v.name.clone();
    r.status = v.status.to_ascii_lowercase();
    r.tags = v.tags.clone();
    r.parent = Some(v.physical_connection_id.clone());
    let cens: Vec<String> = v.cens().map(|c| c.cen_id.clone()).collect();
    if !cens.is_empty() {
        r.facts.insert("cens".into(), cens.join(","));
    }
    r
}

fn ri_resource(region: &str, i: &vpc::RouterInterface) -> Resource {
    let mut r = Resource::new(Kind::RouterInterface, &i.router_interface_id, region);
    r.name = i.name.clone();
    r.status = i.status.clone();
    r.parent = Some(i.router_id.clone());
    r.facts.insert("charge_type".into(), i.charge_type.clone());
    r.facts
        .insert("business_status".into(), i.business_status.clone());
    r
}

/// The fields both TR attachment kinds share.
struct TrAttachmentFields<'a> {
    kind: Kind,
    id: &'a str,
    transit_router: &'a str,
    status: &'a str,
    name: &'a str,
    tags: &'a Tags,
    /// The attached VBR or IPsec connection.
    parent: &'a str,
    region: &'a str,
}

fn tr_attachment_resource(f: TrAttachmentFields<'_>) -> Resource {
    let mut r = Resource::new(f.kind, f.id, f.region);
    r.status = f.status.to_string();
    r.name = f.name.to_string();
    r.tags = f.tags.clone();
    r.parent = (!f.parent.is_empty()).then(|| f.parent.to_string());
    r.facts
        .insert("transit_router".into(), f.transit_router.to_string());
    r
}

/// Discover the plan's targets and their blockers.
pub async fn discover(client: &ReadClient, plan: &Plan) -> Result<Inventory, DiscoverError> {
    let identity = crate::api::ops::sts::get_caller_identity(client).await?;
    let mut inv = Inventory {
        account: Some(identity.account_id)
            .filter(|a| !a.is_empty())
            .or_else(|| plan.account.clone()),
        ..Inventory::default()
    };
    resolve_targets(client, plan, &mut inv).await?;
    expand(client, &mut inv).await?;
    Ok(inv)
}

fn selector_target(t: &Target, why: &str) -> DiscoverError {
    DiscoverError::Selector {
        target: t.describe(),
        why: why.to_string(),
    }
}

async fn resolve_targets(
    client: &ReadClient,
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
    for ((kind, region), ids) in by_id {
        let target = plan
            .targets
            .iter()
            .find(|t| t.kind == kind)
            .expect("grouped from targets");
        let many = ids.len() > LIST_ALL_THRESHOLD;
        let found = match kind {
            // Filtered by id (5 per call), or with many ids one paged listing of the region,
            // which beats batches of 5.
            Kind::PhysicalConnection | Kind::VirtualBorderRouter | Kind::RouterInterface => {
                let filter = if many { Vec::new() } else { ids.clone() };
                let wanted: BTreeSet<String> = ids.into_iter().collect();
                list_kind(
                    client,
                    target,
                    kind,
                    &region,
                    &crate::plan::Match::default(),
                    &filter,
                )
                .await?
                .into_iter()
                .filter(|r| wanted.contains(&r.id))
                .collect()
            }
            Kind::BgpGroup | Kind::BgpPeer | Kind::VpnAttachment | Kind::VpnConnection if many => {
                let wanted: BTreeSet<String> = ids.into_iter().collect();
                list_kind(
                    client,
                    target,
                    kind,
                    &region,
                    &crate::plan::Match::default(),
                    &[],
                )
                .await?
                .into_iter()
                .filter(|r| wanted.contains(&r.id))
                .collect()
            }
            _ => fetch_by_ids(client, kind, &region, ids).await?,
        };
        for r in found {
            inv.insert(r);
        }
    }
    // Selectors: list the kind in the target's scope and match.
    for t in &plan.targets {
        if let Selector::Match(m) = &t.selector {
            let listed = list_for_selector(client, t).await?;
            for r in listed {
                if m.matches(&r.name, &r.tags) {
                    inv.insert(r);
                }
            }
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
                .resources
                .values()
                .filter(|r| r.kind == t.kind && (!t.kind.is_regional() || r.region == t.region))
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

/// Look resources up by id, for the kinds the API cannot filter by several ids (BGP, TR
/// attachments, IPsec connections); ids that do not exist are simply not returned.
async fn fetch_by_ids(
    client: &ReadClient,
    kind: Kind,
    region: &str,
    ids: Vec<String>,
) -> Result<Vec<Resource>, CallError> {
    let c = client.clone();
    let region_s = region.to_string();
    Ok(match kind {
        Kind::BgpGroup => {
            let groups = concurrently(ids, move |id| {
                let (c, region) = (c.clone(), region_s.clone());
                async move {
                    let f = vpc::BgpGroupFilter {
                        bgp_group_id: Some(id),
                        ..Default::default()
                    };
                    absent_ok(vpc::describe_bgp_groups(&c, &region, &f).await)
                        .map(Option::unwrap_or_default)
                }
            })
            .await?;
            groups
                .into_iter()
                .flatten()
                .map(|g| bgp_group_resource(region, &g))
                .collect()
        }
        Kind::BgpPeer => {
            let peers = concurrently(ids, move |id| {
                let (c, region) = (c.clone(), region_s.clone());
                async move {
                    let f = vpc::BgpPeerFilter {
                        bgp_peer_id: Some(id),
                        ..Default::default()
                    };
                    absent_ok(vpc::describe_bgp_peers(&c, &region, &f).await)
                        .map(Option::unwrap_or_default)
                }
            })
            .await?;
            peers
                .into_iter()
                .flatten()
                .map(|p| bgp_peer_resource(region, &p))
                .collect()
        }
        Kind::TransitRouterVbrAttachment | Kind::TransitRouterVpnAttachment => {
            let found = concurrently(ids, move |id| {
                let c = c.clone();
                let region = region_s.clone();
                async move {
                    let q = cbn::AttachmentQuery {
                        transit_router_attachment_id: Some(id),
                        ..Default::default()
                    };
                    let mut out = Vec::new();
                    if kind == Kind::TransitRouterVbrAttachment {
                        for a in absent_ok(cbn::list_transit_router_vbr_attachments(&c, &q).await)?
                            .unwrap_or_default()
                        {
                            out.push(vbr_attachment_resource(&a, &region));
                        }
                    } else {
                        for a in absent_ok(cbn::list_transit_router_vpn_attachments(&c, &q).await)?
                            .unwrap_or_default()
                        {
                            out.push(vpn_tr_attachment_resource(&a, &region));
                        }
                    }
                    Ok(out)
                }
            })
            .await?;
            found.into_iter().flatten().collect()
        }
        Kind::VpnAttachment => {
            let found = concurrently(ids, move |id| {
                let (c, region) = (c.clone(), region_s.clone());
                async move {
                    absent_ok(vpc::describe_vpn_attachments(&c, &region, Some(&id)).await)
                        .map(Option::unwrap_or_default)
                }
            })
            .await?;
            found
                .into_iter()
                .flatten()
                .filter(|a| a.is_bound_to_transit_router() || a.attach_type == "CEN")
                .map(|a| vpn_attachment_resource(region, &a))
                .collect()
        }
        Kind::VpnConnection => {
            let found = concurrently(ids, move |id| {
                let (c, region) = (c.clone(), region_s.clone());
                async move { absent_ok(vpc::describe_vpn_connection(&c, &region, &id).await) }
            })
            .await?;
            found
                .into_iter()
                .flatten()
                .filter(|v| !v.vpn_gateway_id.is_empty())
                .map(|v| vpn_connection_resource(region, &v))
                .collect()
        }
        // Circuits, VBRs and router interfaces are listed with an id filter (`list_kind`);
        // the route-table kinds are never targets.
        Kind::PhysicalConnection
        | Kind::VirtualBorderRouter
        | Kind::RouterInterface
        | Kind::RouteTableAssociation
        | Kind::RouteTablePropagation
        | Kind::TransitRouterRouteEntry => Vec::new(),
    })
}

fn bgp_group_resource(region: &str, g: &vpc::BgpGroup) -> Resource {
    let mut r = Resource::new(Kind::BgpGroup, &g.bgp_group_id, region);
    r.name = g.name.clone();
    r.status = g.status.clone();
    r.parent = Some(g.router_id.clone());
    r
}

fn bgp_peer_resource(region: &str, p: &vpc::BgpPeer) -> Resource {
    let mut r = Resource::new(Kind::BgpPeer, &p.bgp_peer_id, region);
    r.name = p.name.clone();
    r.status = p.status.clone();
    r.parent = Some(p.bgp_group_id.clone());
    r.facts.insert("vbr".into(), p.router_id.clone());
    r
}

fn vbr_attachment_resource(a: &cbn::TransitRouterVbrAttachment, fallback_region: &str) -> Resource {
    let region = if a.vbr_region_id.is_empty() {
        fallback_region
    } else {
        &a.vbr_region_id
    };
    tr_attachment_resource(TrAttachmentFields {
        kind: Kind::TransitRouterVbrAttachment,
        id: &a.transit_router_attachment_id,
        transit_router: &a.transit_router_id,
        status: &a.status,
        name: &a.transit_router_attachment_name,
        tags: &a.tags,
        parent: &a.vbr_id,
        region,
    })
}

fn vpn_tr_attachment_resource(
    a: &cbn::TransitRouterVpnAttachment,
    fallback_region: &str,
) -> Resource {
    let region = if a.vpn_region_id.is_empty() {
        fallback_region
    } else {
        &a.vpn_region_id
    };
    tr_attachment_resource(TrAttachmentFields {
        kind: Kind::TransitRouterVpnAttachment,
        id: &a.transit_router_attachment_id,
        transit_router: &a.transit_router_id,
        status: &a.status,
        name: &a.transit_router_attachment_name,
        tags: &a.tags,
        parent: &a.vpn_id,
        region,
    })
}

fn vpn_attachment_resource(region: &str, a: &vpc::VpnAttachment) -> Resource {
    let mut r = Resource::new(Kind::VpnAttachment, &a.instance_id, region);
    r.name = a.name.clone();
    r.status = "attached".into();
    r.tags = a.tags.clone();
    if !a.transit_router_id.is_empty() {
        r.facts
            .insert("transit_router".into(), a.transit_router_id.clone());
    }
    r
}

fn vpn_connection_resource(region: &str, v: &vpc::VpnConnection) -> Resource {
    let mut r = Resource::new(Kind::VpnConnection, &v.vpn_connection_id, region);
    r.name = v.name.clone();
    r.status = if v.state.is_empty() {
        "active".into()
    } else {
        v.state.clone()
    };
    r.tags = v.tags.clone();
    r.parent = Some(v.vpn_gateway_id.clone());
    r
}

/// Everything of a kind in a target's scope, for selector matching.
async fn list_for_selector(
    client: &ReadClient,
    t: &Target,
) -> Result<Vec<Resource>, DiscoverError> {
    let Selector::Match(m) = &t.selector else {
        return Ok(Vec::new());
    };
    list_kind(client, t, t.kind, &t.region, m, &[]).await
}

/// Every resource of `kind` in `region` within the scope of `m`'s link fields (`t` names
/// the target in errors); circuits, VBRs and router interfaces filtered by `ids` when given
/// (batched 5 per call by the ops layer).
async fn list_kind(
    client: &ReadClient,
    t: &Target,
    kind: Kind,
    region: &str,
    m: &crate::plan::Match,
    ids: &[String],
) -> Result<Vec<Resource>, DiscoverError> {
    Ok(match kind {
        Kind::PhysicalConnection => {
            let f = vpc::PhysicalConnectionFilter {
                physical_connection_ids: ids.to_vec(),
                ..Default::default()
            };
            vpc::describe_physical_connections(client, region, &f)
                .await?
                .iter()
                .map(|p| pc_resource(region, p))
                .collect()
        }
        Kind::VirtualBorderRouter => {
            let f = vpc::VbrFilter {
                vbr_ids: ids.to_vec(),
                physical_connection_ids: m.physical_connection.iter().cloned().collect(),
                include_cross_account: true,
                ..Default::default()
            };
            vpc::describe_virtual_border_routers(client, region, &f)
                .await?
                .iter()
                .map(|v| vbr_resource(region, v))
                .collect()
        }
        Kind::RouterInterface => {
            let f = vpc::RouterInterfaceFilter {
                router_interface_ids: ids.to_vec(),
                ..Default::default()
            };
            vpc::describe_router_interfaces(client, region, &f)
                .await?
                .iter()
                .map(|i| ri_resource(region, i))
                .collect()
        }
        Kind::BgpGroup => vpc::describe_bgp_groups(client, region, &Default::default())
            .await?
            .iter()
            .map(|g| bgp_group_resource(region, g))
            .collect(),
        Kind::BgpPeer => vpc::describe_bgp_peers(client, region, &Default::default())
            .await?
            .iter()
            .map(|p| bgp_peer_resource(region, p))
            .collect(),
        Kind::TransitRouterVbrAttachment | Kind::TransitRouterVpnAttachment => {
            let Some(tr) = &m.transit_router else {
                return Err(selector_target(
                    t,
                    "a transit-router attachment selector needs transit_router (the API lists attachments per transit router)",
                ));
            };
            let q = cbn::AttachmentQuery {
                transit_router_id: Some(tr.clone()),
                ..Default::default()
            };
            if kind == Kind::TransitRouterVbrAttachment {
                cbn::list_transit_router_vbr_attachments(client, &q)
                    .await?
                    .iter()
                    .map(|a| vbr_attachment_resource(a, region))
                    .collect()
            } else {
                cbn::list_transit_router_vpn_attachments(client, &q)
                    .await?
                    .iter()
                    .map(|a| vpn_tr_attachment_resource(a, region))
                    .collect()
            }
        }
        Kind::VpnAttachment => vpc::describe_vpn_attachments(client, region, None)
            .await?
            .iter()
            .map(|a| vpn_attachment_resource(region, a))
            .collect(),
        Kind::VpnConnection => {
            let f = vpc::VpnConnectionFilter {
                vpn_gateway_id: m.vpn_gateway.clone(),
                ..Default::default()
            };
            vpc::describe_vpn_connections(client, region, &f)
                .await?
                .iter()
                .filter(|v| !v.vpn_gateway_id.is_empty())
                .map(|v| vpn_connection_resource(region, v))
                .collect()
        }
        Kind::RouteTableAssociation
        | Kind::RouteTablePropagation
        | Kind::TransitRouterRouteEntry => Vec::new(),
    })
}

/// Add every blocker of every resource found so far, level by level (circuits → VBRs →
/// router interfaces, BGP, TR attachments → associations, propagations, routes), batching
/// each level.
async fn expand(client: &ReadClient, inv: &mut Inventory) -> Result<(), DiscoverError> {
    // Level 1: the VBRs on circuits, other accounts' included.
    // Few circuits in a region: DescribeVirtualBorderRoutersForPhysicalConnection per circuit
    // (it names each VBR's owner). Many: two region-wide listings of VBRs, without and with
    // IncludeCrossAccountVbr (the difference is other accounts' VBRs), and the per-circuit call
    // only for circuits that carry another account's VBR (for the owner's id).
    let mut pcs_by_region: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in inv
        .resources
        .values()
        .filter(|r| r.kind == Kind::PhysicalConnection)
    {
        pcs_by_region
            .entry(r.region.clone())
            .or_default()
            .insert(r.id.clone());
    }
    let mut per_pc: BTreeSet<(String, String)> = BTreeSet::new();
    for r in inv
        .resources
        .values()
        .filter(|r| r.kind == Kind::VirtualBorderRouter)
    {
        // The circuit of a VBR target, to learn the VBR's owner (its siblings are not added).
        if let Some(pc) = &r.parent {
            per_pc.insert((r.region.clone(), pc.clone()));
        }
    }
    for (region, pcs) in &pcs_by_region {
        if pcs.len() <= REGION_WIDE_CIRCUITS {
            per_pc.extend(pcs.iter().map(|pc| (region.clone(), pc.clone())));
            continue;
        }
        let own_filter = vpc::VbrFilter::default();
        let all_filter = vpc::VbrFilter {
            include_cross_account: true,
            ..Default::default()
        };
        let own: BTreeSet<String> =
            vpc::describe_virtual_border_routers(client, region, &own_filter)
                .await?
                .into_iter()
                .map(|v| v.vbr_id)
                .collect();
        for v in vpc::describe_virtual_border_routers(client, region, &all_filter).await? {
            let on_ours = v
                .physical_connection_ids()
                .into_iter()
                .find(|pc| pcs.contains(*pc));
            let Some(pc) = on_ours else { continue };
            let mut r = vbr_resource(region, &v);
            r.parent = Some(pc.to_string());
            if !own.contains(&v.vbr_id) {
                r.owner = Some("another account".into());
                // The owner's id only matters when decom cannot delete the VBR (it is not
                // `unconfirmed`): then the plan names who can.
                if !r.status.eq_ignore_ascii_case("unconfirmed") {
                    per_pc.insert((region.clone(), pc.to_string()));
                }
            }
            inv.insert(r);
        }
    }
    let c = client.clone();
    let on_pcs = concurrently(
        per_pc.into_iter().collect(),
        move |(region, pc): (String, String)| {
            let c = c.clone();
            async move {
                let list = absent_ok(
                    vpc::describe_virtual_border_routers_for_physical_connection(&c, &region, &pc)
                        .await,
                )?
                .unwrap_or_default();
                Ok((region, pc, list))
            }
        },
    )
    .await?;
    let mut vbrs_needing_details: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (region, pc, list) in on_pcs {
        let pc_known = inv.get(Kind::PhysicalConnection, &pc).is_some();
        for v in list {
            if !pc_known && inv.get(Kind::VirtualBorderRouter, &v.vbr_id).is_none() {
                continue;
            }
            let account = inv.account.clone();
            let foreign = account
                .as_deref()
                .is_some_and(|a| !v.vbr_owner_uid.is_empty() && v.vbr_owner_uid != a);
            let entry = inv
                .resources
                .entry((Kind::VirtualBorderRouter, v.vbr_id.clone()))
                .or_insert_with(|| Resource::new(Kind::VirtualBorderRouter, &v.vbr_id, &region));
            entry.status = v.status.to_ascii_lowercase();
            entry.parent = Some(pc.clone());
            if foreign {
                entry.owner = Some(v.vbr_owner_uid.clone());
            }
            // Names and tags (for protect rules) of every VBR, other accounts' included
            // (IncludeCrossAccountVbr shows them to the circuit owner).
            vbrs_needing_details
                .entry(region.clone())
                .or_default()
                .push(v.vbr_id.clone());
        }
    }
    for (region, ids) in vbrs_needing_details {
        let missing: Vec<String> = ids
            .into_iter()
            .filter(|id| {
                inv.get(Kind::VirtualBorderRouter, id).is_none_or(|r| {
                    r.name.is_empty() && r.tags.is_empty() && !r.facts.contains_key("cens")
                })
            })
            .collect();
        if missing.is_empty() {
            continue;
        }
        let f = vpc::VbrFilter {
            vbr_ids: missing,
            include_cross_account: true,
            ..Default::default()
        };
        for v in vpc::describe_virtual_border_routers(client, &region, &f).await? {
            let mut r = vbr_resource(&region, &v);
            if let Some(old) = inv.get(Kind::VirtualBorderRouter, &v.vbr_id) {
                r.owner = old.owner.clone();
                if old.parent.is_some() {
                    r.parent = old.parent.clone();
                }
            }
            inv.insert(r);
        }
    }

    // Level 2: router interfaces, BGP groups and peers, TR attachments of every VBR we may
    // delete (foreign VBRs are deleted as a whole by the circuit owner, or not at all).
    let mut vbrs_by_region: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in inv
        .resources
        .values()
        .filter(|r| r.kind == Kind::VirtualBorderRouter && r.owner.is_none())
    {
        vbrs_by_region
            .entry(r.region.clone())
            .or_default()
            .push(r.id.clone());
    }
    for (region, vbrs) in &vbrs_by_region {
        let wanted: BTreeSet<&str> = vbrs.iter().map(String::as_str).collect();
        let (ris, groups, peers) = if vbrs.len() > LIST_ALL_THRESHOLD {
            let ris = vpc::describe_router_interfaces(client, region, &Default::default()).await?;
            let groups = vpc::describe_bgp_groups(client, region, &Default::default()).await?;
            let peers = vpc::describe_bgp_peers(client, region, &Default::default()).await?;
            (ris, groups, peers)
        } else {
            let f = vpc::RouterInterfaceFilter {
                router_ids: vbrs.clone(),
                ..Default::default()
            };
            let ris = vpc::describe_router_interfaces(client, region, &f).await?;
            let c = client.clone();
            let reg = region.clone();
            let per_vbr = concurrently(vbrs.clone(), move |vbr| {
                let (c, region) = (c.clone(), reg.clone());
                async move {
                    let g = vpc::describe_bgp_groups(
                        &c,
                        &region,
                        &vpc::BgpGroupFilter {
                            router_id: Some(vbr.clone()),
                            ..Default::default()
                        },
                    )
                    .await?;
                    let p = if g.is_empty() {
                        Vec::new()
                    } else {
                        vpc::describe_bgp_peers(
                            &c,
                            &region,
                            &vpc::BgpPeerFilter {
                                router_id: Some(vbr),
                                ..Default::default()
                            },
                        )
                        .await?
                    };
                    Ok((g, p))
                }
            })
            .await?;
            let (groups, peers): (Vec<_>, Vec<_>) = per_vbr.into_iter().unzip();
            (
                ris,
                groups.into_iter().flatten().collect(),
                peers.into_iter().flatten().collect(),
            )
        };
        for i in ris.iter().filter(|i| wanted.contains(i.router_id.as_str())) {
            inv.insert(ri_resource(region, i));
        }
        for g in groups
            .iter()
            .filter(|g| wanted.contains(g.router_id.as_str()))
        {
            inv.insert(bgp_group_resource(region, g));
        }
        for p in peers
            .iter()
            .filter(|p| wanted.contains(p.router_id.as_str()))
        {
            inv.insert(bgp_peer_resource(region, p));
        }
    }
    // TR VBR attachments: per (CEN, region) of the VBRs that report an associated CEN.
    let mut cen_regions: BTreeSet<(String, String)> = BTreeSet::new();
    for r in inv
        .resources
        .values()
        .filter(|r| r.kind == Kind::VirtualBorderRouter && r.owner.is_none())
    {
        for cen in r.fact("cens").split(',').filter(|c| !c.is_empty()) {
            cen_regions.insert((cen.to_string(), r.region.clone()));
        }
    }
    let c = client.clone();
    let lists = concurrently(cen_regions.into_iter().collect(), move |(cen, region)| {
        let c = c.clone();
        async move {
            let q = cbn::AttachmentQuery {
                cen_id: Some(cen),
                region_id: Some(region.clone()),
                ..Default::default()
            };
            Ok((
                region,
                cbn::list_transit_router_vbr_attachments(&c, &q).await?,
            ))
        }
    })
    .await?;
    for (region, list) in lists {
        for a in list {
            if inv
                .get(Kind::VirtualBorderRouter, &a.vbr_id)
                .is_some_and(|v| v.owner.is_none())
            {
                inv.insert(vbr_attachment_resource(&a, &region));
            }
        }
    }
    // TR VPN attachments of TR-bound IPsec connections.
    let mut vpn_trs: BTreeMap<String, String> = BTreeMap::new();
    for r in inv
        .resources
        .values()
        .filter(|r| r.kind == Kind::VpnAttachment)
    {
        if !r.fact("transit_router").is_empty() {
            vpn_trs.insert(r.fact("transit_router").to_string(), r.region.clone());
        }
    }
    let c = client.clone();
    let lists = concurrently(vpn_trs.into_iter().collect(), move |(tr, region)| {
        let c = c.clone();
        async move {
            let q = cbn::AttachmentQuery {
                transit_router_id: Some(tr),
                ..Default::default()
            };
            Ok((
                region,
                cbn::list_transit_router_vpn_attachments(&c, &q).await?,
            ))
        }
    })
    .await?;
    for (region, list) in lists {
        for a in list {
            if inv.get(Kind::VpnAttachment, &a.vpn_id).is_some() {
                inv.insert(vpn_tr_attachment_resource(&a, &region));
            }
        }
    }

    // Level 3: associations, propagations and routes of every TR attachment. Routes that
    // point at an attachment can sit in any route table of its transit router, associated or
    // not: list every table of every transit router involved. Links are listed per route
    // table when a transit router has more of our attachments than tables (one call covers
    // them all), else per attachment.
    let atts: Vec<(String, String, String)> = inv
        .resources
        .values()
        .filter(|r| {
            matches!(
                r.kind,
                Kind::TransitRouterVbrAttachment | Kind::TransitRouterVpnAttachment
            )
        })
        .map(|r| {
            (
                r.id.clone(),
                r.region.clone(),
                r.fact("transit_router").to_string(),
            )
        })
        .collect();
    let routers: BTreeSet<String> = atts
        .iter()
        .map(|a| a.2.clone())
        .filter(|t| !t.is_empty())
        .collect();
    let c = client.clone();
    let router_tables = concurrently(routers.into_iter().collect(), move |tr: String| {
        let c = c.clone();
        async move {
            let tables = absent_ok(cbn::list_transit_router_route_tables(&c, &tr).await)?
                .unwrap_or_default();
            Ok((
                tr,
                tables
                    .into_iter()
                    .map(|t| t.transit_router_route_table_id)
                    .collect::<Vec<_>>(),
            ))
        }
    })
    .await?;
    let tables_of: BTreeMap<String, Vec<String>> = router_tables.into_iter().collect();
    let mut tables: BTreeSet<String> = tables_of.values().flatten().cloned().collect();
    let mut per_attachment: Vec<(String, String)> = Vec::new();
    let mut per_table: Vec<String> = Vec::new();
    let mut region_of: BTreeMap<String, String> = BTreeMap::new();
    for (tr, tr_tables) in &tables_of {
        let mine: Vec<&(String, String, String)> = atts.iter().filter(|a| &a.2 == tr).collect();
        if !tr_tables.is_empty() && mine.len() > tr_tables.len() {
            per_table.extend(tr_tables.iter().cloned());
        } else {
            per_attachment.extend(mine.iter().map(|a| (a.0.clone(), a.1.clone())));
        }
    }
    per_attachment.extend(
        atts.iter()
            .filter(|a| !tables_of.contains_key(&a.2))
            .map(|a| (a.0.clone(), a.1.clone())),
    );
    for (id, region, _) in &atts {
        region_of.insert(id.clone(), region.clone());
    }
    let queries: Vec<cbn::RouteTableLinkQuery> = per_attachment
        .iter()
        .map(|(att, _)| cbn::RouteTableLinkQuery {
            transit_router_attachment_id: Some(att.clone()),
            ..Default::default()
        })
        .chain(per_table.iter().map(|vtb| cbn::RouteTableLinkQuery {
            transit_router_route_table_id: Some(vtb.clone()),
            ..Default::default()
        }))
        .collect();
    let c = client.clone();
    let listed = concurrently(queries, move |q| {
        let c = c.clone();
        async move {
            let assoc = cbn::list_transit_router_route_table_associations(&c, &q).await?;
            let prop = cbn::list_transit_router_route_table_propagations(&c, &q).await?;
            Ok((assoc, prop))
        }
    })
    .await?;
    let mut by_attachment: BTreeMap<String, (Vec<cbn::RouteTableLink>, Vec<cbn::RouteTableLink>)> =
        BTreeMap::new();
    for (assoc, prop) in listed {
        for l in assoc {
            by_attachment
                .entry(l.transit_router_attachment_id.clone())
                .or_default()
                .0
                .push(l);
        }
        for l in prop {
            by_attachment
                .entry(l.transit_router_attachment_id.clone())
                .or_default()
                .1
                .push(l);
        }
    }
    let links: Vec<(
        String,
        String,
        Vec<cbn::RouteTableLink>,
        Vec<cbn::RouteTableLink>,
    )> = by_attachment
        .into_iter()
        .filter_map(|(att, (a, p))| region_of.get(&att).map(|r| (att.clone(), r.clone(), a, p)))
        .collect();
    for (att, region, assoc, prop) in links {
        for (kind, list) in [
            (Kind::RouteTableAssociation, assoc),
            (Kind::RouteTablePropagation, prop),
        ] {
            for l in list {
                let mut r = Resource::new(
                    kind,
                    format!("{att}/{}", l.transit_router_route_table_id),
                    &region,
                );
                r.status = l.status.clone();
                r.parent = Some(att.clone());
                r.facts.insert(
                    "route_table".into(),
                    l.transit_router_route_table_id.clone(),
                );
                tables.insert(l.transit_router_route_table_id.clone());
                inv.insert(r);
            }
        }
    }
    let c = client.clone();
    let routes = concurrently(tables.into_iter().collect(), move |vtb| {
        let c = c.clone();
        async move {
            Ok((
                vtb.clone(),
                cbn::list_transit_router_route_entries(&c, &vtb, Some("All")).await?,
            ))
        }
    })
    .await?;
    for (vtb, list) in routes {
        for e in list {
            let next = e.transit_router_route_entry_next_hop_id.clone();
            let Some(att) = inv
                .resources
                .values()
                .find(|r| {
                    matches!(
                        r.kind,
                        Kind::TransitRouterVbrAttachment | Kind::TransitRouterVpnAttachment
                    ) && r.id == next
                })
                .cloned()
            else {
                continue;
            };
            if e.transit_router_route_entry_type
                .eq_ignore_ascii_case("Propagated")
            {
                continue;
            }
            let mut r = Resource::new(
                Kind::TransitRouterRouteEntry,
                &e.transit_router_route_entry_id,
                &att.region,
            );
            r.name = e.transit_router_route_entry_name.clone();
            r.status = e.transit_router_route_entry_status.clone();
            r.parent = Some(att.id.clone());
            r.facts.insert("route_table".into(), vtb.clone());
            r.facts.insert(
                "destination".into(),
                e.transit_router_route_entry_destination_cidr_block.clone(),
            );
            inv.insert(r);
        }
    }
    Ok(())
}
