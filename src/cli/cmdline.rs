//! The command line to repeat: what a resume hint tells the operator to run again. The exact
//! arguments of this process, shell-quoted, without the secrets (`--access-key-secret`,
//! `--security-token` and their values: a rerun reads them from the environment or the
//! credential files, and a hint must not print them).

/// Flags whose value is a secret.
const SECRET_FLAGS: &[&str] = &["--access-key-secret", "--security-token"];

/// `args` (program name first) as one shell command line, secrets left out.
pub fn repeatable<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out: Vec<String> = Vec::new();
    let mut skip_value = false;
    for arg in args {
        let arg = arg.as_ref();
        if skip_value {
            skip_value = false;
            continue;
        }
        if SECRET_FLAGS.contains(&arg) {
            skip_value = true;
            continue;
        }
        if SECRET_FLAGS
            .iter()
            .any(|f| arg.starts_with(&format!("{f}=")))
        {
            continue;
        }
        // The program too, as it was run (`decom` from PATH, `./target/release/decom`).
        out.push(quote(arg));
    }
    out.join(" ")
}

/// The command line of this process, secrets left out.
pub fn current() -> String {
    repeatable(std::env::args_os().map(|a| a.to_string_lossy().into_owned()))
}

/// `s` quoted for a POSIX shell when it needs it.
fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_every_flag_and_drops_secrets() {
        let line = repeatable([
            "decom",
            "apply",
            "plans/demo.yaml",
            "--emulator",
            "examples/worlds/demo.yaml",
            "--state-dir",
            "my state",
            "--yes",
            "--access-key-secret",
            "s3cr3t",
            "--security-token=tok",
            "--access-key-id",
            "LTAI",
        ]);
        assert_eq!(
            line,
            "decom apply plans/demo.yaml --emulator examples/worlds/demo.yaml --state-dir 'my state' --yes --access-key-id LTAI"
        );
        assert!(!line.contains("s3cr3t") && !line.contains("tok"));
    }

    #[test]
    fn quotes_what_the_shell_would_split() {
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a$b"), "'a$b'");
        assert_eq!(
            repeatable(["./target/debug/decom", "plan"]),
            "./target/debug/decom plan"
        );
    }
}
