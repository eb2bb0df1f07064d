//! Panics never reach the process. The addon runs inside someone's service, and a panic in a
//! runtime thread (a transport's task, a bug in a dependency) would otherwise only print to
//! stderr while its queue's accounting silently stopped. A panic hook, installed once when the
//! addon loads, hands every panic to the live `ScouterQueue`s, which put it in their stats and
//! report it through `onError`. Code that catches its own panics (an aggregator, the event loop)
//! marks itself with [`quietly`] or [`expected`], so the same panic is not reported twice.

use std::cell::Cell;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::task::Poll;

/// Told the text of each panic that nothing else catches.
pub type PanicObserver = dyn Fn(&str) + Send + Sync;

static OBSERVERS: Mutex<Vec<Weak<PanicObserver>>> = Mutex::new(Vec::new());

thread_local! {
  /// How many `quietly` sections this thread is inside.
  static QUIET: Cell<u32> = const { Cell::new(0) };
}

/// Registers `observer` for as long as it lives (the registry holds it weakly).
pub fn observe(observer: &Arc<PanicObserver>) {
  let mut observers = OBSERVERS.lock().unwrap_or_else(|p| p.into_inner());
  observers.retain(|weak| weak.strong_count() > 0);
  observers.push(Arc::downgrade(observer));
}

/// Hands a panic's text to every live observer; false when there is none to tell.
pub fn report(message: &str) -> bool {
  let observers: Vec<Arc<PanicObserver>> = OBSERVERS
    .lock()
    .unwrap_or_else(|p| p.into_inner())
    .iter()
    .filter_map(Weak::upgrade)
    .collect();
  for observer in &observers {
    observer(message);
  }
  !observers.is_empty()
}

/// Whether the current thread is inside a section whose panics are caught and reported there.
pub fn is_quiet() -> bool {
  QUIET.with(|quiet| quiet.get() > 0)
}

/// Runs `f`, whose panics the caller catches and reports itself.
pub fn quietly<T>(f: impl FnOnce() -> T) -> T {
  struct Section;
  impl Drop for Section {
    fn drop(&mut self) {
      QUIET.with(|quiet| quiet.set(quiet.get().saturating_sub(1)));
    }
  }
  QUIET.with(|quiet| quiet.set(quiet.get() + 1));
  let _section = Section;
  f()
}

/// A future whose panics the caller catches (a `JoinError`, `catch_unwind`): each poll runs
/// [`quietly`].
pub fn expected<F: Future>(future: F) -> impl Future<Output = F::Output> {
  let mut future = Box::pin(future);
  std::future::poll_fn(move |cx| -> Poll<F::Output> { quietly(|| future.as_mut().poll(cx)) })
}

/// Installs the process-wide hook: a panic outside a quiet section goes to the observers, or to
/// stderr when there is none.
pub fn install_hook() {
  std::panic::set_hook(Box::new(|info| {
    if is_quiet() {
      return;
    }
    let message = info.to_string();
    if !report(&message) {
      eprintln!("scouter-queue: {message}");
    }
  }));
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn observers_hear_panics_while_they_live() {
    let heard = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&heard);
    let observer: Arc<PanicObserver> = Arc::new(move |m: &str| sink.lock().unwrap().push(m.into()));
    observe(&observer);
    assert!(report("one"));
    drop(observer);
    report("two");
    assert_eq!(*heard.lock().unwrap(), ["one"]);
  }

  #[test]
  fn quiet_sections_nest_and_end_on_unwind() {
    assert!(!is_quiet());
    let caught = std::panic::catch_unwind(|| quietly(|| quietly(|| panic!("inside"))));
    assert!(caught.is_err());
    assert!(!is_quiet());
    assert!(quietly(is_quiet));
  }
}
