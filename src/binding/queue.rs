//! One queue as JavaScript drives it. `pushRows` is the hot path: a whole batch of rows crosses
//! N-API once, as two typed arrays, and is copied into the core without touching JS objects.

use std::sync::Arc;

use napi_derive::napi;

use super::error::{to_napi, ErrorCode};
use super::stats::BindingQueueStats;
use crate::core::built_record::{BuiltRecord, EvalFields};
use crate::core::error::QueueError;
use crate::core::item::{ItemBatch, RowBatch};
use crate::core::queue::QueueBus;
use crate::core::transport::Chain;

/// A queue of one alias.
#[napi]
pub struct BindingQueue {
  pub(crate) bus: Arc<QueueBus>,
  /// For the per-transport part of the stats.
  pub(crate) chain: Arc<Chain>,
}

/// One column of the row layout: the feature or metric name, and codes for string values.
#[napi(object)]
pub struct BindingSlot {
  pub name: String,
  /// `[string value, code]` pairs. A list, not an object: as object keys, a category named
  /// `"__proto__"` would be lost on the JS side.
  pub codes: Option<Vec<(String, f64)>>,
}

#[napi]
impl BindingQueue {
  /// `"{space}/{name}/v{version}/{kind}"`.
  #[napi(getter)]
  pub fn identifier(&self) -> String {
    self.bus.identifier().to_string()
  }

  /// `"spc"`, `"psi"`, `"custom"`, `"llm"` or `"genai"`.
  #[napi(getter)]
  pub fn kind(&self) -> String {
    self.bus.kind().as_str().to_string()
  }

  /// The wire format its documents take: `"v0.9"` or `"0.25"`.
  #[napi(getter)]
  pub fn format(&self) -> String {
    self.bus.format().spec().name.to_string()
  }

  /// The row layout to encode into; slot `i` of a row is `slots()[i].name`.
  #[napi]
  pub fn slots(&self) -> Vec<BindingSlot> {
    self
      .bus
      .slots()
      .iter()
      .map(|slot| BindingSlot {
        name: slot.name.clone(),
        codes: slot.codes.as_ref().map(|codes| {
          codes
            .iter()
            .map(|(value, code)| (value.clone(), *code as f64))
            .collect()
        }),
      })
      .collect()
  }

  /// Hands the first `rows` rows of the arrays to the queue: row `r` holds its values at
  /// `values[r * width ..]` and its presence bits at `present[r * ceil(width / 32) ..]`. The
  /// arrays are the caller's reusable buffers, so they may be longer. Returns how many rows were
  /// accepted.
  #[napi(catch_unwind)]
  pub fn push_rows(
    &self,
    values: &[f64],
    present: &[u32],
    rows: u32,
  ) -> napi::Result<u32, ErrorCode> {
    let rows = rows as usize;
    let width = self.bus.slots().len();
    let words = RowBatch::words_for(width);
    let (Some(values), Some(present)) = (values.get(..rows * width), present.get(..rows * words))
    else {
      return Err(to_napi(QueueError::Internal(format!(
        "pushRows: {rows} rows do not fit the arrays given"
      ))));
    };
    let batch = RowBatch::new(width, rows, values.to_vec(), present.to_vec()).map_err(to_napi)?;
    self
      .bus
      .push(ItemBatch::Rows(batch))
      .map(|accepted| accepted as u32)
      .map_err(to_napi)
  }

  /// Hands LLM records to the queue, four strings each: uid, createdAt, context JSON, prompt
  /// JSON (empty for none). Returns how many were accepted.
  #[napi(catch_unwind)]
  pub fn push_llm(&self, fields: Vec<String>) -> napi::Result<u32, ErrorCode> {
    if !fields.len().is_multiple_of(4) {
      return Err(to_napi(QueueError::Internal(
        "LLM records cross as four strings each".into(),
      )));
    }
    let mut records = Vec::with_capacity(fields.len() / 4);
    let mut fields = fields.into_iter();
    while let (Some(uid), Some(created_at), Some(context), Some(prompt)) =
      (fields.next(), fields.next(), fields.next(), fields.next())
    {
      let prompt = (!prompt.is_empty()).then_some(prompt);
      let record = BuiltRecord::llm(uid, created_at, context, prompt)
        .map_err(|err| to_napi(QueueError::Internal(format!("LLM record JSON: {err}"))))?;
      records.push(record);
    }
    self
      .bus
      .push(ItemBatch::Records(records))
      .map(|accepted| accepted as u32)
      .map_err(to_napi)
  }

  /// Hands `EvalRecord`s to the queue, seven strings each: uid, createdAt, context JSON,
  /// recordId, sessionId, traceId (empty for none), tags as a JSON array of strings. Returns how
  /// many were accepted.
  #[napi(catch_unwind)]
  pub fn push_eval(&self, fields: Vec<String>) -> napi::Result<u32, ErrorCode> {
    if !fields.len().is_multiple_of(7) {
      return Err(to_napi(QueueError::Internal(
        "eval records cross as seven strings each".into(),
      )));
    }
    let bad =
      |err: serde_json::Error| to_napi(QueueError::Internal(format!("eval record JSON: {err}")));
    let mut records = Vec::with_capacity(fields.len() / 7);
    let mut fields = fields.into_iter();
    while let (
      Some(uid),
      Some(created_at),
      Some(context),
      Some(record_id),
      Some(session_id),
      Some(trace_id),
      Some(tags),
    ) = (
      fields.next(),
      fields.next(),
      fields.next(),
      fields.next(),
      fields.next(),
      fields.next(),
      fields.next(),
    ) {
      let eval = EvalFields {
        record_id,
        session_id,
        trace_id: (!trace_id.is_empty()).then_some(trace_id),
        tags: serde_json::from_str(&tags).map_err(bad)?,
      };
      records.push(BuiltRecord::eval(uid, created_at, context, eval).map_err(bad)?);
    }
    self
      .bus
      .push(ItemBatch::Records(records))
      .map(|accepted| accepted as u32)
      .map_err(to_napi)
  }

  /// Counts `items` that were inserted but could not cross into the queue (a hand-over that
  /// failed) as inserted and failed, with `reason` as the last error, so that none vanishes.
  #[napi]
  pub fn record_lost(&self, items: f64, reason: String) -> napi::Result<(), ErrorCode> {
    if !(items.is_finite()
      && items >= 0.0
      && items.fract() == 0.0
      && items <= 9_007_199_254_740_991.0)
    {
      return Err(to_napi(QueueError::Internal(format!(
        "recordLost: {items} is not a count of items"
      ))));
    }
    self.bus.record_lost(items as u64, &reason);
    Ok(())
  }

  /// A consistent reading of the queue's counters.
  #[napi]
  pub fn stats(&self) -> BindingQueueStats {
    BindingQueueStats::new(self.bus.stats(), &self.chain.states())
  }
}
