//! CEN transit routers (alibaba-api.md §5): the `cens` section (CEN instances, their transit
//! routers and route tables), `transit_router_attachments` (VBR and VPN attachments with
//! their route-table associations and propagations) and `transit_router_route_entries`
//! (custom routes whose next hop is an attachment). Serves the List* queries, Dissociate /
//! DisablePropagation (`Dissociating`/`Disabling` → gone), DeleteTransitRouterRouteEntry and
//! DeleteTransitRouterVbr/VpnAttachment (`Detaching` → gone, with `Force`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::EmulatedKind;
use super::{by_id, ids_in};
use crate::api::Product::Cbn;
use crate::emulator::ops::{CREATED, Ctx, Fail, Operation, Res, fail, token_paged};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, Tags, World};

/// The actions this kind serves, with the parameters each requires (the official SDKs
/// metadata; a request without one is refused like the API gateway does).
const OPERATIONS: &[Operation] = &[
    Operation::read(
        Cbn,
        "ListTransitRouterVbrAttachments",
        &[],
        list_vbr_attachments,
    ),
    Operation::read(
        Cbn,
        "ListTransitRouterVpnAttachments",
        &[],
        list_vpn_attachments,
    ),
    Operation::read(
        Cbn,
        "ListTransitRouterRouteTableAssociations",
        &[],
        list_associations,
    ),
    Operation::read(
        Cbn,
        "ListTransitRouterRouteTablePropagations",
        &["TransitRouterRouteTableId"],
        list_propagations,
    ),
    Operation::read(
        Cbn,
        "ListTransitRouterRouteEntries",
        &["TransitRouterRouteTableId"],
        list_route_entries,
    ),
    Operation::read(Cbn, "ListTransitRouterRouteTables", &[], list_route_tables),
    Operation::mutate(
        Cbn,
        "DissociateTransitRouterAttachmentFromRouteTable",
        &["TransitRouterAttachmentId", "TransitRouterRouteTableId"],
        dissociate,
    ),
    Operation::mutate(
        Cbn,
        "DisableTransitRouterRouteTablePropagation",
        &["TransitRouterAttachmentId", "TransitRouterRouteTableId"],
        disable_propagation,
    ),
    Operation::mutate(
        Cbn,
        "DeleteTransitRouterRouteEntry",
        &[],
        delete_route_entry,
    ),
    Operation::mutate(
        Cbn,
        "DeleteTransitRouterVbrAttachment",
        &["TransitRouterAttachmentId"],
        delete_vbr_attachment,
    ),
    Operation::mutate(
        Cbn,
        "DeleteTransitRouterVpnAttachment",
        &["TransitRouterAttachmentId"],
        delete_vpn_tr_attachment,
    ),
];

