//! Process exit codes: the contract scripts and CI pipelines rely on (design.md §5).
//! Every exit of the binary goes through one of these constants.

/// Success, or nothing to do.
pub const SUCCESS: u8 = 0;
/// Error: bad input, authentication, an API failure before any change, blockers that refuse
/// the plan (`policy.on_blocked: refuse`, the default), a selector that matched nothing.
pub const ERROR: u8 = 1;
/// `plan --detailed-exitcode`: changes are pending.
pub const CHANGES_PENDING: u8 = 2;
/// `apply` finished partially: some steps failed, timed out or were skipped; it was
/// interrupted; the window closed; or blocked resources were left by
/// `policy.on_blocked: skip` (the report says which).
pub const PARTIAL: u8 = 3;
/// Not due: outside the plan's window; nothing was done.
pub const NOT_DUE: u8 = 4;
/// Refused by a safety rail: account mismatch, protected resource, blast radius, stale or
/// foreign saved plan, no confirmation.
pub const REFUSED: u8 = 5;

/// The table printed by `decom --help` and the README.
pub const TABLE: &str = "\
Exit codes:
  0  success / nothing to do
  1  error (bad input, auth, API failure before any change, blockers that refuse the plan, a selector that matched nothing)
  2  plan --detailed-exitcode: changes pending
  3  apply finished partially (steps failed, timed out or were skipped; interrupted; the window closed; blocked resources left by policy.on_blocked: skip)
  4  not due: outside the plan's window, nothing done
  5  refused by a safety rail (account mismatch, protected resource, blast radius, stale saved plan, no confirmation)";
