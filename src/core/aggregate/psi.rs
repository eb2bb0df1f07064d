//! PSI: for each monitored feature, how many of the batch's values fall into each bin. A feature
//! with at least one counted value yields a record for every bin, zero counts included. A value
//! with no bin (NaN, a negative code, a code with no bin) is dropped and counted instead of
//! failing the batch as in the original.

use chrono::{DateTime, Utc};

use super::{Aggregation, Aggregator};
use crate::core::item::{Row, RowRun};
use crate::core::measurement::Measurement;
use crate::core::profile::{DriftKind, PsiBins, PsiSpec};

/// Aggregates PSI batches; row slot `i` is `spec.features[i]`.
pub struct PsiAggregator {
  spec: PsiSpec,
  /// One per feature, in slot order.
  finders: Vec<BinFinder>,
}

impl PsiAggregator {
  /// `infinities`: whether a numeric feature's infinite values count in the end bins (the
  /// format's `psi_infinities`), or are dropped as unusable.
  pub fn new(spec: PsiSpec, infinities: bool) -> Self {
    let finders = spec
      .features
      .iter()
      .map(|feature| BinFinder::new(&feature.bins, infinities))
      .collect();
    PsiAggregator { spec, finders }
  }
}

/// Finds a value's bin. Numeric limits are laid out as two flat arrays, so that for the usual
/// ten or so bins the search is a branch-free count the compiler vectorizes.
#[derive(Debug, Clone)]
pub struct BinFinder {
  /// The bin ids, in bin order.
  ids: Vec<u64>,
  kind: FinderKind,
}

#[derive(Debug, Clone)]
enum FinderKind {
  /// Bins sorted by upper limit.
  Numeric {
    lowers: Vec<f64>,
    uppers: Vec<f64>,
    /// Whether -inf and +inf find the end bins, or no bin.
    infinities: bool,
  },
  Category,
}

/// Up to this many bins, counting the upper limits below the value beats a binary search.
const LINEAR_SEARCH_BINS: usize = 32;

impl BinFinder {
  pub fn new(bins: &PsiBins, infinities: bool) -> Self {
    match bins {
      PsiBins::Numeric(bins) => BinFinder {
        ids: bins.iter().map(|bin| bin.id).collect(),
        kind: FinderKind::Numeric {
          lowers: bins.iter().map(|bin| bin.lower).collect(),
          uppers: bins.iter().map(|bin| bin.upper).collect(),
          infinities,
        },
      },
      PsiBins::Category(ids) => BinFinder {
        ids: ids.clone(),
        kind: FinderKind::Category,
      },
    }
  }

  /// The bin ids, in the order `find` indexes them.
  pub fn ids(&self) -> &[u64] {
    &self.ids
  }

  /// The index of the bin `value` falls into, if any (contract section 3):
  /// numeric `lower < value <= upper`, where a first bin whose lower limit is -inf also takes
  /// -inf; category: the value truncated toward zero equals the bin id.
  #[inline]
  pub fn find(&self, value: f64) -> Option<usize> {
    match &self.kind {
      FinderKind::Numeric {
        lowers,
        uppers,
        infinities,
      } => {
        if !value.is_finite() {
          if value.is_nan() || !infinities {
            return None;
          }
          if value == f64::NEG_INFINITY {
            return (*lowers.first()? == f64::NEG_INFINITY).then_some(0);
          }
          // +inf: the search below finds the bin whose upper limit is +inf, if there is one.
        }
        // The first bin whose upper limit reaches `value`.
        let index = if uppers.len() <= LINEAR_SEARCH_BINS {
          uppers.iter().map(|&upper| usize::from(upper < value)).sum()
        } else {
          uppers.partition_point(|&upper| upper < value)
        };
        (*lowers.get(index)? < value).then_some(index)
      }
      FinderKind::Category => {
        let code = value.trunc();
        // `-0.5` truncates to `-0.0`, code 0; only a code below zero is negative.
        if code.is_nan() || code < 0.0 || code > u64::MAX as f64 {
          return None;
        }
        let code = code as u64;
        self.ids.iter().position(|id| *id == code)
      }
    }
  }
}

impl Aggregator for PsiAggregator {
  type Item = Row;

  fn kind(&self) -> DriftKind {
    DriftKind::Psi
  }

