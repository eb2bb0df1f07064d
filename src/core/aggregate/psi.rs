//! PSI: for each monitored feature, how many of the batch's values fall into each bin. A feature
//! with at least one counted value yields a record for every bin, zero counts included. A value
//! with no bin (NaN, a negative code, a code with no bin) is dropped and counted instead of
//! failing the batch as in the original.

use chrono::{DateTime, Utc};

use super::{Aggregation, Aggregator};
use crate::core::item::RowRef;
use crate::core::profile::{DriftKind, NumericBin, ProfileId, PsiBins, PsiSpec};
use crate::core::record::{PsiRecord, ServerRecord};

/// Aggregates PSI batches; row slot `i` is `spec.features[i]`.
pub struct PsiAggregator {
  id: ProfileId,
  spec: PsiSpec,
}

impl PsiAggregator {
  pub fn new(id: ProfileId, spec: PsiSpec) -> Self {
    PsiAggregator { id, spec }
  }
}

/// The index of the bin `value` falls into, if any.
pub fn bin_index(bins: &PsiBins, value: f64) -> Option<usize> {
  match bins {
    PsiBins::Numeric(bins) => numeric_bin(bins, value),
    PsiBins::Category(ids) => {
      let code = value.trunc();
      // `-0.5` truncates to `-0.0`, code 0; only a code below zero is negative.
      if code.is_nan() || code < 0.0 || code > u64::MAX as f64 {
        return None;
      }
      let code = code as u64;
      ids.iter().position(|id| *id == code)
    }
  }
}

/// `lower < value <= upper`; a first bin whose lower limit is -inf also takes -inf. Bins are
/// sorted by upper limit, so the candidate is the first bin whose upper limit reaches `value`.
fn numeric_bin(bins: &[NumericBin], value: f64) -> Option<usize> {
  if value.is_nan() {
    return None;
  }
  if value == f64::NEG_INFINITY {
    return (bins.first()?.lower == f64::NEG_INFINITY).then_some(0);
  }
  let index = bins.partition_point(|bin| bin.upper < value);
  let bin = bins.get(index)?;
  (bin.lower < value).then_some(index)
}

impl Aggregator for PsiAggregator {
  type Item = RowRef;

  fn kind(&self) -> DriftKind {
    DriftKind::Psi
  }

