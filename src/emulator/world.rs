//! The world file: the emulated account (keys, regions), its resources with their states and
//! links, and the emulator's timings, rate limits and faults. Loading checks syntax, unknown
//! keys, id prefixes, duplicate ids and dangling references, and reports each with
//! `file:line:column`.
//!
//! Each resource section's item type and checks live with its kind (`super::kinds`); this
//! file holds the file's shape ([`World`]), the global sections and the [`Checker`] the
//! kinds report through. The item types are re-exported here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

use super::kinds::KINDS;
pub use super::kinds::bgp::{BgpGroup, BgpPeer};
pub use super::kinds::physical_connection::MacsecKey;
pub use super::kinds::physical_connection::PhysicalConnection;
pub use super::kinds::prefix_list::PrefixListAssociation;
pub use super::kinds::router_interface::RouterInterface;
pub use super::kinds::transit_router::{Cen, Link, TrAttachment, TrRouteEntry, TransitRouter};
pub use super::kinds::vbr_ha::{VbrHa, VbrHealthCheck};
pub use super::kinds::virtual_border_router::VirtualBorderRouter;
pub use super::kinds::vpn::{VpnConnection, VpnGateway};
pub use super::kinds::{
    bgp_network::BgpNetwork, cen_child_instance::CenChildInstance, ecr::EcrChild,
    ecr::ExpressConnectRouter, nqa::Nqa, vbr_route_entry::VbrRouteEntry,
};

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
    /// TR route entry `Deleting` → gone.
    pub delete_route_entry: Dur,
    /// Prefix-list association `Updating` → gone (after a delete) or `Active`.
    pub delete_prefix_list_association: Dur,
    /// IPsec connection in a transitional `State` → settled.
    pub vpn_connection_settle: Dur,
    /// A VBR's further circuit: unassociated → gone from `AssociatedPhysicalConnections`.
    pub unassociate_physical_connection: Dur,
    /// ECR child `DISSOCIATING` → gone.
    pub detach_ecr_child: Dur,
    /// Basic CEN child `Detaching` → gone.
    pub detach_cen_child: Dur,
    /// VBR route `Deleting` → gone.
    pub delete_vbr_route_entry: Dur,
    /// BGP network `Deleting` → gone.
    pub delete_bgp_network: Dur,
    /// VBR `deleting` → gone after DeleteVirtualBorderRouter.
    pub delete_vbr: Dur,
    /// Router interface `Deleting` → gone after DeleteRouterInterface.
    pub delete_router_interface: Dur,
    /// BGP peer / group `Deleting` → gone after DeleteBgpPeer / DeleteBgpGroup.
    pub delete_bgp: Dur,
    /// VBR failover group `Deleting` → gone after DeleteVbrHa.
    pub delete_vbr_ha: Dur,
    /// CEN VBR health check → gone after DisableCenVbrHealthCheck.
    pub disable_health_check: Dur,
    /// MACsec key `Disassociating` → `Disassociated`, `Deleting` → gone.
    pub disassociate_macsec_key: Dur,
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
            delete_route_entry: ms(300),
            delete_prefix_list_association: ms(300),
            vpn_connection_settle: ms(600),
            unassociate_physical_connection: ms(500),
            detach_ecr_child: ms(800),
            detach_cen_child: ms(800),
            delete_vbr_route_entry: ms(300),
            delete_bgp_network: ms(300),
            delete_vbr: ms(300),
            delete_router_interface: ms(300),
            delete_bgp: ms(200),
            delete_vbr_ha: ms(300),
            disable_health_check: ms(300),
            disassociate_macsec_key: ms(200),
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
    /// Prefix-list associations of TR route tables.
    #[serde(default)]
    pub transit_router_prefix_list_associations: Vec<Spanned<PrefixListAssociation>>,
    /// VPN gateways.
    #[serde(default)]
    pub vpn_gateways: Vec<Spanned<VpnGateway>>,
    /// IPsec connections.
    #[serde(default)]
    pub vpn_connections: Vec<Spanned<VpnConnection>>,
    /// STS roles, their trust and OIDC providers ([`super::sts`]).
    #[serde(default)]
    pub sts: super::sts::StsWorld,
    /// Express Connect Routers (with their VBR children).
    #[serde(default)]
    pub express_connect_routers: Vec<Spanned<ExpressConnectRouter>>,
    /// VBRs attached to Basic-Edition CENs.
    #[serde(default)]
    pub cen_child_instances: Vec<Spanned<CenChildInstance>>,
    /// Custom routes in VBR route tables.
    #[serde(default)]
    pub vbr_route_entries: Vec<Spanned<VbrRouteEntry>>,
    /// BGP networks advertised by VBRs.
    #[serde(default)]
    pub bgp_networks: Vec<Spanned<BgpNetwork>>,
    /// NQA probes on VBRs.
    #[serde(default)]
    pub nqas: Vec<Spanned<Nqa>>,
    /// VBR failover groups.
    #[serde(default)]
    pub vbr_failover_groups: Vec<Spanned<VbrHa>>,
    /// CEN VBR health checks.
    #[serde(default)]
    pub cen_vbr_health_checks: Vec<Spanned<VbrHealthCheck>>,
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

