//! What each step sends: the mutating call of a step, and the probe that tells whether a
//! wait is over (or whether a mutation already took effect). The calls themselves are the
//! kind's ([`crate::kinds::KindSpec`]); this module adds the engine's rules around them.

use crate::api::{CallError, ErrorClass, Product, WriteClient};
use crate::graph::Step;
use crate::kinds::PollScope;
use crate::model::Action;

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
    step.kind.spec().poll_action(step)
}

/// Send the step's mutating call with `token` (ignored by actions without a ClientToken).
pub async fn mutate(w: &WriteClient, step: &Step, token: Option<&str>) -> Result<(), CallError> {
    step.kind.spec().mutate(w, step, token).await
}

/// Look at the step's resource now (read capability of `w`).
pub async fn probe(w: &WriteClient, step: &Step) -> Result<Probe, CallError> {
    let c = w.reader();
    let spec = step.kind.spec();
    let res = if spec.listable() {
        // The same queries the coalesced poller sends, for this one resource.
        let ids = vec![step.resource.clone()];
        let scope = PollScope::of(step);
        spec.poll_list(&c, &scope, Some(&ids), true)
            .await
            .map(|(states, _)| {
                states
                    .get(&step.resource)
                    .map_or_else(Probe::gone, |s| Probe::of(s))
            })
    } else {
        spec.probe(&c, step).await.map(|s| Probe::of(&s))
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
    step.action != Action::Wait
        && step
            .kind
            .spec()
            .already_applied(step.action, probe.state.as_str())
}
