//! The v0.9 records (contract section 4): `space`, `name` and `version` on every record, LLM
//! records as `LLMDrift`.

use serde::Serialize;
use serde_json::value::RawValue;

use super::records_json;
use crate::core::built_record::RecordBody;
use crate::core::measurement::Measurement;
use crate::core::profile::ProfileId;

/// One record, tagged by kind exactly as the v0.9 server's `ServerRecord` enum.
#[derive(Serialize)]
enum Record<'a> {
  Spc(Feature<'a>),
  Psi(Bin<'a>),
  Custom(Metric<'a>),
  #[serde(rename = "LLMDrift")]
  LlmDrift {
    record: Llm<'a>,
  },
}

#[derive(Serialize)]
struct Feature<'a> {
  created_at: &'a str,
  space: &'a str,
  name: &'a str,
  version: &'a str,
  feature: &'a str,
  value: f64,
}

#[derive(Serialize)]
struct Bin<'a> {
  created_at: &'a str,
  space: &'a str,
  name: &'a str,
  version: &'a str,
  feature: &'a str,
  bin_id: u64,
  bin_count: u64,
}

#[derive(Serialize)]
struct Metric<'a> {
  created_at: &'a str,
  space: &'a str,
  name: &'a str,
  version: &'a str,
  metric: &'a str,
  value: f64,
}

/// The LLM record with every field the server requires, server-side fields left empty.
#[derive(Serialize)]
struct Llm<'a> {
  /// Set when the `LLMRecord` was built.
  created_at: &'a str,
  space: &'a str,
  name: &'a str,
  version: &'a str,
  prompt: Option<&'a RawValue>,
  context: &'a RawValue,
  status: &'static str,
  id: u64,
  uid: &'a str,
  score: Option<()>,
  updated_at: Option<()>,
  processing_started_at: Option<()>,
  processing_ended_at: Option<()>,
  processing_duration: Option<()>,
}

pub(super) fn render(id: &ProfileId, created_at: &str, measurements: &[Measurement]) -> Vec<u8> {
  let (space, name, version) = (&*id.space, &*id.name, &*id.version);
  let records: Vec<Record<'_>> = measurements
    .iter()
    .map(|measurement| match measurement {
      Measurement::Spc { feature, value } => Record::Spc(Feature {
        created_at,
        space,
        name,
        version,
        feature,
        value: *value,
      }),
      Measurement::Psi {
        feature,
        bin_id,
        bin_count,
      } => Record::Psi(Bin {
        created_at,
        space,
        name,
        version,
        feature,
        bin_id: *bin_id,
        bin_count: *bin_count,
      }),
      Measurement::Custom { metric, value } => Record::Custom(Metric {
        created_at,
        space,
        name,
        version,
        metric,
        value: *value,
      }),
      Measurement::Sampled(built) => Record::LlmDrift {
        record: Llm {
          created_at: &built.created_at,
          space,
          name,
          version,
          // A v0.9 queue only takes `LLMRecord`s (`QueueBus::push` checks), so the body is
          // always `Llm`.
          prompt: match &built.body {
            RecordBody::Llm { prompt } => prompt.as_deref(),
            RecordBody::Eval(_) => None,
          },
          context: &built.context,
          status: "Pending",
          id: 0,
          uid: &built.uid,
          score: None,
          updated_at: None,
          processing_started_at: None,
          processing_ended_at: None,
          processing_duration: None,
        },
      },
    })
    .collect();
  records_json(&records)
}

#[cfg(test)]
mod tests {
  use super::super::test_support::{at, id};
  use super::super::{Document, WireFormat};
  use crate::core::built_record::BuiltRecord;
  use crate::core::measurement::Measurement;
  use crate::core::profile::DriftKind;

  fn render(kind: DriftKind, measurements: &[Measurement]) -> String {
    let doc = Document::render(WireFormat::V0_9, &id(None), kind, at(), measurements).unwrap();
    assert_eq!(doc.record_count, measurements.len());
    doc.as_str().to_string()
  }

  #[test]
  fn spc_psi_custom_shapes() {
    let psi = Measurement::Psi {
      feature: "feature_0".into(),
      bin_id: 3,
      bin_count: 17,
    };
    assert_eq!(
      render(DriftKind::Psi, &[psi]),
      r#"{"records":[{"Psi":{"created_at":"2025-08-25T12:00:00.123456000Z","space":"s","name":"n","version":"1","feature":"feature_0","bin_id":3,"bin_count":17}}]}"#
    );
    let spc = Measurement::Spc {
      feature: "f".into(),
      value: 5.0,
    };
    assert_eq!(
      render(DriftKind::Spc, &[spc]),
      r#"{"records":[{"Spc":{"created_at":"2025-08-25T12:00:00.123456000Z","space":"s","name":"n","version":"1","feature":"f","value":5.0}}]}"#
    );
    let custom = Measurement::Custom {
      metric: "mae".into(),
      value: 1.25,
    };
    assert_eq!(
      render(DriftKind::Custom, &[custom]),
      r#"{"records":[{"Custom":{"created_at":"2025-08-25T12:00:00.123456000Z","space":"s","name":"n","version":"1","metric":"mae","value":1.25}}]}"#
    );
  }

  #[test]
  fn llm_record_carries_every_field() {
    let built = BuiltRecord::llm(
      "0198e1c2-0000-7000-8000-000000000000".into(),
      "2025-08-25T12:00:00.123456789Z".into(),
      r#"{"input":"hi","response":"hello"}"#.into(),
      None,
    )
    .unwrap();
    assert_eq!(
      render(DriftKind::Llm, &[Measurement::Sampled(built)]),
      concat!(
        r#"{"records":[{"LLMDrift":{"record":{"created_at":"2025-08-25T12:00:00.123456789Z","space":"s","name":"n","version":"1","#,
        r#""prompt":null,"context":{"input":"hi","response":"hello"},"status":"Pending","id":0,"#,
        r#""uid":"0198e1c2-0000-7000-8000-000000000000","score":null,"updated_at":null,"processing_started_at":null,"#,
        r#""processing_ended_at":null,"processing_duration":null}}}]}"#
      )
    );
  }
}
