//! `decom apply --output json`: the event stream as JSON lines on stdout.
//!
//! Schema, `format_version` 1 (every line carries it, with `event` and an RFC 3339 `time`):
//!
//! ```text
//! {"format_version":1,"time":"…","event":"begin","plan":"…","plan_fingerprint":"…","total":N,
//!  "steps":[{"step":0,"kind":"…","resource":"…","region":"…","action":"…","api":"…",
//!            "until":"…"|null,"depends_on":[…]}]}
//! {"…","event":"started","step":0,"kind":"…","resource":"…","region":"…","action":"…","deadline_secs":1800}
//! {"…","event":"progress", <step fields>,"state":"Terminating","attempt":3}   (once per new state)
//! {"…","event":"waiting", <step fields>,"state":"Terminating"|null,"polls":12,
//!        "elapsed_secs":300,"deadline_secs":1800}                            (every minute per wait in flight)
//! {"…","event":"finished", <step fields>,"outcome":"done|already_gone|failed|timed_out|skipped|not_started|interrupted",
//!        …the outcome's fields (code, message, request_id | last_state, after_secs, last_error | because),
//!        "elapsed_secs":2.1}
//! {"…","event":"stopping"}                                                  (Ctrl-C)
//! {"…","event":"report","exit_code":0|3,"complete":bool,"interrupted":bool,"counts":{…},"steps":[…]}
//! {"…","event":"exit","exit_code":1|4|5,"outcome":"error|not_due|refused","message":"…"}
//! ```
//!
//! `<step fields>` are `step` (the id, as in `plan --output json`), `kind`, `resource`,
//! `region` and `action`. The last line of every run is `report` or `exit`, with the
//! process's exit code: `tail -n1 | jq .exit_code` always finds it. Fields are only added
//! within a format version.

use std::time::Duration;

use serde_json::{Value, json};

use crate::exec::Event;
use crate::graph::Graph;

/// The version of the event schema.
pub const FORMAT_VERSION: u32 = 1;

/// The fields every line starts with.
fn head(event: &str) -> Value {
    json!({
        "format_version": FORMAT_VERSION,
        "time": jiff::Timestamp::now().to_string(),
        "event": event,
    })
}

/// The fields naming step `id` of `graph`.
fn step_fields(v: &mut Value, graph: &Graph, id: usize) {
    v["step"] = json!(id);
    if let Some(s) = graph.steps.get(id) {
        v["kind"] = json!(s.kind.plan_name());
        v["resource"] = json!(s.resource);
        v["region"] = json!(s.region);
        v["action"] = json!(s.action.to_string());
    }
}

/// The JSON line of an executor event.
pub fn event(e: &Event, graph: &Graph) -> Value {
    match e {
        Event::Begin { steps } => {
            let mut v = head("begin");
            v["plan"] = json!(graph.plan);
            v["plan_fingerprint"] = json!(graph.plan_fingerprint);
            v["total"] = json!(steps);
            v["steps"] = graph
                .steps
                .iter()
                .map(|s| {
                    json!({
                        "step": s.id, "kind": s.kind.plan_name(), "resource": s.resource,
                        "region": s.region, "action": s.action.to_string(), "api": s.api,
                        "until": s.until, "depends_on": s.depends_on,
                    })
                })
                .collect();
            v
        }
        Event::Started {
            step,
            deadline_secs,
        } => {
            let mut v = head("started");
            step_fields(&mut v, graph, *step);
            v["deadline_secs"] = json!(deadline_secs);
            v
        }
        Event::Progress {
            step,
            state,
            attempt,
        } => {
            let mut v = head("progress");
            step_fields(&mut v, graph, *step);
            v["state"] = json!(state);
            v["attempt"] = json!(attempt);
            v
        }
        Event::Finished {
            step,
            outcome,
            elapsed_secs,
        } => {
            let mut v = head("finished");
            step_fields(&mut v, graph, *step);
            if let Ok(Value::Object(o)) = serde_json::to_value(outcome) {
                for (k, x) in o {
                    v[k] = x;
                }
            }
            v["elapsed_secs"] = json!(elapsed_secs);
            v
        }
        Event::Stopping => head("stopping"),
        Event::WindowClosed => head("window_closed"),
    }
}

/// The heartbeat line of a wait in flight.
pub fn waiting(
    graph: &Graph,
    step: usize,
    state: Option<&str>,
    polls: u32,
    elapsed: Duration,
    deadline: Duration,
    text: &str,
) -> Value {
    let mut v = head("waiting");
    step_fields(&mut v, graph, step);
    v["state"] = json!(state);
    v["polls"] = json!(polls);
    v["elapsed_secs"] = json!(elapsed.as_secs());
    v["deadline_secs"] = json!(deadline.as_secs());
    v["message"] = json!(text);
    v
}

/// The last line of a run that produced a report: the report with its exit code.
pub fn report(mut report: Value, exit_code: u8) -> Value {
    let mut v = head("report");
    v["exit_code"] = json!(exit_code);
    if let Value::Object(o) = report.take() {
        for (k, x) in o {
            v[k] = x;
        }
    }
    v
}

/// The last line of a run that ended without a report: refused, not due, or an error.
pub fn exit(exit_code: u8, message: Option<&str>) -> Value {
    let mut v = head("exit");
    v["exit_code"] = json!(exit_code);
    v["outcome"] = json!(match exit_code {
        crate::exit::SUCCESS => "success",
        crate::exit::NOT_DUE => "not_due",
        crate::exit::REFUSED => "refused",
        crate::exit::PARTIAL => "partial",
        _ => "error",
    });
    if let Some(m) = message {
        v["message"] = json!(m);
    }
    v
}