/// The transit-router kind: CENs, transit routers, route tables, attachments, their
/// route-table links and custom route entries.
pub struct Kind;

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &[
            "cens",
            "transit_router_attachments",
            "transit_router_route_entries",
        ]
    }

    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>) {
        for c in &world.cens {
            cx.id(&c.referenced, &c.value.id, "cen-");
            for tr in &c.value.transit_routers {
                cx.id(&c.referenced, &tr.id, "tr-");
                cx.region(&c.referenced, &tr.region);
                for vtb in &tr.route_tables {
                    cx.id(&c.referenced, vtb, "vtb-");
                }
            }
        }
        for a in &world.transit_router_attachments {
            cx.id(&a.referenced, &a.value.id, "tr-attach-");
            let allowed = if a.value.vbr.is_some() {
                VBR_ATTACHMENT_STATUSES
            } else {
                ATTACHMENT_STATUSES
            };
            cx.status(&a.referenced, &a.value.status, allowed);
            for link in &a.value.associations {
                cx.status(&a.referenced, link.status(), ASSOCIATION_STATUSES);
            }
            for link in &a.value.propagations {
                cx.status(&a.referenced, link.status(), PROPAGATION_STATUSES);
            }
        }
        for e in &world.transit_router_route_entries {
            cx.id(&e.referenced, &e.value.id, "rte-");
            cx.status(&e.referenced, &e.value.status, &["Active", "Deleting"]);
        }
        for a in &world.transit_router_attachments {
            cx.reference(&a.referenced, "transit_router", &a.value.transit_router);
            match (&a.value.vbr, &a.value.vpn_connection) {
                (Some(v), None) => cx.reference(&a.referenced, "vbr", v),
                (None, Some(v)) => cx.reference(&a.referenced, "vpn_connection", v),
                (Some(_), Some(_)) | (None, None) => cx.link_problem(
                    &a.referenced,
                    "an attachment names exactly one of vbr or vpn_connection".into(),
                ),
            }
            for link in a.value.associations.iter().chain(&a.value.propagations) {
                cx.reference(&a.referenced, "route table", &link.route_table);
            }
        }
        for e in &world.transit_router_route_entries {
            cx.reference(&e.referenced, "route_table", &e.value.route_table);
            cx.reference(&e.referenced, "next_hop", &e.value.next_hop);
        }
    }

    /// An attachment seeded `Detaching` disappears and one seeded `Attaching` becomes
    /// `Attached`, both after `detach_attachment`; an association seeded `Dissociating`
    /// disappears and one seeded `Associating` becomes `Active` after `dissociate`; a
    /// propagation seeded `Disabling` disappears and one seeded `Enabling` becomes `Active`
    /// after `disable_propagation`.
    fn seed(&self, world: &World, st: &mut State, now: Instant) {
        for c in &world.cens {
            st.cens.insert(c.value.id.clone(), c.value.name.clone());
            st.cen_owners
                .insert(c.value.id.clone(), c.value.owner.clone());
            if !c.value.owner_visible {
                st.hidden_cen_owners.insert(c.value.id.clone());
            }
            for tr in &c.value.transit_routers {
                st.trs
                    .insert(tr.id.clone(), (c.value.id.clone(), tr.clone()));
            }
        }
        st.attachments = world
            .transit_router_attachments
            .iter()
            .map(|a| {
                let mut spec = a.value.clone();
                // The status as the API spells it (the world check ignores case).
                if let Some(s) = VBR_ATTACHMENT_STATUSES
                    .iter()
                    .find(|s| s.eq_ignore_ascii_case(&spec.status))
                {
                    spec.status = s.to_string();
                }
                // Statuses as the API spells them (the world check ignores case).
                let links = |links: &[Link], allowed: &[&str]| {
                    links
                        .iter()
                        .map(|l| {
                            let status = allowed
                                .iter()
                                .find(|s| s.eq_ignore_ascii_case(l.status()))
                                .map_or(l.status(), |s| s);
                            (l.route_table.clone(), status.to_string())
                        })
                        .collect()
                };
                let associations = links(&spec.associations, ASSOCIATION_STATUSES);
                let propagations = links(&spec.propagations, PROPAGATION_STATUSES);
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
        st.index_attachments();
        st.route_entries = by_id(&world.transit_router_route_entries, |e| &e.id);
        let at = now + st.timings.detach_attachment.0;
        for id in ids_in(&st.attachments, |a| &a.spec.status, "Detaching") {
            st.schedule(at, move |st| {
                st.remove_attachment(&id);
            });
        }
        for propagation in [false, true] {
            let at = now
                + if propagation {
                    st.timings.disable_propagation.0
                } else {
                    st.timings.dissociate.0
                };
            let (ending, starting) = if propagation {
                ("Disabling", "Enabling")
            } else {
                ("Dissociating", "Associating")
            };
            let seeded: Vec<(String, String, String)> = links(st, propagation)
                .map(|(a, vtb, s)| (a.spec.id.clone(), vtb.clone(), s.clone()))
                .collect();
            for (att, vtb, status) in seeded {
                if status.eq_ignore_ascii_case(ending) {
                    st.schedule(at, move |st| remove_link(st, &att, &vtb, propagation));
                } else if status.eq_ignore_ascii_case(starting) {
                    st.schedule(at, move |st| activate_link(st, &att, &vtb, propagation));
                }
            }
        }
        for id in ids_in(&st.attachments, |a| &a.spec.status, "Attaching") {
            st.schedule(at, move |st| {
                if let Some(a) = st.attachments.get_mut(&id) {
                    a.spec.status = "Attached".into();
                }
            });
        }
        let done = tokio::time::Instant::now() + st.timings.delete_route_entry.0;
        let deleting: Vec<String> = st
            .route_entries
            .values()
            .filter(|e| e.status == "Deleting")
            .map(|e| e.id.clone())
            .collect();
        for id in deleting {
            st.schedule(done, move |st| {
                st.route_entries.remove(&id);
            });
        }
    }

    fn count(&self, st: &State) -> usize {
        st.attachments.len() + st.route_entries.len()
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
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
    /// The owning account when it is not the world's: this account's VBRs may be attached
    /// to its transit routers (by that owner), but this account may not list or change
    /// them (the listings answer 403 `Forbidden.NoPermission`, a code that is not
    /// documented).
    #[serde(default)]
    pub owner: Option<String>,
    /// Whether VBRs report the owner (`AssociatedCens[].CenOwnerId`); `false` leaves it
    /// out, so a client learns of the other owner only from the refused listing.
    #[serde(default = "yes")]
    pub owner_visible: bool,
}

fn yes() -> bool {
    true
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
    /// `Attaching`, `Attached`, `Detaching` (VBR attachments also `Detached`).
    #[serde(default = "attached")]
    pub status: String,
    /// Route tables it is associated with (status `Active`, `Associating`, `Dissociating`;
    /// default `Active`).
    #[serde(default)]
    pub associations: Vec<Link>,
    /// Route tables it propagates to (status `Active`, `Enabling`, `Disabling`; default
    /// `Active`).
    #[serde(default)]
    pub propagations: Vec<Link>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
}

fn attached() -> String {
    "Attached".into()
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
    /// A route the system generated: listed without `TransitRouterRouteEntryId` and with
    /// `OperationalMode=false`; not deletable, and not a blocker of the attachment (it goes
    /// with it). The world id is only the emulator's key.
    #[serde(default)]
    pub system: bool,
    /// `Active` or `Deleting` (a deletion under way finishes after
    /// `timings.delete_route_entry`).
    #[serde(default = "active_status")]
    pub status: String,
}

fn active_status() -> String {
    "Active".into()
}

/// A route-table link of an attachment (an association or a propagation): a route-table id
/// (`vtb-…`, status `Active`), or `{ route_table: vtb-…, status: … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The route table (`vtb-…`).
    pub route_table: String,
    /// The link's status; `None` is the default, `Active`.
    pub status: Option<String>,
}

impl Link {
    /// The status the link starts in.
    pub fn status(&self) -> &str {
        self.status.as_deref().unwrap_or("Active")
    }
}

impl From<&str> for Link {
    fn from(route_table: &str) -> Link {
        Link {
            route_table: route_table.to_string(),
            status: None,
        }
    }
}

impl From<String> for Link {
    fn from(route_table: String) -> Link {
        Link {
            route_table,
            status: None,
        }
    }
}

impl<'de> Deserialize<'de> for Link {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Link, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            route_table: String,
            #[serde(default)]
            status: Option<String>,
        }
        struct LinkVisitor;
        impl<'de> Visitor<'de> for LinkVisitor {
            type Value = Link;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a route table id, or { route_table, status }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Link, E> {
                Ok(Link::from(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Link, A::Error> {
                let full = Full::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Link {
                    route_table: full.route_table,
                    status: full.status,
                })
            }
        }
        d.deserialize_any(LinkVisitor)
    }
}

/// Statuses the world may give an association (alibaba-api.md §5.1).
const ASSOCIATION_STATUSES: &[&str] = &["Active", "Associating", "Dissociating"];
/// Statuses the world may give a propagation (alibaba-api.md §5.1).
const PROPAGATION_STATUSES: &[&str] = &["Active", "Enabling", "Disabling"];

/// Statuses the world may give an attachment (alibaba-api.md §5.1).
const ATTACHMENT_STATUSES: &[&str] = &["Attaching", "Attached", "Detaching"];
/// A VBR attachment may also be `Detached` (ListTransitRouterVbrAttachments' `Status` enum,
/// blockers.md §3.10): listed, and deletable like an `Attached` one.
const VBR_ATTACHMENT_STATUSES: &[&str] = &["Attaching", "Attached", "Detaching", "Detached"];

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

/// 403 for another account's CEN (not documented: the code is the emulator's choice).
fn forbidden() -> Fail {
    fail(
        403,
        "Forbidden.NoPermission",
        "You are not authorized to operate on the specified resource of another account.",
    )
}

impl State {
    /// Is this CEN owned by another account?
    pub fn is_foreign_cen(&self, cen: &str) -> bool {
        self.cen_owners
            .get(cen)
            .is_some_and(|o| o.as_deref().is_some_and(|o| o != self.account_id))
    }

    /// The TR attachment of an IPsec connection, if it has one (the first by id).
    pub fn attachment_of_vpn(&self, vco: &str) -> Option<&Attachment> {
        self.indexed_attachments(vco)
            .find(|a| a.spec.vpn_connection.as_deref() == Some(vco))
    }

    /// The TR attachments of a VBR, by id.
    pub fn attachments_of_vbr<'a>(&'a self, vbr: &'a str) -> impl Iterator<Item = &'a Attachment> {
        self.indexed_attachments(vbr)
            .filter(move |a| a.spec.vbr.as_deref() == Some(vbr))
    }

    /// The attachments `attachments_by_resource` lists for `resource`, by id.
    fn indexed_attachments<'a>(&'a self, resource: &str) -> impl Iterator<Item = &'a Attachment> {
        debug_assert_eq!(
            self.attachments_by_resource
                .values()
                .map(BTreeSet::len)
                .sum::<usize>(),
            self.attachments
                .values()
                .map(|a| usize::from(a.spec.vbr.is_some())
                    + usize::from(a.spec.vpn_connection.is_some()))
                .sum::<usize>(),
            "attachments_by_resource is out of step with attachments"
        );
        self.attachments_by_resource
            .get(resource)
            .into_iter()
            .flatten()
            .filter_map(|id| self.attachments.get(id))
    }

    /// (Re)build `attachments_by_resource` from `attachments`.
    pub fn index_attachments(&mut self) {
        let mut index: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for a in self.attachments.values() {
            for r in [&a.spec.vbr, &a.spec.vpn_connection].into_iter().flatten() {
                index
                    .entry(r.clone())
                    .or_default()
                    .insert(a.spec.id.clone());
            }
        }
        self.attachments_by_resource = index;
    }

    /// Remove an attachment, and its entries in `attachments_by_resource`.
    pub fn remove_attachment(&mut self, id: &str) -> Option<Attachment> {
        let a = self.attachments.remove(id)?;
        for r in [&a.spec.vbr, &a.spec.vpn_connection].into_iter().flatten() {
            if let Some(ids) = self.attachments_by_resource.get_mut(r) {
                ids.remove(id);
                if ids.is_empty() {
                    self.attachments_by_resource.remove(r);
                }
            }
        }
        Some(a)
    }
}

