//! Exclusive locks under the state directory: one per plan (its journal directory) and one
//! per (account, region) scope an apply mutates, so neither two runs of one plan nor two
//! overlapping plans run at once there.
//!
//! A lock is an OS advisory lock (`flock` on Unix, `LockFileEx` on Windows, through
//! [`std::fs::File::try_lock`]) on a file that is never deleted, held for as long as the
//! [`Lock`] lives. Taking it is atomic: of two processes that try at the same instant exactly
//! one gets it, whatever their timing. The kernel drops it when the holder exits, even on
//! `kill -9`, so a crashed run never leaves a lock that blocks the next one.
//!
//! While it holds the lock, the holder writes its record (pid, process start time, host,
//! start of the run, plan) into the file, for the message a refused run prints. The record is
//! cleared on a clean release; a record found by the next holder therefore comes from a run
//! that ended without releasing (killed): it is reported as taken over when that process is
//! provably gone on this host (no such pid, or a pid reused by a process that started at
//! another time). A leftover record of a process still alive, or of another host, is
//! respected: it may be an older decom that used a plain lock file, or a run on another
//! machine sharing the state directory.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The holder's record, as written into the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// Start time of the process (Linux: clock ticks since boot, `/proc/<pid>/stat` field
    /// 22), which tells a pid reused by another process from the holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    /// Host name.
    pub host: String,
    /// When the run took the lock (RFC 3339).
    pub since: String,
    /// The plan it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

impl Holder {
    /// The record of this process.
    pub fn me(plan: Option<&str>) -> Holder {
        let pid = std::process::id();
        Holder {
            pid,
            start: start_time(pid),
            host: hostname(),
            since: jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string(),
            plan: plan.map(str::to_string),
        }
    }

    /// True when the process that wrote this record is provably gone: same host, and no
    /// process with its pid, or one that started at another time.
    pub fn provably_gone(&self) -> bool {
        if self.host != hostname() {
            return false;
        }
        if !alive(self.pid) {
            return true;
        }
        match (self.start, start_time(self.pid)) {
            (Some(recorded), Some(now)) => recorded != now,
            _ => false,
        }
    }

    /// `pid 12 on host since T (plan p)`.
    pub fn describe(&self) -> String {
        let mut s = format!("pid {} on {}, since {}", self.pid, self.host, self.since);
        if let Some(p) = &self.plan {
            s.push_str(&format!(", plan {p}"));
        }
        s
    }
}

/// Why a lock cannot be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone holds it.
    #[error(
        "{what} is held by another apply: {} (lock {path}); wait for it to finish{hint}",
        holder.as_deref().map_or_else(|| "its record is still being written".to_string(), Holder::describe),
        hint = if *.leftover { ", or remove the lock file if that process is not a decom apply" } else { "" }
    )]
    Held {
        /// What the lock protects, e.g. `the lock of this plan`.
        what: String,
        /// The holder's record, when it was complete.
        holder: Option<Box<Holder>>,
        /// The lock file.
        path: String,
        /// True when the OS lock was free and only a leftover record of a live (or foreign)
        /// process stands in the way.
        leftover: bool,
    },
    /// File system trouble.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// A held lock; released on drop (its record cleared first).
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
    /// A leftover record of a run that ended without releasing (killed), taken over.
    pub took_over: Option<Holder>,
}

