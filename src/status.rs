//! `decom status`: placeholder.

/// Placeholder.
pub fn command(
    _state_dir: &std::path::Path,
    _plan: Option<&std::path::Path>,
    _json: bool,
) -> anyhow::Result<u8> {
    Ok(0)
}