/// The 1-based (line, column) of a key path (`["faults", "rate"]`) in block or flow YAML:
/// the top-level key at column 1, then each further key on a more indented line below it (or
/// on the same line, in flow style). Falls back to the deepest key found, else 1:1.
fn locate(text: &str, path: &[&str]) -> (u64, u64) {
    let mut found = (1, 1);
    let mut depth = 0;
    let mut indent = 0;
    for (n, line) in text.lines().enumerate() {
        if depth >= path.len() {
            break;
        }
        let trimmed = line.trim_start();
        let this_indent = line.len() - trimmed.len();
        if depth > 0 && !trimmed.is_empty() && !trimmed.starts_with('#') && this_indent <= indent {
            break; // left the parent's block
        }
        let mut from = 0;
        while let Some(key) = path.get(depth) {
            let pat = format!("{key}:");
            let hit = line[from..].find(&pat).map(|i| i + from).filter(|&i| {
                i == 0
                    || !line.as_bytes()[i - 1].is_ascii_alphanumeric()
                        && line.as_bytes()[i - 1] != b'_'
            });
            let Some(i) = hit else { break };
            if depth == 0 && i != 0 {
                break;
            }
            found = (n as u64 + 1, line[..i].chars().count() as u64 + 1);
            indent = this_indent;
            depth += 1;
            from = i + pat.len();
        }
    }
    found
}

