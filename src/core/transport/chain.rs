//! A failover chain: the transports of one `fromPath`, in order of preference, each behind its
//! own circuit breaker. A document goes to the first member whose breaker admits it; if it fails
//! there after that member's retries, it moves on to the next admitting member, and so on. A
//! member whose breaker opened is skipped until its probe shows it works again, and then traffic
//! fails back to it. A single transport is a chain of one, and behaves exactly as the transport
//! alone: every document goes to it, with its retries, whatever its breaker says.
//!
//! The chain is not a [`Transport`]: a delivery may span several members, and the queue counts
//! per member what was confirmed and what failed ([`Outcome::attempts`]).
//!
//! A member that hangs must not hold documents for ever (a dead Kafka broker keeps its messages
//! for `message.timeout.ms`, ten minutes by default, and each one holds one of the queue's
//! in-flight slots): a document unconfirmed for `failure_timeout` opens the member's breaker and
//! is handed to the next admitting member, while the first may still deliver it.
//!
//! At-least-once window: a document can reach two members only when the first failed it *in
//! doubt* ([`TransportError::in_doubt`]) and a later one confirmed it. In doubt means: the
//! transport said so (Kafka: a message that timed out after it was sent may have been written),
//! or the chain gave up waiting after `failure_timeout` (the member may still deliver it).
//! [`Outcome::in_doubt`] names those members, and the queue counts them per transport.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::Instant;

use super::breaker::{Admission, BreakerOptions, BreakerState, CircuitBreaker, Role, Switch};
use super::{check_ready, Confirmation, Transport, TransportConfig, TransportEvents};
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::retry::{confirm_with_retry_while, RetryPolicy};
use crate::core::wire::Document;

/// A member's breaker changed state: an event for the application, not an error.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
  /// The member's transport name (`"kafka"`).
  pub transport: &'static str,
  /// Its position in the chain, from 0.
  pub index: usize,
  pub from: BreakerState,
  pub to: BreakerState,
  pub reason: String,
  pub at: DateTime<Utc>,
}

/// A member became reachable or unreachable, as its publishes show it: the first document it
/// confirmed (connected), a failure that may be a lost connection (a retryable one: a refusal
/// says nothing about the link), and the first confirmation after such failures (reconnected).
/// An event for logs and the application, not an error: the documents are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionChange {
  /// The member's transport name (`"kafka"`).
  pub transport: &'static str,
  /// Its position in the chain, from 0.
  pub index: usize,
  pub connected: bool,
  /// The failure, or what the confirmation ended (`"after 3 failed attempts over 2.1 s"`).
  pub reason: String,
  pub at: DateTime<Utc>,
}

/// What the chain reports about its members.
#[derive(Debug, Clone, PartialEq)]
pub enum ChainEvent {
  State(StateChange),
  Connection(ConnectionChange),
}

/// Where chain events go. Called while the member's breaker (or link) is locked, so that one
/// member's events of one kind arrive in order: it must return quickly and must not call into
/// the chain.
pub type StateSink = Arc<dyn Fn(ChainEvent) + Send + Sync>;

/// A member as `stats()` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberState {
  pub name: &'static str,
  pub state: BreakerState,
  pub last_switch_at: Option<DateTime<Utc>>,
}

/// How one document's delivery ended.
#[derive(Debug)]
pub struct Outcome {
  /// Each member the document was handed to, in order, and whether it confirmed it.
  pub attempts: Vec<(usize, bool)>,
  /// Members that failed the document in doubt: they may have stored it anyway.
  pub in_doubt: Vec<usize>,
  /// `Ok` once a member confirmed it; otherwise the last member's error, naming the earlier ones.
  pub result: std::result::Result<(), TransportError>,
}

/// The wait for one document's delivery through the chain.
pub type Delivery = Pin<Box<dyn Future<Output = Outcome> + Send + 'static>>;

/// One transport of the chain.
struct Member {
  transport: Arc<dyn Transport>,
  /// From this member's own `maxRetries`.
  policy: RetryPolicy,
  breaker: Mutex<CircuitBreaker>,
  /// Whether its publishes show it reachable; `link_up` lets a confirmation skip the lock.
  link: Mutex<Link>,
  link_up: AtomicBool,
}

