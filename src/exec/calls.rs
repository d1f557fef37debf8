//! What each step sends: the mutating call of a step, and the probe that tells whether a
//! wait is over (or whether a mutation already took effect).

use crate::api::ops::{cbn, vpc};
use crate::api::{CallError, ErrorClass, Product, WriteClient};
use crate::graph::Step;
use crate::model::{Action, Kind};

/// What a probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The resource's current status, or `gone`.
    pub state: String,
}

impl Probe {
    fn gone() -> Probe {
        Probe {
            state: "gone".into(),
        }
    }
    fn of(status: &str) -> Probe {
        Probe {
            state: status.to_string(),
        }
    }
}

/// The rate-limit key of a step's calls: (product, region, action).
pub fn limit_key(step: &Step, action: &str) -> (Product, String, String) {
    let product = crate::api::actions::lookup(action).map_or(Product::Vpc, |a| a.product);
    let region = if product == Product::Vpc {
        step.region.clone()
    } else {
        "global".into()
    };
    (product, region, action.to_string())
}

/// The API operation a probe of this step calls.
pub fn probe_action(step: &Step) -> &'static str {
    match step.kind {
        Kind::PhysicalConnection => "DescribePhysicalConnections",
        Kind::VirtualBorderRouter => "DescribeVirtualBorderRouters",
        Kind::RouterInterface => "DescribeRouterInterfaces",
        Kind::BgpGroup => "DescribeBgpGroups",
        Kind::BgpPeer => "DescribeBgpPeers",
        Kind::RouteTableAssociation => "ListTransitRouterRouteTableAssociations",
        Kind::RouteTablePropagation => "ListTransitRouterRouteTablePropagations",
        Kind::TransitRouterRouteEntry => "ListTransitRouterRouteEntries",
        Kind::TransitRouterVbrAttachment => "ListTransitRouterVbrAttachments",
        Kind::TransitRouterVpnAttachment => "ListTransitRouterVpnAttachments",
        Kind::VpnAttachment => "DescribeVpnAttachments",
        Kind::VpnConnection => "DescribeVpnGateway",
    }
}

/// Split `<attachment>/<route table>`.
fn link(id: &str) -> (&str, &str) {
    id.split_once('/').unwrap_or((id, ""))
}

/// Send the step's mutating call with `token` (ignored by actions without a ClientToken).
pub async fn mutate(w: &WriteClient, step: &Step, token: Option<&str>) -> Result<(), CallError> {
    let (r, id) = (step.region.as_str(), step.resource.as_str());
    match (step.kind, step.action) {
        (Kind::PhysicalConnection, Action::Cancel) => {
            vpc::cancel_physical_connection(w, r, id, token).await
        }
        (Kind::PhysicalConnection, Action::Terminate) => {
            vpc::terminate_physical_connection(w, r, id, token).await
        }
        (Kind::PhysicalConnection, Action::Delete) => {
            vpc::delete_physical_connection(w, r, id, token).await
        }
        (Kind::VirtualBorderRouter, Action::Delete) => {
            vpc::delete_virtual_border_router(w, r, id, token).await
        }
        (Kind::RouterInterface, Action::Deactivate) => {
            vpc::deactivate_router_interface(w, r, id).await
        }
        (Kind::RouterInterface, Action::Delete) => {
            vpc::delete_router_interface(w, r, id, token).await
        }
        (Kind::BgpPeer, Action::Delete) => vpc::delete_bgp_peer(w, r, id, token).await,
        (Kind::BgpGroup, Action::Delete) => vpc::delete_bgp_group(w, r, id, token).await,
        (Kind::RouteTableAssociation, Action::Dissociate) => {
            let (att, vtb) = link(id);
            cbn::dissociate_transit_router_attachment_from_route_table(w, att, vtb, token).await
        }
        (Kind::RouteTablePropagation, Action::DisablePropagation) => {
            let (att, vtb) = link(id);
            cbn::disable_transit_router_route_table_propagation(w, att, vtb, token).await
        }
        (Kind::TransitRouterRouteEntry, Action::Delete) => {
            cbn::delete_transit_router_route_entry(
                w,
                &cbn::RouteEntryRef::Id(id.to_string()),
                token,
            )
            .await
        }
        (Kind::TransitRouterVbrAttachment, Action::Delete) => {
            cbn::delete_transit_router_vbr_attachment(w, id, false, token).await
        }
        (Kind::TransitRouterVpnAttachment, Action::Delete) => {
            cbn::delete_transit_router_vpn_attachment(w, id, false, token).await
        }
        (Kind::VpnAttachment, Action::Delete) => vpc::delete_vpn_attachment(w, r, id, token).await,
        (Kind::VpnConnection, Action::Delete) => vpc::delete_vpn_connection(w, r, id, token).await,
        (kind, action) => {
            return Err(CallError::Decode {
                action: format!("{action} {kind}"),
                status: 0,
                excerpt: "decom has no call for this step".into(),
            });
        }
    }
    .map(|_| ())
}

