//! What the transit-router kinds share (not a kind itself): the route tables of the transit
//! routers involved, listed once per discovery (ListTransitRouterRouteTables), how the
//! route-table links of attachments are queried (ListTransitRouterRouteTableAssociations /
//! ...Propagations, Cbn 2017-09-12, alibaba-api.md §5.4), and the attachment fields both
//! attachment kinds share.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tokio::sync::Mutex;

use super::{Kind, Listing, PollScope, absent_ok, concurrently};
use crate::api::ops::{Tags, cbn};
use crate::api::{BoxFuture, CallError, ReadClient};
use crate::discover::{Found, Inventory, Resource};

/// Route tables per transit router, listed at most once per discovery.
#[derive(Debug, Default)]
pub struct Memo {
    tables: Mutex<BTreeMap<String, Vec<String>>>,
}

/// The TR attachments (both kinds) in the inventory: (id, region, transit router).
pub fn attachments(inv: &Inventory) -> Vec<(String, String, String)> {
    inv.of_kind(Kind::TransitRouterVbrAttachment)
        .chain(inv.of_kind(Kind::TransitRouterVpnAttachment))
        .map(|r| {
            (
                r.id.clone(),
                r.region.clone(),
                r.fact("transit_router").to_string(),
            )
        })
        .collect()
}

/// The transit router of a TR attachment of the inventory (either kind).
pub fn router_of<'a>(inv: &'a Inventory, attachment: &str) -> Option<&'a str> {
    [
        Kind::TransitRouterVbrAttachment,
        Kind::TransitRouterVpnAttachment,
    ]
    .into_iter()
    .find_map(|k| inv.get(k, attachment))
    .map(|a| a.fact("transit_router"))
    .filter(|t| !t.is_empty())
}

