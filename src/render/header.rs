//! The preview header: the plan, and every rail the apply will respect — the account guard,
//! the window (and where now is in it), cascade, what happens to blocked resources, and the
//! blast radius — in the human diff and the Markdown comment, so a reviewer sees the rails
//! next to the changes.

use crate::graph::{Graph, WindowSpan};
use crate::plan::OnBlocked;

/// A duration in its two largest units: `3h 20m`, `40m`, `25s`, `2d 3h`, `6y 12d`.
pub fn approx(secs: i64) -> String {
    let secs = secs.unsigned_abs();
    let units = [
        ("y", 365 * 86_400),
        ("d", 86_400),
        ("h", 3_600),
        ("m", 60),
        ("s", 1),
    ];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (name, size) in units {
        if rest >= size || (parts.is_empty() && size == 1) {
            parts.push(format!("{}{name}", rest / size));
            rest %= size;
        } else if !parts.is_empty() {
            // Stop at the first empty unit after a non-empty one: `2h`, not `2h 0m 5s`.
            break;
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts.join(" ")
}

/// Where `now` is relative to the window: `opens in 3h`, `open, closes in 40m`, `CLOSED`.
pub fn window_state(w: &crate::plan::Window, now: jiff::Timestamp) -> String {
    let secs = |a: jiff::Timestamp, b: jiff::Timestamp| a.duration_until(b).as_secs();
    if now < w.not_before {
        format!("opens in {}", approx(secs(now, w.not_before)))
    } else if now <= w.not_after {
        format!("open, closes in {}", approx(secs(now, w.not_after)))
    } else {
        format!("CLOSED {} ago", approx(secs(w.not_after, now)))
    }
}

/// `2026-12-01T02:00:00Z → 2026-12-01T06:00:00Z (open, closes in 40m)`, or `none`.
pub fn window_text(w: Option<&WindowSpan>, now: jiff::Timestamp) -> String {
    match w {
        None => "none (apply runs whenever it is started)".to_string(),
        Some(span) => {
            let state = span
                .parse()
                .map(|w| window_state(&w, now))
                .unwrap_or_else(|| "unreadable".into());
            format!("{} → {} ({state})", span.not_before, span.not_after)
        }
    }
}

/// The rails as `(label, value)` pairs, in display order.
pub fn rails(graph: &Graph, now: jiff::Timestamp) -> Vec<(&'static str, String)> {
    let r = &graph.rails;
    let c = graph.counts();
    vec![
        (
            "account guard",
            match &r.account {
                Some(a) => format!("{a} (apply refuses any other account)"),
                None => "none (any account the credentials reach)".to_string(),
            },
        ),
        ("window", window_text(r.window.as_ref(), now)),
        (
            "cascade",
            if r.cascade {
                "on (blockers are removed too)".to_string()
            } else {
                "off (blockers are listed, not removed)".to_string()
            },
        ),
        (
            "on blocked",
            match r.on_blocked {
                OnBlocked::Refuse => "refuse (one blocked resource stops the whole plan)".into(),
                OnBlocked::Skip => {
                    "skip (remove what can be removed, leave the blocked; exit 3)".into()
                }
            },
        ),
        (
            "max deletions",
            match graph.max_deletions {
                Some(m) => format!("{m} (this plan: {} deletions)", c.deletions),
                None => format!("no limit (this plan: {} deletions)", c.deletions),
            },
        ),
    ]
}

/// The header lines of the human diff, after the `Plan:` line.
pub fn human_lines(graph: &Graph, now: jiff::Timestamp) -> Vec<String> {
    rails(graph, now)
        .into_iter()
        .map(|(k, v)| format!("  {:<15}{}", format!("{k}:"), super::clean(&v)))
        .collect()
}

/// The header of the Markdown comment: one bullet per rail.
pub fn markdown_lines(graph: &Graph, now: jiff::Timestamp) -> Vec<String> {
    rails(graph, now)
        .into_iter()
        .map(|(k, v)| format!("- **{k}**: {}", super::md(&v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_two_units() {
        assert_eq!(approx(0), "0s");
        assert_eq!(approx(25), "25s");
        assert_eq!(approx(40 * 60), "40m");
        assert_eq!(approx(3 * 3600 + 20 * 60 + 7), "3h 20m");
        assert_eq!(approx(2 * 3600 + 5), "2h");
        assert_eq!(approx(2 * 86_400 + 3 * 3600), "2d 3h");
        assert_eq!(approx(-90), "1m 30s");
    }

    #[test]
    fn where_now_is_in_the_window() {
        let w = crate::plan::Window {
            not_before: "2026-12-01T02:00:00Z".parse().unwrap(),
            not_after: "2026-12-01T06:00:00Z".parse().unwrap(),
        };
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        assert_eq!(window_state(&w, at("2026-11-30T23:00:00Z")), "opens in 3h");
        assert_eq!(
            window_state(&w, at("2026-12-01T05:20:00Z")),
            "open, closes in 40m"
        );
        assert_eq!(
            window_state(&w, at("2026-12-01T06:00:25Z")),
            "CLOSED 25s ago"
        );
    }
}
