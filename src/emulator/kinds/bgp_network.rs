//! BGP networks advertised by VBRs (Vpc, blockers.md V4, §2.1): the `bgp_networks` world
//! section, DescribeBgpNetworks and DeleteBgpNetwork (`Available` → `Deleting` → gone:
//! Terraform polls until the network is gone). A VBR with networks refuses deletion with
//! `DependencyViolation.BgpNetwork` — this emulator's choice: which call a network blocks
//! and with which code is not documented. An unknown network answers
//! `InvalidResource.NotFound` (the code Terraform handles).

use serde::Deserialize;
use serde_json::json;

use tokio::time::Instant;

use super::EmulatedKind;
use crate::api::Product::Vpc;
use crate::emulator::ops::{Ctx, Operation, Res, fail, paged, region_checked};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, World};

/// The actions this kind serves.
const OPERATIONS: &[Operation] = &[
    Operation::read(Vpc, "DescribeBgpNetworks", &["RegionId"], describe_networks),
    Operation::mutate(
        Vpc,
        "DeleteBgpNetwork",
        &["RegionId", "DstCidrBlock", "RouterId"],
        delete_network,
    ),
];

/// The BGP-network kind.
pub struct Kind;

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &["bgp_networks"]
    }

    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>) {
        let mut seen = std::collections::BTreeSet::new();
        for n in &world.bgp_networks {
            cx.reference(&n.referenced, "vbr", &n.value.vbr);
            cx.status(&n.referenced, &n.value.status, &["Available", "Deleting"]);
            if !seen.insert((n.value.vbr.as_str(), n.value.destination.as_str())) {
                cx.problem(
                    &n.referenced,
                    format!(
                        "network {:?} of {:?} is defined twice",
                        n.value.destination, n.value.vbr
                    ),
                );
            }
        }
    }

    fn seed(&self, world: &World, st: &mut State, _now: Instant) {
        st.bgp_networks = world
            .bgp_networks
            .iter()
            .map(|n| {
                (
                    format!("{}/{}", n.value.vbr, n.value.destination),
                    n.value.clone(),
                )
            })
            .collect();
    }

    fn count(&self, st: &State) -> usize {
        st.bgp_networks.len()
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
}

/// A network a VBR advertises over BGP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BgpNetwork {
    /// The VBR.
    pub vbr: String,
    /// The advertised CIDR.
    pub destination: String,
    /// `Available` (default) or `Deleting`.
    #[serde(default = "available")]
    pub status: String,
}

fn available() -> String {
    "Available".into()
}

fn describe_networks(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let page = ctx.page()?;
    let router = ctx.get("RouterId");
    let items = st
        .bgp_networks
        .values()
        .filter(|n| st.vbrs.get(&n.vbr).is_some_and(|v| v.region == region))
        .filter(|n| router.is_none_or(|r| r == n.vbr));
    Ok(paged(
        items,
        page,
        "BgpNetworks",
        "BgpNetwork",
        |n| json!({ "DstCidrBlock": n.destination, "RouterId": n.vbr, "Status": n.status, "VpcId": "" }),
    ))
}

fn delete_network(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?.to_string();
    let key = format!("{}/{}", ctx.req("RouterId")?, ctx.req("DstCidrBlock")?);
    let n = st
        .bgp_networks
        .get(&key)
        .filter(|n| st.vbrs.get(&n.vbr).is_some_and(|v| v.region == region))
        .ok_or_else(|| {
            fail(
                400,
                "InvalidResource.NotFound",
                "The specified BGP network does not exist.",
            )
        })?;
    if n.status != "Available" {
        return Err(fail(
            400,
            "IncorrectStatus.BgpNetwork",
            "The BGP network is being changed.",
        ));
    }
    let delay = st.timings.delete_bgp_network.0;
    if let Some(n) = st.bgp_networks.get_mut(&key) {
        n.status = "Deleting".into();
    }
    st.schedule(ctx.now + delay, move |st| {
        st.bgp_networks.remove(&key);
    });
    Ok(json!({}))
}
