//! Reading documents back from a transport, for the command line's `tail`: the consumers of
//! the destinations that [`crate::core::transport`] publishes to. They live in the core (not in
//! JavaScript) so that the very same transport config applies (librdkafka settings such as SASL,
//! the AMQP URI, the Redis address) and users need no extra client library.
//!
//! - [`kafka`]: partitions assigned at their end (or beginning), no consumer group commits.
//! - [`rabbitmq`]: consumes (and acknowledges, hence removes) the queue's messages.
//! - [`redis`]: `SUBSCRIBE channel`.
//! - [`file`]: follows the JSON-lines file as it grows.

mod file;
mod kafka;
mod rabbitmq;
mod redis;

use std::time::Duration;

use async_trait::async_trait;

use crate::core::error::{QueueError, Result, TransportError};
use crate::core::transport::TransportConfig;

pub use file::FileTail;

/// Documents handed out by one [`Tail::next`] at most, so that a backlog reaches the caller in
/// pieces it can print while more arrive.
pub const MAX_BATCH: usize = 256;

/// `max` within `1..=MAX_BATCH`.
fn batch_limit(max: usize) -> usize {
  max.clamp(1, MAX_BATCH)
}

/// How a tail starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TailOptions {
  /// Kafka: every partition from its first offset; File: the lines already in the file first.
  /// Without it only documents that arrive after `open` are read. RabbitMQ always delivers what
  /// the queue holds and Redis never keeps anything, so neither looks at it.
  pub from_beginning: bool,
}

/// A consumer of one transport's documents.
#[async_trait]
pub trait Tail: Send {
  /// The documents that arrived (each the exact bytes that were published), waiting up to
  /// `wait` for the first one; empty when none came in time. At most `max` (at least one, and
  /// never more than [`MAX_BATCH`]): a consumer that takes messages away (RabbitMQ) takes no more
  /// than the caller will use.
  async fn next(&mut self, wait: Duration, max: usize) -> Result<Vec<Vec<u8>>, TransportError>;

  /// Stops consuming and releases the connection. Called once.
  async fn close(&mut self);
}

/// One message at a time: what each broker's consumer implements; [`Batched`] makes it a
/// [`Tail`].
#[async_trait]
trait Receive: Send {
  /// The next message's payload, waiting up to `wait` for it; `None` when none came.
  async fn receive(&mut self, wait: Duration) -> Result<Option<Vec<u8>>, TransportError>;

  /// Stops consuming and releases the connection.
  async fn close(&mut self);
}

/// A [`Receive`] as a [`Tail`]: waits for a first message, then takes what is ready without
/// waiting, up to the batch limit. A failure after some messages were taken is kept for the next
/// call, so that what was taken (for RabbitMQ: acknowledged, hence gone from the queue) is handed
/// out first and never lost.
struct Batched<R> {
  receiver: R,
  deferred: Option<TransportError>,
}

impl<R> Batched<R> {
  fn new(receiver: R) -> Self {
    Batched {
      receiver,
      deferred: None,
    }
  }
}

#[async_trait]
impl<R: Receive> Tail for Batched<R> {
  async fn next(&mut self, wait: Duration, max: usize) -> Result<Vec<Vec<u8>>, TransportError> {
    if let Some(error) = self.deferred.take() {
      return Err(error);
    }
    let Some(first) = self.receiver.receive(wait).await? else {
      return Ok(Vec::new());
    };
    let mut documents = vec![first];
    while documents.len() < batch_limit(max) {
      match self.receiver.receive(Duration::ZERO).await {
        Ok(Some(document)) => documents.push(document),
        Ok(None) => break,
        Err(error) => {
          self.deferred = Some(error);
          break;
        }
      }
    }
    Ok(documents)
  }

  async fn close(&mut self) {
    self.receiver.close().await
  }
}

/// Opens a consumer of the destination `config` publishes to. Resolves once it is in place:
/// whatever is published after that is read.
pub async fn open(config: &TransportConfig, options: TailOptions) -> Result<Box<dyn Tail>> {
  Ok(match config {
    TransportConfig::Kafka(config) => {
      Box::new(Batched::new(kafka::KafkaTail::open(config, options).await?))
    }
    TransportConfig::RabbitMq(config) => {
      Box::new(Batched::new(rabbitmq::RabbitMqTail::open(config).await?))
    }
    TransportConfig::Redis(config) => Box::new(Batched::new(redis::RedisTail::open(config).await?)),
    TransportConfig::File(config) => Box::new(FileTail::open(&config.path, options)?),
    other => {
      return Err(QueueError::Config(format!(
        "cannot tail the {} transport: only kafka, rabbitmq, redis and file can be read back",
        transport_name(other)
      )))
    }
  })
}

fn transport_name(config: &TransportConfig) -> &'static str {
  match config {
    TransportConfig::Mock(_) => "mock",
    TransportConfig::File(_) => "file",
    TransportConfig::Kafka(_) => "kafka",
    TransportConfig::RabbitMq(_) => "rabbitmq",
    TransportConfig::Redis(_) => "redis",
    TransportConfig::Http(_) => "http",
    TransportConfig::Grpc(_) => "grpc",
  }
}

#[cfg(test)]
mod tests {
  use std::collections::VecDeque;

  use super::*;

  /// A receiver that plays back a script of outcomes, then has nothing.
  struct Scripted(VecDeque<Result<Option<Vec<u8>>, TransportError>>);

  #[async_trait]
  impl Receive for Scripted {
    async fn receive(&mut self, _wait: Duration) -> Result<Option<Vec<u8>>, TransportError> {
      self.0.pop_front().unwrap_or(Ok(None))
    }

    async fn close(&mut self) {}
  }

  fn message(text: &str) -> Result<Option<Vec<u8>>, TransportError> {
    Ok(Some(text.as_bytes().to_vec()))
  }

  #[tokio::test]
  async fn batches_stop_at_max_and_a_failure_waits_for_the_next_call() {
    let lost = TransportError::permanent("test", "gone");
    let script = vec![
      message("a"),
      message("b"),
      message("c"),
      Err(lost.clone()),
      message("d"),
    ];
    let mut tail = Batched::new(Scripted(script.into()));
    let wait = Duration::ZERO;
    assert_eq!(tail.next(wait, 2).await.unwrap(), [b"a", b"b"]);
    assert_eq!(tail.next(wait, 0).await.unwrap(), [b"c"]);
    assert_eq!(tail.next(wait, 10).await.unwrap_err(), lost);
    assert_eq!(tail.next(wait, 10).await.unwrap(), [b"d"]);
    assert!(tail.next(wait, 10).await.unwrap().is_empty());
  }
}
