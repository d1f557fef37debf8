//! Diagnostic logging with `tracing`, on stderr.
//!
//! The filter comes from `DECOM_LOG`, else `RUST_LOG`, else `warn`, in the
//! [`tracing_subscriber::EnvFilter`] syntax (`debug`, `decom=debug`, `decom::api=trace`).
//! What each level shows:
//!
//! - `warn`: what went wrong but did not stop the run;
//! - `info`: the stages of a command (plan loaded, discovery, graph built, API call totals);
//! - `debug`: one line per API call attempt (`target: decom::api::call`): product, action,
//!   region, HTTP status, error code, request id, duration and attempt — never a parameter
//!   value, a secret or a signature; the client's retries; each step the executor schedules
//!   and how it finished.
//!
//! The HTTP stack's own logs (connections, headers) stay at `info` whatever the filter says:
//! V3 requests carry the security token in a header. Colour only when stderr is a terminal
//! and `NO_COLOR` is unset.

use std::io::IsTerminal as _;

/// Crates whose logs would show request headers, capped at `info`.
const QUIET: &str = "hyper=info,hyper_util=info,reqwest=info,h2=info,rustls=info";

/// The filter directives the environment asks for: `DECOM_LOG`, else `RUST_LOG`, else `warn`,
/// with the HTTP stack capped (see the module docs).
pub fn directives(decom_log: Option<&str>, rust_log: Option<&str>) -> String {
    let user = [decom_log, rust_log]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("warn");
    format!("{user},{QUIET}")
}

/// Install the subscriber for this process (once; later calls do nothing).
pub fn init() {
    let decom_log = std::env::var("DECOM_LOG").ok();
    let rust_log = std::env::var("RUST_LOG").ok();
    let directives = directives(decom_log.as_deref(), rust_log.as_deref());
    let filter = match tracing_subscriber::EnvFilter::try_new(&directives) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("warning: ignoring the log filter {directives:?}: {e}");
            tracing_subscriber::EnvFilter::new(format!("warn,{QUIET}"))
        }
    };
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decom_log_wins_then_rust_log_then_warn() {
        assert!(directives(Some("debug"), Some("trace")).starts_with("debug,"));
        assert!(directives(None, Some("decom=trace")).starts_with("decom=trace,"));
        assert!(directives(Some(" "), Some("info")).starts_with("info,"));
        assert!(directives(None, None).starts_with("warn,"));
    }

    #[test]
    fn the_http_stack_stays_at_info() {
        let d = directives(Some("trace"), None);
        for c in ["hyper=info", "reqwest=info", "h2=info", "rustls=info"] {
            assert!(d.contains(c), "{d}");
        }
        assert!(tracing_subscriber::EnvFilter::try_new(&d).is_ok());
    }
}
