//! Order for transports whose client API is async all the way down (RabbitMQ, Redis, HTTP).
//! `publish` must hand a document over before it returns, so each such transport owns one task
//! that takes documents from a channel in order and runs the transport's *hand-over* step for
//! each. A hand-over only puts the document on its way (a PUBLISH written into Redis's pipeline,
//! a POST started, a `basic.publish` sent); the wait for its confirmation goes back to the caller,
//! which awaits it in its own task. So hand-over is ordered while confirmations overlap: one slow
//! answer no longer holds up every other document of every queue.
//!
//! The dispatcher also owns the transport's *closed* state. `close` stops intake, rejects what is
//! queued but not handed over, makes every confirmation still awaited resolve as closed (the
//! caller drops the underlying request with it), and returns only once the task has ended.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Confirmation;
use crate::core::error::TransportError;
use crate::core::wire::Document;

/// A queued document and where its confirmation goes once it is handed over.
type Job = (Arc<Document>, oneshot::Sender<Confirmation>);

/// The sending side: cheap to call from `Transport::publish`.
pub struct Dispatcher {
  name: &'static str,
  /// `None` once closed. Unbounded, but never long: each queue has at most `max_in_flight`
  /// documents handed over and unconfirmed.
  jobs: Mutex<Option<mpsc::UnboundedSender<Job>>>,
  /// Cancelled by `close`; shared with the transport, whose connect paths check it so that
  /// nothing is (re)connected after close.
  closed: CancellationToken,
  /// Holds the hand-over task, so `close` can wait for it to end (and a second `close` waits
  /// just the same).
  tasks: TaskTracker,
}

/// What a transport does with each document, in order: hand it over and return the wait for its
/// confirmation. The hand-over should return as soon as the document is on its way (see
/// [`started`]); everything after that belongs in the returned confirmation.
pub trait HandOver: Send + 'static {
  fn hand_over(&mut self, document: Arc<Document>) -> impl Future<Output = Confirmation> + Send;
}

impl Dispatcher {
  /// Starts the task that runs `handler` for each document. `closed` is cancelled by
  /// [`Dispatcher::close`]; the transport keeps a clone to refuse connecting after close. Must be
  /// called on a runtime.
  pub fn start(name: &'static str, closed: CancellationToken, handler: impl HandOver) -> Self {
    let (jobs, rx) = mpsc::unbounded_channel::<Job>();
    let tasks = TaskTracker::new();
    tasks.spawn(run(name, handler, rx, closed.clone()));
    Dispatcher {
      name,
      jobs: Mutex::new(Some(jobs)),
      closed,
      tasks,
    }
  }

  /// Queues `document` for hand-over; the returned future resolves with its confirmation.
  /// Dropping that future before the hand-over means the document is never handed over (the
  /// queue gave up on it, at a flush deadline); dropping it after drops the request's wait.
  pub fn publish(&self, document: Arc<Document>) -> Confirmation {
    let (done, handed) = oneshot::channel();
    let queued = match &*self.jobs.lock().unwrap_or_else(|p| p.into_inner()) {
      Some(jobs) => jobs.send((document, done)).is_ok(),
      None => false,
    };
    let name = self.name;
    let closed = self.closed.clone();
    Box::pin(async move {
      if !queued {
        return Err(closed_error(name));
      }
      let confirmation = match handed.await {
        Ok(confirmation) => confirmation,
        // The task answers every job it takes, even at close; only a panic drops one.
        Err(_) if closed.is_cancelled() => return Err(closed_error(name)),
        Err(_) => {
          return Err(TransportError::retryable(
            name,
            "the publisher task stopped",
          ))
        }
      };
      tokio::select! {
        // A confirmation that arrived wins over a close that happened meanwhile.
        biased;
        result = confirmation => result,
        _ = closed.cancelled() => Err(closed_error(name)),
      }
    })
  }

