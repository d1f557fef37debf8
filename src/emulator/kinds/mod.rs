//! The emulated resource kinds, one module each. A module owns everything about its kind:
//! the world-file section (the YAML types and their checks), how the section seeds the live
//! [`State`], the operations it serves (handlers, preconditions, error codes, JSON shapes,
//! paging) and its asynchronous transitions. Every module has the same shape: a unit struct
//! `Kind` implementing [`EmulatedKind`], registered once in [`KINDS`].
//!
//! Shared machinery stays outside: request view, paging, filters and errors in
//! [`super::ops`], the generic transition queue in [`super::state`], world-file loading and
//! the check helpers ([`Checker`]) in [`super::world`], signatures, nonces, rate limits,
//! faults, ClientTokens and the audit log in [`super`].
//!
//! Where alibaba-api.md §13 leaves a question open, the choice is written next to the code
//! that makes it (search for "Open question").
//!
//! # Adding a kind to the emulator
//!
//! 1. Write `kinds/<kind>.rs` after the shape of the others: the world-file item type(s)
//!    (`#[serde(deny_unknown_fields)]`, documented defaults), a `Kind` unit struct whose
//!    [`EmulatedKind`] impl names its sections, checks them (ids, prefixes, regions,
//!    statuses, references through [`Checker`]), seeds its store, counts its resources and
//!    lists its operations as [`Operation`] rows; then the handlers.
//! 2. Register it: `mod <kind>;` and the one line `&<kind>::Kind,` in [`KINDS`]. The
//!    dispatch table, world checks, seeding and resource counts all come from that list.
//! 3. Declare its data: the section field in `World` (world.rs; re-export the item type
//!    there), the store field in [`State`], and a duration in `Timings` if it has an
//!    asynchronous transition. A test fails if a `World` section belongs to no registered
//!    kind, and another if an action decom knows (`api::actions`) is not served.
//! 4. Optionally teach `worldgen` to generate it, and add a resource to an
//!    `examples/worlds/` file.

pub mod bgp;
pub mod physical_connection;
pub mod prefix_list;
pub mod router_interface;
pub mod transit_router;
pub mod vbr_ha;
pub mod virtual_border_router;
pub mod vpn;
// Issue 11, part A: what else hangs off a VBR.
pub mod bgp_network;
pub mod cen_child_instance;
pub mod ecr;
pub mod nqa;
pub mod vbr_route_entry;

use std::collections::BTreeMap;

use serde_saphyr::Spanned;
use tokio::time::Instant;

use super::ops::Operation;
use super::state::State;
use super::world::{Checker, World};

/// What every emulated kind provides. All methods are required: a kind that has nothing to
/// say (no world section, say) says so explicitly.
pub trait EmulatedKind: Sync {
    /// The world-file sections (top-level YAML keys) this kind reads.
    fn sections(&self) -> &'static [&'static str];
    /// Check those sections: ids and their prefixes, regions, statuses, references.
    fn check<'w>(&self, world: &'w World, cx: &mut Checker<'w>);
    /// Seed this kind's store in the initial state from the (checked) world, and schedule
    /// the end of every transition a resource is seeded in, at `now` + its timing, exactly
    /// as the call that starts that transition would (a seeded `Terminating` circuit becomes
    /// `Terminated`, a seeded `Detaching` attachment disappears, ...).
    fn seed(&self, world: &World, st: &mut State, now: Instant);
    /// How many resources of this kind exist now.
    fn count(&self, st: &State) -> usize;
    /// The operations it serves.
    fn operations(&self) -> &'static [Operation];
}

/// Every emulated kind, in world-check order (a problem list reads in this order).
pub const KINDS: &[&dyn EmulatedKind] = &[
    &physical_connection::Kind,
    &virtual_border_router::Kind,
    &router_interface::Kind,
    &bgp::Kind,
    &transit_router::Kind,
    &prefix_list::Kind,
    &vbr_ha::Kind,
    &vpn::Kind,
    &ecr::Kind,
    &cen_child_instance::Kind,
    &vbr_route_entry::Kind,
    &bgp_network::Kind,
    &nqa::Kind,
];

/// Every operation of every registered kind.
pub fn operations() -> impl Iterator<Item = &'static Operation> {
    KINDS.iter().flat_map(|k| k.operations().iter())
}

/// The ids of `items` whose status is `status` (compared case-insensitively, like the
/// world check).
pub(crate) fn ids_in<'a, T: 'a>(
    items: impl IntoIterator<Item = (&'a String, &'a T)>,
    status_of: impl Fn(&T) -> &str,
    status: &str,
) -> Vec<String> {
    items
        .into_iter()
        .filter(|(_, item)| status_of(item).eq_ignore_ascii_case(status))
        .map(|(id, _)| id.clone())
        .collect()
}

/// A world section as a map by id.
pub(crate) fn by_id<T: Clone>(
    items: &[Spanned<T>],
    id: impl Fn(&T) -> &str,
) -> BTreeMap<String, T> {
    items
        .iter()
        .map(|s| (id(&s.value).to_string(), s.value.clone()))
        .collect()
}

#[cfg(test)]
mod tests;
