//! One queue per alias, in the original's design: a `QueueBus` that the caller inserts through,
//! and one event task per profile that fills a fixed-capacity crossbeam `ArrayQueue`, turns it
//! into a document when it holds a batch, and publishes it; a `TaskState` stops the task through
//! a `CancellationToken`.
//!
//! The event task `select!`s, biased, over:
//! 1. the control lane (flush, shutdown), served before any data, so a flush's deadline is known
//!    the moment it is asked for, whatever the data lane holds;
//! 2. confirmations of the documents in flight;
//! 3. the earliest flush deadline: at it, what was inserted before that flush and is still
//!    unconfirmed is aborted and counted as failed, and nothing of it is handed over afterwards;
//! 4. the data lane, read only while a document can be handed over (fewer than `max_in_flight`
//!    in flight), so a stalled transport holds items in the bounded lane, not in memory;
//! 5. `sleep_until(next publish due)` for PSI and Custom, the timer of contract section 3.
//!
//! A flush is a barrier: it completes when the data lane has been read up to where it stood when
//! the flush arrived, the buffer has been cut into a document, and every document up to that one
//! has settled. No sleeps stand in for any of this.
//!
//! What differs from the original, on purpose:
//! - `push` never blocks and never sleeps: items past `max_pending_items` or `max_pending_bytes`
//!   are dropped and counted.
//! - The buffer holds runs of rows (one per batch that crossed from JavaScript), so memory grows
//!   with what is inserted, never with a profile's `sample_size`.
//! - A panic in an aggregator is caught and counted; a panic anywhere else in the task counts
//!   every pending item as failed. Neither reaches the process.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use crossbeam_queue::ArrayQueue;
use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{AbortHandle, Id, JoinError, JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::core::aggregate::{
  Aggregator, CustomAggregator, PsiAggregator, RunOf, SampledAggregator, Sampling, SpcAggregator,
};
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::item::{ItemBatch, ItemRun, QueueItem};
use crate::core::options;
use crate::core::panic_report;
use crate::core::profile::{DriftKind, DriftProfile, ProfileId, ProfileSpec, Slot};
use crate::core::publish_events::{PublishEvent, PublishObserver};
use crate::core::spool::{QueueSpool, Recovered, SpoolOptions, SpoolSlot};
use crate::core::stats::{QueueStats, Settled, StatsSnapshot};
use crate::core::transport::{Chain, Outcome};
use crate::core::wire::{Document, WireFormat};

/// Options shared by every queue of a `ScouterQueue`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueOptions {
  /// PSI and Custom publish what is buffered once this long has passed since the last publish.
  pub flush_interval: Duration,
  /// The bound on items accepted but not yet settled, per queue.
  pub max_pending_items: usize,
  /// The bound on what those items weigh, per queue (LLM records can be large).
  pub max_pending_bytes: u64,
  /// Documents of one queue being published at the same time. 64 keeps librdkafka busy: with
  /// 16, its linger and acks=all round trips capped throughput near 1M rows/s (bench/kafka-e2e.js).
  pub max_in_flight: usize,
  /// The deadline of a flush or shutdown asked for without one (OpenTelemetry's export time-out).
  pub flush_timeout: Duration,
  /// The write-ahead disk spool, when `spoolDir` is given.
  pub spool: Option<SpoolOptions>,
}

impl Default for QueueOptions {
  fn default() -> Self {
    QueueOptions {
      flush_interval: options::FLUSH_INTERVAL_MS.default_duration(),
      max_pending_items: options::MAX_PENDING_ITEMS.default_number() as usize,
      max_pending_bytes: options::MAX_PENDING_BYTES.default_number() as u64,
      max_in_flight: 64,
      flush_timeout: options::FLUSH_TIMEOUT_MS.default_duration(),
      spool: None,
    }
  }
}

/// Where background failures are reported: `(alias, error)`. Called from runtime threads.
pub type ErrorSink = Arc<dyn Fn(&str, &QueueError) + Send + Sync>;

/// With a spool, documents waiting for the transport are read back from disk rather than kept in
/// memory once their JSON passes this many bytes per queue.
const STAGED_MEMORY: u64 = 8 * 1024 * 1024;

/// With a spool, a document every transport failed waits this long before it is offered again,
/// doubling per wave of failures up to `SPOOL_RETRY_MAX` while they continue: a transport back
/// from an outage gets its first document at most that long afterwards.
const SPOOL_RETRY_FIRST: Duration = Duration::from_secs(1);
const SPOOL_RETRY_MAX: Duration = Duration::from_secs(5);

/// Without a spool, documents made ahead of a free in-flight slot: enough to keep the transport
/// busy while the next one is aggregated, few enough that a stalled transport holds items in the
/// lane (bounded by `maxPendingItems`) rather than in documents.
const STAGE_AHEAD: usize = 8;

/// Runs the buffer holds before it merges them: a batch crosses from JavaScript as one run (up
/// to 512 rows), so this is only reached by many tiny batches, and merging keeps it fixed-size.
const BUFFER_RUNS: usize = 64;

/// Flush and shutdown requests: the control lane, served before any data.
enum Control {
  /// Settle everything pushed before the request, by `deadline`.
  Flush {
    deadline: Instant,
    done: oneshot::Sender<()>,
  },
  /// A flush that closes the data lane first and ends the task once it completes.
  Shutdown {
    deadline: Instant,
    done: oneshot::Sender<()>,
  },
}

/// The background task of one queue, and the token that stops it.
pub struct TaskState {
  token: CancellationToken,
  event_task: JoinHandle<()>,
}

