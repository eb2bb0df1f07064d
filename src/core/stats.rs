//! Delivery accounting per queue (contract section 1). Every item is in exactly one state:
//! `inserted = sampled_out + dropped + pending + published + failed` holds at every moment
//! because every transition happens under one lock, which is taken per batch, never per item.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::core::item::ItemBatch;

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
  /// What the pending items weigh (their values, or their JSON for LLM records).
  pub pending_bytes: u64,
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
  /// Documents on disk in the spool, not yet confirmed (this process's and replayed ones).
  pub spooled_documents: u64,
  /// What those documents take on disk.
  pub spooled_bytes: u64,
  /// Items counted in `pending` whose documents are on disk (not in memory, so not bounded by
  /// `max_pending_items`).
  pub spooled_items: u64,
  /// Documents an earlier process left in the spool that this one delivered.
  pub replayed_documents: u64,
  pub last_publish_at: Option<DateTime<Utc>>,
  pub last_error: Option<String>,
  /// Per member of the transport chain, in chain order: documents each confirmed and failed.
  pub transports: Vec<TransportCounts>,
}

/// One chain member's share of a queue's documents. A document that failed on one member and
/// was confirmed by the next counts `failed` on the first and `published` on the second; for the
/// queue it is simply published.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TransportCounts {
  /// Documents this member confirmed.
  pub published: u64,
  /// Documents this member failed after its retries.
  pub failed: u64,
  /// Of `failed`, those the member may have stored anyway (the at-least-once window).
  pub in_doubt: u64,
}

impl StatsSnapshot {
  /// Whether every inserted item is accounted for.
  pub fn balanced(&self) -> bool {
    self.inserted == self.sampled_out + self.dropped + self.pending + self.published + self.failed
  }
}

/// The live counters of one queue, and the bounds on what it may hold pending.
#[derive(Debug)]
pub struct QueueStats {
  max_pending: u64,
  max_pending_bytes: u64,
  inner: Mutex<StatsSnapshot>,
}

/// Removes `amount` from a pending counter. The event loop never settles more than it admitted;
/// if a bug ever made it try, the counter stops at zero and the error is kept in `last_error`
/// instead of wrapping to 2^64.
fn settle(counter: &mut u64, amount: u64, last_error: &mut Option<String>) {
  match counter.checked_sub(amount) {
    Some(rest) => *counter = rest,
    None => {
      *last_error = Some(format!(
        "internal error: settled {amount} with only {counter} pending"
      ));
      *counter = 0;
    }
  }
}

