//! Turning a full batch into `ServerRecords`, one aggregator per drift kind (contract section 3).
//! Aggregators are plain functions of the batch: no I/O, no clock, no JavaScript, so each is
//! tested against hand-computed records. A value that cannot be used is dropped and counted; it
//! never fails the rest of its batch.

mod custom;
mod llm;
mod psi;
mod spc;

pub use custom::CustomAggregator;
pub use llm::LlmAggregator;
pub use psi::PsiAggregator;
pub use spc::SpcAggregator;

use chrono::{DateTime, Utc};

use crate::core::item::QueueItem;
use crate::core::profile::DriftKind;
use crate::core::record::ServerRecord;

/// What one batch produced.
#[derive(Debug, Default)]
pub struct Aggregation {
  /// Records of one kind; empty when no value in the batch was usable.
  pub records: Vec<ServerRecord>,
  /// Values that could not be used (NaN, a non-finite value where a finite one is needed, a code
  /// with no bin).
  pub dropped_values: u64,
}

/// Per-kind batch rule.
pub trait Aggregator: Send + 'static {
  /// What the batch buffer holds.
  type Item: QueueItem;

  fn kind(&self) -> DriftKind;

  /// Whether an inserted item enters the batch at all (LLM sampling); others keep everything.
  fn admit(&mut self, _item: &Self::Item) -> bool {
    true
  }

  /// The records of one batch, stamped `now`.
  fn aggregate(&mut self, items: Vec<Self::Item>, now: DateTime<Utc>) -> Aggregation;
}

/// The usable values of one slot across a batch, in insertion order; counts the unusable ones.
fn column<'a>(
  items: &'a [crate::core::item::RowRef],
  slot: usize,
  usable: impl Fn(f64) -> bool + 'a,
  dropped: &'a mut u64,
) -> impl Iterator<Item = f64> + 'a {
  items.iter().filter_map(move |row| {
    let value = row.get(slot)?;
    if usable(value) {
      Some(value)
    } else {
      *dropped += 1;
      None
    }
  })
}

#[cfg(test)]
pub(crate) mod test_support {
  use crate::core::item::{ItemBatch, QueueItem, RowBatch, RowRef};

  /// Rows as queue items, from optional values per slot.
  pub fn rows(width: usize, rows: &[Vec<Option<f64>>]) -> Vec<RowRef> {
    RowRef::unpack_all(ItemBatch::Rows(RowBatch::from_rows(width, rows))).unwrap()
  }

  pub fn at() -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(2025, 8, 25, 12, 0, 0).unwrap()
  }
}
