//! Generated worlds: realistic estates of any size from a seed, for property tests and the
//! benchmark. Every blocker type appears: VBRs (own and other accounts'), router interfaces,
//! BGP groups with peers, TR VBR attachments with associations, propagations and routes,
//! TR-bound IPsec connections (some unbound, some in transitional states), prefix-list
//! associations and system routes via attachments, VPN gateways with several connections;
//! VBRs on a second circuit, attached to an Express Connect Router or a Basic-Edition CEN,
//! with custom routes via their router interfaces, BGP networks and NQA probes; with
//! `awkward`, VBRs attached to another account's CEN (Enterprise or Basic) or ECR and
//! financially locked connections;
//! VBR failover groups and CEN health checks, MACsec keys, tenants' hosted connections (with
//! their VBRs).

use std::collections::BTreeMap;

use serde_saphyr::{Location, Spanned};

use super::world::{
    AccessKey, BgpGroup, BgpNetwork, BgpPeer, Cen, CenChildInstance, Dur, EcrChild,
    ExpressConnectRouter, Faults, MacsecKey, Nqa, PhysicalConnection, PrefixListAssociation,
    RateLimits, RouterInterface, Timings, TrAttachment, TrRouteEntry, TransitRouter, VbrHa,
    VbrHealthCheck, VbrRouteEntry, VirtualBorderRouter, VpnConnection, VpnGateway, World,
};

/// The account of generated worlds.
pub const ACCOUNT: &str = "1234567890123456";
/// Another account (owner of foreign VBRs).
pub const OTHER_ACCOUNT: &str = "9876543210987654";
/// Regions of generated worlds.
pub const REGIONS: [&str; 2] = ["cn-shanghai", "cn-hangzhou"];

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Gen(u64);

impl Gen {
    /// Seeded.
    pub fn new(seed: u64) -> Gen {
        Gen(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn s<T>(value: T) -> Spanned<T> {
    Spanned::new(value, Location::UNKNOWN, Location::UNKNOWN)
}

/// Shape of a generated world.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Number of circuits.
    pub circuits: usize,
    /// Max VBRs per circuit.
    pub max_vbrs: u64,
    /// Number of VPN gateways (each with 1–3 connections).
    pub gateways: usize,
    /// Number of TR-bound IPsec connections.
    pub tr_ipsec: usize,
    /// Probability that a resource carries `env: prod`.
    pub prod_share: f64,
    /// Include states decom cannot act on (foreign active VBRs, prepaid interfaces, tenants'
    /// active VBRs on hosted connections, tenant-side hosted connections, Allocating
    /// circuits).
    pub awkward: bool,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            circuits: 6,
            max_vbrs: 3,
            gateways: 2,
            tr_ipsec: 3,
            prod_share: 0.1,
            awkward: true,
        }
    }
}