/// Look at the step's resource now (read capability of `w`).
pub async fn probe(w: &WriteClient, step: &Step) -> Result<Probe, CallError> {
    let c = w.reader();
    let (r, id) = (step.region.as_str(), step.resource.as_str());
    let one = |v: Vec<String>| {
        v.into_iter()
            .next()
            .map_or_else(Probe::gone, |s| Probe::of(&s))
    };
    if super::poll::listable(step.kind) {
        // The same queries the coalesced poller sends, for this one resource.
        let ids = vec![step.resource.clone()];
        let scope = super::poll::Scope::of(step);
        return match super::poll::query(w, &scope, Some(&ids), true).await {
            Ok((states, _)) => Ok(states.get(id).map_or_else(Probe::gone, |s| Probe::of(s))),
            Err(e) if e.class() == ErrorClass::Gone => Ok(Probe::gone()),
            Err(e) => Err(e),
        };
    }
    let res = match step.kind {
        Kind::BgpGroup => {
            let f = vpc::BgpGroupFilter {
                bgp_group_id: Some(id.to_string()),
                ..Default::default()
            };
            vpc::describe_bgp_groups(&c, r, &f)
                .await
                .map(|v| one(v.into_iter().map(|x| x.status).collect()))
        }
        Kind::BgpPeer => {
            let f = vpc::BgpPeerFilter {
                bgp_peer_id: Some(id.to_string()),
                ..Default::default()
            };
            vpc::describe_bgp_peers(&c, r, &f)
                .await
                .map(|v| one(v.into_iter().map(|x| x.status).collect()))
        }
        Kind::TransitRouterRouteEntry => Ok(Probe::of("unknown")),
        // Listable kinds returned above.
        Kind::PhysicalConnection
        | Kind::VirtualBorderRouter
        | Kind::RouterInterface
        | Kind::RouteTableAssociation
        | Kind::RouteTablePropagation
        | Kind::TransitRouterVbrAttachment
        | Kind::TransitRouterVpnAttachment => Ok(Probe::gone()),
        Kind::VpnAttachment => vpc::describe_vpn_attachments(&c, r, Some(id))
            .await
            .map(|v| {
                if v.is_empty() {
                    Probe::gone()
                } else {
                    Probe::of("attached")
                }
            }),
        Kind::VpnConnection => match step.action {
            // The wait after DeleteVpnConnection watches the gateway.
            Action::Wait => match &step.parent {
                Some(gw) => vpc::describe_vpn_gateway(&c, r, gw)
                    .await
                    .map(|g| Probe::of(&g.status)),
                None => Ok(Probe::of("active")),
            },
            _ => vpc::describe_vpn_connection(&c, r, id)
                .await
                .map(|_| Probe::of("active")),
        },
    };
    match res {
        Err(e) if e.class() == ErrorClass::Gone => Ok(Probe::gone()),
        other => other,
    }
}

/// Has a wait step's condition been reached?
pub fn reached(step: &Step, probe: &Probe) -> bool {
    let until = step.until.as_deref().unwrap_or("gone");
    if probe.state == "gone" {
        // Gone satisfies every wait: the next step will find nothing left to do.
        return true;
    }
    probe.state.eq_ignore_ascii_case(until)
}

/// After an error, did the mutation nevertheless take effect (a lost answer replayed
/// without a token, or a state change someone else made)?
pub fn already_applied(step: &Step, probe: &Probe) -> bool {
    let s = probe.state.as_str();
    match step.action {
        Action::Terminate => matches!(s, "Terminating" | "Terminated" | "gone"),
        Action::Cancel => matches!(s, "Canceled" | "gone"),
        Action::Deactivate => matches!(s, "Deactivating" | "Inactive" | "gone"),
        Action::Dissociate => matches!(s, "Dissociating" | "gone"),
        Action::DisablePropagation => matches!(s, "Disabling" | "gone"),
        Action::Delete => match step.kind {
            Kind::TransitRouterVbrAttachment | Kind::TransitRouterVpnAttachment => {
                matches!(s, "Detaching" | "gone")
            }
            Kind::VpnConnection | Kind::TransitRouterRouteEntry => false,
            _ => s == "gone",
        },
        Action::Wait => false,
    }
}
