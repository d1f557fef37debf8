//! Plan errors and their rustc-like rendering.

use std::fmt::Write as _;

/// A plan file that cannot be used: every problem found, each with its position.
///
/// `Display` renders one block per error:
///
/// ```text
/// error: unknown kind "physical_conection" (expected one of: physical_connection, ...)
///   --> plans/x.yaml:7:5
///    |
///  7 |   - physical_conection: pc-1
///    |     ^
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.file, .errors))]
pub struct PlanErrors {
    /// The file as given.
    pub file: String,
    /// Every problem, sorted by position.
    pub errors: Vec<PlanError>,
}

/// One problem in a plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    /// 1-based line (0 only when the file could not be read).
    pub line: u64,
    /// 1-based column, in characters (0 only when the file could not be read).
    pub column: u64,
    /// What is wrong.
    pub message: String,
    /// What would have been accepted, e.g. `an id starting with "vbr-"`.
    pub expected: Option<String>,
    /// The offending line of the file, without its line break.
    pub source_line: Option<String>,
}

impl PlanErrors {
    /// Located problems of another file (a world file), rendered like a plan's: `problems`
    /// are (line, column, message), `text` the file's text for the offending lines.
    pub fn of_file(
        file: &str,
        text: &str,
        problems: impl IntoIterator<Item = (u64, u64, String)>,
    ) -> PlanErrors {
        let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
        PlanErrors {
            file: file.to_string(),
            errors: problems
                .into_iter()
                .map(|(line, column, message)| PlanError {
                    line,
                    column,
                    message,
                    expected: None,
                    source_line: usize::try_from(line)
                        .ok()
                        .and_then(|l| l.checked_sub(1))
                        .and_then(|i| lines.get(i))
                        .map(|l| l.to_string()),
                })
                .collect(),
        }
    }
}

impl PlanError {
    /// The header line: `message (expected …)`.
    pub fn summary(&self) -> String {
        match &self.expected {
            Some(e) => format!("{} (expected {e})", self.message),
            None => self.message.clone(),
        }
    }
}

/// Render every error as a rustc-like block, blocks separated by a blank line.
fn render(file: &str, errors: &[PlanError]) -> String {
    let mut out = String::new();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        render_one(&mut out, file, e);
    }
    out
}

fn render_one(out: &mut String, file: &str, e: &PlanError) {
    let _ = write!(out, "error: {}", e.summary());
    if e.line == 0 {
        let _ = write!(out, "\n  --> {file}");
        return;
    }
    let width = e.line.to_string().len() + 1;
    let _ = write!(out, "\n{:width$}--> {file}:{}:{}", "", e.line, e.column);
    let Some(src) = &e.source_line else {
        return;
    };
    let src = printable(src);
    let caret_pad: String = src
        .chars()
        .chain(std::iter::repeat(' '))
        .take(
            usize::try_from(e.column.saturating_sub(1))
                .unwrap_or(0)
                .min(4096),
        )
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let _ = write!(
        out,
        "\n{:width$} |\n{:>width$} | {src}\n{:width$} | {caret_pad}^",
        "", e.line, ""
    );
}

/// The line with control characters (other than tab) replaced, so a stray byte cannot
/// disturb the terminal.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}
