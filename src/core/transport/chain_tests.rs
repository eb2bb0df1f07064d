//! Failover tests: Mock transports stand in for the network and tokio's paused clock for time,
//! so breaker timings are exact and nothing sleeps for real.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::*;
use crate::core::profile::DriftKind;
use crate::core::transport::{MockStore, MockTransport};

const SECOND: Duration = Duration::from_secs(1);

const OPTIONS: BreakerOptions = BreakerOptions {
  failure_threshold: 3,
  failure_timeout: Duration::from_secs(10),
  probe_interval: Duration::from_secs(5),
};

type Events = Arc<Mutex<Vec<StateChange>>>;

fn doc(n: usize) -> Arc<Document> {
  Arc::new(Document {
    format: crate::core::wire::WireFormat::V0_9,
    kind: DriftKind::Custom,
    record_count: 1,
    json: format!("{{\"n\":{n}}}").into_bytes(),
  })
}

fn store(max_retries: u32) -> Arc<MockStore> {
  Arc::new(MockStore::new(max_retries))
}

/// A chain over `transports`, recording its state changes.
fn chain_of(transports: Vec<Arc<dyn Transport>>, max_retries: u32) -> (Arc<Chain>, Events) {
  let events: Events = Arc::default();
  let sink = Arc::clone(&events);
  let members = transports
    .into_iter()
    .map(|transport| (transport, RetryPolicy::new(max_retries)))
    .collect();
  let chain = Chain::new(
    members,
    OPTIONS,
    Arc::new(move |event| {
      if let ChainEvent::State(change) = event {
        sink.lock().unwrap().push(change)
      }
    }),
  );
  (chain, events)
}

/// A chain of Mock transports over `stores`.
fn chain(stores: &[&Arc<MockStore>]) -> (Arc<Chain>, Events) {
  let max_retries = stores[0].max_retries();
  let transports = stores
    .iter()
    .map(|store| Arc::new(MockTransport::new(Arc::clone(store))) as Arc<dyn Transport>)
    .collect();
  chain_of(transports, max_retries)
}

/// The switches so far, as `(member, from, to)`; forgets them.
fn take(events: &Events) -> Vec<(usize, &'static str, &'static str)> {
  std::mem::take(&mut *events.lock().unwrap())
    .into_iter()
    .map(|change| (change.index, change.from.as_str(), change.to.as_str()))
    .collect()
}

fn states(chain: &Chain) -> Vec<&'static str> {
  chain.states().iter().map(|m| m.state.as_str()).collect()
}

/// Publishes document `n` and waits for its delivery.
async fn send(chain: &Arc<Chain>, n: usize) -> Outcome {
  chain.publish(doc(n)).await
}

fn numbers(store: &MockStore) -> Vec<u64> {
  store
    .documents()
    .iter()
    .map(|d| {
      serde_json::from_str::<serde_json::Value>(d).unwrap()["n"]
        .as_u64()
        .unwrap()
    })
    .collect()
}

/// Opens member 0 of a two-member chain by `failure_threshold` permanent failures.
async fn open_first(chain: &Arc<Chain>, first: &MockStore, events: &Events) {
  first.set_failing(true, false);
  for n in 0..3 {
    let outcome = send(chain, 1000 + n).await;
    assert_eq!(outcome.attempts, [(0, false), (1, true)]);
    assert!(outcome.result.is_ok());
  }
  assert_eq!(take(events), [(0, "closed", "open")]);
}

