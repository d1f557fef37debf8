//! Express Connect Routers and their VBR child instances (ExpressConnectRouter 2023-09-01,
//! blockers.md V8, §2.2): the `express_connect_routers` world section (each ECR with the
//! VBRs attached to it), DescribeExpressConnectRouterChildInstance and
//! DetachExpressConnectRouterChildInstance (`ACTIVE` → `DISSOCIATING` → gone). Parameters
//! arrive in a form body, as the SDK sends them. Every answer carries `Success`.
//!
//! Rules: only the ECR's owner may detach (the RAM resource is the ECR); only `ACTIVE`
//! children can be detached (`Conflict.Lock` otherwise, which Terraform retries); a VBR with
//! a route mid-change (`Deleting`) answers `OperationDenied.VbrHasRouteEntryInMiddleStatus`.
//! Not-found answers use the codes Terraform handles (`ResourceNotFound.EcrId`,
//! `ResourceNotFound.ChildInstanceId`); their HTTP status is not documented (404 here). The
//! owner check's code is not documented: `Forbidden.NoPermission` is this emulator's choice.

use serde::Deserialize;
use serde_json::json;

use tokio::time::Instant;

use super::{EmulatedKind, by_id};
use crate::api::Product::ExpressConnectRouter as Ecr;
use crate::emulator::ops::{CREATED, Ctx, Operation, Res, fail, token_paged};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, World};

/// The actions this kind serves.
const OPERATIONS: &[Operation] = &[
    Operation::read(
        Ecr,
        "DescribeExpressConnectRouterChildInstance",
        &["EcrId"],
        describe_children,
    ),
    Operation::mutate(
        Ecr,
        "DetachExpressConnectRouterChildInstance",
        &["ChildInstanceId", "ChildInstanceType", "EcrId"],
        detach_child,
    ),
];

/// The ECR kind (routers and their VBR children).
pub struct Kind;

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &["express_connect_routers"]
    }

    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>) {
        let mut seen = std::collections::BTreeSet::new();
        for e in &world.express_connect_routers {
            cx.id(&e.referenced, &e.value.id, "ecr-");
            for c in &e.value.vbrs {
                cx.status(&e.referenced, &c.status, CHILD_STATUSES);
                cx.reference(&e.referenced, "vbr", &c.vbr);
                if !seen.insert(c.vbr.as_str()) {
                    cx.link_problem(
                        &e.referenced,
                        format!("vbr {:?} is attached to two ECRs", c.vbr),
                    );
                }
            }
        }
    }

    fn seed(&self, world: &World, st: &mut State, _now: Instant) {
        st.ecrs = by_id(&world.express_connect_routers, |e| &e.id);
        for e in st.ecrs.values_mut() {
            for c in &mut e.vbrs {
                c.status = c.status.to_ascii_uppercase();
            }
        }
    }

    fn count(&self, st: &State) -> usize {
        st.ecrs.values().map(|e| e.vbrs.len()).sum()
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
}

/// An Express Connect Router.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpressConnectRouter {
    /// `ecr-…`.
    pub id: String,
    /// Owning account (the world's account when absent).
    #[serde(default)]
    pub owner: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// The VBRs attached to it.
    #[serde(default)]
    pub vbrs: Vec<EcrChild>,
}

/// A VBR attached to an ECR.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcrChild {
    /// The VBR.
    pub vbr: String,
    /// `ACTIVE` (default), `ASSOCIATING`, `DISSOCIATING`, ….
    #[serde(default = "active")]
    pub status: String,
}

fn active() -> String {
    "ACTIVE".into()
}

/// Child statuses the world may use ([sdk] DescribeExpressConnectRouterChildInstance).
const CHILD_STATUSES: &[&str] = &[
    "CREATING",
    "ACTIVE",
    "ASSOCIATING",
    "DISSOCIATING",
    "UPDATING",
    "DELETING",
];

