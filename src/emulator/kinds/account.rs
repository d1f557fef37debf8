//! The emulated account itself: STS GetCallerIdentity. No world section of its own (the
//! account id is a global world key) and no resources.

use serde_json::json;
use tokio::time::Instant;

use super::EmulatedKind;
use crate::api::Product::Sts;
use crate::emulator::ops::{Ctx, Operation, Res};
use crate::emulator::state::State;
use crate::emulator::world::{Checker, World};

/// The actions this kind serves.
const OPERATIONS: &[Operation] = &[Operation::read(
    Sts,
    "GetCallerIdentity",
    &[],
    get_caller_identity,
)];

/// The account "kind": operations about the caller, no resources.
pub struct Kind;

impl EmulatedKind for Kind {
    fn sections(&self) -> &'static [&'static str] {
        &[]
    }

    fn check<'w>(&self, _world: &'w World, _cx: &mut Checker<'w>) {}

    fn seed(&self, _world: &World, _st: &mut State, _now: Instant) {}

    fn count(&self, _st: &State) -> usize {
        0
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }
}

fn get_caller_identity(st: &mut State, _ctx: &Ctx<'_>) -> Res {
    Ok(
        json!({ "AccountId": st.account_id, "UserId": st.account_id, "PrincipalId": st.account_id,
               "IdentityType": "Account", "Arn": format!("acs:ram::{}:root", st.account_id) }),
    )
}
