//! Documents from a write-ahead spool directory (`spoolDir`): the frames no process saw
//! acknowledged, read with the spool's own recovery ([`QueueSpool::open`]: torn tails cut off,
//! acknowledged frames skipped), queue directory by queue directory, oldest first. The
//! directory's lock is held throughout, so a service using the directory is never raced (and a
//! running one makes the replay fail at once). Frames are acknowledged (so that no later process
//! replays them) only when asked to, and only once published.

use std::path::Path;
use std::sync::Arc;

use super::{Entry, Origin, Source};
use crate::core::error::{QueueError, Result};
use crate::core::spool::{QueueSpool, Replayed, SpoolDir, SpoolOptions, SpoolSync};

/// The unacknowledged frames of every queue of one spool directory.
pub struct SpoolSource {
  /// Holds the directory's lock while the replay runs.
  dir: SpoolDir,
  queues: Vec<QueueSpool>,
  /// `(queue, frame)` in replay order.
  frames: Vec<(usize, Replayed)>,
  next: usize,
  /// What recovery found damaged (and repaired), to report.
  pub damage: Vec<String>,
}

impl SpoolSource {
  /// Locks `path` (refused while a live process uses it) and recovers each queue's frames.
  pub fn open(path: &Path) -> Result<Self> {
    let options = SpoolOptions {
      dir: path.to_path_buf(),
      max_bytes: SpoolOptions::DEFAULT_MAX_BYTES,
      // Nothing is appended. Acknowledgements are written as the service writes them, without a
      // sync: one lost in a power cut only means the frame is delivered again (at least once).
      sync: SpoolSync::Never,
    };
    let dir = SpoolDir::open(options)?;
    let fail =
      |err: std::io::Error| QueueError::Spool(format!("cannot read {}: {err}", path.display()));
    let mut queue_dirs: Vec<_> = std::fs::read_dir(path)
      .map_err(fail)?
      .filter_map(|entry| entry.ok())
      .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
      .map(|entry| entry.path())
      .collect();
    queue_dirs.sort();
    let mut queues = Vec::new();
    let mut frames = Vec::new();
    let mut damage = Vec::new();
    for queue_dir in queue_dirs {
      let (spool, recovered) = QueueSpool::open(
        queue_dir,
        SpoolSync::Never,
        dir.options.segment_bytes(),
        Arc::clone(&dir.budget),
      )
      .map_err(fail)?;
      let index = queues.len();
      frames.extend(recovered.replay.into_iter().map(|frame| (index, frame)));
      damage.extend(recovered.damage);
      queues.push(spool);
    }
    Ok(SpoolSource {
      dir,
      queues,
      frames,
      next: 0,
      damage,
    })
  }
}

impl Source for SpoolSource {
  fn total(&self) -> u64 {
    self.frames.len() as u64
  }

  fn position(&self) -> u64 {
    self.next as u64
  }

  fn next(&mut self) -> Option<Result<Entry, String>> {
    let (queue, frame) = self.frames.get(self.next)?.clone();
    self.next += 1;
    let origin = Origin::Frame {
      queue,
      slot: frame.slot,
    };
    Some(
      self.queues[queue]
        .read(frame.slot)
        .map(|spooled| Entry {
          document: spooled.into_document(),
          origin,
        })
        .map_err(|err| {
          format!(
            "spool frame {} of segment {}: {err}",
            frame.slot.index, frame.slot.segment
          )
        }),
    )
  }

  fn acknowledge(&mut self, origin: &Origin) {
    if let Origin::Frame { queue, slot } = origin {
      self.queues[*queue].resolve(*slot);
    }
  }

  fn finish(&mut self) -> Result<()> {
    for queue in &mut self.queues {
      queue.close().map_err(|err| {
        QueueError::Spool(format!(
          "cannot close {}: {err}",
          self.dir.options.dir.display()
        ))
      })?;
    }
    Ok(())
  }
}