/// Generate a world.
pub fn generate(seed: u64, shape: &Shape) -> World {
    let mut g = Gen::new(seed);
    let mut w = World {
        account_id: ACCOUNT.into(),
        access_keys: vec![AccessKey {
            id: "GENKEY".into(),
            secret: "gen-secret".into(),
            security_token: None,
            user: None,
        }],
        regions: REGIONS.iter().map(|r| r.to_string()).collect(),
        timings: Timings::default(),
        rate_limits: RateLimits::default(),
        faults: Faults::default(),
        physical_connections: vec![],
        virtual_border_routers: vec![],
        router_interfaces: vec![],
        bgp_groups: vec![],
        cens: vec![],
        transit_router_attachments: vec![],
        transit_router_route_entries: vec![],
        transit_router_prefix_list_associations: vec![],
        vpn_gateways: vec![],
        vpn_connections: vec![],
        sts: Default::default(),
        express_connect_routers: vec![],
        cen_child_instances: vec![],
        vbr_route_entries: vec![],
        bgp_networks: vec![],
        nqas: vec![],
        vbr_failover_groups: vec![],
        cen_vbr_health_checks: vec![],
    };
    let tags = |g: &mut Gen| -> BTreeMap<String, String> {
        let mut t = BTreeMap::new();
        if g.chance(shape.prod_share) {
            t.insert("env".to_string(), "prod".to_string());
        } else {
            t.insert("env".to_string(), "test".to_string());
        }
        t
    };
    // One CEN with a transit router and route table per region.
    let trs: Vec<TransitRouter> = REGIONS
        .iter()
        .enumerate()
        .map(|(i, r)| TransitRouter {
            id: format!("tr-gen{i:04}"),
            region: r.to_string(),
            name: format!("tr-{r}"),
            route_tables: vec![format!("vtb-gen{i:04}")],
        })
        .collect();
    w.cens.push(s(Cen {
        id: "cen-gen0000".into(),
        name: "generated".into(),
        transit_routers: trs.clone(),
        owner: None,
        owner_visible: true,
    }));
    // Another account's CEN (awkward worlds): own VBRs attached to it are blocked. Its
    // owner is reported by the VBRs in one region and hidden in the other.
    let foreign_trs: Vec<TransitRouter> = REGIONS
        .iter()
        .enumerate()
        .map(|(i, r)| TransitRouter {
            id: format!("tr-genx{i:04}"),
            region: r.to_string(),
            name: format!("tr-other-{r}"),
            route_tables: vec![format!("vtb-genx{i:04}")],
        })
        .collect();
    if shape.awkward {
        for (i, tr) in foreign_trs.iter().enumerate() {
            w.cens.push(s(Cen {
                id: format!("cen-genx{i:04}"),
                name: "other account".into(),
                transit_routers: vec![tr.clone()],
                owner: Some(OTHER_ACCOUNT.into()),
                owner_visible: i == 0,
            }));
        }
    }
    let mut n_pl = 0usize;
    let mut n_att = 0usize;
    let mut n_rte = 0usize;
    // Issue 11, part A: an ECR and a Basic-Edition CEN of this account (and, when awkward,
    // of another account); circuits per region for VBRs that ride a second one.
    let mut ecr = ExpressConnectRouter {
        id: "ecr-gen0000".into(),
        owner: None,
        name: "generated".into(),
        vbrs: vec![],
    };
    let mut foreign_ecr = ExpressConnectRouter {
        id: "ecr-genforeign".into(),
        owner: Some(OTHER_ACCOUNT.into()),
        name: "partner".into(),
        vbrs: vec![],
    };
    w.cens.push(s(Cen {
        id: "cen-genbasic".into(),
        name: "basic".into(),
        transit_routers: vec![],
        owner: None,
        owner_visible: true,
    }));
    let mut circuits_in: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    // Own VBRs attached to each region's transit router (failover groups, health checks).
    let mut attached: Vec<Vec<String>> = vec![Vec::new(); REGIONS.len()];
    for c in 0..shape.circuits {
        let ri = g.below(REGIONS.len() as u64) as usize;
        let region = REGIONS[ri];
        let mut statuses = vec![
            "Enabled",
            "Enabled",
            "Enabled",
            "Enabled",
            "Confirmed",
            "Terminated",
            "Canceled",
            "Rejected",
        ];
        if shape.awkward {
            statuses.push("Allocating");
        }
        let pc_id = format!("pc-gen{c:05}");
        let status = g.pick(&statuses).to_string();
        // MACsec keys on 10% of the circuits: one to three, the first one active.
        let macsec_keys: Vec<MacsecKey> = if g.chance(0.1) {
            (0..=g.below(3))
                .map(|k| MacsecKey {
                    ckn: format!("{:032x}", (c as u128) << 8 | k as u128),
                    status: if k == 0 {
                        "Associated"
                    } else {
                        "Disassociated"
                    }
                    .into(),
                    cipher_suite: "gcm-aes-xpn-128".into(),
                })
                .collect()
        } else {
            vec![]
        };
        // A tenant-side hosted connection (only its partner can delete it): awkward.
        let tenant_side = shape.awkward && g.chance(0.03);
        w.physical_connections.push(s(PhysicalConnection {
            id: pc_id.clone(),
            region: region.into(),
            name: format!("circuit-{c}"),
            status,
            tags: tags(&mut g),
            macsec: false,
            macsec_keys,
            parent_physical_connection: tenant_side.then(|| format!("pc-partner{c:05}")),
            parent_owner: tenant_side.then(|| OTHER_ACCOUNT.to_string()),
            owner: None,
            vpconn_status: "Confirmed".into(),
            line_operator: "CT".into(),
            access_point: "ap-gen".into(),
            bandwidth: 1000,
        }));
        // Hosted connections of tenants on 8% of the dedicated circuits; a tenant's VBR on
        // one is unconfirmed (the partner may delete it) or, when awkward, active (only the
        // tenant can).
        if !tenant_side && g.chance(0.08) {
            for h in 0..=g.below(2) {
                let hc = format!("pc-gen{c:05}h{h}");
                w.physical_connections.push(s(PhysicalConnection {
                    id: hc.clone(),
                    region: region.into(),
                    name: format!("hosted-{c}-{h}"),
                    status: "Enabled".into(),
                    tags: BTreeMap::new(),
                    macsec: false,
                    macsec_keys: vec![],
                    parent_physical_connection: Some(pc_id.clone()),
                    parent_owner: None,
                    owner: Some(OTHER_ACCOUNT.to_string()),
                    vpconn_status: "Confirmed".into(),
                    line_operator: "CT".into(),
                    access_point: "ap-gen".into(),
                    bandwidth: 50,
                }));
                if g.chance(0.3) {
                    let active = shape.awkward && g.chance(0.5);
                    w.virtual_border_routers.push(s(VirtualBorderRouter {
                        id: format!("vbr-gen{c:05}h{h}"),
                        region: region.into(),
                        physical_connection: hc,
                        owner: Some(OTHER_ACCOUNT.to_string()),
                        status: if active { "active" } else { "unconfirmed" }.into(),
                        name: format!("tenant-{c}-{h}"),
                        tags: BTreeMap::new(),
                        vlan_id: 300 + h as u32,
                        associated_physical_connections: Vec::new(),
                        leaving: Default::default(),
                    }));
                }
            }
        }
        let vbrs = g.below(shape.max_vbrs + 1);
        for v in 0..vbrs {
            let vbr_id = format!("vbr-gen{c:05}x{v}");
            let foreign = g.chance(0.1);
            let status = if foreign {
                if shape.awkward && g.chance(0.3) {
                    "active"
                } else {
                    "unconfirmed"
                }
            } else {
                *g.pick(&["active", "active", "active", "terminated", "unconfirmed"])
            };
            // A further circuit (an earlier one of the region) for some own VBRs.
            let second = circuits_in
                .get(region)
                .filter(|_| !foreign && g.chance(0.08))
                .map(|pcs| g.pick(pcs).clone());
            w.virtual_border_routers.push(s(VirtualBorderRouter {
                id: vbr_id.clone(),
                region: region.into(),
                physical_connection: pc_id.clone(),
                owner: foreign.then(|| OTHER_ACCOUNT.to_string()),
                status: status.into(),
                name: format!("vbr-{c}-{v}"),
                tags: tags(&mut g),
                vlan_id: (100 + v) as u32,
                associated_physical_connections: second.into_iter().collect(),
                leaving: Default::default(),
            }));
            if foreign {
                continue;
            }
            if g.chance(0.1) {
                ecr.vbrs.push(EcrChild {
                    vbr: vbr_id.clone(),
                    status: "ACTIVE".into(),
                });
            } else if shape.awkward && g.chance(0.02) {
                foreign_ecr.vbrs.push(EcrChild {
                    vbr: vbr_id.clone(),
                    status: "ACTIVE".into(),
                });
            }
            if g.chance(0.2) {
                for k in 0..=g.below(2) {
                    w.bgp_networks.push(s(BgpNetwork {
                        vbr: vbr_id.clone(),
                        destination: format!(
                            "192.168.{}.0/24",
                            (c * 4 + v as usize + k as usize) % 250
                        ),
                        status: "Available".into(),
                    }));
                }
            }
            if g.chance(0.1) {
                w.nqas.push(s(Nqa {
                    id: format!("nqa-gen{c:05}x{v}"),
                    vbr: vbr_id.clone(),
                    destination_ip: format!("10.{c}.{v}.9"),
                    status: "Available".into(),
                }));
            }
            let mut tr_attached = false;
            if g.chance(0.4) {
                let prepaid = shape.awkward && g.chance(0.05);
                let ri_id = format!("ri-gen{c:05}x{v}");
                for k in 0..g.below(3) {
                    if g.chance(0.5) {
                        w.vbr_route_entries.push(s(VbrRouteEntry {
                            id: format!("rte-genv{c:05}x{v}r{k}"),
                            vbr: vbr_id.clone(),
                            destination: format!("172.{}.{k}.0/24", 16 + (c % 16)),
                            next_hop: ri_id.clone(),
                            status: "Available".into(),
                        }));
                    }
                }
                w.router_interfaces.push(s(RouterInterface {
                    id: ri_id,
                    region: region.into(),
                    vbr: vbr_id.clone(),
                    status: g
                        .pick(&["Active", "Active", "Inactive", "Idle"])
                        .to_string(),
                    charge_type: if prepaid {
                        "PrePaid".into()
                    } else {
                        "PostPaid".into()
                    },
                    financial_locked: false,
                    name: String::new(),
                    opposite_router: "vrt-gen".into(),
                }));
            }
            if g.chance(0.4) {
                let peers = (0..g.below(3))
                    .map(|p| BgpPeer {
                        id: format!("bgp-gen{c:05}x{v}p{p}"),
                        peer_ip: format!("10.{c}.{v}.{p}"),
                        status: "Available".into(),
                    })
                    .collect();
                w.bgp_groups.push(s(BgpGroup {
                    id: format!("bgpg-gen{c:05}x{v}"),
                    region: region.into(),
                    vbr: vbr_id.clone(),
                    peer_asn: 65000 + c as u64,
                    status: "Available".into(),
                    name: String::new(),
                    peers,
                }));
            }
            if shape.awkward && g.chance(0.1) {
                w.transit_router_attachments.push(s(TrAttachment {
                    id: format!("tr-attach-gen{n_att:05}"),
                    transit_router: foreign_trs[ri].id.clone(),
                    vbr: Some(vbr_id.clone()),
                    vpn_connection: None,
                    status: "Attached".into(),
                    associations: vec![],
                    propagations: vec![],
                    name: String::new(),
                    tags: BTreeMap::new(),
                }));
                n_att += 1;
                continue;
            }
            if g.chance(0.35) {
                tr_attached = true;
                let att = format!("tr-attach-gen{n_att:05}");
                n_att += 1;
                attached[ri].push(vbr_id.clone());
                let vtb = trs[ri].route_tables[0].clone();
                if g.chance(0.15) {
                    w.transit_router_prefix_list_associations
                        .push(s(PrefixListAssociation {
                            prefix_list: format!("pl-gen{n_pl:05}"),
                            transit_router: trs[ri].id.clone(),
                            route_table: vtb.clone(),
                            next_hop: att.clone(),
                            status: if g.chance(0.2) { "Updating" } else { "Active" }.into(),
                            cidrs: (0..=g.below(2))
                                .map(|k| format!("10.{}.{k}.0/24", n_pl % 250))
                                .collect(),
                        }));
                    n_pl += 1;
                }
                if g.chance(0.1) {
                    w.transit_router_route_entries.push(s(TrRouteEntry {
                        id: format!("rte-gen{n_rte:05}"),
                        route_table: vtb.clone(),
                        destination: format!("192.168.{}.0/24", n_rte % 250),
                        next_hop: att.clone(),
                        system: true,
                        status: "Active".into(),
                    }));
                    n_rte += 1;
                }
                w.transit_router_attachments.push(s(TrAttachment {
                    id: att.clone(),
                    transit_router: trs[ri].id.clone(),
                    vbr: Some(vbr_id.clone()),
                    vpn_connection: None,
                    status: "Attached".into(),
                    associations: if g.chance(0.7) {
                        vec![vtb.as_str().into()]
                    } else {
                        vec![]
                    },
                    propagations: if g.chance(0.5) {
                        vec![vtb.as_str().into()]
                    } else {
                        vec![]
                    },
                    name: String::new(),
                    tags: BTreeMap::new(),
                }));
                if g.chance(0.3) {
                    w.transit_router_route_entries.push(s(TrRouteEntry {
                        id: format!("rte-gen{n_rte:05}"),
                        route_table: vtb,
                        destination: format!("172.16.{}.0/24", n_rte % 250),
                        next_hop: att,
                        system: false,
                        status: "Active".into(),
                    }));
                    n_rte += 1;
                }
            }
            if !tr_attached && g.chance(0.15) {
                let foreign_cen = shape.awkward && g.chance(0.2);
                w.cen_child_instances.push(s(CenChildInstance {
                    cen: "cen-genbasic".into(),
                    vbr: vbr_id.clone(),
                    status: "Attached".into(),
                    cen_owner: foreign_cen.then(|| OTHER_ACCOUNT.to_string()),
                }));
            }
        }
        circuits_in.entry(region).or_default().push(pc_id.clone());
    }
    w.express_connect_routers.push(s(ecr));
    if !foreign_ecr.vbrs.is_empty() {
        w.express_connect_routers.push(s(foreign_ecr));
    }
    // VBR failover groups over pairs of attached VBRs (30% of the pairs), and CEN health
    // checks on 25% of the attached VBRs.
    let mut n_ha = 0usize;
    for (ri, vbrs) in attached.iter().enumerate() {
        for pair in vbrs.chunks_exact(2) {
            if g.chance(0.3) {
                w.vbr_failover_groups.push(s(VbrHa {
                    id: format!("vbrha-gen{n_ha:05}"),
                    region: REGIONS[ri].into(),
                    vbr: pair[0].clone(),
                    peer_vbr: pair[1].clone(),
                    status: "Active".into(),
                    name: String::new(),
                }));
                n_ha += 1;
            }
        }
        for v in vbrs {
            if g.chance(0.25) {
                w.cen_vbr_health_checks.push(s(VbrHealthCheck {
                    cen: "cen-gen0000".into(),
                    vbr: v.clone(),
                    target_ip: "10.0.0.2".into(),
                    disabling: false,
                }));
            }
        }
    }
    for gw in 0..shape.gateways {
        let region = *g.pick(&REGIONS);
        let gw_id = format!("vpn-gen{gw:04}");
        w.vpn_gateways.push(s(VpnGateway {
            id: gw_id.clone(),
            region: region.into(),
            status: "active".into(),
            name: format!("gw-{gw}"),
        }));
        for c in 0..=g.below(3) {
            w.vpn_connections.push(s(VpnConnection {
                id: format!("vco-gengw{gw:04}x{c}"),
                region: region.into(),
                vpn_gateway: Some(gw_id.clone()),
                name: format!("office-{gw}-{c}"),
                tags: tags(&mut g),
                state: g.chance(0.1).then(|| "updating".to_string()),
            }));
        }
    }
    for t in 0..shape.tr_ipsec {
        let ri = g.below(REGIONS.len() as u64) as usize;
        let vco = format!("vco-gentr{t:04}");
        w.vpn_connections.push(s(VpnConnection {
            id: vco.clone(),
            region: REGIONS[ri].into(),
            vpn_gateway: None,
            name: format!("branch-{t}"),
            tags: tags(&mut g),
            state: if shape.awkward && g.chance(0.15) {
                Some("financialLocked".into())
            } else if g.chance(0.2) {
                Some((*g.pick(&["attaching", "updating", "provisioning"])).to_string())
            } else {
                None
            },
        }));
        if g.chance(0.9) {
            let att = format!("tr-attach-gen{n_att:05}");
            n_att += 1;
            w.transit_router_attachments.push(s(TrAttachment {
                id: att,
                transit_router: trs[ri].id.clone(),
                vbr: None,
                vpn_connection: Some(vco),
                status: "Attached".into(),
                associations: if g.chance(0.7) {
                    vec![trs[ri].route_tables[0].as_str().into()]
                } else {
                    vec![]
                },
                propagations: vec![],
                name: String::new(),
                tags: BTreeMap::new(),
            }));
        }
    }
    w
}

