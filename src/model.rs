//! Shared vocabulary: resource kinds (declared by the [`crate::kinds`] registry and
//! re-exported here), the regions decom knows, and the steps that remove a resource.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::kinds::Kind;

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
    /// DetachExpressConnectRouterChildInstance, DetachCenChildInstance.
    Detach,
    /// UnassociatePhysicalConnectionFromVirtualBorderRouter.
    Unassociate,
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
            Action::Detach => "detach",
            Action::Unassociate => "unassociate",
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
    fn globs() {
        assert!(glob_match("legacy-*", "legacy-dc1"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("legacy-*", "prod-legacy"));
        assert!(glob_match("*-dc?-*", "x-dc1-y"));
        assert!(!glob_match("abc", "abcd"));
    }
}
