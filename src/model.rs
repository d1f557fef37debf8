//! Shared vocabulary: resource kinds (with their plan names and id prefixes), the regions
//! decom knows, and the steps that remove a resource.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A kind of resource decom can remove (or must remove on the way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Express Connect circuit (`pc-`).
    PhysicalConnection,
    /// Virtual border router (`vbr-`).
    VirtualBorderRouter,
    /// Router interface on a VBR (`ri-`).
    RouterInterface,
    /// BGP group on a VBR (`bgpg-`).
    BgpGroup,
    /// BGP peer in a group (`bgp-`).
    BgpPeer,
    /// Transit-router attachment of a VBR (`tr-attach-`).
    TransitRouterVbrAttachment,
    /// Transit-router attachment of an IPsec connection (`tr-attach-`).
    TransitRouterVpnAttachment,
    /// IPsec connection bound to a transit router (`vco-`).
    VpnAttachment,
    /// IPsec connection bound to a VPN gateway (`vco-`).
    VpnConnection,
    /// A route-table association of a TR attachment (`<tr-attach-…>/<vtb-…>`).
    RouteTableAssociation,
    /// A route-table propagation of a TR attachment (`<tr-attach-…>/<vtb-…>`).
    RouteTablePropagation,
    /// A custom TR route entry whose next hop is an attachment (`rte-`).
    TransitRouterRouteEntry,
}

impl Kind {
    /// Kinds a plan may name as targets, in the order the README lists them.
    pub const TARGETABLE: [Kind; 9] = [
        Kind::PhysicalConnection,
        Kind::VirtualBorderRouter,
        Kind::RouterInterface,
        Kind::BgpGroup,
        Kind::BgpPeer,
        Kind::TransitRouterVbrAttachment,
        Kind::TransitRouterVpnAttachment,
        Kind::VpnAttachment,
        Kind::VpnConnection,
    ];

    /// The name used in plan files and outputs.
    pub fn plan_name(self) -> &'static str {
        match self {
            Kind::PhysicalConnection => "physical_connection",
            Kind::VirtualBorderRouter => "virtual_border_router",
            Kind::RouterInterface => "router_interface",
            Kind::BgpGroup => "bgp_group",
            Kind::BgpPeer => "bgp_peer",
            Kind::TransitRouterVbrAttachment => "transit_router_vbr_attachment",
            Kind::TransitRouterVpnAttachment => "transit_router_vpn_attachment",
            Kind::VpnAttachment => "vpn_attachment",
            Kind::VpnConnection => "vpn_connection",
            Kind::RouteTableAssociation => "route_table_association",
            Kind::RouteTablePropagation => "route_table_propagation",
            Kind::TransitRouterRouteEntry => "transit_router_route_entry",
        }
    }

    /// The kind with this plan name (targetable kinds only).
    pub fn from_plan_name(name: &str) -> Option<Kind> {
        Kind::TARGETABLE.into_iter().find(|k| k.plan_name() == name)
    }

    /// The id prefix of this kind's ids.
    pub fn id_prefix(self) -> &'static str {
        match self {
            Kind::PhysicalConnection => "pc-",
            Kind::VirtualBorderRouter => "vbr-",
            Kind::RouterInterface => "ri-",
            Kind::BgpGroup => "bgpg-",
            Kind::BgpPeer => "bgp-",
            Kind::TransitRouterVbrAttachment | Kind::TransitRouterVpnAttachment => "tr-attach-",
            Kind::VpnAttachment | Kind::VpnConnection => "vco-",
            Kind::RouteTableAssociation | Kind::RouteTablePropagation => "tr-attach-",
            Kind::TransitRouterRouteEntry => "rte-",
        }
    }

    /// True for kinds whose ids live in a region (Vpc); TR attachments are global (Cbn).
    pub fn is_regional(self) -> bool {
        !matches!(
            self,
            Kind::TransitRouterVbrAttachment
                | Kind::TransitRouterVpnAttachment
                | Kind::RouteTableAssociation
                | Kind::RouteTablePropagation
                | Kind::TransitRouterRouteEntry
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.plan_name())
    }
}

/// Alibaba Cloud region ids decom accepts in plans (public regions).
pub const REGIONS: &[&str] = &[
    "cn-qingdao",
    "cn-beijing",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-wulanchabu",
    "cn-hangzhou",
    "cn-shanghai",
    "cn-nanjing",
    "cn-fuzhou",
    "cn-wuhan-lr",
    "cn-shenzhen",
    "cn-heyuan",
    "cn-guangzhou",
    "cn-chengdu",
    "cn-hongkong",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-south-1",
    "us-east-1",
    "us-west-1",
    "eu-west-1",
    "eu-central-1",
    "me-east-1",
    "me-central-1",
    "na-south-1",
];

/// Is this a region decom knows?
pub fn is_known_region(region: &str) -> bool {
    REGIONS.contains(&region)
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// CancelPhysicalConnection.
    Cancel,
    /// TerminatePhysicalConnection.
    Terminate,
    /// DeactivateRouterInterface.
    Deactivate,
    /// DissociateTransitRouterAttachmentFromRouteTable.
    Dissociate,
    /// DisableTransitRouterRouteTablePropagation.
    DisablePropagation,
    /// The kind's delete call.
    Delete,
    /// Poll until the resource reaches a status (or is gone).
    Wait,
}

impl Action {
    /// True for the steps that call a mutating API.
    pub fn is_mutation(self) -> bool {
        self != Action::Wait
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Cancel => "cancel",
            Action::Terminate => "terminate",
            Action::Deactivate => "deactivate",
            Action::Dissociate => "dissociate",
            Action::DisablePropagation => "disable_propagation",
            Action::Delete => "delete",
            Action::Wait => "wait",
        })
    }
}

/// Match `text` against a glob with `*` (any run) and `?` (one character).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_names_round_trip() {
        for k in Kind::TARGETABLE {
            assert_eq!(Kind::from_plan_name(k.plan_name()), Some(k));
        }
        assert_eq!(Kind::from_plan_name("route_table_association"), None);
    }

    #[test]
    fn globs() {
        assert!(glob_match("legacy-*", "legacy-dc1"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("legacy-*", "prod-legacy"));
        assert!(glob_match("*-dc?-*", "x-dc1-y"));
        assert!(!glob_match("abc", "abcd"));
    }
}