/// The caller's handle on one queue.
pub struct QueueBus {
  alias: String,
  identifier: String,
  kind: DriftKind,
  format: WireFormat,
  slots: Vec<Slot>,
  /// The data lane. The event task closes it at shutdown: that is the queue's one "closed" state.
  data: mpsc::Sender<ItemBatch>,
  control: mpsc::Sender<Control>,
  stats: Arc<QueueStats>,
  /// Taken by the first shutdown, which joins the task.
  tasks: Mutex<Option<TaskState>>,
}

impl QueueBus {
  /// Starts the queue's event task on the current runtime.
  pub fn start(
    alias: String,
    profile: DriftProfile,
    chain: Arc<Chain>,
    options: &QueueOptions,
    sink: ErrorSink,
    spool: Option<(QueueSpool, Recovered)>,
    publishes: Arc<PublishObserver>,
  ) -> Arc<Self> {
    let identity = Identity {
      alias,
      identifier: profile.identifier(),
      kind: profile.kind(),
      slots: profile.slots(),
      capacity: profile.capacity(),
      timed: profile.timed(),
      format: profile.format,
      id: profile.id,
    };
    let parts = (chain, options, sink, spool, publishes);
    match profile.spec {
      ProfileSpec::Spc(spec) => Self::with_aggregator(identity, SpcAggregator::new(spec), parts),
      ProfileSpec::Psi(spec) => {
        let infinities = identity.format.spec().psi_infinities;
        Self::with_aggregator(identity, PsiAggregator::new(spec, infinities), parts)
      }
      ProfileSpec::Custom(spec) => {
        Self::with_aggregator(identity, CustomAggregator::new(spec), parts)
      }
      ProfileSpec::Llm(spec) => {
        let sampling = Sampling::OneIn(spec.sample_rate);
        Self::with_aggregator(
          identity,
          SampledAggregator::new(DriftKind::Llm, sampling),
          parts,
        )
      }
      ProfileSpec::GenAi(spec) => {
        let sampling = Sampling::Ratio(spec.sample_ratio);
        Self::with_aggregator(
          identity,
          SampledAggregator::new(DriftKind::GenAi, sampling),
          parts,
        )
      }
    }
  }

  fn with_aggregator<A: Aggregator>(
    identity: Identity,
    aggregator: A,
    (chain, options, sink, spool, publishes): StartParts<'_>,
  ) -> Arc<Self> {
    let stats = Arc::new(
      QueueStats::new(options.max_pending_items, options.max_pending_bytes)
        .with_transports(chain.len()),
    );
    // Every data message carries at least one accepted item, so the pending bound caps them.
    let (data, data_rx) = mpsc::channel(options.max_pending_items.max(1));
    let (control, control_rx) = mpsc::channel(64);
    let token = CancellationToken::new();
    let cx = LoopContext {
      alias: identity.alias.clone(),
      alias_shared: identity.alias.as_str().into(),
      kind: identity.kind,
      publishes,
      stats: Arc::clone(&stats),
      chain,
      sink,
      max_in_flight: options.max_in_flight.max(1),
    };
    let mut event_loop = EventLoop::new(
      aggregator,
      identity.capacity,
      identity.timed.then_some(options.flush_interval),
      (identity.format, identity.id),
      cx,
    );
    if let Some((spool, recovered)) = spool {
      event_loop.use_spool(spool, recovered);
    }
    let event_task = tokio::spawn(event_loop.run_guarded(data_rx, control_rx, token.clone()));
    Arc::new(QueueBus {
      alias: identity.alias,
      identifier: identity.identifier,
      kind: identity.kind,
      format: identity.format,
      slots: identity.slots,
      data,
      control,
      stats,
      tasks: Mutex::new(Some(TaskState { token, event_task })),
    })
  }

  pub fn alias(&self) -> &str {
    &self.alias
  }

  /// `"{space}/{name}/v{version}/{kind}"`.
  pub fn identifier(&self) -> &str {
    &self.identifier
  }

  pub fn kind(&self) -> DriftKind {
    self.kind
  }

  /// The wire format its documents take.
  pub fn format(&self) -> WireFormat {
    self.format
  }

  /// The row layout callers encode into (empty for LLM).
  pub fn slots(&self) -> &[Slot] {
    &self.slots
  }

  /// Hands a batch to the event task without waiting. Returns how many items were accepted; the
  /// rest were refused by the pending bounds and counted as dropped. An error means nothing was
  /// counted (the caller then accounts for the items itself).
  pub fn push(&self, mut batch: ItemBatch) -> Result<u64> {
    match (&batch, self.kind) {
      (ItemBatch::Records(records), kind)
        if kind.takes_records() && records.iter().all(|record| record.kind() == kind) => {}
      (ItemBatch::Rows(rows), kind)
        if !kind.takes_records() && rows.width() == self.slots.len() => {}
      _ => {
        return Err(QueueError::Internal(format!(
          "a batch of the wrong shape was pushed into {} queue `{}`",
          self.kind.as_str(),
          self.alias
        )))
      }
    }
    if self.data.is_closed() {
      return Err(QueueError::Closed {
        alias: self.alias.clone(),
      });
    }
    if batch.is_empty() {
      return Ok(0);
    }
    let (accepted, bytes) = self.stats.admit(&batch);
    if accepted == 0 {
      return Ok(0);
    }
    batch.truncate(accepted);
    if self.data.try_send(batch).is_err() {
      // Closed by a shutdown that raced this push: counted as dropped, like any refusal.
      self.stats.reject(accepted as u64, bytes);
      return Ok(0);
    }
    Ok(accepted as u64)
  }

  /// Publishes what is buffered and waits until everything pushed before this call has settled.
  /// At `deadline`, what is still unconfirmed counts as failed. After a shutdown there is
  /// nothing left to flush.
  pub async fn flush(&self, deadline: Instant) -> Result<()> {
    let (done, finished) = oneshot::channel();
    if self
      .control
      .send(Control::Flush { deadline, done })
      .await
      .is_err()
    {
      return Ok(());
    }
    finished.await.map_err(|_| self.stopped())
  }

