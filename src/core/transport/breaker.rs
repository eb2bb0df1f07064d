//! The circuit breaker of one member of a failover chain: it decides whether documents go to
//! that member, so that a transport that stopped working is skipped (documents go to the next
//! member) and tried again, one probe at a time, until it works again (traffic fails back).
//!
//! States, and what moves them:
//! - `Closed`: documents go here. It opens after `failure_threshold` documents in a row failed
//!   (after their retries), or when a failure lasts longer than `failure_timeout`: a document has
//!   been unconfirmed for that long (a hung broker), or the first failure of an unbroken run of
//!   failures is that old (a member failing slowly, or with little traffic).
//! - `Open`: documents skip this member. Once `probe_interval` has passed, the next document is
//!   its probe.
//! - `HalfOpen`: the probe is in flight; other documents skip this member. A confirmed probe
//!   closes it; a failed, hung (unconfirmed for `failure_timeout`) or abandoned probe opens it
//!   again and restarts the interval.
//!
//! Any confirmed document that was handed over since the last switch closes an open breaker: it
//! proves the member works. Outcomes of documents handed over *before* the last switch move
//! nothing (a failure that belongs to the previous period must not reopen a breaker that a probe
//! just closed), except that any confirmation resets the count of failures.
//!
//! The breaker is a plain state machine: callers pass the time (`tokio::time::Instant`, so
//! paused-clock tests are exact) and emit the returned [`Switch`]es.

use std::time::Duration;

use crate::core::options;
use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// Where a member's breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
  /// Documents go to the member.
  Closed,
  /// Documents skip the member until its next probe.
  Open,
  /// One probe is in flight; its outcome closes or reopens the breaker.
  HalfOpen,
}

impl BreakerState {
  /// `"closed"`, `"open"` or `"half-open"`, as reported to JavaScript.
  pub fn as_str(self) -> &'static str {
    match self {
      BreakerState::Closed => "closed",
      BreakerState::Open => "open",
      BreakerState::HalfOpen => "half-open",
    }
  }
}

/// When breakers open and how often an open one is probed; shared by every member of a chain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerOptions {
  /// Documents failed in a row (after their retries) that open the breaker.
  pub failure_threshold: u32,
  /// A failure lasting this long opens the breaker: a document unconfirmed for this long, or a
  /// run of failures whose first is this old.
  pub failure_timeout: Duration,
  /// How long a breaker stays open before its next probe.
  pub probe_interval: Duration,
}

impl Default for BreakerOptions {
  /// The table's defaults: 5 failures, 10 s, a probe every 5 s.
  fn default() -> Self {
    BreakerOptions {
      failure_threshold: options::FAILURE_THRESHOLD.default_number() as u32,
      failure_timeout: options::FAILURE_TIMEOUT_MS.default_duration(),
      probe_interval: options::PROBE_INTERVAL_MS.default_duration(),
    }
  }
}

/// Why a document was handed to a member; decides what its outcome does to the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
  /// The breaker was closed.
  Normal,
  /// The breaker was open and its probe due: this document is the probe.
  Probe,
  /// No member admitted the document, so it was sent here anyway (this member's probe was due
  /// soonest); its confirmation closes the breaker, its failure changes nothing.
  Forced,
}

/// One document taken by a breaker: its role, and the period (between two switches) it was
/// taken in, so that outcomes from an earlier period do not move the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
  pub role: Role,
  epoch: u64,
}

/// A change of state, and why it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Switch {
  pub from: BreakerState,
  pub to: BreakerState,
  pub reason: String,
  pub at: DateTime<Utc>,
}

/// The breaker of one member.
#[derive(Debug)]
pub struct CircuitBreaker {
  options: BreakerOptions,
  state: BreakerState,
  /// Counts switches; an `Admission` remembers the value it was taken at.
  epoch: u64,
  /// Documents failed in a row since the breaker last closed or saw a confirmation.
  failures: u32,
  /// When the first of those failures happened.
  run_started: Option<Instant>,
  /// When the breaker last opened (meaningful while open).
  opened_at: Instant,
  last_switch_at: Option<DateTime<Utc>>,
}

impl CircuitBreaker {
  /// A closed breaker.
  pub fn new(options: BreakerOptions) -> Self {
    CircuitBreaker {
      options,
      state: BreakerState::Closed,
      epoch: 0,
      failures: 0,
      run_started: None,
      opened_at: Instant::now(),
      last_switch_at: None,
    }
  }

  pub fn state(&self) -> BreakerState {
    self.state
  }