impl Memo {
    /// The route tables of every transit router of the inventory's TR attachments (a
    /// router that is gone has none). Errors: API failures.
    pub async fn tables_of(
        &self,
        client: &ReadClient,
        inv: &Inventory,
    ) -> Result<BTreeMap<String, Vec<String>>, CallError> {
        let mut known = self.tables.lock().await;
        let routers: BTreeSet<String> = attachments(inv)
            .into_iter()
            .map(|a| a.2)
            .filter(|t| !t.is_empty() && !known.contains_key(t))
            .collect();
        let c = client.clone();
        let listed = concurrently(routers.into_iter().collect(), move |tr: String| {
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
        known.extend(listed);
        let wanted: BTreeSet<String> = attachments(inv).into_iter().map(|a| a.2).collect();
        Ok(known
            .iter()
            .filter(|(tr, _)| wanted.contains(*tr))
            .map(|(tr, t)| (tr.clone(), t.clone()))
            .collect())
    }
}

/// The listings that cover every TR attachment of the inventory, and the region of each
/// attachment. Propagations are listed per route table of the transit routers
/// involved: `ListTransitRouterRouteTablePropagations` requires `TransitRouterRouteTableId`
/// (SDK model, alibabacloud-cbn20170912 1.4.0; blockers.md §3.1). Associations may be listed
/// per attachment, or — when a transit router has more of our attachments than tables —
/// per table unless the tables' pages outnumber the attachments ([`LinkPlan::tables_or`]).
pub fn link_queries(
    links: LinkKind,
    inv: &Inventory,
    tables_of: &BTreeMap<String, Vec<String>>,
) -> LinkPlan {
    let atts = attachments(inv);
    let mut per_attachment: Vec<String> = Vec::new();
    let mut per_table: Vec<String> = Vec::new();
    let mut tables_or: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for (tr, tr_tables) in tables_of {
        let mine: Vec<&(String, String, String)> = atts.iter().filter(|a| &a.2 == tr).collect();
        if mine.is_empty() {
            continue;
        }
        if links == LinkKind::Propagation {
            per_table.extend(tr_tables.iter().cloned());
        } else if !tr_tables.is_empty() && mine.len() > tr_tables.len() {
            tables_or.push((
                tr_tables.clone(),
                mine.iter().map(|a| a.0.clone()).collect(),
            ));
        } else {
            per_attachment.extend(mine.iter().map(|a| a.0.clone()));
        }
    }
    if links == LinkKind::Association {
        per_attachment.extend(
            atts.iter()
                .filter(|a| !tables_of.contains_key(&a.2))
                .map(|a| a.0.clone()),
        );
    }
    let region_of = atts.iter().map(|a| (a.0.clone(), a.1.clone())).collect();
    let queries = per_attachment
        .into_iter()
        .map(by_attachment)
        .chain(per_table.into_iter().map(by_table))
        .collect();
    LinkPlan {
        queries,
        tables_or,
        region_of,
    }
}

/// How [`discover_links`] lists the links of the inventory's TR attachments.
#[derive(Debug, Default)]
pub struct LinkPlan {
    /// Listings to make as they are (per attachment, or per route table).
    pub queries: Vec<cbn::RouteTableLinkQuery>,
    /// Associations of a transit router with more attachments in the inventory than route
    /// tables: (its tables, those attachments). Per table, unless page 1 of each table
    /// (`TotalCount`) shows that their remaining pages outnumber the attachments: then
    /// per attachment ([`tables_or_attachments`]).
    pub tables_or: Vec<(Vec<String>, Vec<String>)>,
    /// Attachment → its region.
    pub region_of: BTreeMap<String, String>,
}

fn by_attachment(att: String) -> cbn::RouteTableLinkQuery {
    cbn::RouteTableLinkQuery {
        transit_router_attachment_id: Some(att),
        ..Default::default()
    }
}

fn by_table(vtb: String) -> cbn::RouteTableLinkQuery {
    cbn::RouteTableLinkQuery {
        transit_router_route_table_id: Some(vtb),
        ..Default::default()
    }
}

/// The associations of `attachments` (one transit router's), from `tables` (its route
/// tables) in the fewer calls: page 1 of every table at once, then the rest of the tables
/// when their remaining pages are no more than one call per attachment, else one call per
/// attachment (page 1 only shows how big the tables are: the links of other attachments
/// fill them). Every listing answers whole, so nothing is missed either way. Errors: the
/// first failed call.
pub async fn tables_or_attachments(
    c: &ReadClient,
    tables: Vec<String>,
    attachments: Vec<String>,
) -> Result<Vec<cbn::RouteTableLink>, CallError> {
    let firsts = concurrently(tables.clone(), {
        let c = c.clone();
        move |vtb: String| {
            let c = c.clone();
            async move { cbn::route_table_associations_first_page(&c, &by_table(vtb)).await }
        }
    })
    .await?;
    let remaining: Option<usize> = firsts
        .iter()
        .map(|f| f.calls(crate::api::ops::PAGE_SIZE).map(|n| n - 1))
        .sum();
    let c = c.clone();
    if remaining.is_some_and(|r| r > attachments.len()) {
        let listed = concurrently(attachments, move |att: String| {
            let c = c.clone();
            async move {
                cbn::list_transit_router_route_table_associations(&c, &by_attachment(att)).await
            }
        })
        .await?;
        return Ok(listed.into_iter().flatten().collect());
    }
    let listed = concurrently(
        tables.into_iter().zip(firsts).collect(),
        move |(vtb, first)| {
            let c = c.clone();
            async move { cbn::route_table_associations_after(&c, &by_table(vtb), first).await }
        },
    )
    .await?;
    Ok(listed.into_iter().flatten().collect())
}

/// Which link listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// ListTransitRouterRouteTableAssociations.
    Association,
    /// ListTransitRouterRouteTablePropagations.
    Propagation,
}

impl LinkKind {
    /// The resource kind of these links.
    pub fn kind(self) -> Kind {
        match self {
            LinkKind::Association => Kind::RouteTableAssociation,
            LinkKind::Propagation => Kind::RouteTablePropagation,
        }
    }