/// A member's link, as its publishes show it.
#[derive(Debug, Clone, Copy)]
enum Link {
  /// Nothing confirmed or failed yet.
  Unknown,
  Up,
  /// Failing retryably since `since`, `failures` attempts so far.
  Down {
    since: Instant,
    failures: u32,
  },
}

impl Member {
  fn breaker(&self) -> MutexGuard<'_, CircuitBreaker> {
    // The breaker is plain arithmetic; a panic in the state sink must not disable the chain.
    self.breaker.lock().unwrap_or_else(|p| p.into_inner())
  }
}

/// The transports of one `ScouterQueue`, shared by all its queues.
pub struct Chain {
  members: Vec<Member>,
  /// The members' names joined by `>` (`"kafka>file"`); the member's own name for one.
  name: &'static str,
  failure_timeout: Duration,
  on_state: StateSink,
  /// Counts state changes, for whoever must wait while every member is open.
  switches: watch::Sender<u64>,
}

impl Chain {
  /// Connects every transport, in order. If one cannot be set up, those already connected are
  /// closed and its error is returned.
  pub async fn connect(
    configs: Vec<TransportConfig>,
    breaker: BreakerOptions,
    events: TransportEvents,
    on_state: StateSink,
  ) -> Result<Arc<Chain>> {
    if configs.is_empty() {
      return Err(QueueError::Config("no transport was given".into()));
    }
    let mut members = Vec::with_capacity(configs.len());
    for config in &configs {
      match config.connect(events.clone()).await {
        Ok(transport) => members.push((transport, RetryPolicy::new(config.max_retries()))),
        Err(error) => {
          for (transport, _) in &members {
            let _ = transport.close().await;
          }
          return Err(error);
        }
      }
    }
    Ok(Chain::new(members, breaker, on_state))
  }

  /// A chain over transports already open. `members` must not be empty.
  pub fn new(
    members: Vec<(Arc<dyn Transport>, RetryPolicy)>,
    breaker: BreakerOptions,
    on_state: StateSink,
  ) -> Arc<Chain> {
    assert!(!members.is_empty(), "a chain needs at least one transport");
    let name = match members.as_slice() {
      [(only, _)] => only.name(),
      _ => intern(
        members
          .iter()
          .map(|(transport, _)| transport.name())
          .collect::<Vec<_>>()
          .join(">"),
      ),
    };
    Arc::new(Chain {
      members: members
        .into_iter()
        .map(|(transport, policy)| Member {
          transport,
          policy,
          breaker: Mutex::new(CircuitBreaker::new(breaker)),
          link: Mutex::new(Link::Unknown),
          link_up: AtomicBool::new(false),
        })
        .collect(),
      name,
      failure_timeout: breaker.failure_timeout,
      on_state,
      switches: watch::Sender::new(0),
    })
  }

  /// How many transports the chain has.
  pub fn len(&self) -> usize {
    self.members.len()
  }

  /// Never true: a chain has at least one member.
  pub fn is_empty(&self) -> bool {
    self.members.is_empty()
  }

