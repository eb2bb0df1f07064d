//! Retrying a failed publish: `max_retries` more attempts after the first, waiting with
//! exponential backoff and jitter between them, or as long as the server asked (`Retry-After`).
//! The original retries Kafka and RabbitMQ immediately, which hammers a broker that is down.

use std::sync::Arc;
use std::time::Duration;

use crate::core::error::TransportError;
use crate::core::transport::{Confirmation, Transport};
use crate::core::wire::Document;

/// How a queue retries publishes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
  /// Retries after the first attempt.
  pub max_retries: u32,
  /// The wait before the first retry, doubled for each further one.
  pub base: Duration,
  /// No single wait is longer than this, `Retry-After` included.
  pub cap: Duration,
}

impl RetryPolicy {
  /// `max_retries` retries starting at 100 ms, each wait at most 30 s.
  pub fn new(max_retries: u32) -> Self {
    RetryPolicy {
      max_retries,
      base: Duration::from_millis(100),
      cap: Duration::from_secs(30),
    }
  }

  /// The wait before retry number `retry` (1-based): `Retry-After` when the server gave one,
  /// otherwise a random point in the upper half of `base * 2^(retry-1)` ("equal jitter"), so
  /// that many clients do not retry in step.
  pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(wait) = retry_after {
      return wait.min(self.cap);
    }
    let exponential = self
      .base
      .saturating_mul(
        1u32
          .checked_shl(retry.saturating_sub(1))
          .unwrap_or(u32::MAX),
      )
      .min(self.cap);
    let half = exponential / 2;
    half + half.mul_f64(fastrand::f64())
  }
}

/// Waits for `first` (the confirmation of the attempt already handed over) and hands
/// `document` over again for each retryable failure, as `policy` says.
pub async fn confirm_with_retry(
  transport: &dyn Transport,
  document: &Arc<Document>,
  first: Confirmation,
  policy: &RetryPolicy,
) -> Result<(), TransportError> {
  confirm_with_retry_while(transport, document, first, policy, || true, |_| {}).await
}

/// [`confirm_with_retry`], retrying only while `keep_trying` holds, both when a failure comes
/// back and when its retry is due: a failover chain stops retrying on a member whose breaker
/// opened meanwhile when another member would take the document. `on_failure` hears about
/// every failed attempt (the chain tells a lost link from it).
pub async fn confirm_with_retry_while(
  transport: &dyn Transport,
  document: &Arc<Document>,
  first: Confirmation,
  policy: &RetryPolicy,
  keep_trying: impl Fn() -> bool,
  on_failure: impl Fn(&TransportError),
) -> Result<(), TransportError> {
  let mut attempt = first;
  let mut retry = 0;
  loop {
    let result = attempt.await;
    if let Err(err) = &result {
      on_failure(err);
    }
    match result {
      Ok(()) => return Ok(()),
      Err(err) if err.retryable && retry < policy.max_retries && keep_trying() => {
        tokio::time::sleep(policy.delay(retry + 1, err.retry_after)).await;
        if !keep_trying() {
          return Err(after_retries(err, retry));
        }
        retry += 1;
        attempt = transport.publish(Arc::clone(document));
      }
      Err(err) => return Err(after_retries(err, retry)),
    }
  }
}

/// The last error, saying how many retries came before it.
fn after_retries(mut err: TransportError, retries: u32) -> TransportError {
  if retries > 0 {
    err.message = format!("{} (after {} retries)", err.message, retries);
  }
  err
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::profile::DriftKind;
  use crate::core::transport::{MockStore, MockTransport};

  fn doc() -> Arc<Document> {
    Arc::new(Document {
      format: crate::core::wire::WireFormat::V0_9,
      kind: DriftKind::Custom,
      record_count: 1,
      json: b"{}".to_vec(),
    })
  }

  async fn publish_with_retry(
    transport: &MockTransport,
    policy: &RetryPolicy,
  ) -> Result<(), TransportError> {
    let document = doc();
    let first = transport.publish(Arc::clone(&document));
    confirm_with_retry(transport, &document, first, policy).await
  }

  #[test]
  fn delays_grow_exponentially_with_jitter_and_a_cap() {
    let policy = RetryPolicy::new(10);
    for _ in 0..100 {
      let first = policy.delay(1, None);
      assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
      let third = policy.delay(3, None);
      assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
      assert!(policy.delay(30, None) <= Duration::from_secs(30));
    }
    assert_eq!(
      policy.delay(1, Some(Duration::from_secs(2))),
      Duration::from_secs(2)
    );
    assert_eq!(
      policy.delay(1, Some(Duration::from_secs(3600))),
      Duration::from_secs(30)
    );
  }

  #[tokio::test(start_paused = true)]
  async fn retryable_failures_are_retried_up_to_max() {
    let store = Arc::new(MockStore::new(3));
    let transport = MockTransport::new(Arc::clone(&store));
    store.fail_next(3, true);
    publish_with_retry(&transport, &RetryPolicy::new(3))
      .await
      .unwrap();
    assert_eq!(store.attempts(), 4);
    assert_eq!(store.documents().len(), 1);

    store.fail_next(4, true);
    let err = publish_with_retry(&transport, &RetryPolicy::new(3))
      .await
      .unwrap_err();
    assert!(err.message.contains("after 3 retries"), "{}", err.message);
    assert_eq!(store.attempts(), 8);
  }

  #[tokio::test(start_paused = true)]
  async fn permanent_failures_are_not_retried() {
    let store = Arc::new(MockStore::new(3));
    let transport = MockTransport::new(Arc::clone(&store));
    store.fail_next(1, false);
    let err = publish_with_retry(&transport, &RetryPolicy::new(3))
      .await
      .unwrap_err();
    assert!(!err.retryable);
    assert_eq!(store.attempts(), 1);
  }
}