  /// Stops intake, rejects every document queued but not handed over (a hand-over under way is
  /// abandoned), makes confirmations still awaited resolve as closed, and returns once the
  /// hand-over task has ended. Idempotent.
  pub async fn close(&self) {
    self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
    self.closed.cancel();
    self.tasks.close();
    self.tasks.wait().await;
  }

  /// Whether the hand-over task has ended (only ever after `close`).
  #[cfg(test)]
  pub fn has_ended(&self) -> bool {
    self.tasks.is_closed() && self.tasks.is_empty()
  }
}

/// The hand-over task: one document at a time, in the order they were published.
async fn run(
  name: &'static str,
  mut handler: impl HandOver,
  mut jobs: mpsc::UnboundedReceiver<Job>,
  closed: CancellationToken,
) {
  loop {
    let job = tokio::select! {
      biased;
      _ = closed.cancelled() => break,
      job = jobs.recv() => job,
    };
    let Some((document, done)) = job else { break };
    if done.is_closed() {
      // The caller stopped waiting (a flush deadline counted it as failed): handing it over
      // now would deliver a document the stats already call lost.
      continue;
    }
    let confirmation = tokio::select! {
      biased;
      _ = closed.cancelled() => {
        let _ = done.send(settled(Err(closed_error(name))));
        break;
      }
      confirmation = handler.hand_over(document) => confirmation,
    };
    // If the caller gave up meanwhile, this drops the confirmation (and so the request's wait).
    let _ = done.send(confirmation);
  }
  jobs.close();
  while let Ok((_document, done)) = jobs.try_recv() {
    let _ = done.send(settled(Err(closed_error(name))));
  }
}

/// The permanent error of a publish after (or during) close.
pub fn closed_error(name: &'static str) -> TransportError {
  TransportError::permanent(name, "the transport is closed")
}

/// A confirmation that is already known.
pub fn settled(result: Result<(), TransportError>) -> Confirmation {
  Box::pin(std::future::ready(result))
}

