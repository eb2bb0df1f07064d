//! Kafka through librdkafka (`rdkafka`, built from source and linked statically). The document
//! is the message value, with no key. A publish is handed to librdkafka's queue at once (so a
//! queue's documents keep their order) and done on its delivery report. Producer defaults that
//! neither lose nor duplicate: `enable.idempotence=true` (hence `acks=all`). librdkafka reconnects
//! by itself; its client-level errors (all brokers down, ...) are reported, throttled.
//!
//! Idempotence only covers librdkafka's own retries. A document whose delivery failed after it
//! may have been written (its request timed out, then `message.timeout.ms` ran out) would be
//! duplicated if the queue produced it again, so such a failure is reported as not retryable;
//! only failures of documents librdkafka knows were not written are retried.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::bindings::rd_kafka_msg_status_t as MessageStatus;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::{
  BaseRecord, DeliveryResult, Producer, ProducerContext, PurgeConfig, ThreadedProducer,
};
use rdkafka::util::Timeout;
use rdkafka::ClientContext;
use tokio::sync::oneshot;

use super::dispatcher::settled;
use super::{Confirmation, Transport, TransportEvents};
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::wire::Document;

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
          if crate::core::secrets::is_secret_key(k) {
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

/// The producer's context: reports librdkafka's client-level errors, at most one every few
/// seconds, and hands each delivery report to the publish waiting for it.
struct KafkaContext {
  events: TransportEvents,
  last: Mutex<Option<Instant>>,
  /// Set by `close`: a client being destroyed reports nothing more.
  closed: Arc<AtomicBool>,
}

impl ClientContext for KafkaContext {
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

/// Where one document's delivery report goes: the message's opaque.
type Delivered = Box<oneshot::Sender<Result<(), TransportError>>>;

impl ProducerContext for KafkaContext {
  type DeliveryOpaque = Delivered;

  /// Runs on the producer's polling thread; only classifies and sends.
  fn delivery(&self, result: &DeliveryResult<'_>, delivered: Delivered) {
    let outcome = match result {
      Ok(_) => Ok(()),
      Err((error, message)) => Err(classify_delivery(error.clone(), may_be_stored(message))),
    };
    // The publish may have been given up (a flush deadline); then nobody needs to know.
    let _ = delivered.send(outcome);
  }
}

/// Whether librdkafka says the failed `message` may be in the topic after all.
fn may_be_stored(message: &BorrowedMessage<'_>) -> bool {
  // SAFETY: `message.ptr()` is the live `rd_kafka_message_t` of this delivery report (it is
  // borrowed for the duration of the callback), which is all `rd_kafka_message_status` reads.
  let status = unsafe { rdkafka::bindings::rd_kafka_message_status(message.ptr()) };
  status != MessageStatus::RD_KAFKA_MSG_STATUS_NOT_PERSISTED
}

/// Produces documents to one topic.
pub struct KafkaTransport {
  /// `None` after `close`: dropping the producer destroys the librdkafka client, its threads and
  /// connections, so a shut-down queue reports nothing more.
  producer: Mutex<Option<ThreadedProducer<KafkaContext>>>,
  topic: String,
  /// Shared with the client's `KafkaContext`.
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
      .create_with_context(KafkaContext {
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

  fn producer(&self) -> Option<ThreadedProducer<KafkaContext>> {
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

/// Whether a failed produce may succeed when produced again.
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

/// A failed delivery report. Producing again a message that may already be in the topic could
/// duplicate it (idempotence covers librdkafka's own retries, not a new message), so that
/// failure is not retryable, whatever its cause.
fn classify_delivery(error: KafkaError, may_be_stored: bool) -> TransportError {
  let mut error = classify(error);
  if may_be_stored && error.retryable {
    error.retryable = false;
    error.in_doubt = true;
    error.message.push_str(
      " (the message may have been written, so it is not produced again: that could duplicate it)",
    );
  }
  error
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
    let (delivered, report) = oneshot::channel();
    // librdkafka copies the payload, so the borrow ends with this call.
    let record: BaseRecord<'_, (), [u8], Delivered> =
      BaseRecord::with_opaque_to(&self.topic, Box::new(delivered)).payload(&document.json);
    match producer.send(record) {
      Ok(()) => Box::pin(async move {
        report.await.unwrap_or_else(|_| {
          Err(TransportError::retryable(
            "kafka",
            "the producer dropped the delivery report",
          ))
        })
      }),
      // Not enqueued (a full queue, a message too large): nothing was written.
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

#[cfg(test)]
mod tests {
  //! Fault tests against librdkafka's mock cluster (no broker needed).
  //!
  //! One limit of the mock shapes them: it checks idempotent sequence numbers only for
  //! transactional producers (`rd_kafka_mock_validate_records` returns early without a
  //! `transactional.id`). So when a fault loses the answer to a batch the leader already
  //! appended (a dropped connection, a request that timed out), librdkafka's own retry of that
  //! batch is appended again, where a real broker would drop it by its sequence number. To tell
  //! those apart from duplicates this code would cause, every publish attempt is tagged with its
  //! number: two copies of one attempt are the mock's; two attempts of one document in the topic
  //! would be ours (the queue producing again a document that was written).

  use super::*;
  use crate::core::profile::DriftKind;
  use crate::core::retry::{confirm_with_retry, RetryPolicy};
  use rdkafka::consumer::{BaseConsumer, Consumer};
  use rdkafka::mocking::MockCluster;
  use rdkafka::producer::DefaultProducerContext;
  use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
  use rdkafka::{Message, Offset, TopicPartitionList};
  use std::collections::HashMap;

  const TOPIC: &str = "scouter_monitoring";

  /// Document `id`, as attempt number `attempt`.
  fn doc(id: usize, attempt: usize) -> Arc<Document> {
    Arc::new(Document {
      format: crate::core::wire::WireFormat::V0_9,
      kind: DriftKind::Custom,
      record_count: 1,
      json: format!("{{\"records\":[{{\"id\":{id},\"attempt\":{attempt}}}]}}").into_bytes(),
    })
  }

  /// `(id, attempt)` of a document made by `doc`.
  fn parse(json: &[u8]) -> (usize, usize) {
    let value: serde_json::Value = serde_json::from_slice(json).unwrap();
    let record = &value["records"][0];
    let number = |key: &str| record[key].as_u64().unwrap() as usize;
    (number("id"), number("attempt"))
  }

  /// The Kafka transport with each publish tagged with its attempt number (1, then 2, 3 for
  /// the queue's retries).
  struct Tagged {
    kafka: KafkaTransport,
    attempts: Mutex<HashMap<usize, usize>>,
  }

  #[async_trait]
  impl Transport for Tagged {
    fn name(&self) -> &'static str {
      "kafka"
    }

    fn publish(&self, document: Arc<Document>) -> Confirmation {
      let (id, _) = parse(&document.json);
      let attempt = {
        let mut attempts = self.attempts.lock().unwrap();
        let attempt = attempts.entry(id).or_insert(0);
        *attempt += 1;
        *attempt
      };
      self.kafka.publish(doc(id, attempt))
    }

    async fn close(&self) -> Result<(), TransportError> {
      self.kafka.close().await
    }
  }

  /// The producer settings the TypeScript layer makes by default, with time-outs scaled down so
  /// that the faults below resolve within seconds.
  fn settings(bootstrap: &str) -> BTreeMap<String, String> {
    [
      ("bootstrap.servers", bootstrap),
      ("enable.idempotence", "true"),
      ("compression.type", "gzip"),
      ("message.max.bytes", "2097164"),
      ("message.timeout.ms", "15000"),
      // The client-side time-out of produce requests (`request.timeout.ms` is the broker's):
      // shorter than the injected round-trip time, so those requests time out after the broker
      // appended their messages.
      ("socket.timeout.ms", "1000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
  }

  /// Every message of the topic, counted by `(id, attempt)`.
  fn consume_all(bootstrap: &str) -> HashMap<(usize, usize), usize> {
    let consumer: BaseConsumer = ClientConfig::new()
      .set("bootstrap.servers", bootstrap)
      .set("group.id", "scouter-queue-fault-test")
      .set("enable.auto.commit", "false")
      .create()
      .unwrap();
    let mut partitions = TopicPartitionList::new();
    partitions
      .add_partition_offset(TOPIC, 0, Offset::Beginning)
      .unwrap();
    consumer.assign(&partitions).unwrap();
    let (_low, high) = consumer
      .fetch_watermarks(TOPIC, 0, Duration::from_secs(10))
      .unwrap();
    let mut counts = HashMap::new();
    let mut next = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while next < high {
      assert!(Instant::now() < deadline, "consumed {next} of {high}");
      match consumer.poll(Duration::from_millis(500)) {
        Some(Ok(message)) => {
          next = message.offset() + 1;
          *counts.entry(parse(message.payload().unwrap())).or_insert(0) += 1;
        }
        Some(Err(error)) => panic!("consume: {error}"),
        None => {}
      }
    }
    counts
  }

  /// What a run under faults came to.
  struct Outcome {
    documents: usize,
    confirmed: Vec<usize>,
    failed: Vec<(usize, TransportError)>,
    /// The slowest confirmation: evidence that the faults held documents up.
    slowest: Duration,
    /// Messages in the topic by `(id, attempt)`.
    stored: HashMap<(usize, usize), usize>,
  }

  impl Outcome {
    /// Attempts of document `id` in the topic (each counted once).
    fn attempts_stored(&self, id: usize) -> usize {
      self
        .stored
        .keys()
        .filter(|(stored, _)| *stored == id)
        .count()
    }

    /// Confirmed documents that are not in the topic.
    fn lost(&self) -> Vec<usize> {
      let confirmed = self.confirmed.iter().copied();
      confirmed
        .filter(|&id| self.attempts_stored(id) == 0)
        .collect()
    }

    /// Documents in the topic from more than one publish: duplicates the queue made.
    fn produced_twice(&self) -> Vec<usize> {
      (0..self.documents)
        .filter(|&id| self.attempts_stored(id) > 1)
        .collect()
    }

    /// Copies of one attempt: librdkafka's retry of a batch the mock had appended.
    fn mock_copies(&self) -> usize {
      self.stored.values().map(|count| count - 1).sum()
    }

    fn report(&self, name: &str) {
      let failed_but_stored = self
        .failed
        .iter()
        .filter(|(id, _)| self.attempts_stored(*id) > 0);
      eprintln!(
        "{name}: {} documents, {} confirmed, {} failed ({} of those stored anyway), {} confirmed \
         but lost, {} produced twice, {} copies from librdkafka's retries that the mock does not \
         deduplicate, slowest confirmation {:?}; first failure: {:?}",
        self.documents,
        self.confirmed.len(),
        self.failed.len(),
        failed_but_stored.count(),
        self.lost().len(),
        self.produced_twice().len(),
        self.mock_copies(),
        self.slowest,
        self.failed.first().map(|(id, error)| (id, &error.message)),
      );
    }
  }

  type Fault = (
    u64,
    &'static dyn Fn(&MockCluster<'static, DefaultProducerContext>),
  );

  /// Produces `documents` documents through `KafkaTransport`, one every 5 ms, each confirmed
  /// with the queue's retry policy (3 retries), to a 3-broker mock cluster whose partition
  /// leader is broker 1, while `faults` (milliseconds from the start, fault) happen; then reads
  /// the topic back.
  async fn produce_under_faults(
    documents: usize,
    overrides: &[(&str, &str)],
    faults: &[Fault],
  ) -> Outcome {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic(TOPIC, 1, 3).unwrap();
    cluster.partition_leader(TOPIC, 0, Some(1)).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let mut settings = settings(&bootstrap);
    for (key, value) in overrides {
      settings.insert(key.to_string(), value.to_string());
    }
    let config = KafkaConfig {
      topic: TOPIC.into(),
      settings,
      max_retries: 3,
    };
    let transport = Arc::new(Tagged {
      kafka: KafkaTransport::connect(&config, TransportEvents::new(|_| {})).unwrap(),
      attempts: Mutex::default(),
    });
    let producing = {
      let transport = Arc::clone(&transport);
      tokio::spawn(async move {
        let policy = RetryPolicy::new(config.max_retries);
        let mut confirmations = tokio::task::JoinSet::new();
        for id in 0..documents {
          let document = doc(id, 0);
          let first = transport.publish(Arc::clone(&document));
          let transport = Arc::clone(&transport);
          confirmations.spawn(async move {
            let at = Instant::now();
            let result = confirm_with_retry(transport.as_ref(), &document, first, &policy).await;
            (id, result, at.elapsed())
          });
          tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut settled = Vec::new();
        while let Some(joined) = confirmations.join_next().await {
          settled.push(joined.unwrap());
        }
        settled
      })
    };
    // The mock cluster is not `Send`: the faults happen here, on the test's own task.
    let start = tokio::time::Instant::now();
    for (at_ms, fault) in faults {
      tokio::time::sleep_until(start + Duration::from_millis(*at_ms)).await;
      fault(&cluster);
    }
    let settled = producing.await.unwrap();
    transport.close().await.unwrap();
    let mut outcome = Outcome {
      documents,
      confirmed: Vec::new(),
      failed: Vec::new(),
      slowest: Duration::ZERO,
      stored: tokio::task::spawn_blocking(move || consume_all(&bootstrap))
        .await
        .unwrap(),
    };
    for (id, result, took) in settled {
      outcome.slowest = outcome.slowest.max(took);
      match result {
        Ok(()) => outcome.confirmed.push(id),
        Err(error) => outcome.failed.push((id, error)),
      }
    }
    outcome
  }

  /// Retriable produce errors and a dropped connection, produce requests that time out after
  /// the leader appended them, and the partition leader going down mid-stream.
  fn faults() -> Vec<Fault> {
    vec![
      // Not the leader, a broker-side time-out, too few replicas, a dropped connection.
      (300, &|cluster| {
        cluster.request_errors(
          RDKafkaApiKey::Produce,
          &[
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__TRANSPORT,
          ],
        )
      }),
      // For 2.5 s the leader appends what it gets but answers 2.5 s late, past the client's
      // request time-out: the client gives up on those requests and sends them again.
      (800, &|cluster| {
        cluster
          .broker_round_trip_time(1, Duration::from_millis(2500))
          .unwrap()
      }),
      (3300, &|cluster| {
        cluster.broker_round_trip_time(1, Duration::ZERO).unwrap()
      }),
      // The leader goes down; half a second later broker 2 leads; later broker 1 is back.
      (3600, &|cluster| cluster.broker_down(1).unwrap()),
      (4100, &|cluster| {
        cluster.partition_leader(TOPIC, 0, Some(2)).unwrap()
      }),
      (5000, &|cluster| cluster.broker_up(1).unwrap()),
    ]
  }

  /// With idempotence on (the TypeScript layer's default) and librdkafka given time to retry,
  /// every document is confirmed and in the topic, and none was produced twice.
  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn no_confirmed_document_is_lost_or_produced_twice_under_faults() {
    let outcome = produce_under_faults(1000, &[], &faults()).await;
    outcome.report("Kafka mock cluster under faults");
    assert!(
      outcome.lost().is_empty(),
      "confirmed, not stored: {:?}",
      outcome.lost()
    );
    assert!(
      outcome.produced_twice().is_empty(),
      "stored twice: {:?}",
      outcome.produced_twice()
    );
    assert!(
      outcome.slowest > Duration::from_secs(1),
      "the faults held documents up"
    );
    assert!(outcome.confirmed.len() > outcome.documents / 2);
  }

  /// When `message.timeout.ms` runs out while the slow leader holds written messages, their
  /// delivery fails as "possibly persisted". The queue's retry used to produce them again,
  /// which stored documents twice in every run; such failures are now not retried.
  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn documents_that_may_be_stored_are_not_produced_again() {
    let outcome = produce_under_faults(1000, &[("message.timeout.ms", "1500")], &faults()).await;
    outcome.report("Kafka mock cluster, message.timeout.ms 1.5 s");
    assert!(
      outcome.lost().is_empty(),
      "confirmed, not stored: {:?}",
      outcome.lost()
    );
    assert!(
      outcome.produced_twice().is_empty(),
      "stored twice: {:?}",
      outcome.produced_twice()
    );
    assert!(!outcome.failed.is_empty(), "some messages timed out");
    assert!(outcome.failed.iter().all(|(_, error)| !error.retryable));
    // ...and say so, so that a failover chain can count them in its at-least-once window.
    assert!(outcome.failed.iter().all(|(_, error)| error.in_doubt));
  }
}