#[tokio::test(start_paused = true)]
async fn a_chain_of_one_is_the_transport_alone() {
  let only = store(3);
  let (chain, events) = chain(&[&only]);
  assert_eq!(chain.name(), "mock");
  only.fail_next(2, true);
  let outcome = send(&chain, 0).await;
  assert_eq!(outcome.attempts, [(0, true)]);
  assert!(outcome.result.is_ok());
  assert_eq!(only.attempts(), 3);

  // The error is exactly the transport's, as the queue reported it before chains.
  only.fail_next(4, true);
  let error = send(&chain, 1).await.result.unwrap_err();
  assert_eq!(error.transport, "mock");
  assert_eq!(
    error.message,
    "injected retryable failure (after 3 retries)"
  );

  // Open, it still takes every document, with every retry: there is nowhere else to go.
  only.set_failing(true, false);
  for n in 2..4 {
    assert_eq!(send(&chain, n).await.attempts, [(0, false)]);
  }
  assert_eq!(take(&events), [(0, "closed", "open")]);
  only.set_failing(false, true);
  only.fail_next(3, true);
  let attempts_before = only.attempts();
  let outcome = send(&chain, 4).await;
  assert!(outcome.result.is_ok());
  assert_eq!(
    only.attempts() - attempts_before,
    4,
    "all three retries were made"
  );
  // That confirmation shows the transport works again.
  assert_eq!(take(&events), [(0, "open", "closed")]);
  assert_eq!(numbers(&only), [0, 4]);
}

#[tokio::test(start_paused = true)]
async fn failures_in_a_row_open_the_breaker_and_documents_fail_over() {
  let (first, second) = (store(0), store(0));
  let (chain, events) = chain(&[&first, &second]);
  assert_eq!(chain.name(), "mock>mock");
  first.set_failing(true, false);
  for n in 0..2 {
    assert_eq!(send(&chain, n).await.attempts, [(0, false), (1, true)]);
    assert!(take(&events).is_empty());
  }
  let outcome = send(&chain, 2).await;
  assert_eq!(outcome.attempts, [(0, false), (1, true)]);
  assert!(outcome.result.is_ok());
  let change = events.lock().unwrap()[0].clone();
  assert_eq!(
    (change.transport, change.index, change.from, change.to),
    ("mock", 0, BreakerState::Closed, BreakerState::Open)
  );
  assert_eq!(
    change.reason,
    "3 documents in a row failed; the last: mock transport: injected permanent failure"
  );
  take(&events);

  // Open: documents skip it.
  assert_eq!(send(&chain, 3).await.attempts, [(1, true)]);
  assert_eq!(first.attempts(), 3);
  assert_eq!(numbers(&second), [0, 1, 2, 3]);
  let members = chain.states();
  assert_eq!(states(&chain), ["open", "closed"]);
  assert_eq!(members[0].last_switch_at, Some(change.at));
  assert_eq!(members[1].last_switch_at, None);
  assert!(chain.any_admits());
}

#[tokio::test(start_paused = true)]
async fn a_document_unconfirmed_for_the_failure_timeout_opens_the_breaker_and_moves_on() {
  let (first, second) = (store(0), store(0));
  let (chain, events) = chain(&[&first, &second]);
  first.set_latency(Duration::from_secs(60));
  let started = Instant::now();
  let hung = tokio::spawn(chain.publish(doc(0)));
  tokio::time::sleep(10 * SECOND - Duration::from_millis(1)).await;
  tokio::task::yield_now().await;
  assert!(take(&events).is_empty());
  let outcome = hung.await.unwrap();
  let reason = events.lock().unwrap()[0].reason.clone();
  assert_eq!(take(&events), [(0, "closed", "open")]);
  assert_eq!(
    reason,
    "a document has been unconfirmed for 10000 ms (failureTimeoutMs)"
  );
  // Handed to the next member after 10 s, in doubt: the first may still deliver it.
  assert_eq!(outcome.attempts, [(0, false), (1, true)]);
  assert_eq!(outcome.in_doubt, [0]);
  assert!(outcome.result.is_ok());
  assert_eq!(Instant::now().duration_since(started), 10 * SECOND);

  // New documents go to the next member at once.
  assert_eq!(send(&chain, 1).await.attempts, [(1, true)]);
  assert_eq!(numbers(&second), [0, 1]);
}

#[tokio::test(start_paused = true)]
async fn a_chain_of_one_waits_for_a_hung_transport_as_long_as_it_takes() {
  let only = store(0);
  let (chain, events) = chain(&[&only]);
  only.set_latency(Duration::from_secs(60));
  let outcome = send(&chain, 0).await;
  assert_eq!(outcome.attempts, [(0, true)]);
  assert!(outcome.in_doubt.is_empty());
  // The breaker opened at 10 s (for stats and events); the document never left.
  assert_eq!(take(&events), [(0, "closed", "open")]);
  assert_eq!(numbers(&only), [0]);
}

