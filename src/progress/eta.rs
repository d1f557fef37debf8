//! The time an apply still needs: the longest path through the steps not finished yet,
//! each costing what it is expected to take.
//!
//! A wait is expected to take its kind's typical transition
//! ([`crate::kinds::KindSpec::expected_transition`]) until this run has seen waits of that
//! kind finish: then the longest one seen. A mutation is expected to take the longest
//! mutation seen so far (at least [`MUTATION`]). A step in flight is expected to need what
//! is left of its expectation, but never less than a tenth of it (it is late, not done),
//! and never more than what is left until its deadline. Steps that cannot run any more
//! (failed, skipped, interrupted) cost nothing.
//!
//! Pure: the caller passes the time since the run began, so tests need no clock.

use std::collections::HashMap;
use std::time::Duration;

use crate::graph::Graph;
use crate::model::{Action, Kind};

/// What a mutation is expected to take before any was seen.
pub const MUTATION: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Pending,
    Running { since: Duration, deadline: Duration },
    Over,
}

/// The running estimate of one apply.
#[derive(Debug, Clone)]
pub struct Eta {
    kinds: Vec<Kind>,
    waits: Vec<bool>,
    deps: Vec<Vec<usize>>,
    state: Vec<State>,
    /// The longest wait seen finishing, per kind.
    seen_waits: HashMap<Kind, Duration>,
    /// The longest mutation seen finishing.
    seen_mutation: Option<Duration>,
}

impl Eta {
    /// An estimate for `graph`, nothing started.
    pub fn new(graph: &Graph) -> Eta {
        Eta {
            kinds: graph.steps.iter().map(|s| s.kind).collect(),
            waits: graph
                .steps
                .iter()
                .map(|s| s.action == Action::Wait)
                .collect(),
            deps: graph.steps.iter().map(|s| s.depends_on.clone()).collect(),
            state: vec![State::Pending; graph.steps.len()],
            seen_waits: HashMap::new(),
            seen_mutation: None,
        }
    }

    /// Step `id` started `at` (since the run began), with this deadline.
    pub fn started(&mut self, id: usize, at: Duration, deadline: Duration) {
        if let Some(s) = self.state.get_mut(id) {
            *s = State::Running {
                since: at,
                deadline,
            };
        }
    }

    /// Step `id` ended `at`; `success` tells whether its time says something about the next
    /// ones of its kind.
    pub fn finished(&mut self, id: usize, at: Duration, success: bool) {
        let Some(state) = self.state.get_mut(id) else {
            return;
        };
        if let (State::Running { since, .. }, true) = (*state, success) {
            let took = at.saturating_sub(since);
            if self.waits[id] {
                let seen = self.seen_waits.entry(self.kinds[id]).or_default();
                *seen = (*seen).max(took);
            } else {
                self.seen_mutation = Some(self.seen_mutation.unwrap_or_default().max(took));
            }
        }
        *state = State::Over;
    }

    /// What step `id` is expected to take in all.
    fn expected(&self, id: usize) -> Duration {
        if self.waits[id] {
            let kind = self.kinds[id];
            self.seen_waits
                .get(&kind)
                .copied()
                .unwrap_or_else(|| kind.spec().expected_transition())
        } else {
            self.seen_mutation.unwrap_or(MUTATION).max(MUTATION)
        }
    }

    /// The time still needed at `now` (since the run began): `None` when nothing is left.
    pub fn remaining(&self, now: Duration) -> Option<Duration> {
        // Steps are in execution order: every dependency comes before its step.
        let mut end = vec![Duration::ZERO; self.state.len()];
        let mut any = false;
        for id in 0..self.state.len() {
            let after = self.deps[id]
                .iter()
                .filter_map(|d| end.get(*d))
                .max()
                .copied()
                .unwrap_or_default();
            let cost = match self.state[id] {
                State::Over => Duration::ZERO,
                State::Pending => self.expected(id),
                State::Running { since, deadline } => {
                    let expected = self.expected(id);
                    let elapsed = now.saturating_sub(since);
                    expected
                        .saturating_sub(elapsed)
                        .max(expected / 10)
                        .min(deadline.saturating_sub(elapsed))
                }
            };
            any |= self.state[id] != State::Over;
            end[id] = after + cost;
        }
        any.then(|| end.into_iter().max().unwrap_or_default())
    }
}

