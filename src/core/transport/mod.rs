//! Where documents go. Every transport implements one trait. `publish` hands a document over
//! *before it returns* (so the documents of one queue leave in the order they were made, even
//! with several in flight) and gives back a future that resolves when the destination confirmed
//! it (a written line, a delivery report, a broker ack, a 2xx), so queues never guess with
//! sleeps. Retries, backoff and accounting live in the queue, not here: a transport only says
//! whether a failure is worth retrying.

mod file;
mod mock;

pub use file::{FileConfig, FileTransport};
pub use mock::{MockStore, MockTransport};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;

use crate::core::error::{Result, TransportError};
use crate::core::record::Document;

/// A destination for documents, shared by every queue of a `ScouterQueue`.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
  /// Short name for errors and logs (`"kafka"`, `"file"`).
  fn name(&self) -> &'static str;

  /// Hands `document` over now and returns the wait for its confirmation.
  fn publish(&self, document: Arc<Document>) -> Confirmation;

  /// Makes everything published so far durable (the File transport syncs to disk).
  async fn flush(&self) -> Result<(), TransportError> {
    Ok(())
  }

  /// Releases connections and handles; called once, after the last publish.
  async fn close(&self) -> Result<(), TransportError> {
    Ok(())
  }
}

/// The wait for one document's confirmation.
pub type Confirmation = Pin<Box<dyn Future<Output = Result<(), TransportError>> + Send + 'static>>;

/// Which transport to use, with its options already resolved (option, then env var, then
/// default: that resolution happens once, in the TypeScript config layer).
#[derive(Debug, Clone)]
pub enum TransportConfig {
  Mock(Arc<MockStore>),
  File(FileConfig),
}

impl TransportConfig {
  /// How many times a failed publish is retried after the first attempt.
  pub fn max_retries(&self) -> u32 {
    match self {
      TransportConfig::Mock(store) => store.max_retries(),
      TransportConfig::File(config) => config.max_retries,
    }
  }

  /// Opens the transport.
  pub async fn connect(&self) -> Result<Arc<dyn Transport>> {
    Ok(match self {
      TransportConfig::Mock(store) => Arc::new(MockTransport::new(Arc::clone(store))),
      TransportConfig::File(config) => Arc::new(FileTransport::open(config)?),
    })
  }
}