    /// One listing call (all pages).
    pub async fn list(
        self,
        c: &ReadClient,
        q: &cbn::RouteTableLinkQuery,
    ) -> Result<Vec<cbn::RouteTableLink>, CallError> {
        match self {
            LinkKind::Association => cbn::list_transit_router_route_table_associations(c, q).await,
            LinkKind::Propagation => match &q.transit_router_route_table_id {
                Some(vtb) => {
                    cbn::list_transit_router_route_table_propagations(
                        c,
                        vtb,
                        q.transit_router_attachment_id.as_deref(),
                    )
                    .await
                }
                // Never built (link_queries and poll_links always name the table for
                // propagations); the API would refuse it with MissingTransitRouterRouteTableId.
                None => Err(CallError::Decode {
                    action: "ListTransitRouterRouteTablePropagations".into(),
                    status: 0,
                    excerpt: "decom built a propagations query without a route table".into(),
                }),
            },
        }
    }
}

/// Discover the links of one kind of every TR attachment in the inventory.
pub async fn discover_links(
    links: LinkKind,
    client: &ReadClient,
    memo: &Memo,
    inv: &mut Found<'_>,
) -> Result<(), CallError> {
    let tables_of = memo.tables_of(client, inv).await?;
    let LinkPlan {
        queries,
        tables_or,
        region_of,
    } = link_queries(links, inv, &tables_of);
    let c = client.clone();
    let direct = concurrently(queries, move |q| {
        let c = c.clone();
        async move { links.list(&c, &q).await }
    });
    let c = client.clone();
    let chosen = concurrently(tables_or, move |(tables, atts)| {
        let c = c.clone();
        async move { tables_or_attachments(&c, tables, atts).await }
    });
    // The first error ends both (the other half is dropped, not waited for).
    let (direct, chosen) = futures_util::future::try_join(direct, chosen).await?;
    for l in direct.into_iter().chain(chosen).flatten() {
        let att = l.transit_router_attachment_id.clone();
        let Some(region) = region_of.get(&att) else {
            continue;
        };
        let mut r = Resource::new(
            links.kind(),
            format!("{att}/{}", l.transit_router_route_table_id),
            region,
        );
        r.status = l.status.clone();
        r.parent = Some(att);
        r.facts.insert(
            "route_table".into(),
            l.transit_router_route_table_id.clone(),
        );
        inv.insert(r);
    }
    Ok(())
}

/// Poll links of one kind: by route table (one call for the whole table), or per link
/// (attachment and table: the table is required for propagations) to confirm.
pub fn poll_links<'a>(
    links: LinkKind,
    c: &'a ReadClient,
    scope: &'a PollScope,
    ids: Option<&'a [String]>,
    one_by_one: bool,
) -> BoxFuture<'a, Result<Listing, CallError>> {
    Box::pin(async move {
        let queries: Vec<cbn::RouteTableLinkQuery> = match ids {
            Some(ids) if one_by_one || ids.len() <= 1 || scope.key.is_empty() => ids
                .iter()
                .map(|id| {
                    let (att, vtb) = super::link(id);
                    cbn::RouteTableLinkQuery {
                        transit_router_attachment_id: Some(att.to_string()),
                        transit_router_route_table_id: Some(vtb.to_string())
                            .filter(|t| !t.is_empty()),
                    }
                })
                .collect(),
            _ => vec![cbn::RouteTableLinkQuery {
                transit_router_route_table_id: Some(scope.key.clone()),
                ..Default::default()
            }],
        };
        let mut out = HashMap::new();
        let mut n = 0;
        for q in queries {
            for l in links.list(c, &q).await? {
                n += 1;
                out.insert(
                    format!(
                        "{}/{}",
                        l.transit_router_attachment_id, l.transit_router_route_table_id
                    ),
                    l.status,
                );
            }
        }
        Ok((out, n))
    })
}

/// The fields both TR attachment kinds share.
pub struct AttachmentFields<'a> {
    /// The kind.
    pub kind: Kind,
    /// `tr-attach-…`.
    pub id: &'a str,
    /// `tr-…`.
    pub transit_router: &'a str,
    /// Status.
    pub status: &'a str,
    /// Name.
    pub name: &'a str,
    /// Tags.
    pub tags: &'a Tags,
    /// The attached VBR or IPsec connection.
    pub parent: &'a str,
    /// The attached resource's region.
    pub region: &'a str,
}

/// A TR attachment as discovery records it (parent: the attached resource;
/// `transit_router` fact).
pub fn attachment_resource(f: AttachmentFields<'_>) -> Resource {
    let mut r = Resource::new(f.kind, f.id, f.region);
    r.status = f.status.to_string();
    r.name = f.name.to_string();
    r.tags = f.tags.clone();
    r.parent = (!f.parent.is_empty()).then(|| f.parent.to_string());
    r.facts
        .insert("transit_router".into(), f.transit_router.to_string());
    r
}

