//! `BindingTail`: a consumer of `core::tail` behind a JavaScript class, for the command line's
//! `tail`. Failures come back as `BindingError` values, as from `openQueues`.

use std::sync::Arc;

use napi::bindgen_prelude::Either;
use napi_derive::napi;
use tokio::sync::Mutex;

use super::config::{argument_duration, BindingTransportConfig};
use super::error::BindingError;
use crate::core::error::QueueError;
use crate::core::tail::{self, Tail, TailOptions};

/// An open consumer of one transport's documents.
#[napi]
pub struct BindingTail {
  /// `None` once closed. A `tokio` mutex because `next` holds it across its wait.
  inner: Arc<Mutex<Option<Box<dyn Tail>>>>,
}

/// Opens a consumer of the destination `config` publishes to (Kafka, RabbitMQ, Redis or File);
/// resolves once it is in place, with the tail or the reason it could not open.
#[napi(ts_return_type = "Promise<BindingTail | BindingError>")]
pub async fn open_tail(
  config: BindingTransportConfig,
  from_beginning: bool,
) -> Either<BindingTail, BindingError> {
  let options = TailOptions { from_beginning };
  let opened = match config.into_core(None) {
    Ok(config) => tail::open(&config, options).await,
    Err(error) => Err(error),
  };
  match opened {
    Ok(tail) => Either::A(BindingTail {
      inner: Arc::new(Mutex::new(Some(tail))),
    }),
    Err(error) => Either::B(error.into()),
  }
}

#[napi]
impl BindingTail {
  /// The documents that arrived (JSON text each, at most `max`), waiting up to `timeoutMs` for
  /// the first; null when none came in time.
  #[napi(ts_return_type = "Promise<Array<string> | null | BindingError>")]
  pub async fn next(&self, timeout_ms: f64, max: u32) -> Either<Option<Vec<String>>, BindingError> {
    let wait = match argument_duration("timeoutMs", timeout_ms) {
      Ok(wait) => wait,
      Err(error) => return Either::B(error.into()),
    };
    let mut inner = self.inner.lock().await;
    let Some(tail) = inner.as_mut() else {
      return Either::B(QueueError::Config("the tail is closed".into()).into());
    };
    match tail.next(wait, max as usize).await {
      Ok(documents) if documents.is_empty() => Either::A(None),
      Ok(documents) => Either::A(Some(
        documents
          .into_iter()
          .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
          .collect(),
      )),
      Err(error) => Either::B(QueueError::Transport(error).into()),
    }
  }

  /// Stops consuming and closes the connection; idempotent.
  #[napi]
  pub async fn close(&self) {
    if let Some(mut tail) = self.inner.lock().await.take() {
      tail.close().await;
    }
  }
}
