//! One event per settled document, for observers outside the core (diagnostics channels, a
//! logger at debug level, metrics). Off until an observer switches it on: a process that observes
//! nothing pays one relaxed atomic load per document, and builds no event.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::core::profile::DriftKind;

/// A document that a queue settled: confirmed by a transport, or failed for good.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishEvent {
  pub alias: Arc<str>,
  pub kind: DriftKind,
  /// The transport that confirmed it, or the last one that failed it.
  pub transport: &'static str,
  pub records: u64,
  /// Items of this process in it (0 for a document replayed from the spool).
  pub items: u64,
  /// From hand-over to the answer.
  pub duration: Duration,
  /// Why it failed; `None` when it was confirmed.
  pub error: Option<String>,
}

/// Where publish events go once switched on. The sink is set once, after the queues started.
#[derive(Default)]
pub struct PublishObserver {
  enabled: AtomicBool,
  sink: OnceLock<Box<dyn Fn(PublishEvent) + Send + Sync>>,
}

impl PublishObserver {
  pub fn new() -> Arc<Self> {
    Arc::new(PublishObserver::default())
  }

  /// Where events go; only the first call counts.
  pub fn set_sink(&self, sink: impl Fn(PublishEvent) + Send + Sync + 'static) {
    let _ = self.sink.set(Box::new(sink));
  }

  /// Switches events on or off.
  pub fn set_enabled(&self, enabled: bool) {
    self.enabled.store(enabled, Ordering::Relaxed);
  }

  /// Whether an event should be built at all.
  #[inline]
  pub fn is_enabled(&self) -> bool {
    self.enabled.load(Ordering::Relaxed) && self.sink.get().is_some()
  }

  /// Hands `event` to the sink, if events are on.
  pub fn emit(&self, event: PublishEvent) {
    if let (true, Some(sink)) = (self.enabled.load(Ordering::Relaxed), self.sink.get()) {
      sink(event);
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::Mutex;

  fn event() -> PublishEvent {
    PublishEvent {
      alias: "a".into(),
      kind: DriftKind::Psi,
      transport: "mock",
      records: 1,
      items: 2,
      duration: Duration::from_millis(3),
      error: None,
    }
  }

  #[test]
  fn events_flow_only_while_enabled_and_with_a_sink() {
    let observer = PublishObserver::new();
    observer.set_enabled(true);
    assert!(!observer.is_enabled(), "no sink yet");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let into = Arc::clone(&seen);
    observer.set_sink(move |event| into.lock().unwrap().push(event));
    observer.emit(event());
    observer.set_enabled(false);
    observer.emit(event());
    assert!(!observer.is_enabled());
    assert_eq!(seen.lock().unwrap().as_slice(), &[event()]);
  }
}
