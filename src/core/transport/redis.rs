//! Redis: `PUBLISH channel document`, at-most-once by Redis's own contract; done when the server
//! replies. A `ConnectionManager` reconnects by itself once connected; until a first connection
//! succeeds, each publish tries to connect, so a server that is down at start-up does not stop
//! the queues from starting.
//!
//! PUBLISHes are pipelined: the dispatcher issues each one, in order, into the manager's
//! multiplexed connection, and the queue that published it awaits the reply. Many documents are
//! then on the wire at once instead of one round trip each.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio_util::sync::CancellationToken;

use super::dispatcher::{closed_error, settled, started, Dispatcher, HandOver};
use super::{Confirmation, Transport};
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::wire::Document;

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
  /// Cancelled by close: no connection is made after it.
  closed: CancellationToken,
}

impl Publisher {
  async fn manager(&self) -> Result<ConnectionManager, TransportError> {
    let mut slot = self.manager.lock().await;
    if self.closed.is_cancelled() {
      return Err(closed_error("redis"));
    }
    if let Some(manager) = &*slot {
      return Ok(manager.clone());
    }
    // One attempt per call: the queue's retry policy owns backoff, so the two do not multiply.
    let config = ConnectionManagerConfig::new()
      .set_number_of_retries(1)
      .set_max_delay(Duration::from_millis(500))
      .set_connection_timeout(Some(Duration::from_secs(5)))
      .set_response_timeout(Some(Duration::from_secs(10)));
    let connecting = ConnectionManager::new_with_config(self.client.clone(), config);
    let manager = tokio::select! {
      connected = connecting => connected.map_err(|err| {
        TransportError::retryable(
          "redis",
          format!(
            "cannot connect to {}: {err}",
            super::redact_url(&self.address)
          ),
        )
      })?,
      _ = self.closed.cancelled() => return Err(closed_error("redis")),
    };
    *slot = Some(manager.clone());
    Ok(manager)
  }
}

