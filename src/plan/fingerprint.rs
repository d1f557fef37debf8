//! The plan fingerprint: SHA-256 of a canonical text built from the checked plan, never from
//! the raw file, so comments, whitespace, key order, the order of targets and protect rules,
//! and the offset a timestamp is written with do not change it.

use sha2::{Digest, Sha256};

use super::{Plan, Selector, Target};

/// A JSON string literal (unambiguous quoting of any text).
fn q(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn opt(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_string(), q)
}

fn sorted(items: &[String]) -> String {
    let mut items: Vec<&String> = items.iter().collect();
    items.sort();
    items.dedup();
    let items: Vec<String> = items.into_iter().map(|s| q(s)).collect();
    format!("[{}]", items.join(","))
}

fn tags(t: &std::collections::BTreeMap<String, String>) -> String {
    let items: Vec<String> = t
        .iter()
        .map(|(k, v)| format!("{}:{}", q(k), q(v)))
        .collect();
    format!("{{{}}}", items.join(","))
}

fn target(t: &Target) -> String {
    let selector = match &t.selector {
        Selector::Id(id) => format!("id {}", q(id)),
        Selector::Match(m) => format!(
            "match name={} tags={} physical_connection={} transit_router={} vpn_gateway={}",
            opt(m.name.as_deref()),
            tags(&m.tags),
            opt(m.physical_connection.as_deref()),
            opt(m.transit_router.as_deref()),
            opt(m.vpn_gateway.as_deref()),
        ),
    };
    format!("target {} region={} {selector}", t.kind, q(&t.region))
}

/// The canonical text the fingerprint hashes (one field per line).
pub(super) fn canonical(plan: &Plan) -> String {
    let mut lines = vec![
        "decom-plan canonical 1".to_string(),
        format!("version {}", plan.version),
        format!("name {}", q(&plan.name)),
        format!("account {}", opt(plan.account.as_deref())),
        format!("region {}", opt(plan.region.as_deref())),
        match &plan.window {
            // Timestamps display in UTC, so `+08:00` and the same instant in `Z` agree.
            Some(w) => format!("window {} {}", w.not_before, w.not_after),
            None => "window null".to_string(),
        },
        format!("cascade {}", plan.policy.cascade),
        format!(
            "max_deletions {}",
            plan.policy
                .max_deletions
                .map_or_else(|| "null".to_string(), |n| n.to_string())
        ),
        format!("protect.ids {}", sorted(&plan.policy.protect.ids)),
        format!("protect.tags {}", tags(&plan.policy.protect.tags)),
        format!("protect.names {}", sorted(&plan.policy.protect.names)),
    ];
    // Only when set: the default leaves every earlier fingerprint (and token) unchanged.
    if plan.policy.on_blocked != super::OnBlocked::Refuse {
        lines.push(format!("on_blocked {}", plan.policy.on_blocked));
    }
    let mut targets: Vec<String> = plan.targets.iter().map(target).collect();
    targets.sort();
    lines.extend(targets);
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// Hex SHA-256 of [`canonical`].
pub(super) fn fingerprint(plan: &Plan) -> String {
    hex::encode(Sha256::digest(canonical(plan).as_bytes()))
}

/// Hex SHA-256 of [`canonical`] without the window: what keys the plan's journal, so that a
/// run stopped by its window and resumed with the window moved finds its own history (what
/// its selectors matched, what it deleted).
pub(super) fn journal_fingerprint(plan: &Plan) -> String {
    let text: String = canonical(plan)
        .lines()
        .filter(|l| !l.starts_with("window "))
        .map(|l| format!("{l}\n"))
        .collect();
    hex::encode(Sha256::digest(text.as_bytes()))
}
