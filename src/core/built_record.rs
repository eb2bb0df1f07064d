//! Records the caller builds whole: an `LLMRecord` (v0.9) or an `EvalRecord` (0.25). Their
//! identity (`uid`, `created_at`) is stamped when they are built, and their JSON is serialized
//! once, in JavaScript, and carried through untouched.

use serde_json::value::RawValue;

use crate::core::profile::DriftKind;

/// One record as the caller built it.
#[derive(Debug, Clone)]
pub struct BuiltRecord {
  /// A UUIDv7, set when it was built.
  pub uid: String,
  /// RFC 3339 with nanoseconds, set when it was built.
  pub created_at: String,
  /// A JSON object.
  pub context: Box<RawValue>,
  pub body: RecordBody,
}

/// What only one of the two kinds of record carries.
#[derive(Debug, Clone)]
pub enum RecordBody {
  /// An `LLMRecord`: any JSON as the prompt, or none.
  Llm { prompt: Option<Box<RawValue>> },
  /// An `EvalRecord`.
  Eval(EvalFields),
}

/// The fields of an `EvalRecord` besides its identity and context.
#[derive(Debug, Clone, Default)]
pub struct EvalFields {
  /// The caller's id, `""` when none was given.
  pub record_id: String,
  /// The caller's session, or a fresh UUIDv7.
  pub session_id: String,
  /// 32 hex digits, or none.
  pub trace_id: Option<String>,
  /// `"key=value"`, in the order they were added.
  pub tags: Vec<String>,
}

impl BuiltRecord {
  /// An `LLMRecord`; `Err` when `context` or `prompt` is not JSON.
  pub fn llm(
    uid: String,
    created_at: String,
    context: String,
    prompt: Option<String>,
  ) -> Result<Self, serde_json::Error> {
    Ok(BuiltRecord {
      uid,
      created_at,
      context: RawValue::from_string(context)?,
      body: RecordBody::Llm {
        prompt: prompt.map(RawValue::from_string).transpose()?,
      },
    })
  }

  /// An `EvalRecord`; `Err` when `context` is not JSON.
  pub fn eval(
    uid: String,
    created_at: String,
    context: String,
    fields: EvalFields,
  ) -> Result<Self, serde_json::Error> {
    Ok(BuiltRecord {
      uid,
      created_at,
      context: RawValue::from_string(context)?,
      body: RecordBody::Eval(fields),
    })
  }

  /// The kind of queue that takes it.
  pub fn kind(&self) -> DriftKind {
    match self.body {
      RecordBody::Llm { .. } => DriftKind::Llm,
      RecordBody::Eval(_) => DriftKind::GenAi,
    }
  }

  /// What the record weighs against `maxPendingBytes`: its text and its fixed size.
  pub fn bytes(&self) -> u64 {
    let body = match &self.body {
      RecordBody::Llm { prompt } => prompt.as_ref().map_or(0, |prompt| prompt.get().len()),
      RecordBody::Eval(eval) => {
        eval.record_id.len()
          + eval.session_id.len()
          + eval.trace_id.as_ref().map_or(0, String::len)
          + eval
            .tags
            .iter()
            .map(|tag| tag.len() + std::mem::size_of::<String>())
            .sum::<usize>()
      }
    };
    let text = self.uid.len() + self.created_at.len() + self.context.get().len() + body;
    (text + std::mem::size_of::<BuiltRecord>()) as u64
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn weight_counts_every_string() {
    let llm = BuiltRecord::llm("u".into(), "t".into(), "{}".into(), Some("[1]".into())).unwrap();
    let base = std::mem::size_of::<BuiltRecord>() as u64;
    assert_eq!(llm.bytes(), base + 1 + 1 + 2 + 3);
    let eval = BuiltRecord::eval(
      "u".into(),
      "t".into(),
      "{}".into(),
      EvalFields {
        record_id: "id".into(),
        session_id: "sess".into(),
        trace_id: None,
        tags: vec!["a=b".into()],
      },
    )
    .unwrap();
    let tag = 3 + std::mem::size_of::<String>() as u64;
    assert_eq!(eval.bytes(), base + 1 + 1 + 2 + 2 + 4 + tag);
    assert_eq!(eval.kind(), DriftKind::GenAi);
    assert_eq!(llm.kind(), DriftKind::Llm);
    assert!(BuiltRecord::llm("u".into(), "t".into(), "{".into(), None).is_err());
  }
}
