//! The Mock transport (addition): keeps published documents in memory so tests and demos can
//! read exactly what would have gone on the wire. It can be told to be slow or to fail, which is
//! how the queue's retry, time-out and accounting paths are tested without a network.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::{Confirmation, Transport};
use crate::core::error::TransportError;
use crate::core::wire::Document;

/// Shared state of a Mock transport: outlives the queues, so documents stay readable.
#[derive(Debug, Default)]
pub struct MockStore {
  state: Mutex<MockState>,
}

#[derive(Debug, Default)]
struct MockState {
  /// Confirmed documents by the order they were handed over.
  documents: BTreeMap<u64, String>,
  attempts: u64,
  fail_next: u64,
  fail_retryable: bool,
  latency: Duration,
  max_retries: u32,
}

impl MockStore {
  /// A store whose transport retries a failed publish `max_retries` times.
  pub fn new(max_retries: u32) -> Self {
    MockStore {
      state: Mutex::new(MockState {
        max_retries,
        ..MockState::default()
      }),
    }
  }

  fn with<T>(&self, f: impl FnOnce(&mut MockState) -> T) -> T {
    f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()))
  }

  /// Every document confirmed so far, as JSON text, in the order they were handed over.
  pub fn documents(&self) -> Vec<String> {
    self.with(|s| s.documents.values().cloned().collect())
  }

  /// Forgets the documents and the attempt count.
  pub fn clear(&self) {
    self.with(|s| {
      s.documents.clear();
      s.attempts = 0;
    })
  }

  /// How many publish attempts were made, retries included.
  pub fn attempts(&self) -> u64 {
    self.with(|s| s.attempts)
  }

  /// Makes the next `count` attempts fail, retryably or not.
  pub fn fail_next(&self, count: u64, retryable: bool) {
    self.with(|s| {
      s.fail_next = count;
      s.fail_retryable = retryable;
    })
  }

  /// Makes every attempt fail from now on (retryably or not), or none.
  pub fn set_failing(&self, failing: bool, retryable: bool) {
    self.fail_next(if failing { u64::MAX } else { 0 }, retryable)
  }

  /// How long each attempt takes before it is confirmed.
  pub fn set_latency(&self, latency: Duration) {
    self.with(|s| s.latency = latency)
  }

  pub fn max_retries(&self) -> u32 {
    self.with(|s| s.max_retries)
  }
}

/// The transport side of a [`MockStore`].
pub struct MockTransport {
  store: Arc<MockStore>,
}

impl MockTransport {
  pub fn new(store: Arc<MockStore>) -> Self {
    MockTransport { store }
  }
}

#[async_trait]
impl Transport for MockTransport {
  fn name(&self) -> &'static str {
    "mock"
  }

  fn publish(&self, document: Arc<Document>) -> Confirmation {
    // Decided when handed over, so that order and failures are deterministic.
    let (sequence, latency, failure) = self.store.with(|s| {
      s.attempts += 1;
      let failure = (s.fail_next > 0).then(|| {
        s.fail_next -= 1;
        s.fail_retryable
      });
      (s.attempts, s.latency, failure)
    });
    let store = Arc::clone(&self.store);
    Box::pin(async move {
      if !latency.is_zero() {
        tokio::time::sleep(latency).await;
      }
      match failure {
        Some(true) => Err(TransportError::retryable(
          "mock",
          "injected retryable failure",
        )),
        Some(false) => Err(TransportError::permanent(
          "mock",
          "injected permanent failure",
        )),
        None => {
          let json = document.as_str().to_string();
          store.with(|s| s.documents.insert(sequence, json));
          Ok(())
        }
      }
    })
  }
}
