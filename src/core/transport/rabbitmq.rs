//! RabbitMQ through `lapin`: declare the queue (default options), then publish each document to
//! the default exchange with the queue's name as routing key, persistent (delivery mode 2) and
//! `mandatory`, on a channel in publisher-confirm mode. A publish is done on the broker's ack; a
//! nack or a message returned as unroutable is a failed publish. Flushing never closes the
//! channel (the original's defect). A lost connection is opened again on the next publish, and
//! what was unconfirmed fails retryably, so the queue's retry republishes it.
//!
//! After `close` nothing is connected or published any more: the queue may already have counted
//! a document as failed at a shutdown deadline, and delivering it later would make the count lie.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{
  BasicProperties, Channel, Confirmation as AmqpConfirmation, Connection, ConnectionProperties,
};

use tokio_util::sync::CancellationToken;

use super::dispatcher::{closed_error, settled, Dispatcher, HandOver};
use super::{Confirmation, Transport};
use crate::core::error::{Result, TransportError};
use crate::core::wire::Document;

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

/// The current value of something that is replaced when it fails (here the connection and its
/// channel), numbered so that a late report of a failure can only forget the value it was about.
/// Channel ids cannot tell them apart: each new connection numbers its channels from 1 again.
#[derive(Debug)]
struct Generations<T> {
  current: Option<(u64, T)>,
  /// The generation of the last value installed.
  last: u64,
}

impl<T> Default for Generations<T> {
  fn default() -> Self {
    Generations {
      current: None,
      last: 0,
    }
  }
}

impl<T> Generations<T> {
  fn current(&self) -> Option<(u64, &T)> {
    self
      .current
      .as_ref()
      .map(|(generation, value)| (*generation, value))
  }

  /// Makes `value` current and returns its generation.
  fn install(&mut self, value: T) -> u64 {
    self.last += 1;
    self.current = Some((self.last, value));
    self.last
  }

  /// Forgets the current value if it is generation `generation`, and returns it.
  fn forget(&mut self, generation: u64) -> Option<T> {
    match &self.current {
      Some((current, _)) if *current == generation => self.take(),
      _ => None,
    }
  }

  fn take(&mut self) -> Option<T> {
    self.current.take().map(|(_, value)| value)
  }
}

/// The connection and confirm-mode channel, opened on demand.
#[derive(Clone)]
struct Publisher {
  address: String,
  queue: String,
  /// The open connection and channel. A std mutex: it is never held across an await, so a late
  /// confirm can forget its channel without waiting for a connect under way.
  open: Arc<Mutex<Generations<(Connection, Channel)>>>,
  /// Held while opening, so that one connection is opened at a time.
  opening: Arc<tokio::sync::Mutex<()>>,
  /// Cancelled by close: from then on nothing is (re)connected.
  closed: CancellationToken,
}

