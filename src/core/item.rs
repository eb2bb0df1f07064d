//! What a caller hands to a queue: rows of numbers in columnar typed arrays (features and
//! metrics), or LLM records. Rows cross from JavaScript in batches, so a batch is the unit that
//! travels to the event task; inside, each row becomes one item of the batch buffer without being
//! copied again.

use std::sync::Arc;

use crate::core::error::{QueueError, Result};
use crate::core::record::LlmInput;

/// `rows` rows of `width` slots. `values[row * width + slot]` holds a value when bit
/// `slot % 32` of `present[row * words + slot / 32]` is set; an absent slot is a feature the row
/// did not carry, which is not an unusable value.
#[derive(Debug, Clone, PartialEq)]
pub struct RowBatch {
  width: usize,
  words: usize,
  rows: usize,
  values: Vec<f64>,
  present: Vec<u32>,
}

impl RowBatch {
  /// How many `u32` presence words one row of `width` slots needs.
  pub fn words_for(width: usize) -> usize {
    width.div_ceil(32).max(1)
  }

  /// Checks that the arrays hold exactly `rows` rows of `width` slots.
  pub fn new(width: usize, rows: usize, values: Vec<f64>, present: Vec<u32>) -> Result<Self> {
    let words = Self::words_for(width);
    if values.len() != rows * width || present.len() != rows * words {
      return Err(QueueError::Internal(format!(
        "row batch of {rows} rows x {width} slots got {} values and {} presence words",
        values.len(),
        present.len()
      )));
    }
    Ok(RowBatch {
      width,
      words,
      rows,
      values,
      present,
    })
  }

  /// Builds a batch from rows of optional values (absent = `None`); for tests and examples.
  pub fn from_rows(width: usize, rows: &[Vec<Option<f64>>]) -> Self {
    let words = Self::words_for(width);
    let mut values = vec![0.0; rows.len() * width];
    let mut present = vec![0; rows.len() * words];
    for (r, row) in rows.iter().enumerate() {
      assert_eq!(row.len(), width, "row {r} has the wrong width");
      for (slot, value) in row.iter().enumerate() {
        if let Some(value) = value {
          values[r * width + slot] = *value;
          present[r * words + slot / 32] |= 1 << (slot % 32);
        }
      }
    }
    RowBatch {
      width,
      words,
      rows: rows.len(),
      values,
      present,
    }
  }

  pub fn width(&self) -> usize {
    self.width
  }

  pub fn rows(&self) -> usize {
    self.rows
  }

  /// The value in `slot` of `row`, if the row carried it.
  #[inline]
  pub fn get(&self, row: usize, slot: usize) -> Option<f64> {
    let word = self.present[row * self.words + slot / 32];
    (word & (1 << (slot % 32)) != 0).then(|| self.values[row * self.width + slot])
  }

  /// Keeps the first `rows` rows (the rest were refused by the pending bound).
  pub fn truncate(&mut self, rows: usize) {
    if rows < self.rows {
      self.rows = rows;
      self.values.truncate(rows * self.width);
      self.present.truncate(rows * self.words);
    }
  }
}

/// One row of a shared batch: the item type of SPC, PSI and Custom queues.
#[derive(Debug, Clone)]
pub struct RowRef {
  batch: Arc<RowBatch>,
  row: usize,
}

impl RowRef {
  /// The value in `slot`, if the row carried it.
  #[inline]
  pub fn get(&self, slot: usize) -> Option<f64> {
    self.batch.get(self.row, slot)
  }

  /// The row's values and presence words, for reading several slots in a row.
  #[inline]
  pub fn view(&self) -> RowView<'_> {
    let batch = &*self.batch;
    RowView {
      values: &batch.values[self.row * batch.width..][..batch.width],
      present: &batch.present[self.row * batch.words..][..batch.words],
    }
  }
}

/// One row borrowed from its batch.
#[derive(Debug, Clone, Copy)]
pub struct RowView<'a> {
  values: &'a [f64],
  present: &'a [u32],
}

impl RowView<'_> {
  /// The value in `slot`, if the row carried it.
  #[inline]
  pub fn get(&self, slot: usize) -> Option<f64> {
    (self.present[slot / 32] & (1 << (slot % 32)) != 0).then(|| self.values[slot])
  }
}

/// A batch of items as it travels from `insert` to the event task.
#[derive(Debug)]
pub enum ItemBatch {
  Rows(RowBatch),
  Llm(Vec<LlmInput>),
}

impl ItemBatch {
  /// How many items (rows, metric sets, LLM records) it holds.
  pub fn len(&self) -> usize {
    match self {
      ItemBatch::Rows(batch) => batch.rows(),
      ItemBatch::Llm(records) => records.len(),
    }
  }

  pub fn is_empty(&self) -> bool {
    self.len() == 0
  }

  /// Keeps the first `items` items.
  pub fn truncate(&mut self, items: usize) {
    match self {
      ItemBatch::Rows(batch) => batch.truncate(items),
      ItemBatch::Llm(records) => records.truncate(items),
    }
  }
}

/// An item a queue's batch buffer holds, unpacked from the batches of its kind.
pub trait QueueItem: Send + Sized + 'static {
  /// The items of `batch`; gives the batch back when it is of another kind.
  fn unpack_all(batch: ItemBatch) -> std::result::Result<Vec<Self>, ItemBatch>;
}

impl QueueItem for RowRef {
  fn unpack_all(batch: ItemBatch) -> std::result::Result<Vec<Self>, ItemBatch> {
    let ItemBatch::Rows(batch) = batch else {
      return Err(batch);
    };
    let batch = Arc::new(batch);
    Ok(
      (0..batch.rows())
        .map(|row| RowRef {
          batch: Arc::clone(&batch),
          row,
        })
        .collect(),
    )
  }
}

impl QueueItem for LlmInput {
  fn unpack_all(batch: ItemBatch) -> std::result::Result<Vec<Self>, ItemBatch> {
    match batch {
      ItemBatch::Llm(records) => Ok(records),
      other => Err(other),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn presence_bits_distinguish_absent_from_nan() {
    let batch = RowBatch::from_rows(3, &[vec![Some(1.0), None, Some(f64::NAN)]]);
    assert_eq!(batch.get(0, 0), Some(1.0));
    assert_eq!(batch.get(0, 1), None);
    assert!(batch.get(0, 2).unwrap().is_nan());
  }

  #[test]
  fn wide_rows_use_several_words() {
    let mut row = vec![None; 40];
    row[35] = Some(7.0);
    let batch = RowBatch::from_rows(40, &[row.clone(), row]);
    assert_eq!(RowBatch::words_for(40), 2);
    assert_eq!(batch.get(1, 35), Some(7.0));
    assert_eq!(batch.get(1, 3), None);
  }

  #[test]
  fn new_checks_lengths() {
    assert!(RowBatch::new(2, 2, vec![0.0; 4], vec![0; 2]).is_ok());
    assert!(RowBatch::new(2, 2, vec![0.0; 3], vec![0; 2]).is_err());
    assert!(RowBatch::new(2, 2, vec![0.0; 4], vec![0; 1]).is_err());
  }

  #[test]
  fn truncate_keeps_leading_rows() {
    let mut batch = ItemBatch::Rows(RowBatch::from_rows(1, &[vec![Some(1.0)], vec![Some(2.0)]]));
    batch.truncate(1);
    assert_eq!(batch.len(), 1);
  }
}
