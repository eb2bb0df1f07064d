//! Consuming the RabbitMQ transport's queue. The queue is declared exactly as the transport
//! declares it, then consumed with manual acknowledgements: each message is acknowledged once
//! it was handed to the caller, so it is **taken off the queue**. A tail is therefore one more
//! competing consumer: while it runs, Scouter's own consumer gets only part of the messages
//! (the broker round-robins). Use it on a queue nothing else reads, or to drain one.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, Consumer};

use super::{Receive, MAX_BATCH};
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::transport::{open_queue_channel, RabbitMqConfig};

/// Unacknowledged messages the broker may push ahead of the caller.
const PREFETCH: u16 = MAX_BATCH as u16;

/// A consumer of one queue.
pub struct RabbitMqTail {
  connection: Connection,
  channel: Channel,
  consumer: Consumer,
}

impl RabbitMqTail {
  /// Connects, declares the queue (as the transport does) and starts consuming it.
  pub async fn open(config: &RabbitMqConfig) -> Result<Self> {
    let fail = |what: String, err: lapin::Error| {
      QueueError::Transport(TransportError::retryable(
        "rabbitmq",
        format!("{what}: {err}"),
      ))
    };
    let (connection, channel) = open_queue_channel(&config.address, &config.queue).await?;
    channel
      .basic_qos(PREFETCH, BasicQosOptions::default())
      .await
      .map_err(|err| fail("cannot set the prefetch count".into(), err))?;
    let consumer = channel
      .basic_consume(
        config.queue.as_str().into(),
        "".into(),
        BasicConsumeOptions::default(),
        FieldTable::default(),
      )
      .await
      .map_err(|err| fail(format!("cannot consume queue `{}`", config.queue), err))?;
    Ok(RabbitMqTail {
      connection,
      channel,
      consumer,
    })
  }
}

#[async_trait]
impl Receive for RabbitMqTail {
  /// The next delivery's payload, acknowledged; `None` when the wait ran out.
  async fn receive(&mut self, wait: Duration) -> Result<Option<Vec<u8>>, TransportError> {
    let fail = |err: lapin::Error| TransportError::retryable("rabbitmq", err.to_string());
    match tokio::time::timeout(wait, self.consumer.next()).await {
      Err(_elapsed) => Ok(None),
      Ok(None) => Err(TransportError::permanent(
        "rabbitmq",
        "the broker cancelled the consumer (was the queue deleted?)",
      )),
      Ok(Some(delivery)) => {
        let delivery = delivery.map_err(fail)?;
        delivery
          .acker
          .ack(BasicAckOptions::default())
          .await
          .map_err(fail)?;
        Ok(Some(delivery.data))
      }
    }
  }

  async fn close(&mut self) {
    // Unacknowledged prefetched messages go back to the queue when the channel closes.
    let _ = self.channel.close(200, "tail closed".into()).await;
    let _ = self.connection.close(200, "tail closed".into()).await;
  }
}
