//! The registry is complete: every world section belongs to a kind, every action decom
//! knows is served once, as the same product and with the same access.

use std::collections::BTreeSet;

use super::{KINDS, operations};
use crate::api::actions::{ACTIONS, Access};
use crate::emulator::world::World;

/// The world file's top-level keys, read from the loader's own "unknown field" message.
fn world_keys() -> BTreeSet<String> {
    let err = World::parse(
        "w.yaml",
        "account_id: \"1\"\naccess_keys: []\nregions: []\nnot_a_section: 1\n",
    )
    .unwrap_err();
    let message = &err.problems[0].message;
    let expected = message
        .split("expected one of")
        .nth(1)
        .unwrap_or_else(|| panic!("no field list in {message:?}"));
    expected
        .split(',')
        .map(|k| k.trim().trim_matches('`').to_string())
        .filter(|k| !k.is_empty())
        .collect()
}

#[test]
fn every_world_section_belongs_to_exactly_one_kind() {
    const GLOBAL: &[&str] = &[
        "account_id",
        "access_keys",
        "regions",
        "timings",
        "rate_limits",
        "faults",
    ];
    let mut claimed = BTreeSet::new();
    for kind in KINDS {
        for section in kind.sections() {
            assert!(
                claimed.insert(section.to_string()),
                "{section} claimed twice"
            );
        }
    }
    let sections: BTreeSet<String> = world_keys()
        .into_iter()
        .filter(|k| !GLOBAL.contains(&k.as_str()))
        .collect();
    assert_eq!(sections, claimed);
}

#[test]
fn every_known_action_is_served_once_with_its_product_and_access() {
    let mut seen = BTreeSet::new();
    for op in operations() {
        assert!(
            seen.insert((op.product, op.action)),
            "{} {} registered twice",
            op.product,
            op.action
        );
    }
    for info in ACTIONS {
        let op = crate::emulator::ops::lookup(info.product, info.name)
            .unwrap_or_else(|| panic!("{} is not emulated", info.name));
        assert_eq!(op.mutates, info.access == Access::Mutate, "{}", info.name);
    }
    assert_eq!(
        seen.len(),
        ACTIONS.len(),
        "the emulator serves only known actions"
    );
}
