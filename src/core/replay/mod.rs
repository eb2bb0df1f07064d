//! Re-publishing documents that were written somewhere else first, for the command line's
//! `replay`: the lines of a File-transport JSON-lines file ([`jsonl`]) or the unacknowledged
//! frames of a write-ahead spool directory ([`spool`]), handed to a transport through the same
//! code the queues use (the transport's confirmations, [`confirm_with_retry`] with the config's
//! `maxRetries`), with an account of what happened to each.
//!
//! The caller drives it in steps ([`Replayer::step`]), so that it can show progress between them
//! and stop between two steps.

mod jsonl;
mod spool;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;

use crate::core::error::{QueueError, Result};
use crate::core::retry::{confirm_with_retry, RetryPolicy};
use crate::core::spool::SpoolSlot;
use crate::core::transport::{check_ready, Transport, TransportConfig, TransportEvents};
use crate::core::wire::Document;

pub use jsonl::{parse_document, JsonlSource};
pub use spool::SpoolSource;

/// How long the transport may take to answer before the replay gives up at the start.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where an entry came from, to name it in messages and to acknowledge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
  /// A line of a JSON-lines file (1-based).
  Line(u64),
  /// A frame of the spool: the queue directory's index and the frame's place.
  Frame { queue: usize, slot: SpoolSlot },
}

/// One document read from a source.
#[derive(Debug)]
pub struct Entry {
  pub document: Document,
  pub origin: Origin,
}

/// Where documents are read from.
pub trait Source: Send {
  /// How much there is to read, in the source's unit (bytes of a file, frames of a spool).
  fn total(&self) -> u64;
  /// How much was read so far, in the same unit.
  fn position(&self) -> u64;
  /// The next entry; `Err` for one that cannot be published (named, with why); `None` at the end.
  fn next(&mut self) -> Option<Result<Entry, String>>;
  /// The entry was published: a spool with `consume` marks its frame done.
  fn acknowledge(&mut self, origin: &Origin);
  /// Makes acknowledgements durable and releases what the source holds.
  fn finish(&mut self) -> Result<()>;
}

/// How a replay runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayOptions {
  /// Spool only: acknowledge each published frame, so that the service does not replay it again
  /// when it next starts on the directory. Without it the spool is left as it was.
  pub consume: bool,
}

/// What happened so far. `read` = `published` + `failed` + `invalid`, once a step returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayCounts {
  /// Entries read from the source.
  pub read: u64,
  /// Documents the transport confirmed.
  pub published: u64,
  /// Documents the transport refused or lost, after retries.
  pub failed: u64,
  /// Entries that were not documents (a broken line, an unreadable frame); not published.
  pub invalid: u64,
  /// Records in the published documents.
  pub records: u64,
}

/// The state after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayProgress {
  pub counts: ReplayCounts,
  /// `Source::position` and `Source::total`.
  pub position: u64,
  pub total: u64,
  /// Nothing is left to read.
  pub done: bool,
  /// What went wrong during the step, one message each (an invalid entry, a failed publish, a
  /// transport's background failure).
  pub problems: Vec<String>,
}

/// A replay in progress: a source, an open transport, and the counts.
pub struct Replayer {
  source: Box<dyn Source>,
  transport: Arc<dyn Transport>,
  policy: RetryPolicy,
  options: ReplayOptions,
  counts: ReplayCounts,
  /// Failures the transport reported outside any publish.
  background: Arc<Mutex<Vec<String>>>,
  /// Recovery findings of the source, reported with the first step.
  pending: Vec<String>,
  done: bool,
}

impl Replayer {
  /// Opens `path` (a directory is a spool, anything else a JSON-lines file) and the transport of
  /// `config`, and waits until the transport answers (at most [`CONNECT_TIMEOUT`]).
  pub async fn open(path: &Path, config: &TransportConfig, options: ReplayOptions) -> Result<Self> {
    let mut pending = Vec::new();
    let source: Box<dyn Source> = match std::fs::metadata(path) {
      Ok(metadata) if metadata.is_dir() => {
        let spool = SpoolSource::open(path)?;
        pending.extend(spool.damage.iter().cloned());
        Box::new(spool)
      }
      Ok(_) if options.consume => {
        return Err(QueueError::Config(
          "`consume` applies to a spool directory only; a JSON-lines file is never changed".into(),
        ))
      }
      Ok(_) => Box::new(JsonlSource::open(path)?),
      Err(err) => {
        return Err(QueueError::Config(format!(
          "cannot read {}: {err}",
          path.display()
        )))
      }
    };
    let background = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&background);
    let events = TransportEvents::new(move |error| {
      if let Ok(mut heard) = heard.lock() {
        heard.push(error.to_string());
      }
    });
    let transport = config.connect(events).await?;
    check_ready(transport.as_ref(), CONNECT_TIMEOUT).await?;
    Ok(Replayer {
      source,
      transport,
      policy: RetryPolicy::new(config.max_retries()),
      options,
      counts: ReplayCounts::default(),
      background,
      pending,
      done: false,
    })
  }

  /// Reads up to `max` entries, publishes the documents among them (all handed over at once, in
  /// order) and waits for every confirmation, retrying as the transport config says.
  pub async fn step(&mut self, max: usize) -> ReplayProgress {
    let mut problems = std::mem::take(&mut self.pending);
    let mut sent = Vec::new();
    while sent.len() < max.max(1) {
      let Some(entry) = self.source.next() else {
        self.done = true;
        break;
      };
      self.counts.read += 1;
      match entry {
        Ok(entry) => {
          let document = Arc::new(entry.document);
          let first = self.transport.publish(Arc::clone(&document));
          sent.push((document, first, entry.origin));
        }
        Err(reason) => {
          self.counts.invalid += 1;
          problems.push(reason);
        }
      }
    }
    let transport = self.transport.as_ref();
    let policy = &self.policy;
    let confirmations = sent
      .into_iter()
      .map(|(document, first, origin)| async move {
        let outcome = confirm_with_retry(transport, &document, first, policy).await;
        (document, outcome, origin)
      });
    for (document, outcome, origin) in join_all(confirmations).await {
      match outcome {
        Ok(()) => {
          self.counts.published += 1;
          self.counts.records += document.record_count as u64;
          if self.options.consume {
            self.source.acknowledge(&origin);
          }
        }
        Err(error) => {
          self.counts.failed += 1;
          problems.push(format!("{}: {error}", describe(&origin)));
        }
      }
    }
    if let Ok(mut heard) = self.background.lock() {
      problems.append(&mut heard);
    }
    ReplayProgress {
      counts: self.counts,
      position: self.source.position(),
      total: self.source.total(),
      done: self.done,
      problems,
    }
  }

  /// Makes everything published durable where the transport can (the File transport syncs),
  /// closes the transport and releases the source (the spool's lock).
  pub async fn close(mut self) -> Result<()> {
    let flushed = self.transport.flush().await;
    let closed = self.transport.close().await;
    self.source.finish()?;
    flushed?;
    closed?;
    Ok(())
  }
}

/// An origin as messages name it.
fn describe(origin: &Origin) -> String {
  match origin {
    Origin::Line(line) => format!("line {line}"),
    Origin::Frame { slot, .. } => format!("spool frame {} of segment {}", slot.index, slot.segment),
  }
}

#[cfg(test)]
mod tests;
