//! Opening, flushing and shutting down the queues of one `fromPath`. `openQueues` returns a
//! failure as data (`BindingError`) so that profile errors keep their file and field. Background
//! failures reach `onError`; failover switches, which are events and not errors, reach `onEvent`.

use std::path::PathBuf;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use tokio::time::Instant;

use super::config::{
  argument_duration, transports_into_core, BindingProfileSource, BindingQueueOptions,
  BindingTransportConfig,
};
use super::error::{BindingError, ErrorCode};
use super::mock_store::BindingMockStore;
use super::queue::BindingQueue;
use crate::core::error::QueueError;
use crate::core::profile::ProfileSource;
use crate::core::queue::{ErrorSink, QueueOptions};
use crate::core::scouter_queue::ScouterQueues;
use crate::core::transport::{BreakerOptions, ChainEvent, StateSink};

/// A background failure, as handed to the `onError` callback.
#[napi(object)]
pub struct BindingErrorEvent {
  pub alias: String,
  pub code: String,
  pub message: String,
}

/// `onError`: called on the main thread; never keeps the process alive (weak).
type ErrorCallback =
  ThreadsafeFunction<BindingErrorEvent, (), BindingErrorEvent, Status, false, true>;

/// What the chain reports about its transports, for `onEvent`: a union keyed by `type`.
#[napi(discriminant = "type", discriminant_case = "kebab-case")]
pub enum BindingTransportEvent {
  /// A transport's circuit breaker opened, probed or closed.
  TransportState {
    /// The transport's name (`"kafka"`).
    transport: String,
    /// Its position in the list given to `fromPath`, from 0.
    index: u32,
    #[napi(ts_type = "'closed' | 'open' | 'half-open'")]
    from: String,
    #[napi(ts_type = "'closed' | 'open' | 'half-open'")]
    to: String,
    reason: String,
    /// Milliseconds since the epoch.
    at: f64,
  },
  /// A transport became reachable (its first confirmation, or the first after failures) or
  /// unreachable (a retryable failure).
  TransportConnection {
    transport: String,
    index: u32,
    connected: bool,
    reason: String,
    /// Milliseconds since the epoch.
    at: f64,
  },
}

impl From<ChainEvent> for BindingTransportEvent {
  fn from(event: ChainEvent) -> Self {
    match event {
      ChainEvent::State(change) => BindingTransportEvent::TransportState {
        transport: change.transport.to_string(),
        index: change.index as u32,
        from: change.from.as_str().to_string(),
        to: change.to.as_str().to_string(),
        reason: change.reason,
        at: change.at.timestamp_millis() as f64,
      },
      ChainEvent::Connection(change) => BindingTransportEvent::TransportConnection {
        transport: change.transport.to_string(),
        index: change.index as u32,
        connected: change.connected,
        reason: change.reason,
        at: change.at.timestamp_millis() as f64,
      },
    }
  }
}

/// `onEvent`: like `onError`, called on the main thread and weak.
type EventCallback =
  ThreadsafeFunction<BindingTransportEvent, (), BindingTransportEvent, Status, false, true>;

/// A document a queue settled, for the publish observers of the facade.
#[napi(object)]
pub struct BindingPublishEvent {
  pub alias: String,
  /// `"spc"`, `"psi"`, `"custom"`, `"llm"` or `"genai"`.
  pub kind: String,
  /// The transport that confirmed it, or the last one that failed it.
  pub transport: String,
  pub records: f64,
  /// Items of this process in it (0 for a document replayed from the spool).
  pub items: f64,
  /// From hand-over to the answer.
  pub duration_ms: f64,
  /// Why it failed; absent when it was confirmed.
  pub error: Option<String>,
}

/// Publish events: like `onError`, called on the main thread and weak.
type PublishCallback =
  ThreadsafeFunction<BindingPublishEvent, (), BindingPublishEvent, Status, false, true>;

/// The queues of one `fromPath`.
#[napi]
pub struct BindingScouterQueue {
  inner: Arc<ScouterQueues>,
}

