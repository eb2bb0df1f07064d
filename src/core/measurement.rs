//! What an aggregation yields, before a wire format gives it the profile's identity fields: the
//! numbers of a batch, and the sampled records the caller built. The aggregators never need to
//! know which Scouter server they publish to.

use crate::core::built_record::BuiltRecord;

/// One future record of a document.
#[derive(Debug, Clone)]
pub enum Measurement {
  /// The mean of one chunk of one SPC feature.
  Spc { feature: String, value: f64 },
  /// How many values of one PSI feature fell into one bin.
  Psi {
    feature: String,
    bin_id: u64,
    bin_count: u64,
  },
  /// The mean of one custom metric over a batch.
  Custom { metric: String, value: f64 },
  /// A sampled `LLMRecord` or `EvalRecord`, as built.
  Sampled(BuiltRecord),
}
