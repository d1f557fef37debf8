//! The emulated account's live state: every resource with its status and links, and the
//! queue of pending asynchronous transitions (`Terminating` → `Terminated`, `Detaching` →
//! gone, ...), applied lazily whenever time has passed their deadline.

use std::collections::{BTreeMap, BTreeSet};

use tokio::time::Instant;

use super::world::{
    BgpGroup, PhysicalConnection, RouterInterface, Timings, TrAttachment, TrRouteEntry,
    TransitRouter, VirtualBorderRouter, VpnConnection, VpnGateway, World,
};

/// A transit-router attachment with its live route-table links.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The attachment as the world defined it (its `status` is kept current).
    pub spec: TrAttachment,
    /// Route table → association status (`Active`, `Dissociating`).
    pub associations: BTreeMap<String, String>,
    /// Route table → propagation status (`Active`, `Disabling`).
    pub propagations: BTreeMap<String, String>,
}

impl Attachment {
    /// `VBR` or `VPN`.
    pub fn resource_type(&self) -> &'static str {
        if self.spec.vbr.is_some() {
            "VBR"
        } else {
            "VPN"
        }
    }
    /// The attached resource's id.
    pub fn resource_id(&self) -> &str {
        self.spec
            .vbr
            .as_deref()
            .or(self.spec.vpn_connection.as_deref())
            .unwrap_or("")
    }
}

/// A state change scheduled for later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Set a circuit's status.
    PcStatus(String, &'static str),
    /// Set a VBR's status.
    VbrStatus(String, &'static str),
    /// Set a router interface's status.
    RiStatus(String, &'static str),
    /// Remove a TR attachment (end of `Detaching`).
    RemoveAttachment(String),
    /// Remove an association (end of `Dissociating`).
    RemoveAssociation(String, String),
    /// Remove a propagation (end of `Disabling`).
    RemovePropagation(String, String),
    /// Set a VPN gateway's status.
    GatewayStatus(String, &'static str),
}

/// Everything that exists in the emulated account.
#[derive(Debug)]
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
    /// TR attachments.
    pub attachments: BTreeMap<String, Attachment>,
    /// Custom TR route entries.
    pub route_entries: BTreeMap<String, TrRouteEntry>,
    /// VPN gateways.
    pub gateways: BTreeMap<String, VpnGateway>,
    /// IPsec connections.
    pub vpn_connections: BTreeMap<String, VpnConnection>,
    /// Pending transitions, applied by [`State::advance`].
    pending: Vec<(Instant, Effect)>,
}

fn by_id<T: Clone>(
    items: &[serde_saphyr::Spanned<T>],
    id: impl Fn(&T) -> &str,
) -> BTreeMap<String, T> {
    items
        .iter()
        .map(|s| (id(&s.value).to_string(), s.value.clone()))
        .collect()
}

impl State {
    /// The initial state of a (checked) world.
    pub fn new(world: &World) -> State {
        let mut trs = BTreeMap::new();
        let mut cens = BTreeMap::new();
        for c in &world.cens {
            cens.insert(c.value.id.clone(), c.value.name.clone());
            for tr in &c.value.transit_routers {
                trs.insert(tr.id.clone(), (c.value.id.clone(), tr.clone()));
            }
        }
        let attachments = world
            .transit_router_attachments
            .iter()
            .map(|a| {
                let spec = a.value.clone();
                let associations = spec
                    .associations
                    .iter()
                    .map(|v| (v.clone(), "Active".to_string()))
                    .collect();
                let propagations = spec
                    .propagations
                    .iter()
                    .map(|v| (v.clone(), "Active".to_string()))
                    .collect();
                (
                    spec.id.clone(),
                    Attachment {
                        spec,
                        associations,
                        propagations,
                    },
                )
            })
            .collect();
        let mut vbrs = by_id(&world.virtual_border_routers, |v| &v.id);
        for v in vbrs.values_mut() {
            v.status = v.status.to_ascii_lowercase();
        }
        State {
            account_id: world.account_id.clone(),
            regions: world.regions.iter().cloned().collect(),
            timings: world.timings.clone(),
            pcs: by_id(&world.physical_connections, |p| &p.id),
            vbrs,
            ris: by_id(&world.router_interfaces, |r| &r.id),
            bgp_groups: by_id(&world.bgp_groups, |g| &g.id),
            cens,
            trs,
            attachments,
            route_entries: by_id(&world.transit_router_route_entries, |e| &e.id),
            gateways: by_id(&world.vpn_gateways, |g| &g.id),
            vpn_connections: by_id(&world.vpn_connections, |c| &c.id),
            pending: Vec::new(),
        }
    }

    /// Schedule `effect` at `at`.
    pub fn schedule(&mut self, at: Instant, effect: Effect) {
        self.pending.push((at, effect));
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
            self.apply(effect);
        }
    }

    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::PcStatus(id, s) => {
                if let Some(pc) = self.pcs.get_mut(&id) {
                    pc.status = s.to_string();
                }
            }
            Effect::VbrStatus(id, s) => {
                if let Some(v) = self.vbrs.get_mut(&id) {
                    v.status = s.to_string();
                }
            }
            Effect::RiStatus(id, s) => {
                if let Some(r) = self.ris.get_mut(&id) {
                    r.status = s.to_string();
                }
            }
            Effect::RemoveAttachment(id) => {
                self.attachments.remove(&id);
            }
            Effect::RemoveAssociation(att, vtb) => {
                if let Some(a) = self.attachments.get_mut(&att) {
                    a.associations.remove(&vtb);
                }
            }
            Effect::RemovePropagation(att, vtb) => {
                if let Some(a) = self.attachments.get_mut(&att) {
                    a.propagations.remove(&vtb);
                }
            }
            Effect::GatewayStatus(id, s) => {
                if let Some(g) = self.gateways.get_mut(&id) {
                    g.status = s.to_string();
                }
            }
        }
    }

    /// Number of resources of every kind (for logs and the benchmark).
    pub fn resource_count(&self) -> usize {
        self.pcs.len()
            + self.vbrs.len()
            + self.ris.len()
            + self
                .bgp_groups
                .values()
                .map(|g| 1 + g.peers.len())
                .sum::<usize>()
            + self.attachments.len()
            + self.route_entries.len()
            + self.gateways.len()
            + self.vpn_connections.len()
    }

    /// The owner account of a VBR.
    pub fn vbr_owner<'a>(&'a self, vbr: &'a VirtualBorderRouter) -> &'a str {
        vbr.owner.as_deref().unwrap_or(&self.account_id)
    }

    /// The TR attachment of an IPsec connection, if it has one.
    pub fn attachment_of_vpn(&self, vco: &str) -> Option<&Attachment> {
        self.attachments
            .values()
            .find(|a| a.spec.vpn_connection.as_deref() == Some(vco))
    }

    /// Is this IPsec connection bound to a transit router (created as a VPN attachment)?
    pub fn is_tr_bound(&self, vco: &VpnConnection) -> bool {
        vco.vpn_gateway.is_none()
    }
}
