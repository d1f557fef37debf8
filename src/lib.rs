//! decom: a declarative teardown engine for Alibaba Cloud networking.
//!
//! # Layout
//! - [`api`]: the Alibaba Cloud RPC layer (request value, V1/V3 signing and verification,
//!   credentials, endpoints, transports, error classes, typed operations, paging).
//! - [`exit`]: the documented process exit codes, in one place.
//! - [`cli`]: clap definitions and the command implementations the binary calls.

pub mod api;
pub mod cli;
pub mod exit;
