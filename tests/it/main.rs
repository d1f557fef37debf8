//! decom's integration tests: one binary, the real client and binary against the real
//! emulator over loopback.

mod apply;
mod chaos;
mod cli;
mod contract;
mod emulator;
mod output;
mod plan;
mod safety;
mod support;
mod tls;
