//! One live process per spool directory. Two processes appending to the same segments would
//! interleave frames and acknowledge each other's records; instead the second one is refused at
//! `fromPath` with a `ConfigError`. The lock is an advisory `flock` on `LOCK` in the directory,
//! which the operating system releases when the process dies, so a `kill -9` never leaves a stale
//! lock behind. The file holds the owner's pid, for the message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::core::error::{QueueError, Result};

/// Held while the queues of one `fromPath` use the directory; dropping it releases the lock.
#[derive(Debug)]
pub struct SpoolLock {
  _file: File,
}

impl SpoolLock {
  /// Creates the directory if needed and takes its lock, or says who holds it.
  pub fn acquire(dir: &Path) -> Result<Self> {
    let config = |what: String| QueueError::Config(format!("spoolDir {}: {what}", dir.display()));
    std::fs::create_dir_all(dir).map_err(|err| config(format!("cannot create it: {err}")))?;
    let path = dir.join("LOCK");
    let mut file = OpenOptions::new()
      .read(true)
      .write(true)
      .create(true)
      .truncate(false)
      .open(&path)
      .map_err(|err| config(format!("cannot open its lock file: {err}")))?;
    match file.try_lock() {
      Ok(()) => {}
      Err(TryLockError::WouldBlock) => {
        let mut owner = String::new();
        let _ = file.read_to_string(&mut owner);
        let owner = owner.trim();
        let by = if owner.is_empty() {
          String::new()
        } else {
          format!(" (process {owner})")
        };
        return Err(config(format!(
          "already in use by another live ScouterQueue{by}; give each process its own spoolDir"
        )));
      }
      Err(TryLockError::Error(err)) => {
        return Err(config(format!("cannot lock it: {err}")));
      }
    }
    // Only the holder writes its pid; a failure here loses nothing but the message.
    let _ = file
      .set_len(0)
      .and_then(|()| file.seek(SeekFrom::Start(0)).map(drop))
      .and_then(|()| file.write_all(std::process::id().to_string().as_bytes()));
    Ok(SpoolLock { _file: file })
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_second_holder_is_refused_until_the_first_lets_go() {
    let dir = tempfile::tempdir().unwrap();
    let first = SpoolLock::acquire(dir.path()).unwrap();
    let refused = SpoolLock::acquire(dir.path()).unwrap_err();
    let text = refused.to_string();
    assert!(matches!(refused, QueueError::Config(_)), "{text}");
    assert!(text.contains("already in use"), "{text}");
    assert!(text.contains(&std::process::id().to_string()), "{text}");
    drop(first);
    SpoolLock::acquire(dir.path()).unwrap();
  }
}