  /// Flushes, closes the data lane and ends the task. Idempotent: a later call finds the task
  /// ended and returns.
  pub async fn shutdown(&self, deadline: Instant) -> Result<()> {
    let (done, finished) = oneshot::channel();
    let asked = self
      .control
      .send(Control::Shutdown { deadline, done })
      .await
      .is_ok();
    let flushed = if asked {
      finished.await.map_err(|_| self.stopped())
    } else {
      Ok(())
    };
    let tasks = self
      .tasks
      .lock()
      .unwrap_or_else(|poison| poison.into_inner())
      .take();
    if let Some(tasks) = tasks {
      // The task ends right after the shutdown completed; a panic was already accounted for.
      let _ = tasks.event_task.await;
    }
    flushed
  }

  /// Counts items that were inserted but could not cross into the queue as failed.
  pub fn record_lost(&self, items: u64, reason: &str) {
    self.stats.lost_in_transit(items, reason);
  }

  /// Remembers an error that lost no item of this queue (a panic elsewhere).
  pub fn note_error(&self, error: &str) {
    self.stats.note_error(error);
  }

  /// A consistent reading of the counters.
  pub fn stats(&self) -> StatsSnapshot {
    self.stats.snapshot()
  }

  fn stopped(&self) -> QueueError {
    QueueError::Internal(format!(
      "the event task of queue `{}` has stopped",
      self.alias
    ))
  }
}

impl Drop for QueueBus {
  /// A queue dropped without a shutdown stops its task rather than leaving it running.
  fn drop(&mut self) {
    if let Some(tasks) = self
      .tasks
      .get_mut()
      .unwrap_or_else(|poison| poison.into_inner())
    {
      tasks.token.cancel();
    }
  }
}

/// What `QueueBus::start` passes on to the event loop.
type StartParts<'a> = (
  Arc<Chain>,
  &'a QueueOptions,
  ErrorSink,
  Option<(QueueSpool, Recovered)>,
  Arc<PublishObserver>,
);

/// What a queue is, apart from its aggregator.
struct Identity {
  alias: String,
  identifier: String,
  kind: DriftKind,
  slots: Vec<Slot>,
  capacity: usize,
  /// Whether it publishes on the timer too.
  timed: bool,
  /// What its documents are rendered as, and with which identity fields.
  format: WireFormat,
  id: ProfileId,
}

/// What the event loop shares with the rest of the queue.
struct LoopContext {
  alias: String,
  /// The alias again, shared by the publish events.
  alias_shared: Arc<str>,
  kind: DriftKind,
  publishes: Arc<PublishObserver>,
  stats: Arc<QueueStats>,
  /// The transports, in order of preference (one, unless a failover chain was given).
  chain: Arc<Chain>,
  sink: ErrorSink,
  max_in_flight: usize,
}

impl LoopContext {
  fn report(&self, error: QueueError) {
    self.stats.note_error(&error.to_string());
    (self.sink)(&self.alias, &error);
  }
}

/// A document made but not settled: what the loop needs to hand it over (again) and count it.
#[derive(Debug, Clone, Copy)]
struct Made {
  seq: u64,
  items: u64,
  /// Bytes of its items still counted in `pending_bytes` (0 once spooled: they left memory).
  bytes: u64,
  records: u64,
  /// Where it is in the spool, if it was spooled.
  slot: Option<SpoolSlot>,
  /// Left in the spool by an earlier process: none of this process's items are in it.
  replayed: bool,
}

impl Made {
  fn settled(&self) -> Settled {
    Settled {
      items: self.items,
      bytes: self.bytes,
      documents: u64::from(!self.replayed),
      disk: self.slot.map(|slot| slot.len),
    }
  }
}

/// A document waiting for an in-flight slot.
struct Staged {
  made: Made,
  /// Its JSON, unless it is only on disk (read back at hand-over).
  document: Option<Arc<Document>>,
  /// The bytes of `document` counted in the loop's `staged_memory`.
  held: u64,
}

/// What the loop remembers of a document in flight, so an aborted one can still be counted.
struct InFlight {
  abort: AbortHandle,
  made: Made,
  /// When it was handed to the chain, for the publish event's duration.
  handed_at: Instant,
}

/// The spool of a queue, and what the loop tracks about it.
struct SpoolState {
  spool: QueueSpool,
  /// JSON bytes of spooled documents also kept in memory while staged (bounded by
  /// `STAGED_MEMORY`).
  staged_memory: u64,
  /// While every transport fails: no hand-over before this instant.
  retry_at: Option<Instant>,
  retry_wait: Duration,
  /// Whether the current run of overflow drops (until the transport confirms a document again)
  /// was reported already.
  overflow_reported: bool,
  /// Whether an I/O failure of the spool was reported already (once per run of failures).
  failure_reported: bool,
}

/// A flush (or shutdown) the loop is working through.
struct Waiter {
  /// Data messages that must have been read before the buffer is cut for this flush.
  barrier: u64,
  /// Once the barrier is reached: the sequence number of the last document it waits for.
  target: Option<u64>,
  deadline: Instant,
  done: oneshot::Sender<()>,
  shutdown: bool,
}