impl Lock {
    /// Take the lock at `path` (created if missing) or fail at once with the holder named.
    /// `what` names it in messages; `plan` goes into the record.
    pub fn acquire(path: &Path, what: &str, plan: Option<&str>) -> Result<Lock, LockError> {
        let io = |source| LockError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        let held = |holder: Option<Holder>, leftover| LockError::Held {
            what: what.to_string(),
            holder: holder.map(Box::new),
            path: path.display().to_string(),
            leftover,
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(held(read_record(&mut file), false));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        // Ours. A record left in the file comes from a run that did not release cleanly.
        let took_over = match read_record_raw(&mut file).map_err(io)? {
            None => None,
            Some(text) => match serde_json::from_str::<Holder>(&text) {
                Ok(h) if h.provably_gone() => Some(h),
                Ok(h) => return Err(held(Some(h), true)),
                // A record cut by a crash mid-write: its writer held the OS lock and is gone.
                Err(_) => None,
            },
        };
        let me = Holder::me(plan);
        let text = serde_json::to_string(&me).unwrap_or_default();
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        file.write_all(format!("{text}\n").as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(Lock {
            file,
            path: path.to_path_buf(),
            took_over,
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Clear the record, then let the OS lock go with the file handle. The file stays:
        // deleting it would let a waiter lock the old inode while a newcomer locks a new one.
        let _ = self.file.set_len(0);
        let _ = self.file.sync_data();
        let _ = self.file.unlock();
    }
}

fn read_record_raw(file: &mut File) -> std::io::Result<Option<String>> {
    let mut text = String::new();
    file.rewind()?;
    // A record is small; never read more than a few KiB of whatever is there.
    std::io::Read::by_ref(file)
        .take(64 * 1024)
        .read_to_string(&mut text)?;
    Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty()))
}

fn read_record(file: &mut File) -> Option<Holder> {
    read_record_raw(file)
        .ok()
        .flatten()
        .and_then(|t| serde_json::from_str(&t).ok())
}

/// This host's name, from the system (`gethostname`).
pub fn hostname() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success
        // when the name fits, and we stop at the first NUL or the buffer's end.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
            let name = String::from_utf8_lossy(&buf[..end]).into_owned();
            if !name.is_empty() {
                return name;
            }
        }
    }
    // Never $HOSTNAME: most shells set it without exporting it, and it can say anything.
    #[cfg(windows)]
    if let Ok(name) = std::env::var("COMPUTERNAME") {
        return name;
    }
    "unknown-host".into()
}

/// Is there a process with this pid (on this host)?
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists and may be signalled.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// The start time of a process (Linux only), to tell a reused pid from the holder.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid ...`: comm may hold spaces and parentheses; fields resume after
    // the last `)`, starting at field 3; starttime is field 22.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn of_100_simultaneous_pairs_exactly_one_takes_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..100 {
            let path = dir.path().join(format!("r{round}")).join("lock");
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
            let results: Vec<Result<Lock, LockError>> = (0..2)
                .map(|_| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        Lock::acquire(&path, "the lock of this plan", Some("p"))
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect();
            let won = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(won, 1, "round {round}: {won} holders");
            let refused = results.iter().find_map(|r| r.as_ref().err()).unwrap();
            assert!(
                matches!(
                    refused,
                    LockError::Held {
                        leftover: false,
                        ..
                    }
                ),
                "round {round}: {refused}"
            );
        }
    }

    #[test]
    fn release_clears_the_record_and_a_killed_holder_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let held = Lock::acquire(&path, "x", Some("p")).unwrap();
        let err = Lock::acquire(&path, "the lock of this plan", None).unwrap_err();
        let me = std::process::id();
        assert!(err.to_string().contains(&format!("pid {me} on ")), "{err}");
        assert!(err.to_string().contains("plan p"), "{err}");
        drop(held);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        assert!(path.exists(), "the file stays");
        // A run killed while holding it: its record stays, its process is gone.
        let dead = Holder {
            pid: 4_000_000,
            ..Holder::me(None)
        };
        std::fs::write(&path, serde_json::to_string(&dead).unwrap()).unwrap();
        let l = Lock::acquire(&path, "x", None).unwrap();
        assert_eq!(l.took_over.as_ref().map(|h| h.pid), Some(4_000_000));
        drop(l);
        // A pid reused by a process that started at another time is gone too.
        let reused = Holder {
            start: Some(1),
            ..Holder::me(None)
        };
        std::fs::write(&path, serde_json::to_string(&reused).unwrap()).unwrap();
        assert!(Lock::acquire(&path, "x", None).unwrap().took_over.is_some());
        // A live process (pid 1) or another host is respected.
        for (pid, host) in [(1, hostname()), (4_000_000, "elsewhere".to_string())] {
            let h = Holder {
                pid,
                start: None,
                host,
                since: "2026-01-01T00:00:00Z".into(),
                plan: None,
            };
            std::fs::write(&path, serde_json::to_string(&h).unwrap()).unwrap();
            let err = Lock::acquire(&path, "x", None).unwrap_err();
            assert!(
                matches!(err, LockError::Held { leftover: true, .. }),
                "{err}"
            );
        }
    }
}
