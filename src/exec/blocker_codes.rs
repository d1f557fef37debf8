//! Blocker codes: the API's answers that mean "something else still stands in the way"
//! (`DependencyViolation.*`, `Forbidden.VbrAttached`, `OperationDenied.MacsecAttached`, ...).
//!
//! Such an answer is worth retrying only while this run has an unfinished step that removes
//! the cause (a BGP group of the VBR still being deleted when DeleteVirtualBorderRouter
//! answers `DependencyViolation.BgpGroup`). Otherwise waiting changes nothing: the step fails
//! at once with the code explained — what it means, what to remove and who can — instead of
//! a retry loop that ends in a bare code at the step's deadline.
//!
//! [`BLOCKER_CODES`] is the table; [`lookup`] finds a code's row (exact codes first, then the
//! `DependencyViolation.` family); [`pending_removal`] tells whether a run has a step that
//! would clear it: an unfinished step of one of the row's kinds on a resource that hangs off
//! the refused step's resource (its parent chain leads to it).
//!
//! Sources: the documented codes of blockers.md §1A/§1B (DeleteVirtualBorderRouter's error
//! table, TerminatePhysicalConnection / DeletePhysicalConnection, DeleteRouterInterface,
//! DeleteTransitRouterVbrAttachment); the emulator's choices for undocumented refusals are
//! marked "emulator choice".

use std::collections::HashMap;

use crate::graph::Step;
use crate::model::Kind;

/// One blocker code and what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockerCode {
    /// The API's error Code (for a family, its prefix ending in `.`).
    pub code: &'static str,
    /// What the refusal means.
    pub means: &'static str,
    /// What must be removed first (and with which call).
    pub remove: &'static str,
    /// Who can remove it.
    pub who: &'static str,
    /// Kinds whose unfinished steps (on resources under the refused one) clear the cause;
    /// `None`: steps of any kind do (an undocumented `DependencyViolation.*`).
    pub cleared_by: Option<&'static [Kind]>,
}

impl BlockerCode {
    /// The text a failed step shows: the code explained, then the API's own message.
    pub fn explain(&self, step: &Step, api_message: &str) -> String {
        let mut s = format!(
            "{} {} was refused: {}. Remove first: {}. Who can: {}.",
            step.api, step.resource, self.means, self.remove, self.who
        );
        if !api_message.is_empty() {
            s.push_str(&format!(" (API message: {api_message})"));
        }
        s
    }
}

const fn row(
    code: &'static str,
    means: &'static str,
    remove: &'static str,
    who: &'static str,
    cleared_by: &'static [Kind],
) -> BlockerCode {
    BlockerCode {
        code,
        means,
        remove,
        who,
        cleared_by: Some(cleared_by),
    }
}

const CIRCUIT_OWNER: &str = "the circuit's owner (decom, with cascade)";
const VBR_OWNER: &str = "the VBR's owner (decom, with cascade, for the caller's VBRs)";

