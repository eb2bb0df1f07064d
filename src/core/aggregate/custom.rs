//! Custom metrics: the mean of each metric named in the profile over the batch. Metric names
//! the profile does not know were already ignored when the row was encoded; non-finite values are
//! dropped and counted.

use chrono::{DateTime, Utc};

use super::{column, Aggregation, Aggregator};
use crate::core::item::RowRef;
use crate::core::profile::{CustomSpec, DriftKind, ProfileId};
use crate::core::record::{CustomRecord, ServerRecord};

/// Aggregates Custom batches; row slot `i` is `spec.metrics[i]`.
pub struct CustomAggregator {
  id: ProfileId,
  spec: CustomSpec,
}

impl CustomAggregator {
  pub fn new(id: ProfileId, spec: CustomSpec) -> Self {
    CustomAggregator { id, spec }
  }
}

impl Aggregator for CustomAggregator {
  type Item = RowRef;

  fn kind(&self) -> DriftKind {
    DriftKind::Custom
  }

  fn aggregate(&mut self, items: Vec<RowRef>, now: DateTime<Utc>) -> Aggregation {
    let mut out = Aggregation::default();
    for (slot, metric) in self.spec.metrics.iter().enumerate() {
      let (sum, count) = column(&items, slot, f64::is_finite, &mut out.dropped_values)
        .fold((0.0, 0u64), |(sum, count), value| (sum + value, count + 1));
      if count == 0 {
        continue;
      }
      let mean = sum / count as f64;
      if !mean.is_finite() {
        out.dropped_values += count;
        continue;
      }
      out.records.push(ServerRecord::Custom(CustomRecord {
        created_at: now,
        space: self.id.space.clone(),
        name: self.id.name.clone(),
        version: self.id.version.clone(),
        metric: metric.clone(),
        value: mean,
      }));
    }
    out
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::aggregate::test_support::{at, rows};

  fn aggregator() -> CustomAggregator {
    CustomAggregator::new(
      ProfileId {
        space: "scouter".into(),
        name: "custom_model".into(),
        version: "0.1.0".into(),
      },
      CustomSpec {
        sample_size: 25,
        metrics: vec!["mae".into(), "mape".into()],
      },
    )
  }

  fn means(out: &Aggregation) -> Vec<(String, f64)> {
    out
      .records
      .iter()
      .map(|record| match record {
        ServerRecord::Custom(r) => (r.metric.clone(), r.value),
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
  fn nothing_usable_nothing_published() {
    let items = rows(2, &[vec![None, Some(f64::NAN)]]);
    let out = aggregator().aggregate(items, at());
    assert!(out.records.is_empty());
    assert_eq!(out.dropped_values, 1);
  }
}
