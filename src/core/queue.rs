//! One queue per alias, in the original's design: a `QueueBus` that the caller inserts through, a
//! bounded channel to an event task that fills a fixed-capacity crossbeam `ArrayQueue` and
//! publishes it when full, a timer task for PSI and Custom, and a `TaskState` that stops both
//! through a `CancellationToken`.
//!
//! What differs from the original, on purpose:
//! - `push` never blocks and never sleeps: items past `max_pending_items` are dropped and counted.
//! - Publishes run concurrently (up to `max_in_flight` per queue) and settle in the stats only
//!   when the transport confirmed them; `flush` and `shutdown` wait for exactly that, with an
//!   optional deadline after which what is still unconfirmed counts as failed.
//! - A panic in an aggregator is caught and counted; it never takes the queue down.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use crossbeam_queue::ArrayQueue;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinError, JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::core::aggregate::{
  Aggregator, CustomAggregator, LlmAggregator, PsiAggregator, SpcAggregator,
};
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::flush_deadlines::FlushDeadlines;
use crate::core::item::{ItemBatch, QueueItem};
use crate::core::profile::{DriftKind, DriftProfile, ProfileSpec, Slot};
use crate::core::record::Document;
use crate::core::retry::{confirm_with_retry, RetryPolicy};
use crate::core::stats::{QueueStats, StatsSnapshot};
use crate::core::transport::Transport;

/// Options shared by every queue of a `ScouterQueue`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueOptions {
  /// PSI and Custom publish what is buffered once this long has passed since the last publish.
  pub flush_interval: Duration,
  /// The bound on items accepted but not yet settled, per queue.
  pub max_pending_items: usize,
  /// Documents of one queue being published at the same time. 64 keeps librdkafka busy: with
  /// 16, its linger and acks=all round trips capped throughput near 1M rows/s (bench/kafka-e2e.js).
  pub max_in_flight: usize,
}

impl Default for QueueOptions {
  fn default() -> Self {
    QueueOptions {
      flush_interval: Duration::from_secs(30),
      max_pending_items: 100_000,
      max_in_flight: 64,
    }
  }
}

/// Where background failures are reported: `(alias, error)`. Called from runtime threads.
pub type ErrorSink = Arc<dyn Fn(&str, &QueueError) + Send + Sync>;

/// What travels from the caller (and the timer) to the event task.
enum Event {
  Items(ItemBatch),
  Flush {
    deadline: Option<Instant>,
    done: oneshot::Sender<()>,
  },
  Tick,
}

/// The background tasks of one queue, and the token that stops them.
pub struct TaskState {
  token: CancellationToken,
  event_task: JoinHandle<()>,
  timer_task: Option<JoinHandle<()>>,
}

impl TaskState {
  /// Cancels both tasks and waits until they have ended.
  async fn stop(self) {
    self.token.cancel();
    // A task that panicked has already been accounted for by the event loop's own guards.
    let _ = self.event_task.await;
    if let Some(timer) = self.timer_task {
      let _ = timer.await;
    }
  }
}

/// The caller's handle on one queue.
pub struct QueueBus {
  alias: String,
  identifier: String,
  kind: DriftKind,
  slots: Vec<Slot>,
  tx: mpsc::Sender<Event>,
  stats: Arc<QueueStats>,
  deadlines: Arc<FlushDeadlines>,
  closed: AtomicBool,
  /// `Some` until shutdown; an async mutex so that a second `shutdown` waits for the first.
  tasks: tokio::sync::Mutex<Option<TaskState>>,
}

