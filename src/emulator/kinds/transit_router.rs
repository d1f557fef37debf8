//! CEN transit routers (alibaba-api.md §5): the `cens` section (CEN instances, their transit
//! routers and route tables), `transit_router_attachments` (VBR and VPN attachments with
//! their route-table associations and propagations) and `transit_router_route_entries`
//! (custom routes whose next hop is an attachment). Serves the List* queries, Dissociate /
//! DisablePropagation (`Dissociating`/`Disabling` → gone), DeleteTransitRouterRouteEntry and
//! DeleteTransitRouterVbr/VpnAttachment (`Detaching` → gone, with `Force`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::EmulatedKind;
use super::by_id;
use crate::api::Product::Cbn;
use crate::emulator::ops::{CREATED, Ctx, Fail, Operation, Res, fail, token_paged};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, Tags, World};

/// The actions this kind serves.
const OPERATIONS: &[Operation] = &[
    Operation::read(Cbn, "ListTransitRouterVbrAttachments", list_vbr_attachments),
    Operation::read(Cbn, "ListTransitRouterVpnAttachments", list_vpn_attachments),
    Operation::read(
        Cbn,
        "ListTransitRouterRouteTableAssociations",
        list_associations,
    ),
    Operation::read(
        Cbn,
        "ListTransitRouterRouteTablePropagations",
        list_propagations,
    ),
    Operation::read(Cbn, "ListTransitRouterRouteEntries", list_route_entries),
    Operation::read(Cbn, "ListTransitRouterRouteTables", list_route_tables),
    Operation::mutate(
        Cbn,
        "DissociateTransitRouterAttachmentFromRouteTable",
        dissociate,
    ),
    Operation::mutate(
        Cbn,
        "DisableTransitRouterRouteTablePropagation",
        disable_propagation,
    ),
    Operation::mutate(Cbn, "DeleteTransitRouterRouteEntry", delete_route_entry),
    Operation::mutate(
        Cbn,
        "DeleteTransitRouterVbrAttachment",
        delete_vbr_attachment,
    ),
    Operation::mutate(
        Cbn,
        "DeleteTransitRouterVpnAttachment",
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
            cx.status(&a.referenced, &a.value.status, ATTACHMENT_STATUSES);
        }
        for e in &world.transit_router_route_entries {
            cx.id(&e.referenced, &e.value.id, "rte-");
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
            for vtb in a.value.associations.iter().chain(&a.value.propagations) {
                cx.reference(&a.referenced, "route table", vtb);
            }
        }
        for e in &world.transit_router_route_entries {
            cx.reference(&e.referenced, "route_table", &e.value.route_table);
            cx.reference(&e.referenced, "next_hop", &e.value.next_hop);
        }
    }

    fn seed(&self, world: &World, st: &mut State) {
        for c in &world.cens {
            st.cens.insert(c.value.id.clone(), c.value.name.clone());
            for tr in &c.value.transit_routers {
                st.trs
                    .insert(tr.id.clone(), (c.value.id.clone(), tr.clone()));
            }
        }
        st.attachments = world
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
        st.route_entries = by_id(&world.transit_router_route_entries, |e| &e.id);
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
}

/// Statuses the world may give an attachment (alibaba-api.md §5.1).
const ATTACHMENT_STATUSES: &[&str] = &["Attaching", "Attached", "Detaching"];

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

