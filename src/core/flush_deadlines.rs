//! The deadlines of the flushes a queue's event task has not finished yet. A flush travels
//! through the event channel behind the items inserted before it, and the task may block on the
//! way (waiting for an in-flight slot while the transport is down); every such wait honours the
//! earliest deadline registered here, so `flush(timeout)` and `shutdown(timeout)` settle on time
//! even when the loop is not yet at their message.

use std::sync::Mutex;

use tokio::sync::futures::Notified;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The set of pending flush deadlines; shared by the queue's handle and its event task.
#[derive(Debug, Default)]
pub struct FlushDeadlines {
  pending: Mutex<Vec<Instant>>,
  registered: Notify,
}

impl FlushDeadlines {
  /// Registers `deadline` until the returned guard is dropped.
  pub fn register(&self, deadline: Instant) -> DeadlineGuard<'_> {
    self.lock().push(deadline);
    self.registered.notify_waiters();
    DeadlineGuard {
      deadlines: self,
      deadline,
    }
  }

  /// The earliest deadline of the flushes in progress, if any has one.
  pub fn earliest(&self) -> Option<Instant> {
    self.lock().iter().min().copied()
  }

  /// Completes when a deadline is registered after it was enabled (`Notified::enable`), so a
  /// wait that started before the flush can pick up its deadline.
  pub fn registered(&self) -> Notified<'_> {
    self.registered.notified()
  }

  fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Instant>> {
    // Only pushes and removals happen under the lock, so a poisoned one still holds a valid list.
    self
      .pending
      .lock()
      .unwrap_or_else(|poison| poison.into_inner())
  }
}

/// Removes its deadline from the set when the flush is over (or its future is dropped).
pub struct DeadlineGuard<'a> {
  deadlines: &'a FlushDeadlines,
  deadline: Instant,
}

impl Drop for DeadlineGuard<'_> {
  fn drop(&mut self) {
    let mut pending = self.deadlines.lock();
    if let Some(index) = pending.iter().position(|d| *d == self.deadline) {
      pending.swap_remove(index);
    }
  }
}

#[cfg(test)]
mod tests {
  use std::time::Duration;

  use super::*;

  #[test]
  fn earliest_is_the_minimum_of_the_registered_deadlines() {
    let deadlines = FlushDeadlines::default();
    let now = Instant::now();
    assert_eq!(deadlines.earliest(), None);
    let late = deadlines.register(now + Duration::from_secs(9));
    let early = deadlines.register(now + Duration::from_secs(1));
    let same = deadlines.register(now + Duration::from_secs(1));
    assert_eq!(deadlines.earliest(), Some(now + Duration::from_secs(1)));
    drop(early);
    assert_eq!(
      deadlines.earliest(),
      Some(now + Duration::from_secs(1)),
      "the twin is still there"
    );
    drop(same);
    assert_eq!(deadlines.earliest(), Some(now + Duration::from_secs(9)));
    drop(late);
    assert_eq!(deadlines.earliest(), None);
  }
}