/// Answers each publish with the next scripted error, then confirms; counts publishes.
struct Scripted {
  errors: Mutex<std::collections::VecDeque<TransportError>>,
  publishes: AtomicUsize,
}

#[async_trait]
impl Transport for Scripted {
  fn name(&self) -> &'static str {
    "http"
  }

  fn publish(&self, _document: Arc<Document>) -> Confirmation {
    self.publishes.fetch_add(1, Ordering::SeqCst);
    let result = self.errors.lock().unwrap().pop_front().map_or(Ok(()), Err);
    Box::pin(async move { result })
  }
}

#[tokio::test(start_paused = true)]
async fn a_member_that_opened_is_not_retried_when_another_takes_the_document() {
  let scripted = Arc::new(Scripted {
    errors: Mutex::new(
      [
        TransportError::retryable("http", "503"),
        TransportError::permanent("http", "400"),
      ]
      .into(),
    ),
    publishes: AtomicUsize::new(0),
  });
  let next = store(0);
  let events: Events = Arc::default();
  let sink = Arc::clone(&events);
  let chain = Chain::new(
    vec![
      (scripted.clone() as Arc<dyn Transport>, RetryPolicy::new(3)),
      (
        Arc::new(MockTransport::new(Arc::clone(&next))) as Arc<dyn Transport>,
        RetryPolicy::new(0),
      ),
    ],
    BreakerOptions {
      failure_threshold: 1,
      ..OPTIONS
    },
    Arc::new(move |event| {
      if let ChainEvent::State(change) = event {
        sink.lock().unwrap().push(change)
      }
    }),
  );
  // Document 0 fails retryably and waits for its retry; meanwhile document 1 fails for good,
  // which opens the breaker; when document 0's retry is due, the next member takes it instead.
  let waiting = tokio::spawn(chain.publish(doc(0)));
  let opening = tokio::spawn(chain.publish(doc(1)));
  assert_eq!(opening.await.unwrap().attempts, [(0, false), (1, true)]);
  assert_eq!(take(&events), [(0, "closed", "open")]);
  let outcome = waiting.await.unwrap();
  assert_eq!(outcome.attempts, [(0, false), (1, true)]);
  assert_eq!(scripted.publishes.load(Ordering::SeqCst), 2, "no retry");
  assert_eq!(numbers(&next), [1, 0]);
}

#[tokio::test(start_paused = true)]
async fn a_hung_probe_fails_and_its_document_moves_on() {
  let (first, second) = (store(0), store(0));
  let (chain, events) = chain(&[&first, &second]);
  open_first(&chain, &first, &events).await;
  first.set_failing(false, false);
  first.set_latency(Duration::from_secs(60));
  tokio::time::sleep(5 * SECOND).await;
  let outcome = send(&chain, 0).await;
  assert_eq!(outcome.attempts, [(0, false), (1, true)]);
  assert_eq!(outcome.in_doubt, [0]);
  let reason = events.lock().unwrap()[1].reason.clone();
  assert_eq!(
    take(&events),
    [(0, "open", "half-open"), (0, "half-open", "open")]
  );
  assert_eq!(
    reason,
    "the probe has been unconfirmed for 10000 ms (failureTimeoutMs)"
  );
}

