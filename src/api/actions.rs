//! The actions decom knows: which product serves each and whether it changes anything.
//! This table is what keeps the read capability honest and lets `decom api` infer the product.

use super::Product;

/// Read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Describe/List/Get: no state change.
    Read,
    /// Anything that changes a resource.
    Mutate,
}

/// One known action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionInfo {
    /// The API name.
    pub name: &'static str,
    /// Its product.
    pub product: Product,
    /// Read or mutate.
    pub access: Access,
    /// Whether it takes a `ClientToken` (alibaba-api.md §1–§5, §8).
    pub client_token: bool,
}

const fn a(name: &'static str, product: Product, access: Access, client_token: bool) -> ActionInfo {
    ActionInfo {
        name,
        product,
        access,
        client_token,
    }
}

use Access::{Mutate, Read};
use Product::{Cbn, ExpressConnectRouter as Ecr, Sts, Vpc};

/// Every action decom calls (design.md §3, alibaba-api.md §1–§5, STS GetCallerIdentity).
pub const ACTIONS: &[ActionInfo] = &[
    // Express Connect circuits
    a("DescribePhysicalConnections", Vpc, Read, false),
    a("CancelPhysicalConnection", Vpc, Mutate, true),
    a("TerminatePhysicalConnection", Vpc, Mutate, true),
    a("DeletePhysicalConnection", Vpc, Mutate, true),
    // VBRs
    a("DescribeVirtualBorderRouters", Vpc, Read, false),
    a(
        "DescribeVirtualBorderRoutersForPhysicalConnection",
        Vpc,
        Read,
        false,
    ),
    a("TerminateVirtualBorderRouter", Vpc, Mutate, true),
    a("DeleteVirtualBorderRouter", Vpc, Mutate, true),
    // Router interfaces
    a("DescribeRouterInterfaces", Vpc, Read, false),
    a("DeactivateRouterInterface", Vpc, Mutate, false),
    a("DeleteRouterInterface", Vpc, Mutate, true),
    // BGP
    a("DescribeBgpGroups", Vpc, Read, false),
    a("DescribeBgpPeers", Vpc, Read, false),
    a("DeleteBgpPeer", Vpc, Mutate, true),
    a("DeleteBgpGroup", Vpc, Mutate, true),
    // IPsec-VPN
    a("DescribeVpnAttachments", Vpc, Read, false),
    a("DescribeVpnConnection", Vpc, Read, false),
    a("DescribeVpnConnections", Vpc, Read, false),
    a("DescribeVpnGateway", Vpc, Read, false),
    a("DeleteVpnConnection", Vpc, Mutate, true),
    a("DeleteVpnAttachment", Vpc, Mutate, true),
    // CEN transit router
    a("ListTransitRouterVbrAttachments", Cbn, Read, false),
    a("ListTransitRouterVpnAttachments", Cbn, Read, false),
    a("ListTransitRouterRouteTableAssociations", Cbn, Read, false),
    a("ListTransitRouterRouteTablePropagations", Cbn, Read, false),
    a("ListTransitRouterRouteEntries", Cbn, Read, false),
    a("ListTransitRouterRouteTables", Cbn, Read, false),
    a(
        "DissociateTransitRouterAttachmentFromRouteTable",
        Cbn,
        Mutate,
        true,
    ),
    a(
        "DisableTransitRouterRouteTablePropagation",
        Cbn,
        Mutate,
        true,
    ),
    a("DeleteTransitRouterRouteEntry", Cbn, Mutate, true),
    a("DeleteTransitRouterVbrAttachment", Cbn, Mutate, true),
    a("DeleteTransitRouterVpnAttachment", Cbn, Mutate, true),
    // CEN prefix-list associations (issue 12: what routes via an attachment)
    a("ListTransitRouterPrefixListAssociation", Cbn, Read, false),
    a(
        "DeleteTransitRouterPrefixListAssociation",
        Cbn,
        Mutate,
        true,
    ),
    // Circuit and VBR-pair blockers (issue 11 part B): MACsec keys, hosted connections,
    // VBR failover groups, CEN VBR health checks
    a("DisassociateMacSecKey", Vpc, Mutate, false),
    a("ListVirtualPhysicalConnections", Vpc, Read, false),
    a("DescribeVbrHa", Vpc, Read, false),
    a("DeleteVbrHa", Vpc, Mutate, true),
    a("DescribeCenVbrHealthCheck", Cbn, Read, false),
    a("DisableCenVbrHealthCheck", Cbn, Mutate, false),
    // STS
    a("GetCallerIdentity", Sts, Read, false),
    // Role assumption (the RamRoleArn / OIDC credential sources). `Read`: they change no
    // cloud resource — they only issue temporary credentials for a role the trust policy
    // already allows — and the read-only capability (`plan`, discovery: a `ReadClient`)
    // must be able to obtain credentials too. Their answers carry secrets
    // (`returns_credentials`).
    a("AssumeRole", Sts, Read, false),
    a("AssumeRoleWithOIDC", Sts, Read, false),
    // What else hangs off a VBR (issue 11, part A): further circuits, ECR and Basic-CEN
    // child instances, VBR route-table routes, BGP networks, NQA.
    a(
        "UnassociatePhysicalConnectionFromVirtualBorderRouter",
        Vpc,
        Mutate,
        true,
    ),
    a(
        "DescribeExpressConnectRouterChildInstance",
        Ecr,
        Read,
        false,
    ),
    a("DetachExpressConnectRouterChildInstance", Ecr, Mutate, true),
    a("DescribeCenAttachedChildInstances", Cbn, Read, false),
    a(
        "DescribeCenAttachedChildInstanceAttribute",
        Cbn,
        Read,
        false,
    ),
    a("DetachCenChildInstance", Cbn, Mutate, false),
    a("DescribeRouteEntryList", Vpc, Read, false),
    a("DeleteRouteEntry", Vpc, Mutate, false),
    a("DescribeBgpNetworks", Vpc, Read, false),
    a("DeleteBgpNetwork", Vpc, Mutate, true),
    a("DescribeNqas", Vpc, Read, false),
    a("DeleteNqa", Vpc, Mutate, true),
];