fn render(file: &str, problems: &[WorldProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{file}:{}:{}: {}", p.line, p.column, p.message))
        .collect::<Vec<_>>()
        .join("\n")
}

impl World {
    /// Parse and check a world file's text.
    pub fn parse(file: &str, text: &str) -> Result<World, WorldError> {
        let world: World = serde_saphyr::from_str(text).map_err(|e| WorldError {
            file: file.to_string(),
            problems: parse_problems(text, parse_problem(&e)),
        })?;
        let mut problems = world.check();
        problems.extend(world.check_globals(text));
        // Problems of top-level scalars carry no span: locate them by their key.
        for p in problems.iter_mut().filter(|p| p.line == 0) {
            let key = p.message.split([' ', ':']).next().unwrap_or_default();
            (p.line, p.column) = locate(text, &[key]);
        }
        if problems.is_empty() {
            Ok(world)
        } else {
            Err(WorldError {
                file: file.to_string(),
                problems,
            })
        }
    }

    /// Ranges of the global settings: `faults.rate` a probability in [0, 1],
    /// `rate_limits.scale` finite and above 0, per-minute quotas at least 1, the fault
    /// latency and every timing at most a day. Located by their keys in `text`.
    fn check_globals(&self, text: &str) -> Vec<WorldProblem> {
        let mut out = Vec::new();
        let mut bad = |path: &[&str], message: String| {
            let (line, column) = locate(text, path);
            out.push(WorldProblem {
                line,
                column,
                message,
            });
        };
        let rate = self.faults.rate;
        if !(rate.is_finite() && (0.0..=1.0).contains(&rate)) {
            bad(
                &["faults", "rate"],
                format!("faults.rate {rate} must be a probability between 0 and 1"),
            );
        }
        let scale = self.rate_limits.scale;
        if !(scale.is_finite() && scale > 0.0) {
            bad(
                &["rate_limits", "scale"],
                format!("rate_limits.scale {scale} must be a finite number above 0"),
            );
        }
        for (action, n) in &self.rate_limits.per_minute {
            if *n == 0 {
                bad(
                    &["rate_limits", "per_minute", action],
                    format!("rate_limits.per_minute.{action} must be at least 1 call per minute"),
                );
            }
        }
        const DAY: Duration = Duration::from_secs(86_400);
        let t = &self.timings;
        let durations = [
            ("faults", "latency", self.faults.latency),
            ("timings", "latency", t.latency),
            (
                "timings",
                "terminate_physical_connection",
                t.terminate_physical_connection,
            ),
            (
                "timings",
                "cancel_physical_connection",
                t.cancel_physical_connection,
            ),
            ("timings", "terminate_vbr", t.terminate_vbr),
            (
                "timings",
                "deactivate_router_interface",
                t.deactivate_router_interface,
            ),
            ("timings", "detach_attachment", t.detach_attachment),
            ("timings", "dissociate", t.dissociate),
            ("timings", "disable_propagation", t.disable_propagation),
            ("timings", "vpn_gateway_update", t.vpn_gateway_update),
        ];
        for (section, key, d) in durations {
            if d.0 > DAY {
                bad(
                    &[section, key],
                    format!("{section}.{key} {:?} is longer than a day", d.0),
                );
            }
        }
        out
    }

    /// Read and check a world file.
    pub fn load(path: &std::path::Path) -> Result<World, WorldError> {
        let file = path.display().to_string();
        let text = crate::input::read_text(path).map_err(|e| {
            let (line, column) = e.position().unwrap_or((0, 0));
            WorldError {
                file: file.clone(),
                problems: vec![WorldProblem {
                    line,
                    column,
                    message: format!("cannot read the world file: {e}"),
                }],
            }
        })?;
        World::parse(&file, &text)
    }

    /// Referential and value checks; every problem with its position.
    fn check(&self) -> Vec<WorldProblem> {
        let mut cx = Checker::new(&self.regions);
        cx.problems.extend(self.sts.check());
        if self.access_keys.is_empty() {
            cx.problem(
                &serde_saphyr::Location::UNKNOWN,
                "access_keys: at least one key is required".into(),
            );
        }
        if self.account_id.is_empty() || !self.account_id.chars().all(|c| c.is_ascii_digit()) {
            cx.problem(
                &serde_saphyr::Location::UNKNOWN,
                format!("account_id {:?} must be digits", self.account_id),
            );
        }
        for kind in KINDS {
            kind.check(self, &mut cx);
        }
        cx.finish()
    }
}

/// The world-file check helpers every kind uses, collecting problems in order: first each
/// resource's own problems (ids, prefixes, regions, statuses) kind by kind, then the
/// problems with links between resources, then references to ids that no kind defines.
#[derive(Debug)]
pub struct Checker<'w> {
    regions: &'w [String],
    ids: BTreeSet<String>,
    problems: Vec<WorldProblem>,
    link_problems: Vec<WorldProblem>,
    refs: Vec<(serde_saphyr::Location, &'static str, &'w str)>,
}

fn problem_at(loc: &serde_saphyr::Location, message: String) -> WorldProblem {
    WorldProblem {
        line: loc.line(),
        column: loc.column(),
        message,
    }
}

