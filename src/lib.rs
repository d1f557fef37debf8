//! decom: a declarative teardown engine for Alibaba Cloud networking.
//!
//! # Layout: the path of one plan
//! 1. [`plan`]: the plan file (YAML) is loaded and validated with source locations.
//! 2. [`discover`]: read-only discovery resolves the targets and, kind by kind, everything
//!    that blocks their deletion (the inventory).
//! 3. [`graph`]: the petgraph DAG of steps, blocker explanations, ClientTokens.
//! 4. [`render`]: the preview (human diff, JSON, Markdown, DOT, Mermaid) — or
//! 5. [`exec`]: the executor runs the graph: scheduler, retries by error class, rate
//!    limits, coalesced waits, journal and lock; [`progress`] reports it as it goes;
//! 6. the final report ([`progress`], [`render`]) and the documented exit codes ([`exit`]).
//!
//! What each kind of resource is — how it is listed, found as a blocker, removed, waited for
//! and explained — lives in one module per kind under [`kinds`], the registry every stage
//! above iterates. Beside the path:
//! - [`api`]: the Alibaba Cloud RPC layer (request value, V1/V3 signing and verification,
//!   credentials, endpoints, transports, error classes, typed operations, paging).
//! - [`model`]: shared vocabulary (kinds, regions, step actions, globs).
//! - [`input`]: reading plan, world and saved-plan files (regular files, size cap, UTF-8
//!   errors located by line and column).
//! - [`emulator`]: the local Alibaba Cloud emulator (world file, state, per-operation
//!   rules, HTTP front) used by the demo, the tests and rehearsals.
//! - [`saved`]: saved plans (`plan --out`, `apply FILE`, `show FILE`) and their staleness
//!   check.
//! - [`cli`]: clap definitions and the command implementations the binary calls.
//! - [`logging`]: the `tracing` subscriber (`DECOM_LOG` / `RUST_LOG`, one debug line per API
//!   call).

/// `eprintln!` for the whole crate: like std's, but a closed stderr (`decom … 2>&1 | head`)
/// is not a panic — the message is dropped, as stdout's writer does for a closed stdout.
/// Declared before the modules, it shadows the prelude macro in all of them.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod api;
pub mod cli;
pub mod discover;
pub mod emulator;
pub mod exec;
pub mod exit;
pub mod graph;
pub mod input;
pub mod kinds;
pub mod logging;
pub mod model;
pub mod plan;
pub mod progress;
pub mod render;
pub mod saved;
pub mod snapshot;
pub mod status;
