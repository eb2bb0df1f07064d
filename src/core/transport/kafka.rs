//! Kafka through librdkafka (`rdkafka`, built from source and linked statically). The document
//! is the message value, with no key. A publish is handed to librdkafka's queue at once (so a
//! queue's documents keep their order) and done on its delivery report. Producer defaults that
//! neither lose nor duplicate: `enable.idempotence=true` (hence `acks=all`). librdkafka reconnects
//! by itself; its client-level errors (all brokers down, ...) are reported, throttled.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer, PurgeConfig};
use rdkafka::util::Timeout;
use rdkafka::ClientContext;

use super::dispatcher::settled;
use super::{Confirmation, Transport, TransportEvents};
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::record::Document;

/// Resolved options of the Kafka transport.
#[derive(Clone, PartialEq)]
pub struct KafkaConfig {
  pub topic: String,
  /// The complete librdkafka configuration: defaults, then the user's `config`, then the named
  /// options (brokers, compression, time-outs, SASL), already merged by the options layer.
  pub settings: BTreeMap<String, String>,
  pub max_retries: u32,
}

impl std::fmt::Debug for KafkaConfig {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    let settings: BTreeMap<&str, &str> = self
      .settings
      .iter()
      .map(|(k, v)| {
        (
          k.as_str(),
          if is_secret(k) {
            "[redacted]"
          } else {
            v.as_str()
          },
        )
      })
      .collect();
    f.debug_struct("KafkaConfig")
      .field("topic", &self.topic)
      .field("settings", &settings)
      .field("max_retries", &self.max_retries)
      .finish()
  }
}

/// librdkafka settings whose value must never be printed.
fn is_secret(key: &str) -> bool {
  key.contains("password")
    || key.contains("secret")
    || key.ends_with(".key")
    || key.contains("token")
}

/// Reports librdkafka's client-level errors, at most one every few seconds.
struct ReportingContext {
  events: TransportEvents,
  last: Mutex<Option<Instant>>,
  /// Set by `close`: a client being destroyed reports nothing more.
  closed: Arc<AtomicBool>,
}

impl ClientContext for ReportingContext {
  fn error(&self, error: KafkaError, reason: &str) {
    if self.closed.load(Ordering::Acquire) {
      return;
    }
    let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
    if last.is_some_and(|at| at.elapsed() < Duration::from_secs(5)) {
      return;
    }
    *last = Some(Instant::now());
    self.events.report(TransportError::retryable(
      "kafka",
      format!("{error}: {reason}"),
    ));
  }
}

/// Produces documents to one topic.
pub struct KafkaTransport {
  /// `None` after `close`: dropping the producer destroys the librdkafka client, its threads and
  /// connections, so a shut-down queue reports nothing more.
  producer: Mutex<Option<FutureProducer<ReportingContext>>>,
  topic: String,
  /// Shared with the client's `ReportingContext`.
  closed: Arc<AtomicBool>,
}

impl KafkaTransport {
  /// Creates the producer. librdkafka connects in the background; see [`Transport::ready`].
  pub fn connect(config: &KafkaConfig, events: TransportEvents) -> Result<Self> {
    let mut client = ClientConfig::new();
    for (key, value) in &config.settings {
      client.set(key, value);
    }
    let closed = Arc::new(AtomicBool::new(false));
    let producer = client
      .create_with_context(ReportingContext {
        events,
        last: Mutex::new(None),
        closed: Arc::clone(&closed),
      })
      .map_err(|err| QueueError::Config(format!("Kafka producer: {err}")))?;
    Ok(KafkaTransport {
      producer: Mutex::new(Some(producer)),
      topic: config.topic.clone(),
      closed,
    })
  }

  fn producer(&self) -> Option<FutureProducer<ReportingContext>> {
    self
      .producer
      .lock()
      .unwrap_or_else(|p| p.into_inner())
      .clone()
  }
}

fn closed() -> TransportError {
  TransportError::permanent("kafka", "the transport is closed")
}

/// Whether a failed delivery may succeed when produced again.
fn classify(error: KafkaError) -> TransportError {
  let permanent = matches!(
    error.rdkafka_error_code(),
    Some(
      RDKafkaErrorCode::MessageSizeTooLarge
        | RDKafkaErrorCode::InvalidMessageSize
        | RDKafkaErrorCode::TopicAuthorizationFailed
        | RDKafkaErrorCode::InvalidTopic
        | RDKafkaErrorCode::UnknownTopic
    )
  );
  let message = error.to_string();
  if permanent {
    TransportError::permanent("kafka", message)
  } else {
    TransportError::retryable("kafka", message)
  }
}

#[async_trait]
impl Transport for KafkaTransport {
  fn name(&self) -> &'static str {
    "kafka"
  }

  fn publish(&self, document: Arc<Document>) -> Confirmation {
    let Some(producer) = self.producer() else {
      return settled(Err(closed()));
    };
    // librdkafka copies the payload, so the borrow ends with this call.
    let record: FutureRecord<'_, (), [u8]> = FutureRecord::to(&self.topic).payload(&document.json);
    match producer.send_result(record) {
      Ok(delivery) => Box::pin(async move {
        match delivery.await {
          Ok(Ok(_)) => Ok(()),
          Ok(Err((error, _message))) => Err(classify(error)),
          Err(_canceled) => Err(TransportError::retryable(
            "kafka",
            "the producer dropped the delivery report",
          )),
        }
      }),
      Err((error, _record)) => settled(Err(classify(error))),
    }
  }

  async fn ready(&self, timeout: Duration) -> Result<(), TransportError> {
    let producer = self.producer().ok_or_else(closed)?;
    let topic = self.topic.clone();
    tokio::task::spawn_blocking(move || {
      producer
        .client()
        .fetch_metadata(Some(&topic), Timeout::After(timeout))
        .map(|_| ())
        .map_err(|err| {
          TransportError::retryable("kafka", format!("no answer from the brokers: {err}"))
        })
    })
    .await
    .map_err(|err| TransportError::retryable("kafka", err.to_string()))?
  }

  async fn close(&self) -> Result<(), TransportError> {
    let Some(producer) = self
      .producer
      .lock()
      .unwrap_or_else(|p| p.into_inner())
      .take()
    else {
      return Ok(());
    };
    // Every document has settled by now: confirmed, or counted as failed after its retries or at
    // a shutdown deadline. Purging drops what librdkafka still holds of the latter, so nothing
    // counted as failed is delivered later, and no dead broker is waited for.
    self.closed.store(true, Ordering::Release);
    producer.purge(PurgeConfig::default().queue().inflight().non_blocking());
    // Destroying the client joins rdkafka's polling thread, which polls in 100 ms steps; nothing
    // is left to deliver, so shutdown does not wait for that: it happens on a blocking thread.
    drop(tokio::task::spawn_blocking(move || drop(producer)));
    Ok(())
  }
}
