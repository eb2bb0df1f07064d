//! A set of queues, one per alias, sharing one transport chain (one transport, or a failover
//! list): what `ScouterQueue.fromPath` opens. Flush and shutdown act on every queue at once and
//! then on every transport (the File transport syncs to disk), so they resolve only when everything inserted before them has settled, or
//! their deadline (by default `flush_timeout`) has passed. Shutdown runs once: later calls, and
//! flushes asked for once it has started, get its result.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::core::error::{QueueError, Result, TransportError};
use crate::core::panic_report::{self, PanicObserver};
use crate::core::profile::{DriftProfile, ProfileSource};
use crate::core::publish_events::PublishObserver;
use crate::core::queue::{ErrorSink, QueueBus, QueueOptions};
use crate::core::spool::{QueueSpool, Recovered, SpoolDir};
use crate::core::transport::{BreakerOptions, Chain, StateSink, TransportConfig, TransportEvents};

/// The alias reported with failures of the transport itself, which belong to every queue.
pub const TRANSPORT_ALIAS: &str = "*";

/// The queues of one `fromPath` call.
pub struct ScouterQueues {
  queues: BTreeMap<String, Arc<QueueBus>>,
  chain: Arc<Chain>,
  warnings: Vec<String>,
  sink: ErrorSink,
  flush_timeout: Duration,
  /// Set by the first `shutdown`; from then on `flush` returns the shutdown's result.
  shutting_down: AtomicBool,
  shutdown: OnceCell<Result<()>>,
  /// The spool directory's lock and budget, held until the shutdown has closed every queue's
  /// spool, so that a later `fromPath` in this process can take the directory over.
  spool_dir: Mutex<Option<SpoolDir>>,
  /// Puts panics from any runtime thread into these queues' stats and `onError`.
  _panic_observer: Arc<PanicObserver>,
  /// One event per settled document, once an observer switches them on.
  publishes: Arc<PublishObserver>,
}

impl ScouterQueues {
  /// Loads every profile, connects the transports (a non-empty list, in order of preference,
  /// each behind a breaker that reports its switches to `on_state`) and starts one queue per
  /// alias. Must run on a tokio runtime, which will run the queues' tasks.
  pub async fn open(
    sources: Vec<(String, ProfileSource)>,
    configs: Vec<TransportConfig>,
    breaker: BreakerOptions,
    on_state: StateSink,
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
        .map(|(alias, source)| DriftProfile::from_source(&source).map(|profile| (alias, profile)))
        .collect::<Result<Vec<_>>>()
    })
    .await
    .map_err(|err| QueueError::Internal(format!("profile loading stopped: {err}")))??;
    check_formats(&profiles, &configs)?;
    let spool_options = options.spool.clone();
    let keys: Vec<String> = spool_keys(&profiles);
    let (spool_dir, mut spools) =
      tokio::task::spawn_blocking(move || open_spools(spool_options, &keys))
        .await
        .map_err(|err| QueueError::Internal(format!("spool opening stopped: {err}")))??;

    let transport_sink = Arc::clone(&sink);
    let events = TransportEvents::new(move |error| {
      transport_sink(TRANSPORT_ALIAS, &QueueError::Transport(error))
    });
    let chain = Chain::connect(configs, breaker, events, on_state).await?;
    if let Some(timeout) = connect_timeout {
      if let Err(error) = chain.ready(timeout).await {
        let _ = chain.close().await;
        return Err(error);
      }
    }
    let options = &options;
    let mut warnings = Vec::new();
    let mut queues = BTreeMap::new();
    let publishes = PublishObserver::new();
    for (alias, mut profile) in profiles {
      warnings.append(&mut profile.warnings);
      let spool = spools.as_mut().map(|spools| spools.remove(0));
      let bus = QueueBus::start(
        alias.clone(),
        profile,
        Arc::clone(&chain),
        options,
        Arc::clone(&sink),
        spool,
        Arc::clone(&publishes),
      );
      queues.insert(alias, bus);
    }
    let observed: Vec<Arc<QueueBus>> = queues.values().cloned().collect();
    let panic_sink = Arc::clone(&sink);
    let panic_observer: Arc<PanicObserver> = Arc::new(move |message: &str| {
      let error = QueueError::Internal(format!("a background thread panicked: {message}"));
      for bus in &observed {
        bus.note_error(&error.to_string());
      }
      panic_sink(TRANSPORT_ALIAS, &error);
    });
    panic_report::observe(&panic_observer);
    Ok(ScouterQueues {
      queues,
      chain,
      warnings,
      sink,
      flush_timeout: options.flush_timeout,
      shutting_down: AtomicBool::new(false),
      shutdown: OnceCell::new(),
      spool_dir: Mutex::new(spool_dir),
      _panic_observer: panic_observer,
      publishes,
    })
  }

  /// Where publish events go, and the switch that turns them on.
  pub fn publishes(&self) -> &Arc<PublishObserver> {
    &self.publishes
  }

  /// The queue of `alias`.
  pub fn queue(&self, alias: &str) -> Option<&Arc<QueueBus>> {
    self.queues.get(alias)
  }

  /// Every queue, by alias.
  pub fn queues(&self) -> &BTreeMap<String, Arc<QueueBus>> {
    &self.queues
  }

  /// The transports, with their breakers.
  pub fn chain(&self) -> &Arc<Chain> {
    &self.chain
  }

  /// Things in the profiles that load but look wrong.
  pub fn warnings(&self) -> &[String] {
    &self.warnings
  }

  /// The deadline of a flush or shutdown: the one given, or `flush_timeout` from now.
  fn deadline(&self, deadline: Option<Instant>) -> Instant {
    deadline.unwrap_or_else(|| Instant::now() + self.flush_timeout)
  }

  /// Publishes every queue's buffer and waits until all of it settled (or the deadline passed),
  /// then makes the transport durable. Once a shutdown has started, returns its result instead.
  pub async fn flush(&self, deadline: Option<Instant>) -> Result<()> {
    if self.shutting_down.load(Ordering::Acquire) {
      return self.shutdown(deadline).await;
    }
    let deadline = self.deadline(deadline);
    self
      .each(deadline, |bus, deadline| async move {
        bus.flush(deadline).await
      })
      .await?;
    if self.shutting_down.load(Ordering::Acquire) {
      // A shutdown started meanwhile and closes the transport itself.
      return self.shutdown(Some(deadline)).await;
    }
    self.transport_step(
      "flush",
      tokio::time::timeout_at(deadline, self.chain.flush()).await,
    );
    Ok(())
  }

  /// Flushes, stops every queue's task and closes the transport, all by the deadline. Runs
  /// once: concurrent and later calls wait for the first and get its result.
  pub async fn shutdown(&self, deadline: Option<Instant>) -> Result<()> {
    self.shutting_down.store(true, Ordering::Release);
    let deadline = self.deadline(deadline);
    self
      .shutdown
      .get_or_init(|| async move {
        let result = self
          .each(deadline, |bus, deadline| async move {
            bus.shutdown(deadline).await
          })
          .await;
        // Closing waits for no dead broker past the deadline (RabbitMQ's close handshake).
        self.transport_step(
          "close",
          tokio::time::timeout_at(deadline, self.chain.close()).await,
        );
        // Every queue's spool is closed (its task has ended): the directory is free again.
        self
          .spool_dir
          .lock()
          .unwrap_or_else(|poison| poison.into_inner())
          .take();
        result
      })
      .await
      .clone()
  }

  /// A failed transport-wide step (a sync, a close) loses no item that was confirmed; report it.
  fn transport_step(
    &self,
    step: &str,
    result: std::result::Result<
      std::result::Result<(), TransportError>,
      tokio::time::error::Elapsed,
    >,
  ) {
    let error = match result {
      Ok(Ok(())) => return,
      Ok(Err(error)) => error,
      Err(_elapsed) => TransportError::retryable(
        self.chain.name(),
        format!("the transport's {step} did not finish by the deadline"),
      ),
    };
    (self.sink)(TRANSPORT_ALIAS, &QueueError::Transport(error));
  }

  async fn each<F, Fut>(&self, deadline: Instant, op: F) -> Result<()>
  where
    F: Fn(Arc<QueueBus>, Instant) -> Fut,
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

