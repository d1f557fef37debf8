//! The `decom` binary: parse, run, map the outcome to a documented exit code.

fn main() -> std::process::ExitCode {
    decom::cli::main()
}