impl State {
    /// The ECR a VBR is attached to: (ECR id, owner, child status).
    pub fn ecr_of(&self, vbr: &str) -> Option<(String, String, String)> {
        self.ecrs.values().find_map(|e| {
            e.vbrs.iter().find(|c| c.vbr == vbr).map(|c| {
                (
                    e.id.clone(),
                    e.owner.clone().unwrap_or_else(|| self.account_id.clone()),
                    c.status.clone(),
                )
            })
        })
    }
}

fn num(s: &str) -> u64 {
    s.parse().unwrap_or(0)
}

fn ecr_lookup<'a>(
    st: &'a State,
    ctx: &Ctx<'_>,
) -> Result<&'a ExpressConnectRouter, crate::emulator::ops::Fail> {
    let id = ctx.req("EcrId")?;
    st.ecrs.get(id).ok_or_else(|| {
        fail(
            404,
            "ResourceNotFound.EcrId",
            "The specified ECR does not exist.",
        )
    })
}

fn describe_children(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let page = ctx.token_page(20)?;
    let e = ecr_lookup(st, ctx)?;
    let owner = e.owner.clone().unwrap_or_else(|| st.account_id.clone());
    if owner != st.account_id {
        return Err(fail(
            404,
            "ResourceNotFound.EcrId",
            "The specified ECR does not exist.",
        ));
    }
    let want_type = ctx.get("ChildInstanceType");
    let want_id = ctx.get("ChildInstanceId");
    let items = e
        .vbrs
        .iter()
        .filter(|_| want_type.is_none_or(|t| t == "VBR"))
        .filter(|c| want_id.is_none_or(|id| id == c.vbr));
    let mut body = token_paged(items, page, "ChildInstanceList", |c| {
        let (region, vbr_owner) = st
            .vbrs
            .get(&c.vbr)
            .map(|v| (v.region.clone(), st.vbr_owner(v).to_string()))
            .unwrap_or_default();
        json!({
            "EcrId": e.id, "ChildInstanceId": c.vbr, "ChildInstanceType": "VBR",
            "ChildInstanceRegionId": region, "ChildInstanceOwnerId": num(&vbr_owner),
            "OwnerId": num(&owner), "RegionId": region, "Status": c.status,
            "AssociationId": format!("ecr-assoc-{}", c.vbr.trim_start_matches("vbr-")),
            "Description": "", "GmtCreate": CREATED, "GmtModified": CREATED,
        })
    });
    body["Success"] = json!(true);
    body["HttpStatusCode"] = json!(200);
    Ok(body)
}

fn detach_child(st: &mut State, ctx: &Ctx<'_>) -> Res {
    let vbr = ctx.req("ChildInstanceId")?.to_string();
    let kind = ctx.req("ChildInstanceType")?;
    let e = ecr_lookup(st, ctx)?;
    let id = e.id.clone();
    if e.owner.as_deref().is_some_and(|o| o != st.account_id) {
        return Err(fail(
            403,
            "Forbidden.NoPermission",
            "Only the owner of the Express Connect Router can detach its child instances.",
        ));
    }
    let Some(child) = e.vbrs.iter().find(|c| c.vbr == vbr && kind == "VBR") else {
        return Err(fail(
            404,
            "ResourceNotFound.ChildInstanceId",
            "The specified child instance is not attached to the ECR.",
        ));
    };
    if child.status != "ACTIVE" {
        return Err(fail(
            400,
            "Conflict.Lock",
            "The ECR is being changed by another request; try again later.",
        ));
    }
    if st.vbr_routes_of(&vbr).any(|r| r.status == "Deleting") {
        return Err(fail(
            400,
            "OperationDenied.VbrHasRouteEntryInMiddleStatus",
            "The VBR has a route entry in a middle status.",
        ));
    }
    let delay = st.timings.detach_ecr_child.0;
    if let Some(c) = st
        .ecrs
        .get_mut(&id)
        .and_then(|e| e.vbrs.iter_mut().find(|c| c.vbr == vbr))
    {
        c.status = "DISSOCIATING".into();
    }
    st.schedule(ctx.now + delay, move |st| {
        if let Some(e) = st.ecrs.get_mut(&id) {
            e.vbrs.retain(|c| c.vbr != vbr);
        }
    });
    Ok(json!({ "Success": true, "HttpStatusCode": 200 }))
}
