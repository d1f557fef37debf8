//! NQA probes on VBRs (Vpc, legacy API metadata only: `aliyun-openapi-meta`
//! vpc/DescribeNqas.json, vpc/DeleteNqa.json; blockers.md V5): the `nqas` world section,
//! DescribeNqas (`Nqas.Nqa[]`, the Java unmarshaller's path with the usual inner key) and
//! DeleteNqa (synchronous: the metadata documents no status transition). A VBR with an
//! NQA refuses deletion with the documented 400 `DependencyViolation.Nqa`. The not-found
//! code of DeleteNqa is not documented: `InvalidNqaId.NotFound` is this emulator's choice.

use serde::Deserialize;
use serde_json::json;

use tokio::time::Instant;

use super::{EmulatedKind, by_id};
use crate::api::Product::Vpc;
use crate::emulator::ops::{Ctx, Operation, Res, fail, paged, region_checked};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, World};

/// The actions this kind serves.
const OPERATIONS: &[Operation] = &[
    Operation::read(Vpc, "DescribeNqas", &["RegionId"], describe_nqas),
    Operation::mutate(Vpc, "DeleteNqa", &["RegionId", "NqaId"], delete_nqa),
];

/// The NQA kind.
pub struct Kind;

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &["nqas"]
    }

    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>) {
        for n in &world.nqas {
            cx.id(&n.referenced, &n.value.id, "nqa-");
            cx.reference(&n.referenced, "vbr", &n.value.vbr);
        }
    }

    fn seed(&self, world: &World, st: &mut State, _now: Instant) {
        st.nqas = by_id(&world.nqas, |n| &n.id);
    }

    fn count(&self, st: &State) -> usize {
        st.nqas.len()
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
}

/// A network-quality probe on a VBR.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nqa {
    /// `nqa-…`.
    pub id: String,
    /// The VBR it probes from.
    pub vbr: String,
    /// The probed address.
    #[serde(default)]
    pub destination_ip: String,
    /// Status (`Available` by default).
    #[serde(default = "available")]
    pub status: String,
}

fn available() -> String {
    "Available".into()
}

fn region_of(st: &State, n: &Nqa) -> String {
    st.vbrs
        .get(&n.vbr)
        .map(|v| v.region.clone())
        .unwrap_or_default()
}

fn describe_nqas(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?;
    let page = ctx.page()?;
    let items = st
        .nqas
        .values()
        .filter(|n| region_of(st, n) == region)
        .filter(|n| ctx.get("RouterId").is_none_or(|r| r == n.vbr))
        .filter(|n| ctx.get("NqaId").is_none_or(|id| id == n.id));
    Ok(paged(
        items,
        page,
        "Nqas",
        "Nqa",
        |n| json!({ "NqaId": n.id, "RegionId": region, "Status": n.status, "RouterId": n.vbr, "DestinationIp": n.destination_ip }),
    ))
}

fn delete_nqa(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let region = region_checked(st, ctx)?.to_string();
    let id = ctx.req("NqaId")?;
    let found = st.nqas.get(id).is_some_and(|n| region_of(st, n) == region);
    if !found {
        return Err(fail(
            404,
            "InvalidNqaId.NotFound",
            "The specified NQA does not exist.",
        ));
    }
    st.nqas.remove(id);
    Ok(json!({}))
}