/// The state the event task owns.
struct EventLoop<A: Aggregator> {
  aggregator: A,
  /// Runs of buffered items, in insertion order.
  buffer: ArrayQueue<RunOf<A>>,
  buffered: usize,
  buffered_bytes: u64,
  /// Items per document (`sample_size`, 1000 for PSI, `sample_rate` for LLM, 25 for GenAI).
  capacity: usize,
  /// The wire format documents are rendered in.
  format: WireFormat,
  /// The identity fields the format stamps on records.
  id: ProfileId,
  /// The rest of a batch not yet moved into the buffer, while a document waits for a slot.
  current: Option<RunOf<A>>,
  /// Documents made but not yet handed over, in order.
  staged: VecDeque<Staged>,
  in_flight: JoinSet<Outcome>,
  in_flight_info: HashMap<Id, InFlight>,
  next_seq: u64,
  /// Data messages read so far.
  received: u64,
  data_open: bool,
  waiters: VecDeque<Waiter>,
  /// Set when a shutdown completed: the loop ends.
  finished: bool,
  /// PSI and Custom: the interval of the timer.
  interval: Option<Duration>,
  last_publish: Instant,
  /// The write-ahead spool, with `spoolDir`.
  spool: Option<SpoolState>,
  cx: LoopContext,
}

impl<A: Aggregator> EventLoop<A> {
  fn new(
    aggregator: A,
    capacity: usize,
    interval: Option<Duration>,
    (format, id): (WireFormat, ProfileId),
    cx: LoopContext,
  ) -> Self {
    EventLoop {
      aggregator,
      format,
      id,
      buffer: ArrayQueue::new(BUFFER_RUNS),
      buffered: 0,
      buffered_bytes: 0,
      capacity: capacity.max(1),
      current: None,
      staged: VecDeque::new(),
      in_flight: JoinSet::new(),
      in_flight_info: HashMap::new(),
      next_seq: 0,
      received: 0,
      data_open: true,
      waiters: VecDeque::new(),
      finished: false,
      interval,
      last_publish: Instant::now(),
      spool: None,
      cx,
    }
  }

  /// Turns the spool on, and stages what an earlier process left in it, before anything new.
  fn use_spool(&mut self, spool: QueueSpool, recovered: Recovered) {
    let mut disk = 0;
    for replayed in &recovered.replay {
      disk += replayed.slot.len;
      self.staged.push_back(Staged {
        made: Made {
          seq: self.next_seq,
          items: 0,
          bytes: 0,
          records: u64::from(replayed.record_count),
          slot: Some(replayed.slot),
          replayed: true,
        },
        document: None,
        held: 0,
      });
      self.next_seq += 1;
    }
    if !recovered.replay.is_empty() {
      self
        .cx
        .stats
        .replay_found(recovered.replay.len() as u64, disk);
    }
    for damage in recovered.damage {
      self.cx.report(QueueError::Spool(damage));
    }
    self.spool = Some(SpoolState {
      spool,
      staged_memory: 0,
      retry_at: None,
      retry_wait: SPOOL_RETRY_FIRST,
      overflow_reported: false,
      failure_reported: false,
    });
  }

  /// Runs the loop; a panic that escapes it counts every pending item as failed and is reported,
  /// so the process and the accounting both survive it.
  async fn run_guarded(
    self,
    data: mpsc::Receiver<ItemBatch>,
    control: mpsc::Receiver<Control>,
    token: CancellationToken,
  ) {
    let stats = Arc::clone(&self.cx.stats);
    let sink = Arc::clone(&self.cx.sink);
    let alias = self.cx.alias.clone();
    let run = AssertUnwindSafe(panic_report::expected(self.run(data, control, token)));
    if let Err(panic) = run.catch_unwind().await {
      let message = format!(
        "the event task of queue `{alias}` panicked: {}",
        panic_message(&*panic)
      );
      stats.fail_all_pending(&message);
      sink(&alias, &QueueError::Internal(message));
    }
  }

  async fn run(
    mut self,
    mut data: mpsc::Receiver<ItemBatch>,
    mut control: mpsc::Receiver<Control>,
    token: CancellationToken,
  ) {
    loop {
      self.advance();
      if self.finished {
        break;
      }
      let deadline = self.waiters.iter().map(|w| w.deadline).min();
      // With a spool, documents the transport cannot take yet wait on disk, so the lane keeps
      // being read; without one, a few documents are made ahead of a free slot (aggregation
      // overlaps the transport's round trips) and then a busy transport holds items back in the
      // bounded lane.
      let spooling = self.spool.is_some();
      let idle = self.current.is_none() && (spooling || self.staged.len() < STAGE_AHEAD);
      let can_take = self.data_open && idle;
      let sync_at = self.spool.as_ref().and_then(|s| s.spool.sync_at());
      let retry_at = self
        .spool
        .as_ref()
        .and_then(|s| s.retry_at)
        .filter(|_| !self.staged.is_empty());
      let timer_due = self
        .interval
        .filter(|_| idle)
        .map(|interval| self.last_publish + interval);
      tokio::select! {
        biased;
        _ = token.cancelled() => break,
        Some(request) = control.recv() => self.on_control(request, &mut data),
        Some(joined) = self.in_flight.join_next_with_id(), if !self.in_flight.is_empty() => {
          self.settle(joined)
        }
        _ = sleep_until(deadline), if deadline.is_some() => self.expire(&mut data).await,
        batch = data.recv(), if can_take => match batch {
          Some(batch) => self.take(batch),
          None => self.data_open = false,
        },
        _ = sleep_until(timer_due), if timer_due.is_some() => {
          self.cut();
          self.last_publish = Instant::now();
        }
        // `advance` syncs and resumes hand-overs once these are due; they only wake the loop.
        _ = sleep_until(sync_at), if sync_at.is_some() => {}
        _ = sleep_until(retry_at), if retry_at.is_some() => {}
      }
    }
    self.abandon(data, control).await;
  }

