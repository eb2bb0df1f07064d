//! Core errors as JavaScript sees them: a stable `code` per kind of failure, which the
//! TypeScript facade (`ts/errors.ts`) maps to an error class, and for profile errors the file
//! and field as data.

use napi_derive::napi;

use crate::core::error::QueueError;

/// Stable error codes; the `code` property of errors thrown by the addon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
  ProfileInvalid,
  ConfigInvalid,
  Transport,
  QueueClosed,
  Spool,
  Internal,
  /// A napi conversion failure (a wrong argument type from JS).
  Napi(napi::Status),
}

impl AsRef<str> for ErrorCode {
  fn as_ref(&self) -> &str {
    match self {
      ErrorCode::ProfileInvalid => "SCOUTER_PROFILE_INVALID",
      ErrorCode::ConfigInvalid => "SCOUTER_CONFIG_INVALID",
      ErrorCode::Transport => "SCOUTER_TRANSPORT",
      ErrorCode::QueueClosed => "SCOUTER_QUEUE_CLOSED",
      ErrorCode::Spool => "SCOUTER_SPOOL",
      ErrorCode::Internal => "SCOUTER_INTERNAL",
      ErrorCode::Napi(status) => status.as_ref(),
    }
  }
}

impl From<napi::Status> for ErrorCode {
  fn from(status: napi::Status) -> Self {
    ErrorCode::Napi(status)
  }
}

impl From<&QueueError> for ErrorCode {
  fn from(error: &QueueError) -> Self {
    match error {
      QueueError::Profile { .. } => ErrorCode::ProfileInvalid,
      QueueError::Config(_) => ErrorCode::ConfigInvalid,
      QueueError::Transport(_) => ErrorCode::Transport,
      QueueError::Closed { .. } => ErrorCode::QueueClosed,
      QueueError::Spool(_) => ErrorCode::Spool,
      QueueError::Internal(_) => ErrorCode::Internal,
    }
  }
}

/// Converts a core error into a thrown JS error with `code`.
pub fn to_napi(error: QueueError) -> napi::Error<ErrorCode> {
  napi::Error::new(ErrorCode::from(&error), error.to_string())
}

/// An error returned as data (from `openQueues`), so that profile errors keep their file and
/// field as properties.
#[napi(object)]
pub struct BindingError {
  /// One of the `SCOUTER_*` codes.
  pub code: String,
  pub message: String,
  /// The profile file, for `SCOUTER_PROFILE_INVALID`.
  pub file: Option<String>,
  /// The JSON path of the offending field, when one is to blame.
  pub field: Option<String>,
}

impl From<QueueError> for BindingError {
  fn from(error: QueueError) -> Self {
    let code = ErrorCode::from(&error).as_ref().to_string();
    let (file, field) = match &error {
      QueueError::Profile { path, field, .. } => (Some(path.clone()), field.clone()),
      _ => (None, None),
    };
    BindingError {
      code,
      message: error.to_string(),
      file,
      field,
    }
  }
}
