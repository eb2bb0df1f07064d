//! The wire format (contract section 4): `ServerRecords`, the JSON document the Scouter server
//! accepts. Each record is externally tagged by its kind; counts and ids are integers, values are
//! finite floats, and a document holds records of one kind from one profile, never none.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::core::profile::{DriftKind, ProfileId};

/// One record, tagged by kind exactly as the server's `ServerRecord` enum.
#[derive(Debug, Clone, Serialize)]
pub enum ServerRecord {
  Spc(SpcRecord),
  Psi(PsiRecord),
  Custom(CustomRecord),
  #[serde(rename = "LLMDrift")]
  LlmDrift(LlmDriftRecord),
}

/// The mean of one chunk of one SPC feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpcRecord {
  #[serde(serialize_with = "rfc3339")]
  pub created_at: DateTime<Utc>,
  pub space: String,
  pub name: String,
  pub version: String,
  pub feature: String,
  pub value: f64,
}

/// How many values of one PSI feature fell into one bin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PsiRecord {
  #[serde(serialize_with = "rfc3339")]
  pub created_at: DateTime<Utc>,
  pub space: String,
  pub name: String,
  pub version: String,
  pub feature: String,
  pub bin_id: u64,
  pub bin_count: u64,
}

/// The mean of one custom metric over a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomRecord {
  #[serde(serialize_with = "rfc3339")]
  pub created_at: DateTime<Utc>,
  pub space: String,
  pub name: String,
  pub version: String,
  pub metric: String,
  pub value: f64,
}

/// `{"record": {...}}`: one sampled LLM record, wrapped as the server expects.
#[derive(Debug, Clone, Serialize)]
pub struct LlmDriftRecord {
  pub record: LlmRecordBody,
}

/// The LLM record with every field the server requires, server-side fields left empty.
#[derive(Debug, Clone, Serialize)]
pub struct LlmRecordBody {
  /// Set when the `LLMRecord` was built, already in RFC 3339 with nanoseconds.
  pub created_at: String,
  pub space: String,
  pub name: String,
  pub version: String,
  /// Any JSON, passed through untouched.
  pub prompt: Option<Box<RawValue>>,
  /// A JSON object, passed through untouched.
  pub context: Box<RawValue>,
  pub status: &'static str,
  pub id: u64,
  pub uid: String,
  pub score: Option<()>,
  pub updated_at: Option<()>,
  pub processing_started_at: Option<()>,
  pub processing_ended_at: Option<()>,
  pub processing_duration: Option<()>,
}

impl LlmRecordBody {
  /// A record as the server expects it from a client: status `Pending`, id 0, no score yet.
  pub fn pending(id: &ProfileId, input: LlmInput) -> Self {
    LlmRecordBody {
      created_at: input.created_at,
      space: id.space.clone(),
      name: id.name.clone(),
      version: id.version.clone(),
      prompt: input.prompt,
      context: input.context,
      status: "Pending",
      id: 0,
      uid: input.uid,
      score: None,
      updated_at: None,
      processing_started_at: None,
      processing_ended_at: None,
      processing_duration: None,
    }
  }
}

/// What the caller hands over for one LLM record: identity stamped at build time and the JSON
/// it carries, serialized once when the `LLMRecord` was built.
#[derive(Debug, Clone)]
pub struct LlmInput {
  pub uid: String,
  pub created_at: String,
  pub context: Box<RawValue>,
  pub prompt: Option<Box<RawValue>>,
}

impl LlmInput {
  /// What the record weighs against `maxPendingBytes`: its text and its fixed size.
  pub fn bytes(&self) -> u64 {
    let text = self.uid.len()
      + self.created_at.len()
      + self.context.get().len()
      + self.prompt.as_ref().map_or(0, |prompt| prompt.get().len());
    (text + std::mem::size_of::<LlmInput>()) as u64
  }
}

/// A serialized `{"records": [...]}` document, ready for any transport.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
  pub kind: DriftKind,
  pub record_count: usize,
  /// The JSON text, without a trailing newline.
  pub json: Vec<u8>,
}