  /// Registers a flush or shutdown. Its barrier is where the data lane stands now: everything
  /// pushed before the request is in the lane already.
  fn on_control(&mut self, request: Control, data: &mut mpsc::Receiver<ItemBatch>) {
    let (deadline, done, shutdown) = match request {
      Control::Flush { deadline, done } => (deadline, done, false),
      Control::Shutdown { deadline, done } => {
        // No push gets in after this; those racing it are refused and counted as dropped.
        data.close();
        (deadline, done, true)
      }
    };
    self.waiters.push_back(Waiter {
      barrier: self.received + data.len() as u64,
      target: None,
      deadline,
      done,
      shutdown,
    });
  }

  /// Moves a batch from the data lane towards the buffer.
  fn take(&mut self, batch: ItemBatch) {
    self.received += 1;
    let mut run = match A::Item::unpack(batch) {
      Ok(run) => run,
      Err(batch) => {
        // `QueueBus::push` checks shapes, so this is a bug; count the items rather than lose them.
        let settled = Settled::items(batch.len() as u64, batch.bytes_of_first(batch.len()));
        self.cx.stats.failed(settled, "batch of the wrong kind");
        self.cx.report(QueueError::Internal(
          "batch of the wrong kind reached the event task".into(),
        ));
        return;
      }
    };
    let (left_out, left_out_bytes) = self.aggregator.sample(&mut run);
    if left_out > 0 {
      self.cx.stats.sample_out(left_out, left_out_bytes);
    }
    if !run.is_empty() {
      self.current = Some(run);
    }
  }

  /// Does all the work that needs no waiting: hands staged documents over while slots are free,
  /// moves the current batch into the buffer (cutting a document each time it fills), cuts the
  /// buffer for flushes whose barrier was reached, and completes flushes whose documents have all
  /// settled.
  fn advance(&mut self) {
    loop {
      if self.may_hand_over() {
        while self.in_flight.len() < self.cx.max_in_flight {
          let Some(staged) = self.staged.pop_front() else {
            break;
          };
          self.hand_over(staged);
        }
      }
      if self.staged.len() >= STAGE_AHEAD && self.spool.is_none() {
        break;
      }
      if self.absorb_step() {
        continue;
      }
      let received = self.received;
      let Some(waiter) = self
        .waiters
        .iter()
        .position(|w| w.target.is_none() && w.barrier <= received)
      else {
        break;
      };
      self.cut();
      self.waiters[waiter].target = Some(self.next_seq);
    }
    self.complete_waiters();
  }

  /// Resolves every flush whose documents have all settled.
  fn complete_waiters(&mut self) {
    if self.waiters.is_empty() {
      return;
    }
    let oldest = self
      .staged
      .front()
      .map(|s| s.made.seq)
      .into_iter()
      .chain(self.in_flight_info.values().map(|f| f.made.seq))
      .min()
      .unwrap_or(self.next_seq);
    // `target` is the first sequence number the flush does not wait for.
    self.resolve_waiters(|waiter| waiter.target.is_some_and(|t| oldest >= t));
  }

  /// Resolves (and forgets) every flush for which `done` holds; a shutdown among them ends the
  /// loop.
  fn resolve_waiters(&mut self, done: impl Fn(&Waiter) -> bool) {
    let mut index = 0;
    while index < self.waiters.len() {
      if done(&self.waiters[index]) {
        let waiter = self.waiters.remove(index).expect("index is in range");
        self.finished |= waiter.shutdown;
        let _ = waiter.done.send(());
      } else {
        index += 1;
      }
    }
  }

  /// Adds a run to the buffer, merging the buffered runs when the buffer has no free slot.
  fn buffer_run(&mut self, run: RunOf<A>) {
    if run.is_empty() {
      return;
    }
    self.buffered += run.len();
    self.buffered_bytes += run.bytes();
    if let Err(run) = self.buffer.push(run) {
      let mut runs = Vec::with_capacity(BUFFER_RUNS + 1);
      while let Some(buffered) = self.buffer.pop() {
        runs.push(buffered);
      }
      runs.push(run);
      // The buffer is empty now, so this push has room.
      let _ = self.buffer.push(ItemRun::merge(runs));
    }
  }

  /// Aggregates whatever is buffered and stages its document.
  fn cut(&mut self) {
    if self.buffered == 0 {
      return;
    }
    let mut runs = Vec::with_capacity(self.buffer.len());
    while let Some(run) = self.buffer.pop() {
      runs.push(run);
    }
    let items = std::mem::take(&mut self.buffered) as u64;
    let bytes = std::mem::take(&mut self.buffered_bytes);
    self.last_publish = Instant::now();
    let now = Utc::now();
    let aggregator = &mut self.aggregator;
    let wire = (self.format, &self.id);
    let made = panic_report::quietly(|| {
      catch_unwind(AssertUnwindSafe(|| {
        let aggregation = aggregator.aggregate(runs, now);
        let document = Document::render(
          wire.0,
          wire.1,
          aggregator.kind(),
          now,
          &aggregation.measurements,
        );
        (aggregation.dropped_values, document)
      }))
    });
    let (dropped_values, document) = match made {
      Ok(made) => made,
      Err(panic) => {
        let message = format!("aggregation panicked: {}", panic_message(&*panic));
        self.cx.stats.failed(Settled::items(items, bytes), &message);
        self.cx.report(QueueError::Internal(message));
        return;
      }
    };
    if dropped_values > 0 {
      self.cx.stats.add_dropped_values(dropped_values);
    }
    match document {
      None => self
        .cx
        .stats
        .published(Settled::items(items, bytes), 0, now),
      Some(document) => {
        let made = Made {
          seq: self.next_seq,
          items,
          bytes,
          records: document.record_count as u64,
          slot: None,
          replayed: false,
        };
        self.next_seq += 1;
        let staged = Staged {
          made,
          document: Some(Arc::new(document)),
          held: 0,
        };
        if let Some(staged) = self.spool_document(staged) {
          self.staged.push_back(staged);
        }
      }
    }
  }