impl State {
    /// The TR attachment of an IPsec connection, if it has one.
    pub fn attachment_of_vpn(&self, vco: &str) -> Option<&Attachment> {
        self.attachments
            .values()
            .find(|a| a.spec.vpn_connection.as_deref() == Some(vco))
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
    // Documented pitfall (§5.2): without TransitRouterId, CenId+RegionId or an attachment id
    // the call still answers 200, with no data.
    let scoped = tr.is_some() || id.is_some() || (cen.is_some() && region.is_some());
    let items = st
        .attachments
        .values()
        .filter(|_| scoped)
        .filter(|a| a.resource_type() == kind)
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
        })
        .map(|a| attachment_json(st, a))
        .collect();
    Ok(token_paged(items, page, "TransitRouterAttachments"))
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
    if vtb.is_none() && att.is_none() {
        return Err(fail(
            400,
            "MissingParameter",
            "One of TransitRouterRouteTableId and TransitRouterAttachmentId is mandatory for this action.",
        ));
    }
    let items = links(st, propagations)
        .filter(|(a, t, _)| vtb.is_none_or(|x| x == *t) && att.is_none_or(|x| x == a.spec.id))
        .map(|(a, t, s)| {
            json!({ "TransitRouterAttachmentId": a.spec.id, "TransitRouterRouteTableId": t, "Status": s,
                    "ResourceType": a.resource_type(), "ResourceId": a.resource_id() })
        })
        .collect();
    Ok(token_paged(
        items,
        page,
        if propagations {
            "TransitRouterPropagations"
        } else {
            "TransitRouterAssociations"
        },
    ))
}

fn list_associations(st: &mut State, ctx: &Ctx<'_>) -> Res {
    list_links(st, ctx, false)
}

fn list_propagations(st: &mut State, ctx: &Ctx<'_>) -> Res {
    list_links(st, ctx, true)
}

fn list_route_entries(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let page = ctx.token_page(50)?;
    let vtb = ctx.req("TransitRouterRouteTableId")?;
    let items = st
        .route_entries
        .values()
        .filter(|e| e.route_table == vtb)
        .map(|e| {
            json!({ "TransitRouterRouteEntryId": e.id, "TransitRouterRouteEntryDestinationCidrBlock": e.destination,
                    "TransitRouterRouteEntryType": "Static", "TransitRouterRouteEntryStatus": "Active",
                    "TransitRouterRouteEntryNextHopType": "Attachment", "TransitRouterRouteEntryNextHopId": e.next_hop,
                    "TransitRouterRouteEntryName": "", "CreateTime": CREATED })
        })
        .collect();
    Ok(token_paged(items, page, "TransitRouterRouteEntries"))
}

fn list_route_tables(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let page = ctx.token_page(20)?;
    let tr = ctx.req("TransitRouterId")?;
    let Some((_, router)) = st.trs.get(tr) else {
        return Err(fail(
            400,
            "InvalidTransitRouterId.NotFound",
            "The specified TransitRouterId is not found.",
        ));
    };
    let items = router
        .route_tables
        .iter()
        .enumerate()
        .map(|(i, vtb)| {
            json!({ "TransitRouterRouteTableId": vtb, "TransitRouterRouteTableType": if i == 0 { "System" } else { "Custom" },
                    "TransitRouterRouteTableStatus": "Active", "TransitRouterRouteTableName": "", "CreateTime": CREATED })
        })
        .collect();
    Ok(token_paged(items, page, "TransitRouterRouteTables"))
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

fn delete_route_entry(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let id = ctx.req("TransitRouterRouteEntryId")?;
    if st.route_entries.remove(id).is_none() {
        return Err(fail(
            400,
            "InvalidTransitRouterRouteEntryId.NotFound",
            "The specified TransitRouterRouteEntryId is not found.",
        ));
    }
    Ok(json!({}))
}

fn delete_attachment(st: &mut State, ctx: &Ctx<'_>, kind: &str) -> Res {
    let id = attachment_lookup(st, ctx, Some(kind))?;
    let delay = st.timings.detach_attachment.0;
    let force = ctx.flag("Force");
    let a = &st.attachments[&id];
    if a.spec.status != "Attached" {
        return Err(fail(
            400,
            "IncorrectStatus.Status",
            "The current status of the resource does not support this operation.",
        ));
    }
    let has_routes = st.route_entries.values().any(|e| e.next_hop == id);
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
    }
    if ctx.flag("DryRun") {
        return Err(fail(
            400,
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        ));
    }
    if force {
        st.route_entries.retain(|_, e| e.next_hop != id);
    }
    let a = st.attachments.get_mut(&id).expect("looked up");
    if force {
        a.associations.clear();
        a.propagations.clear();
    }
    a.spec.status = "Detaching".into();
    st.schedule(ctx.now + delay, move |st| {
        st.attachments.remove(&id);
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