/// Polls `request` once, here, in the hand-over task, and returns the rest of it as the
/// confirmation. That one poll is what puts a document on its way in order: a Redis command
/// enters the multiplexed connection's pipeline (a fair, FIFO channel), an HTTP request checks a
/// connection out of the pool or starts one. Awaiting the reply is left to the caller.
pub async fn started(
  request: impl Future<Output = Result<(), TransportError>> + Send + 'static,
) -> Confirmation {
  let mut request: Confirmation = Box::pin(request);
  match std::future::poll_fn(|cx| Poll::Ready(request.as_mut().poll(cx))).await {
    Poll::Ready(result) => settled(result),
    Poll::Pending => request,
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::profile::DriftKind;
  use std::time::Duration;
  use tokio::sync::Semaphore;
  use tokio::time::Instant;

  fn doc(n: usize) -> Arc<Document> {
    Arc::new(Document {
      format: crate::core::wire::WireFormat::V0_9,
      kind: DriftKind::Custom,
      record_count: 1,
      json: format!("{{\"n\":{n}}}").into_bytes(),
    })
  }

  /// Records the order of hand-overs. A hand-over waits for a permit of `gate` when there is
  /// one; a hand-over from the `hang_from`-th document on never returns; each confirmation
  /// takes `latency`, or never ends if `None`.
  struct Recorder {
    order: Arc<Mutex<Vec<String>>>,
    gate: Option<Arc<Semaphore>>,
    hang_from: usize,
    latency: Option<Duration>,
  }

  impl HandOver for Recorder {
    async fn hand_over(&mut self, document: Arc<Document>) -> Confirmation {
      let seen = {
        let mut order = self.order.lock().unwrap();
        order.push(document.as_str().to_string());
        order.len()
      };
      if seen > self.hang_from {
        std::future::pending::<()>().await;
      }
      if let Some(gate) = &self.gate {
        gate.acquire().await.unwrap().forget();
      }
      let latency = self.latency;
      Box::pin(async move {
        match latency {
          Some(latency) => tokio::time::sleep(latency).await,
          None => std::future::pending().await,
        }
        Ok(())
      })
    }
  }

  fn recorder(latency: Option<Duration>) -> (Recorder, Arc<Mutex<Vec<String>>>) {
    let order = Arc::new(Mutex::new(Vec::new()));
    let recorder = Recorder {
      order: Arc::clone(&order),
      gate: None,
      hang_from: usize::MAX,
      latency,
    };
    (recorder, order)
  }

  async fn until_handed_over(order: &Mutex<Vec<String>>, count: usize) {
    while order.lock().unwrap().len() < count {
      tokio::task::yield_now().await;
    }
  }

  #[tokio::test(start_paused = true)]
  async fn hand_over_is_ordered_while_confirmations_overlap() {
    let (handler, order) = recorder(Some(Duration::from_millis(200)));
    let dispatcher = Dispatcher::start("test", CancellationToken::new(), handler);
    let started_at = Instant::now();
    let mut confirmations = tokio::task::JoinSet::new();
    for n in 0..20 {
      confirmations.spawn(dispatcher.publish(doc(n)));
    }
    while let Some(result) = confirmations.join_next().await {
      result.unwrap().unwrap();
    }
    // One confirmation time for all 20, not 20 of them one after the other.
    assert_eq!(started_at.elapsed(), Duration::from_millis(200));
    let expected: Vec<String> = (0..20).map(|n| format!("{{\"n\":{n}}}")).collect();
    assert_eq!(*order.lock().unwrap(), expected);
    dispatcher.close().await;
  }

  #[tokio::test]
  async fn close_rejects_queued_documents_ends_waits_and_joins_the_task() {
    // Document 0 is handed over and never confirmed; document 1's hand-over never returns;
    // documents 2 and 3 wait in the queue.
    let (mut handler, order) = recorder(None);
    handler.hang_from = 1;
    let dispatcher = Dispatcher::start("test", CancellationToken::new(), handler);
    let in_flight = tokio::spawn(dispatcher.publish(doc(0)));
    let hanging = tokio::spawn(dispatcher.publish(doc(1)));
    until_handed_over(&order, 2).await;
    let queued: Vec<_> = (2..4).map(|n| dispatcher.publish(doc(n))).collect();

    dispatcher.close().await;
    assert!(dispatcher.has_ended(), "the hand-over task is joined");
    let closed = closed_error("test");
    assert!(!closed.retryable);
    assert_eq!(in_flight.await.unwrap(), Err(closed.clone()));
    assert_eq!(hanging.await.unwrap(), Err(closed.clone()));
    for confirmation in queued {
      assert_eq!(confirmation.await, Err(closed.clone()));
    }
    assert_eq!(dispatcher.publish(doc(9)).await, Err(closed.clone()));
    assert_eq!(
      order.lock().unwrap().len(),
      2,
      "nothing queued was handed over"
    );
    dispatcher.close().await;
  }

  #[tokio::test]
  async fn a_document_nobody_waits_for_is_not_handed_over() {
    let (mut handler, order) = recorder(Some(Duration::ZERO));
    let gate = Arc::new(Semaphore::new(0));
    handler.gate = Some(Arc::clone(&gate));
    let dispatcher = Dispatcher::start("test", CancellationToken::new(), handler);
    let first = tokio::spawn(dispatcher.publish(doc(0)));
    until_handed_over(&order, 1).await;
    // Given up (as at a flush deadline) while the first hand-over is still under way.
    drop(dispatcher.publish(doc(1)));
    let third = tokio::spawn(dispatcher.publish(doc(2)));
    gate.add_permits(2);
    first.await.unwrap().unwrap();
    third.await.unwrap().unwrap();
    assert_eq!(
      *order.lock().unwrap(),
      vec!["{\"n\":0}".to_string(), "{\"n\":2}".to_string()]
    );
    dispatcher.close().await;
  }
}
