//! The 0.25 records (Scouter v0.14 and later): the profile's `uid` and `entity_id: 0` on every
//! record (the server resolves the entity from the uid), sampled records as `GenAIEval`.

use serde::Serialize;
use serde_json::value::RawValue;

use super::records_json;
use crate::core::built_record::RecordBody;
use crate::core::measurement::Measurement;
use crate::core::profile::ProfileId;

/// One record, tagged by kind exactly as the 0.25 server's `ServerRecord` enum.
#[derive(Serialize)]
enum Record<'a> {
  Spc(Feature<'a>),
  Psi(Bin<'a>),
  Custom(Metric<'a>),
  #[serde(rename = "GenAIEval")]
  GenAiEval {
    record: Eval<'a>,
  },
}

#[derive(Serialize)]
struct Feature<'a> {
  created_at: &'a str,
  uid: &'a str,
  feature: &'a str,
  value: f64,
  entity_id: u64,
}

#[derive(Serialize)]
struct Bin<'a> {
  created_at: &'a str,
  uid: &'a str,
  feature: &'a str,
  bin_id: u64,
  bin_count: u64,
  entity_id: u64,
}

#[derive(Serialize)]
struct Metric<'a> {
  created_at: &'a str,
  uid: &'a str,
  metric: &'a str,
  value: f64,
  entity_id: u64,
}

/// A GenAI eval record as the 0.25 client sends it: server-side fields empty, status `Pending`.
#[derive(Serialize)]
struct Eval<'a> {
  record_id: &'a str,
  session_id: &'a str,
  created_at: &'a str,
  /// The record's own UUIDv7.
  uid: &'a str,
  context: &'a RawValue,
  id: u64,
  updated_at: Option<()>,
  processing_started_at: Option<()>,
  processing_ended_at: Option<()>,
  processing_duration: Option<()>,
  entity_id: u64,
  /// The profile's uid.
  entity_uid: &'a str,
  status: &'static str,
  entity_type: &'static str,
  retry_count: u32,
  trace_id: Option<&'a str>,
  tags: &'a [String],
}

pub(super) fn render(id: &ProfileId, created_at: &str, measurements: &[Measurement]) -> Vec<u8> {
  // The loader refuses a 0.25 profile without a uid.
  let uid = id.uid.as_deref().unwrap_or_default();
  let records: Vec<Record<'_>> = measurements
    .iter()
    .map(|measurement| match measurement {
      Measurement::Spc { feature, value } => Record::Spc(Feature {
        created_at,
        uid,
        feature,
        value: *value,
        entity_id: 0,
      }),
      Measurement::Psi {
        feature,
        bin_id,
        bin_count,
      } => Record::Psi(Bin {
        created_at,
        uid,
        feature,
        bin_id: *bin_id,
        bin_count: *bin_count,
        entity_id: 0,
      }),
      Measurement::Custom { metric, value } => Record::Custom(Metric {
        created_at,
        uid,
        metric,
        value: *value,
        entity_id: 0,
      }),
      Measurement::Sampled(built) => {
        // A 0.25 queue only takes `EvalRecord`s (`QueueBus::push` checks).
        let (record_id, session_id, trace_id, tags) = match &built.body {
          RecordBody::Eval(eval) => (
            eval.record_id.as_str(),
            eval.session_id.as_str(),
            eval.trace_id.as_deref(),
            eval.tags.as_slice(),
          ),
          RecordBody::Llm { .. } => ("", "", None, &[][..]),
        };
        Record::GenAiEval {
          record: Eval {
            record_id,
            session_id,
            created_at: &built.created_at,
            uid: &built.uid,
            context: &built.context,
            id: 0,
            updated_at: None,
            processing_started_at: None,
            processing_ended_at: None,
            processing_duration: None,
            entity_id: 0,
            entity_uid: uid,
            status: "Pending",
            entity_type: "GenAI",
            retry_count: 0,
            trace_id,
            tags,
          },
        }
      }
    })
    .collect();
  records_json(&records)
}

#[cfg(test)]
mod tests {
  use super::super::test_support::{at, id};
  use super::super::{Document, WireFormat};
  use crate::core::built_record::{BuiltRecord, EvalFields};
  use crate::core::measurement::Measurement;
  use crate::core::profile::DriftKind;

  const UID: &str = "0197f3a0-0000-7000-8000-000000000002";

  fn render(kind: DriftKind, measurements: &[Measurement]) -> String {
    let doc =
      Document::render(WireFormat::V0_25, &id(Some(UID)), kind, at(), measurements).unwrap();
    assert_eq!(doc.format, WireFormat::V0_25);
    doc.as_str().to_string()
  }

  #[test]
  fn spc_psi_custom_shapes() {
    let psi = Measurement::Psi {
      feature: "feature_0".into(),
      bin_id: 1,
      bin_count: 212,
    };
    assert_eq!(
      render(DriftKind::Psi, &[psi]),
      r#"{"records":[{"Psi":{"created_at":"2025-08-25T12:00:00.123456000Z","uid":"0197f3a0-0000-7000-8000-000000000002","feature":"feature_0","bin_id":1,"bin_count":212,"entity_id":0}}]}"#
    );
    let spc = Measurement::Spc {
      feature: "feature_0".into(),
      value: 4.8,
    };
    assert_eq!(
      render(DriftKind::Spc, &[spc]),
      r#"{"records":[{"Spc":{"created_at":"2025-08-25T12:00:00.123456000Z","uid":"0197f3a0-0000-7000-8000-000000000002","feature":"feature_0","value":4.8,"entity_id":0}}]}"#
    );
    let custom = Measurement::Custom {
      metric: "mae".into(),
      value: 6.25,
    };
    assert_eq!(
      render(DriftKind::Custom, &[custom]),
      r#"{"records":[{"Custom":{"created_at":"2025-08-25T12:00:00.123456000Z","uid":"0197f3a0-0000-7000-8000-000000000002","metric":"mae","value":6.25,"entity_id":0}}]}"#
    );
  }

  #[test]
  fn genai_eval_record_carries_every_field() {
    let built = BuiltRecord::eval(
      "019a0000-0000-7000-8000-00000000000a".into(),
      "2025-08-25T12:00:00.123456789Z".into(),
      r#"{"input":"hi"}"#.into(),
      EvalFields {
        record_id: "r-1".into(),
        session_id: "019a0000-0000-7000-8000-00000000000b".into(),
        trace_id: Some("0123456789abcdef0123456789abcdef".into()),
        tags: vec!["env=prod".into()],
      },
    )
    .unwrap();
    assert_eq!(
      render(DriftKind::GenAi, &[Measurement::Sampled(built)]),
      concat!(
        r#"{"records":[{"GenAIEval":{"record":{"record_id":"r-1","session_id":"019a0000-0000-7000-8000-00000000000b","#,
        r#""created_at":"2025-08-25T12:00:00.123456789Z","uid":"019a0000-0000-7000-8000-00000000000a","context":{"input":"hi"},"#,
        r#""id":0,"updated_at":null,"processing_started_at":null,"processing_ended_at":null,"processing_duration":null,"#,
        r#""entity_id":0,"entity_uid":"0197f3a0-0000-7000-8000-000000000002","status":"Pending","entity_type":"GenAI","#,
        r#""retry_count":0,"trace_id":"0123456789abcdef0123456789abcdef","tags":["env=prod"]}}}]}"#
      )
    );
  }
}