/// A duration for humans, rounded: `45s`, `3m 20s`, `1h 05m`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// A whole-minute or whole-second duration as short as it can be said: `30m`, `90s`, `1h`.
pub fn short(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Step;

    fn step(id: usize, kind: Kind, action: Action, deps: Vec<usize>) -> Step {
        Step {
            id,
            kind,
            resource: format!("r-{id}"),
            region: "cn-shanghai".into(),
            parent: None,
            scope: None,
            action,
            api: "X".into(),
            until: None,
            reason: String::new(),
            depends_on: deps,
            client_token: None,
            state: String::new(),
            level: id,
        }
    }

    /// A VBR delete, then the circuit: terminate → wait Terminated → delete.
    fn circuit() -> Graph {
        let pc = Kind::PhysicalConnection;
        Graph {
            plan: "p".into(),
            plan_fingerprint: "f".into(),
            steps: vec![
                step(0, Kind::VirtualBorderRouter, Action::Delete, vec![]),
                step(1, pc, Action::Terminate, vec![0]),
                step(2, pc, Action::Wait, vec![1]),
                step(3, pc, Action::Delete, vec![2]),
            ],
            entries: vec![],
            deletions: 2,
            max_deletions: None,
            rails: Default::default(),
        }
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn the_critical_path_with_typical_transitions_before_anything_is_seen() {
        let eta = Eta::new(&circuit());
        let typical = Kind::PhysicalConnection.spec().expected_transition();
        assert_eq!(eta.remaining(S(0)), Some(typical + 3 * MUTATION));
    }

    #[test]
    fn a_wait_in_flight_counts_down_and_never_reads_zero_or_past_its_deadline() {
        let mut eta = Eta::new(&circuit());
        let deadline = S(1800);
        for (id, t) in [(0, 1), (1, 2)] {
            eta.started(id, S(t - 1), deadline);
            eta.finished(id, S(t), true);
        }
        eta.started(2, S(2), deadline);
        let typical = Kind::PhysicalConnection.spec().expected_transition();
        // Two minutes into the wait: what is left of it, then the delete.
        assert_eq!(eta.remaining(S(122)), Some(typical - S(120) + MUTATION));
        // Late: a tenth of the expectation, not zero.
        assert_eq!(
            eta.remaining(S(2) + typical * 2),
            Some(typical / 10 + MUTATION)
        );
        // Near the deadline: no more than what is left of it.
        assert_eq!(eta.remaining(S(2 + 1790)), Some(S(10) + MUTATION));
    }

    #[test]
    fn what_this_run_saw_replaces_the_typical_time() {
        let pc = Kind::PhysicalConnection;
        let mut g = circuit();
        // A second circuit, independent of the first.
        g.steps.push(step(4, pc, Action::Terminate, vec![]));
        g.steps.push(step(5, pc, Action::Wait, vec![4]));
        let mut eta = Eta::new(&g);
        let d = S(1800);
        eta.started(4, S(0), d);
        eta.finished(4, S(1), true);
        eta.started(5, S(1), d);
        eta.finished(5, S(41), true);
        // The first circuit's wait is now expected to take 40 s, like the one seen.
        assert_eq!(eta.remaining(S(41)), Some(S(1) * 3 + S(40)));
        // A failed step's time teaches nothing and costs nothing.
        eta.started(0, S(41), d);
        eta.finished(0, S(500), false);
        eta.finished(1, S(500), false);
        eta.finished(2, S(500), false);
        eta.finished(3, S(500), false);
        assert_eq!(eta.remaining(S(500)), None);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(S(45)), "45s");
        assert_eq!(human(S(200)), "3m 20s");
        assert_eq!(human(S(3900)), "1h 05m");
        assert_eq!(short(S(1800)), "30m");
        assert_eq!(short(S(90)), "90s");
        assert_eq!(short(S(7200)), "2h");
    }
}
