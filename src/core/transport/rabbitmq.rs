//! RabbitMQ through `lapin`: declare the queue (default options), then publish each document to
//! the default exchange with the queue's name as routing key, persistent (delivery mode 2) and
//! `mandatory`, on a channel in publisher-confirm mode. A publish is done on the broker's ack; a
//! nack or a message returned as unroutable is a failed publish. Flushing never closes the
//! channel (the original's defect). A lost connection is opened again on the next publish, and
//! what was unconfirmed fails retryably, so the queue's retry republishes it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{
  BasicProperties, Channel, Confirmation as AmqpConfirmation, Connection, ConnectionProperties,
};

use super::dispatcher::{settled, Dispatcher, HandOver};
use super::{Confirmation, Transport};
use crate::core::error::{Result, TransportError};
use crate::core::record::Document;

/// Resolved options of the RabbitMQ transport.
#[derive(Clone, PartialEq)]
pub struct RabbitMqConfig {
  /// `amqp://[user:pass@]host:port/%2f`.
  pub address: String,
  pub queue: String,
  pub max_retries: u32,
}

impl std::fmt::Debug for RabbitMqConfig {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("RabbitMqConfig")
      .field("address", &super::redact_url(&self.address))
      .field("queue", &self.queue)
      .finish()
  }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection and confirm-mode channel, opened on demand.
#[derive(Clone)]
struct Publisher {
  address: String,
  queue: String,
  open: Arc<tokio::sync::Mutex<Option<(Connection, Channel)>>>,
}

impl Publisher {
  /// The open channel, opening connection, channel and queue when needed.
  async fn channel(&self) -> Result<Channel, TransportError> {
    let mut open = self.open.lock().await;
    if let Some((connection, channel)) = &*open {
      if connection.status().connected() && channel.status().connected() {
        return Ok(channel.clone());
      }
    }
    *open = None;
    let fail = |what: &str, err: lapin::Error| {
      TransportError::retryable(
        "rabbitmq",
        format!("{what} {}: {err}", super::redact_url(&self.address)),
      )
    };
    let connection = tokio::time::timeout(
      CONNECT_TIMEOUT,
      Connection::connect(&self.address, ConnectionProperties::default()),
    )
    .await
    .map_err(|_| {
      TransportError::retryable(
        "rabbitmq",
        format!(
          "no connection to {} within 10 s",
          super::redact_url(&self.address)
        ),
      )
    })?
    .map_err(|err| fail("cannot connect to", err))?;
    let channel = connection
      .create_channel()
      .await
      .map_err(|err| fail("no channel on", err))?;
    channel
      .confirm_select(ConfirmSelectOptions::default())
      .await
      .map_err(|err| fail("no publisher confirms on", err))?;
    channel
      .queue_declare(
        self.queue.as_str().into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
      )
      .await
      .map_err(|err| fail(&format!("cannot declare queue `{}` on", self.queue), err))?;
    *open = Some((connection, channel.clone()));
    Ok(channel)
  }

  /// Forgets a channel that failed, so the next publish opens a new one.
  async fn forget(&self) {
    self.open.lock().await.take();
  }
}

impl HandOver for Publisher {
  async fn hand_over(&mut self, document: Arc<Document>) -> Confirmation {
    let channel = match self.channel().await {
      Ok(channel) => channel,
      Err(error) => return settled(Err(error)),
    };
    let published = channel
      .basic_publish(
        "".into(),
        self.queue.as_str().into(),
        BasicPublishOptions {
          mandatory: true,
          ..BasicPublishOptions::default()
        },
        &document.json,
        BasicProperties::default()
          .with_delivery_mode(2)
          .with_content_type("application/json".into()),
      )
      .await;
    let confirm = match published {
      Ok(confirm) => confirm,
      Err(err) => {
        self.forget().await;
        return settled(Err(TransportError::retryable(
          "rabbitmq",
          format!("publish: {err}"),
        )));
      }
    };
    let publisher = self.clone();
    Box::pin(async move {
      match confirm.await {
        Ok(AmqpConfirmation::Ack(None)) => Ok(()),
        Ok(AmqpConfirmation::Ack(Some(_returned))) => Err(TransportError::permanent(
          "rabbitmq",
          format!(
            "the broker returned the message as unroutable (no queue `{}`)",
            publisher.queue
          ),
        )),
        Ok(AmqpConfirmation::Nack(_)) => Err(TransportError::retryable(
          "rabbitmq",
          "the broker nacked the message",
        )),
        Ok(AmqpConfirmation::NotRequested) => Err(TransportError::retryable(
          "rabbitmq",
          "the channel is not in confirm mode",
        )),
        Err(err) => {
          publisher.forget().await;
          Err(TransportError::retryable(
            "rabbitmq",
            format!("no confirm: {err}"),
          ))
        }
      }
    })
  }
}

/// Publishes documents to one queue.
pub struct RabbitMqTransport {
  dispatcher: Dispatcher,
  publisher: Publisher,
}

impl RabbitMqTransport {
  /// Starts the publisher task; connects on first use (see [`Transport::ready`]).
  pub fn connect(config: &RabbitMqConfig) -> Self {
    let publisher = Publisher {
      address: config.address.clone(),
      queue: config.queue.clone(),
      open: Arc::default(),
    };
    RabbitMqTransport {
      dispatcher: Dispatcher::start("rabbitmq", publisher.clone()),
      publisher,
    }
  }
}

#[async_trait]
impl Transport for RabbitMqTransport {
  fn name(&self) -> &'static str {
    "rabbitmq"
  }

  fn publish(&self, document: Arc<Document>) -> Confirmation {
    self.dispatcher.publish(document)
  }

  async fn ready(&self, timeout: Duration) -> Result<(), TransportError> {
    tokio::time::timeout(timeout, self.publisher.channel())
      .await
      .map_err(|_| {
        TransportError::retryable("rabbitmq", "no connection within the connect time-out")
      })?
      .map(|_| ())
  }

  async fn close(&self) -> Result<(), TransportError> {
    self.dispatcher.close();
    if let Some((connection, channel)) = self.publisher.open.lock().await.take() {
      let _ = channel.close(200, "scouter-queue shutdown".into()).await;
      let _ = connection.close(200, "scouter-queue shutdown".into()).await;
    }
    Ok(())
  }
}
