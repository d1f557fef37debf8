//! The world file: the emulated account (keys, regions), its resources with their states and
//! links, and the emulator's timings, rate limits and faults. Loading checks syntax, unknown
//! keys, id prefixes, duplicate ids and dangling references, and reports each with
//! `file:line:column`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

/// A duration written as `250ms`, `3s`, `2m` or `1h` (a bare number means seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dur(pub Duration);

impl Dur {
    /// Parse `250ms`, `1.5s`, `3s`, `2m`, `1h`, `0`.
    pub fn parse(s: &str) -> Result<Dur, String> {
        let s = s.trim();
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: f64 = num
            .parse()
            .map_err(|_| format!("invalid duration {s:?}: expected e.g. 250ms, 3s, 2m"))?;
        let secs = match unit.trim() {
            "ms" => n / 1000.0,
            "" | "s" => n,
            "m" | "min" => n * 60.0,
            "h" => n * 3600.0,
            other => {
                return Err(format!(
                    "invalid duration unit {other:?} in {s:?}: use ms, s, m or h"
                ));
            }
        };
        if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
            return Err(format!("duration {s:?} is out of range"));
        }
        Ok(Dur(Duration::from_secs_f64(secs)))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(f64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Dur::parse(&n.to_string()),
            Raw::S(s) => Dur::parse(&s),
        }
        .map_err(serde::de::Error::custom)
    }
}

fn ms(n: u64) -> Dur {
    Dur(Duration::from_millis(n))
}

/// How long things take. Defaults are small so the demo runs in seconds; a rehearsal of a
/// real estate sets real values (terminations take minutes in the cloud).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timings {
    /// Added to every request before it is answered.
    pub latency: Dur,
    /// `Enabled` → `Terminating` → `Terminated`.
    pub terminate_physical_connection: Dur,
    /// pre-enable states → `Canceled`.
    pub cancel_physical_connection: Dur,
    /// VBR `active` → `terminating` → `terminated`.
    pub terminate_vbr: Dur,
    /// Router interface `Active` → `Deactivating` → `Inactive`.
    pub deactivate_router_interface: Dur,
    /// TR attachment `Detaching` → gone.
    pub detach_attachment: Dur,
    /// Route-table association `Dissociating` → gone.
    pub dissociate: Dur,
    /// Route-table propagation `Disabling` → gone.
    pub disable_propagation: Dur,
    /// VPN gateway `updating` → `active` after DeleteVpnConnection.
    pub vpn_gateway_update: Dur,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            latency: ms(0),
            terminate_physical_connection: ms(1500),
            cancel_physical_connection: ms(500),
            terminate_vbr: ms(500),
            deactivate_router_interface: ms(500),
            detach_attachment: ms(1000),
            dissociate: ms(500),
            disable_propagation: ms(500),
            vpn_gateway_update: ms(800),
        }
    }
}

/// Per-(region, action) flow control.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    /// Off switch.
    pub enabled: bool,
    /// Multiplies every quota (10 = ten times the documented rate, for scaled-time runs).
    pub scale: f64,
    /// Per-action quota overrides: calls per 60 s.
    pub per_minute: BTreeMap<String, u32>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            enabled: true,
            scale: 1.0,
            per_minute: BTreeMap::new(),
        }
    }
}

/// A kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 503 `ServiceUnavailable`, nothing applied.
    Unavailable,
    /// 500 `InternalError`, nothing applied.
    InternalError,
    /// 400 `Throttling.User`, nothing applied.
    Throttling,
    /// The answer is delayed by `faults.latency`.
    Latency,
    /// The request is applied, then the connection is closed without an answer.
    LostResponse,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 5] = [
        FaultKind::Unavailable,
        FaultKind::InternalError,
        FaultKind::Throttling,
        FaultKind::Latency,
        FaultKind::LostResponse,
    ];
}

/// Seeded fault injection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Seed of the fault generator: the same seed and request sequence give the same faults.
    pub seed: u64,
    /// Probability (0..1) that a request gets a fault.
    pub rate: f64,
    /// Which kinds to draw from (all by default).
    pub kinds: Vec<FaultKind>,
    /// Extra delay of a `latency` fault.
    pub latency: Dur,
    /// Only these actions get faults (all when empty).
    pub actions: Vec<String>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            seed: 1,
            rate: 0.0,
            kinds: FaultKind::ALL.to_vec(),
            latency: ms(300),
            actions: Vec::new(),
        }
    }
}