#[tokio::test(start_paused = true)]
async fn a_probe_reopens_while_the_member_fails_and_fails_back_once_it_works() {
  let (first, second) = (store(0), store(0));
  let (chain, events) = chain(&[&first, &second]);
  open_first(&chain, &first, &events).await;
  let opened = Instant::now();
  assert_eq!(chain.next_probe_at(), Some(opened + 5 * SECOND));

  tokio::time::sleep(4 * SECOND).await;
  assert_eq!(send(&chain, 0).await.attempts, [(1, true)]);
  tokio::time::sleep(SECOND).await;
  // The probe fails: open again, the document moves on, the interval restarts.
  let outcome = send(&chain, 1).await;
  assert_eq!(outcome.attempts, [(0, false), (1, true)]);
  let reasons: Vec<String> = events
    .lock()
    .unwrap()
    .iter()
    .map(|c| c.reason.clone())
    .collect();
  assert_eq!(
    take(&events),
    [(0, "open", "half-open"), (0, "half-open", "open")]
  );
  assert_eq!(reasons[0], "probing after 5000 ms open");
  assert_eq!(
    reasons[1],
    "the probe failed: mock transport: injected permanent failure"
  );
  assert_eq!(send(&chain, 2).await.attempts, [(1, true)]);
  assert_eq!(chain.next_probe_at(), Some(opened + 10 * SECOND));

  // Recovered: the next probe closes it and traffic returns.
  first.set_failing(false, false);
  tokio::time::sleep(5 * SECOND).await;
  assert_eq!(send(&chain, 3).await.attempts, [(0, true)]);
  assert_eq!(
    take(&events),
    [(0, "open", "half-open"), (0, "half-open", "closed")]
  );
  assert_eq!(send(&chain, 4).await.attempts, [(0, true)]);
  assert_eq!(numbers(&first), [3, 4]);
  assert_eq!(chain.next_probe_at(), None);
}

#[tokio::test(start_paused = true)]
async fn one_probe_at_a_time() {
  let (first, second) = (store(0), store(0));
  let (chain, events) = chain(&[&first, &second]);
  open_first(&chain, &first, &events).await;
  first.set_failing(false, false);
  first.set_latency(3 * SECOND);
  tokio::time::sleep(5 * SECOND).await;
  let probe = tokio::spawn(chain.publish(doc(0)));
  tokio::task::yield_now().await;
  assert_eq!(states(&chain), ["half-open", "closed"]);
  assert!(!chain.any_admits() || chain.states()[1].state == BreakerState::Closed);
  // While the probe is in flight, documents skip the member.
  assert_eq!(send(&chain, 1).await.attempts, [(1, true)]);
  assert_eq!(probe.await.unwrap().attempts, [(0, true)]);
  assert_eq!(
    take(&events),
    [(0, "open", "half-open"), (0, "half-open", "closed")]
  );
  first.set_latency(Duration::ZERO);
  assert_eq!(send(&chain, 2).await.attempts, [(0, true)]);
}