  /// When the state last changed (wall clock), if it ever did.
  pub fn last_switch_at(&self) -> Option<DateTime<Utc>> {
    self.last_switch_at
  }

  /// When an open breaker's probe is due; `None` unless open.
  pub fn next_probe_at(&self) -> Option<Instant> {
    (self.state == BreakerState::Open).then(|| self.opened_at + self.options.probe_interval)
  }

  /// Whether a document handed over now would be taken: closed, or open with the probe due.
  /// Changes nothing.
  pub fn admits(&self, now: Instant) -> bool {
    match self.state {
      BreakerState::Closed => true,
      BreakerState::Open => self.next_probe_at().is_some_and(|due| now >= due),
      BreakerState::HalfOpen => false,
    }
  }

  /// Takes a document if [`admits`](Self::admits) holds: normally when closed, as the probe
  /// (switching to half-open) when open with the probe due.
  pub fn admit(&mut self, now: Instant) -> Option<(Admission, Option<Switch>)> {
    match self.state {
      BreakerState::Closed => Some((self.admission(Role::Normal), None)),
      BreakerState::Open if self.admits(now) => {
        let switch = self.switch(
          BreakerState::HalfOpen,
          format!(
            "probing after {} ms open",
            now.duration_since(self.opened_at).as_millis()
          ),
          now,
        );
        Some((self.admission(Role::Probe), Some(switch)))
      }
      BreakerState::Open | BreakerState::HalfOpen => None,
    }
  }

  /// Takes a document although no member admits one: as the probe if it is due, otherwise
  /// forced.
  pub fn force(&mut self, now: Instant) -> (Admission, Option<Switch>) {
    self
      .admit(now)
      .unwrap_or_else(|| (self.admission(Role::Forced), None))
  }

  /// The document of `admission` was confirmed.
  pub fn confirmed(&mut self, admission: Admission, now: Instant) -> Option<Switch> {
    self.failures = 0;
    self.run_started = None;
    if self.state == BreakerState::Closed || admission.epoch != self.epoch {
      return None;
    }
    let reason = match admission.role {
      Role::Probe => "the probe was confirmed",
      Role::Normal | Role::Forced => "a document was confirmed",
    };
    Some(self.switch(BreakerState::Closed, reason.into(), now))
  }

  /// The document of `admission` failed after its retries with `error`.
  pub fn failed(&mut self, admission: Admission, now: Instant, error: &str) -> Option<Switch> {
    if admission.epoch != self.epoch {
      return None;
    }
    match (self.state, admission.role) {
      (BreakerState::Closed, _) => {
        self.failures += 1;
        let started = *self.run_started.get_or_insert(now);
        let lasted = now.duration_since(started);
        let reason = if self.failures >= self.options.failure_threshold {
          format!("{} documents in a row failed", self.failures)
        } else if lasted >= self.options.failure_timeout {
          format!(
            "documents have been failing for {} ms (failureTimeoutMs {})",
            lasted.as_millis(),
            self.options.failure_timeout.as_millis()
          )
        } else {
          return None;
        };
        Some(self.switch(
          BreakerState::Open,
          format!("{reason}; the last: {error}"),
          now,
        ))
      }
      (BreakerState::HalfOpen, Role::Probe) => Some(self.switch(
        BreakerState::Open,
        format!("the probe failed: {error}"),
        now,
      )),
      _ => None,
    }
  }

  /// The document of `admission` has been unconfirmed for `failure_timeout`: a closed breaker
  /// opens, and so does a half-open one whose probe this is (a hung probe counts as failed).
  pub fn overdue(&mut self, admission: Admission, now: Instant) -> Option<Switch> {
    if admission.epoch != self.epoch {
      return None;
    }
    let what = match (self.state, admission.role) {
      (BreakerState::Closed, _) => "a document has",
      (BreakerState::HalfOpen, Role::Probe) => "the probe has",
      _ => return None,
    };
    let reason = format!(
      "{what} been unconfirmed for {} ms (failureTimeoutMs)",
      self.options.failure_timeout.as_millis()
    );
    Some(self.switch(BreakerState::Open, reason, now))
  }

  /// The document of `admission` was given up before it settled (a flush deadline aborted it).
  /// An abandoned probe counts as a failed one, so the breaker never waits for it for ever.
  pub fn abandoned(&mut self, admission: Admission, now: Instant) -> Option<Switch> {
    let probing = self.state == BreakerState::HalfOpen && admission.epoch == self.epoch;
    (probing && admission.role == Role::Probe).then(|| {
      self.switch(
        BreakerState::Open,
        "the probe was abandoned before it settled".into(),
        now,
      )
    })
  }

