//! Reading the files users hand decom — plans, world files, saved plans — in one place:
//! regular files only (a FIFO, a device such as `/dev/zero` or a directory is refused before
//! it is read, so nothing blocks or reads forever), at most [`limit`] bytes (16 MiB unless
//! `--max-input-size` / `DECOM_MAX_INPUT_SIZE` says otherwise), and valid UTF-8, with the
//! line and column of the first invalid byte when it is not.

use std::io::Read as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The default size limit of an input file: 16 MiB.
pub const DEFAULT_LIMIT: u64 = 16 * 1024 * 1024;

/// The process-wide limit (bytes); set once by the CLI.
static LIMIT: AtomicU64 = AtomicU64::new(DEFAULT_LIMIT);

/// The size limit of input files now in force, in bytes.
pub fn limit() -> u64 {
    LIMIT.load(Ordering::Relaxed)
}

/// Set the size limit of input files (bytes) for the rest of the process.
pub fn set_limit(bytes: u64) {
    LIMIT.store(bytes, Ordering::Relaxed);
}

/// Parse a size: bytes, or a number with a binary suffix `K`, `M`, `G` (`KiB`, `MiB`,
/// `GiB` and `KB`, `MB`, `GB` mean the same), e.g. `16M`, `512KiB`, `1048576`. At least 1.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size {s:?}: expected bytes or e.g. 16M, 512K"))?;
    let factor: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        other => {
            return Err(format!(
                "invalid size unit {other:?} in {s:?}: use K, M or G"
            ));
        }
    };
    match n.checked_mul(factor) {
        Some(0) => Err(format!("size {s:?} must be at least 1 byte")),
        Some(v) => Ok(v),
        None => Err(format!("size {s:?} is too large")),
    }
}

/// Why an input file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file system refused (missing file, permissions, ...).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Not a regular file (a FIFO, a socket, a device, a directory).
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    /// Larger than the limit.
    #[error(
        "{size} bytes is more than the limit of {limit} bytes \
         (raise it with --max-input-size or DECOM_MAX_INPUT_SIZE)"
    )]
    TooLarge {
        /// Bytes seen (the file's size, or at least `limit + 1`).
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// Not UTF-8.
    #[error("invalid UTF-8 at line {line}, column {column} (byte offset {offset})")]
    InvalidUtf8 {
        /// 1-based line of the first invalid byte.
        line: u64,
        /// 1-based column, in characters, of the first invalid byte.
        column: u64,
        /// 0-based byte offset of the first invalid byte.
        offset: usize,
        /// The text of that line up to the invalid byte.
        line_text: String,
    },
}

impl InputError {
    /// (line, column) of the problem, 1-based, when it has one (invalid UTF-8).
    pub fn position(&self) -> Option<(u64, u64)> {
        match self {
            InputError::InvalidUtf8 { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }
}

/// What a non-regular file is, for messages.
fn describe(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// Read `path` as text under the process-wide [`limit`].
pub fn read_text(path: &Path) -> Result<String, InputError> {
    read_text_limited(path, limit())
}

/// Read `path` as text: a regular file of at most `limit` bytes, valid UTF-8.
pub fn read_text_limited(path: &Path, limit: u64) -> Result<String, InputError> {
    // Look before opening: opening a FIFO without a writer blocks.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(InputError::NotRegular(describe(meta.file_type())));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // If the path was swapped for a FIFO after the look, opening still does not block.
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(InputError::NotRegular(describe(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(InputError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    text_of(bytes)
}

/// Check that `bytes` are UTF-8, locating the first invalid byte by line and column.
pub fn text_of(bytes: Vec<u8>) -> Result<String, InputError> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = &bytes[..offset];
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        // `before` is valid UTF-8 by construction.
        let line_text = String::from_utf8_lossy(&before[line_start..]).into_owned();
        let column = line_text.chars().count() as u64 + 1;
        InputError::InvalidUtf8 {
            line,
            column,
            offset,
            line_text,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_located_by_line_and_column() {
        let err = text_of(b"version: 1\nname: caf\xc3\xa9-\xff\n".to_vec()).unwrap_err();
        assert_eq!(err.position(), Some((2, 12)), "{err}");
        assert!(err.to_string().contains("line 2, column 12"), "{err}");
        let err = text_of(b"\xfe".to_vec()).unwrap_err();
        assert_eq!(err.position(), Some((1, 1)));
    }

    #[test]
    fn devices_fifos_directories_and_big_files_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_text(dir.path()).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
        #[cfg(target_os = "linux")]
        {
            let err = read_text(Path::new("/dev/zero")).unwrap_err();
            assert!(err.to_string().contains("character device"), "{err}");
        }
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, vec![b'#'; 2048]).unwrap();
        let err = read_text_limited(&big, 1024).unwrap_err();
        assert!(
            matches!(
                err,
                InputError::TooLarge {
                    size: 2048,
                    limit: 1024
                }
            ),
            "{err}"
        );
        assert_eq!(read_text_limited(&big, 4096).unwrap().len(), 2048);
    }

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("16M").unwrap(), 16 << 20);
        assert_eq!(parse_size("512KiB").unwrap(), 512 << 10);
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert!(parse_size("0").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