/// An AccessKey the emulator accepts.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    /// AccessKeyId.
    pub id: String,
    /// AccessKeySecret.
    pub secret: String,
    /// When set, requests with this key must carry this STS token.
    #[serde(default)]
    pub security_token: Option<String>,
    /// The RAM user owning this key; the account's own (root) key when absent. Only RAM
    /// users (and assumed roles) may call STS `AssumeRole`.
    #[serde(default)]
    pub user: Option<String>,
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Tags: key → value.
pub type Tags = BTreeMap<String, String>;

/// An Express Connect circuit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhysicalConnection {
    /// `pc-…`.
    pub id: String,
    /// Region.
    pub region: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Status (alibaba-api.md §1.1): Initial, Approved, Allocating, Allocated, Confirmed,
    /// Enabled, Rejected, Canceled, AllocationFailed, Terminating, Terminated.
    #[serde(default = "enabled")]
    pub status: String,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// Hosted connections still on the circuit (block terminate and delete).
    #[serde(default)]
    pub hosted_connections: u32,
    /// A MACsec key still bound (blocks terminate).
    #[serde(default)]
    pub macsec: bool,
    /// Line operator.
    #[serde(default = "default_operator")]
    pub line_operator: String,
    /// Access point.
    #[serde(default = "default_access_point")]
    pub access_point: String,
    /// Bandwidth in Mbit/s.
    #[serde(default = "default_bandwidth")]
    pub bandwidth: u32,
}

fn enabled() -> String {
    "Enabled".into()
}
fn active() -> String {
    "active".into()
}
fn active_cap() -> String {
    "Active".into()
}
fn attached() -> String {
    "Attached".into()
}
fn available() -> String {
    "Available".into()
}
fn default_operator() -> String {
    "CT".into()
}
fn default_access_point() -> String {
    "ap-cn-hangzhou-xs-A".into()
}
fn default_bandwidth() -> u32 {
    1000
}

/// A virtual border router.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualBorderRouter {
    /// `vbr-…`.
    pub id: String,
    /// Region.
    pub region: String,
    /// The circuit it sits on.
    pub physical_connection: String,
    /// Owning account (the world's account when absent).
    #[serde(default)]
    pub owner: Option<String>,
    /// `unconfirmed`, `active`, `terminating`, `terminated`, `recovering`, `deleting`.
    #[serde(default = "active")]
    pub status: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// VLAN id.
    #[serde(default)]
    pub vlan_id: u32,
}

/// A router interface on a VBR.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterInterface {
    /// `ri-…`.
    pub id: String,
    /// Region.
    pub region: String,
    /// The VBR (router) it belongs to.
    pub vbr: String,
    /// `Idle`, `Active`, `Inactive`, `Activating`, `Deactivating`.
    #[serde(default = "active_cap")]
    pub status: String,
    /// `PostPaid` or `PrePaid` (prepaid ones cannot be deleted).
    #[serde(default = "postpaid")]
    pub charge_type: String,
    /// Custom route entries that use it as next hop (block deletion).
    #[serde(default)]
    pub route_entries: u32,
    /// Overdue bills (blocks deactivation).
    #[serde(default)]
    pub financial_locked: bool,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Opposite router id (e.g. a VPC router).
    #[serde(default)]
    pub opposite_router: String,
}

fn postpaid() -> String {
    "PostPaid".into()
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

/// A CEN instance with its transit routers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cen {
    /// `cen-…`.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Its transit routers.
    #[serde(default)]
    pub transit_routers: Vec<TransitRouter>,
}

/// An Enterprise-edition transit router.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitRouter {
    /// `tr-…`.
    pub id: String,
    /// Region.
    pub region: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Route tables (`vtb-…`).
    #[serde(default)]
    pub route_tables: Vec<String>,
}

/// A transit-router attachment of a VBR or an IPsec connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrAttachment {
    /// `tr-attach-…`.
    pub id: String,
    /// The transit router.
    pub transit_router: String,
    /// The attached VBR (VBR attachments).
    #[serde(default)]
    pub vbr: Option<String>,
    /// The attached IPsec connection (VPN attachments).
    #[serde(default)]
    pub vpn_connection: Option<String>,
    /// `Attaching`, `Attached`, `Detaching`.
    #[serde(default = "attached")]
    pub status: String,
    /// Route tables it is associated with.
    #[serde(default)]
    pub associations: Vec<String>,
    /// Route tables it propagates to.
    #[serde(default)]
    pub propagations: Vec<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
}