/// The key of each queue's spool: its identifier, or, when two aliases share one, the identifier
/// and the alias, so that no two queues ever append to the same segments.
fn spool_keys(profiles: &[(String, DriftProfile)]) -> Vec<String> {
  let mut seen = HashSet::new();
  profiles
    .iter()
    .map(|(alias, profile)| {
      let identifier = profile.identifier();
      if seen.insert(identifier.clone()) {
        identifier
      } else {
        format!("{identifier}@{alias}")
      }
    })
    .collect()
}

/// A queue's spool, and what it recovered from an earlier process.
type QueueSpoolOpened = (QueueSpool, Recovered);

/// Locks the spool directory and opens one spool per queue (in `keys` order), recovering what an
/// earlier process left. Nothing without `spoolDir`.
fn open_spools(
  options: Option<crate::core::spool::SpoolOptions>,
  keys: &[String],
) -> Result<(Option<SpoolDir>, Option<Vec<QueueSpoolOpened>>)> {
  let Some(options) = options else {
    return Ok((None, None));
  };
  let dir = SpoolDir::open(options)?;
  let spools = keys
    .iter()
    .map(|key| dir.open_queue(key))
    .collect::<Result<Vec<_>>>()?;
  Ok((Some(dir), Some(spools)))
}

/// Refuses a transport that the server generation of a profile does not offer: the gRPC API
/// exists only on Scouter 0.14+ servers, which reject v0.9 documents.
fn check_formats(profiles: &[(String, DriftProfile)], configs: &[TransportConfig]) -> Result<()> {
  if !configs
    .iter()
    .any(|config| matches!(config, TransportConfig::Grpc(_)))
  {
    return Ok(());
  }
  for (alias, profile) in profiles {
    let format = profile.format.spec();
    if !format.grpc {
      return Err(QueueError::Config(format!(
        "the grpc transport needs drift profiles of Scouter 0.14 or later: gRPC exists only on those servers, and they reject {} documents; alias '{alias}' ({}) is a {} profile (no config.uid): use HttpConfig or a broker transport for it, or a profile written by scouter-ml 0.14+",
        format.name,
        profile.source,
        format.name
      )));
    }
  }
  Ok(())
}
