//! Where documents go. Every transport implements one trait. `publish` hands a document over
//! *before it returns* (so the documents of one queue leave in the order they were made, even
//! with several in flight) and gives back a future that resolves when the destination confirmed
//! it (a written line, a delivery report, a broker ack, a 2xx), so queues never guess with
//! sleeps. Retries, backoff and accounting live in the queue, not here: a transport only says
//! whether a failure is worth retrying.
//!
//! The queues publish through a [`Chain`] of one or more transports (a list of configs is a
//! failover chain), each behind a [`CircuitBreaker`].

mod bearer_token;
mod breaker;
mod chain;
mod dispatcher;
mod file;
mod grpc;
mod http;
mod kafka;
mod mock;
mod rabbitmq;
mod redis;

pub use breaker::{BreakerOptions, BreakerState, CircuitBreaker};
pub use chain::{
  Chain, ChainEvent, ConnectionChange, Delivery, MemberState, Outcome, StateChange, StateSink,
};
pub use file::{FileConfig, FileTransport};
pub use grpc::{GrpcConfig, GrpcTransport};
pub use http::{HttpConfig, HttpTransport};
pub use kafka::{KafkaConfig, KafkaTransport};
pub use mock::{MockStore, MockTransport};
pub(crate) use rabbitmq::open_queue_channel;
pub use rabbitmq::{RabbitMqConfig, RabbitMqTransport};
pub use redis::{RedisConfig, RedisTransport};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::core::error::{QueueError, Result, TransportError};
use crate::core::wire::Document;

pub use crate::core::secrets::redact_url;

/// A destination for documents, shared by every queue of a `ScouterQueue`.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
  /// Short name for errors and logs (`"kafka"`, `"file"`).
  fn name(&self) -> &'static str;

  /// Hands `document` over now and returns the wait for its confirmation.
  fn publish(&self, document: Arc<Document>) -> Confirmation;

  /// Resolves once the destination answers (a broker's metadata, a login), within `timeout`.
  /// Used only when the caller asked to fail fast (`connectTimeoutMs`).
  async fn ready(&self, _timeout: Duration) -> Result<(), TransportError> {
    Ok(())
  }

  /// Makes everything published so far durable (the File transport syncs to disk).
  async fn flush(&self) -> Result<(), TransportError> {
    Ok(())
  }

  /// Releases connections and handles; called once, after the last publish.
  async fn close(&self) -> Result<(), TransportError> {
    Ok(())
  }
}

/// The wait for one document's confirmation.
pub type Confirmation = Pin<Box<dyn Future<Output = Result<(), TransportError>> + Send + 'static>>;

/// Where a transport reports failures that belong to no publish (a broker that went away).
#[derive(Clone)]
pub struct TransportEvents(Arc<dyn Fn(TransportError) + Send + Sync>);

impl TransportEvents {
  pub fn new(report: impl Fn(TransportError) + Send + Sync + 'static) -> Self {
    TransportEvents(Arc::new(report))
  }

  pub fn report(&self, error: TransportError) {
    (self.0)(error)
  }
}

/// Which transport to use, with its options already resolved (option, then env var, then
/// default: that resolution happens once, in the TypeScript config layer).
#[derive(Debug, Clone)]
pub enum TransportConfig {
  Mock(Arc<MockStore>),
  File(FileConfig),
  Kafka(KafkaConfig),
  RabbitMq(RabbitMqConfig),
  Redis(RedisConfig),
  Http(HttpConfig),
  Grpc(GrpcConfig),
}

impl TransportConfig {
  /// How many times a failed publish is retried after the first attempt.
  pub fn max_retries(&self) -> u32 {
    match self {
      TransportConfig::Mock(store) => store.max_retries(),
      TransportConfig::File(config) => config.max_retries,
      TransportConfig::Kafka(config) => config.max_retries,
      TransportConfig::RabbitMq(config) => config.max_retries,
      TransportConfig::Redis(config) => config.max_retries,
      TransportConfig::Http(config) => config.max_retries,
      TransportConfig::Grpc(config) => config.max_retries,
    }
  }

  /// Opens the transport. Network transports connect in the background (and reconnect by
  /// themselves); `events` hears about failures that belong to no publish.
  pub async fn connect(&self, events: TransportEvents) -> Result<Arc<dyn Transport>> {
    Ok(match self {
      TransportConfig::Mock(store) => Arc::new(MockTransport::new(Arc::clone(store))),
      TransportConfig::File(config) => Arc::new(FileTransport::open(config)?),
      TransportConfig::Kafka(config) => Arc::new(KafkaTransport::connect(config, events)?),
      TransportConfig::RabbitMq(config) => Arc::new(RabbitMqTransport::connect(config)),
      TransportConfig::Redis(config) => Arc::new(RedisTransport::connect(config)?),
      TransportConfig::Http(config) => Arc::new(HttpTransport::connect(config)?),
      TransportConfig::Grpc(config) => Arc::new(GrpcTransport::connect(config)?),
    })
  }
}

/// Checks a connection when the caller asked to fail fast.
pub async fn check_ready(transport: &dyn Transport, timeout: Duration) -> Result<()> {
  transport.ready(timeout).await.map_err(|error| {
    QueueError::Config(format!(
      "could not connect the {} transport within {} ms: {}",
      transport.name(),
      timeout.as_millis(),
      error.message
    ))
  })
}