impl Publisher {
  fn open(&self) -> std::sync::MutexGuard<'_, Generations<(Connection, Channel)>> {
    self.open.lock().unwrap_or_else(|p| p.into_inner())
  }

  /// The open channel and its generation, opening connection, channel and queue when needed.
  async fn channel(&self) -> Result<(u64, Channel), TransportError> {
    if let Some(open) = self.usable()? {
      return Ok(open);
    }
    let _opening = self.opening.lock().await;
    // Someone else may have opened one while this waited.
    if let Some(open) = self.usable()? {
      return Ok(open);
    }
    let (connection, channel) = tokio::select! {
      opened = self.connect() => opened?,
      _ = self.closed.cancelled() => return Err(closed_error("rabbitmq")),
    };
    let installed = {
      let mut open = self.open();
      // Checked under the lock that close takes the connection under: either close finds this
      // connection and closes it, or this sees close and installs nothing.
      if self.closed.is_cancelled() {
        Err(connection)
      } else {
        Ok(open.install((connection, channel.clone())))
      }
    };
    match installed {
      Ok(generation) => Ok((generation, channel)),
      Err(connection) => {
        let _ = connection.close(200, "scouter-queue shutdown".into()).await;
        Err(closed_error("rabbitmq"))
      }
    }
  }

  /// The current channel if it is still connected; forgets it if not. Fails after close.
  fn usable(&self) -> Result<Option<(u64, Channel)>, TransportError> {
    let mut open = self.open();
    if self.closed.is_cancelled() {
      return Err(closed_error("rabbitmq"));
    }
    let Some((generation, (connection, channel))) = open.current() else {
      return Ok(None);
    };
    if connection.status().connected() && channel.status().connected() {
      return Ok(Some((generation, channel.clone())));
    }
    open.forget(generation);
    Ok(None)
  }

  /// Opens a connection, a channel on it and declares the queue, then puts the channel in
  /// confirm mode.
  async fn connect(&self) -> Result<(Connection, Channel), TransportError> {
    let (connection, channel) = open_queue_channel(&self.address, &self.queue).await?;
    channel
      .confirm_select(ConfirmSelectOptions::default())
      .await
      .map_err(|err| {
        TransportError::retryable(
          "rabbitmq",
          format!(
            "no publisher confirms on {}: {err}",
            super::redact_url(&self.address)
          ),
        )
      })?;
    Ok((connection, channel))
  }

  /// Forgets the channel of `generation` after it failed, so the next publish opens a new one;
  /// a newer channel opened meanwhile is left alone.
  fn forget(&self, generation: u64) {
    self.open().forget(generation);
  }
}

