//! `BindingReplay`: a `core::replay::Replayer` behind a JavaScript class, for the command line's
//! `replay`. JavaScript drives it step by step (drawing progress in between); failures come back
//! as `BindingError` values.

use std::path::PathBuf;
use std::sync::Arc;

use napi::bindgen_prelude::Either;
use napi_derive::napi;
use tokio::sync::Mutex;

use super::config::BindingTransportConfig;
use super::error::BindingError;
use crate::core::error::QueueError;
use crate::core::replay::{ReplayOptions, ReplayProgress, Replayer};

/// The state of a replay after a step.
#[napi(object)]
pub struct BindingReplayProgress {
  /// Entries read (lines or spool frames).
  pub read: f64,
  /// Documents the transport confirmed.
  pub published: f64,
  /// Documents that failed after retries.
  pub failed: f64,
  /// Entries that were not documents (not published).
  pub invalid: f64,
  /// Records in the published documents.
  pub records: f64,
  /// How far the source was read, and its size (bytes of a file, frames of a spool).
  pub position: f64,
  pub total: f64,
  /// Nothing is left to read.
  pub done: bool,
  /// What went wrong during the step, one message each.
  pub problems: Vec<String>,
}

impl From<ReplayProgress> for BindingReplayProgress {
  fn from(progress: ReplayProgress) -> Self {
    let counts = progress.counts;
    BindingReplayProgress {
      read: counts.read as f64,
      published: counts.published as f64,
      failed: counts.failed as f64,
      invalid: counts.invalid as f64,
      records: counts.records as f64,
      position: progress.position as f64,
      total: progress.total as f64,
      done: progress.done,
      problems: progress.problems,
    }
  }
}

/// A replay in progress.
#[napi]
pub struct BindingReplay {
  /// `None` once closed. A `tokio` mutex because `step` holds it across its publishes.
  inner: Arc<Mutex<Option<Replayer>>>,
}

/// Opens `path` (a spool directory, or a JSON-lines file) and the transport of `config`;
/// resolves once the transport answered, with the replay or the reason it could not start.
/// `consume` acknowledges each published spool frame.
#[napi(ts_return_type = "Promise<BindingReplay | BindingError>")]
pub async fn open_replay(
  path: String,
  config: BindingTransportConfig,
  consume: bool,
) -> Either<BindingReplay, BindingError> {
  let options = ReplayOptions { consume };
  let opened = match config.into_core(None) {
    Ok(config) => Replayer::open(&PathBuf::from(path), &config, options).await,
    Err(error) => Err(error),
  };
  match opened {
    Ok(replayer) => Either::A(BindingReplay {
      inner: Arc::new(Mutex::new(Some(replayer))),
    }),
    Err(error) => Either::B(error.into()),
  }
}

#[napi]
impl BindingReplay {
  /// Reads and publishes up to `max` entries, and resolves once each is confirmed or failed.
  #[napi(ts_return_type = "Promise<BindingReplayProgress | BindingError>")]
  pub async fn step(&self, max: u32) -> Either<BindingReplayProgress, BindingError> {
    match self.inner.lock().await.as_mut() {
      Some(replayer) => Either::A(replayer.step(max as usize).await.into()),
      None => Either::B(QueueError::Config("the replay is closed".into()).into()),
    }
  }

  /// Flushes and closes the transport and releases the source (the spool's lock); idempotent.
  #[napi]
  pub async fn close(&self) -> Option<BindingError> {
    let replayer = self.inner.lock().await.take()?;
    replayer.close().await.err().map(BindingError::from)
  }
}