  /// With a spool: appends a new document to it (making room by dropping the oldest spooled
  /// documents when `spoolMaxBytes` would be passed) and returns it to stage; `None` when it had
  /// to be dropped itself. Without a spool, or when it cannot be written (a disk error, a
  /// document larger than the whole spool), it stays in memory only, as without a spool.
  fn spool_document(&mut self, mut staged: Staged) -> Option<Staged> {
    if self.spool.is_none() {
      return Some(staged);
    }
    let document = Arc::clone(
      staged
        .document
        .as_ref()
        .expect("a new document is in memory"),
    );
    let charge = QueueSpool::charge_of(&document);
    let mut dropped_any = false;
    let has_room = |state: &Option<SpoolState>| {
      state
        .as_ref()
        .is_some_and(|state| state.spool.has_room(charge))
    };
    while !has_room(&self.spool) && self.drop_oldest_spooled() {
      dropped_any = true;
    }
    let state = self.spool.as_mut().expect("checked above");
    if !state.spool.has_room(charge) {
      if !dropped_any {
        // None of this queue's staged documents is on disk (what fills the spool is in flight,
        // or another queue's, or this document is larger than `spoolMaxBytes`). Keep it in
        // memory.
        return Some(staged);
      }
      self.overflow(staged.made);
      return None;
    }
    match state.spool.append(&document, staged.made.items) {
      Ok(slot) => {
        state.failure_reported = false;
        self
          .cx
          .stats
          .spooled(staged.made.items, staged.made.bytes, slot.len);
        staged.made.bytes = 0;
        staged.made.slot = Some(slot);
        let len = document.json.len() as u64;
        if state.staged_memory + len <= STAGED_MEMORY {
          state.staged_memory += len;
          staged.held = len;
        } else {
          staged.document = None;
        }
      }
      Err(err) => {
        let report = !std::mem::replace(&mut state.failure_reported, true);
        if report {
          self.cx.report(QueueError::Spool(format!(
            "could not append a document, which stays in memory only: {err}"
          )));
        }
      }
    }
    Some(staged)
  }

  /// Drops the oldest spooled document that is not in flight, to make room; `false` if there is
  /// none.
  fn drop_oldest_spooled(&mut self) -> bool {
    let Some(index) = self.staged.iter().position(|s| s.made.slot.is_some()) else {
      return false;
    };
    let staged = self.staged.remove(index).expect("index is in range");
    let made = staged.made;
    self.release(&staged);
    self.overflow(made);
    let state = self.spool.as_mut().expect("only called with a spool");
    state.spool.resolve(made.slot.expect("checked above"));
    true
  }

  /// Counts a document dropped because the spool is full, and says so once per run of drops.
  fn overflow(&mut self, made: Made) {
    const FULL: &str = "the spool is full (spoolMaxBytes): its oldest documents are dropped";
    if made.replayed {
      self
        .cx
        .stats
        .replay_settled(made.slot.map_or(0, |s| s.len), false);
      self.cx.stats.note_error(FULL);
    } else {
      self.cx.stats.spill_dropped(made.settled(), FULL);
    }
    let state = self.spool.as_mut().expect("only called with a spool");
    if !std::mem::replace(&mut state.overflow_reported, true) {
      self.cx.report(QueueError::Spool(format!(
        "{FULL}, their items counted in stats().dropped, until the transport takes documents again"
      )));
    }
  }

  /// Forgets a staged document's in-memory copy.
  fn release(&mut self, staged: &Staged) {
    if let Some(state) = self.spool.as_mut() {
      state.staged_memory -= staged.held;
    }
  }

  /// Whether staged documents may be handed over now: with a spool, not while waiting after every
  /// transport failed, and only once appends are as durable as `spoolSync` asks.
  fn may_hand_over(&mut self) -> bool {
    let Some(state) = self.spool.as_mut() else {
      return true;
    };
    if let Err(err) = state.spool.sync_due() {
      if !std::mem::replace(&mut state.failure_reported, true) {
        self.cx.report(QueueError::Spool(format!(
          "could not sync the spool: {err}"
        )));
      }
    }
    match state.retry_at {
      Some(at) if at > Instant::now() => false,
      _ => {
        state.retry_at = None;
        true
      }
    }
  }

  /// Hands a document to the chain (in order) and awaits its delivery concurrently.
  fn hand_over(&mut self, staged: Staged) {
    self.release(&staged);
    let made = staged.made;
    let document = match (staged.document, made.slot) {
      (Some(document), _) => document,
      (None, Some(slot)) => {
        let state = self
          .spool
          .as_mut()
          .expect("spooled documents exist only with a spool");
        match state.spool.read(slot) {
          Ok(spooled) => Arc::new(spooled.into_document()),
          Err(err) => {
            // Removed or damaged behind our back: it cannot be delivered.
            state.spool.resolve(slot);
            let message = format!("a spooled document could not be read back: {err}");
            self.count_failed(made, &message);
            self.cx.report(QueueError::Spool(message));
            return;
          }
        }
      }
      (None, None) => unreachable!("a staged document is in memory or on disk"),
    };
    let delivery = self.cx.chain.publish(document);
    let handle = self.in_flight.spawn(panic_report::expected(delivery));
    self.in_flight_info.insert(
      handle.id(),
      InFlight {
        abort: handle,
        made,
        handed_at: Instant::now(),
      },
    );
  }

  /// Counts a document as failed for good: its items (or, replayed, the document) leave.
  fn count_failed(&mut self, made: Made, error: &str) {
    if made.replayed {
      self
        .cx
        .stats
        .replay_settled(made.slot.map_or(0, |s| s.len), false);
      self.cx.stats.note_error(error);
    } else {
      self.cx.stats.failed(made.settled(), error);
    }
  }

