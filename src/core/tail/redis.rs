//! Subscribing to the Redis transport's channel. Redis pub/sub keeps nothing: only messages
//! published while the subscription stands are received, by every subscriber.

use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use redis::aio::PubSubStream;

use super::Receive;
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
impl Receive for RedisTail {
  async fn receive(&mut self, wait: Duration) -> Result<Option<Vec<u8>>, TransportError> {
    match tokio::time::timeout(wait, self.messages.next()).await {
      Err(_elapsed) => Ok(None),
      Ok(None) => Err(TransportError::permanent(
        "redis",
        "the subscription's connection was closed",
      )),
      Ok(Some(message)) => Ok(Some(message.get_payload_bytes().to_vec())),
    }
  }

  async fn close(&mut self) {}
}

#[cfg(test)]
mod tests {
  use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
  use tokio::net::TcpListener;
  use tokio::sync::oneshot;

  use super::*;
  use crate::core::tail::{Batched, Tail};

  /// A bulk string in RESP.
  fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
  }

  /// A RESP server on 127.0.0.1:0 that answers `+OK` to anything but `SUBSCRIBE`, confirms a
  /// subscription, pushes `messages` on the channel once `go` fires, then hangs up.
  async fn fake_redis(messages: Vec<&'static str>, go: oneshot::Receiver<()>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("redis://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
      let (stream, _) = listener.accept().await.unwrap();
      let (read, mut write) = stream.into_split();
      let mut read = BufReader::new(read);
      let mut go = Some(go);
      loop {
        let mut line = String::new();
        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
          return;
        }
        let count: usize = line.trim_end()[1..].parse().unwrap();
        let mut words = Vec::new();
        for _ in 0..count {
          line.clear();
          read.read_line(&mut line).await.unwrap();
          let length: usize = line.trim_end()[1..].parse().unwrap();
          let mut word = vec![0; length + 2];
          read.read_exact(&mut word).await.unwrap();
          words.push(String::from_utf8(word[..length].to_vec()).unwrap());
        }
        if !words[0].eq_ignore_ascii_case("SUBSCRIBE") {
          write.write_all(b"+OK\r\n").await.unwrap();
          continue;
        }
        let channel = words[1].clone();
        let confirm = format!("*3\r\n{}{}:1\r\n", bulk("subscribe"), bulk(&channel));
        write.write_all(confirm.as_bytes()).await.unwrap();
        go.take().unwrap().await.unwrap();
        for message in &messages {
          let push = format!(
            "*3\r\n{}{}{}",
            bulk("message"),
            bulk(&channel),
            bulk(message)
          );
          write.write_all(push.as_bytes()).await.unwrap();
        }
        write.flush().await.unwrap();
        return;
      }
    });
    address
  }

  #[tokio::test]
  async fn messages_of_the_channel_arrive_in_batches_of_at_most_max_then_a_hang_up_is_an_error() {
    let (go, went) = oneshot::channel();
    let address = fake_redis(vec!["one", "two", "three"], went).await;
    let config = RedisConfig {
      address,
      channel: "docs".into(),
      max_retries: 3,
    };
    let mut tail = Batched::new(RedisTail::open(&config).await.unwrap());
    assert!(tail
      .next(Duration::from_millis(50), 10)
      .await
      .unwrap()
      .is_empty());
    go.send(()).unwrap();
    let first = tail.next(Duration::from_secs(5), 1).await.unwrap();
    assert_eq!(first, [b"one".to_vec()]);
    let mut rest = Vec::new();
    while rest.len() < 2 {
      rest.extend(tail.next(Duration::from_secs(5), 10).await.unwrap());
    }
    assert_eq!(rest, [b"two".to_vec(), b"three".to_vec()]);
    let error = tail.next(Duration::from_secs(5), 10).await.unwrap_err();
    assert!(error.message.contains("closed"), "{error}");
  }

  #[tokio::test]
  async fn an_unreachable_server_is_named() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("redis://{}", listener.local_addr().unwrap());
    drop(listener);
    let config = RedisConfig {
      address: address.clone(),
      channel: "docs".into(),
      max_retries: 3,
    };
    let error = RedisTail::open(&config).await.err().unwrap();
    assert!(
      error
        .to_string()
        .contains(&format!("cannot subscribe to `docs` at {address}")),
      "{error}"
    );
  }
}
