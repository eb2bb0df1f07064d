//! Delivery accounting as a plain JS object (counts are exact as JS numbers up to 2^53).

use napi_derive::napi;

use crate::core::stats::{StatsSnapshot, TransportCounts};
use crate::core::transport::MemberState;

/// One queue's counters; see `QueueStats` in the TypeScript API for their meaning.
#[napi(object)]
pub struct BindingQueueStats {
  pub inserted: f64,
  pub sampled_out: f64,
  pub dropped: f64,
  pub pending: f64,
  /// What the pending items weigh, in bytes.
  pub pending_bytes: f64,
  pub published: f64,
  pub failed: f64,
  pub dropped_values: f64,
  pub records: f64,
  pub documents: f64,
  pub publish_failures: f64,
  /// Documents waiting in the disk spool (this process's and an earlier one's).
  pub spooled_documents: f64,
  /// Items counted in `pending` whose documents are in the spool.
  pub spooled_items: f64,
  /// What those documents take on disk.
  pub spooled_bytes: f64,
  /// Documents an earlier process left in the spool that this one delivered.
  pub replayed_documents: f64,
  /// Milliseconds since the epoch.
  pub last_publish_at: Option<f64>,
  pub last_error: Option<String>,
  /// Per transport of the chain, in order.
  pub transports: Vec<BindingTransportStats>,
}

/// One transport of the chain: its breaker (shared by every alias) and this alias's documents.
#[napi(object)]
pub struct BindingTransportStats {
  pub name: String,
  /// `"closed"`, `"open"` or `"half-open"`.
  #[napi(ts_type = "'closed' | 'open' | 'half-open'")]
  pub state: String,
  pub published: f64,
  pub failed: f64,
  pub in_doubt: f64,
  /// Milliseconds since the epoch.
  pub last_switch_at: Option<f64>,
}

impl BindingQueueStats {
  /// A queue's counters, with the chain's `members` for the per-transport part.
  pub fn new(s: StatsSnapshot, members: &[MemberState]) -> Self {
    let transports = members
      .iter()
      .enumerate()
      .map(|(index, member)| {
        let counts = s.transports.get(index).copied().unwrap_or_default();
        BindingTransportStats::new(member, counts)
      })
      .collect();
    BindingQueueStats {
      inserted: s.inserted as f64,
      sampled_out: s.sampled_out as f64,
      dropped: s.dropped as f64,
      pending: s.pending as f64,
      pending_bytes: s.pending_bytes as f64,
      published: s.published as f64,
      failed: s.failed as f64,
      dropped_values: s.dropped_values as f64,
      records: s.records as f64,
      documents: s.documents as f64,
      publish_failures: s.publish_failures as f64,
      spooled_documents: s.spooled_documents as f64,
      spooled_items: s.spooled_items as f64,
      spooled_bytes: s.spooled_bytes as f64,
      replayed_documents: s.replayed_documents as f64,
      last_publish_at: s.last_publish_at.map(|at| at.timestamp_millis() as f64),
      last_error: s.last_error,
      transports,
    }
  }
}

impl BindingTransportStats {
  fn new(member: &MemberState, counts: TransportCounts) -> Self {
    BindingTransportStats {
      name: member.name.to_string(),
      state: member.state.as_str().to_string(),
      published: counts.published as f64,
      failed: counts.failed as f64,
      in_doubt: counts.in_doubt as f64,
      last_switch_at: member.last_switch_at.map(|at| at.timestamp_millis() as f64),
    }
  }
}
