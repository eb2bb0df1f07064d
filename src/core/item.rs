//! What a caller hands to a queue: rows of numbers in columnar typed arrays (features and
//! metrics), or LLM records. Rows cross from JavaScript in batches, so a batch is the unit that
//! travels to the event task; inside, it becomes a run of the queue's buffer, cut at batch-size
//! boundaries without copying a row.

use std::sync::Arc;

use crate::core::built_record::BuiltRecord;
use crate::core::error::{QueueError, Result};

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

  /// Row `row`, borrowed.
  #[inline]
  pub fn view(&self, row: usize) -> RowView<'_> {
    RowView {
      values: &self.values[row * self.width..][..self.width],
      present: &self.present[row * self.words..][..self.words],
    }
  }

  /// What one row weighs against `maxPendingBytes`: its values and presence words.
  pub fn row_bytes(&self) -> u64 {
    (self.width * 8 + self.words * 4) as u64
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

/// Rows `start..end` of a shared batch: what an SPC, PSI or Custom queue's buffer holds. A batch
/// crosses from JavaScript as one allocation; the event task cuts it into runs at batch-size
/// boundaries without copying a row, and without a per-row handle.
#[derive(Debug, Clone)]
pub struct RowRun {
  batch: Arc<RowBatch>,
  start: usize,
  end: usize,
}

impl RowRun {
  /// Every row of `batch`.
  pub fn whole(batch: RowBatch) -> Self {
    let end = batch.rows();
    RowRun {
      batch: Arc::new(batch),
      start: 0,
      end,
    }
  }

  /// The rows, in order.
  pub fn rows(&self) -> impl Iterator<Item = RowView<'_>> + '_ {
    (self.start..self.end).map(move |row| self.batch.view(row))
  }

  pub fn width(&self) -> usize {
    self.batch.width
  }
}

/// A run of items as a queue's buffer holds it: split at a batch boundary, merged when the
/// buffer has too many small runs, measured in items and bytes.
pub trait ItemRun: Send + Sized + 'static {
  /// How many items it holds.
  fn len(&self) -> usize;

  fn is_empty(&self) -> bool {
    self.len() == 0
  }

  /// Removes and returns the first `items` items (all of them when there are fewer).
  fn split_front(&mut self, items: usize) -> Self;

  /// One run holding the items of `runs`, in order.
  fn merge(runs: Vec<Self>) -> Self;

  /// What the items weigh against `maxPendingBytes`.
  fn bytes(&self) -> u64;
}

impl ItemRun for RowRun {
  fn len(&self) -> usize {
    self.end - self.start
  }

  fn split_front(&mut self, items: usize) -> Self {
    let cut = self.start + items.min(self.len());
    let front = RowRun {
      batch: Arc::clone(&self.batch),
      start: self.start,
      end: cut,
    };
    self.start = cut;
    front
  }

  fn merge(runs: Vec<Self>) -> Self {
    let Some(first) = runs.first() else {
      return RowRun::whole(RowBatch::from_rows(0, &[]));
    };
    let (width, words) = (first.batch.width, first.batch.words);
    let rows: usize = runs.iter().map(ItemRun::len).sum();
    let mut values = Vec::with_capacity(rows * width);
    let mut present = Vec::with_capacity(rows * words);
    for run in &runs {
      let batch = &*run.batch;
      values.extend_from_slice(&batch.values[run.start * width..run.end * width]);
      present.extend_from_slice(&batch.present[run.start * words..run.end * words]);
    }
    RowRun::whole(RowBatch {
      width,
      words,
      rows,
      values,
      present,
    })
  }

  fn bytes(&self) -> u64 {
    self.len() as u64 * self.batch.row_bytes()
  }
}

impl ItemRun for Vec<BuiltRecord> {
  fn len(&self) -> usize {
    Vec::len(self)
  }

  fn split_front(&mut self, items: usize) -> Self {
    let rest = self.split_off(items.min(Vec::len(self)));
    std::mem::replace(self, rest)
  }

  fn merge(runs: Vec<Self>) -> Self {
    runs.into_iter().flatten().collect()
  }

