//! BGP groups and peers on VBRs (`bgpg-`, `bgp-`, alibaba-api.md §3.4): the `bgp_groups`
//! world section (groups with their peers), DescribeBgpGroups/Peers, DeleteBgpPeer and
//! DeleteBgpGroup (peers first).

use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use super::{EmulatedKind, by_id};
use crate::api::Product::Vpc;
use crate::emulator::ops::{Ctx, Operation, Res, fail, paged, region_checked};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, World};

/// The actions this kind serves, with the parameters each requires (the official SDKs
/// metadata; a request without one is refused like the API gateway does).
const OPERATIONS: &[Operation] = &[
    Operation::read(Vpc, "DescribeBgpGroups", &["RegionId"], describe_bgp_groups),
    Operation::read(Vpc, "DescribeBgpPeers", &["RegionId"], describe_bgp_peers),
    Operation::mutate(
        Vpc,
        "DeleteBgpPeer",
        &["RegionId", "BgpPeerId"],
        delete_bgp_peer,
    ),
    Operation::mutate(
        Vpc,
        "DeleteBgpGroup",
        &["RegionId", "BgpGroupId"],
        delete_bgp_group,
    ),
];

/// The BGP kind (groups and their peers).
pub struct Kind;

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &["bgp_groups"]
    }

    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>) {
        for g in &world.bgp_groups {
            cx.id(&g.referenced, &g.value.id, "bgpg-");
            cx.region(&g.referenced, &g.value.region);
            for p in &g.value.peers {
                cx.id(&g.referenced, &p.id, "bgp-");
            }
            cx.reference(&g.referenced, "vbr", &g.value.vbr);
        }
    }

    /// BGP groups and peers have no transitions: their deletes are synchronous.
    fn seed(&self, world: &World, st: &mut State, _now: Instant) {
        st.bgp_groups = by_id(&world.bgp_groups, |g| &g.id);
    }

    fn count(&self, st: &State) -> usize {
        st.bgp_groups
            .values()
            .map(|g| 1 + g.peers.len())
            .sum::<usize>()
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
}

/// A BGP group on a VBR, with its peers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BgpGroup {
    /// `bgpg-…`.
    pub id: String,
    /// Region.
    pub region: String,
    /// The VBR.
    pub vbr: String,
    /// Peer AS number.
    #[serde(default = "default_asn")]
    pub peer_asn: u64,
    /// Status (`Available` when stable).
    #[serde(default = "available")]
    pub status: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Peers of the group.
    #[serde(default)]
    pub peers: Vec<BgpPeer>,
}

fn default_asn() -> u64 {
    65001
}

/// A BGP peer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BgpPeer {
    /// `bgp-…`.
    pub id: String,
    /// Peer IP address.
    #[serde(default)]
    pub peer_ip: String,
    /// Status.
    #[serde(default = "available")]
    pub status: String,
}

fn available() -> String {
    "Available".into()
}

fn describe_bgp_groups(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let page = ctx.page()?;
    let router = ctx.get("RouterId");
    let group = ctx.get("BgpGroupId");
    let items = st.bgp_groups.values().filter(|g| {
        g.region == region && router.is_none_or(|r| r == g.vbr) && group.is_none_or(|x| x == g.id)
    });
    Ok(paged(items, page, "BgpGroups", "BgpGroup", |g| {
        json!({ "BgpGroupId": g.id, "Name": g.name, "RouterId": g.vbr, "PeerAsn": g.peer_asn.to_string(),
                    "LocalAsn": "45104", "Status": g.status, "RegionId": g.region, "IsFake": "false",
                    "Hold": "180", "Keepalive": "60", "IpVersion": "IPV4" })
    }))
}

fn describe_bgp_peers(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let page = ctx.page()?;
    let router = ctx.get("RouterId");
    let group = ctx.get("BgpGroupId");
    let peer = ctx.get("BgpPeerId");
    let items = st
        .bgp_groups
        .values()
        .filter(|g| {
            g.region == region
                && router.is_none_or(|r| r == g.vbr)
                && group.is_none_or(|x| x == g.id)
        })
        .flat_map(|g| g.peers.iter().map(move |p| (g, p)))
        .filter(|(_, p)| peer.is_none_or(|x| x == p.id));
    Ok(paged(items, page, "BgpPeers", "BgpPeer", |(g, p)| {
        json!({ "BgpPeerId": p.id, "BgpGroupId": g.id, "RouterId": g.vbr, "PeerIpAddress": p.peer_ip,
                    "PeerAsn": g.peer_asn.to_string(), "Status": p.status, "BgpStatus": "Established",
                    "RegionId": g.region })
    }))
}

fn delete_bgp_peer(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?.to_string();
    let id = ctx.req("BgpPeerId")?;
    let delay = st.timings.delete_bgp.0;
    for g in st.bgp_groups.values_mut().filter(|g| g.region == region) {
        if let Some(p) = g.peers.iter_mut().find(|p| p.id == id) {
            if p.status == "Deleting" {
                return Err(fail(
                    400,
                    "IncorrectStatus.BgpPeer",
                    "The BGP peer is being deleted.",
                ));
            }
            // Asynchronous (Terraform polls until gone): `Deleting`, then gone.
            p.status = "Deleting".into();
            let (group, peer) = (g.id.clone(), id.to_string());
            st.schedule(ctx.now + delay, move |st| {
                if let Some(g) = st.bgp_groups.get_mut(&group) {
                    g.peers.retain(|p| p.id != peer);
                }
            });
            return Ok(json!({}));
        }
    }
    Err(fail(
        404,
        "InvalidBgpPeerId.NotFound",
        "The specified BgpPeerId does not exist.",
    ))
}

fn delete_bgp_group(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?.to_string();
    let id = ctx.req("BgpGroupId")?;
    let Some(g) = st.bgp_groups.get(id).filter(|g| g.region == region) else {
        return Err(fail(
            404,
            "InvalidBgpGroupId.NotFound",
            "The specified BgpGroupId does not exist.",
        ));
    };
    if g.status != "Available" {
        return Err(fail(
            400,
            "IncorrectStatus.BgpGroup",
            "The BGP group is not in a stable state.",
        ));
    }
    // Not documented: whether peers block the group's deletion. decom's documented order is
    // "peers, then the group" (alibaba-api.md §12 step 4), so the emulator enforces it.
    if !g.peers.is_empty() {
        return Err(fail(
            400,
            "DependencyViolation.BgpPeer",
            "bgp peer exists, cannot delete bgp group.",
        ));
    }
    // Asynchronous (Terraform polls until gone; the VBR's delete answers
    // DependencyViolation.BgpGroup meanwhile): `Deleting`, then gone.
    let (delay, id) = (st.timings.delete_bgp.0, id.to_string());
    if let Some(g) = st.bgp_groups.get_mut(&id) {
        g.status = "Deleting".into();
    }
    st.schedule(ctx.now + delay, move |st| {
        st.bgp_groups.remove(&id);
    });
    Ok(json!({}))
}
