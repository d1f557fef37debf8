//! The `decom` binary: parse, run, map the outcome to a documented exit code.

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    decom::cli::main()
}

/// glibc gives every thread that allocates concurrently its own arena, and memory freed in
/// one (discovery's answers, decoded on both runtime threads) is not reused by another
/// (the graph, built after it): `plan` of 20,000 resources peaked at 181 MB with the default
/// (8 × cores) arenas and at 135 MB with two. Two arenas, as many as the runtime's worker
/// threads on the machines decom is sized for; no effect on other C libraries.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; it is called before any thread
    // starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