/// Poll TR attachments: by transit router (one call for all), or per id to confirm.
pub async fn poll_attachments<T, F, Fut>(
    scope: &PollScope,
    ids: Option<&[String]>,
    one_by_one: bool,
    list: F,
) -> Result<Listing, CallError>
where
    F: Fn(cbn::AttachmentQuery) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, CallError>>,
    T: AttachmentStatus,
{
    let router_known = scope.key.starts_with("tr-") && !scope.key.starts_with("tr-attach-");
    let queries: Vec<cbn::AttachmentQuery> = match ids {
        Some(ids) if one_by_one || ids.len() <= 1 || !router_known => ids
            .iter()
            .map(|id| cbn::AttachmentQuery {
                transit_router_attachment_id: Some(id.clone()),
                ..Default::default()
            })
            .collect(),
        _ => vec![cbn::AttachmentQuery {
            transit_router_id: Some(scope.key.clone()),
            ..Default::default()
        }],
    };
    let mut out = HashMap::new();
    let mut n = 0;
    for q in queries {
        for a in list(q).await? {
            n += 1;
            let (id, status) = a.id_and_status();
            out.insert(id, status);
        }
    }
    Ok((out, n))
}

/// An attachment listing item's id and status.
pub trait AttachmentStatus {
    /// (`TransitRouterAttachmentId`, `Status`).
    fn id_and_status(self) -> (String, String);
}

impl AttachmentStatus for cbn::TransitRouterVbrAttachment {
    fn id_and_status(self) -> (String, String) {
        (self.transit_router_attachment_id, self.status)
    }
}

impl AttachmentStatus for cbn::TransitRouterVpnAttachment {
    fn id_and_status(self) -> (String, String) {
        (self.transit_router_attachment_id, self.status)
    }
}

/// The steps of a TR attachment by status: delete, then wait until gone (deletion is
/// asynchronous); an `Attaching` one first waits for `Attached`, a `Detaching` one only
/// waits.
pub fn attachment_steps(
    r: &Resource,
    delete: &'static str,
    list: &'static str,
) -> Vec<super::StepSpec> {
    use super::StepSpec;
    use crate::model::Action;
    let gone = StepSpec::wait(list, "gone", "deletion is asynchronous (Detaching)");
    let mut why = "the attachment itself".to_string();
    let routes = super::transit_router_route_entry::routes_text;
    if let Some(t) = routes(r, "system_routes") {
        why.push_str(&format!(
            "; its system routes (no route id, OperationalMode=false) go with it: {t}"
        ));
    }
    if let Some(t) = routes(r, "other_routes") {
        why.push_str(&format!(
            "; routes without an id whose generator is not in the plan go with it: {t}"
        ));
    }
    let d = StepSpec::call(Action::Delete, delete, why);
    match r.status.as_str() {
        "Detaching" => vec![gone],
        "Attaching" => vec![StepSpec::wait(list, "Attached", "still attaching"), d, gone],
        _ => vec![d, gone],
    }
}

/// The listing query of a TR attachment selector: the API lists attachments per transit
/// router, so the selector must name one. Errors: a selector without `transit_router`.
pub fn selector_query(
    q: super::ListQuery<'_>,
) -> Result<cbn::AttachmentQuery, crate::discover::DiscoverError> {
    let Some(tr) = &q.matcher.transit_router else {
        return Err(crate::discover::DiscoverError::Selector {
            target: q.target.describe(),
            why: "a transit-router attachment selector needs transit_router (the API lists attachments per transit router)".into(),
        });
    };
    Ok(cbn::AttachmentQuery {
        transit_router_id: Some(tr.clone()),
        ..Default::default()
    })
}

/// The preview note of a TR attachment: the routes without a route id that go with it
/// (system routes; routes whose generator is not in the plan).
pub fn withdrawn_note(r: &Resource) -> Option<String> {
    let routes = super::transit_router_route_entry::routes_text;
    let mut parts = Vec::new();
    if let Some(t) = routes(r, "system_routes") {
        parts.push(format!(
            "its system routes (no route id, OperationalMode=false) go with it: {t}"
        ));
    }
    if let Some(t) = routes(r, "other_routes") {
        parts.push(format!("routes without a route id via it go with it: {t}"));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}
