//! Build script: the commit `decom --version` shows.
//!
//! `DECOM_COMMIT` is the short hash of HEAD when the source is a git checkout with `git` on
//! PATH (a clean clone in CI included), and empty otherwise (a crates tarball, no git):
//! `--version` then shows the crate version alone. `DECOM_COMMIT` set in the environment
//! wins (a packager building from a tarball).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DECOM_COMMIT");
    let commit = std::env::var("DECOM_COMMIT").ok().or_else(|| {
        let hash = git(&["rev-parse", "--short=12", "HEAD"])?;
        // Rebuild when HEAD moves: HEAD itself, the branch it points at and packed refs (a
        // commit or checkout changes one of them). Only existing paths are named, so a
        // missing one does not rerun the script on every build.
        let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])];
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watched.push(git(&["rev-parse", "--git-path", &branch]));
        }
        watched.push(git(&["rev-parse", "--git-path", "packed-refs"]));
        for path in watched.into_iter().flatten() {
            if std::path::Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
        Some(hash)
    });
    println!(
        "cargo:rustc-env=DECOM_COMMIT={}",
        commit.unwrap_or_default()
    );
}
