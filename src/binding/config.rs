//! Options from JavaScript into core types. The TypeScript layer has already resolved every
//! option (option, then env var, then default; `ts/config/env.ts`), so this only checks and
//! converts, and its errors name the option.

use std::path::PathBuf;
use std::time::Duration;

use napi_derive::napi;

use super::mock_store::BindingMockStore;
use crate::core::error::{QueueError, Result};
use crate::core::queue::QueueOptions;
use crate::core::transport::{FileConfig, TransportConfig};

/// Which drift profile file each alias uses.
#[napi(object)]
pub struct BindingProfileSource {
  pub alias: String,
  pub path: String,
}

/// The transport, with its options resolved. Exactly the object for `kind` is set.
#[napi(object)]
pub struct BindingTransportConfig {
  /// `"mock"` or `"file"`.
  pub kind: String,
  pub file: Option<BindingFileConfig>,
  /// Retries after the first attempt (Mock and File).
  pub max_retries: Option<u32>,
}

/// File transport options.
#[napi(object)]
pub struct BindingFileConfig {
  pub path: String,
}

/// Queue options shared by every alias.
#[napi(object)]
pub struct BindingQueueOptions {
  /// @default 30000
  pub flush_interval_ms: Option<f64>,
  /// @default 100000
  pub max_pending_items: Option<f64>,
  /// @default 16
  pub max_in_flight: Option<u32>,
}

impl BindingTransportConfig {
  /// The core config; `mock` is the store of a Mock transport.
  pub fn into_core(self, mock: Option<&BindingMockStore>) -> Result<TransportConfig> {
    match self.kind.as_str() {
      "mock" => {
        let store = mock.ok_or_else(|| QueueError::Config("the Mock transport needs its store".into()))?;
        Ok(TransportConfig::Mock(store.inner.clone()))
      }
      "file" => {
        let file = self
          .file
          .ok_or_else(|| QueueError::Config("the File transport needs `path`".into()))?;
        Ok(TransportConfig::File(FileConfig {
          path: PathBuf::from(file.path),
          max_retries: self.max_retries.unwrap_or(3),
        }))
      }
      other => Err(QueueError::Config(format!("unknown transport kind `{other}`"))),
    }
  }
}

impl TryFrom<BindingQueueOptions> for QueueOptions {
  type Error = QueueError;

  fn try_from(options: BindingQueueOptions) -> Result<Self> {
    let defaults = QueueOptions::default();
    let flush_interval = match options.flush_interval_ms {
      None => defaults.flush_interval,
      Some(ms) if ms.is_finite() && ms > 0.0 => Duration::from_secs_f64(ms / 1000.0),
      Some(ms) => {
        return Err(QueueError::Config(format!(
          "option `flushIntervalMs` must be a positive number of milliseconds (got {ms})"
        )))
      }
    };
    let max_pending_items = match options.max_pending_items {
      None => defaults.max_pending_items,
      Some(n) if n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => n as usize,
      Some(n) => {
        return Err(QueueError::Config(format!(
          "option `maxPendingItems` must be a whole number from 1 to {} (got {n})",
          u32::MAX
        )))
      }
    };
    let max_in_flight = match options.max_in_flight {
      None => defaults.max_in_flight,
      Some(0) => return Err(QueueError::Config("option `maxInFlight` must be at least 1".into())),
      Some(n) => n as usize,
    };
    Ok(QueueOptions {
      flush_interval,
      max_pending_items,
      max_in_flight,
    })
  }
}
