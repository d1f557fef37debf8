//! `decom snapshot`: the live estate a plan's discovery sees, written as an emulator world
//! file, so the exact plan can be rehearsed against a copy of production.
//!
//! Each kind writes its own resources ([`crate::kinds::KindSpec::snapshot`]) into a
//! [`WorldDoc`], a small document that mirrors the world file's sections, merged by id
//! (a BGP group and its peers, a transit router with its route tables under `cens`). What
//! discovery did not see cannot be in the snapshot: where a resource it saw references one it
//! did not (the circuit of a VBR targeted alone, the VPN gateway of a connection, the CEN of
//! a transit router), the kind asks the document for the minimal stand-in (`ensure_*`), and
//! the file's header lists every stand-in.
//!
//! The document holds no secret: the world gets freshly generated access keys.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::discover::Inventory;
use crate::model::Kind;

/// A world file being built: one map per section, entries keyed by id (or by the section's
/// natural key: `<vbr>/<cidr>` for BGP networks, `<cen>/<vbr>` for CEN children).
#[derive(Debug, Default)]
pub struct WorldDoc {
    account: String,
    sections: BTreeMap<&'static str, BTreeMap<String, Map<String, Value>>>,
    /// Transit routers: id → (CEN, region, route tables).
    trs: BTreeMap<String, (Option<String>, String, BTreeSet<String>)>,
    /// CENs: id → extra fields (name, owner, owner_visible).
    cens: BTreeMap<String, Map<String, Value>>,
    /// What was derived rather than seen, one line each.
    derived: BTreeSet<String>,
}