/// Loads the profiles, connects the transports (a list is a failover chain; `mocks[i]` is the
/// store of a Mock transport at position `i`) and starts the queues. Resolves with the queues,
/// or with a `BindingError` describing why they could not start.
#[napi(ts_return_type = "Promise<BindingScouterQueue | BindingError>")]
pub fn open_queues<'env>(
  env: &'env Env,
  sources: Vec<BindingProfileSource>,
  transports: Vec<BindingTransportConfig>,
  #[napi(ts_arg_type = "Array<BindingMockStore | undefined | null>")] mocks: Vec<
    Option<&BindingMockStore>,
  >,
  options: BindingQueueOptions,
  #[napi(ts_arg_type = "((event: BindingErrorEvent) => void) | undefined | null")] on_error: Option<
    ErrorCallback,
  >,
  #[napi(ts_arg_type = "((event: BindingTransportEvent) => void) | undefined | null")]
  on_event: Option<EventCallback>,
) -> Result<PromiseRaw<'env, Either<BindingScouterQueue, BindingError>>> {
  let prepared = transports_into_core(transports, mocks).and_then(|configs| {
    let queue_options = QueueOptions::try_from(&options)?;
    let breaker = BreakerOptions::try_from(&options)?;
    Ok((configs, breaker, queue_options, options.connect_timeout()?))
  });
  let on_state: StateSink = match on_event {
    Some(callback) => Arc::new(move |event: ChainEvent| {
      callback.call(event.into(), ThreadsafeFunctionCallMode::NonBlocking);
    }),
    None => Arc::new(|_: ChainEvent| {}),
  };
  let sink: ErrorSink = match on_error {
    Some(callback) => Arc::new(move |alias: &str, error: &QueueError| {
      let event = BindingErrorEvent {
        alias: alias.to_string(),
        code: ErrorCode::from(error).as_ref().to_string(),
        message: error.to_string(),
      };
      callback.call(event, ThreadsafeFunctionCallMode::NonBlocking);
    }),
    None => Arc::new(|_: &str, _: &QueueError| {}),
  };
  // Profiles given as objects have no file: their errors name the alias, and carry no `file`.
  let mut in_memory = Vec::new();
  let sources: Vec<(String, ProfileSource)> = sources
    .into_iter()
    .map(|source| {
      let origin = match source.json {
        Some(text) => {
          let name = format!("(the profile object of alias '{}')", source.alias);
          in_memory.push(name.clone());
          ProfileSource::Json { name, text }
        }
        None => ProfileSource::File(PathBuf::from(source.path)),
      };
      (source.alias, origin)
    })
    .collect();
  env.spawn_future(async move {
    let (configs, breaker, options, connect_timeout) = match prepared {
      Ok(prepared) => prepared,
      Err(error) => return Ok(Either::B(error.into())),
    };
    let opened = ScouterQueues::open(
      sources,
      configs,
      breaker,
      on_state,
      options,
      sink,
      connect_timeout,
    );
    Ok(match opened.await {
      Ok(queues) => Either::A(BindingScouterQueue {
        inner: Arc::new(queues),
      }),
      Err(error) => {
        let mut error = BindingError::from(error);
        if error
          .file
          .as_ref()
          .is_some_and(|file| in_memory.contains(file))
        {
          error.file = None;
        }
        Either::B(error)
      }
    })
  })
}

/// The deadline of a flush or shutdown; `None` lets the queues use `flushTimeoutMs`.
fn deadline(timeout_ms: Option<f64>) -> std::result::Result<Option<Instant>, QueueError> {
  timeout_ms
    .map(|ms| argument_duration("timeoutMs", ms).map(|timeout| Instant::now() + timeout))
    .transpose()
}

#[napi]
impl BindingScouterQueue {
  /// The aliases, sorted.
  #[napi]
  pub fn aliases(&self) -> Vec<String> {
    self.inner.queues().keys().cloned().collect()
  }

  /// The queue of `alias`, or null.
  #[napi]
  pub fn queue(&self, alias: String) -> Option<BindingQueue> {
    self.inner.queue(&alias).map(|bus| BindingQueue {
      bus: Arc::clone(bus),
      chain: Arc::clone(self.inner.chain()),
    })
  }

  /// Things in the profiles that load but look wrong.
  #[napi]
  pub fn warnings(&self) -> Vec<String> {
    self.inner.warnings().to_vec()
  }

  /// Where publish events go (only the first call counts); they flow only while switched on
  /// with `setPublishEvents(true)`.
  #[napi(ts_args_type = "callback: (event: BindingPublishEvent) => void")]
  pub fn observe_publishes(&self, callback: PublishCallback) {
    self.inner.publishes().set_sink(move |event| {
      let event = BindingPublishEvent {
        alias: event.alias.to_string(),
        kind: event.kind.as_str().to_string(),
        transport: event.transport.to_string(),
        records: event.records as f64,
        items: event.items as f64,
        duration_ms: event.duration.as_secs_f64() * 1000.0,
        error: event.error,
      };
      callback.call(event, ThreadsafeFunctionCallMode::NonBlocking);
    });
  }

  /// Switches publish events on or off.
  #[napi]
  pub fn set_publish_events(&self, enabled: bool) {
    self.inner.publishes().set_enabled(enabled);
  }

  /// Resolves when everything pushed before the call has settled (or the timeout passed); with
  /// a `BindingError` if the queues could not be flushed at all.
  #[napi]
  pub async fn flush(&self, timeout_ms: Option<f64>) -> Option<BindingError> {
    let deadline = match deadline(timeout_ms) {
      Ok(deadline) => deadline,
      Err(error) => return Some(error.into()),
    };
    self
      .inner
      .flush(deadline)
      .await
      .err()
      .map(BindingError::from)
  }

  /// Flushes, then stops every task and closes the transport. Idempotent.
  #[napi]
  pub async fn shutdown(&self, timeout_ms: Option<f64>) -> Option<BindingError> {
    let deadline = match deadline(timeout_ms) {
      Ok(deadline) => deadline,
      Err(error) => return Some(error.into()),
    };
    self
      .inner
      .shutdown(deadline)
      .await
      .err()
      .map(BindingError::from)
  }
}