/// Actions whose answers carry credentials: their bodies are never quoted in errors.
pub const RETURNS_CREDENTIALS: &[&str] = &["AssumeRole", "AssumeRoleWithOIDC"];

/// Whether an action's answer carries credentials.
pub fn returns_credentials(name: &str) -> bool {
    RETURNS_CREDENTIALS.contains(&name)
}

/// Look up a known action (case-sensitive, like the API).
pub fn lookup(name: &str) -> Option<&'static ActionInfo> {
    ACTIONS.iter().find(|a| a.name == name)
}

/// Read or write for any action name: the table for known actions; for others, only the
/// documented read verbs (`Describe`, `List`, `Get`, `Query`) count as reads.
pub fn access_of(name: &str) -> Access {
    if let Some(info) = lookup(name) {
        return info.access;
    }
    if ["Describe", "List", "Get", "Query"]
        .iter()
        .any(|p| name.starts_with(p))
    {
        Read
    } else {
        Mutate
    }
}

/// The quota used for actions whose quota is not documented (alibaba-api.md §13 q8): the
/// common Vpc figure of 300 calls per 60 s.
pub const DEFAULT_QUOTA_PER_MINUTE: u32 = 300;

/// The documented flow-control quota of an action, in calls per 60 s per (region, action,
/// account) (alibaba-api.md §11), or [`DEFAULT_QUOTA_PER_MINUTE`] where none is documented.
pub fn quota_per_minute(action: &str) -> u32 {
    match action {
        "DescribeVpnConnections"
        | "DescribeVpnConnection"
        | "DescribeVpnAttachments"
        | "DescribeVpnGateway" => 600,
        "ListTransitRouters" => 500,
        "DeleteCustomerGateway" => 120,
        "CreateVpnGateway" => 60,
        "CreateTransitRouter" | "DeleteTransitRouter" => 180,
        _ => DEFAULT_QUOTA_PER_MINUTE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for info in ACTIONS {
            let verb_read = ["Describe", "List", "Get"]
                .iter()
                .any(|p| info.name.starts_with(p))
                || returns_credentials(info.name);
            assert_eq!(verb_read, info.access == Read, "{}", info.name);
            assert_eq!(ACTIONS.iter().filter(|o| o.name == info.name).count(), 1);
        }
        assert_eq!(access_of("DescribeVpcs"), Read);
        assert_eq!(access_of("DeleteVpc"), Mutate);
        assert_eq!(access_of("ModifyDescribeThing"), Mutate);
    }
}
