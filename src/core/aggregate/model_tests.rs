//! Property tests: each aggregator against a naive model written straight from the contract
//! (section 3), over random rows cut into random runs, as the event loop's buffer holds them
//! (runs split at batch boundaries and merged when the buffer has too many).

use proptest::prelude::*;

use super::{
  Aggregation, Aggregator, CustomAggregator, PsiAggregator, SampledAggregator, Sampling,
  SpcAggregator,
};
use crate::core::aggregate::test_support::at;
use crate::core::built_record::BuiltRecord;
use crate::core::item::{ItemRun, RowBatch, RowRun};
use crate::core::measurement::Measurement;
use crate::core::profile::{
  CustomSpec, DriftKind, NumericBin, PsiBins, PsiFeature, PsiSpec, SpcSpec,
};

/// A value as rows carry it: absent, a usual number, a huge one, or not finite.
fn value() -> impl Strategy<Value = Option<f64>> {
  prop_oneof![
    3 => Just(None),
    10 => (-20.0f64..20.0).prop_map(Some),
    2 => (-3i32..12).prop_map(|v| Some(f64::from(v))),
    1 => prop_oneof![Just(f64::MAX), Just(-f64::MAX), Just(1e308), Just(-1e308)].prop_map(Some),
    1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)].prop_map(Some),
  ]
}

fn rows(width: usize) -> impl Strategy<Value = Vec<Vec<Option<f64>>>> {
  prop::collection::vec(prop::collection::vec(value(), width), 0..120)
}

/// The rows as runs: cut at `cuts`, then the first `merged` runs merged back into one.
fn as_runs(width: usize, rows: &[Vec<Option<f64>>], cuts: &[usize], merged: usize) -> Vec<RowRun> {
  let mut rest = RowRun::whole(RowBatch::from_rows(width, rows));
  let mut runs = Vec::new();
  for cut in cuts {
    runs.push(rest.split_front(*cut));
  }
  runs.push(rest);
  let merged = merged.min(runs.len());
  let tail = runs.split_off(merged);
  let mut out = Vec::new();
  if merged > 0 {
    out.push(RowRun::merge(runs));
  }
  out.extend(tail.into_iter().filter(|run| !run.is_empty()));
  out
}