  /// With a spool, a document not delivered (yet) goes back among the staged, in order, to be
  /// handed over again; it stays on disk meanwhile.
  fn restage(&mut self, made: Made) {
    let at = self.staged.partition_point(|s| s.made.seq < made.seq);
    self.staged.insert(
      at,
      Staged {
        made,
        document: None,
        held: 0,
      },
    );
  }

  /// Accounts for one finished (or aborted) publish.
  fn settle(&mut self, joined: Joined) {
    let Some(info) = self.in_flight_info.remove(&joined_id(&joined)) else {
      return;
    };
    let made = info.made;
    let spooled = made.slot.is_some();
    if self.cx.publishes.is_enabled() {
      self.emit_publish(&made, info.handed_at, &joined);
    }
    match joined {
      Ok((_, outcome)) => {
        self
          .cx
          .stats
          .record_attempts(&outcome.attempts, &outcome.in_doubt);
        match outcome.result {
          Ok(()) => self.delivered(made),
          Err(error) if spooled && error.retryable => self.keep_for_later(made, error),
          Err(error) => {
            if let (Some(state), Some(slot)) = (self.spool.as_mut(), made.slot) {
              // Refused for good (a 4xx): replaying it would be refused again.
              state.spool.resolve(slot);
            }
            self.count_failed(made, &error.to_string());
            self.cx.report(QueueError::Transport(error));
          }
        }
      }
      Err(error) if spooled && error.is_cancelled() => {
        // A deadline or a stop aborted it; it stays on disk for a later hand-over or process.
        self.restage(made);
      }
      Err(error) => {
        let message = if error.is_cancelled() {
          "publish not confirmed before the flush deadline".to_string()
        } else {
          format!(
            "publish task panicked: {}",
            panic_message(&*error.into_panic())
          )
        };
        if let (Some(state), Some(slot)) = (self.spool.as_mut(), made.slot) {
          state.spool.resolve(slot);
        }
        self.count_failed(made, &message);
        self
          .cx
          .report(QueueError::Transport(TransportError::retryable(
            self.cx.chain.name(),
            message,
          )));
      }
    }
  }

  /// Tells the publish observer how a document ended (a failure kept in the spool included).
  fn emit_publish(&self, made: &Made, handed_at: Instant, joined: &Joined) {
    let (transport, error) = match joined {
      Ok((_, outcome)) => {
        let last = outcome.attempts.last().map(|(member, _)| *member);
        let name = last.map_or(self.cx.chain.name(), |member| {
          self.cx.chain.member_name(member)
        });
        (name, outcome.result.as_ref().err().map(ToString::to_string))
      }
      Err(error) if error.is_cancelled() => (
        self.cx.chain.name(),
        Some("publish not confirmed before the flush deadline".to_string()),
      ),
      Err(_) => (
        self.cx.chain.name(),
        Some("publish task panicked".to_string()),
      ),
    };
    self.cx.publishes.emit(PublishEvent {
      alias: Arc::clone(&self.cx.alias_shared),
      kind: self.cx.kind,
      transport,
      records: made.records,
      items: if made.replayed { 0 } else { made.items },
      duration: handed_at.elapsed(),
      error,
    });
  }

  /// A document confirmed by a transport: it leaves the spool, and the pending counts.
  fn delivered(&mut self, made: Made) {
    if let (Some(state), Some(slot)) = (self.spool.as_mut(), made.slot) {
      state.spool.resolve(slot);
      state.retry_wait = SPOOL_RETRY_FIRST;
      // The transport takes documents again: a later overflow is a new run, reported anew.
      state.overflow_reported = false;
    }
    if made.replayed {
      self
        .cx
        .stats
        .replay_settled(made.slot.map_or(0, |s| s.len), true);
    } else {
      self
        .cx
        .stats
        .published(made.settled(), made.records, Utc::now());
    }
  }

  /// A spooled document every transport failed: kept on disk and offered again after a pause
  /// that grows while failures continue.
  fn keep_for_later(&mut self, made: Made, mut error: TransportError) {
    let state = self
      .spool
      .as_mut()
      .expect("spooled documents exist only with a spool");
    let now = Instant::now();
    // One pause per wave of failures (the documents in flight together), doubling per wave.
    if state.retry_at.is_none_or(|at| at <= now) {
      let wait = state.retry_wait;
      state.retry_wait = (wait * 2).min(SPOOL_RETRY_MAX);
      state.retry_at = Some(now + wait);
    }
    let wait = state.retry_at.map_or(Duration::ZERO, |at| at - now);
    error.message = format!(
      "{} (kept in the spool; offered again in {} ms)",
      error.message,
      wait.as_millis()
    );
    self.restage(made);
    self.cx.report(QueueError::Transport(error));
  }

