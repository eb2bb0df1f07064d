//! Order for transports whose client API is async all the way down (RabbitMQ, Redis, HTTP).
//! `publish` must hand a document over before it returns, so each such transport owns one task
//! that takes documents from a channel in order and runs the transport's *hand-over* step for
//! each; the confirmation that step returns is awaited concurrently, so hand-over is ordered
//! while confirmations overlap.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use super::Confirmation;
use crate::core::error::TransportError;
use crate::core::record::Document;

type Job = (Arc<Document>, oneshot::Sender<Result<(), TransportError>>);

/// The sending side: cheap to call from `Transport::publish`.
pub struct Dispatcher {
  name: &'static str,
  /// `None` once closed. Unbounded, but never long: each queue has at most `max_in_flight`
  /// documents handed over and unconfirmed.
  jobs: Mutex<Option<mpsc::UnboundedSender<Job>>>,
}

/// What a transport does with each document, in order: hand it over and return the wait for its
/// confirmation.
pub trait HandOver: Send + 'static {
  fn hand_over(&mut self, document: Arc<Document>) -> impl Future<Output = Confirmation> + Send;
}

impl Dispatcher {
  /// Starts the task that runs `handler` for each document. Must be called on a runtime.
  pub fn start(name: &'static str, mut handler: impl HandOver) -> Self {
    let (jobs, mut rx) = mpsc::unbounded_channel::<Job>();
    tokio::spawn(async move {
      while let Some((document, done)) = rx.recv().await {
        let confirmation = handler.hand_over(document).await;
        tokio::spawn(async move {
          let _ = done.send(confirmation.await);
        });
      }
    });
    Dispatcher {
      name,
      jobs: Mutex::new(Some(jobs)),
    }
  }

  /// Queues `document` for hand-over; the returned future resolves with its confirmation.
  pub fn publish(&self, document: Arc<Document>) -> Confirmation {
    let (done, confirmed) = oneshot::channel();
    let queued = match &*self.jobs.lock().unwrap_or_else(|p| p.into_inner()) {
      Some(jobs) => jobs.send((document, done)).is_ok(),
      None => false,
    };
    let name = self.name;
    Box::pin(async move {
      if !queued {
        return Err(TransportError::permanent(name, "the transport is closed"));
      }
      confirmed.await.unwrap_or_else(|_| {
        Err(TransportError::retryable(
          name,
          "the publisher task stopped",
        ))
      })
    })
  }

  /// Stops taking documents; the task ends once those already queued are handed over.
  pub fn close(&self) {
    self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
  }
}

/// A confirmation that is already known.
pub fn settled(result: Result<(), TransportError>) -> Confirmation {
  Box::pin(std::future::ready(result))
}