  /// For messages: `"kafka>file"`, or the transport's own name for a chain of one.
  pub fn name(&self) -> &'static str {
    self.name
  }

  /// The name of member `index` (`"kafka"`); the chain's name for an index it does not have.
  pub fn member_name(&self, index: usize) -> &'static str {
    self
      .members
      .get(index)
      .map_or(self.name, |member| member.transport.name())
  }

  /// Hands `document` to the first member whose breaker admits it, *before returning* (so a
  /// queue's documents leave in order, as [`Transport::publish`] promises), and returns the wait
  /// for its delivery, which moves it on to the next admitting member if that one fails it.
  /// When no member admits it (all open), it goes to the member whose probe is due soonest; a
  /// document fails only once every member failed it.
  pub fn publish(self: &Arc<Self>, document: Arc<Document>) -> Delivery {
    let tried = vec![false; self.members.len()];
    let (index, admission) = self
      .choose(&tried)
      .or_else(|| self.force(&tried))
      .expect("a chain has members, none tried yet");
    let first = self.members[index].transport.publish(Arc::clone(&document));
    let chain = Arc::clone(self);
    Box::pin(async move {
      chain
        .deliver(document, tried, index, admission, first)
        .await
    })
  }

  /// Each member's name, state and last switch, in chain order.
  pub fn states(&self) -> Vec<MemberState> {
    self
      .members
      .iter()
      .map(|member| {
        let breaker = member.breaker();
        MemberState {
          name: member.transport.name(),
          state: breaker.state(),
          last_switch_at: breaker.last_switch_at(),
        }
      })
      .collect()
  }

  /// Whether some member would take a document now.
  pub fn any_admits(&self) -> bool {
    let now = Instant::now();
    self
      .members
      .iter()
      .any(|member| member.breaker().admits(now))
  }

  /// The soonest probe of an open member; `None` when no member is open, or when every
  /// member that is not closed has its probe in flight (then [`subscribe`](Self::subscribe)
  /// tells when it settles).
  pub fn next_probe_at(&self) -> Option<Instant> {
    let probes = self.members.iter();
    probes
      .filter_map(|member| member.breaker().next_probe_at())
      .min()
  }

  /// A counter of state changes: `changed()` on it wakes whoever waits for a member to recover.
  pub fn subscribe(&self) -> watch::Receiver<u64> {
    self.switches.subscribe()
  }

  /// Checks every member's connection (`connectTimeoutMs`); the first failure names its member.
  pub async fn ready(&self, timeout: Duration) -> Result<()> {
    let checks = self
      .members
      .iter()
      .map(|member| check_ready(member.transport.as_ref(), timeout));
    futures_util::future::join_all(checks)
      .await
      .into_iter()
      .collect()
  }

  /// Makes every member durable; returns the first failure.
  pub async fn flush(&self) -> std::result::Result<(), TransportError> {
    let mut result = Ok(());
    for member in &self.members {
      let flushed = member.transport.flush().await;
      if result.is_ok() {
        result = flushed;
      }
    }
    result
  }

  /// Closes every member, even when one fails; returns the first failure.
  pub async fn close(&self) -> std::result::Result<(), TransportError> {
    let mut result = Ok(());
    for member in &self.members {
      let closed = member.transport.close().await;
      if result.is_ok() {
        result = closed;
      }
    }
    result
  }

  /// Waits for the document on each member in turn until one confirms it or none is left that
  /// admits it.
  async fn deliver(
    self: Arc<Self>,
    document: Arc<Document>,
    mut tried: Vec<bool>,
    mut index: usize,
    mut admission: Admission,
    mut confirmation: Confirmation,
  ) -> Outcome {
    let mut attempts = Vec::with_capacity(1);
    let mut in_doubt = Vec::new();
    let mut earlier = Vec::new();
    loop {
      tried[index] = true;
      let mut unsettled = Unsettled {
        chain: &self,
        index,
        admission,
        armed: true,
      };
      let attempt = self
        .confirm(index, admission, &document, confirmation, &tried)
        .await;
      unsettled.armed = false;
      let (error, next) = match attempt {
        Attempt::Confirmed => {
          self.link_confirmed(index);
          attempts.push((index, true));
          self.update(index, |breaker, now| {
            ((), breaker.confirmed(admission, now))
          });
          return Outcome {
            attempts,
            in_doubt,
            result: Ok(()),
          };
        }
        Attempt::Failed(error) => {
          let message = error.to_string();
          self.update(index, |breaker, now| {
            ((), breaker.failed(admission, now, &message))
          });
          // Before a document fails, every member gets it once: open ones last, as probes.
          (error, self.choose(&tried).or_else(|| self.force(&tried)))
        }
        // The breaker already heard about it: the hang opened it.
        Attempt::GaveUp(error, next) => (error, Some(next)),
      };
      attempts.push((index, false));
      if error.in_doubt {
        in_doubt.push(index);
      }
      let Some((next, next_admission)) = next else {
        return Outcome {
          attempts,
          in_doubt,
          result: Err(after(error, &earlier)),
        };
      };
      earlier.push(error.to_string());
      confirmation = self.members[next].transport.publish(Arc::clone(&document));
      (index, admission) = (next, next_admission);
    }
  }

  /// Waits for one member's confirmation, with its retries. A document (or probe) unconfirmed
  /// for `failure_timeout` opens the member's breaker and, if another member admits it then, is
  /// handed to that one: given up here, in doubt, since this member may still deliver it. With
  /// no other member to take it (a chain of one), it is awaited here for as long as it takes.
  async fn confirm(
    &self,
    index: usize,
    admission: Admission,
    document: &Arc<Document>,
    first: Confirmation,
    tried: &[bool],
  ) -> Attempt {
    let member = &self.members[index];
    let confirming = confirm_with_retry_while(
      member.transport.as_ref(),
      document,
      first,
      &member.policy,
      || self.may_retry(index, tried),
      |error| self.link_failed(index, error),
    );
    tokio::pin!(confirming);
    if admission.role != Role::Forced {
      tokio::select! {
        biased;
        result = &mut confirming => return Attempt::from(result),
        () = tokio::time::sleep(self.failure_timeout) => {}
      }
      self.update(index, |breaker, now| ((), breaker.overdue(admission, now)));
      if member.breaker().state() != BreakerState::Closed {
        if let Some(next) = self.choose(tried) {
          return Attempt::GaveUp(self.given_up(index), next);
        }
      }
    }
    Attempt::from(confirming.await)
  }

  /// The error of a document handed on after `failure_timeout` without a confirmation.
  fn given_up(&self, index: usize) -> TransportError {
    let mut error = TransportError::permanent(
      self.members[index].transport.name(),
      format!(
        "not confirmed within {} ms (failureTimeoutMs), so handed to the next transport; this \
         one may still deliver it",
        self.failure_timeout.as_millis()
      ),
    );
    error.in_doubt = true;
    error
  }

  /// Whether a member retries a failed document: always while its breaker is closed, and
  /// otherwise only when no other member would take the document (so a chain of one retries
  /// exactly as its transport alone would).
  fn may_retry(&self, index: usize, tried: &[bool]) -> bool {
    if self.members[index].breaker().state() == BreakerState::Closed {
      return true;
    }
    let now = Instant::now();
    !self
      .members
      .iter()
      .enumerate()
      .any(|(i, member)| i != index && !tried[i] && member.breaker().admits(now))
  }

  /// The first member not yet tried whose breaker admits the document; takes the admission.
  fn choose(&self, tried: &[bool]) -> Option<(usize, Admission)> {
    (0..self.members.len())
      .filter(|&index| !tried[index])
      .find_map(|index| {
        let admitted = self.update(index, |breaker, now| match breaker.admit(now) {
          Some((admission, switch)) => (Some(admission), switch),
          None => (None, None),
        });
        admitted.map(|admission| (index, admission))
      })
  }

  /// No member left untried admits the document: of those not tried yet, the one whose probe is
  /// due soonest takes it anyway, as a probe (members with a probe in flight come last; ties go
  /// to the earlier member). So a document fails only once every member failed it.
  fn force(&self, tried: &[bool]) -> Option<(usize, Admission)> {
    let index = (0..self.members.len())
      .filter(|&index| !tried[index])
      .min_by_key(|&index| {
        let due = self.members[index].breaker().next_probe_at();
        (due.is_none(), due)
      })?;
    let admission = self.update(index, |breaker, now| breaker.force(now));
    Some((index, admission))
  }

  /// A member confirmed a document: reports it connected if it was not known to be.
  fn link_confirmed(&self, index: usize) {
    let member = &self.members[index];
    if member.link_up.load(Ordering::Relaxed) {
      return;
    }
    let mut link = member.link.lock().unwrap_or_else(|p| p.into_inner());
    let reason = match *link {
      Link::Up => return,
      Link::Unknown => "first document confirmed".to_string(),
      Link::Down { since, failures } => format!(
        "confirming again after {failures} failed attempt{} over {:.1} s",
        if failures == 1 { "" } else { "s" },
        since.elapsed().as_secs_f64()
      ),
    };
    *link = Link::Up;
    member.link_up.store(true, Ordering::Relaxed);
    // Reported under the lock, so that one member's connection events arrive in order.
    self.report_connection(index, true, reason);
  }

  /// A publish attempt on a member failed: a retryable failure (a lost connection, a time-out,
  /// a 5xx) reports it unreachable, once until it confirms again.
  fn link_failed(&self, index: usize, error: &TransportError) {
    if !error.retryable {
      return;
    }
    let member = &self.members[index];
    let mut link = member.link.lock().unwrap_or_else(|p| p.into_inner());
    match &mut *link {
      Link::Down { failures, .. } => *failures += 1,
      _ => {
        *link = Link::Down {
          since: Instant::now(),
          failures: 1,
        };
        member.link_up.store(false, Ordering::Relaxed);
        self.report_connection(index, false, error.to_string());
      }
    }
  }

  fn report_connection(&self, index: usize, connected: bool, reason: String) {
    (self.on_state)(ChainEvent::Connection(ConnectionChange {
      transport: self.members[index].transport.name(),
      index,
      connected,
      reason,
      at: Utc::now(),
    }));
  }

  /// Applies `change` to a member's breaker and reports the switch it made, if any.
  fn update<T>(
    &self,
    index: usize,
    change: impl FnOnce(&mut CircuitBreaker, Instant) -> (T, Option<Switch>),
  ) -> T {
    let member = &self.members[index];
    let mut breaker = member.breaker();
    let (value, switch) = change(&mut breaker, Instant::now());
    if let Some(switch) = switch {
      // Reported under the lock, so that one member's switches arrive in order.
      (self.on_state)(ChainEvent::State(StateChange {
        transport: member.transport.name(),
        index,
        from: switch.from,
        to: switch.to,
        reason: switch.reason,
        at: switch.at,
      }));
      self.switches.send_modify(|count| *count += 1);
    }
    value
  }
}

