//! Subscribing to the Redis transport's channel. Redis pub/sub keeps nothing: only messages
//! published while the subscription stands are received, by every subscriber.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use redis::aio::PubSubStream;

use super::Tail;
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::transport::{redact_url, RedisConfig};

/// How long connecting and subscribing may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A subscription to one channel.
pub struct RedisTail {
  messages: PubSubStream,
}

impl RedisTail {
  /// Connects and subscribes; resolves once the server confirmed the subscription.
  pub async fn open(config: &RedisConfig) -> Result<Self> {
    let address = redact_url(&config.address);
    let fail = |err: redis::RedisError| {
      QueueError::Transport(TransportError::retryable(
        "redis",
        format!(
          "cannot subscribe to `{}` at {address}: {err}",
          config.channel
        ),
      ))
    };
    let client = redis::Client::open(config.address.as_str())
      .map_err(|err| QueueError::Config(format!("invalid Redis address {address}: {err}")))?;
    let subscribing = async {
      let mut pubsub = client.get_async_pubsub().await?;
      pubsub.subscribe(config.channel.as_str()).await?;
      Ok::<_, redis::RedisError>(pubsub)
    };
    let pubsub = tokio::time::timeout(CONNECT_TIMEOUT, subscribing)
      .await
      .map_err(|_| {
        QueueError::Transport(TransportError::retryable(
          "redis",
          format!("no subscription at {address} within 10 s"),
        ))
      })?
      .map_err(fail)?;
    Ok(RedisTail {
      messages: pubsub.into_on_message(),
    })
  }
}

#[async_trait]
impl Tail for RedisTail {
  async fn next(&mut self, wait: Duration, max: usize) -> Result<Vec<Vec<u8>>, TransportError> {
    let max = super::batch_limit(max);
    let lost = || TransportError::permanent("redis", "the subscription's connection was closed");
    let first = match tokio::time::timeout(wait, self.messages.next()).await {
      Err(_elapsed) => return Ok(Vec::new()),
      Ok(None) => return Err(lost()),
      Ok(Some(message)) => message,
    };
    let mut documents = vec![first.get_payload_bytes().to_vec()];
    while documents.len() < max {
      match tokio::time::timeout(Duration::ZERO, self.messages.next()).await {
        Ok(Some(message)) => documents.push(message.get_payload_bytes().to_vec()),
        Ok(None) => return Err(lost()),
        Err(_elapsed) => break,
      }
    }
    Ok(documents)
  }

  async fn close(&mut self) {}
}