/// Means compared within rounding: the model sums naively, the aggregator avoids overflow.
fn close(a: f64, b: f64) -> bool {
  if !b.is_finite() {
    // The naive sum overflowed; the contract asks for a finite mean of finite values.
    return a.is_finite();
  }
  a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn values(out: &Aggregation) -> Vec<(String, f64)> {
  out
    .measurements
    .iter()
    .map(|record| match record {
      Measurement::Spc { feature, value } => (feature.clone(), *value),
      Measurement::Custom { metric, value } => (metric.clone(), *value),
      other => panic!("unexpected record {other:?}"),
    })
    .collect()
}

proptest! {
  #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

  #[test]
  fn spc_matches_the_contract(
    sample_size in 1usize..9,
    rows in rows(3),
    cuts in prop::collection::vec(0usize..40, 0..6),
    merged in 0usize..4,
  ) {
    let features = vec!["a".to_string(), "b".into(), "c".into()];
    let mut aggregator = SpcAggregator::new(SpcSpec { sample_size, features: features.clone(), feature_map: Default::default() });
    let out = aggregator.aggregate(as_runs(3, &rows, &cuts, merged), at());
    let mut expected = Vec::new();
    let mut dropped = 0u64;
    for (slot, feature) in features.iter().enumerate() {
      let usable: Vec<f64> = rows.iter().filter_map(|row| row[slot]).filter(|v| {
        let ok = v.is_finite();
        if !ok { dropped += 1; }
        ok
      }).collect();
      for chunk in usable.chunks(sample_size) {
        expected.push((feature.clone(), chunk.iter().sum::<f64>() / chunk.len() as f64));
      }
    }
    let got = values(&out);
    prop_assert_eq!(got.len(), expected.len());
    for ((gf, gv), (ef, ev)) in got.iter().zip(&expected) {
      prop_assert_eq!(gf, ef);
      prop_assert!(gv.is_finite() && close(*gv, *ev), "{} vs {}", gv, ev);
    }
    prop_assert_eq!(out.dropped_values, dropped);
  }

  #[test]
  fn custom_matches_the_contract(
    rows in rows(2),
    cuts in prop::collection::vec(0usize..40, 0..6),
    merged in 0usize..4,
  ) {
    let metrics = vec!["mae".to_string(), "mape".into()];
    let mut aggregator = CustomAggregator::new(CustomSpec { sample_size: 25, metrics: metrics.clone() });
    let out = aggregator.aggregate(as_runs(2, &rows, &cuts, merged), at());
    let mut expected = Vec::new();
    let mut dropped = 0u64;
    for (slot, metric) in metrics.iter().enumerate() {
      let present: Vec<f64> = rows.iter().filter_map(|row| row[slot]).collect();
      dropped += present.iter().filter(|v| !v.is_finite()).count() as u64;
      let usable: Vec<f64> = present.into_iter().filter(|v| v.is_finite()).collect();
      if !usable.is_empty() {
        expected.push((metric.clone(), usable.iter().sum::<f64>() / usable.len() as f64));
      }
    }
    let got = values(&out);
    prop_assert_eq!(got.len(), expected.len());
    for ((gm, gv), (em, ev)) in got.iter().zip(&expected) {
      prop_assert_eq!(gm, em);
      prop_assert!(gv.is_finite() && close(*gv, *ev), "{} vs {}", gv, ev);
    }
    prop_assert_eq!(out.dropped_values, dropped);
  }

  #[test]
  fn psi_matches_the_contract(
    rows in rows(2),
    cuts in prop::collection::vec(0usize..40, 0..6),
    merged in 0usize..4,
  ) {
    // A numeric feature with a gap between two bins, and a category feature with unsorted ids.
    let numeric: Vec<NumericBin> = vec![
      NumericBin { id: 1, lower: f64::NEG_INFINITY, upper: -5.0 },
      NumericBin { id: 2, lower: -5.0, upper: 0.0 },
      NumericBin { id: 3, lower: 1.0, upper: 7.5 },
      NumericBin { id: 4, lower: 7.5, upper: f64::INFINITY },
    ];
    let categories = vec![5u64, 0, 2, 9];
    let spec = PsiSpec {
      features: vec![
        PsiFeature { name: "x".into(), bins: PsiBins::Numeric(numeric.clone()) },
        PsiFeature { name: "color".into(), bins: PsiBins::Category(categories.clone()) },
      ],
      feature_map: Default::default(),
    };
    let mut aggregator = PsiAggregator::new(spec, true);
    let out = aggregator.aggregate(as_runs(2, &rows, &cuts, merged), at());
    let numeric_bin = |v: f64| -> Option<usize> {
      if v == f64::NEG_INFINITY { return Some(0); }
      numeric.iter().position(|b| b.lower < v && v <= b.upper)
    };
    let category_bin = |v: f64| -> Option<usize> {
      let code = v.trunc();
      if code.is_nan() || code < 0.0 { return None; }
      categories.iter().position(|id| *id as f64 == code)
    };
    let mut expected = Vec::new();
    let mut dropped = 0u64;
    for (slot, (name, ids, find)) in [
      ("x", vec![1u64, 2, 3, 4], &numeric_bin as &dyn Fn(f64) -> Option<usize>),
      ("color", categories.clone(), &category_bin),
    ].into_iter().enumerate() {
      let mut counts = vec![0u64; ids.len()];
      let mut counted = 0;
      for v in rows.iter().filter_map(|row| row[slot]) {
        match find(v) {
          Some(bin) => { counts[bin] += 1; counted += 1; }
          None => dropped += 1,
        }
      }
      if counted > 0 {
        for (id, count) in ids.iter().zip(counts) {
          expected.push((name.to_string(), *id, count));
        }
      }
    }
    let got: Vec<(String, u64, u64)> = out.measurements.iter().map(|record| match record {
      Measurement::Psi { feature, bin_id, bin_count } => (feature.clone(), *bin_id, *bin_count),
      other => panic!("unexpected record {other:?}"),
    }).collect();
    prop_assert_eq!(got, expected);
    prop_assert_eq!(out.dropped_values, dropped);
  }

  #[test]
  fn llm_keeps_order_and_accounts_for_every_record(
    rate in 1u64..5,
    sizes in prop::collection::vec(0usize..50, 0..60),
    cut in 0usize..60,
    seed in any::<u64>(),
  ) {
    let inputs: Vec<BuiltRecord> = sizes.iter().enumerate().map(|(n, size)| BuiltRecord::llm(
      format!("u{n}"),
      "2025-08-25T12:00:00Z".into(),
      format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(*size)),
      None,
    ).unwrap()).collect();
    let total_bytes: u64 = inputs.iter().map(BuiltRecord::bytes).sum();
    let mut aggregator = SampledAggregator::with_rng(DriftKind::Llm, Sampling::OneIn(rate), fastrand::Rng::with_seed(seed));
    let mut rest = inputs.clone();
    let mut first = rest.split_front(cut);
    let (out_a, bytes_a) = aggregator.sample(&mut first);
    let (out_b, bytes_b) = aggregator.sample(&mut rest);
    let kept: Vec<String> = first.iter().chain(&rest).map(|i| i.uid.clone()).collect();
    prop_assert_eq!(kept.len() as u64 + out_a + out_b, inputs.len() as u64);
    let kept_bytes: u64 = first.iter().chain(&rest).map(BuiltRecord::bytes).sum();
    prop_assert_eq!(kept_bytes + bytes_a + bytes_b, total_bytes);
    if rate == 1 { prop_assert_eq!(out_a + out_b, 0); }
    let out = aggregator.aggregate(vec![first, rest], at());
    let uids: Vec<String> = out.measurements.iter().map(|record| match record {
      Measurement::Sampled(built) => built.uid.clone(),
      other => panic!("unexpected record {other:?}"),
    }).collect();
    // Kept records, in insertion order.
    prop_assert_eq!(&uids, &kept);
    let mut sorted = kept.clone();
    sorted.sort_by_key(|u| u[1..].parse::<usize>().unwrap());
    prop_assert_eq!(sorted, kept);
  }
}