impl QueueStats {
  /// Counters whose `pending` may not exceed `max_pending` items nor `max_pending_bytes` bytes.
  pub fn new(max_pending: usize, max_pending_bytes: u64) -> Self {
    QueueStats {
      max_pending: max_pending as u64,
      max_pending_bytes,
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

  /// Counts the batch's items as inserted and accepts its leading items while both bounds allow;
  /// the rest are counted as dropped. Returns how many items were accepted and their bytes.
  pub fn admit(&self, batch: &ItemBatch) -> (usize, u64) {
    let items = batch.len();
    self.with(|s| {
      s.inserted += items as u64;
      // Items whose documents wait on disk hold no memory: only the others count against the bound.
      let in_memory = s.pending.saturating_sub(s.spooled_items);
      let room = usize::try_from(self.max_pending.saturating_sub(in_memory)).unwrap_or(usize::MAX);
      let room_bytes = self.max_pending_bytes.saturating_sub(s.pending_bytes);
      let accepted = batch.fitting(items.min(room), room_bytes);
      let bytes = batch.bytes_of_first(accepted);
      s.pending += accepted as u64;
      s.pending_bytes += bytes;
      s.dropped += (items - accepted) as u64;
      (accepted, bytes)
    })
  }

  /// Accepted items that could not be handed to the event task after all (it has stopped).
  pub fn reject(&self, items: u64, bytes: u64) {
    self.with(|s| {
      settle(&mut s.pending, items, &mut s.last_error);
      settle(&mut s.pending_bytes, bytes, &mut s.last_error);
      s.dropped += items;
    })
  }

  /// Pending items left out by sampling.
  pub fn sample_out(&self, items: u64, bytes: u64) {
    self.with(|s| {
      settle(&mut s.pending, items, &mut s.last_error);
      settle(&mut s.pending_bytes, bytes, &mut s.last_error);
      s.sampled_out += items;
    })
  }

  pub fn add_dropped_values(&self, values: u64) {
    self.with(|s| s.dropped_values += values)
  }

  /// A batch settled: its records (possibly none) were confirmed.
  pub fn published(&self, settled: Settled, records: u64, at: DateTime<Utc>) {
    self.with(|s| {
      leave_pending(s, settled);
      s.published += settled.items;
      s.records += records;
      s.documents += settled.documents;
      if settled.documents > 0 {
        s.last_publish_at = Some(at);
      }
    })
  }

  /// Pending items settled as failed: their documents (if any were made) could not be
  /// delivered, or they never became one (a panic, a stop, a deadline).
  pub fn failed(&self, settled: Settled, error: &str) {
    self.with(|s| {
      leave_pending(s, settled);
      s.failed += settled.items;
      s.publish_failures += settled.documents;
      s.last_error = Some(error.to_string());
    })
  }

  /// Items that were inserted but never reached the queue (a hand-over across N-API that
  /// failed): counted as inserted and failed at once, so that none vanishes.
  pub fn lost_in_transit(&self, items: u64, error: &str) {
    self.with(|s| {
      s.inserted += items;
      s.failed += items;
      s.last_error = Some(error.to_string());
    })
  }

  /// A document moved to the spool: its items stay pending, but on disk, so they no longer count
  /// against the memory bounds.
  pub fn spooled(&self, items: u64, bytes: u64, disk: u64) {
    self.with(|s| {
      settle(&mut s.pending_bytes, bytes, &mut s.last_error);
      s.spooled_items += items;
      s.spooled_documents += 1;
      s.spooled_bytes += disk;
    })
  }

  /// Documents an earlier process left in the spool, found at start.
  pub fn replay_found(&self, documents: u64, disk: u64) {
    self.with(|s| {
      s.spooled_documents += documents;
      s.spooled_bytes += disk;
    })
  }

  /// A replayed document left the spool: delivered, or dropped or failed for good.
  pub fn replay_settled(&self, disk: u64, delivered: bool) {
    self.with(|s| {
      settle(&mut s.spooled_documents, 1, &mut s.last_error);
      settle(&mut s.spooled_bytes, disk, &mut s.last_error);
      if delivered {
        s.replayed_documents += 1;
      }
    })
  }

  /// A spooled document dropped to keep the spool within `spoolMaxBytes`: its items count as
  /// dropped, as items refused at the memory bounds do without a spool.
  pub fn spill_dropped(&self, settled: Settled, error: &str) {
    self.with(|s| {
      leave_pending(s, settled);
      s.dropped += settled.items;
      s.last_error = Some(error.to_string());
    })
  }

  /// Every pending item not on disk, counted as failed (the event task died). Items whose
  /// documents are in the spool stay pending: the next process replays them.
  pub fn fail_all_pending(&self, error: &str) {
    self.with(|s| {
      let lost = s.pending.saturating_sub(s.spooled_items);
      s.failed += lost;
      s.pending -= lost;
      s.pending_bytes = 0;
      s.last_error = Some(error.to_string());
    })
  }

  /// Remembers an error that lost no item (a reconnect, a panic caught).
  pub fn note_error(&self, error: &str) {
    self.with(|s| s.last_error = Some(error.to_string()))
  }

  /// Counts per member for a chain of `members` transports.
  pub fn with_transports(self, members: usize) -> Self {
    self.with(|s| s.transports = vec![TransportCounts::default(); members]);
    self
  }

  /// One document's attempts on the chain: `(member, confirmed)` each, and the members that
  /// failed it in doubt.
  pub fn record_attempts(&self, attempts: &[(usize, bool)], in_doubt: &[usize]) {
    self.with(|s| {
      for &(member, confirmed) in attempts {
        if member >= s.transports.len() {
          s.transports.resize(member + 1, TransportCounts::default());
        }
        let counts = &mut s.transports[member];
        if confirmed {
          counts.published += 1;
        } else {
          counts.failed += 1;
        }
      }
      for &member in in_doubt {
        if let Some(counts) = s.transports.get_mut(member) {
          counts.in_doubt += 1;
        }
      }
    })
  }

  pub fn snapshot(&self) -> StatsSnapshot {
    self.with(|s| s.clone())
  }
}

/// Takes settled items out of `pending` (and, for a spooled document, out of the spool's counts).
fn leave_pending(s: &mut StatsSnapshot, settled: Settled) {
  settle(&mut s.pending, settled.items, &mut s.last_error);
  settle(&mut s.pending_bytes, settled.bytes, &mut s.last_error);
  if let Some(disk) = settled.disk {
    settle(&mut s.spooled_items, settled.items, &mut s.last_error);
    settle(&mut s.spooled_documents, 1, &mut s.last_error);
    settle(&mut s.spooled_bytes, disk, &mut s.last_error);
  }
}

/// Items leaving the pending state together, with their bytes and the documents they made.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Settled {
  pub items: u64,
  /// Bytes still counted in `pending_bytes` (0 for a spooled document: they left at spooling).
  pub bytes: u64,
  pub documents: u64,
  /// For a document in the spool: what it took on disk.
  pub disk: Option<u64>,
}

impl Settled {
  /// Items of one document.
  pub fn document(items: u64, bytes: u64) -> Self {
    Settled {
      items,
      bytes,
      documents: 1,
      disk: None,
    }
  }