  fn aggregate(&mut self, items: Vec<RowRef>, now: DateTime<Utc>) -> Aggregation {
    let mut out = Aggregation::default();
    for (slot, feature) in self.spec.features.iter().enumerate() {
      let ids: Vec<u64> = match &feature.bins {
        PsiBins::Numeric(bins) => bins.iter().map(|bin| bin.id).collect(),
        PsiBins::Category(ids) => ids.clone(),
      };
      let mut counts = vec![0u64; ids.len()];
      let mut counted = 0u64;
      for value in items.iter().filter_map(|row| row.get(slot)) {
        match bin_index(&feature.bins, value) {
          Some(index) => {
            counts[index] += 1;
            counted += 1;
          }
          None => out.dropped_values += 1,
        }
      }
      if counted == 0 {
        continue;
      }
      for (bin_id, bin_count) in ids.into_iter().zip(counts) {
        out.records.push(ServerRecord::Psi(PsiRecord {
          created_at: now,
          space: self.id.space.clone(),
          name: self.id.name.clone(),
          version: self.id.version.clone(),
          feature: feature.name.clone(),
          bin_id,
          bin_count,
        }));
      }
    }
    out
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::aggregate::test_support::{at, rows};
  use crate::core::profile::{DriftProfile, ProfileSpec};

  fn fixture() -> PsiAggregator {
    let profile = DriftProfile::parse(
      "psi.json",
      include_str!("../../../__test__/fixtures/psi_profile.json"),
    )
    .unwrap();
    let ProfileSpec::Psi(spec) = profile.spec else {
      panic!()
    };
    PsiAggregator::new(profile.id, spec)
  }

  /// (feature, bin_id, bin_count) of each record.
  fn counts(out: &Aggregation) -> Vec<(String, u64, u64)> {
    out
      .records
      .iter()
      .map(|record| match record {
        ServerRecord::Psi(r) => (r.feature.clone(), r.bin_id, r.bin_count),
        other => panic!("not a PSI record: {other:?}"),
      })
      .collect()
  }

  fn numeric(values: &[f64]) -> Vec<(u64, u64)> {
    let items = rows(
      2,
      &values
        .iter()
        .map(|v| vec![Some(*v), None])
        .collect::<Vec<_>>(),
    );
    let out = fixture().aggregate(items, at());
    counts(&out)
      .into_iter()
      .map(|(_, id, count)| (id, count))
      .collect()
  }

  #[test]
  fn numeric_limits_are_lower_exclusive_upper_inclusive() {
    // Bins: 1 = (-inf, 1], 2 = (1, 2], ..., 10 = (9, inf).
    let got = numeric(&[1.0, 1.5, 2.0, 9.0, 9.5, -3.0]);
    let expected: Vec<(u64, u64)> = vec![
      (1, 2),
      (2, 2),
      (3, 0),
      (4, 0),
      (5, 0),
      (6, 0),
      (7, 0),
      (8, 0),
      (9, 1),
      (10, 1),
    ];
    assert_eq!(got, expected);
  }

  #[test]
  fn infinities_land_in_the_end_bins() {
    let got = numeric(&[f64::INFINITY, f64::NEG_INFINITY, f64::MAX]);
    assert_eq!(got[0], (1, 1));
    assert_eq!(got[9], (10, 2));
  }

  #[test]
  fn every_bin_is_reported_including_zero_counts() {
    let got = numeric(&[5.5]);
    assert_eq!(got.len(), 10);
    assert_eq!(got.iter().map(|(_, c)| c).sum::<u64>(), 1);
    assert_eq!(got[5], (6, 1));
  }

  #[test]
  fn nan_is_dropped_and_counted_without_failing_the_batch() {
    let items = rows(
      2,
      &[vec![Some(f64::NAN), Some(1.0)], vec![Some(3.5), Some(7.0)]],
    );
    let out = fixture().aggregate(items, at());
    // NaN for feature_0, code 7 has no colour bin.
    assert_eq!(out.dropped_values, 2);
    let got = counts(&out);
    assert_eq!(got.len(), 13, "10 numeric bins + 3 colour bins");
    assert!(got.contains(&("feature_0".into(), 4, 1)));
    assert!(got.contains(&("color".into(), 1, 1)));
    assert!(got.contains(&("color".into(), 0, 0)));
  }

  #[test]
  fn category_codes_truncate_toward_zero_and_reject_negatives() {
    let bins = PsiBins::Category(vec![0, 1, 2]);
    assert_eq!(bin_index(&bins, 1.9), Some(1));
    assert_eq!(bin_index(&bins, -0.5), Some(0));
    assert_eq!(bin_index(&bins, -1.0), None);
    assert_eq!(bin_index(&bins, 3.0), None);
    assert_eq!(bin_index(&bins, f64::NAN), None);
    assert_eq!(bin_index(&bins, f64::INFINITY), None);
  }

  #[test]
  fn category_ids_need_not_be_sorted_or_dense() {
    let bins = PsiBins::Category(vec![7, 3, 12]);
    assert_eq!(bin_index(&bins, 12.0), Some(2));
    assert_eq!(bin_index(&bins, 3.0), Some(1));
  }

  #[test]
  fn feature_without_values_yields_no_records() {
    let items = rows(
      2,
      &[
        vec![None, Some(2.0)],
        vec![None, Some(2.0)],
        vec![None, Some(0.0)],
      ],
    );
    let out = fixture().aggregate(items, at());
    assert_eq!(
      counts(&out),
      [
        ("color".into(), 0, 1),
        ("color".into(), 1, 0),
        ("color".into(), 2, 2)
      ]
    );
  }

  #[test]
  fn a_batch_with_no_usable_value_yields_nothing() {
    let items = rows(2, &[vec![Some(f64::NAN), Some(-4.0)]]);
    let out = fixture().aggregate(items, at());
    assert!(out.records.is_empty());
    assert_eq!(out.dropped_values, 2);
  }

  #[test]
  fn first_bin_without_minus_infinity_does_not_take_it() {
    let bins = PsiBins::Numeric(vec![
      NumericBin {
        id: 1,
        lower: 0.0,
        upper: 1.0,
      },
      NumericBin {
        id: 2,
        lower: 1.0,
        upper: 2.0,
      },
    ]);
    assert_eq!(bin_index(&bins, f64::NEG_INFINITY), None);
    assert_eq!(bin_index(&bins, 0.0), None);
    assert_eq!(bin_index(&bins, 0.5), Some(0));
    assert_eq!(bin_index(&bins, 2.5), None);
  }
}
