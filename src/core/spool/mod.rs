//! The write-ahead disk spool (`spoolDir`): every document is appended to disk before it is
//! handed to the transport and acknowledged once the transport confirms it, so a crash, a
//! `kill -9` or a broker that stays away loses nothing that became a document. The next process
//! on the same directory replays what was never acknowledged (at least once), before anything new.
//! What the transport cannot take waits on disk instead of in memory, up to `spoolMaxBytes`, past
//! which the oldest documents are dropped and counted, as Fluent Bit's `storage.total_limit_size`
//! does.
//!
//! - [`frame`]: the bytes on disk (length and CRC32C per document, so a torn tail is found).
//! - [`queue_spool`]: one queue's segments: append, read back, acknowledge, recover.
//! - [`lock`]: one live process per directory.

pub mod frame;
mod lock;
mod queue_spool;

pub use lock::SpoolLock;
pub use queue_spool::{QueueSpool, Recovered, Replayed, SpoolSlot};

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::core::error::{QueueError, Result};
use crate::core::options;

/// With `SpoolSync::Interval`, appends are made durable at most this long after they happen
/// (Vector's disk buffer syncs every 500 ms).
pub const SYNC_INTERVAL: Duration = Duration::from_millis(100);

/// When appends reach the disk itself rather than the page cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpoolSync {
  /// `fdatasync` before each hand-over: survives a power loss, costs a disk flush per batch.
  Always,
  /// `fdatasync` at most every 100 ms: survives a process crash; a power loss can cost 100 ms.
  Interval,
  /// Left to the operating system: survives a process crash, not a power loss.
  Never,
}

impl SpoolSync {
  /// `"always"`, `"interval"` or `"never"`, as the option is spelled.
  pub fn parse(text: &str) -> Option<Self> {
    match text {
      "always" => Some(SpoolSync::Always),
      "interval" => Some(SpoolSync::Interval),
      "never" => Some(SpoolSync::Never),
      _ => None,
    }
  }
}

/// The spool options of a `fromPath`.
#[derive(Debug, Clone, PartialEq)]
pub struct SpoolOptions {
  pub dir: PathBuf,
  /// The bound on the directory's files, all queues together.
  pub max_bytes: u64,
  pub sync: SpoolSync,
}

impl SpoolOptions {
  /// 1 GiB, the default of `spoolMaxBytes` (from the option table).
  pub const DEFAULT_MAX_BYTES: u64 = options::SPOOL_MAX_BYTES.default_number() as u64;
  /// The smallest `spoolMaxBytes`: a few segments of the smallest size (the table's minimum).
  pub const MIN_MAX_BYTES: u64 = match options::SPOOL_MAX_BYTES.rule {
    options::Rule::Whole { min, .. } => min as u64,
    _ => 0,
  };

  /// A segment is closed (and becomes deletable) past this size: an eighth of the bound, between
  /// 4 KiB and 64 MiB, so that dropping the oldest segment frees a useful share of the bound.
  pub fn segment_bytes(&self) -> u64 {
    (self.max_bytes / 8).clamp(4 * 1024, 64 * 1024 * 1024)
  }
}

/// The bytes of a spool directory, shared by its queues and bounded by `spoolMaxBytes`.
#[derive(Debug)]
pub struct SpoolBudget {
  max: u64,
  used: AtomicU64,
}

impl SpoolBudget {
  pub fn new(max: u64) -> Self {
    SpoolBudget {
      max,
      used: AtomicU64::new(0),
    }
  }

  pub fn has_room(&self, bytes: u64) -> bool {
    self.used.load(Ordering::Acquire).saturating_add(bytes) <= self.max
  }

  pub fn charge(&self, bytes: u64) {
    self.used.fetch_add(bytes, Ordering::AcqRel);
  }

  pub fn release(&self, bytes: u64) {
    let _ = self
      .used
      .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
        Some(used.saturating_sub(bytes))
      });
  }

  /// Bytes the directory's segments take now.
  pub fn used(&self) -> u64 {
    self.used.load(Ordering::Acquire)
  }
}

/// A spool directory in use: its lock, its budget, and where each queue's segments go.
#[derive(Debug)]
pub struct SpoolDir {
  pub options: SpoolOptions,
  pub budget: Arc<SpoolBudget>,
  _lock: SpoolLock,
}

impl SpoolDir {
  /// Locks the directory for this process (a `ConfigError` if another live process has it).
  pub fn open(options: SpoolOptions) -> Result<Self> {
    if options.max_bytes < SpoolOptions::MIN_MAX_BYTES {
      return Err(QueueError::Config(format!(
        "option `spoolMaxBytes` must be at least {} (got {})",
        SpoolOptions::MIN_MAX_BYTES,
        options.max_bytes
      )));
    }
    let lock = SpoolLock::acquire(&options.dir)?;
    Ok(SpoolDir {
      budget: Arc::new(SpoolBudget::new(options.max_bytes)),
      options,
      _lock: lock,
    })
  }

  /// The directory of a queue: its identifier (`space/name/v1.0/psi`), with every byte outside
  /// `[A-Za-z0-9._-]` written as `%XX`, so that it is one safe path component and two
  /// identifiers never share one.
  pub fn queue_dir(&self, key: &str) -> PathBuf {
    self.options.dir.join(escape(key))
  }

  /// Opens the spool of one queue; a directory that cannot be used is a `ConfigError` of
  /// `fromPath`.
  pub fn open_queue(&self, key: &str) -> Result<(QueueSpool, Recovered)> {
    let dir = self.queue_dir(key);
    QueueSpool::open(
      dir.clone(),
      self.options.sync,
      self.options.segment_bytes(),
      Arc::clone(&self.budget),
    )
    .map_err(|err| QueueError::Config(format!("spoolDir: cannot use {}: {err}", dir.display())))
  }
}

fn escape(key: &str) -> String {
  let mut out = String::with_capacity(key.len());
  for byte in key.bytes() {
    if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-') {
      out.push(byte as char);
    } else {
      out.push_str(&format!("%{byte:02X}"));
    }
  }
  if out.starts_with('.') {
    // `.` and `..` are not directories of ours.
    out.replace_range(0..1, "%2E");
  }
  out
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn queue_directories_are_one_safe_component() {
    assert_eq!(escape("space/name/v1.0/psi"), "space%2Fname%2Fv1.0%2Fpsi");
    assert_eq!(escape(".."), "%2E.");
    assert_eq!(escape("a b\u{e9}"), "a%20b%C3%A9");
  }

  #[test]
  fn the_budget_never_wraps() {
    let budget = SpoolBudget::new(100);
    budget.charge(60);
    assert!(budget.has_room(40));
    assert!(!budget.has_room(41));
    budget.release(1000);
    assert_eq!(budget.used(), 0);
    assert!(!budget.has_room(u64::MAX));
  }
}