#[tokio::test(start_paused = true)]
async fn documents_are_handed_over_in_order_before_publish_returns() {
  let (first, second) = (store(0), store(0));
  let (chain, events) = chain(&[&first, &second]);
  first.set_latency(SECOND);
  let mut deliveries = Vec::new();
  for n in 0..10 {
    deliveries.push(chain.publish(doc(n)));
    assert_eq!(
      first.attempts(),
      n as u64 + 1,
      "handed over before publish returned"
    );
  }
  for delivery in deliveries {
    assert_eq!(delivery.await.attempts, [(0, true)]);
  }
  assert_eq!(numbers(&first), (0..10).collect::<Vec<_>>());

  // With the first member open, the second one receives them in order just the same.
  first.set_latency(Duration::ZERO);
  open_first(&chain, &first, &events).await;
  second.set_latency(SECOND);
  let deliveries: Vec<Delivery> = (10..20).map(|n| chain.publish(doc(n))).collect();
  for delivery in deliveries {
    assert_eq!(delivery.await.attempts, [(1, true)]);
  }
  let tail: Vec<u64> = numbers(&second).into_iter().skip(3).collect();
  assert_eq!(tail, (10..20).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn when_every_member_is_open_the_soonest_probe_takes_the_document() {
  let (first, second) = (store(0), store(0));
  let (chain, events) = chain(&[&first, &second]);
  let mut switches = chain.subscribe();
  open_first(&chain, &first, &events).await;
  let first_opened = Instant::now();
  assert!(switches.has_changed().unwrap());
  switches.mark_unchanged();

  tokio::time::sleep(2 * SECOND).await;
  second.set_failing(true, false);
  for n in 0..3 {
    // The second member fails it; before it fails, the open first member gets it too (forced).
    let outcome = send(&chain, n).await;
    assert_eq!(outcome.attempts, [(1, false), (0, false)]);
    assert!(outcome.result.is_err());
  }
  assert_eq!(take(&events), [(1, "closed", "open")]);
  assert!(!chain.any_admits());
  assert_eq!(chain.next_probe_at(), Some(first_opened + 5 * SECOND));

  // Neither admits: the first member's probe is due soonest, so it takes the document (forced:
  // its failure moves nothing), then the second, before the document fails.
  tokio::time::sleep(SECOND).await;
  let outcome = send(&chain, 3).await;
  assert_eq!(outcome.attempts, [(0, false), (1, false)]);
  assert!(take(&events).is_empty());

  // Its probe, when due, fails; the second member's probe is not due yet.
  tokio::time::sleep(2 * SECOND).await;
  assert!(chain.any_admits());
  assert_eq!(send(&chain, 4).await.attempts, [(0, false), (1, false)]);
  assert_eq!(
    take(&events),
    [(0, "open", "half-open"), (0, "half-open", "open")]
  );
  // Now the second member's probe is due first (at 7 s, the first's at 10 s): at 6 s, with
  // neither admitting, the second member takes the document, and its confirmation closes it.
  let second_due = chain.next_probe_at().unwrap();
  assert_eq!(second_due, first_opened + 7 * SECOND);
  tokio::time::sleep(SECOND).await;
  second.set_failing(false, false);
  let outcome = send(&chain, 5).await;
  assert_eq!(outcome.attempts, [(1, true)]);
  assert_eq!(take(&events), [(1, "open", "closed")]);
  assert!(switches.has_changed().unwrap());
}

#[tokio::test(start_paused = true)]
async fn a_forced_document_that_is_confirmed_closes_the_breaker() {
  let (first, second) = (store(0), store(0));
  let (chain, events) = chain(&[&first, &second]);
  first.set_failing(true, false);
  second.set_failing(true, false);
  for n in 0..3 {
    assert_eq!(send(&chain, n).await.attempts, [(0, false), (1, false)]);
  }
  assert_eq!(
    take(&events),
    [(0, "closed", "open"), (1, "closed", "open")]
  );
  first.set_failing(false, false);
  let outcome = send(&chain, 3).await;
  assert_eq!(outcome.attempts, [(0, true)]);
  let reason = events.lock().unwrap()[0].reason.clone();
  assert_eq!(take(&events), [(0, "open", "closed")]);
  assert_eq!(reason, "a document was confirmed");
}

#[tokio::test(start_paused = true)]
async fn errors_name_every_member_that_failed() {
  let (first, second) = (store(0), store(0));
  let (chain, _events) = chain(&[&first, &second]);
  first.set_failing(true, false);
  second.set_failing(true, true);
  let error = send(&chain, 0).await.result.unwrap_err();
  assert_eq!(error.transport, "mock");
  assert_eq!(
    error.to_string(),
    "mock transport: injected retryable failure (failed before on: mock transport: injected \
     permanent failure)"
  );
}

/// Fails every document in doubt, as Kafka does with a message that timed out after it was sent.
struct InDoubt;

#[async_trait]
impl Transport for InDoubt {
  fn name(&self) -> &'static str {
    "kafka"
  }

  fn publish(&self, _document: Arc<Document>) -> Confirmation {
    let mut error = TransportError::permanent("kafka", "message timed out");
    error.in_doubt = true;
    Box::pin(async move { Err(error) })
  }
}

#[tokio::test(start_paused = true)]
async fn failures_in_doubt_are_named_in_the_outcome() {
  let file = store(0);
  let transports: Vec<Arc<dyn Transport>> = vec![
    Arc::new(InDoubt),
    Arc::new(MockTransport::new(Arc::clone(&file))),
  ];
  let (chain, _events) = chain_of(transports, 0);
  assert_eq!(chain.name(), "kafka>mock");
  let outcome = send(&chain, 0).await;
  assert_eq!(outcome.attempts, [(0, false), (1, true)]);
  assert_eq!(outcome.in_doubt, [0]);
}

#[tokio::test(start_paused = true)]
async fn an_abandoned_probe_reopens_the_breaker() {
  let (first, second) = (store(0), store(0));
  let (chain, events) = chain(&[&first, &second]);
  open_first(&chain, &first, &events).await;
  first.set_failing(false, false);
  first.set_latency(Duration::from_secs(60));
  tokio::time::sleep(5 * SECOND).await;
  let probe = tokio::spawn(chain.publish(doc(0)));
  tokio::task::yield_now().await;
  probe.abort();
  assert!(probe.await.unwrap_err().is_cancelled());
  let reason = events.lock().unwrap()[1].reason.clone();
  assert_eq!(
    take(&events),
    [(0, "open", "half-open"), (0, "half-open", "open")]
  );
  assert_eq!(reason, "the probe was abandoned before it settled");
}

/// Counts `flush` and `close` calls; fails them when told to.
struct Counting {
  calls: AtomicUsize,
  fail: bool,
}

#[async_trait]
impl Transport for Counting {
  fn name(&self) -> &'static str {
    "file"
  }

  fn publish(&self, _document: Arc<Document>) -> Confirmation {
    Box::pin(async { Ok(()) })
  }

  async fn flush(&self) -> std::result::Result<(), TransportError> {
    self.close().await
  }

  async fn close(&self) -> std::result::Result<(), TransportError> {
    self.calls.fetch_add(1, Ordering::SeqCst);
    match self.fail {
      true => Err(TransportError::retryable("file", "disk gone")),
      false => Ok(()),
    }
  }
}

