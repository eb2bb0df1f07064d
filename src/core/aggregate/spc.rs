//! SPC: for each monitored feature, its usable values in insertion order are cut into chunks of
//! `sample_size`; each chunk's mean is one `Spc` record. Only finite values are usable (the
//! original sends a NaN mean that the server rejects), and their mean is always finite.

use chrono::{DateTime, Utc};

use super::{column, finite_mean, Aggregation, Aggregator};
use crate::core::item::{Row, RowRun};
use crate::core::measurement::Measurement;
use crate::core::profile::{DriftKind, SpcSpec};

/// Aggregates SPC batches; row slot `i` is `spec.features[i]`.
pub struct SpcAggregator {
  spec: SpcSpec,
}

impl SpcAggregator {
  pub fn new(spec: SpcSpec) -> Self {
    SpcAggregator { spec }
  }
}

impl Aggregator for SpcAggregator {
  type Item = Row;

  fn kind(&self) -> DriftKind {
    DriftKind::Spc
  }

  fn aggregate(&mut self, runs: Vec<RowRun>, _now: DateTime<Utc>) -> Aggregation {
    let mut out = Aggregation::default();
    for (slot, feature) in self.spec.features.iter().enumerate() {
      let values: Vec<f64> = column(&runs, slot, f64::is_finite, &mut out.dropped_values).collect();
      for chunk in values.chunks(self.spec.sample_size) {
        let mean = finite_mean(chunk);
        out.measurements.push(Measurement::Spc {
          feature: feature.clone(),
          value: mean,
        });
      }
    }
    out
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::aggregate::test_support::{at, rows};

  fn aggregator(sample_size: usize) -> SpcAggregator {
    SpcAggregator::new(SpcSpec {
      sample_size,
      features: vec!["a".into(), "b".into()],
      feature_map: Default::default(),
    })
  }

  fn means(out: &Aggregation) -> Vec<(String, f64)> {
    out
      .measurements
      .iter()
      .map(|record| match record {
        Measurement::Spc { feature, value } => (feature.clone(), *value),
        other => panic!("not an SPC record: {other:?}"),
      })
      .collect()
  }

  #[test]
  fn one_mean_per_feature_per_chunk() {
    let items = rows(
      2,
      &[
        vec![Some(1.0), Some(10.0)],
        vec![Some(2.0), Some(20.0)],
        vec![Some(3.0), Some(30.0)],
        vec![Some(6.0), Some(40.0)],
      ],
    );
    let out = aggregator(4).aggregate(items, at());
    assert_eq!(means(&out), [("a".into(), 3.0), ("b".into(), 25.0)]);
    assert_eq!(out.dropped_values, 0);
  }

  #[test]
  fn short_last_chunk_is_a_mean_over_fewer_values() {
    let items = rows(
      2,
      &[
        vec![Some(1.0), None],
        vec![Some(2.0), None],
        vec![Some(4.0), None],
      ],
    );
    let out = aggregator(2).aggregate(items, at());
    assert_eq!(means(&out), [("a".into(), 1.5), ("a".into(), 4.0)]);
  }

  #[test]
  fn missing_features_give_fewer_values_and_no_record_when_none() {
    let items = rows(
      2,
      &[
        vec![Some(1.0), None],
        vec![None, None],
        vec![Some(5.0), None],
      ],
    );
    let out = aggregator(3).aggregate(items, at());
    assert_eq!(means(&out), [("a".into(), 3.0)]);
    assert_eq!(out.dropped_values, 0, "absent is not unusable");
  }

  #[test]
  fn non_finite_values_are_dropped_and_counted() {
    let items = rows(
      2,
      &[
        vec![Some(f64::NAN), Some(f64::INFINITY)],
        vec![Some(4.0), Some(f64::NEG_INFINITY)],
        vec![Some(2.0), Some(1.0)],
      ],
    );
    let out = aggregator(3).aggregate(items, at());
    assert_eq!(means(&out), [("a".into(), 3.0), ("b".into(), 1.0)]);
    assert_eq!(out.dropped_values, 3);
  }

  #[test]
  fn huge_values_give_a_finite_mean_instead_of_being_dropped() {
    let items = rows(2, &vec![vec![Some(1e308), None]; 25]);
    let out = aggregator(25).aggregate(items, at());
    let means = means(&out);
    assert_eq!(means.len(), 1);
    assert!(((means[0].1 - 1e308) / 1e308).abs() < 1e-15, "{means:?}");
    assert_eq!(out.dropped_values, 0);
  }
}
