//! decom's integration tests: one binary, the real client and binary against the real
//! emulator over loopback.

mod apply;
mod blockers;
mod cen_ipsec;
mod chaos;
mod cli;
mod contract;
mod credentials;
mod emulator;
mod express_connect;
mod output;
mod plan;
mod rails;
mod safety;
mod snapshot;
mod support;
mod tls;
