//! Custom metrics: the mean of each metric named in the profile over the batch. Metric names
//! the profile does not know were already ignored when the row was encoded; non-finite values are
//! dropped and counted, and the mean of the rest is always finite.

use chrono::{DateTime, Utc};

use super::{column, finite_mean, Aggregation, Aggregator};
use crate::core::item::{Row, RowRun};
use crate::core::measurement::Measurement;
use crate::core::profile::{CustomSpec, DriftKind};

/// Aggregates Custom batches; row slot `i` is `spec.metrics[i]`.
pub struct CustomAggregator {
  spec: CustomSpec,
}

impl CustomAggregator {
  pub fn new(spec: CustomSpec) -> Self {
    CustomAggregator { spec }
  }
}

impl Aggregator for CustomAggregator {
  type Item = Row;

  fn kind(&self) -> DriftKind {
    DriftKind::Custom
  }

  fn aggregate(&mut self, runs: Vec<RowRun>, _now: DateTime<Utc>) -> Aggregation {
    let mut out = Aggregation::default();
    for (slot, metric) in self.spec.metrics.iter().enumerate() {
      let values: Vec<f64> = column(&runs, slot, f64::is_finite, &mut out.dropped_values).collect();
      if values.is_empty() {
        continue;
      }
      let mean = finite_mean(&values);
      out.measurements.push(Measurement::Custom {
        metric: metric.clone(),
        value: mean,
      });
    }
    out
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::aggregate::test_support::{at, rows};

  fn aggregator() -> CustomAggregator {
    CustomAggregator::new(CustomSpec {
      sample_size: 25,
      metrics: vec!["mae".into(), "mape".into()],
    })
  }

  fn means(out: &Aggregation) -> Vec<(String, f64)> {
    out
      .measurements
      .iter()
      .map(|record| match record {
        Measurement::Custom { metric, value } => (metric.clone(), *value),
        other => panic!("not a Custom record: {other:?}"),
      })
      .collect()
  }

  #[test]
  fn mean_per_metric() {
    let items = rows(
      2,
      &[
        vec![Some(1.0), Some(3.0)],
        vec![Some(2.0), None],
        vec![Some(6.0), Some(5.0)],
      ],
    );
    let out = aggregator().aggregate(items, at());
    assert_eq!(means(&out), [("mae".into(), 3.0), ("mape".into(), 4.0)]);
  }

  #[test]
  fn non_finite_values_are_dropped_and_counted() {
    let items = rows(
      2,
      &[
        vec![Some(f64::NAN), Some(f64::INFINITY)],
        vec![Some(2.0), None],
      ],
    );
    let out = aggregator().aggregate(items, at());
    assert_eq!(means(&out), [("mae".into(), 2.0)]);
    assert_eq!(out.dropped_values, 2);
  }

  #[test]
  fn huge_values_give_a_finite_mean() {
    let items = rows(2, &vec![vec![Some(1e308), Some(-f64::MAX)]; 25]);
    let out = aggregator().aggregate(items, at());
    let means = means(&out);
    assert_eq!(means.len(), 2);
    assert!(((means[0].1 - 1e308) / 1e308).abs() < 1e-15, "{means:?}");
    assert!(means[1].1.is_finite() && means[1].1 < -1.7e308, "{means:?}");
    assert_eq!(out.dropped_values, 0);
  }

  #[test]
  fn nothing_usable_nothing_published() {
    let items = rows(2, &[vec![None, Some(f64::NAN)]]);
    let out = aggregator().aggregate(items, at());
    assert!(out.measurements.is_empty());
    assert_eq!(out.dropped_values, 1);
  }
}