/// Every blocker code decom knows, with the kinds whose pending steps clear it.
pub const BLOCKER_CODES: &[BlockerCode] = &[
    // TerminatePhysicalConnection / DeletePhysicalConnection (blockers.md C1, C4, C6).
    row(
        "Forbidden.VbrAttached",
        "virtual border routers still sit on the circuit",
        "every VBR on it (DeleteVirtualBorderRouter, then wait until it is gone)",
        "each VBR's owner; another account's active VBR only that account",
        &[Kind::VirtualBorderRouter],
    ),
    row(
        "Forbidden.VBRExists",
        "a virtual border router of the circuit's owner still exists on it",
        "every VBR on it (DeleteVirtualBorderRouter, then wait until it is gone)",
        VBR_OWNER,
        &[Kind::VirtualBorderRouter],
    ),
    row(
        "Forbidden.AssociateToVBR",
        "the circuit is still associated with a virtual border router",
        "the VBRs on it, or their association with this circuit",
        VBR_OWNER,
        &[Kind::VirtualBorderRouter, Kind::VbrCircuitAssociation],
    ),
    row(
        "OperationFailed.VpconnAttached",
        "hosted connections still run on the circuit",
        "each hosted connection (DeletePhysicalConnection on its id), after the tenants' VBRs on it",
        "the partner that owns this circuit deletes hosted connections; each tenant deletes its own VBRs on them",
        &[Kind::HostedConnection],
    ),
    row(
        "OperationDenied.NeedVpconnOwner",
        "hosted connections still run on the circuit, or the caller is a tenant of a hosted connection",
        "each hosted connection (DeletePhysicalConnection on its id, by the partner that owns the parent circuit)",
        "the partner that owns the parent circuit; tenants cannot delete hosted connections",
        &[Kind::HostedConnection],
    ),
    row(
        "OperationDenied.MacsecAttached",
        "a MACsec key is still bound to the circuit's port",
        "every MACsec key (DisassociateMacSecKey per CKN until DescribePhysicalConnections shows no MacsecKeys)",
        CIRCUIT_OWNER,
        &[Kind::MacsecKey],
    ),
    // DeleteVirtualBorderRouter (blockers.md §1B: its documented error table).
    row(
        "InvalidOperation.RouterInterfaceNotDeleted",
        "router interfaces still exist on the VBR",
        "every router interface of the VBR (DeactivateRouterInterface, DeleteRouterInterface, wait until gone)",
        VBR_OWNER,
        &[Kind::RouterInterface],
    ),
    row(
        "DependencyViolation.BgpGroup",
        "BGP groups still exist on the VBR",
        "every BGP group of the VBR, its peers first (DeleteBgpPeer, DeleteBgpGroup, each waited until gone)",
        VBR_OWNER,
        &[Kind::BgpGroup, Kind::BgpPeer],
    ),
    row(
        "DependencyViolation.BgpPeer",
        "BGP peers still exist in the group",
        "every peer of the group (DeleteBgpPeer, waited until gone)",
        VBR_OWNER,
        &[Kind::BgpPeer],
    ),
    row(
        "DependencyViolation.Nqa",
        "an NQA probe still exists on the VBR",
        "the VBR's NQA probes (DeleteNqa)",
        VBR_OWNER,
        &[Kind::Nqa],
    ),
    row(
        "DependencyViolation.RouterInterfaceReferedByRouteEntry",
        "a route in the VBR's route table still uses one of its router interfaces as next hop",
        "those routes (DeleteRouteEntry), then the router interfaces",
        VBR_OWNER,
        &[Kind::VbrRouteEntry, Kind::RouterInterface],
    ),
    row(
        "InvalidStatus.NotAllowed",
        "the VBR is still associated: with another circuit, or (emulator choice) with a transit router",
        "its extra circuit associations (UnassociatePhysicalConnectionFromVirtualBorderRouter) and its transit-router attachment",
        "the VBR's owner; a transit-router attachment in another account's CEN only that CEN's owner",
        &[
            Kind::TransitRouterVbrAttachment,
            Kind::VbrCircuitAssociation,
        ],
    ),
    row(
        "DependencyViolation.BgpNetwork",
        "BGP networks are still advertised by the VBR (emulator choice: the code is not documented)",
        "the VBR's BGP networks (DeleteBgpNetwork, waited until gone)",
        VBR_OWNER,
        &[Kind::BgpNetwork],
    ),
    row(
        "OperationDenied.VbrAttachedToEcr",
        "the VBR is attached to an Express Connect Router (emulator choice: the code is not documented)",
        "the ECR child instance (DetachExpressConnectRouterChildInstance, waited until gone)",
        "the ECR's owner",
        &[Kind::EcrChildInstance],
    ),
    row(
        "OperationDenied.VbrAttachedToCen",
        "the VBR is attached to a Basic-Edition CEN (emulator choice: the code is not documented)",
        "the CEN child instance (DetachCenChildInstance, waited until gone)",
        "the CEN's owner",
        &[Kind::CenChildInstance],
    ),
    // DeleteRouterInterface (blockers.md V2).
    row(
        "RouterInterfaceReferredByRouteEntry",
        "a route in the VBR's route table still uses this router interface as next hop",
        "those routes (DeleteRouteEntry, waited until gone)",
        VBR_OWNER,
        &[Kind::VbrRouteEntry],
    ),
    row(
        "ReferredByRouteEntry.RouterInterface",
        "a route in the VBR's route table still uses this router interface as next hop",
        "those routes (DeleteRouteEntry, waited until gone)",
        VBR_OWNER,
        &[Kind::VbrRouteEntry],
    ),
    // DeleteTransitRouterVbrAttachment / DeleteTransitRouterVpnAttachment (blockers.md §1C).
    row(
        "OperationFailed.RouteTableAssociationExist",
        "the attachment is still associated with a route table",
        "the association (DissociateTransitRouterAttachmentFromRouteTable, waited until gone)",
        "the transit router's owner",
        &[Kind::RouteTableAssociation],
    ),
    row(
        "OperationFailed.RouteTablePropagationExist",
        "the attachment still propagates routes to a route table",
        "the propagation (DisableTransitRouterRouteTablePropagation, waited until gone)",
        "the transit router's owner",
        &[Kind::RouteTablePropagation],
    ),
    row(
        "OperationFailed.RouteEntryExist",
        "a custom route still has the attachment as next hop",
        "those routes (DeleteTransitRouterRouteEntry)",
        "the transit router's owner",
        &[Kind::TransitRouterRouteEntry],
    ),
    row(
        "OperationFailed.VbrHaExist",
        "the VBR is in a VBR failover group (emulator choice: the code is not documented)",
        "the failover group (DeleteVbrHa with its vbrha- id, waited until gone)",
        "the VBRs' owner",
        &[Kind::VbrHa],
    ),
    row(
        "OperationFailed.VbrHealthCheckExist",
        "a CEN health check is still configured for the VBR (emulator choice: the code is not documented)",
        "the health check (DisableCenVbrHealthCheck, waited until gone)",
        "the CEN's owner",
        &[Kind::VbrHealthCheck],
    ),
    row(
        "OperationFailed.AttachmentReferencedVpcRouteEntryExisted",
        "a route in the child instance's route table still points at the attachment",
        "those routes",
        "the child instance's owner",
        &[Kind::CenChildInstance],
    ),
    // Any other dependency: retried only while something under the resource is removed.
    BlockerCode {
        code: "DependencyViolation.",
        means: "a dependent resource still exists (an undocumented DependencyViolation code)",
        remove: "the resource the code names",
        who: "that resource's owner",
        cleared_by: None,
    },
];