  /// The earliest flush deadline has passed: everything that flush waits for and that is not
  /// confirmed yet fails now. Documents not handed over never will be; those in flight are
  /// aborted; items not yet aggregated (the buffer, the current batch, the data lane up to the
  /// barrier) are counted as failed without being read into a document.
  async fn expire(&mut self, data: &mut mpsc::Receiver<ItemBatch>) {
    let now = Instant::now();
    let Some(last) = self.waiters.iter().rposition(|w| w.deadline <= now) else {
      return;
    };
    // Barriers grow with arrival order: the last expired flush covers the earlier ones.
    let (barrier, target) = (self.waiters[last].barrier, self.waiters[last].target);
    const LATE: &str = "not published before the flush deadline";
    if target.is_none() && self.spool.is_some() {
      // With a spool, what the flush covers becomes documents on disk now (local work, no
      // waiting on the transport) rather than failing: it stays pending there.
      while self.received < barrier {
        let Ok(batch) = data.try_recv() else { break };
        self.take(batch);
        self.absorb_current();
      }
      self.absorb_current();
      self.cut();
    } else if target.is_none() {
      let (mut items, mut bytes) = self.discard_unaggregated();
      while self.received < barrier {
        let Ok(batch) = data.try_recv() else { break };
        self.received += 1;
        items += batch.len() as u64;
        bytes += batch.bytes_of_first(batch.len());
      }
      if items > 0 {
        self.cx.stats.failed(Settled::items(items, bytes), LATE);
      }
    }
    let covered = |seq: u64| target.is_none_or(|t| seq < t);
    // Spooled documents are not lost at a deadline: they stay on disk, staged.
    let mut index = 0;
    while index < self.staged.len() && covered(self.staged[index].made.seq) {
      if self.staged[index].made.slot.is_some() {
        index += 1;
        continue;
      }
      let staged = self.staged.remove(index).expect("index is in range");
      self.count_failed(staged.made, LATE);
    }
    let aborted: Vec<Id> = self
      .in_flight_info
      .iter()
      .filter(|(_, info)| covered(info.made.seq))
      .map(|(id, _)| *id)
      .collect();
    if !aborted.is_empty() {
      let mut pending = aborted.len();
      for id in &aborted {
        self.in_flight_info[id].abort.abort();
      }
      while pending > 0 {
        let Some(joined) = self.in_flight.join_next_with_id().await else {
          break;
        };
        if aborted.contains(&joined_id(&joined)) {
          pending -= 1;
        }
        self.settle(joined);
      }
    }
    // Deadlines are met even if something above left work behind: resolve them now.
    self.resolve_waiters(|waiter| waiter.deadline <= now);
  }

  /// Moves the current batch into the buffer, cutting a document each time the buffer fills.
  fn absorb_current(&mut self) {
    while self.absorb_step() {}
  }

  /// Moves the front of the current batch into the buffer, up to a full buffer, and cuts a
  /// document when it is full; `false` when there is no current batch.
  fn absorb_step(&mut self) -> bool {
    let Some(mut run) = self.current.take() else {
      return false;
    };
    let front = run.split_front(self.capacity - self.buffered);
    self.buffer_run(front);
    if !run.is_empty() {
      self.current = Some(run);
    }
    if self.buffered >= self.capacity {
      self.cut();
    }
    true
  }

  /// Empties the buffer and the current batch without aggregating them; returns the items and
  /// bytes discarded, which the caller counts as failed.
  fn discard_unaggregated(&mut self) -> (u64, u64) {
    let mut items = std::mem::take(&mut self.buffered) as u64;
    let mut bytes = std::mem::take(&mut self.buffered_bytes);
    while self.buffer.pop().is_some() {}
    if let Some(run) = self.current.take() {
      items += run.len() as u64;
      bytes += run.bytes();
    }
    (items, bytes)
  }

  /// The loop has ended: whatever is still buffered, staged, in flight or queued in the lanes
  /// was not delivered. After a shutdown's flush nothing is left but pushes that raced it; this
  /// keeps the accounting whole however the loop ended.
  async fn abandon(
    &mut self,
    mut data: mpsc::Receiver<ItemBatch>,
    mut control: mpsc::Receiver<Control>,
  ) {
    const STOPPED: &str = "queue stopped before these items were published";
    data.close();
    control.close();
    let (mut items, mut bytes) = self.discard_unaggregated();
    while let Ok(batch) = data.try_recv() {
      items += batch.len() as u64;
      bytes += batch.bytes_of_first(batch.len());
    }
    if items > 0 {
      self.cx.stats.failed(Settled::items(items, bytes), STOPPED);
    }
    self.in_flight.abort_all();
    while let Some(joined) = self.in_flight.join_next_with_id().await {
      self.settle(joined);
    }
    // Spooled documents stay on disk (and pending): the next process on the spool replays them.
    for staged in std::mem::take(&mut self.staged) {
      if staged.made.slot.is_none() {
        self.count_failed(staged.made, STOPPED);
      }
    }
    if let Some(state) = self.spool.as_mut() {
      if let Err(err) = state.spool.close() {
        let error = QueueError::Spool(format!("could not sync the spool at shutdown: {err}"));
        self.cx.report(error);
      }
    }
    // Flushes still waiting (or arriving now) resolve with the accounting as it stands.
    for waiter in std::mem::take(&mut self.waiters) {
      let _ = waiter.done.send(());
    }
    while let Ok(request) = control.try_recv() {
      let (Control::Flush { done, .. } | Control::Shutdown { done, .. }) = request;
      let _ = done.send(());
    }
  }
}

/// What `JoinSet::join_next_with_id` gives back for one publish.
type Joined = std::result::Result<(Id, Outcome), JoinError>;

/// The task id of a joined publish, whether it finished or was aborted.
fn joined_id(joined: &Joined) -> Id {
  match joined {
    Ok((id, _)) => *id,
    Err(error) => error.id(),
  }
}

/// `sleep_until` for a branch that is only enabled when the instant is known.
async fn sleep_until(at: Option<Instant>) {
  match at {
    Some(at) => tokio::time::sleep_until(at).await,
    None => std::future::pending().await,
  }
}

/// The text of a caught panic.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
  if let Some(text) = panic.downcast_ref::<&str>() {
    text.to_string()
  } else if let Some(text) = panic.downcast_ref::<String>() {
    text.clone()
  } else {
    "unknown panic".to_string()
  }
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "queue_spool_tests.rs"]
mod spool_tests;

#[cfg(test)]
#[path = "queue_wire_tests.rs"]
mod wire_tests;
