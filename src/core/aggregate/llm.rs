//! LLM records: each inserted record is kept with probability `1 / sample_rate` (always when the
//! rate is 1), and each kept one becomes an `LLMDrift` record as built.

use chrono::{DateTime, Utc};

use super::{Aggregation, Aggregator};
use crate::core::profile::{DriftKind, LlmSpec, ProfileId};
use crate::core::record::{LlmDriftRecord, LlmInput, LlmRecordBody, ServerRecord};

/// Samples and wraps LLM records.
pub struct LlmAggregator {
  id: ProfileId,
  spec: LlmSpec,
  rng: fastrand::Rng,
}

impl LlmAggregator {
  pub fn new(id: ProfileId, spec: LlmSpec) -> Self {
    Self::with_rng(id, spec, fastrand::Rng::new())
  }

  /// With a seeded generator, so that sampling is reproducible in tests.
  pub fn with_rng(id: ProfileId, spec: LlmSpec, rng: fastrand::Rng) -> Self {
    LlmAggregator { id, spec, rng }
  }
}

impl Aggregator for LlmAggregator {
  type Item = LlmInput;

  fn kind(&self) -> DriftKind {
    DriftKind::Llm
  }

  fn sample(&mut self, run: &mut Vec<LlmInput>) -> (u64, u64) {
    if self.spec.sample_rate <= 1 {
      return (0, 0);
    }
    let (mut items, mut bytes) = (0, 0);
    run.retain(|input| {
      let keep = self.rng.u64(..self.spec.sample_rate) == 0;
      if !keep {
        items += 1;
        bytes += input.bytes();
      }
      keep
    });
    (items, bytes)
  }

  fn aggregate(&mut self, runs: Vec<Vec<LlmInput>>, _now: DateTime<Utc>) -> Aggregation {
    let records = runs
      .into_iter()
      .flatten()
      .map(|input| {
        ServerRecord::LlmDrift(LlmDriftRecord {
          record: LlmRecordBody::pending(&self.id, input),
        })
      })
      .collect();
    Aggregation {
      records,
      dropped_values: 0,
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::aggregate::test_support::at;
  use serde_json::value::RawValue;

  fn id() -> ProfileId {
    ProfileId {
      space: "scouter".into(),
      name: "llm_metrics".into(),
      version: "0.0.1".into(),
    }
  }

  fn input(n: usize) -> LlmInput {
    LlmInput {
      uid: format!("uid-{n}"),
      created_at: "2025-08-25T12:00:00.000000001Z".into(),
      context: RawValue::from_string(format!(r#"{{"n":{n}}}"#)).unwrap(),
      prompt: None,
    }
  }

  #[test]
  fn rate_one_keeps_everything() {
    let mut agg = LlmAggregator::new(id(), LlmSpec { sample_rate: 1 });
    let mut run: Vec<LlmInput> = (0..1000).map(input).collect();
    assert_eq!(agg.sample(&mut run), (0, 0));
    assert_eq!(run.len(), 1000);
  }

  #[test]
  fn rate_n_keeps_about_one_in_n() {
    let mut agg = LlmAggregator::with_rng(
      id(),
      LlmSpec { sample_rate: 4 },
      fastrand::Rng::with_seed(7),
    );
    let mut run: Vec<LlmInput> = (0..40_000).map(input).collect();
    let total_bytes: u64 = run.iter().map(LlmInput::bytes).sum();
    let (left_out, left_out_bytes) = agg.sample(&mut run);
    let kept = run.len();
    assert_eq!(left_out as usize + kept, 40_000);
    assert_eq!(
      left_out_bytes + run.iter().map(LlmInput::bytes).sum::<u64>(),
      total_bytes
    );
    // Binomial(40000, 0.25): mean 10000, sd ~87; 6 sd either side.
    assert!((9_480..=10_520).contains(&kept), "kept {kept}");
  }

  #[test]
  fn each_record_is_wrapped_with_profile_identity() {
    let mut agg = LlmAggregator::new(id(), LlmSpec { sample_rate: 1 });
    let out = agg.aggregate(vec![vec![input(1)], vec![input(2)]], at());
    assert_eq!(out.records.len(), 2);
    let ServerRecord::LlmDrift(drift) = &out.records[1] else {
      panic!()
    };
    assert_eq!(drift.record.uid, "uid-2");
    assert_eq!(drift.record.context.get(), r#"{"n":2}"#);
    assert_eq!(drift.record.space, "scouter");
  }
}