/// A custom transit-router route entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrRouteEntry {
    /// `rte-…`.
    pub id: String,
    /// Route table (`vtb-…`).
    pub route_table: String,
    /// Destination CIDR.
    pub destination: String,
    /// Next-hop attachment (`tr-attach-…`).
    pub next_hop: String,
}

/// A VPN gateway.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpnGateway {
    /// `vpn-…`.
    pub id: String,
    /// Region.
    pub region: String,
    /// `active`, `updating`, ...
    #[serde(default = "active")]
    pub status: String,
    /// Name.
    #[serde(default)]
    pub name: String,
}

/// An IPsec-VPN connection, bound to a VPN gateway or to a transit router.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpnConnection {
    /// `vco-…`.
    pub id: String,
    /// Region.
    pub region: String,
    /// The VPN gateway (gateway-bound connections).
    #[serde(default)]
    pub vpn_gateway: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
}

/// The whole world file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    /// The account that owns the resources (16 digits).
    pub account_id: String,
    /// Keys the emulator accepts; the first is printed by `emulator serve`.
    pub access_keys: Vec<AccessKey>,
    /// Regions that exist.
    pub regions: Vec<String>,
    /// Timings.
    #[serde(default)]
    pub timings: Timings,
    /// Rate limits.
    #[serde(default)]
    pub rate_limits: RateLimits,
    /// Faults.
    #[serde(default)]
    pub faults: Faults,
    /// Circuits.
    #[serde(default)]
    pub physical_connections: Vec<Spanned<PhysicalConnection>>,
    /// VBRs.
    #[serde(default)]
    pub virtual_border_routers: Vec<Spanned<VirtualBorderRouter>>,
    /// Router interfaces.
    #[serde(default)]
    pub router_interfaces: Vec<Spanned<RouterInterface>>,
    /// BGP groups (with peers).
    #[serde(default)]
    pub bgp_groups: Vec<Spanned<BgpGroup>>,
    /// CEN instances (with transit routers).
    #[serde(default)]
    pub cens: Vec<Spanned<Cen>>,
    /// TR VBR and VPN attachments.
    #[serde(default)]
    pub transit_router_attachments: Vec<Spanned<TrAttachment>>,
    /// Custom TR route entries.
    #[serde(default)]
    pub transit_router_route_entries: Vec<Spanned<TrRouteEntry>>,
    /// VPN gateways.
    #[serde(default)]
    pub vpn_gateways: Vec<Spanned<VpnGateway>>,
    /// IPsec connections.
    #[serde(default)]
    pub vpn_connections: Vec<Spanned<VpnConnection>>,
    /// STS roles, their trust and OIDC providers ([`super::sts`]).
    #[serde(default)]
    pub sts: super::sts::StsWorld,
}

/// A world file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.file, .problems))]
pub struct WorldError {
    /// The file (or `<input>`).
    pub file: String,
    /// Every problem found, with its position.
    pub problems: Vec<WorldProblem>,
}

/// One problem in a world file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldProblem {
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column (0 when unknown).
    pub column: u64,
    /// What is wrong.
    pub message: String,
}

