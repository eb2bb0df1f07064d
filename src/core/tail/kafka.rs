//! Reading a Kafka topic with the transport's own librdkafka settings (SASL, TLS, ...). Every
//! partition the topic has when the tail opens is *assigned* (no consumer group rebalancing, no
//! committed offsets: a tail leaves no trace in the cluster) at its current end, so exactly what
//! is produced after `open` is read, or at its beginning with `from_beginning`. Partitions added
//! later are not followed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::{Receive, TailOptions};
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::transport::KafkaConfig;

/// How long the metadata and watermark requests of `open` may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of the producer config that mean nothing to a consumer; librdkafka would warn about
/// each of them.
const PRODUCER_ONLY: &[&str] = &[
  "enable.idempotence",
  "compression.type",
  "compression.codec",
  "message.timeout.ms",
  "delivery.timeout.ms",
  "acks",
  "request.required.acks",
  "linger.ms",
  "queue.buffering.max.ms",
  "queue.buffering.max.messages",
  "queue.buffering.max.kbytes",
  "batch.num.messages",
  "batch.size",
  "retries",
  "message.send.max.retries",
  "transactional.id",
];

/// A consumer of one topic's partitions.
pub struct KafkaTail {
  consumer: Arc<StreamConsumer>,
}

impl KafkaTail {
  /// Creates the consumer and assigns every partition of the topic at its end (or beginning).
  pub async fn open(config: &KafkaConfig, options: TailOptions) -> Result<Self> {
    let mut client = ClientConfig::new();
    for (key, value) in &config.settings {
      if !PRODUCER_ONLY.contains(&key.as_str()) {
        client.set(key, value);
      }
    }
    // librdkafka wants a group id for a consumer even when nothing is committed; a fresh one
    // per tail, so two tails never share anything.
    client
      .set(
        "group.id",
        format!("scouter-queue-tail-{}", uuid::Uuid::now_v7()),
      )
      .set("enable.auto.commit", "false")
      .set("enable.auto.offset.store", "false");
    let consumer: StreamConsumer = client
      .create()
      .map_err(|err| QueueError::Config(format!("cannot create a Kafka consumer: {err}")))?;
    let consumer = Arc::new(consumer);
    let topic = config.topic.clone();
    let assigning = Arc::clone(&consumer);
    // Metadata and watermarks are blocking librdkafka calls.
    tokio::task::spawn_blocking(move || assign(&assigning, &topic, options.from_beginning))
      .await
      .map_err(|err| QueueError::Internal(format!("the Kafka assignment task failed: {err}")))??;
    Ok(KafkaTail { consumer })
  }
}

/// Assigns every partition of `topic`, at its high watermark (or its beginning).
fn assign(consumer: &StreamConsumer, topic: &str, from_beginning: bool) -> Result<()> {
  let unreachable =
    |err: KafkaError| QueueError::Transport(TransportError::retryable("kafka", err.to_string()));
  let metadata = consumer
    .fetch_metadata(Some(topic), OPEN_TIMEOUT)
    .map_err(|err| {
      QueueError::Transport(TransportError::retryable(
        "kafka",
        format!("cannot read the metadata of topic `{topic}`: {err}"),
      ))
    })?;
  let partitions: Vec<i32> = metadata
    .topics()
    .iter()
    .filter(|t| t.name() == topic && t.error().is_none())
    .flat_map(|t| t.partitions().iter().map(|p| p.id()))
    .collect();
  if partitions.is_empty() {
    return Err(QueueError::Config(format!(
      "Kafka topic `{topic}` does not exist (or has no partitions)"
    )));
  }
  let mut assignment = TopicPartitionList::new();
  for partition in partitions {
    let offset = if from_beginning {
      Offset::Beginning
    } else {
      let (_low, high) = consumer
        .fetch_watermarks(topic, partition, OPEN_TIMEOUT)
        .map_err(unreachable)?;
      Offset::Offset(high)
    };
    assignment
      .add_partition_offset(topic, partition, offset)
      .map_err(unreachable)?;
  }
  consumer.assign(&assignment).map_err(unreachable)
}

#[async_trait]
impl Receive for KafkaTail {
  async fn receive(&mut self, wait: Duration) -> Result<Option<Vec<u8>>, TransportError> {
    match tokio::time::timeout(wait, self.consumer.recv()).await {
      Err(_elapsed) => Ok(None),
      Ok(Err(err)) => Err(TransportError::retryable("kafka", err.to_string())),
      Ok(Ok(message)) => Ok(Some(message.payload().unwrap_or_default().to_vec())),
    }
  }

  async fn close(&mut self) {
    // Dropping the consumer closes it; unassign first so that no fetch is under way.
    let _ = self.consumer.unassign();
  }
}

#[cfg(test)]
mod tests {
  use std::collections::BTreeMap;

  use rdkafka::mocking::MockCluster;
  use rdkafka::producer::{BaseProducer, BaseRecord, DefaultProducerContext, Producer};

  use super::*;
  use crate::core::tail::{Batched, Tail, MAX_BATCH};

  fn config(bootstrap: &str, topic: &str) -> KafkaConfig {
    let settings: BTreeMap<String, String> = [
      ("bootstrap.servers", bootstrap),
      ("enable.idempotence", "true"),
      ("compression.type", "gzip"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    KafkaConfig {
      topic: topic.into(),
      settings,
      max_retries: 3,
    }
  }

  fn produce(cluster: &MockCluster<'static, DefaultProducerContext>, values: &[&str]) {
    let producer: BaseProducer = ClientConfig::new()
      .set("bootstrap.servers", cluster.bootstrap_servers())
      .create()
      .unwrap();
    for value in values {
      producer
        .send(BaseRecord::<(), str>::to("docs").payload(value))
        .unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();
  }

  async fn read(tail: &mut Batched<KafkaTail>, count: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < count {
      let batch = tail.next(Duration::from_secs(10), MAX_BATCH).await.unwrap();
      assert!(!batch.is_empty(), "timed out after {out:?}");
      out.extend(batch.into_iter().map(|b| String::from_utf8(b).unwrap()));
    }
    out
  }

  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn reads_from_the_end_or_the_beginning() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("docs", 2, 1).unwrap();
    produce(&cluster, &["old-1", "old-2"]);
    let config = config(&cluster.bootstrap_servers(), "docs");

    let mut latest = Batched::new(
      KafkaTail::open(&config, TailOptions::default())
        .await
        .unwrap(),
    );
    produce(&cluster, &["new"]);
    assert_eq!(read(&mut latest, 1).await, ["new"]);
    assert!(latest
      .next(Duration::from_millis(300), MAX_BATCH)
      .await
      .unwrap()
      .is_empty());
    latest.close().await;

    let mut all = Batched::new(
      KafkaTail::open(
        &config,
        TailOptions {
          from_beginning: true,
        },
      )
      .await
      .unwrap(),
    );
    let mut got = read(&mut all, 3).await;
    got.sort();
    assert_eq!(got, ["new", "old-1", "old-2"]);
    all.close().await;
  }

  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn a_missing_topic_is_named() {
    let cluster = MockCluster::new(1).unwrap();
    let config = config(&cluster.bootstrap_servers(), "absent");
    let error = KafkaTail::open(&config, TailOptions::default())
      .await
      .err()
      .unwrap();
    assert!(
      error.to_string().contains("`absent` does not exist"),
      "{error}"
    );
  }
}