/// How waiting on one member ended.
enum Attempt {
  Confirmed,
  /// After the member's retries.
  Failed(TransportError),
  /// Unconfirmed for `failure_timeout`, and the member chosen next.
  GaveUp(TransportError, (usize, Admission)),
}

impl From<std::result::Result<(), TransportError>> for Attempt {
  fn from(result: std::result::Result<(), TransportError>) -> Self {
    match result {
      Ok(()) => Attempt::Confirmed,
      Err(error) => Attempt::Failed(error),
    }
  }
}

/// An attempt whose outcome is not known yet: if its delivery is dropped (a flush deadline
/// aborted it), the breaker hears that it was abandoned, so a probe never stays in flight.
struct Unsettled<'a> {
  chain: &'a Chain,
  index: usize,
  admission: Admission,
  armed: bool,
}

impl Drop for Unsettled<'_> {
  fn drop(&mut self) {
    if self.armed {
      let admission = self.admission;
      self.chain.update(self.index, |breaker, now| {
        ((), breaker.abandoned(admission, now))
      });
    }
  }
}

/// The last member's error, naming the members that failed the document before it.
fn after(mut error: TransportError, earlier: &[String]) -> TransportError {
  if !earlier.is_empty() {
    error.message = format!(
      "{} (failed before on: {})",
      error.message,
      earlier.join("; ")
    );
  }
  error
}

/// A chain's name, kept for the life of the process (errors carry a `&'static str`); each
/// distinct name is stored once.
fn intern(name: String) -> &'static str {
  static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
  let mut names = NAMES
    .get_or_init(Mutex::default)
    .lock()
    .unwrap_or_else(|p| p.into_inner());
  if let Some(known) = names.get(name.as_str()) {
    return known;
  }
  let name: &'static str = Box::leak(name.into_boxed_str());
  names.insert(name);
  name
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