  fn aggregate(&mut self, runs: Vec<RowRun>, _now: DateTime<Utc>) -> Aggregation {
    let mut out = Aggregation::default();
    // counts[offsets[slot] + bin]; counted[slot] = values that found a bin.
    let mut offsets = Vec::with_capacity(self.finders.len());
    let mut bins = 0;
    for finder in &self.finders {
      offsets.push(bins);
      bins += finder.ids().len();
    }
    let mut counts = vec![0u64; bins];
    let mut counted = vec![0u64; self.finders.len()];
    // Row by row: each row's values sit together in memory.
    for row in runs.iter().flat_map(RowRun::rows) {
      for (slot, finder) in self.finders.iter().enumerate() {
        let Some(value) = row.get(slot) else {
          continue;
        };
        match finder.find(value) {
          Some(bin) => {
            counts[offsets[slot] + bin] += 1;
            counted[slot] += 1;
          }
          None => out.dropped_values += 1,
        }
      }
    }
    for (slot, (feature, finder)) in self.spec.features.iter().zip(&self.finders).enumerate() {
      if counted[slot] == 0 {
        continue;
      }
      let feature_counts = &counts[offsets[slot]..offsets[slot] + finder.ids().len()];
      for (&bin_id, &bin_count) in finder.ids().iter().zip(feature_counts) {
        out.measurements.push(Measurement::Psi {
          feature: feature.name.clone(),
          bin_id,
          bin_count,
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
  use crate::core::profile::{DriftProfile, NumericBin, ProfileSpec};

  fn bin_index(bins: &PsiBins, value: f64) -> Option<usize> {
    BinFinder::new(bins, true).find(value)
  }

  fn fixture() -> PsiAggregator {
    let profile = DriftProfile::parse(
      "psi.json",
      include_str!("../../../__test__/fixtures/psi_profile.json"),
    )
    .unwrap();
    let ProfileSpec::Psi(spec) = profile.spec else {
      panic!()
    };
    PsiAggregator::new(spec, true)
  }

  /// (feature, bin_id, bin_count) of each record.
  fn counts(out: &Aggregation) -> Vec<(String, u64, u64)> {
    out
      .measurements
      .iter()
      .map(|record| match record {
        Measurement::Psi {
          feature,
          bin_id,
          bin_count,
        } => (feature.clone(), *bin_id, *bin_count),
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
  fn without_infinities_they_are_dropped_and_counted_like_nan() {
    let bins = PsiBins::Numeric(vec![
      NumericBin {
        id: 1,
        lower: f64::NEG_INFINITY,
        upper: 0.0,
      },
      NumericBin {
        id: 2,
        lower: 0.0,
        upper: f64::INFINITY,
      },
    ]);
    let finder = BinFinder::new(&bins, false);
    assert_eq!(finder.find(f64::INFINITY), None);
    assert_eq!(finder.find(f64::NEG_INFINITY), None);
    assert_eq!(finder.find(f64::NAN), None);
    assert_eq!(finder.find(-f64::MAX), Some(0));
    assert_eq!(finder.find(f64::MAX), Some(1));
    let with = BinFinder::new(&bins, true);
    assert_eq!(with.find(f64::INFINITY), Some(1));
    assert_eq!(with.find(f64::NEG_INFINITY), Some(0));
    // Category codes are unaffected: an infinite code has no bin either way.
    let category = BinFinder::new(&PsiBins::Category(vec![0, 1]), false);
    assert_eq!(category.find(1.0), Some(1));
    assert_eq!(category.find(f64::INFINITY), None);
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
    assert!(out.measurements.is_empty());
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

  /// `lower < value <= upper` checked bin by bin, as the contract states it.
  fn brute_force(bins: &[NumericBin], value: f64) -> Option<usize> {
    if value == f64::NEG_INFINITY {
      return (bins[0].lower == f64::NEG_INFINITY).then_some(0);
    }
    bins
      .iter()
      .position(|bin| bin.lower < value && value <= bin.upper)
  }

  #[test]
  fn numeric_search_agrees_with_the_definition_for_narrow_and_wide_profiles() {
    // Edges, values between them, infinities and NaN, for 10 bins (linear count) and 100 bins
    // (binary search), with a gap between two bins.
    for width in [10usize, 100] {
      let mut bins: Vec<NumericBin> = (0..width)
        .map(|i| NumericBin {
          id: i as u64 + 1,
          lower: if i == 0 { f64::NEG_INFINITY } else { i as f64 },
          upper: if i + 1 == width {
            f64::INFINITY
          } else {
            i as f64 + 1.0
          },
        })
        .collect();
      bins[3].lower = 3.5; // (3.5, 4]: values in (3, 3.5] have no bin
      let finder = BinFinder::new(&PsiBins::Numeric(bins.clone()), true);
      let mut values = vec![f64::INFINITY, f64::NEG_INFINITY, f64::MAX, f64::MIN, -0.0];
      for i in -2..=(width as i32 + 2) {
        for frac in [-0.25, 0.0, 0.25, 0.5, 0.75] {
          values.push(f64::from(i) + frac);
        }
      }
      for value in values {
        assert_eq!(
          finder.find(value),
          brute_force(&bins, value),
          "{width} bins, value {value}"
        );
      }
      assert_eq!(finder.find(f64::NAN), None);
    }
  }
}