impl HandOver for Publisher {
  async fn hand_over(&mut self, document: Arc<Document>) -> Confirmation {
    let (generation, channel) = match self.channel().await {
      Ok(open) => open,
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
        self.forget(generation);
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
          publisher.forget(generation);
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
    let closed = CancellationToken::new();
    let publisher = Publisher {
      address: config.address.clone(),
      queue: config.queue.clone(),
      open: Arc::default(),
      opening: Arc::default(),
      closed: closed.clone(),
    };
    RabbitMqTransport {
      dispatcher: Dispatcher::start("rabbitmq", closed, publisher.clone()),
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

  /// Rejects what was not published yet, drops the confirms still awaited, ends the dispatcher,
  /// then closes the channel and connection. Nothing is opened again after this.
  async fn close(&self) -> Result<(), TransportError> {
    self.dispatcher.close().await;
    let open = self.publisher.open().take();
    if let Some((connection, channel)) = open {
      let _ = channel.close(200, "scouter-queue shutdown".into()).await;
      let _ = connection.close(200, "scouter-queue shutdown".into()).await;
    }
    Ok(())
  }
}

/// Connects to `address` (within 10 s), opens a channel and declares `queue` with the options
/// the contract gives it (the defaults). Shared by the transport and the command line's tail, so
/// both see the same queue.
pub(crate) async fn open_queue_channel(
  address: &str,
  queue: &str,
) -> Result<(Connection, Channel), TransportError> {
  let fail = |what: &str, err: lapin::Error| {
    TransportError::retryable(
      "rabbitmq",
      format!("{what} {}: {err}", super::redact_url(address)),
    )
  };
  let connection = tokio::time::timeout(
    CONNECT_TIMEOUT,
    Connection::connect(address, ConnectionProperties::default()),
  )
  .await
  .map_err(|_| {
    TransportError::retryable(
      "rabbitmq",
      format!(
        "no connection to {} within 10 s",
        super::redact_url(address)
      ),
    )
  })?
  .map_err(|err| fail("cannot connect to", err))?;
  let channel = connection
    .create_channel()
    .await
    .map_err(|err| fail("no channel on", err))?;
  channel
    .queue_declare(
      queue.into(),
      QueueDeclareOptions::default(),
      FieldTable::default(),
    )
    .await
    .map_err(|err| fail(&format!("cannot declare queue `{queue}` on"), err))?;
  Ok((connection, channel))
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::profile::DriftKind;
  use std::net::SocketAddr;
  use std::sync::atomic::{AtomicUsize, Ordering};
  use tokio::net::TcpListener;

  #[test]
  fn a_late_failure_forgets_only_its_own_channel() {
    let mut open = Generations::default();
    let first = open.install("first");
    assert_eq!(open.current(), Some((first, &"first")));
    // The first channel fails; a new one is opened.
    assert_eq!(open.forget(first), Some("first"));
    let second = open.install("second");
    assert_ne!(first, second);
    // A confirm on the first channel fails late: the healthy second channel stays.
    assert_eq!(open.forget(first), None);
    assert_eq!(open.current(), Some((second, &"second")));
    assert_eq!(open.forget(second), Some("second"));
    assert_eq!(open.current(), None);
  }

  fn doc(n: usize) -> Arc<Document> {
    Arc::new(Document {
      format: crate::core::wire::WireFormat::V0_9,
      kind: DriftKind::Custom,
      record_count: 1,
      json: format!("{{\"n\":{n}}}").into_bytes(),
    })
  }

  /// A TCP listener on 127.0.0.1:0 that counts connection attempts. It never speaks AMQP: when
  /// `hold` it keeps each connection open in silence (the handshake hangs), otherwise it closes
  /// it at once (the connect fails).
  async fn listener(hold: bool) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&attempts);
    tokio::spawn(async move {
      let mut held = Vec::new();
      while let Ok((stream, _)) = listener.accept().await {
        counted.fetch_add(1, Ordering::SeqCst);
        if hold {
          held.push(stream);
        }
      }
    });
    (addr, attempts)
  }

  fn transport(addr: SocketAddr) -> RabbitMqTransport {
    RabbitMqTransport::connect(&RabbitMqConfig {
      address: format!("amqp://guest:guest@{addr}/%2f"),
      queue: "scouter_monitoring".into(),
      max_retries: 0,
    })
  }

  #[tokio::test]
  async fn close_abandons_a_hanging_connect_and_joins_the_dispatcher() {
    let (addr, attempts) = listener(true).await;
    let transport = transport(addr);
    let connecting = tokio::spawn(transport.publish(doc(0)));
    let queued: Vec<_> = (1..3).map(|n| transport.publish(doc(n))).collect();
    while attempts.load(Ordering::SeqCst) == 0 {
      tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started_at = std::time::Instant::now();
    transport.close().await.unwrap();
    // Not the 10 s connect time-out.
    assert!(started_at.elapsed() < Duration::from_secs(2));
    assert!(transport.dispatcher.has_ended());
    let closed = closed_error("rabbitmq");
    assert_eq!(connecting.await.unwrap(), Err(closed.clone()));
    for confirmation in queued {
      assert_eq!(confirmation.await, Err(closed.clone()));
    }
    assert_eq!(transport.publish(doc(3)).await, Err(closed.clone()));
    assert_eq!(transport.ready(Duration::from_secs(1)).await, Err(closed));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
  }

  #[tokio::test]
  async fn nothing_connects_after_close() {
    let (addr, attempts) = listener(false).await;
    let transport = transport(addr);
    // A first publish connects and fails: the broker is "down".
    assert!(transport.publish(doc(0)).await.unwrap_err().retryable);
    let before = attempts.load(Ordering::SeqCst);
    assert!(before >= 1);
    // Documents still queued at close (the queue counted them as failed at its deadline) must
    // not make the dispatcher connect again to publish them.
    let queued: Vec<_> = (1..6).map(|n| transport.publish(doc(n))).collect();
    transport.close().await.unwrap();
    for confirmation in queued {
      assert_eq!(confirmation.await, Err(closed_error("rabbitmq")));
    }
    assert!(transport.ready(Duration::from_secs(1)).await.is_err());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
      attempts.load(Ordering::SeqCst),
      before,
      "a connect after close"
    );
  }
}