impl<'w> Checker<'w> {
    fn new(regions: &'w [String]) -> Checker<'w> {
        Checker {
            regions,
            ids: BTreeSet::new(),
            problems: Vec::new(),
            link_problems: Vec::new(),
            refs: Vec::new(),
        }
    }

    /// A problem at `loc`.
    pub fn problem(&mut self, loc: &serde_saphyr::Location, message: String) {
        self.problems.push(problem_at(loc, message));
    }

    /// A problem with the links between resources (reported after every resource's own).
    pub fn link_problem(&mut self, loc: &serde_saphyr::Location, message: String) {
        self.link_problems.push(problem_at(loc, message));
    }

    /// A resource id: it must start with `prefix` and be defined once in the whole world.
    pub fn id(&mut self, loc: &serde_saphyr::Location, id: &str, prefix: &str) {
        if !id.starts_with(prefix) {
            self.problem(loc, format!("id {id:?} must start with {prefix:?}"));
        }
        if !self.ids.insert(id.to_string()) {
            self.problem(loc, format!("id {id:?} is defined twice"));
        }
    }

    /// A region: it must be one of the world's `regions`.
    pub fn region(&mut self, loc: &serde_saphyr::Location, r: &str) {
        if !self.regions.iter().any(|x| x == r) {
            let message = format!(
                "region {r:?} is not in regions ({})",
                self.regions.join(", ")
            );
            self.problem(loc, message);
        }
    }

    /// A status: one of `allowed`, compared case-insensitively.
    pub fn status(&mut self, loc: &serde_saphyr::Location, s: &str, allowed: &[&str]) {
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(s)) {
            self.problem(
                loc,
                format!("status {s:?} is not one of {}", allowed.join(", ")),
            );
        }
    }

    /// A reference (`what` names the key) to `target`, which some kind must define.
    pub fn reference(&mut self, loc: &serde_saphyr::Location, what: &'static str, target: &'w str) {
        self.refs.push((*loc, what, target));
    }

    /// Every problem, in report order.
    fn finish(mut self) -> Vec<WorldProblem> {
        let mut problems = std::mem::take(&mut self.problems);
        problems.append(&mut self.link_problems);
        for (loc, what, target) in &self.refs {
            if !self.ids.contains(*target) {
                problems.push(problem_at(
                    loc,
                    format!("{what} {target:?} is not defined in this world"),
                ));
            }
        }
        problems
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

/// A parse error as a located problem; without a location (a missing top-level field), at
/// the start of the document.
fn parse_problem(e: &serde_saphyr::Error) -> WorldProblem {
    let (line, column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .filter(|(l, _)| *l > 0)
        .unwrap_or((1, 1));
    WorldProblem {
        line,
        column,
        message: serde_message(&e.to_string()),
    }
}

/// The parser stops at its first problem. When that is a key of its own line (an unknown
/// field, a bad value in block style), the line and its nested lines are blanked and the
/// text parsed again, to report the next problem too (at most 50).
fn parse_problems(text: &str, first: WorldProblem) -> Vec<WorldProblem> {
    let mut problems = vec![first];
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    while problems.len() < 50 {
        let last = &problems[problems.len() - 1];
        let Some(i) = usize::try_from(last.line)
            .ok()
            .and_then(|l| l.checked_sub(1))
        else {
            break;
        };
        let Some(line) = lines.get(i) else { break };
        let indent = line.len() - line.trim_start().len();
        let starts_line = usize::try_from(last.column).ok() == Some(indent + 1)
            && !line.trim_start().starts_with('-')
            && line.trim_start().contains(':');
        if !starts_line {
            break;
        }
        lines[i] = String::new();
        for l in lines.iter_mut().skip(i + 1) {
            let this = l.len() - l.trim_start().len();
            if !l.trim().is_empty() && this <= indent {
                break;
            }
            l.clear();
        }
        match serde_saphyr::from_str::<World>(&lines.join("\n")) {
            Ok(_) => break,
            Err(e) => {
                let next = parse_problem(&e);
                if next.line <= last.line {
                    break;
                }
                problems.push(next);
            }
        }
    }
    problems
}

/// The parser's message without the `error: line L column C: ` it starts with: the position
/// is the problem's own, and the renderer says `error:`.
fn serde_message(s: &str) -> String {
    let line = first_line(s);
    let rest = line.strip_prefix("error: ").unwrap_or(&line);
    match rest.split_once(": ") {
        Some((pos, msg)) if pos.starts_with("line ") && pos.contains(" column ") => msg.to_string(),
        _ => rest.to_string(),
    }
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
