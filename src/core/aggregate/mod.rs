//! Turning a full batch into measurements, one aggregator per drift kind (contract section 3);
//! the profile's wire format then makes them records (`wire`).
//! Aggregators are plain functions of the batch: no I/O, no clock, no JavaScript, so each is
//! tested against hand-computed records. A value that cannot be used is dropped and counted; it
//! never fails the rest of its batch.

mod custom;
#[cfg(test)]
mod model_tests;
mod psi;
mod sampled;
mod spc;

pub use custom::CustomAggregator;
pub use psi::PsiAggregator;
pub use sampled::{SampledAggregator, Sampling};
pub use spc::SpcAggregator;

use chrono::{DateTime, Utc};

use crate::core::item::{QueueItem, RowRun};
use crate::core::measurement::Measurement;
use crate::core::profile::DriftKind;

/// What one batch produced.
#[derive(Debug, Default)]
pub struct Aggregation {
  /// Measurements of one kind; empty when no value in the batch was usable.
  pub measurements: Vec<Measurement>,
  /// Values that could not be used (NaN, a non-finite value where a finite one is needed, a code
  /// with no bin).
  pub dropped_values: u64,
}

/// The runs an aggregator's buffer holds.
pub type RunOf<A> = <<A as Aggregator>::Item as QueueItem>::Run;

/// Per-kind batch rule.
pub trait Aggregator: Send + 'static {
  /// What the batch buffer holds.
  type Item: QueueItem;

  fn kind(&self) -> DriftKind;

  /// Leaves out of `run` the items that do not enter the batch at all (LLM sampling) and returns
  /// how many items and bytes were left out; other kinds keep everything.
  fn sample(&mut self, _run: &mut RunOf<Self>) -> (u64, u64) {
    (0, 0)
  }

  /// The measurements of one batch, made at `now`.
  fn aggregate(&mut self, runs: Vec<RunOf<Self>>, now: DateTime<Utc>) -> Aggregation;
}

/// The usable values of one slot across a batch, in insertion order; counts the unusable ones.
fn column<'a>(
  runs: &'a [RowRun],
  slot: usize,
  usable: impl Fn(f64) -> bool + 'a,
  dropped: &'a mut u64,
) -> impl Iterator<Item = f64> + 'a {
  runs.iter().flat_map(RowRun::rows).filter_map(move |row| {
    let value = row.get(slot)?;
    if usable(value) {
      Some(value)
    } else {
      *dropped += 1;
      None
    }
  })
}

/// The mean of finite values, itself always finite. The plain sum is exact enough and matches
/// the original's records, but it overflows when values near `f64::MAX` add up (25 values of
/// 1e308); then the mean is taken as the sum of `value / n`, whose terms cannot overflow, and
/// rounding past the largest float is clamped (the true mean of finite values never exceeds it).
pub fn finite_mean(values: &[f64]) -> f64 {
  let n = values.len() as f64;
  let mean = values.iter().sum::<f64>() / n;
  if mean.is_finite() || values.is_empty() {
    return mean;
  }
  let scaled: f64 = values.iter().map(|value| value / n).sum();
  if scaled.is_finite() {
    scaled
  } else {
    f64::MAX.copysign(scaled)
  }
}

#[cfg(test)]
pub(crate) mod test_support {
  use crate::core::item::{RowBatch, RowRun};

  /// Rows as one run of a queue's buffer, from optional values per slot.
  pub fn rows(width: usize, rows: &[Vec<Option<f64>>]) -> Vec<RowRun> {
    vec![RowRun::whole(RowBatch::from_rows(width, rows))]
  }

  pub fn at() -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(2025, 8, 25, 12, 0, 0).unwrap()
  }
}

#[cfg(test)]
mod tests {
  use super::finite_mean;

  #[test]
  fn means_of_huge_finite_values_stay_finite() {
    assert_eq!(finite_mean(&[1.0, 2.0, 6.0]), 3.0);
    let close = |a: f64, b: f64| ((a - b) / b).abs() < 1e-15;
    assert!(close(finite_mean(&[1e308; 25]), 1e308));
    assert_eq!(finite_mean(&[f64::MAX; 3]), f64::MAX);
    assert_eq!(finite_mean(&[-f64::MAX, -f64::MAX]), -f64::MAX);
    let mixed = finite_mean(&[f64::MAX, f64::MAX, -1.0]);
    assert!(mixed.is_finite() && mixed > 1e308, "{mixed}");
    for n in 1..200 {
      let values = vec![f64::MAX; n];
      assert!(finite_mean(&values).is_finite(), "{n}");
    }
  }
}