impl QueueBus {
  /// Starts the queue's tasks on the current runtime.
  pub fn start(
    alias: String,
    profile: DriftProfile,
    transport: Arc<dyn Transport>,
    policy: RetryPolicy,
    options: &QueueOptions,
    sink: ErrorSink,
  ) -> Arc<Self> {
    let identifier = profile.identifier();
    let kind = profile.kind();
    let slots = profile.slots();
    let capacity = profile.capacity();
    let stats = Arc::new(QueueStats::new(options.max_pending_items));
    // Every item message carries at least one accepted item, so the pending bound caps them;
    // the extra room is for flush and tick messages.
    let (tx, rx) = mpsc::channel(options.max_pending_items.max(1) + 64);
    let token = CancellationToken::new();
    let last_publish = Arc::new(Mutex::new(Instant::now()));
    let deadlines = Arc::new(FlushDeadlines::default());

    let context = LoopContext {
      alias: alias.clone(),
      stats: Arc::clone(&stats),
      transport,
      policy,
      sink,
      max_in_flight: options.max_in_flight.max(1),
      last_publish: Arc::clone(&last_publish),
      flush_interval: options.flush_interval,
      deadlines: Arc::clone(&deadlines),
    };
    let id = profile.id;
    let event_task = match profile.spec {
      ProfileSpec::Spc(spec) => spawn_event_loop(
        SpcAggregator::new(id, spec),
        capacity,
        context,
        rx,
        token.clone(),
      ),
      ProfileSpec::Psi(spec) => spawn_event_loop(
        PsiAggregator::new(id, spec),
        capacity,
        context,
        rx,
        token.clone(),
      ),
      ProfileSpec::Custom(spec) => spawn_event_loop(
        CustomAggregator::new(id, spec),
        capacity,
        context,
        rx,
        token.clone(),
      ),
      ProfileSpec::Llm(spec) => spawn_event_loop(
        LlmAggregator::new(id, spec),
        capacity,
        context,
        rx,
        token.clone(),
      ),
    };
    let timer_task = matches!(kind, DriftKind::Psi | DriftKind::Custom).then(|| {
      tokio::spawn(run_timer(
        tx.clone(),
        last_publish,
        options.flush_interval,
        token.clone(),
      ))
    });

    Arc::new(QueueBus {
      alias,
      identifier,
      kind,
      slots,
      tx,
      stats,
      deadlines,
      closed: AtomicBool::new(false),
      tasks: tokio::sync::Mutex::new(Some(TaskState {
        token,
        event_task,
        timer_task,
      })),
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

  /// The row layout callers encode into (empty for LLM).
  pub fn slots(&self) -> &[Slot] {
    &self.slots
  }

  /// Hands a batch to the event task without waiting. Returns how many items were accepted; the
  /// rest were refused by the pending bound and counted as dropped.
  pub fn push(&self, mut batch: ItemBatch) -> Result<u64> {
    if self.closed.load(Ordering::Acquire) {
      return Err(QueueError::Closed {
        alias: self.alias.clone(),
      });
    }
    match (&batch, self.kind) {
      (ItemBatch::Llm(_), DriftKind::Llm) => {}
      (ItemBatch::Rows(rows), kind)
        if kind != DriftKind::Llm && rows.width() == self.slots.len() => {}
      _ => {
        return Err(QueueError::Internal(format!(
          "a batch of the wrong shape was pushed into {} queue `{}`",
          self.kind.as_str(),
          self.alias
        )))
      }
    }
    let items = batch.len() as u64;
    if items == 0 {
      return Ok(0);
    }
    let accepted = self.stats.admit(items);
    if accepted == 0 {
      return Ok(0);
    }
    batch.truncate(accepted as usize);
    if self.tx.try_send(Event::Items(batch)).is_err() {
      self.stats.reject(accepted);
      return Ok(0);
    }
    Ok(accepted)
  }

  /// Publishes what is buffered and waits until everything pushed before this call has settled.
  /// With a deadline, what is still unconfirmed then counts as failed.
  pub async fn flush(&self, deadline: Option<Instant>) -> Result<()> {
    if self.closed.load(Ordering::Acquire) {
      return Ok(());
    }
    self.request_flush(deadline).await
  }

  async fn request_flush(&self, deadline: Option<Instant>) -> Result<()> {
    // Registered before the message is sent, so that the event task honours it on its way there.
    let _registered = deadline.map(|deadline| self.deadlines.register(deadline));
    let (done, finished) = oneshot::channel();
    let stopped = || {
      QueueError::Internal(format!(
        "the event task of queue `{}` has stopped",
        self.alias
      ))
    };
    self
      .tx
      .send(Event::Flush { deadline, done })
      .await
      .map_err(|_| stopped())?;
    finished.await.map_err(|_| stopped())
  }

  /// Flushes, then stops the tasks. Idempotent: later calls wait for the first and return.
  pub async fn shutdown(&self, deadline: Option<Instant>) -> Result<()> {
    let mut tasks = self.tasks.lock().await;
    let Some(state) = tasks.take() else {
      return Ok(());
    };
    self.closed.store(true, Ordering::Release);
    let flushed = self.request_flush(deadline).await;
    state.stop().await;
    flushed
  }

  /// A consistent reading of the counters.
  pub fn stats(&self) -> StatsSnapshot {
    self.stats.snapshot()
  }
}

/// What the event loop shares with the rest of the queue.
struct LoopContext {
  alias: String,
  stats: Arc<QueueStats>,
  transport: Arc<dyn Transport>,
  policy: RetryPolicy,
  sink: ErrorSink,
  max_in_flight: usize,
  last_publish: Arc<Mutex<Instant>>,
  flush_interval: Duration,
  /// Deadlines of the flushes on their way to this task.
  deadlines: Arc<FlushDeadlines>,
}

impl LoopContext {
  fn report(&self, error: QueueError) {
    self.stats.note_error(&error.to_string());
    (self.sink)(&self.alias, &error);
  }

  fn mark_published(&self) {
    *self.last_publish.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
  }
}

/// A document being published and the items it settles.
struct Publish {
  items: u64,
  records: u64,
  result: Result<(), TransportError>,
}

/// The state the event task owns.
struct EventLoop<A: Aggregator> {
  aggregator: A,
  buffer: ArrayQueue<A::Item>,
  in_flight: JoinSet<Publish>,
  /// Items per in-flight publish, so that an aborted one can still be counted.
  in_flight_items: HashMap<tokio::task::Id, u64>,
  cx: LoopContext,
}

fn spawn_event_loop<A: Aggregator>(
  aggregator: A,
  capacity: usize,
  cx: LoopContext,
  rx: mpsc::Receiver<Event>,
  token: CancellationToken,
) -> JoinHandle<()> {
  let event_loop = EventLoop {
    aggregator,
    buffer: ArrayQueue::new(capacity.max(1)),
    in_flight: JoinSet::new(),
    in_flight_items: HashMap::new(),
    cx,
  };
  tokio::spawn(event_loop.run(rx, token))
}

impl<A: Aggregator> EventLoop<A> {
  async fn run(mut self, mut rx: mpsc::Receiver<Event>, token: CancellationToken) {
    loop {
      tokio::select! {
        biased;
        _ = token.cancelled() => break,
        Some(joined) = self.in_flight.join_next_with_id(), if !self.in_flight.is_empty() => self.settle(joined),
        event = rx.recv() => match event {
          Some(event) => self.handle(event).await,
          None => break,
        },
      }
    }
    self.abandon(rx);
  }

  async fn handle(&mut self, event: Event) {
    match event {
      Event::Items(batch) => self.take(batch).await,
      Event::Flush { deadline, done } => {
        self.publish_buffer().await;
        self.wait_in_flight(deadline).await;
        let _ = done.send(());
      }
      Event::Tick => {
        let due = *self
          .cx
          .last_publish
          .lock()
          .unwrap_or_else(|p| p.into_inner())
          + self.cx.flush_interval;
        if Instant::now() >= due {
          self.publish_buffer().await;
          self.cx.mark_published();
        }
      }
    }
  }

  /// Moves a batch's items into the buffer, publishing each time it fills.
  async fn take(&mut self, batch: ItemBatch) {
    let items = match A::Item::unpack_all(batch) {
      Ok(items) => items,
      Err(batch) => {
        // `QueueBus::push` checks shapes, so this is a bug; count the items rather than lose them.
        let count = batch.len() as u64;
        self.cx.stats.failed(count, "batch of the wrong kind");
        self.cx.report(QueueError::Internal(
          "batch of the wrong kind reached the event task".into(),
        ));
        return;
      }
    };
    let mut sampled_out = 0;
    for item in items {
      if !self.aggregator.admit(&item) {
        sampled_out += 1;
        continue;
      }
      if let Err(item) = self.buffer.push(item) {
        // Unreachable while the buffer is published as soon as it fills; stay correct anyway.
        self.publish_buffer().await;
        let _ = self.buffer.push(item);
      }
      if self.buffer.is_full() {
        self.publish_buffer().await;
      }
    }
    if sampled_out > 0 {
      self.cx.stats.sample_out(sampled_out);
    }
  }

  /// Aggregates whatever is buffered and starts publishing its document.
  async fn publish_buffer(&mut self) {
    let mut items = Vec::with_capacity(self.buffer.len());
    while let Some(item) = self.buffer.pop() {
      items.push(item);
    }
    if items.is_empty() {
      return;
    }
    let count = items.len() as u64;
    self.cx.mark_published();
    let now = Utc::now();
    let aggregator = &mut self.aggregator;
    let aggregation = match catch_unwind(AssertUnwindSafe(|| aggregator.aggregate(items, now))) {
      Ok(aggregation) => aggregation,
      Err(panic) => {
        let message = format!("aggregation panicked: {}", panic_message(&*panic));
        self.cx.stats.failed(count, &message);
        self.cx.report(QueueError::Internal(message));
        return;
      }
    };
    if aggregation.dropped_values > 0 {
      self.cx.stats.add_dropped_values(aggregation.dropped_values);
    }
    match Document::from_records(self.aggregator.kind(), &aggregation.records) {
      None => self.cx.stats.published(count, 0, 0, now),
      Some(document) => self.start_publish(document, count).await,
    }
  }

  async fn start_publish(&mut self, document: Document, items: u64) {
    self.wait_for_slot().await;
    let transport = Arc::clone(&self.cx.transport);
    let policy = self.cx.policy;
    let records = document.record_count as u64;
    let document = Arc::new(document);
    // Handed over here, in order; only the confirmation is awaited concurrently.
    let first = transport.publish(Arc::clone(&document));
    let handle = self.in_flight.spawn(async move {
      let result = confirm_with_retry(transport.as_ref(), &document, first, &policy).await;
      Publish {
        items,
        records,
        result,
      }
    });
    self.in_flight_items.insert(handle.id(), items);
  }

  /// Accounts for one finished (or aborted) publish.
  fn settle(&mut self, joined: std::result::Result<(tokio::task::Id, Publish), JoinError>) {
    match joined {
      Ok((id, publish)) => {
        self.in_flight_items.remove(&id);
        match publish.result {
          Ok(()) => self
            .cx
            .stats
            .published(publish.items, publish.records, 1, Utc::now()),
          Err(error) => {
            self.cx.stats.failed(publish.items, &error.to_string());
            self.cx.report(QueueError::Transport(error));
          }
        }
      }
      Err(error) => {
        let items = self.in_flight_items.remove(&error.id()).unwrap_or(0);
        let message = if error.is_cancelled() {
          "publish not confirmed before the flush deadline".to_string()
        } else {
          format!(
            "publish task panicked: {}",
            panic_message(&*error.into_panic())
          )
        };
        self.cx.stats.failed(items, &message);
        self
          .cx
          .report(QueueError::Transport(TransportError::retryable(
            self.cx.transport.name(),
            message,
          )));
      }
    }
  }

  /// Waits until fewer than `max_in_flight` publishes are in flight. A flush requested meanwhile
  /// may be queued behind the items being published, so the wait honours the earliest pending
  /// flush deadline, including one registered after it began; at that deadline, what is in
  /// flight is aborted and counted as failed.
  async fn wait_for_slot(&mut self) {
    let deadlines = Arc::clone(&self.cx.deadlines);
    while self.in_flight.len() >= self.cx.max_in_flight {
      let registered = deadlines.registered();
      tokio::pin!(registered);
      registered.as_mut().enable();
      let deadline = deadlines.earliest();
      tokio::select! {
        joined = self.in_flight.join_next_with_id() => match joined {
          Some(joined) => self.settle(joined),
          None => return,
        },
        _ = &mut registered => {}
        _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
          self.abort_in_flight().await;
        }
      }
    }
  }

  /// Aborts every publish in flight and settles them (as failed, unless one just finished).
  async fn abort_in_flight(&mut self) {
    self.in_flight.abort_all();
    while let Some(joined) = self.in_flight.join_next_with_id().await {
      self.settle(joined);
    }
  }

  /// Waits until every in-flight publish settled; at `deadline`, aborts the rest (they count as
  /// failed).
  async fn wait_in_flight(&mut self, deadline: Option<Instant>) {
    while self.settle_next(deadline).await {}
  }

  /// Settles the next publish to finish. At `deadline`, aborts and settles every publish in
  /// flight instead. Returns false when nothing was in flight.
  async fn settle_next(&mut self, deadline: Option<Instant>) -> bool {
    if self.in_flight.is_empty() {
      return false;
    }
    let next = match deadline {
      None => self.in_flight.join_next_with_id().await,
      Some(deadline) => {
        match tokio::time::timeout_at(deadline, self.in_flight.join_next_with_id()).await {
          Ok(next) => next,
          Err(_elapsed) => {
            self.abort_in_flight().await;
            return true;
          }
        }
      }
    };
    match next {
      Some(joined) => {
        self.settle(joined);
        true
      }
      None => false,
    }
  }

  /// The loop was stopped: whatever is still buffered, in flight or queued in the channel was not
  /// delivered. After a shutdown's final flush there is nothing left; this keeps the accounting
  /// whole if the loop is stopped any other way.
  fn abandon(&mut self, mut rx: mpsc::Receiver<Event>) {
    let mut lost = self.buffer.len() as u64;
    while self.buffer.pop().is_some() {}
    rx.close();
    while let Ok(event) = rx.try_recv() {
      match event {
        Event::Items(batch) => lost += batch.len() as u64,
        Event::Flush { done, .. } => {
          let _ = done.send(());
        }
        Event::Tick => {}
      }
    }
    self.in_flight.abort_all();
    lost += self
      .in_flight_items
      .drain()
      .map(|(_, items)| items)
      .sum::<u64>();
    if lost > 0 {
      self
        .cx
        .stats
        .failed(lost, "queue stopped before these items were published");
    }
  }
}

/// PSI and Custom: asks the event task to publish once `interval` has passed since the last
/// publish. The clock starts when the queue starts.
async fn run_timer(
  tx: mpsc::Sender<Event>,
  last_publish: Arc<Mutex<Instant>>,
  interval: Duration,
  token: CancellationToken,
) {
  // After a tick is sent, the event task resets `last_publish`; until it has, do not tick again.
  let mut not_before = Instant::now();
  loop {
    let last = *last_publish.lock().unwrap_or_else(|p| p.into_inner());
    let due = (last + interval).max(not_before);
    tokio::select! {
      _ = token.cancelled() => return,
      _ = tokio::time::sleep_until(due) => {}
    }
    let last = *last_publish.lock().unwrap_or_else(|p| p.into_inner());
    if Instant::now() >= last + interval {
      // A full channel means the event task is busy with items; it will see the next tick.
      if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(Event::Tick) {
        return;
      }
      not_before = Instant::now() + interval;
    }
  }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
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
