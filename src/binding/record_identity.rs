//! Identity for a new `LLMRecord` or `EvalRecord`: a UUIDv7 and the RFC 3339 time it encodes,
//! taken together when the record is built, so that `uid` and `created_at` agree to the
//! millisecond.

use napi_derive::napi;

use crate::core::wire::rfc3339_string;

/// `[uid, createdAt]` for a record built now, then `extra` more fresh UUIDv7s (an `EvalRecord`
/// without a `sessionId` takes one). `extra` is clamped to 4: nothing needs more.
#[napi]
pub fn record_identity(extra: u32) -> Vec<String> {
  let now = chrono::Utc::now();
  let timestamp = uuid::Timestamp::from_unix(
    uuid::NoContext,
    now.timestamp() as u64,
    now.timestamp_subsec_nanos(),
  );
  let mut out = vec![
    uuid::Uuid::new_v7(timestamp).hyphenated().to_string(),
    rfc3339_string(&now),
  ];
  for _ in 0..extra.min(4) {
    out.push(uuid::Uuid::now_v7().hyphenated().to_string());
  }
  out
}
