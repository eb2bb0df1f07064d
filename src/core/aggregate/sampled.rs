//! Sampled records (v0.9 `LLMRecord`s, 0.25 `EvalRecord`s): each inserted record is kept or left
//! out by the profile's sampling rule, and each kept one becomes a record as built.

use chrono::{DateTime, Utc};

use super::{Aggregation, Aggregator};
use crate::core::built_record::BuiltRecord;
use crate::core::measurement::Measurement;
use crate::core::profile::DriftKind;

/// How a profile samples its records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
  /// v0.9 `sample_rate`: keep with probability `1 / n` (always when `n` is 1).
  OneIn(u64),
  /// 0.25 `sample_ratio`: keep with probability `ratio` (always at 1, never at 0).
  Ratio(f64),
}

/// Samples built records and passes the kept ones on.
pub struct SampledAggregator {
  kind: DriftKind,
  sampling: Sampling,
  rng: fastrand::Rng,
}

impl SampledAggregator {
  pub fn new(kind: DriftKind, sampling: Sampling) -> Self {
    Self::with_rng(kind, sampling, fastrand::Rng::new())
  }

  /// With a seeded generator, so that sampling is reproducible in tests.
  pub fn with_rng(kind: DriftKind, sampling: Sampling, rng: fastrand::Rng) -> Self {
    SampledAggregator {
      kind,
      sampling,
      rng,
    }
  }

  fn keep(&mut self) -> bool {
    match self.sampling {
      Sampling::OneIn(n) => n <= 1 || self.rng.u64(..n) == 0,
      // `f64()` is in [0, 1): a ratio of 1 keeps all, 0 keeps none.
      Sampling::Ratio(ratio) => self.rng.f64() < ratio,
    }
  }

  fn keeps_everything(&self) -> bool {
    match self.sampling {
      Sampling::OneIn(n) => n <= 1,
      Sampling::Ratio(ratio) => ratio >= 1.0,
    }
  }
}

impl Aggregator for SampledAggregator {
  type Item = BuiltRecord;

  fn kind(&self) -> DriftKind {
    self.kind
  }

  fn sample(&mut self, run: &mut Vec<BuiltRecord>) -> (u64, u64) {
    if self.keeps_everything() {
      return (0, 0);
    }
    let (mut items, mut bytes) = (0, 0);
    run.retain(|record| {
      let keep = self.keep();
      if !keep {
        items += 1;
        bytes += record.bytes();
      }
      keep
    });
    (items, bytes)
  }

  fn aggregate(&mut self, runs: Vec<Vec<BuiltRecord>>, _now: DateTime<Utc>) -> Aggregation {
    Aggregation {
      measurements: runs
        .into_iter()
        .flatten()
        .map(Measurement::Sampled)
        .collect(),
      dropped_values: 0,
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::aggregate::test_support::at;

  fn record(n: usize) -> BuiltRecord {
    BuiltRecord::llm(
      format!("uid-{n}"),
      "2025-08-25T12:00:00.000000001Z".into(),
      format!(r#"{{"n":{n}}}"#),
      None,
    )
    .unwrap()
  }

  fn kept(sampling: Sampling, seed: u64) -> (usize, u64) {
    let mut agg =
      SampledAggregator::with_rng(DriftKind::Llm, sampling, fastrand::Rng::with_seed(seed));
    let mut run: Vec<BuiltRecord> = (0..40_000).map(record).collect();
    let total_bytes: u64 = run.iter().map(BuiltRecord::bytes).sum();
    let (left_out, left_out_bytes) = agg.sample(&mut run);
    assert_eq!(left_out as usize + run.len(), 40_000);
    assert_eq!(
      left_out_bytes + run.iter().map(BuiltRecord::bytes).sum::<u64>(),
      total_bytes
    );
    (run.len(), left_out)
  }

  #[test]
  fn everything_is_kept_at_rate_one_and_ratio_one() {
    assert_eq!(kept(Sampling::OneIn(1), 1), (40_000, 0));
    assert_eq!(kept(Sampling::Ratio(1.0), 1), (40_000, 0));
    assert_eq!(kept(Sampling::Ratio(0.0), 1), (0, 40_000));
  }

  #[test]
  fn rate_n_keeps_about_one_in_n() {
    // Binomial(40000, 0.25): mean 10000, sd ~87; 6 sd either side.
    let (kept, _) = kept(Sampling::OneIn(4), 7);
    assert!((9_480..=10_520).contains(&kept), "kept {kept}");
  }

  #[test]
  fn ratio_keeps_about_that_share() {
    // Binomial(40000, 0.3): mean 12000, sd ~92; 6 sd either side.
    let (kept, _) = kept(Sampling::Ratio(0.3), 11);
    assert!((11_448..=12_552).contains(&kept), "kept {kept}");
  }

  #[test]
  fn kept_records_pass_through_in_order() {
    let mut agg = SampledAggregator::new(DriftKind::Llm, Sampling::OneIn(1));
    let out = agg.aggregate(vec![vec![record(1)], vec![record(2)]], at());
    let uids: Vec<&str> = out
      .measurements
      .iter()
      .map(|measurement| match measurement {
        Measurement::Sampled(built) => built.uid.as_str(),
        other => panic!("{other:?}"),
      })
      .collect();
    assert_eq!(uids, ["uid-1", "uid-2"]);
  }
}