fn render(file: &str, problems: &[WorldProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{file}:{}:{}: {}", p.line, p.column, p.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Statuses the world may give each kind (alibaba-api.md §1.1, §2.1, §3.1, §5.1).
const PC_STATUSES: &[&str] = &[
    "Initial",
    "Approved",
    "Allocating",
    "Allocated",
    "Confirmed",
    "Enabled",
    "Rejected",
    "Canceled",
    "AllocationFailed",
    "Allocation Failed",
    "Terminating",
    "Terminated",
];
const VBR_STATUSES: &[&str] = &[
    "unconfirmed",
    "active",
    "terminating",
    "terminated",
    "recovering",
    "deleting",
];
const RI_STATUSES: &[&str] = &["Idle", "Active", "Inactive", "Activating", "Deactivating"];
const ATTACHMENT_STATUSES: &[&str] = &["Attaching", "Attached", "Detaching"];

impl World {
    /// Parse and check a world file's text.
    pub fn parse(file: &str, text: &str) -> Result<World, WorldError> {
        let world: World = serde_saphyr::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            WorldError {
                file: file.to_string(),
                problems: vec![WorldProblem {
                    line,
                    column,
                    message: first_line(&e.to_string()),
                }],
            }
        })?;
        let problems = world.check();
        if problems.is_empty() {
            Ok(world)
        } else {
            Err(WorldError {
                file: file.to_string(),
                problems,
            })
        }
    }

    /// Read and check a world file.
    pub fn load(path: &std::path::Path) -> Result<World, WorldError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| WorldError {
            file: file.clone(),
            problems: vec![WorldProblem {
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
            }],
        })?;
        World::parse(&file, &text)
    }

    /// Referential and value checks; every problem with its position.
    fn check(&self) -> Vec<WorldProblem> {
        let mut problems = self.sts.check();
        let mut ids: BTreeSet<String> = BTreeSet::new();
        let regions: BTreeSet<&str> = self.regions.iter().map(String::as_str).collect();
        let mut push = |loc: &serde_saphyr::Location, message: String| {
            problems.push(WorldProblem {
                line: loc.line(),
                column: loc.column(),
                message,
            })
        };
        if self.access_keys.is_empty() {
            push(
                &serde_saphyr::Location::UNKNOWN,
                "access_keys: at least one key is required".into(),
            );
        }
        if self.account_id.is_empty() || !self.account_id.chars().all(|c| c.is_ascii_digit()) {
            push(
                &serde_saphyr::Location::UNKNOWN,
                format!("account_id {:?} must be digits", self.account_id),
            );
        }
        let mut id = |loc: &serde_saphyr::Location,
                      id: &str,
                      prefix: &str,
                      push: &mut dyn FnMut(&serde_saphyr::Location, String)| {
            if !id.starts_with(prefix) {
                push(loc, format!("id {id:?} must start with {prefix:?}"));
            }
            if !ids.insert(id.to_string()) {
                push(loc, format!("id {id:?} is defined twice"));
            }
        };
        let region_ok =
            |loc: &serde_saphyr::Location,
             r: &str,
             push: &mut dyn FnMut(&serde_saphyr::Location, String)| {
                if !regions.contains(r) {
                    push(
                        loc,
                        format!(
                            "region {r:?} is not in regions ({})",
                            self.regions.join(", ")
                        ),
                    );
                }
            };
        let status_ok =
            |loc: &serde_saphyr::Location,
             s: &str,
             allowed: &[&str],
             push: &mut dyn FnMut(&serde_saphyr::Location, String)| {
                if !allowed.iter().any(|a| a.eq_ignore_ascii_case(s)) {
                    push(
                        loc,
                        format!("status {s:?} is not one of {}", allowed.join(", ")),
                    );
                }
            };
        for pc in &self.physical_connections {
            id(&pc.referenced, &pc.value.id, "pc-", &mut push);
            region_ok(&pc.referenced, &pc.value.region, &mut push);
            status_ok(&pc.referenced, &pc.value.status, PC_STATUSES, &mut push);
        }
        for v in &self.virtual_border_routers {
            id(&v.referenced, &v.value.id, "vbr-", &mut push);
            region_ok(&v.referenced, &v.value.region, &mut push);
            status_ok(&v.referenced, &v.value.status, VBR_STATUSES, &mut push);
        }
        for r in &self.router_interfaces {
            id(&r.referenced, &r.value.id, "ri-", &mut push);
            region_ok(&r.referenced, &r.value.region, &mut push);
            status_ok(&r.referenced, &r.value.status, RI_STATUSES, &mut push);
        }
        for g in &self.bgp_groups {
            id(&g.referenced, &g.value.id, "bgpg-", &mut push);
            region_ok(&g.referenced, &g.value.region, &mut push);
            for p in &g.value.peers {
                id(&g.referenced, &p.id, "bgp-", &mut push);
            }
        }
        let mut route_tables = BTreeSet::new();
        for c in &self.cens {
            id(&c.referenced, &c.value.id, "cen-", &mut push);
            for tr in &c.value.transit_routers {
                id(&c.referenced, &tr.id, "tr-", &mut push);
                region_ok(&c.referenced, &tr.region, &mut push);
                for vtb in &tr.route_tables {
                    id(&c.referenced, vtb, "vtb-", &mut push);
                    route_tables.insert(vtb.clone());
                }
            }
        }
        for a in &self.transit_router_attachments {
            id(&a.referenced, &a.value.id, "tr-attach-", &mut push);
            status_ok(
                &a.referenced,
                &a.value.status,
                ATTACHMENT_STATUSES,
                &mut push,
            );
        }
        for e in &self.transit_router_route_entries {
            id(&e.referenced, &e.value.id, "rte-", &mut push);
        }
        for g in &self.vpn_gateways {
            id(&g.referenced, &g.value.id, "vpn-", &mut push);
            region_ok(&g.referenced, &g.value.region, &mut push);
        }
        for c in &self.vpn_connections {
            id(&c.referenced, &c.value.id, "vco-", &mut push);
            region_ok(&c.referenced, &c.value.region, &mut push);
        }
        // References: (where, what, target id).
        let mut refs: Vec<(serde_saphyr::Location, &str, &str)> = Vec::new();
        for v in &self.virtual_border_routers {
            refs.push((
                v.referenced,
                "physical_connection",
                &v.value.physical_connection,
            ));
        }
        for r in &self.router_interfaces {
            refs.push((r.referenced, "vbr", &r.value.vbr));
        }
        for g in &self.bgp_groups {
            refs.push((g.referenced, "vbr", &g.value.vbr));
        }
        for a in &self.transit_router_attachments {
            refs.push((a.referenced, "transit_router", &a.value.transit_router));
            match (&a.value.vbr, &a.value.vpn_connection) {
                (Some(v), None) => refs.push((a.referenced, "vbr", v)),
                (None, Some(v)) => refs.push((a.referenced, "vpn_connection", v)),
                _ => push(
                    &a.referenced,
                    "an attachment names exactly one of vbr or vpn_connection".into(),
                ),
            }
            for vtb in a.value.associations.iter().chain(&a.value.propagations) {
                refs.push((a.referenced, "route table", vtb));
            }
        }
        for e in &self.transit_router_route_entries {
            refs.push((e.referenced, "route_table", &e.value.route_table));
            refs.push((e.referenced, "next_hop", &e.value.next_hop));
        }
        for c in &self.vpn_connections {
            if let Some(g) = &c.value.vpn_gateway {
                refs.push((c.referenced, "vpn_gateway", g));
            }
        }
        for (loc, what, target) in refs {
            if !ids.contains(target) {
                push(
                    &loc,
                    format!("{what} {target:?} is not defined in this world"),
                );
            }
        }
        problems
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "account_id: \"1234567890123456\"\naccess_keys:\n  - { id: AK, secret: S }\nregions: [cn-hangzhou]\n";

    #[test]
    fn minimal_world_parses() {
        let w = World::parse("w.yaml", MINIMAL).unwrap();
        assert_eq!(w.account_id, "1234567890123456");
        assert_eq!(w.timings.terminate_physical_connection, ms(1500));
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let err = World::parse("w.yaml", "account_id: [\n").unwrap_err();
        assert!(err.problems[0].line >= 1, "{err}");
        assert!(err.to_string().starts_with("w.yaml:"), "{err}");
    }

    #[test]
    fn unknown_key_is_located() {
        let text = format!(
            "{MINIMAL}physical_connections:\n  - id: pc-1\n    region: cn-hangzhou\n    colour: red\n"
        );
        let err = World::parse("w.yaml", &text).unwrap_err();
        let p = &err.problems[0];
        assert!(p.message.contains("colour"), "{err}");
        assert_eq!(p.line, 8, "{err}");
    }

    #[test]
    fn dangling_references_and_bad_prefixes_are_all_reported() {
        let text = format!(
            "{MINIMAL}virtual_border_routers:\n  - id: vbr-1\n    region: cn-hangzhou\n    physical_connection: pc-missing\n  - id: pcx-2\n    region: mars-1\n    physical_connection: pc-missing\n"
        );
        let err = World::parse("w.yaml", &text).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("w.yaml:6:5: physical_connection \"pc-missing\" is not defined"),
            "{text}"
        );
        assert!(text.contains("must start with \"vbr-\""), "{text}");
        assert!(
            text.contains("region \"mars-1\" is not in regions"),
            "{text}"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(Dur::parse("250ms").unwrap(), ms(250));
        assert_eq!(Dur::parse("1.5s").unwrap(), ms(1500));
        assert_eq!(Dur::parse("2m").unwrap(), Dur(Duration::from_secs(120)));
        assert!(Dur::parse("3 parsecs").is_err());
        assert!(Dur::parse("-1s").is_err());
    }
}