#[tokio::test(start_paused = true)]
async fn flush_and_close_reach_every_member_even_when_one_fails() {
  let failing = Arc::new(Counting {
    calls: AtomicUsize::new(0),
    fail: true,
  });
  let fine = Arc::new(Counting {
    calls: AtomicUsize::new(0),
    fail: false,
  });
  let transports: Vec<Arc<dyn Transport>> = vec![failing.clone(), fine.clone()];
  let (chain, _events) = chain_of(transports, 0);
  assert_eq!(chain.flush().await.unwrap_err().message, "disk gone");
  assert_eq!(chain.close().await.unwrap_err().message, "disk gone");
  assert_eq!(failing.calls.load(Ordering::SeqCst), 2);
  assert_eq!(fine.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn connect_refuses_an_empty_list() {
  let error = Chain::connect(
    Vec::new(),
    OPTIONS,
    TransportEvents::new(|_| {}),
    Arc::new(|_| {}),
  )
  .await
  .err()
  .unwrap();
  assert_eq!(error.to_string(), "invalid config: no transport was given");
}

#[tokio::test(start_paused = true)]
async fn link_events_report_the_first_confirmation_a_retryable_failure_and_the_recovery_once_each()
{
  let only = store(5);
  let links: Arc<Mutex<Vec<(usize, bool, String)>>> = Arc::default();
  let sink = Arc::clone(&links);
  let chain = Chain::new(
    vec![(
      Arc::new(MockTransport::new(Arc::clone(&only))) as Arc<dyn Transport>,
      RetryPolicy::new(5),
    )],
    OPTIONS,
    Arc::new(move |event| {
      if let ChainEvent::Connection(change) = event {
        sink
          .lock()
          .unwrap()
          .push((change.index, change.connected, change.reason))
      }
    }),
  );
  assert!(send(&chain, 0).await.result.is_ok());
  assert!(send(&chain, 1).await.result.is_ok());
  only.fail_next(3, true);
  assert!(send(&chain, 2).await.result.is_ok());
  // A refusal says nothing about the link: no event.
  only.fail_next(1, false);
  assert!(send(&chain, 3).await.result.is_err());
  let links = std::mem::take(&mut *links.lock().unwrap());
  assert_eq!(links.len(), 3, "{links:?}");
  assert_eq!(
    (links[0].0, links[0].1, links[0].2.as_str()),
    (0, true, "first document confirmed")
  );
  assert_eq!((links[1].0, links[1].1), (0, false));
  assert!(links[1].2.starts_with("mock transport: "), "{}", links[1].2);
  assert!(links[2].1);
  assert!(
    links[2]
      .2
      .starts_with("confirming again after 3 failed attempts over "),
    "{}",
    links[2].2
  );
}