  fn bytes(&self) -> u64 {
    self.iter().map(BuiltRecord::bytes).sum()
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
  Records(Vec<BuiltRecord>),
}

impl ItemBatch {
  /// How many items (rows, metric sets, LLM records) it holds.
  pub fn len(&self) -> usize {
    match self {
      ItemBatch::Rows(batch) => batch.rows(),
      ItemBatch::Records(records) => records.len(),
    }
  }

  pub fn is_empty(&self) -> bool {
    self.len() == 0
  }

  /// Keeps the first `items` items.
  pub fn truncate(&mut self, items: usize) {
    match self {
      ItemBatch::Rows(batch) => batch.truncate(items),
      ItemBatch::Records(records) => records.truncate(items),
    }
  }

  /// How many leading items fit in `bytes`, at most `items` of them.
  pub fn fitting(&self, items: usize, bytes: u64) -> usize {
    match self {
      ItemBatch::Rows(batch) => {
        let each = batch.row_bytes().max(1);
        items.min(usize::try_from(bytes / each).unwrap_or(usize::MAX))
      }
      ItemBatch::Records(records) => {
        let mut used = 0u64;
        records
          .iter()
          .take(items)
          .take_while(|record| {
            used = used.saturating_add(record.bytes());
            used <= bytes
          })
          .count()
      }
    }
  }

  /// What the first `items` items weigh against `maxPendingBytes`.
  pub fn bytes_of_first(&self, items: usize) -> u64 {
    match self {
      ItemBatch::Rows(batch) => items.min(batch.rows()) as u64 * batch.row_bytes(),
      ItemBatch::Records(records) => records.iter().take(items).map(BuiltRecord::bytes).sum(),
    }
  }
}

/// An item kind a queue's buffer holds, as runs unpacked from the batches of its kind.
pub trait QueueItem: Send + Sized + 'static {
  type Run: ItemRun;

  /// The batch as one run; gives the batch back when it is of another kind.
  fn unpack(batch: ItemBatch) -> std::result::Result<Self::Run, ItemBatch>;
}

/// The item kind of SPC, PSI and Custom queues: a row of numbers.
#[derive(Debug)]
pub struct Row;

impl QueueItem for Row {
  type Run = RowRun;

  fn unpack(batch: ItemBatch) -> std::result::Result<RowRun, ItemBatch> {
    match batch {
      ItemBatch::Rows(batch) => Ok(RowRun::whole(batch)),
      other => Err(other),
    }
  }
}

impl QueueItem for BuiltRecord {
  type Run = Vec<BuiltRecord>;

  fn unpack(batch: ItemBatch) -> std::result::Result<Vec<BuiltRecord>, ItemBatch> {
    match batch {
      ItemBatch::Records(records) => Ok(records),
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

#[cfg(test)]
mod run_tests {
  use super::*;

  fn run(values: &[f64]) -> RowRun {
    RowRun::whole(RowBatch::from_rows(
      1,
      &values.iter().map(|v| vec![Some(*v)]).collect::<Vec<_>>(),
    ))
  }

  fn firsts(run: &RowRun) -> Vec<f64> {
    run.rows().map(|row| row.get(0).unwrap()).collect()
  }

  #[test]
  fn runs_split_and_merge_without_losing_order() {
    let mut rest = run(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    let front = rest.split_front(2);
    assert_eq!(firsts(&front), [1.0, 2.0]);
    assert_eq!(firsts(&rest), [3.0, 4.0, 5.0]);
    let all = RowRun::merge(vec![rest.split_front(1), front, rest]);
    assert_eq!(firsts(&all), [3.0, 1.0, 2.0, 4.0, 5.0]);
    assert_eq!(all.bytes(), 5 * 12);
  }

  #[test]
  fn llm_runs_weigh_their_json() {
    let input = |n: usize| {
      BuiltRecord::llm(
        "u".into(),
        "t".into(),
        format!("\"{}\"", "x".repeat(n)),
        None,
      )
      .unwrap()
    };
    let batch = ItemBatch::Records(vec![input(100), input(1000), input(10)]);
    let first = batch.bytes_of_first(1);
    assert!(first >= 102, "{first}");
    assert_eq!(batch.fitting(3, first), 1);
    assert_eq!(batch.fitting(3, u64::MAX), 3);
    let mut run = vec![input(1), input(2), input(3)];
    assert_eq!(run.split_front(5).len(), 3);
    assert!(run.is_empty());
  }
}