impl HandOver for Publisher {
  /// Connects if needed (documents wait for that in order), then issues the PUBLISH: its first
  /// poll puts it into the connection's pipeline, behind the ones before it. (While the manager
  /// is reconnecting after a lost connection, commands wait for the new connection and may be
  /// sent in another order; the ones in flight then fail and are retried anyway.)
  async fn hand_over(&mut self, document: Arc<Document>) -> Confirmation {
    let mut manager = match self.manager().await {
      Ok(manager) => manager,
      Err(error) => return settled(Err(error)),
    };
    let mut publish = redis::cmd("PUBLISH");
    publish.arg(&self.channel).arg(&document.json[..]);
    started(async move {
      publish
        .query_async::<i64>(&mut manager)
        .await
        .map(|_receivers| ())
        .map_err(|err| TransportError::retryable("redis", format!("PUBLISH: {err}")))
    })
    .await
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
    let closed = CancellationToken::new();
    let connection = Publisher {
      client,
      address: config.address.clone(),
      channel: config.channel.clone(),
      manager: Arc::default(),
      closed: closed.clone(),
    };
    Ok(RedisTransport {
      dispatcher: Dispatcher::start("redis", closed, connection.clone()),
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

  /// Rejects what was not issued yet, drops the replies still awaited, ends the dispatcher and
  /// drops the connection.
  async fn close(&self) -> Result<(), TransportError> {
    self.dispatcher.close().await;
    // The dispatcher's copy went with its task; this drops the last other handle.
    self.connection.manager.lock().await.take();
    Ok(())
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::net::SocketAddr;
  use std::sync::atomic::{AtomicUsize, Ordering};
  use std::sync::Mutex;
  use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
  use tokio::net::{TcpListener, TcpStream};
  use tokio::sync::mpsc;
  use tokio::time::Instant;

  /// What a fake Redis server on 127.0.0.1:0 saw.
  #[derive(Default)]
  struct Fake {
    connections: AtomicUsize,
    /// `(channel, message)` of each PUBLISH, in the order they arrived.
    publishes: Mutex<Vec<(String, String)>>,
    /// PUBLISHes received and not yet answered, and the most there ever were.
    outstanding: AtomicUsize,
    max_outstanding: AtomicUsize,
  }

  impl Fake {
    fn publishes(&self) -> Vec<(String, String)> {
      self.publishes.lock().unwrap().clone()
    }
  }

  /// A RESP server that answers `:1` to each PUBLISH `delay` after it arrived (in order, as
  /// Redis does) and `+OK` to anything else (the client's `CLIENT SETINFO` at connect).
  async fn fake_redis(delay: Duration) -> (SocketAddr, Arc<Fake>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = Arc::new(Fake::default());
    let state = Arc::clone(&fake);
    tokio::spawn(async move {
      while let Ok((stream, _)) = listener.accept().await {
        state.connections.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(connection(stream, delay, Arc::clone(&state)));
      }
    });
    (addr, fake)
  }

  async fn connection(stream: TcpStream, delay: Duration, fake: Arc<Fake>) {
    let (read, mut write) = stream.into_split();
    let (replies, mut pending) = mpsc::unbounded_channel::<(Instant, &'static [u8], bool)>();
    let writer = Arc::clone(&fake);
    tokio::spawn(async move {
      while let Some((at, reply, publish)) = pending.recv().await {
        tokio::time::sleep_until(at).await;
        if write.write_all(reply).await.is_err() {
          return;
        }
        if publish {
          writer.outstanding.fetch_sub(1, Ordering::SeqCst);
        }
      }
    });
    let mut read = BufReader::new(read);
    while let Some(command) = read_command(&mut read).await {
      if command[0].eq_ignore_ascii_case("PUBLISH") {
        fake
          .publishes
          .lock()
          .unwrap()
          .push((command[1].clone(), command[2].clone()));
        let now = fake.outstanding.fetch_add(1, Ordering::SeqCst) + 1;
        fake.max_outstanding.fetch_max(now, Ordering::SeqCst);
        let _ = replies.send((Instant::now() + delay, b":1\r\n", true));
      } else {
        let _ = replies.send((Instant::now(), b"+OK\r\n", false));
      }
    }
  }

  /// One command: an array of bulk strings.
  async fn read_command(
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
  ) -> Option<Vec<String>> {
    let mut line = String::new();
    read.read_line(&mut line).await.ok().filter(|n| *n > 0)?;
    let count: usize = line.trim_end().strip_prefix('*')?.parse().ok()?;
    let mut words = Vec::with_capacity(count);
    for _ in 0..count {
      line.clear();
      read.read_line(&mut line).await.ok()?;
      let length: usize = line.trim_end().strip_prefix('$')?.parse().ok()?;
      let mut word = vec![0; length + 2];
      read.read_exact(&mut word).await.ok()?;
      word.truncate(length);
      words.push(String::from_utf8(word).ok()?);
    }
    Some(words)
  }

  fn transport(addr: SocketAddr) -> RedisTransport {
    RedisTransport::connect(&RedisConfig {
      address: format!("redis://{addr}"),
      channel: "drift".into(),
      max_retries: 0,
    })
    .unwrap()
  }

  fn doc(n: usize) -> Arc<Document> {
    Arc::new(Document {
      format: crate::core::wire::WireFormat::V0_9,
      kind: crate::core::profile::DriftKind::Custom,
      record_count: 1,
      json: format!("{{\"records\":[{{\"n\":{n}}}]}}").into_bytes(),
    })
  }

  #[tokio::test]
  async fn publishes_are_pipelined_in_order() {
    let (addr, fake) = fake_redis(Duration::from_millis(200)).await;
    let transport = transport(addr);
    let started_at = std::time::Instant::now();
    let mut confirmations = tokio::task::JoinSet::new();
    for n in 0..20 {
      confirmations.spawn(transport.publish(doc(n)));
    }
    while let Some(result) = confirmations.join_next().await {
      result.unwrap().unwrap();
    }
    let elapsed = started_at.elapsed();
    let max = fake.max_outstanding.load(Ordering::SeqCst);
    eprintln!("20 PUBLISHes against a server answering in 200 ms: {elapsed:?}, {max} at once");
    // One round trip each would take 20 x 200 ms = 4 s.
    assert!(elapsed < Duration::from_millis(2000), "{elapsed:?}");
    assert!(max > 1);
    let expected: Vec<(String, String)> = (0..20)
      .map(|n| ("drift".to_string(), doc(n).as_str().to_string()))
      .collect();
    assert_eq!(
      fake.publishes(),
      expected,
      "in the order they were published"
    );
    assert_eq!(fake.connections.load(Ordering::SeqCst), 1);
    transport.close().await.unwrap();
  }

  #[tokio::test]
  async fn close_ends_the_dispatcher_and_connects_no_more() {
    let (addr, fake) = fake_redis(Duration::from_secs(30)).await;
    let transport = transport(addr);
    let in_flight = tokio::spawn(transport.publish(doc(0)));
    while fake.publishes().is_empty() {
      tokio::time::sleep(Duration::from_millis(5)).await;
    }
    transport.close().await.unwrap();
    assert!(transport.dispatcher.has_ended());
    let closed = closed_error("redis");
    assert_eq!(in_flight.await.unwrap(), Err(closed.clone()));
    assert_eq!(transport.publish(doc(1)).await, Err(closed.clone()));
    assert_eq!(transport.ready(Duration::from_secs(1)).await, Err(closed));
    assert_eq!(fake.connections.load(Ordering::SeqCst), 1);
    assert_eq!(fake.publishes().len(), 1);
  }
}