  fn admission(&self, role: Role) -> Admission {
    Admission {
      role,
      epoch: self.epoch,
    }
  }

  fn switch(&mut self, to: BreakerState, reason: String, now: Instant) -> Switch {
    let from = self.state;
    let at = Utc::now();
    self.state = to;
    self.epoch += 1;
    self.failures = 0;
    self.run_started = None;
    if to == BreakerState::Open {
      self.opened_at = now;
    }
    self.last_switch_at = Some(at);
    Switch {
      from,
      to,
      reason,
      at,
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const SECOND: Duration = Duration::from_secs(1);

  fn breaker() -> CircuitBreaker {
    CircuitBreaker::new(BreakerOptions {
      failure_threshold: 3,
      failure_timeout: 10 * SECOND,
      probe_interval: 5 * SECOND,
    })
  }

  fn normal(b: &mut CircuitBreaker, now: Instant) -> Admission {
    let (admission, switch) = b.admit(now).expect("admits");
    assert_eq!((admission.role, switch), (Role::Normal, None));
    admission
  }

  /// Opens `b` by three failures at `now`.
  fn open(b: &mut CircuitBreaker, now: Instant) {
    for _ in 0..3 {
      let a = normal(b, now);
      b.failed(a, now, "down");
    }
    assert_eq!(b.state(), BreakerState::Open);
  }

  #[test]
  fn opens_after_the_threshold_of_failures_in_a_row() {
    let t0 = Instant::now();
    let mut b = breaker();
    let a = normal(&mut b, t0);
    assert_eq!(b.failed(a, t0, "x"), None);
    // A confirmation breaks the run.
    let a = normal(&mut b, t0);
    assert_eq!(b.confirmed(a, t0), None);
    for _ in 0..2 {
      let a = normal(&mut b, t0);
      assert_eq!(b.failed(a, t0, "x"), None);
    }
    let a = normal(&mut b, t0);
    let switch = b.failed(a, t0, "kafka transport: down").unwrap();
    assert_eq!(
      (switch.from, switch.to),
      (BreakerState::Closed, BreakerState::Open)
    );
    assert_eq!(
      switch.reason,
      "3 documents in a row failed; the last: kafka transport: down"
    );
    assert!(!b.admits(t0));
    assert_eq!(b.admit(t0), None);
    assert_eq!(b.next_probe_at(), Some(t0 + 5 * SECOND));
    assert_eq!(b.last_switch_at(), Some(switch.at));
  }

  #[test]
  fn a_run_of_failures_older_than_the_timeout_opens() {
    let t0 = Instant::now();
    let mut b = breaker();
    let a = normal(&mut b, t0);
    assert_eq!(b.failed(a, t0, "x"), None);
    let later = t0 + 10 * SECOND;
    let a = normal(&mut b, later);
    let switch = b.failed(a, later, "x").unwrap();
    assert!(switch
      .reason
      .starts_with("documents have been failing for 10000 ms"));
  }

  #[test]
  fn an_overdue_document_opens_a_closed_breaker_once() {
    let t0 = Instant::now();
    let mut b = breaker();
    let a = normal(&mut b, t0);
    let switch = b.overdue(a, t0 + 10 * SECOND).unwrap();
    assert_eq!(switch.to, BreakerState::Open);
    // Its late failure belongs to the period before the switch: nothing more happens.
    assert_eq!(b.failed(a, t0 + 11 * SECOND, "x"), None);
    assert_eq!(b.next_probe_at(), Some(t0 + 15 * SECOND));
  }

  #[test]
  fn a_hung_probe_reopens() {
    let t0 = Instant::now();
    let mut b = breaker();
    open(&mut b, t0);
    let (probe, _) = b.admit(t0 + 5 * SECOND).unwrap();
    let switch = b.overdue(probe, t0 + 15 * SECOND).unwrap();
    assert_eq!(
      (switch.from, switch.to),
      (BreakerState::HalfOpen, BreakerState::Open)
    );
    assert_eq!(
      switch.reason,
      "the probe has been unconfirmed for 10000 ms (failureTimeoutMs)"
    );
    // Its late confirmation belongs to the time before that switch.
    assert_eq!(b.confirmed(probe, t0 + 16 * SECOND), None);
    assert_eq!(b.next_probe_at(), Some(t0 + 20 * SECOND));
  }

  #[test]
  fn a_probe_closes_or_reopens_and_only_one_is_in_flight() {
    let t0 = Instant::now();
    let mut b = breaker();
    open(&mut b, t0);
    assert!(!b.admits(t0 + 4 * SECOND));
    let due = t0 + 5 * SECOND;
    let (probe, switch) = b.admit(due).unwrap();
    assert_eq!(probe.role, Role::Probe);
    assert_eq!(
      switch.map(|s| (s.from, s.to, s.reason)),
      Some((
        BreakerState::Open,
        BreakerState::HalfOpen,
        "probing after 5000 ms open".to_string()
      ))
    );
    assert!(!b.admits(due), "one probe at a time");
    // A failed probe reopens and restarts the interval.
    let switch = b.failed(probe, due + SECOND, "still down").unwrap();
    assert_eq!(
      (switch.from, switch.to),
      (BreakerState::HalfOpen, BreakerState::Open)
    );
    assert_eq!(switch.reason, "the probe failed: still down");
    assert_eq!(b.next_probe_at(), Some(due + 6 * SECOND));
    // The next probe succeeds: closed, counts reset.
    let (probe, _) = b.admit(due + 6 * SECOND).unwrap();
    let switch = b.confirmed(probe, due + 7 * SECOND).unwrap();
    assert_eq!(
      (switch.from, switch.to),
      (BreakerState::HalfOpen, BreakerState::Closed)
    );
    assert_eq!(switch.reason, "the probe was confirmed");
    let a = normal(&mut b, due + 7 * SECOND);
    assert_eq!(b.failed(a, due + 7 * SECOND, "x"), None);
  }

  #[test]
  fn outcomes_from_before_the_last_switch_move_nothing() {
    let t0 = Instant::now();
    let mut b = breaker();
    let stale: Vec<Admission> = (0..3).map(|_| normal(&mut b, t0)).collect();
    open(&mut b, t0);
    // A confirmation of a document handed over while closed does not close it...
    assert_eq!(b.confirmed(stale[0], t0 + SECOND), None);
    assert_eq!(b.state(), BreakerState::Open);
    // ...and after a fail-back, old failures do not reopen it.
    let (probe, _) = b.admit(t0 + 5 * SECOND).unwrap();
    b.confirmed(probe, t0 + 5 * SECOND).unwrap();
    for a in &stale[1..] {
      assert_eq!(b.failed(*a, t0 + 6 * SECOND, "late"), None);
    }
    let a = normal(&mut b, t0 + 6 * SECOND);
    assert_eq!(
      b.failed(a, t0 + 6 * SECOND, "x"),
      None,
      "the count starts afresh"
    );
    assert_eq!(b.state(), BreakerState::Closed);
  }

  #[test]
  fn forced_documents_close_on_success_and_change_nothing_on_failure() {
    let t0 = Instant::now();
    let mut b = breaker();
    open(&mut b, t0);
    let (forced, switch) = b.force(t0 + SECOND);
    assert_eq!((forced.role, switch), (Role::Forced, None));
    assert_eq!(b.failed(forced, t0 + SECOND, "x"), None);
    assert_eq!(b.next_probe_at(), Some(t0 + 5 * SECOND));
    let (forced, _) = b.force(t0 + 2 * SECOND);
    let switch = b.confirmed(forced, t0 + 2 * SECOND).unwrap();
    assert_eq!(
      (switch.to, switch.reason.as_str()),
      (BreakerState::Closed, "a document was confirmed")
    );
    // Forcing when the probe is due makes the document the probe.
    open(&mut b, t0 + 3 * SECOND);
    assert_eq!(b.force(t0 + 8 * SECOND).0.role, Role::Probe);
    assert_eq!(b.force(t0 + 8 * SECOND).0.role, Role::Forced);
  }

  #[test]
  fn an_abandoned_probe_reopens() {
    let t0 = Instant::now();
    let mut b = breaker();
    open(&mut b, t0);
    let (probe, _) = b.admit(t0 + 5 * SECOND).unwrap();
    let switch = b.abandoned(probe, t0 + 6 * SECOND).unwrap();
    assert_eq!(switch.to, BreakerState::Open);
    assert_eq!(b.abandoned(probe, t0 + 6 * SECOND), None);
  }

  #[test]
  fn state_names() {
    assert_eq!(
      [
        BreakerState::Closed,
        BreakerState::Open,
        BreakerState::HalfOpen
      ]
      .map(BreakerState::as_str),
      ["closed", "open", "half-open"]
    );
  }
}