fn attachment_json(st: &State, a: &Attachment) -> Value {
    let (cen, region) = st
        .trs
        .get(&a.spec.transit_router)
        .map(|(cen, tr)| (cen.clone(), tr.region.clone()))
        .unwrap_or_default();
    let mut v = json!({
        "TransitRouterAttachmentId": a.spec.id, "TransitRouterId": a.spec.transit_router, "CenId": cen,
        "Status": a.spec.status, "ResourceType": a.resource_type(), "CreationTime": CREATED,
        "AutoPublishRouteEnabled": false, "TransitRouterAttachmentName": a.spec.name,
        "TransitRouterAttachmentDescription": "",
        "Tags": a.spec.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
    });
    let obj = v.as_object_mut().expect("object");
    let owner: u64 = st.account_id.parse().unwrap_or(0);
    if let Some(vbr) = &a.spec.vbr {
        obj.insert("VbrId".into(), json!(vbr));
        obj.insert(
            "VbrRegionId".into(),
            json!(st.vbrs.get(vbr).map(|v| v.region.clone()).unwrap_or(region)),
        );
        obj.insert("VbrOwnerId".into(), json!(owner));
    } else if let Some(vco) = &a.spec.vpn_connection {
        obj.insert("VpnId".into(), json!(vco));
        obj.insert(
            "VpnRegionId".into(),
            json!(
                st.vpn_connections
                    .get(vco)
                    .map(|c| c.region.clone())
                    .unwrap_or(region)
            ),
        );
        obj.insert("VpnOwnerId".into(), json!(owner));
        obj.insert("ChargeType".into(), json!("POSTPAY"));
    }
    v
}

