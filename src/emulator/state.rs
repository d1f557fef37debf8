//! The emulated account's live state: every resource with its status and links, and the
//! queue of pending asynchronous transitions (`Terminating` → `Terminated`, `Detaching` →
//! gone, ...), applied lazily whenever time has passed their deadline.
//!
//! Each store is seeded, counted and changed by its kind's module (`super::kinds`); the
//! transitions are closures those modules schedule, so this file knows no kind's rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use tokio::time::Instant;

use super::kinds::{self, prefix_list::PrefixListAssociationState, transit_router::Attachment};
use super::world::{
    BgpGroup, BgpNetwork, CenChildInstance, ExpressConnectRouter, Nqa, PhysicalConnection,
    RouterInterface, Timings, TrRouteEntry, TransitRouter, VbrHa, VbrHealthCheck, VbrRouteEntry,
    VirtualBorderRouter, VpnConnection, VpnGateway, World,
};

/// A state change scheduled for later (the end of an asynchronous transition).
pub type Effect = Box<dyn FnOnce(&mut State) + Send>;

/// Everything that exists in the emulated account.
#[derive(Default)]
pub struct State {
    /// The account that owns the resources.
    pub account_id: String,
    /// Regions that exist.
    pub regions: BTreeSet<String>,
    /// How long transitions take.
    pub timings: Timings,
    /// Circuits.
    pub pcs: BTreeMap<String, PhysicalConnection>,
    /// VBRs.
    pub vbrs: BTreeMap<String, VirtualBorderRouter>,
    /// Router interfaces.
    pub ris: BTreeMap<String, RouterInterface>,
    /// BGP groups, with their peers.
    pub bgp_groups: BTreeMap<String, BgpGroup>,
    /// CEN id → name.
    pub cens: BTreeMap<String, String>,
    /// Transit routers with their CEN id.
    pub trs: BTreeMap<String, (String, TransitRouter)>,
    /// TR attachments. Seeded, then only removed, with [`State::remove_attachment`], which
    /// keeps `attachments_by_resource` in step.
    pub attachments: BTreeMap<String, Attachment>,
    /// The ids of the TR attachments of each attached resource (VBR or IPsec connection id):
    /// the index of [`State::attachments_of_vbr`] and [`State::attachment_of_vpn`].
    pub attachments_by_resource: BTreeMap<String, BTreeSet<String>>,
    /// Custom TR route entries.
    pub route_entries: BTreeMap<String, TrRouteEntry>,
    /// VPN gateways.
    pub gateways: BTreeMap<String, VpnGateway>,
    /// IPsec connections.
    pub vpn_connections: BTreeMap<String, VpnConnection>,
    /// CEN id → owning account when not the world's.
    pub cen_owners: BTreeMap<String, Option<String>>,
    /// CENs whose owner VBRs do not report (`AssociatedCens[].CenOwnerId` left out).
    pub hidden_cen_owners: BTreeSet<String>,
    /// Prefix-list associations by `<pl>/<vtb>`.
    pub prefix_list_associations: BTreeMap<String, PrefixListAssociationState>,
    /// Express Connect Routers with their VBR children.
    pub ecrs: BTreeMap<String, ExpressConnectRouter>,
    /// Basic-Edition CEN children, by `<cen>/<vbr>`.
    pub cen_children: BTreeMap<String, CenChildInstance>,
    /// Custom routes of VBR route tables. Seeded, then only removed, with
    /// [`State::remove_vbr_route`], which keeps `vbr_routes_by_vbr` in step.
    pub vbr_routes: BTreeMap<String, VbrRouteEntry>,
    /// The ids of the custom routes of each VBR: the index of [`State::vbr_routes_of`].
    pub vbr_routes_by_vbr: BTreeMap<String, BTreeSet<String>>,
    /// BGP networks, by `<vbr>/<cidr>`.
    pub bgp_networks: BTreeMap<String, BgpNetwork>,
    /// NQA probes.
    pub nqas: BTreeMap<String, Nqa>,
    /// VBR failover groups.
    pub vbr_has: BTreeMap<String, VbrHa>,
    /// CEN VBR health checks, by `<cen>/<vbr>`.
    pub health_checks: BTreeMap<String, VbrHealthCheck>,
    /// Pending transitions, applied by [`State::advance`].
    pending: Vec<(Instant, Effect)>,
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("account_id", &self.account_id)
            .field("regions", &self.regions)
            .field("timings", &self.timings)
            .field("pcs", &self.pcs)
            .field("vbrs", &self.vbrs)
            .field("ris", &self.ris)
            .field("bgp_groups", &self.bgp_groups)
            .field("cens", &self.cens)
            .field("trs", &self.trs)
            .field("attachments", &self.attachments)
            .field("attachments_by_resource", &self.attachments_by_resource)
            .field("route_entries", &self.route_entries)
            .field("gateways", &self.gateways)
            .field("vpn_connections", &self.vpn_connections)
            .field("cen_owners", &self.cen_owners)
            .field("prefix_list_associations", &self.prefix_list_associations)
            .field("ecrs", &self.ecrs)
            .field("cen_children", &self.cen_children)
            .field("vbr_routes", &self.vbr_routes)
            .field("vbr_routes_by_vbr", &self.vbr_routes_by_vbr)
            .field("bgp_networks", &self.bgp_networks)
            .field("nqas", &self.nqas)
            .field("vbr_has", &self.vbr_has)
            .field("health_checks", &self.health_checks)
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl State {
    /// The initial state of a (checked) world: every registered kind seeds its store.
    pub fn new(world: &World) -> State {
        let mut st = State {
            account_id: world.account_id.clone(),
            regions: world.regions.iter().cloned().collect(),
            timings: world.timings.clone(),
            ..State::default()
        };
        let now = Instant::now();
        for kind in kinds::KINDS {
            kind.seed(world, &mut st, now);
        }
        st
    }

    /// Schedule `effect` at `at`.
    pub fn schedule(&mut self, at: Instant, effect: impl FnOnce(&mut State) + Send + 'static) {
        self.pending.push((at, Box::new(effect)));
    }

    /// Apply every pending transition due at or before `now`, in deadline order.
    pub fn advance(&mut self, now: Instant) {
        if self.pending.iter().all(|(at, _)| *at > now) {
            return;
        }
        self.pending.sort_by_key(|(at, _)| *at);
        let split = self.pending.partition_point(|(at, _)| *at <= now);
        let due: Vec<(Instant, Effect)> = self.pending.drain(..split).collect();
        for (_, effect) in due {
            effect(self);
        }
    }

    /// Number of resources of every kind (for logs and the benchmark).
    pub fn resource_count(&self) -> usize {
        kinds::KINDS.iter().map(|k| k.count(self)).sum()
    }
}