  /// Items that made no document (yet).
  pub fn items(items: u64, bytes: u64) -> Self {
    Settled {
      items,
      bytes,
      documents: 0,
      disk: None,
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::item::RowBatch;

  fn rows(n: usize) -> ItemBatch {
    ItemBatch::Rows(RowBatch::from_rows(1, &vec![vec![Some(1.0)]; n]))
  }

  #[test]
  fn admit_respects_the_bound_and_counts_the_rest() {
    let stats = QueueStats::new(10, u64::MAX);
    assert_eq!(stats.admit(&rows(6)), (6, 72));
    assert_eq!(stats.admit(&rows(6)).0, 4);
    let s = stats.snapshot();
    assert_eq!((s.inserted, s.pending, s.dropped), (12, 10, 2));
    assert_eq!(s.pending_bytes, 120);
    assert!(s.balanced());
    stats.published(Settled::document(10, 120), 3, Utc::now());
    assert_eq!(stats.admit(&rows(1)).0, 1);
    assert!(stats.snapshot().balanced());
  }

  #[test]
  fn admit_respects_the_byte_bound() {
    // 12 bytes a row (one value, one presence word): 100 bytes hold 8 rows.
    let stats = QueueStats::new(1000, 100);
    assert_eq!(stats.admit(&rows(20)), (8, 96));
    assert_eq!(stats.admit(&rows(1)).0, 0);
    let s = stats.snapshot();
    assert_eq!(
      (s.inserted, s.pending, s.dropped, s.pending_bytes),
      (21, 8, 13, 96)
    );
    stats.published(Settled::document(8, 96), 1, Utc::now());
    assert_eq!(stats.snapshot().pending_bytes, 0);
  }

  #[test]
  fn every_transition_keeps_the_balance() {
    let stats = QueueStats::new(100, u64::MAX);
    stats.admit(&rows(50));
    stats.sample_out(5, 60);
    stats.failed(Settled::document(10, 120), "boom");
    stats.published(Settled::document(20, 240), 4, Utc::now());
    stats.reject(5, 60);
    stats.lost_in_transit(3, "napi");
    let s = stats.snapshot();
    assert!(s.balanced(), "{s:?}");
    assert_eq!(
      (s.pending, s.sampled_out, s.failed, s.published, s.dropped),
      (10, 5, 13, 20, 5)
    );
    assert_eq!(s.pending_bytes, 120);
    assert_eq!(s.last_error.as_deref(), Some("napi"));
    assert_eq!((s.records, s.documents, s.publish_failures), (4, 1, 1));
  }

  #[test]
  fn items_failed_without_a_document_are_not_publish_failures() {
    let stats = QueueStats::new(100, u64::MAX);
    stats.admit(&rows(10));
    stats.failed(Settled::items(10, 120), "stopped");
    assert_eq!(stats.snapshot().publish_failures, 0);
  }

  #[test]
  fn spooled_items_stay_pending_but_free_the_memory_bounds() {
    let stats = QueueStats::new(10, 1000);
    assert_eq!(stats.admit(&rows(10)).0, 10);
    assert_eq!(stats.admit(&rows(1)).0, 0, "the bound is reached");
    stats.spooled(10, 120, 500);
    let s = stats.snapshot();
    assert_eq!((s.pending, s.pending_bytes, s.spooled_items), (10, 0, 10));
    assert_eq!((s.spooled_documents, s.spooled_bytes), (1, 500));
    assert_eq!(stats.admit(&rows(4)).0, 4, "on disk, they no longer count");
    let on_disk = Settled {
      disk: Some(500),
      ..Settled::document(10, 0)
    };
    stats.spill_dropped(on_disk, "spool full");
    let s = stats.snapshot();
    assert_eq!((s.pending, s.dropped, s.spooled_items), (4, 11, 0));
    assert_eq!((s.spooled_documents, s.spooled_bytes), (0, 0));
    assert!(s.balanced(), "{s:?}");
    stats.replay_found(2, 300);
    stats.replay_settled(100, true);
    stats.replay_settled(200, false);
    let s = stats.snapshot();
    assert_eq!(
      (s.spooled_documents, s.spooled_bytes, s.replayed_documents),
      (0, 0, 1)
    );
    assert!(s.balanced());
  }

  #[test]
  fn a_dead_task_fails_what_was_in_memory_and_leaves_the_spool_alone() {
    let stats = QueueStats::new(100, u64::MAX);
    stats.admit(&rows(30));
    stats.spooled(20, 240, 900);
    stats.fail_all_pending("panic");
    let s = stats.snapshot();
    assert_eq!((s.pending, s.failed, s.spooled_items), (20, 10, 20));
    assert!(s.balanced());
  }

  #[test]
  fn attempts_are_counted_per_transport() {
    let stats = QueueStats::new(100, u64::MAX).with_transports(2);
    stats.record_attempts(&[(0, false), (1, true)], &[0]);
    stats.record_attempts(&[(0, true)], &[]);
    stats.record_attempts(&[(1, false)], &[]);
    let counts = |published, failed, in_doubt| TransportCounts {
      published,
      failed,
      in_doubt,
    };
    assert_eq!(
      stats.snapshot().transports,
      [counts(1, 1, 1), counts(1, 1, 0)]
    );
  }

  #[test]
  fn settling_more_than_pending_never_wraps() {
    let stats = QueueStats::new(100, u64::MAX);
    stats.admit(&rows(2));
    stats.published(Settled::document(5, 0), 1, Utc::now());
    let s = stats.snapshot();
    assert_eq!(s.pending, 0);
    assert!(s
      .last_error
      .unwrap()
      .contains("settled 5 with only 2 pending"));
  }
}