/// Zero-length transitions and no rate limits: for tests that only care about order.
pub fn instant(mut w: World) -> World {
    let z = Dur::default();
    w.timings = Timings {
        latency: z,
        terminate_physical_connection: z,
        cancel_physical_connection: z,
        terminate_vbr: z,
        deactivate_router_interface: z,
        detach_attachment: z,
        dissociate: z,
        disable_propagation: z,
        vpn_gateway_update: z,
        delete_route_entry: z,
        delete_prefix_list_association: z,
        vpn_connection_settle: z,
        unassociate_physical_connection: z,
        detach_ecr_child: z,
        detach_cen_child: z,
        delete_vbr_route_entry: z,
        delete_bgp_network: z,
        delete_vbr: z,
        delete_router_interface: z,
        delete_bgp: z,
        delete_vbr_ha: z,
        disable_health_check: z,
        disassociate_macsec_key: z,
    };
    w.rate_limits.enabled = false;
    w
}

/// Number of resources in a world (what the benchmark sizes by).
pub fn resource_count(w: &World) -> usize {
    w.physical_connections.len()
        + w.virtual_border_routers.len()
        + w.router_interfaces.len()
        + w.bgp_groups
            .iter()
            .map(|g| 1 + g.value.peers.len())
            .sum::<usize>()
        + w.transit_router_attachments
            .iter()
            .map(|a| 1 + a.value.associations.len() + a.value.propagations.len())
            .sum::<usize>()
        + w.transit_router_route_entries.len()
        + w.transit_router_prefix_list_associations.len()
        + w.vpn_gateways.len()
        + w.vpn_connections.len()
        + w.virtual_border_routers
            .iter()
            .map(|v| v.value.associated_physical_connections.len())
            .sum::<usize>()
        + w.express_connect_routers
            .iter()
            .map(|e| e.value.vbrs.len())
            .sum::<usize>()
        + w.cen_child_instances.len()
        + w.vbr_route_entries.len()
        + w.bgp_networks.len()
        + w.nqas.len()
        + w.physical_connections
            .iter()
            .map(|p| p.value.macsec_keys.len())
            .sum::<usize>()
        + w.vbr_failover_groups.len()
        + w.cen_vbr_health_checks.len()
}