/// The row of `code`: its exact row, else its family (`DependencyViolation.`).
pub fn lookup(code: &str) -> Option<&'static BlockerCode> {
    BLOCKER_CODES.iter().find(|b| b.code == code).or_else(|| {
        BLOCKER_CODES
            .iter()
            .find(|b| b.code.ends_with('.') && code.starts_with(b.code))
    })
}

/// Does an unfinished step (`finished[i]` false) of one of `b`'s kinds work on a resource
/// under `step`'s resource (its parent chain, through `parents`, reaches it)?
pub fn pending_removal(
    b: &BlockerCode,
    step: &Step,
    steps: &[(Kind, String)],
    parents: &HashMap<String, String>,
    finished: impl Fn(usize) -> bool,
) -> bool {
    steps.iter().enumerate().any(|(i, (kind, id))| {
        if finished(i) || id == &step.resource {
            return false;
        }
        if b.cleared_by.is_some_and(|ks| !ks.contains(kind)) {
            return false;
        }
        let mut at = id.as_str();
        for _ in 0..16 {
            match parents.get(at) {
                Some(p) if p == &step.resource => return true,
                Some(p) => at = p,
                None => return false,
            }
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;

    fn step(kind: Kind, id: &str) -> Step {
        Step {
            id: 0,
            kind,
            resource: id.into(),
            region: "cn-shanghai".into(),
            parent: None,
            scope: None,
            action: Action::Delete,
            api: "DeleteVirtualBorderRouter".into(),
            until: None,
            reason: String::new(),
            depends_on: vec![],
            client_token: None,
            state: String::new(),
            level: 0,
        }
    }

    #[test]
    fn exact_codes_win_over_their_family_and_unknown_codes_have_no_row() {
        assert_eq!(
            lookup("DependencyViolation.BgpGroup").unwrap().cleared_by,
            Some(&[Kind::BgpGroup, Kind::BgpPeer][..])
        );
        assert_eq!(
            lookup("DependencyViolation.Whatever").unwrap().code,
            "DependencyViolation."
        );
        assert!(lookup("VpnGateway.Configuring").is_none());
        for b in BLOCKER_CODES {
            assert_eq!(BLOCKER_CODES.iter().filter(|o| o.code == b.code).count(), 1);
        }
    }

    #[test]
    fn only_an_unfinished_step_under_the_refused_resource_counts() {
        let b = lookup("DependencyViolation.BgpGroup").unwrap();
        let vbr = step(Kind::VirtualBorderRouter, "vbr-1");
        let steps = vec![
            (Kind::BgpPeer, "bgp-1".to_string()),
            (Kind::BgpGroup, "bgpg-1".to_string()),
            (Kind::BgpGroup, "bgpg-other".to_string()),
            (Kind::VirtualBorderRouter, "vbr-1".to_string()),
        ];
        let parents: HashMap<String, String> = [
            ("bgp-1", "bgpg-1"),
            ("bgpg-1", "vbr-1"),
            ("bgpg-other", "vbr-2"),
            ("vbr-1", "pc-1"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        // The peer (a grandchild) and the group are pending: retry.
        assert!(pending_removal(b, &vbr, &steps, &parents, |_| false));
        // Only another VBR's group is pending: fail now.
        assert!(!pending_removal(b, &vbr, &steps, &parents, |i| i != 2));
        // Nothing of the row's kinds is pending.
        let nqa = lookup("DependencyViolation.Nqa").unwrap();
        assert!(!pending_removal(nqa, &vbr, &steps, &parents, |_| false));
    }
}