fn list_attachments(st: &State, ctx: &Ctx<'_>, kind: &str) -> Res {
    let page = ctx.token_page(20)?;
    let (tr, cen, region, id) = (
        ctx.get("TransitRouterId"),
        ctx.get("CenId"),
        ctx.get("RegionId"),
        ctx.get("TransitRouterAttachmentId"),
    );
    // Another account's CEN: not this account's to list (the code is not documented).
    let tr_cen = tr.and_then(|t| st.trs.get(t)).map(|(c, _)| c.as_str());
    if cen.or(tr_cen).is_some_and(|c| st.is_foreign_cen(c)) {
        return Err(forbidden());
    }
    // Documented pitfall (§5.2): without TransitRouterId, CenId+RegionId or an attachment id
    // the call still answers 200, with no data.
    let scoped = tr.is_some() || id.is_some() || (cen.is_some() && region.is_some());
    let items = st
        .attachments
        .values()
        .filter(|_| scoped)
        .filter(|a| a.resource_type() == kind)
        .filter(|a| {
            st.trs
                .get(&a.spec.transit_router)
                .is_none_or(|(c, _)| !st.is_foreign_cen(c))
        })
        .filter(|a| {
            tr.is_none_or(|t| t == a.spec.transit_router) && id.is_none_or(|i| i == a.spec.id)
        })
        .filter(|a| {
            let (c, r) = st
                .trs
                .get(&a.spec.transit_router)
                .map(|(c, t)| (c.as_str(), t.region.as_str()))
                .unwrap_or(("", ""));
            cen.is_none_or(|x| x == c) && region.is_none_or(|x| x == r)
        });
    Ok(token_paged(items, page, "TransitRouterAttachments", |a| {
        attachment_json(st, a)
    }))
}

