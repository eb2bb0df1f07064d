//! Redis: `PUBLISH channel document`, at-most-once by Redis's own contract; done when the server
//! replies. A `ConnectionManager` reconnects by itself once connected; until a first connection
//! succeeds, each publish tries to connect, so a server that is down at start-up does not stop
//! the queues from starting.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::dispatcher::{settled, Dispatcher, HandOver};
use super::{Confirmation, Transport};
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::record::Document;

/// Resolved options of the Redis transport.
#[derive(Clone, PartialEq)]
pub struct RedisConfig {
  /// `redis://[user:password@]host:port[/db]`.
  pub address: String,
  pub channel: String,
  pub max_retries: u32,
}

impl std::fmt::Debug for RedisConfig {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("RedisConfig")
      .field("address", &super::redact_url(&self.address))
      .field("channel", &self.channel)
      .finish()
  }
}

/// Publishes documents to one channel.
pub struct RedisTransport {
  dispatcher: Dispatcher,
  connection: Publisher,
}

/// The connection, made on first use; shared by the dispatcher and `ready`.
#[derive(Clone)]
struct Publisher {
  client: redis::Client,
  address: String,
  channel: String,
  manager: Arc<tokio::sync::Mutex<Option<ConnectionManager>>>,
}

impl Publisher {
  async fn manager(&self) -> Result<ConnectionManager, TransportError> {
    let mut slot = self.manager.lock().await;
    if let Some(manager) = &*slot {
      return Ok(manager.clone());
    }
    // One attempt per call: the queue's retry policy owns backoff, so the two do not multiply.
    let config = ConnectionManagerConfig::new()
      .set_number_of_retries(1)
      .set_max_delay(Duration::from_millis(500))
      .set_connection_timeout(Some(Duration::from_secs(5)))
      .set_response_timeout(Some(Duration::from_secs(10)));
    let manager = ConnectionManager::new_with_config(self.client.clone(), config)
      .await
      .map_err(|err| {
        TransportError::retryable(
          "redis",
          format!(
            "cannot connect to {}: {err}",
            super::redact_url(&self.address)
          ),
        )
      })?;
    *slot = Some(manager.clone());
    Ok(manager)
  }
}

impl HandOver for Publisher {
  async fn hand_over(&mut self, document: Arc<Document>) -> Confirmation {
    let result = async {
      let mut manager = self.manager().await?;
      redis::cmd("PUBLISH")
        .arg(&self.channel)
        .arg(&document.json[..])
        .query_async::<i64>(&mut manager)
        .await
        .map(|_receivers| ())
        .map_err(|err| TransportError::retryable("redis", format!("PUBLISH: {err}")))
    }
    .await;
    settled(result)
  }
}

impl RedisTransport {
  /// Parses the address and starts the publisher task; connects on first use.
  pub fn connect(config: &RedisConfig) -> Result<Self> {
    let client = redis::Client::open(config.address.as_str()).map_err(|err| {
      QueueError::Config(format!(
        "Redis address {}: {err}",
        super::redact_url(&config.address)
      ))
    })?;
    let connection = Publisher {
      client,
      address: config.address.clone(),
      channel: config.channel.clone(),
      manager: Arc::default(),
    };
    Ok(RedisTransport {
      dispatcher: Dispatcher::start("redis", connection.clone()),
      connection,
    })
  }
}

#[async_trait]
impl Transport for RedisTransport {
  fn name(&self) -> &'static str {
    "redis"
  }

  fn publish(&self, document: Arc<Document>) -> Confirmation {
    self.dispatcher.publish(document)
  }

  async fn ready(&self, timeout: Duration) -> Result<(), TransportError> {
    tokio::time::timeout(timeout, self.connection.manager())
      .await
      .map_err(|_| TransportError::retryable("redis", "no connection within the connect time-out"))?
      .map(|_| ())
  }

  async fn close(&self) -> Result<(), TransportError> {
    self.dispatcher.close();
    // The dispatcher's copy goes with its task; this drops the last other handle.
    self.connection.manager.lock().await.take();
    Ok(())
  }
}
