//! decom: a declarative teardown engine for Alibaba Cloud networking.
//!
//! # Layout
//! - [`api`]: the Alibaba Cloud RPC layer (request value, V1/V3 signing and verification,
//!   credentials, endpoints, transports, error classes, typed operations, paging).
//! - [`model`]: shared vocabulary (kinds, regions, step actions, globs).
//! - [`input`]: reading plan, world and saved-plan files (regular files, size cap, UTF-8
//!   errors located by line and column).
//! - [`plan`]: the plan file format, loading and validation with source locations.
//! - [`discover`]: read-only discovery of targets and their blockers (the inventory).
//! - [`graph`]: the petgraph DAG of steps, blocker explanations, ClientTokens.
//! - [`progress`]: apply reporters (progress bars, log lines, JSON lines) and the final
//!   report.
//! - [`render`]: previews and reports: human diff, JSON, Markdown, DOT, Mermaid.
//! - [`exec`]: the executor: scheduler, retries by error class, rate limits, waits,
//!   journal and lock.
//! - [`exit`]: the documented process exit codes, in one place.
//! - [`emulator`]: the local Alibaba Cloud emulator (world file, state, per-operation
//!   rules, HTTP front) used by the demo, the tests and rehearsals.
//! - [`cli`]: clap definitions and the command implementations the binary calls.

pub mod api;
pub mod cli;
pub mod discover;
pub mod emulator;
pub mod exec;
pub mod exit;
pub mod graph;
pub mod input;
pub mod model;
pub mod plan;
pub mod progress;
pub mod render;
