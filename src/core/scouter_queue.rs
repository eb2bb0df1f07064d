//! A set of queues, one per alias, sharing one transport: what `ScouterQueue.fromPath` opens.
//! Flush and shutdown act on every queue at once and then on the transport (the File transport
//! syncs to disk), so they resolve only when everything inserted before them has settled.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::core::error::{QueueError, Result};
use crate::core::profile::DriftProfile;
use crate::core::queue::{ErrorSink, QueueBus, QueueOptions};
use crate::core::retry::RetryPolicy;
use crate::core::transport::{check_ready, Transport, TransportConfig, TransportEvents};

/// The alias reported with failures of the transport itself, which belong to every queue.
pub const TRANSPORT_ALIAS: &str = "*";

/// The queues of one `fromPath` call.
pub struct ScouterQueues {
  queues: BTreeMap<String, Arc<QueueBus>>,
  transport: Arc<dyn Transport>,
  warnings: Vec<String>,
  sink: ErrorSink,
  shut: tokio::sync::Mutex<bool>,
}

impl ScouterQueues {
  /// Loads every profile, connects the transport and starts one queue per alias. Must run on a
  /// tokio runtime, which will run the queues' tasks.
  pub async fn open(
    sources: Vec<(String, PathBuf)>,
    config: TransportConfig,
    options: QueueOptions,
    sink: ErrorSink,
    connect_timeout: Option<Duration>,
  ) -> Result<Self> {
    if sources.is_empty() {
      return Err(QueueError::Config("no drift profiles were given".into()));
    }
    let profiles = tokio::task::spawn_blocking(move || {
      sources
        .into_iter()
        .map(|(alias, path)| DriftProfile::load(&path).map(|profile| (alias, profile)))
        .collect::<Result<Vec<_>>>()
    })
    .await
    .map_err(|err| QueueError::Internal(format!("profile loading stopped: {err}")))??;

    let transport_sink = Arc::clone(&sink);
    let events = TransportEvents::new(move |error| {
      transport_sink(TRANSPORT_ALIAS, &QueueError::Transport(error))
    });
    let transport = config.connect(events).await?;
    if let Some(timeout) = connect_timeout {
      if let Err(error) = check_ready(transport.as_ref(), timeout).await {
        let _ = transport.close().await;
        return Err(error);
      }
    }
    let policy = RetryPolicy::new(config.max_retries());
    let mut warnings = Vec::new();
    let mut queues = BTreeMap::new();
    for (alias, mut profile) in profiles {
      warnings.append(&mut profile.warnings);
      let bus = QueueBus::start(
        alias.clone(),
        profile,
        Arc::clone(&transport),
        policy,
        &options,
        Arc::clone(&sink),
      );
      queues.insert(alias, bus);
    }
    Ok(ScouterQueues {
      queues,
      transport,
      warnings,
      sink,
      shut: tokio::sync::Mutex::new(false),
    })
  }

  /// The queue of `alias`.
  pub fn queue(&self, alias: &str) -> Option<&Arc<QueueBus>> {
    self.queues.get(alias)
  }

  /// Every queue, by alias.
  pub fn queues(&self) -> &BTreeMap<String, Arc<QueueBus>> {
    &self.queues
  }

  /// Things in the profiles that load but look wrong.
  pub fn warnings(&self) -> &[String] {
    &self.warnings
  }

  /// Publishes every queue's buffer and waits until all of it settled, then makes the transport
  /// durable.
  pub async fn flush(&self, deadline: Option<Instant>) -> Result<()> {
    self
      .each(deadline, |bus, deadline| async move {
        bus.flush(deadline).await
      })
      .await?;
    self.transport_step(self.transport.flush().await);
    Ok(())
  }

  /// Flushes, stops every queue's tasks and closes the transport. Idempotent.
  pub async fn shutdown(&self, deadline: Option<Instant>) -> Result<()> {
    let mut shut = self.shut.lock().await;
    if *shut {
      return Ok(());
    }
    *shut = true;
    let result = self
      .each(deadline, |bus, deadline| async move {
        bus.shutdown(deadline).await
      })
      .await;
    self.transport_step(self.transport.close().await);
    result
  }

  /// A failed transport-wide step (a sync, a close) loses no item that was confirmed; report it.
  fn transport_step(&self, result: std::result::Result<(), crate::core::error::TransportError>) {
    if let Err(error) = result {
      (self.sink)(TRANSPORT_ALIAS, &QueueError::Transport(error));
    }
  }

  async fn each<F, Fut>(&self, deadline: Option<Instant>, op: F) -> Result<()>
  where
    F: Fn(Arc<QueueBus>, Option<Instant>) -> Fut,
    Fut: std::future::Future<Output = Result<()>> + Send + 'static,
  {
    let mut tasks = JoinSet::new();
    for bus in self.queues.values() {
      tasks.spawn(op(Arc::clone(bus), deadline));
    }
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
      let result = joined
        .map_err(|err| QueueError::Internal(err.to_string()))
        .and_then(|r| r);
      if let Err(err) = result {
        first_error.get_or_insert(err);
      }
    }
    first_error.map_or(Ok(()), Err)
  }
}
