//! Delivery accounting per queue (contract section 1). Every item is in exactly one state:
//! `inserted = sampled_out + dropped + pending + published + failed` holds at every moment
//! because every transition happens under one lock, which is taken per batch, never per item.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// A consistent reading of one queue's counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsSnapshot {
  /// Items handed to the queue.
  pub inserted: u64,
  /// LLM records left out by sampling.
  pub sampled_out: u64,
  /// Items refused because `max_pending_items` was reached.
  pub dropped: u64,
  /// Items accepted but not yet settled (buffered, aggregating, or being published).
  pub pending: u64,
  /// Items whose batch was aggregated and whose records (if any) the transport confirmed.
  pub published: u64,
  /// Items whose records could not be delivered after all retries.
  pub failed: u64,
  /// Values that could not be used (NaN, non-finite, no code, no bin).
  pub dropped_values: u64,
  /// Records confirmed by the transport.
  pub records: u64,
  /// Documents confirmed by the transport.
  pub documents: u64,
  /// Documents that failed after all retries.
  pub publish_failures: u64,
  pub last_publish_at: Option<DateTime<Utc>>,
  pub last_error: Option<String>,
}

impl StatsSnapshot {
  /// Whether every inserted item is accounted for.
  pub fn balanced(&self) -> bool {
    self.inserted == self.sampled_out + self.dropped + self.pending + self.published + self.failed
  }
}

/// The live counters of one queue.
#[derive(Debug)]
pub struct QueueStats {
  max_pending: u64,
  inner: Mutex<StatsSnapshot>,
}

impl QueueStats {
  /// Counters whose `pending` may not exceed `max_pending`.
  pub fn new(max_pending: usize) -> Self {
    QueueStats {
      max_pending: max_pending as u64,
      inner: Mutex::new(StatsSnapshot::default()),
    }
  }

  fn with<T>(&self, f: impl FnOnce(&mut StatsSnapshot) -> T) -> T {
    // A panic never happens while the lock is held (plain arithmetic), so poisoning is moot;
    // recover the data rather than propagate a poison error.
    let mut guard = self
      .inner
      .lock()
      .unwrap_or_else(|poison| poison.into_inner());
    f(&mut guard)
  }

  /// Counts `items` as inserted and accepts as many as the pending bound allows; the rest are
  /// counted as dropped. Returns how many were accepted.
  pub fn admit(&self, items: u64) -> u64 {
    self.with(|s| {
      s.inserted += items;
      let room = self.max_pending.saturating_sub(s.pending);
      let accepted = items.min(room);
      s.pending += accepted;
      s.dropped += items - accepted;
      accepted
    })
  }

  /// Accepted items that could not be handed to the event task after all (it has stopped).
  pub fn reject(&self, items: u64) {
    self.with(|s| {
      s.pending -= items;
      s.dropped += items;
    })
  }

  /// Pending items left out by sampling.
  pub fn sample_out(&self, items: u64) {
    self.with(|s| {
      s.pending -= items;
      s.sampled_out += items;
    })
  }

  pub fn add_dropped_values(&self, values: u64) {
    self.with(|s| s.dropped_values += values)
  }

  /// A batch settled: its records (possibly none) were confirmed.
  pub fn published(&self, items: u64, records: u64, documents: u64, at: DateTime<Utc>) {
    self.with(|s| {
      s.pending -= items;
      s.published += items;
      s.records += records;
      s.documents += documents;
      if documents > 0 {
        s.last_publish_at = Some(at);
      }
    })
  }

  /// A batch settled: its document could not be delivered.
  pub fn failed(&self, items: u64, error: &str) {
    self.with(|s| {
      s.pending -= items;
      s.failed += items;
      s.publish_failures += 1;
      s.last_error = Some(error.to_string());
    })
  }

  /// Remembers an error that lost no item (a reconnect, a panic caught).
  pub fn note_error(&self, error: &str) {
    self.with(|s| s.last_error = Some(error.to_string()))
  }

  pub fn snapshot(&self) -> StatsSnapshot {
    self.with(|s| s.clone())
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn admit_respects_the_bound_and_counts_the_rest() {
    let stats = QueueStats::new(10);
    assert_eq!(stats.admit(6), 6);
    assert_eq!(stats.admit(6), 4);
    let s = stats.snapshot();
    assert_eq!((s.inserted, s.pending, s.dropped), (12, 10, 2));
    assert!(s.balanced());
    stats.published(10, 3, 1, Utc::now());
    assert_eq!(stats.admit(1), 1);
    assert!(stats.snapshot().balanced());
  }

  #[test]
  fn every_transition_keeps_the_balance() {
    let stats = QueueStats::new(100);
    stats.admit(50);
    stats.sample_out(5);
    stats.failed(10, "boom");
    stats.published(20, 4, 1, Utc::now());
    stats.reject(5);
    let s = stats.snapshot();
    assert!(s.balanced(), "{s:?}");
    assert_eq!(
      (s.pending, s.sampled_out, s.failed, s.published, s.dropped),
      (10, 5, 10, 20, 5)
    );
    assert_eq!(s.last_error.as_deref(), Some("boom"));
    assert_eq!((s.records, s.documents, s.publish_failures), (4, 1, 1));
  }
}
