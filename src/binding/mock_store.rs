//! The JavaScript handle on a Mock transport's store: what `MockConfig` reads documents from and
//! uses to make the transport slow or failing in tests.

use napi_derive::napi;
use std::sync::Arc;

use super::config::{argument_duration, max_retries as max_retries_option};
use super::error::{to_napi, ErrorCode};
use crate::core::options::Scope;
use crate::core::transport::MockStore;

/// Documents published through a Mock transport, kept in memory.
#[napi]
pub struct BindingMockStore {
  pub(crate) inner: Arc<MockStore>,
}

#[napi]
impl BindingMockStore {
  /// A store whose transport retries a failed publish `maxRetries` times (the Mock transport's
  /// only option, so it lives here and not in the transport config).
  #[napi(constructor)]
  pub fn new(max_retries: f64) -> napi::Result<Self, ErrorCode> {
    Ok(BindingMockStore {
      inner: Arc::new(MockStore::new(
        max_retries_option(Scope::Mock, max_retries).map_err(to_napi)?,
      )),
    })
  }

  /// Every document confirmed so far, as JSON text, in publish order.
  #[napi]
  pub fn documents(&self) -> Vec<String> {
    self.inner.documents()
  }

  /// Publish attempts so far, retries included.
  #[napi]
  pub fn attempts(&self) -> f64 {
    self.inner.attempts() as f64
  }

  /// Forgets documents and attempts.
  #[napi]
  pub fn clear(&self) {
    self.inner.clear()
  }

  /// Makes the next `count` publish attempts fail.
  #[napi]
  pub fn fail_next(&self, count: u32, retryable: bool) {
    self.inner.fail_next(u64::from(count), retryable)
  }

  /// Makes every publish attempt fail from now on (`failing`), or none.
  #[napi]
  pub fn set_failing(&self, failing: bool, retryable: bool) {
    self.inner.set_failing(failing, retryable)
  }

  /// Makes every publish attempt take `ms` milliseconds.
  #[napi]
  pub fn set_latency_ms(&self, ms: f64) -> napi::Result<(), ErrorCode> {
    let latency = argument_duration("latencyMs", ms).map_err(to_napi)?;
    self.inner.set_latency(latency);
    Ok(())
  }
}