impl Document {
  /// Serializes records of one kind; `None` when there are none (an empty `records` array is
  /// rejected by the server, so it is never sent).
  pub fn from_records(kind: DriftKind, records: &[ServerRecord]) -> Option<Self> {
    if records.is_empty() {
      return None;
    }
    #[derive(Serialize)]
    struct ServerRecords<'a> {
      records: &'a [ServerRecord],
    }
    let json = serde_json::to_vec(&ServerRecords { records })
      .expect("records hold only strings, integers, finite floats and raw JSON");
    Some(Document {
      kind,
      record_count: records.len(),
      json,
    })
  }

  /// The JSON text.
  pub fn as_str(&self) -> &str {
    std::str::from_utf8(&self.json).expect("serde_json writes UTF-8")
  }
}

/// RFC 3339 UTC with nine fraction digits and a `Z`, as the Python client writes it.
pub fn rfc3339_string(at: &DateTime<Utc>) -> String {
  at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn rfc3339<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
  serializer.serialize_str(&rfc3339_string(at))
}

#[cfg(test)]
mod tests {
  use super::*;
  use chrono::TimeZone;

  fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 8, 25, 12, 0, 0).unwrap()
      + chrono::Duration::nanoseconds(123_456_000)
  }

  #[test]
  fn spc_psi_custom_wire_shapes() {
    let records = [ServerRecord::Psi(PsiRecord {
      created_at: at(),
      space: "scouter".into(),
      name: "psi_model".into(),
      version: "0.1.0".into(),
      feature: "feature_0".into(),
      bin_id: 3,
      bin_count: 17,
    })];
    let doc = Document::from_records(DriftKind::Psi, &records).unwrap();
    assert_eq!(
      doc.as_str(),
      r#"{"records":[{"Psi":{"created_at":"2025-08-25T12:00:00.123456000Z","space":"scouter","name":"psi_model","version":"0.1.0","feature":"feature_0","bin_id":3,"bin_count":17}}]}"#
    );
    let spc = ServerRecord::Spc(SpcRecord {
      created_at: at(),
      space: "s".into(),
      name: "n".into(),
      version: "1".into(),
      feature: "f".into(),
      value: 5.0,
    });
    let custom = ServerRecord::Custom(CustomRecord {
      created_at: at(),
      space: "s".into(),
      name: "n".into(),
      version: "1".into(),
      metric: "mae".into(),
      value: 1.25,
    });
    assert_eq!(
      serde_json::to_string(&spc).unwrap(),
      r#"{"Spc":{"created_at":"2025-08-25T12:00:00.123456000Z","space":"s","name":"n","version":"1","feature":"f","value":5.0}}"#
    );
    assert_eq!(
      serde_json::to_string(&custom).unwrap(),
      r#"{"Custom":{"created_at":"2025-08-25T12:00:00.123456000Z","space":"s","name":"n","version":"1","metric":"mae","value":1.25}}"#
    );
  }

  #[test]
  fn llm_record_carries_every_field() {
    let id = ProfileId {
      space: "scouter".into(),
      name: "llm_metrics".into(),
      version: "0.0.1".into(),
    };
    let input = LlmInput {
      uid: "0198e1c2-0000-7000-8000-000000000000".into(),
      created_at: "2025-08-25T12:00:00.123456789Z".into(),
      context: RawValue::from_string(r#"{"input":"hi","response":"hello"}"#.into()).unwrap(),
      prompt: None,
    };
    let record = ServerRecord::LlmDrift(LlmDriftRecord {
      record: LlmRecordBody::pending(&id, input),
    });
    assert_eq!(
      serde_json::to_string(&record).unwrap(),
      concat!(
        r#"{"LLMDrift":{"record":{"created_at":"2025-08-25T12:00:00.123456789Z","space":"scouter","name":"llm_metrics","version":"0.0.1","#,
        r#""prompt":null,"context":{"input":"hi","response":"hello"},"status":"Pending","id":0,"#,
        r#""uid":"0198e1c2-0000-7000-8000-000000000000","score":null,"updated_at":null,"processing_started_at":null,"#,
        r#""processing_ended_at":null,"processing_duration":null}}}"#
      )
    );
  }

  #[test]
  fn no_records_no_document() {
    assert_eq!(Document::from_records(DriftKind::Spc, &[]), None);
  }
}