fn list_vbr_attachments(st: &mut State, ctx: &Ctx<'_>) -> Res {
    list_attachments(st, ctx, "VBR")
}

fn list_vpn_attachments(st: &mut State, ctx: &Ctx<'_>) -> Res {
    list_attachments(st, ctx, "VPN")
}

/// (attachment, route table, status) for associations or propagations.
fn links<'a>(
    st: &'a State,
    propagations: bool,
) -> impl Iterator<Item = (&'a Attachment, &'a String, &'a String)> + 'a {
    st.attachments.values().flat_map(move |a| {
        let map = if propagations {
            &a.propagations
        } else {
            &a.associations
        };
        map.iter().map(move |(vtb, status)| (a, vtb, status))
    })
}

fn list_links(st: &State, ctx: &Ctx<'_>, propagations: bool) -> Res {
    let page = ctx.token_page(50)?;
    let (vtb, att) = (
        ctx.get("TransitRouterRouteTableId"),
        ctx.get("TransitRouterAttachmentId"),
    );
    // Associations: neither filter is required, but one is needed (alibaba-api.md §5.4).
    // Propagations require the route table (declared in OPERATIONS, blockers.md §3.1).
    if vtb.is_none() && att.is_none() {
        return Err(fail(
            400,
            "MissingParameter",
            "One of TransitRouterRouteTableId and TransitRouterAttachmentId is mandatory for this action.",
        ));
    }
    let items = links(st, propagations)
        .filter(|(a, t, _)| vtb.is_none_or(|x| x == *t) && att.is_none_or(|x| x == a.spec.id));
    Ok(token_paged(
        items,
        page,
        if propagations {
            "TransitRouterPropagations"
        } else {
            "TransitRouterAssociations"
        },
        |(a, t, s)| {
            json!({ "TransitRouterAttachmentId": a.spec.id, "TransitRouterRouteTableId": t, "Status": s,
                    "ResourceType": a.resource_type(), "ResourceId": a.resource_id() })
        },
    ))
}

fn list_associations(st: &mut State, ctx: &Ctx<'_>) -> Res {
    list_links(st, ctx, false)
}

fn list_propagations(st: &mut State, ctx: &Ctx<'_>) -> Res {
    list_links(st, ctx, true)
}

/// Every route of a table as ListTransitRouterRouteEntries answers it: the custom routes
/// (system ones without an id and `OperationalMode=false`), one propagated route per
/// propagation into the table (no id), and the routes of each prefix-list association of
/// the table (no id, `PrefixListId`, `OperationalMode=false`) — SDK model, blockers.md
/// §3.11. (id or "", destination, type, status, next hop, prefix list, operational).
fn routes_of(st: &State, vtb: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let route = |id: &str, dest: &str, ty: &str, status: &str, next: &str, pl: &str, op: bool| {
        json!({ "TransitRouterRouteEntryId": id, "TransitRouterRouteEntryDestinationCidrBlock": dest,
                "TransitRouterRouteEntryType": ty, "TransitRouterRouteEntryStatus": status,
                "TransitRouterRouteEntryNextHopType": "Attachment", "TransitRouterRouteEntryNextHopId": next,
                "TransitRouterRouteEntryName": "", "CreateTime": CREATED, "OperationalMode": op,
                "PrefixListId": pl,
                "TransitRouterRouteEntryOriginResourceType": if pl.is_empty() { "" } else { "PrefixList" } })
    };
    for e in st.route_entries.values().filter(|e| e.route_table == vtb) {
        let id = if e.system { "" } else { e.id.as_str() };
        out.push(route(
            id,
            &e.destination,
            "Static",
            &e.status,
            &e.next_hop,
            "",
            !e.system,
        ));
    }
    for (i, a) in st.attachments.values().enumerate() {
        if a.propagations.contains_key(vtb) {
            let dest = format!("172.16.{}.0/24", i % 256);
            out.push(route(
                "",
                &dest,
                "Propagated",
                "Active",
                &a.spec.id,
                "",
                true,
            ));
        }
    }
    for p in st.prefix_list_associations.values() {
        if p.spec.route_table == vtb && !p.spec.next_hop.is_empty() {
            for cidr in &p.spec.cidrs {
                out.push(route(
                    "",
                    cidr,
                    "Static",
                    "Active",
                    &p.spec.next_hop,
                    &p.spec.prefix_list,
                    false,
                ));
            }
        }
    }
    out
}

fn list_route_entries(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let page = ctx.token_page(50)?;
    let vtb = ctx.req("TransitRouterRouteTableId")?;
    // Documented: without a status only `Active` routes are listed; `All` lists every one.
    let status = ctx.get("TransitRouterRouteEntryStatus").unwrap_or("Active");
    let ids: Vec<&str> = (1..)
        .map_while(|i| ctx.get(&format!("TransitRouterRouteEntryIds.{i}")))
        .collect();
    let items = routes_of(st, vtb)
        .into_iter()
        .filter(|r| status == "All" || r["TransitRouterRouteEntryStatus"] == status)
        .filter(|r| {
            ids.is_empty()
                || r["TransitRouterRouteEntryId"]
                    .as_str()
                    .is_some_and(|id| ids.contains(&id))
        });
    Ok(token_paged(items, page, "TransitRouterRouteEntries", |r| r))
}

fn list_route_tables(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let page = ctx.token_page(20)?;
    let tr = ctx.get("TransitRouterId");
    let only: Vec<&str> = ctx
        .params
        .iter()
        .filter(|(k, v)| k.starts_with("TransitRouterRouteTableIds.") && !v.is_empty())
        .map(|(_, v)| v.as_str())
        .collect();
    // Not documented: neither parameter is required, but a query needs a scope. Like the
    // association listing, the emulator asks for one of them.
    if tr.is_none() && only.is_empty() {
        return Err(fail(
            400,
            "MissingParameter",
            "One of TransitRouterId and TransitRouterRouteTableIds is mandatory for this action.",
        ));
    }
    if let Some(tr) = tr
        && !st.trs.contains_key(tr)
    {
        return Err(fail(
            400,
            "InvalidTransitRouterId.NotFound",
            "The specified TransitRouterId is not found.",
        ));
    }
    if let Some(tr) = tr
        && st.is_foreign_cen(&st.trs[tr].0)
    {
        return Err(forbidden());
    }
    let items = st
        .trs
        .iter()
        .filter(|(id, _)| tr.is_none_or(|t| t == id.as_str()))
        .flat_map(|(_, (_, router))| router.route_tables.iter().enumerate())
        .filter(|(_, vtb)| only.is_empty() || only.contains(&vtb.as_str()));
    Ok(token_paged(
        items,
        page,
        "TransitRouterRouteTables",
        |(i, vtb)| {
            json!({ "TransitRouterRouteTableId": vtb, "TransitRouterRouteTableType": if i == 0 { "System" } else { "Custom" },
                    "TransitRouterRouteTableStatus": "Active", "TransitRouterRouteTableName": "", "CreateTime": CREATED })
        },
    ))
}

fn attachment_lookup(st: &State, ctx: &Ctx<'_>, kind: Option<&str>) -> Result<String, Fail> {
    let id = ctx.req("TransitRouterAttachmentId")?;
    st.attachments
        .get(id)
        .filter(|a| kind.is_none_or(|k| a.resource_type() == k))
        .map(|a| a.spec.id.clone())
        .ok_or_else(|| {
            fail(
                400,
                "InvalidTransitRouterAttachmentId.NotFound",
                "The TransitRouterAttachmentId is not found.",
            )
        })
}

/// Remove an association or a propagation (the end of `Dissociating` / `Disabling`).
fn remove_link(st: &mut State, att: &str, vtb: &str, propagation: bool) {
    if let Some(a) = st.attachments.get_mut(att) {
        if propagation {
            a.propagations.remove(vtb);
        } else {
            a.associations.remove(vtb);
        }
    }
}

/// Make an association or a propagation `Active` (the end of `Associating` / `Enabling`).
fn activate_link(st: &mut State, att: &str, vtb: &str, propagation: bool) {
    if let Some(a) = st.attachments.get_mut(att) {
        let map = if propagation {
            &mut a.propagations
        } else {
            &mut a.associations
        };
        if let Some(status) = map.get_mut(vtb) {
            *status = "Active".into();
        }
    }
}

fn unlink(st: &mut State, ctx: &Ctx<'_>, propagation: bool) -> Res {
    let att = attachment_lookup(st, ctx, None)?;
    let vtb = ctx.req("TransitRouterRouteTableId")?.to_string();
    let delay = if propagation {
        st.timings.disable_propagation.0
    } else {
        st.timings.dissociate.0
    };
    let a = st.attachments.get_mut(&att).expect("looked up");
    let map = if propagation {
        &mut a.propagations
    } else {
        &mut a.associations
    };
    let Some(status) = map.get_mut(&vtb) else {
        // Not documented: the code for a link that does not exist. A `.NotFound` code lets a
        // client treat it as already removed.
        let code = if propagation {
            "InvalidPropagation.NotFound"
        } else {
            "InvalidAssociation.NotFound"
        };
        return Err(fail(
            400,
            code,
            "The specified route table link does not exist.",
        ));
    };
    if status != "Active" {
        return Err(fail(
            400,
            "IncorrectStatus.Status",
            "The current status of the resource does not support this operation.",
        ));
    }
    if ctx.flag("DryRun") {
        return Err(fail(
            400,
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        ));
    }
    *status = if propagation {
        "Disabling"
    } else {
        "Dissociating"
    }
    .to_string();
    st.schedule(ctx.now + delay, move |st| {
        remove_link(st, &att, &vtb, propagation)
    });
    Ok(json!({}))
}

fn dissociate(st: &mut State, ctx: &Ctx<'_>) -> Res {
    unlink(st, ctx, false)
}

fn disable_propagation(st: &mut State, ctx: &Ctx<'_>) -> Res {
    unlink(st, ctx, true)
}

/// DeleteTransitRouterRouteEntry: the route is named by its id, or by its table and
/// destination (and optionally its next hop) — the two forms the API documents
/// (blockers.md §3.6). Asynchronous: `Deleting`, then gone after
/// `timings.delete_route_entry`. A system route has no id to name and cannot be deleted.
fn delete_route_entry(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let not_found = || {
        fail(
            400,
            "InvalidTransitRouterRouteEntryId.NotFound",
            "The specified TransitRouterRouteEntryId is not found.",
        )
    };
    let id = match ctx.get("TransitRouterRouteEntryId") {
        Some(id) => id.to_string(),
        None => {
            let (Some(vtb), Some(dest)) = (
                ctx.get("TransitRouterRouteTableId"),
                ctx.get("TransitRouterRouteEntryDestinationCidrBlock"),
            ) else {
                return Err(fail(
                    400,
                    "MissingParameter",
                    "TransitRouterRouteEntryId, or TransitRouterRouteTableId and TransitRouterRouteEntryDestinationCidrBlock, is mandatory for this action.",
                ));
            };
            let hop = ctx.get("TransitRouterRouteEntryNextHopId");
            st.route_entries
                .values()
                .find(|e| {
                    !e.system
                        && e.route_table == vtb
                        && e.destination == dest
                        && hop.is_none_or(|h| h == e.next_hop)
                })
                .map(|e| e.id.clone())
                .ok_or_else(not_found)?
        }
    };
    let delay = st.timings.delete_route_entry.0;
    let Some(e) = st.route_entries.get_mut(&id).filter(|e| !e.system) else {
        return Err(not_found());
    };
    if e.status != "Active" {
        return Err(fail(
            400,
            "IncorrectStatus.Status",
            "The current status of the resource does not support this operation.",
        ));
    }
    if ctx.flag("DryRun") {
        return Err(fail(
            400,
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        ));
    }
    e.status = "Deleting".into();
    st.schedule(ctx.now + delay, move |st| {
        st.route_entries.remove(&id);
    });
    Ok(json!({}))
}

fn delete_attachment(st: &mut State, ctx: &Ctx<'_>, kind: &str) -> Res {
    let id = attachment_lookup(st, ctx, Some(kind))?;
    let delay = st.timings.detach_attachment.0;
    let force = ctx.flag("Force");
    let a = &st.attachments[&id];
    if !["Attached", "Detached"].contains(&a.spec.status.as_str()) {
        return Err(fail(
            400,
            "IncorrectStatus.Status",
            "The current status of the resource does not support this operation.",
        ));
    }
    let has_routes = st
        .route_entries
        .values()
        .any(|e| e.next_hop == id && !e.system);
    let has_prefix_lists = st
        .prefix_list_associations
        .values()
        .any(|p| p.spec.next_hop == id);
    // Open question 1 (alibaba-api.md §13): Force=true removes associations, propagations
    // and routes together with the attachment; Force=false refuses while any exist.
    if !force {
        if !a.associations.is_empty() {
            return Err(fail(
                400,
                "OperationFailed.RouteTableAssociationExist",
                "Operation failed because TransitRouterRouteTable exists.",
            ));
        }
        if !a.propagations.is_empty() {
            return Err(fail(
                400,
                "OperationFailed.RouteTablePropagationExist",
                "Operation failed because a route table propagation exists.",
            ));
        }
        if has_routes {
            return Err(fail(
                400,
                "OperationFailed.RouteEntryExist",
                "Operation failed because the TransitRouterAttachment exists in RouteTable.",
            ));
        }
        // Not documented: the code for prefix-list routes via the attachment (the 4th
        // documented prerequisite). They are route entries too: the same code.
        if has_prefix_lists {
            return Err(fail(
                400,
                "OperationFailed.RouteEntryExist",
                "Operation failed because prefix-list routes via the TransitRouterAttachment exist.",
            ));
        }
    }
    if ctx.flag("DryRun") {
        return Err(fail(
            400,
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        ));
    }
    // Open question: whether Force also removes prefix-list associations is not documented;
    // it does here ("deletes the attachment and its dependent resources"). System routes go
    // with the attachment in any case.
    st.route_entries
        .retain(|_, e| e.next_hop != id || (!force && !e.system));
    if force {
        st.prefix_list_associations
            .retain(|_, p| p.spec.next_hop != id);
    }
    let a = st.attachments.get_mut(&id).expect("looked up");
    if force {
        a.associations.clear();
        a.propagations.clear();
    }
    a.spec.status = "Detaching".into();
    st.schedule(ctx.now + delay, move |st| {
        st.remove_attachment(&id);
    });
    Ok(json!({}))
}

fn delete_vbr_attachment(st: &mut State, ctx: &Ctx<'_>) -> Res {
    // A VBR failover group or a health check holds the VBR in the CEN (emulator choice).
    let vbr = ctx
        .get("TransitRouterAttachmentId")
        .and_then(|id| st.attachments.get(id))
        .filter(|a| a.spec.status == "Attached")
        .and_then(|a| a.spec.vbr.clone());
    if let Some(vbr) = vbr {
        super::vbr_ha::refuse_detach(st, &vbr)?;
    }
    delete_attachment(st, ctx, "VBR")
}

fn delete_vpn_tr_attachment(st: &mut State, ctx: &Ctx<'_>) -> Res {
    delete_attachment(st, ctx, "VPN")
}
