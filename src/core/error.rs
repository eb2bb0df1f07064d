//! The one error type of the core. Every variant carries the context a user needs to act on it
//! (the profile file and field, the alias, the option); the binding maps each variant to a stable
//! `code` that the TypeScript facade turns into an error class.

use std::time::Duration;

/// What went wrong inside scouter-queue. Background failures are reported as values (through the
/// error sink and the stats), never thrown into the caller.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueueError {
  /// A drift profile that cannot be used. `field` is the JSON path (`config.sample_size`), absent
  /// when the file itself could not be read or parsed.
  #[error("{}", profile_message(.path, .field.as_deref(), .reason))]
  Profile {
    path: String,
    field: Option<String>,
    reason: String,
  },
  /// A transport option or the transport itself could not be set up.
  #[error("invalid config: {0}")]
  Config(String),
  /// The disk spool could not be read or written, or held a damaged record (which was cut off).
  #[error("spool: {0}")]
  Spool(String),
  /// A publish that did not succeed (after all retries, when it was retryable).
  #[error(transparent)]
  Transport(#[from] TransportError),
  /// The queue was shut down; nothing more can be inserted.
  #[error("queue `{alias}` is shut down; create a new ScouterQueue to publish again")]
  Closed { alias: String },
  /// A bug or a panic inside the core, caught before it could cross into Node.
  #[error("internal error: {0}")]
  Internal(String),
}

fn profile_message(path: &str, field: Option<&str>, reason: &str) -> String {
  match field {
    Some(field) => format!("invalid drift profile {path}: field `{field}` {reason}"),
    None => format!("invalid drift profile {path}: {reason}"),
  }
}

/// Result alias used throughout the core.
pub type Result<T, E = QueueError> = std::result::Result<T, E>;

/// A failed publish as a transport reports it: whether it is worth retrying, and how long the
/// server asked us to wait (HTTP `Retry-After`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{transport} transport: {message}")]
pub struct TransportError {
  pub transport: &'static str,
  pub message: String,
  pub retryable: bool,
  pub retry_after: Option<Duration>,
  /// The destination may have stored the document although the publish failed (Kafka: the
  /// message timed out after it was sent). Handing it to another transport may then deliver it
  /// twice: the at-least-once window of a failover chain.
  pub in_doubt: bool,
}

impl TransportError {
  /// A failure that may succeed when tried again (a lost connection, a 5xx, a time-out).
  pub fn retryable(transport: &'static str, message: impl Into<String>) -> Self {
    Self {
      transport,
      message: message.into(),
      retryable: true,
      retry_after: None,
      in_doubt: false,
    }
  }

  /// A failure that will fail again (a 400, a 403, a document too large).
  pub fn permanent(transport: &'static str, message: impl Into<String>) -> Self {
    Self {
      transport,
      message: message.into(),
      retryable: false,
      retry_after: None,
      in_doubt: false,
    }
  }
}