fn fields(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl WorldDoc {
    /// An empty document for `account`.
    pub fn new(account: &str) -> WorldDoc {
        WorldDoc {
            account: account.to_string(),
            ..WorldDoc::default()
        }
    }

    /// The snapshot's account.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// True when `section` has an entry keyed `key`.
    pub fn has(&self, section: &'static str, key: &str) -> bool {
        self.sections
            .get(section)
            .is_some_and(|s| s.contains_key(key))
    }

    /// Merge `v`'s fields into the entry `key` of `section` (created when absent): what a
    /// resource discovery saw.
    pub fn set(&mut self, section: &'static str, key: &str, v: Value) {
        let entry = self
            .sections
            .entry(section)
            .or_default()
            .entry(key.to_string())
            .or_default();
        for (k, val) in fields(v) {
            let empty = match &val {
                Value::Null => true,
                Value::String(s) => s.is_empty(),
                Value::Array(a) => a.is_empty(),
                Value::Object(o) => o.is_empty(),
                _ => false,
            };
            if !empty {
                entry.insert(k, val);
            }
        }
    }

    /// Another account's id as the world writes it: digits as seen, else (discovery knows
    /// only that it is not the caller's) a stand-in that differs from the snapshot's account.
    pub fn other_account(&self, owner: &str) -> String {
        if !owner.is_empty() && owner.chars().all(|c| c.is_ascii_digit()) {
            return owner.to_string();
        }
        if self.account == "1000000000000001" {
            "1000000000000002".into()
        } else {
            "1000000000000001".into()
        }
    }

    /// A VBR attached to some transit router (a failover group or a health check needs
    /// it): a stand-in attachment to a stand-in router when the document has none.
    pub fn ensure_attached(&mut self, vbr: &str, region: &str, by: &str) {
        let attached = self
            .sections
            .get("transit_router_attachments")
            .is_some_and(|s| {
                s.values()
                    .any(|a| a.get("vbr").and_then(Value::as_str) == Some(vbr))
            });
        if !attached {
            let (tr, att) = (format!("tr-of-{vbr}"), format!("tr-attach-of-{vbr}"));
            self.transit_router(&tr, region);
            self.ensure(
                "transit_router_attachments",
                &att,
                json!({"id": att, "transit_router": tr, "vbr": vbr}),
                format!("attachment {att} of {vbr} to transit router {tr} (needed by {by}; not discovered)"),
            );
        }
    }

    /// Create the entry `key` of `section` with `v` only when it is absent: a stand-in for a
    /// resource discovery did not see, recorded with `why` for the file's header.
    pub fn ensure(&mut self, section: &'static str, key: &str, v: Value, why: String) {
        if !self.has(section, key) {
            self.set(section, key, v);
            self.derived.insert(why);
        }
    }

    /// Append `item` to the list `field` of the entry `key` of `section`, unless an equal
    /// item is there (peers of a group, keys of a circuit, links of an attachment).
    pub fn push(&mut self, section: &'static str, key: &str, field: &str, item: Value) {
        let entry = self
            .sections
            .entry(section)
            .or_default()
            .entry(key.to_string())
            .or_default();
        let list = entry
            .entry(field.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = list
            && !items.contains(&item)
        {
            items.push(item);
        }
    }

    /// A circuit, as a stand-in when discovery did not see it.
    pub fn ensure_circuit(&mut self, id: &str, region: &str, by: &str) {
        self.ensure(
            "physical_connections",
            id,
            json!({"id": id, "region": region, "status": "Enabled"}),
            format!("circuit {id} (referenced by {by}; not discovered: Enabled assumed)"),
        );
    }

    /// A VBR, as a stand-in when discovery did not see it (on a stand-in circuit).
    pub fn ensure_vbr(&mut self, id: &str, region: &str, by: &str) {
        if self.has("virtual_border_routers", id) {
            return;
        }
        let pc = format!("pc-of-{id}");
        self.ensure(
            "virtual_border_routers",
            id,
            json!({"id": id, "region": region, "physical_connection": pc, "status": "active"}),
            format!("VBR {id} (referenced by {by}; not discovered: active assumed)"),
        );
        self.ensure_circuit(&pc, region, id);
    }

    /// A TR-bound IPsec connection, as a stand-in.
    pub fn ensure_vpn_connection(&mut self, id: &str, region: &str, by: &str) {
        self.ensure(
            "vpn_connections",
            id,
            json!({"id": id, "region": region}),
            format!("IPsec connection {id} (referenced by {by}; not discovered)"),
        );
    }

    /// A VPN gateway (`active`), as a stand-in: discovery reads connections, not gateways.
    pub fn ensure_gateway(&mut self, id: &str, region: &str, by: &str) {
        self.ensure(
            "vpn_gateways",
            id,
            json!({"id": id, "region": region, "status": "active"}),
            format!("VPN gateway {id} (of {by}; gateways are not discovered: active assumed)"),
        );
    }

    /// A transit router in `region`.
    pub fn transit_router(&mut self, tr: &str, region: &str) {
        self.trs
            .entry(tr.to_string())
            .or_insert_with(|| (None, region.to_string(), BTreeSet::new()));
    }

    /// A route table of a transit router.
    pub fn route_table(&mut self, tr: &str, region: &str, vtb: &str) {
        self.transit_router(tr, region);
        if let Some(t) = self.trs.get_mut(tr) {
            t.2.insert(vtb.to_string());
        }
    }

    /// The CEN a transit router belongs to (the first one said wins).
    pub fn transit_router_cen(&mut self, tr: &str, region: &str, cen: &str) {
        self.transit_router(tr, region);
        self.cen(cen, json!({}));
        if let Some(t) = self.trs.get_mut(tr) {
            t.0.get_or_insert_with(|| cen.to_string());
        }
    }

    /// A CEN, with fields (`owner`, `owner_visible`, `name`) merged.
    pub fn cen(&mut self, cen: &str, v: Value) {
        let entry = self.cens.entry(cen.to_string()).or_default();
        for (k, val) in fields(v) {
            entry.insert(k, val);
        }
    }

    /// The world document: the global sections, then every section in the world file's
    /// order; and the stand-ins it needed.
    pub fn finish(mut self, timings: Value) -> (Value, Vec<String>) {
        // Transit routers whose CEN discovery did not learn (only VPN attachments were
        // seen on them) get a stand-in CEN each.
        let trs = std::mem::take(&mut self.trs);
        let mut per_cen: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (tr, (cen, region, tables)) in trs {
            let cen = match cen {
                Some(c) => c,
                None => {
                    let c = format!("cen-of-{tr}");
                    self.derived.insert(format!(
                        "CEN {c} (of transit router {tr}; its CEN is not discovered)"
                    ));
                    c
                }
            };
            self.cens.entry(cen.clone()).or_default();
            per_cen.entry(cen).or_default().push(
                json!({"id": tr, "region": region, "route_tables": tables.into_iter().collect::<Vec<_>>()}),
            );
        }
        let mut cens = Vec::new();
        for (id, extra) in std::mem::take(&mut self.cens) {
            let mut c = Map::new();
            c.insert("id".into(), json!(id));
            c.extend(extra);
            c.insert(
                "transit_routers".into(),
                Value::Array(per_cen.remove(&id).unwrap_or_default()),
            );
            cens.push(Value::Object(c));
        }
        let mut regions: BTreeSet<String> = BTreeSet::new();
        for entries in self.sections.values() {
            for e in entries.values() {
                if let Some(r) = e.get("region").and_then(Value::as_str) {
                    regions.insert(r.to_string());
                }
            }
        }
        for c in &cens {
            for tr in c["transit_routers"].as_array().into_iter().flatten() {
                if let Some(r) = tr["region"].as_str() {
                    regions.insert(r.to_string());
                }
            }
        }
        let mut world = Map::new();
        world.insert("account_id".into(), json!(self.account));
        world.insert("access_keys".into(), json!([generated_key()]));
        world.insert("regions".into(), json!(regions));
        world.insert("timings".into(), timings);
        for section in SECTIONS {
            let items: Vec<Value> = if *section == "cens" {
                std::mem::take(&mut cens)
            } else {
                self.sections
                    .remove(section)
                    .unwrap_or_default()
                    .into_values()
                    .map(Value::Object)
                    .collect()
            };
            if !items.is_empty() {
                world.insert((*section).into(), Value::Array(items));
            }
        }
        (Value::Object(world), self.derived.into_iter().collect())
    }
}

/// The world file's resource sections, in its order.
const SECTIONS: &[&str] = &[
    "physical_connections",
    "virtual_border_routers",
    "router_interfaces",
    "vbr_route_entries",
    "bgp_groups",
    "bgp_networks",
    "nqas",
    "express_connect_routers",
    "cens",
    "cen_child_instances",
    "transit_router_attachments",
    "transit_router_route_entries",
    "transit_router_prefix_list_associations",
    "vbr_failover_groups",
    "cen_vbr_health_checks",
    "vpn_gateways",
    "vpn_connections",
];

/// A fresh access key for the world (never the caller's). It only opens the local emulator,
/// and is shaped so that secret scanners do not mistake it for a cloud key: no `LTAI`
/// prefix, short, low-entropy.
fn generated_key() -> Value {
    let n = uuid::Uuid::new_v4().simple().to_string();
    json!({"id": format!("rehearsal-key-{}", &n[..6]), "secret": format!("rehearsal-only-{}", &n[6..12])})
}

/// A timing key of the world file and the kind whose typical transition it takes.
pub const TIMING_KINDS: &[(&str, Kind)] = &[
    ("terminate_physical_connection", Kind::PhysicalConnection),
    ("cancel_physical_connection", Kind::PhysicalConnection),
    ("terminate_vbr", Kind::VirtualBorderRouter),
    ("deactivate_router_interface", Kind::RouterInterface),
    ("detach_attachment", Kind::TransitRouterVbrAttachment),
    ("dissociate", Kind::RouteTableAssociation),
    ("disable_propagation", Kind::RouteTablePropagation),
    ("vpn_gateway_update", Kind::VpnConnection),
    ("delete_route_entry", Kind::TransitRouterRouteEntry),
    (
        "delete_prefix_list_association",
        Kind::TransitRouterPrefixListAssociation,
    ),
    ("vpn_connection_settle", Kind::VpnAttachment),
    (
        "unassociate_physical_connection",
        Kind::VbrCircuitAssociation,
    ),
    ("detach_ecr_child", Kind::EcrChildInstance),
    ("detach_cen_child", Kind::CenChildInstance),
    ("delete_vbr_route_entry", Kind::VbrRouteEntry),
    ("delete_bgp_network", Kind::BgpNetwork),
    ("delete_vbr", Kind::VirtualBorderRouter),
    ("delete_router_interface", Kind::RouterInterface),
    ("delete_bgp", Kind::BgpGroup),
    ("delete_vbr_ha", Kind::VbrHa),
    ("disable_health_check", Kind::VbrHealthCheck),
    ("disassociate_macsec_key", Kind::MacsecKey),
];

fn dur_text(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// The `timings` section: every transition at its kind's typical duration
/// ([`crate::kinds::KindSpec::expected_transition`], the figure the ETA uses), divided by
/// `scale`, then `overrides` (`key=duration`). Errors: an unknown key or a bad duration.
pub fn timings(scale: f64, overrides: &[String]) -> anyhow::Result<Value> {
    let mut t = Map::new();
    for (key, kind) in TIMING_KINDS {
        let d = kind.spec().expected_transition().div_f64(scale);
        t.insert((*key).into(), json!(dur_text(d)));
    }
    for o in overrides {
        let (k, v) = o
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--timing {o:?} is not KEY=DURATION"))?;
        if !t.contains_key(k) && k != "latency" {
            anyhow::bail!(
                "--timing {k:?} is not a timing (one of latency, {})",
                TIMING_KINDS
                    .iter()
                    .map(|(k, _)| *k)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let d = crate::emulator::world::Dur::parse(v).map_err(|e| anyhow::anyhow!(e))?;
        t.insert(k.into(), json!(dur_text(d.0)));
    }
    Ok(Value::Object(t))
}

/// Write every resource of `inv` into a world document.
pub fn build(inv: &Inventory) -> WorldDoc {
    let mut doc = WorldDoc::new(inv.account.as_deref().unwrap_or("0"));
    for kind in Kind::ALL {
        for r in inv.of_kind(*kind) {
            kind.spec().snapshot(r, inv, &mut doc);
        }
    }
    doc
}

/// What the header says.
pub struct Header<'a> {
    /// The plan's name.
    pub plan: &'a str,
    /// Where it was read (endpoint label).
    pub endpoint: &'a str,
    /// True with `--anonymize`.
    pub anonymized: bool,
    /// `--scale`.
    pub scale: f64,
}

/// The world file's text: the header (account, regions, time, decom's version, the
/// stand-ins) as comments, then the world in block YAML.
pub fn render(world: &Value, derived: &[String], h: &Header<'_>) -> anyhow::Result<String> {
    let mut out = String::new();
    out.push_str("# decom snapshot: an emulator world of what the plan's discovery saw.\n");
    out.push_str(&format!("# plan: {}\n", h.plan));
    out.push_str(&format!(
        "# account: {}\n",
        world["account_id"].as_str().unwrap_or_default()
    ));
    out.push_str(&format!(
        "# regions: {}\n",
        world["regions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.push_str(&format!("# taken: {}\n", jiff::Timestamp::now()));
    out.push_str(&format!("# decom: {}\n", crate::cli::VERSION));
    if !h.anonymized {
        out.push_str(&format!("# read from: {}\n", h.endpoint));
    }
    out.push_str(&format!(
        "# timings: each kind's typical transition{}; the access key is generated\n",
        if h.scale == 1.0 {
            String::new()
        } else {
            format!(", divided by {}", h.scale)
        }
    ));
    if h.anonymized {
        out.push_str("# anonymized: ids, names, account ids, tag values and addresses replaced\n");
    }
    if !derived.is_empty() {
        out.push_str("# stand-ins for resources discovery did not see:\n");
        for d in derived {
            out.push_str(&format!("#   - {d}\n"));
        }
    }
    out.push_str(&serde_saphyr::to_string(world)?);
    Ok(out)
}

/// Consistent replacement of identifying values: the same input gives the same output
/// within one anonymizer; id prefixes, separators, CIDR lengths and string shapes are kept.
#[derive(Debug, Default)]
pub struct Anonymizer {
    map: HashMap<(u8, String), String>,
    counters: HashMap<(u8, String), u64>,
}

/// Id prefixes kept by the anonymizer, longest first.
const PREFIXES: &[&str] = &[
    "tr-attach-",
    "vbrha-",
    "bgpg-",
    "vbr-",
    "nqa-",
    "ecr-",
    "cen-",
    "vtb-",
    "rte-",
    "vpn-",
    "vco-",
    "pc-",
    "ri-",
    "tr-",
    "pl-",
    "bgp-",
];

impl Anonymizer {
    fn next(&mut self, class: u8, scope: &str) -> u64 {
        let n = self.counters.entry((class, scope.to_string())).or_default();
        *n += 1;
        *n
    }

    fn memo(&mut self, class: u8, s: &str, f: impl FnOnce(&mut Self) -> String) -> String {
        if let Some(v) = self.map.get(&(class, s.to_string())) {
            return v.clone();
        }
        let v = f(self);
        self.map.insert((class, s.to_string()), v.clone());
        v
    }

    /// An id: its prefix kept, the rest replaced (`vbr-x1y2` → `vbr-anon0001`).
    pub fn id(&mut self, s: &str) -> String {
        let Some(prefix) = PREFIXES.iter().find(|p| s.starts_with(**p)) else {
            return self.words(s);
        };
        // Composite ids (`<vbr>/<cidr>`) part by part.
        if s.contains('/') {
            return s
                .split('/')
                .map(|p| {
                    if PREFIXES.iter().any(|x| p.starts_with(x)) {
                        self.id(p)
                    } else {
                        self.words(p)
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
        }
        self.memo(0, s, |a| {
            let n = a.next(0, prefix);
            format!("{prefix}anon{n:04}")
        })
    }

    /// A sentence that names ids (a stand-in's description): the ids replaced as
    /// [`Anonymizer::id`] does, the other words kept.
    pub fn text(&mut self, s: &str) -> String {
        s.split(' ')
            .map(|w| {
                let core = w.trim_matches(|c: char| "();,:".contains(c));
                if !core.is_empty() && PREFIXES.iter().any(|p| core.starts_with(p)) {
                    w.replace(core, &self.id(core))
                } else {
                    w.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Digits (an account id): same length.
    pub fn digits(&mut self, s: &str) -> String {
        self.memo(1, s, |a| {
            let n = a.next(1, "");
            let width = s.len().max(1);
            // Never an all-zero account; the first digit set so the length holds.
            let body = format!("{n:0>w$}", w = width.saturating_sub(1));
            format!("9{}", &body[body.len().saturating_sub(width - 1)..])
        })
    }

    /// Free text (names, tag values, globs): every run of letters and digits replaced by a
    /// word of the same kind, separators and glob characters kept, so `legacy-*` still
    /// matches what `legacy-dc1` became.
    pub fn words(&mut self, s: &str) -> String {
        let mut out = String::new();
        let mut run = String::new();
        let flush = |a: &mut Self, run: &mut String, out: &mut String| {
            if !run.is_empty() {
                let w = std::mem::take(run);
                let v = a.memo(2, &w, |a| {
                    let n = a.next(2, "");
                    if w.chars().all(|c| c.is_ascii_digit()) {
                        format!("{n}")
                    } else {
                        format!("w{n}")
                    }
                });
                out.push_str(&v);
            }
        };
        for c in s.chars() {
            if c.is_alphanumeric() {
                run.push(c);
            } else {
                flush(self, &mut run, &mut out);
                out.push(c);
            }
        }
        flush(self, &mut run, &mut out);
        out
    }

    /// An IPv4 address or CIDR: the prefix length kept, the address from 10.0.0.0/8.
    pub fn address(&mut self, s: &str) -> String {
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, l.parse::<u32>().ok()),
            None => (s, None),
        };
        if addr.parse::<std::net::Ipv4Addr>().is_err() {
            return self.words(s);
        }
        self.memo(3, s, |a| {
            let n = a.next(3, &len.map(|l| l.to_string()).unwrap_or_default());
            let bits = len.unwrap_or(32).clamp(9, 32);
            let v: u32 = (10u32 << 24) | ((n as u32) << (32 - bits) & 0x00ff_ffff);
            let ip = std::net::Ipv4Addr::from(v);
            match len {
                Some(l) => format!("{ip}/{l}"),
                None => ip.to_string(),
            }
        })
    }

    /// Hex (a MACsec key name): same length.
    pub fn hex(&mut self, s: &str) -> String {
        self.memo(4, s, |a| {
            let n = a.next(4, "");
            format!("{n:0>w$x}", w = s.len())
        })
    }

    /// Anonymize a world document in place.
    pub fn world(&mut self, v: &mut Value) {
        self.walk(None, v);
    }

    fn walk(&mut self, key: Option<&str>, v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, val) in m.iter_mut() {
                    if k == "tags" {
                        if let Value::Object(tags) = val {
                            for t in tags.values_mut() {
                                if let Value::String(s) = t {
                                    *s = self.words(s);
                                }
                            }
                        }
                        continue;
                    }
                    if k == "access_keys" || k == "timings" || k == "regions" || k == "region" {
                        continue;
                    }
                    self.walk(Some(k), val);
                }
            }
            Value::Array(items) => {
                for i in items {
                    self.walk(key, i);
                }
            }
            Value::String(s) => {
                *s = match key.unwrap_or_default() {
                    "account_id" | "owner" | "cen_owner" | "parent_owner" | "account" => {
                        if s.chars().all(|c| c.is_ascii_digit()) {
                            self.digits(s)
                        } else {
                            self.words(s)
                        }
                    }
                    "name" | "names" => self.words(s),
                    "destination" | "destination_ip" | "target_ip" | "peer_ip" | "cidrs" => {
                        self.address(s)
                    }
                    "ckn" => self.hex(s),
                    "status" | "state" | "charge_type" | "cipher_suite" | "vpconn_status" => {
                        s.clone()
                    }
                    _ => {
                        if PREFIXES.iter().any(|p| s.starts_with(p)) {
                            self.id(s)
                        } else {
                            s.clone()
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The plan's YAML with the same replacements (ids, account, names and globs, tag
    /// values), so the anonymized plan runs against the anonymized world.
    pub fn plan(&mut self, text: &str) -> anyhow::Result<String> {
        let mut v: Value = serde_saphyr::from_str(text)?;
        if let Some(targets) = v.get_mut("targets").and_then(Value::as_array_mut) {
            for t in targets {
                if let Value::Object(m) = t {
                    for (k, val) in m.iter_mut() {
                        if k == "region" {
                            continue;
                        }
                        match val {
                            Value::String(s) => *s = self.id(s),
                            Value::Object(sel) => {
                                for (sk, sv) in sel.iter_mut() {
                                    match (sk.as_str(), sv) {
                                        ("tags", Value::Object(tags)) => {
                                            for t in tags.values_mut() {
                                                if let Value::String(s) = t {
                                                    *s = self.words(s);
                                                }
                                            }
                                        }
                                        ("name", Value::String(s)) => *s = self.words(s),
                                        (_, Value::String(s)) => *s = self.id(s),
                                        _ => {}
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        if let Some(Value::String(a)) = v.get_mut("account") {
            *a = self.digits(a);
        }
        if let Some(protect) = v.pointer_mut("/policy/protect") {
            if let Some(ids) = protect.get_mut("ids").and_then(Value::as_array_mut) {
                for i in ids {
                    if let Value::String(s) = i {
                        *s = self.id(s);
                    }
                }
            }
            if let Some(names) = protect.get_mut("names").and_then(Value::as_array_mut) {
                for i in names {
                    if let Value::String(s) = i {
                        *s = self.words(s);
                    }
                }
            }
            if let Some(Value::Object(tags)) = protect.get_mut("tags") {
                for t in tags.values_mut() {
                    if let Value::String(s) = t {
                        *s = self.words(s);
                    }
                }
            }
        }
        if let Some(Value::String(n)) = v.get_mut("name") {
            *n = self.words(n);
        }
        Ok(serde_saphyr::to_string(&v)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymizer_is_consistent_and_keeps_shapes() {
        let mut a = Anonymizer::default();
        let id = a.id("vbr-abc123");
        assert!(id.starts_with("vbr-"), "{id}");
        assert_eq!(a.id("vbr-abc123"), id);
        assert_ne!(a.id("vbr-other"), id);
        assert!(a.id("tr-attach-9").starts_with("tr-attach-"));
        let acct = a.digits("1234567890123456");
        assert_eq!(acct.len(), 16);
        assert_ne!(acct, "1234567890123456");
        let name = a.words("legacy-dc1");
        let glob = a.words("legacy-*");
        assert!(crate::model::glob_match(&glob, &name), "{glob} {name}");
        assert_eq!(a.address("10.1.2.0/24").split('/').nth(1), Some("24"));
        assert_eq!(a.address("192.168.7.7"), a.address("192.168.7.7"));
        assert_eq!(a.hex("abcdef01").len(), 8);
    }

    #[test]
    fn timings_scale_and_override() {
        let t = timings(10.0, &["latency=5ms".into()]).unwrap();
        assert_eq!(t["terminate_physical_connection"], "60s");
        assert_eq!(t["latency"], "5ms");
        assert!(timings(1.0, &["nope=1s".into()]).is_err());
    }
}
