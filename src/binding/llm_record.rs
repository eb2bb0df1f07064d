//! Identity for a new `LLMRecord`: a UUIDv7 and the RFC 3339 time it encodes, taken together when
//! the record is built, so that `uid` and `created_at` agree to the millisecond.

use napi_derive::napi;

use crate::core::record::rfc3339_string;

/// `[uid, createdAt]` for an `LLMRecord` built now.
#[napi]
pub fn llm_record_identity() -> Vec<String> {
  let now = chrono::Utc::now();
  let timestamp = uuid::Timestamp::from_unix(
    uuid::NoContext,
    now.timestamp() as u64,
    now.timestamp_subsec_nanos(),
  );
  vec![
    uuid::Uuid::new_v7(timestamp).hyphenated().to_string(),
    rfc3339_string(&now),
  ]
}
