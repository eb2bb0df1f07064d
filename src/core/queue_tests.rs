//! Event-loop tests: the Mock transport stands in for the network and tokio's paused clock for
//! time, so timers and deadlines are exact and nothing sleeps for real.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::*;
use crate::core::built_record::BuiltRecord;
use crate::core::item::RowBatch;
use crate::core::profile::ProfileSource;
use crate::core::scouter_queue::ScouterQueues;
use crate::core::transport::{
  BreakerOptions, Chain, ChainEvent, MockStore, StateChange, Transport, TransportConfig,
};

pub(super) fn fixture(name: &str) -> PathBuf {
  PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    .join("__test__/fixtures")
    .join(name)
}

pub(super) type Reports = Arc<Mutex<Vec<(String, String)>>>;

pub(super) async fn open(
  names: &[(&str, &str)],
  store: &Arc<MockStore>,
  options: QueueOptions,
) -> (ScouterQueues, Reports) {
  let (sink, reports) = recording_sink();
  let sources = names
    .iter()
    .map(|(alias, file)| (alias.to_string(), ProfileSource::File(fixture(file))))
    .collect();
  let queues = ScouterQueues::open(
    sources,
    vec![TransportConfig::Mock(Arc::clone(store))],
    BreakerOptions::default(),
    Arc::new(|_| {}),
    options,
    sink,
    None,
  )
  .await
  .unwrap();
  (queues, reports)
}

/// An error sink that keeps every report.
pub(super) fn recording_sink() -> (ErrorSink, Reports) {
  let reports: Reports = Arc::default();
  let sink_reports = Arc::clone(&reports);
  let sink: ErrorSink = Arc::new(move |alias, err| {
    sink_reports
      .lock()
      .unwrap()
      .push((alias.to_string(), err.to_string()))
  });
  (sink, reports)
}

/// A chain of just `transport`, with no retries.
fn one(transport: Arc<dyn Transport>) -> Arc<Chain> {
  Chain::new(
    vec![(transport, crate::core::retry::RetryPolicy::new(0))],
    BreakerOptions::default(),
    Arc::new(|_| {}),
  )
}

/// `open` with the default options.
async fn open_default(names: &[(&str, &str)], store: &Arc<MockStore>) -> (ScouterQueues, Reports) {
  open(names, store, QueueOptions::default()).await
}

fn psi_rows(values: &[f64]) -> ItemBatch {
  // PSI fixture slots: feature_0, color.
  ItemBatch::Rows(RowBatch::from_rows(
    2,
    &values
      .iter()
      .map(|v| vec![Some(*v), None])
      .collect::<Vec<_>>(),
  ))
}

pub(super) fn documents(store: &MockStore) -> Vec<Value> {
  store
    .documents()
    .iter()
    .map(|d| serde_json::from_str(d).unwrap())
    .collect()
}

/// Sum of `bin_count` over a PSI document.
fn counted(doc: &Value) -> u64 {
  doc["records"]
    .as_array()
    .unwrap()
    .iter()
    .map(|r| r["Psi"]["bin_count"].as_u64().unwrap())
    .sum()
}

#[tokio::test(start_paused = true)]
async fn psi_publishes_full_batches_and_the_rest_on_flush() {
  let store = Arc::new(MockStore::new(0));
  let (queues, _) = open_default(&[("psi", "psi_profile.json")], &store).await;
  let bus = queues.queue("psi").unwrap();
  for _ in 0..5 {
    assert_eq!(bus.push(psi_rows(&[0.5; 500])).unwrap(), 500);
  }
  queues.flush(None).await.unwrap();
  let docs = documents(&store);
  assert_eq!(
    docs.iter().map(counted).collect::<Vec<_>>(),
    [1000, 1000, 500]
  );
  // Only feature_0 had values: ten bins per document, the first one holding everything.
  assert_eq!(docs[2]["records"].as_array().unwrap().len(), 10);
  assert_eq!(docs[2]["records"][0]["Psi"]["bin_id"], 1);
  let stats = bus.stats();
  assert_eq!(
    (stats.inserted, stats.published, stats.pending),
    (2500, 2500, 0)
  );
  assert_eq!((stats.documents, stats.records), (3, 30));
  assert!(stats.balanced());
}

#[tokio::test(start_paused = true)]
async fn timer_publishes_once_the_interval_has_passed() {
  let store = Arc::new(MockStore::new(0));
  let options = QueueOptions {
    flush_interval: Duration::from_secs(30),
    ..QueueOptions::default()
  };
  let (queues, _) = open(&[("psi", "psi_profile.json")], &store, options).await;
  let bus = queues.queue("psi").unwrap();
  bus.push(psi_rows(&[2.5; 10])).unwrap();
  tokio::time::sleep(Duration::from_millis(29_900)).await;
  assert!(store.documents().is_empty(), "nothing before the interval");
  tokio::time::sleep(Duration::from_millis(200)).await;
  assert_eq!(
    documents(&store).iter().map(counted).collect::<Vec<_>>(),
    [10]
  );

  // The clock restarts at that publish.
  bus.push(psi_rows(&[2.5; 3])).unwrap();
  tokio::time::sleep(Duration::from_secs(29)).await;
  assert_eq!(store.documents().len(), 1);
  tokio::time::sleep(Duration::from_secs(2)).await;
  assert_eq!(store.documents().len(), 2);
  queues.shutdown(None).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn custom_timer_and_spc_has_none() {
  let store = Arc::new(MockStore::new(0));
  let options = QueueOptions {
    flush_interval: Duration::from_secs(5),
    ..QueueOptions::default()
  };
  let (queues, _) = open(
    &[
      ("custom", "custom_profile.json"),
      ("spc", "spc_profile.json"),
    ],
    &store,
    options,
  )
  .await;
  // Custom slots: mae, mape. SPC slots: feature_0, feature_1, color.
  queues
    .queue("custom")
    .unwrap()
    .push(ItemBatch::Rows(RowBatch::from_rows(
      2,
      &[vec![Some(1.0), Some(2.0)]],
    )))
    .unwrap();
  queues
    .queue("spc")
    .unwrap()
    .push(ItemBatch::Rows(RowBatch::from_rows(
      3,
      &[vec![Some(1.0), None, None]],
    )))
    .unwrap();
  tokio::time::sleep(Duration::from_secs(6)).await;
  let docs = documents(&store);
  assert_eq!(docs.len(), 1);
  assert_eq!(docs[0]["records"][0]["Custom"]["metric"], "mae");
  // The short SPC batch is published at shutdown, not lost.
  queues.shutdown(None).await.unwrap();
  let docs = documents(&store);
  assert_eq!(docs.len(), 2);
  assert_eq!(docs[1]["records"][0]["Spc"]["value"], 1.0);
}

#[tokio::test(start_paused = true)]
async fn pending_bound_drops_and_counts() {
  let store = Arc::new(MockStore::new(0));
  store.set_latency(Duration::from_secs(10));
  let options = QueueOptions {
    max_pending_items: 1500,
    ..QueueOptions::default()
  };
  let (queues, _) = open(&[("psi", "psi_profile.json")], &store, options).await;
  let bus = queues.queue("psi").unwrap();
  assert_eq!(bus.push(psi_rows(&[1.0; 1000])).unwrap(), 1000);
  assert_eq!(bus.push(psi_rows(&[1.0; 1000])).unwrap(), 500);
  assert_eq!(bus.push(psi_rows(&[1.0; 10])).unwrap(), 0);
  let stats = bus.stats();
  assert_eq!(
    (stats.inserted, stats.pending, stats.dropped),
    (2010, 1500, 510)
  );
  assert!(stats.balanced());
  queues.flush(None).await.unwrap();
  let stats = bus.stats();
  assert_eq!(
    (stats.published, stats.pending, stats.dropped),
    (1500, 0, 510)
  );
  assert!(stats.balanced());
}

#[tokio::test(start_paused = true)]
async fn invariant_holds_while_a_slow_transport_publishes() {
  let store = Arc::new(MockStore::new(0));
  store.set_latency(Duration::from_millis(500));
  let (queues, _) = open_default(&[("psi", "psi_profile.json")], &store).await;
  let bus = Arc::clone(queues.queue("psi").unwrap());
  let flushing = tokio::spawn(async move { queues.flush(None).await.map(|_| queues) });
  for _ in 0..40 {
    bus.push(psi_rows(&[1.0; 250])).unwrap();
    tokio::time::sleep(Duration::from_millis(37)).await;
    let stats = bus.stats();
    assert!(stats.balanced(), "{stats:?}");
  }
  let queues = flushing.await.unwrap().unwrap();
  queues.flush(None).await.unwrap();
  let stats = bus.stats();
  assert_eq!(
    (stats.inserted, stats.published, stats.pending),
    (10_000, 10_000, 0)
  );
}

#[tokio::test(start_paused = true)]
async fn flush_deadline_counts_unconfirmed_as_failed() {
  let store = Arc::new(MockStore::new(0));
  store.set_latency(Duration::from_secs(3600));
  let (queues, reports) = open_default(&[("psi", "psi_profile.json")], &store).await;
  let bus = queues.queue("psi").unwrap();
  bus.push(psi_rows(&[1.0; 20])).unwrap();
  let started = Instant::now();
  queues
    .shutdown(Some(Instant::now() + Duration::from_secs(2)))
    .await
    .unwrap();
  assert!(started.elapsed() < Duration::from_secs(3));
  let stats = bus.stats();
  assert_eq!(
    (stats.failed, stats.pending, stats.publish_failures),
    (20, 0, 1)
  );
  assert!(stats.balanced());
  assert!(reports.lock().unwrap()[0].1.contains("deadline"));
}

#[tokio::test(start_paused = true)]
async fn flush_deadline_holds_while_the_loop_waits_for_an_in_flight_slot() {
  // A transport that never confirms, two documents in flight at most, five documents' worth of
  // rows queued: the event task blocks on a slot before it reaches the shutdown's message, and
  // the deadline must still end the wait.
  let store = Arc::new(MockStore::new(0));
  store.set_latency(Duration::from_secs(3600));
  let options = QueueOptions {
    max_in_flight: 2,
    ..QueueOptions::default()
  };
  let (queues, _reports) = open(&[("psi", "psi_profile.json")], &store, options).await;
  let bus = queues.queue("psi").unwrap();
  for _ in 0..5 {
    bus.push(psi_rows(&[1.0; 1000])).unwrap();
  }
  let started = Instant::now();
  queues
    .shutdown(Some(Instant::now() + Duration::from_secs(2)))
    .await
    .unwrap();
  assert!(
    started.elapsed() <= Duration::from_secs(2),
    "took {:?}",
    started.elapsed()
  );
  let stats = bus.stats();
  assert_eq!(
    (stats.inserted, stats.failed, stats.pending),
    (5000, 5000, 0)
  );
  assert!(stats.balanced());
}

#[tokio::test(start_paused = true)]
async fn retries_then_failure_is_counted_and_reported() {
  let store = Arc::new(MockStore::new(2));
  let (queues, reports) = open_default(&[("psi", "psi_profile.json")], &store).await;
  let bus = queues.queue("psi").unwrap();
  store.fail_next(2, true);
  bus.push(psi_rows(&[1.0; 5])).unwrap();
  queues.flush(None).await.unwrap();
  assert_eq!(store.attempts(), 3, "two retries, then success");
  assert_eq!(bus.stats().published, 5);

  store.fail_next(3, true);
  bus.push(psi_rows(&[1.0; 7])).unwrap();
  queues.flush(None).await.unwrap();
  let stats = bus.stats();
  assert_eq!(
    (stats.published, stats.failed, stats.publish_failures),
    (5, 7, 1)
  );
  let reports = reports.lock().unwrap();
  assert_eq!(reports.len(), 1);
  assert_eq!(reports[0].0, "psi");
  assert!(reports[0].1.contains("after 2 retries"), "{}", reports[0].1);
  assert!(stats.last_error.unwrap().contains("injected"));
}

#[tokio::test(start_paused = true)]
async fn permanent_failure_is_not_retried() {
  let store = Arc::new(MockStore::new(3));
  let (queues, _) = open_default(&[("psi", "psi_profile.json")], &store).await;
  store.fail_next(1, false);
  queues.queue("psi").unwrap().push(psi_rows(&[1.0])).unwrap();
  queues.flush(None).await.unwrap();
  assert_eq!(store.attempts(), 1);
  assert_eq!(queues.queue("psi").unwrap().stats().failed, 1);
}

#[tokio::test(start_paused = true)]
async fn shutdown_is_idempotent_and_closes_the_queue() {
  let store = Arc::new(MockStore::new(0));
  let (queues, _) = open_default(&[("psi", "psi_profile.json")], &store).await;
  let bus = Arc::clone(queues.queue("psi").unwrap());
  bus.push(psi_rows(&[1.0; 3])).unwrap();
  let (a, b) = tokio::join!(queues.shutdown(None), queues.shutdown(None));
  a.unwrap();
  b.unwrap();
  assert_eq!(store.documents().len(), 1);
  assert!(matches!(
    bus.push(psi_rows(&[1.0])),
    Err(QueueError::Closed { .. })
  ));
  bus.flush(soon()).await.unwrap();
  queues.flush(None).await.unwrap();
  queues.shutdown(None).await.unwrap();
  assert_eq!(bus.stats().inserted, 3, "a refused push is not an insert");
}

#[tokio::test(start_paused = true)]
async fn wrong_shape_is_refused() {
  let store = Arc::new(MockStore::new(0));
  let (queues, _) = open_default(
    &[("psi", "psi_profile.json"), ("llm", "llm_profile.json")],
    &store,
  )
  .await;
  let psi = queues.queue("psi").unwrap();
  assert!(psi
    .push(ItemBatch::Rows(RowBatch::from_rows(
      3,
      &[vec![None, None, None]]
    )))
    .is_err());
  assert!(psi.push(ItemBatch::Records(vec![])).is_err());
  assert!(queues.queue("llm").unwrap().push(psi_rows(&[1.0])).is_err());
  assert_eq!(psi.stats().inserted, 0);
}

#[tokio::test(start_paused = true)]
async fn llm_records_publish_one_document_per_batch() {
  let store = Arc::new(MockStore::new(0));
  let (queues, _) = open_default(&[("llm", "llm_profile.json")], &store).await;
  let llm = queues.queue("llm").unwrap();
  let input = |n: u32| {
    BuiltRecord::llm(
      format!("u{n}"),
      "2025-08-25T12:00:00.000000000Z".into(),
      format!(r#"{{"n":{n}}}"#),
      None,
    )
    .unwrap()
  };
  llm
    .push(ItemBatch::Records(vec![input(1), input(2)]))
    .unwrap();
  queues.shutdown(None).await.unwrap();
  // sample_rate 1: capacity 1, every record is its own document.
  let docs = documents(&store);
  assert_eq!(docs.len(), 2);
  assert_eq!(
    docs[1]["records"][0]["LLMDrift"]["record"]["context"]["n"],
    2
  );
  assert_eq!(llm.stats().published, 2);
}

#[tokio::test(start_paused = true)]
async fn open_rejects_a_bad_profile_naming_it() {
  let store = Arc::new(MockStore::new(0));
  let sink: ErrorSink = Arc::new(|_, _| {});
  let err = ScouterQueues::open(
    vec![("x".into(), ProfileSource::File(fixture("nope.json")))],
    vec![TransportConfig::Mock(store)],
    BreakerOptions::default(),
    Arc::new(|_| {}),
    QueueOptions::default(),
    sink,
    None,
  )
  .await
  .err()
  .unwrap();
  assert!(
    matches!(err, QueueError::Profile { ref path, .. } if path.ends_with("nope.json")),
    "{err}"
  );
}

/// An aggregator that panics, standing in for a bug.
struct Exploding;

impl Aggregator for Exploding {
  type Item = crate::core::item::Row;

  fn kind(&self) -> DriftKind {
    DriftKind::Spc
  }

  fn aggregate(
    &mut self,
    _runs: Vec<crate::core::item::RowRun>,
    _now: chrono::DateTime<chrono::Utc>,
  ) -> crate::core::aggregate::Aggregation {
    panic!("boom in an aggregator")
  }
}

/// A queue of one slot around `aggregator`, publishing to `store`, reporting into the result.
fn queue_with<A: Aggregator>(aggregator: A, store: &Arc<MockStore>) -> (Arc<QueueBus>, Reports) {
  let (sink, reports) = recording_sink();
  let identity = Identity {
    alias: "x".into(),
    identifier: "s/n/v1/spc".into(),
    kind: aggregator.kind(),
    slots: vec![Slot {
      name: "a".into(),
      codes: None,
    }],
    capacity: 10,
    timed: false,
    format: crate::core::wire::WireFormat::V0_9,
    id: crate::core::profile::ProfileId {
      space: "s".into(),
      name: "n".into(),
      version: "1".into(),
      uid: None,
    },
  };
  let transport: Arc<dyn Transport> = Arc::new(crate::core::transport::MockTransport::new(
    Arc::clone(store),
  ));
  let bus = QueueBus::with_aggregator(
    identity,
    aggregator,
    (
      one(transport),
      &QueueOptions::default(),
      sink,
      None,
      crate::core::publish_events::PublishObserver::new(),
    ),
  );
  (bus, reports)
}

fn soon() -> Instant {
  Instant::now() + Duration::from_secs(30)
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_aggregation_is_caught_counted_and_reported() {
  let store = Arc::new(MockStore::new(0));
  let (bus, reports) = queue_with(Exploding, &store);
  for _ in 0..2 {
    bus
      .push(ItemBatch::Rows(RowBatch::from_rows(
        1,
        &[vec![Some(1.0)], vec![Some(2.0)]],
      )))
      .unwrap();
    bus.flush(soon()).await.unwrap();
  }
  // The loop survived the first panic and handled the second batch the same way.
  let s = bus.stats();
  assert_eq!((s.inserted, s.failed, s.pending), (4, 4, 0));
  assert_eq!(s.publish_failures, 0, "no document was made");
  assert!(s.balanced());
  let reports = reports.lock().unwrap().clone();
  assert_eq!(reports.len(), 2);
  assert!(
    reports[0].1.contains("boom in an aggregator"),
    "{}",
    reports[0].1
  );
  assert!(store.documents().is_empty());
  bus.shutdown(soon()).await.unwrap();
}

/// A profile fixture with `edit` applied to its JSON, written to a temp file.
fn edited_fixture(dir: &tempfile::TempDir, name: &str, edit: impl Fn(&mut Value)) -> PathBuf {
  let mut json: Value =
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap();
  edit(&mut json);
  let path = dir.path().join(name);
  std::fs::write(&path, json.to_string()).unwrap();
  path
}

async fn open_paths(
  sources: Vec<(String, PathBuf)>,
  store: &Arc<MockStore>,
  options: QueueOptions,
) -> ScouterQueues {
  ScouterQueues::open(
    sources
      .into_iter()
      .map(|(alias, path)| (alias, ProfileSource::File(path)))
      .collect(),
    vec![TransportConfig::Mock(Arc::clone(store))],
    BreakerOptions::default(),
    Arc::new(|_| {}),
    options,
    Arc::new(|_, _| {}),
    None,
  )
  .await
  .unwrap()
}

#[tokio::test(start_paused = true)]
async fn huge_sample_sizes_allocate_nothing_up_front() {
  // 1e12 and 2^64-1 used to size the buffer: an abort (24 TB) or a "capacity overflow" panic.
  let dir = tempfile::tempdir().unwrap();
  for size in [
    serde_json::json!(1_000_000_000_000u64),
    serde_json::json!(u64::MAX),
  ] {
    let spc = edited_fixture(&dir, "spc_profile.json", |p| {
      p["config"]["sample_size"] = size.clone()
    });
    let custom = edited_fixture(&dir, "custom_profile.json", |p| {
      p["config"]["sample_size"] = size.clone()
    });
    let store = Arc::new(MockStore::new(0));
    let queues = open_paths(
      vec![("spc".into(), spc), ("custom".into(), custom)],
      &store,
      QueueOptions::default(),
    )
    .await;
    let spc = queues.queue("spc").unwrap();
    let width = spc.slots().len();
    let rows: Vec<Vec<Option<f64>>> = (0..3).map(|r| vec![Some(r as f64 * 2.0); width]).collect();
    spc
      .push(ItemBatch::Rows(RowBatch::from_rows(width, &rows)))
      .unwrap();
    queues.shutdown(None).await.unwrap();
    // One partial chunk per monitored feature: the mean of 0, 2 and 4.
    let docs = documents(&store);
    assert_eq!(docs.len(), 1);
    for record in docs[0]["records"].as_array().unwrap() {
      assert_eq!(record["Spc"]["value"], 2.0);
    }
    assert_eq!(spc.stats().published, 3);
  }
}

#[tokio::test(start_paused = true)]
async fn a_flush_without_a_deadline_uses_the_flush_timeout() {
  let store = Arc::new(MockStore::new(0));
  store.set_latency(Duration::from_secs(3600));
  let options = QueueOptions {
    flush_timeout: Duration::from_secs(5),
    ..QueueOptions::default()
  };
  let (queues, _) = open(&[("psi", "psi_profile.json")], &store, options).await;
  let bus = queues.queue("psi").unwrap();
  bus.push(psi_rows(&[1.0; 10])).unwrap();
  let started = Instant::now();
  queues.flush(None).await.unwrap();
  assert_eq!(started.elapsed(), Duration::from_secs(5));
  let stats = bus.stats();
  assert_eq!(
    (stats.failed, stats.pending, stats.publish_failures),
    (10, 0, 1)
  );
  // The queue keeps working once the transport does.
  store.set_latency(Duration::ZERO);
  bus.push(psi_rows(&[1.0; 4])).unwrap();
  queues.flush(None).await.unwrap();
  assert_eq!(bus.stats().published, 4);
  assert_eq!(documents(&store).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_flush_deadline_fails_items_still_in_the_data_lane_without_publishing_them() {
  // One document in flight at most, stuck: the data lane still holds batches when the deadline
  // passes. They are counted as failed without ever being handed over.
  let store = Arc::new(MockStore::new(0));
  store.set_latency(Duration::from_secs(3600));
  let options = QueueOptions {
    max_in_flight: 1,
    ..QueueOptions::default()
  };
  let (queues, _) = open(&[("psi", "psi_profile.json")], &store, options).await;
  let bus = queues.queue("psi").unwrap();
  for _ in 0..4 {
    bus.push(psi_rows(&[1.0; 1000])).unwrap();
  }
  queues
    .flush(Some(Instant::now() + Duration::from_secs(1)))
    .await
    .unwrap();
  let stats = bus.stats();
  assert_eq!((stats.failed, stats.pending), (4000, 0));
  assert!(stats.balanced());
  assert!(store.attempts() <= 2, "attempts: {}", store.attempts());
  queues.shutdown(Some(Instant::now())).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn many_tiny_batches_merge_into_the_fixed_run_buffer() {
  let store = Arc::new(MockStore::new(0));
  let (queues, _) = open_default(&[("psi", "psi_profile.json")], &store).await;
  let bus = queues.queue("psi").unwrap();
  for n in 0..2500 {
    bus.push(psi_rows(&[(n % 10) as f64])).unwrap();
  }
  queues.flush(None).await.unwrap();
  let docs = documents(&store);
  assert_eq!(
    docs.iter().map(counted).collect::<Vec<_>>(),
    [1000, 1000, 500]
  );
  assert_eq!(bus.stats().published, 2500);
}

#[tokio::test(start_paused = true)]
async fn large_llm_records_are_bounded_by_bytes() {
  let store = Arc::new(MockStore::new(0));
  store.set_latency(Duration::from_secs(10));
  let options = QueueOptions {
    max_pending_bytes: 10 * 1024 * 1024,
    ..QueueOptions::default()
  };
  let (queues, _) = open(&[("llm", "llm_profile.json")], &store, options).await;
  let llm = queues.queue("llm").unwrap();
  let big = "x".repeat(1024 * 1024);
  let record = |n: u32| {
    BuiltRecord::llm(
      format!("u{n}"),
      "2025-08-25T12:00:00.000000000Z".into(),
      format!(r#"{{"text":"{big}"}}"#),
      None,
    )
    .unwrap()
  };
  for n in 0..40 {
    llm.push(ItemBatch::Records(vec![record(n)])).unwrap();
  }
  let stats = llm.stats();
  assert_eq!((stats.inserted, stats.pending, stats.dropped), (40, 9, 31));
  assert!(stats.pending_bytes <= 10 * 1024 * 1024);
  queues.shutdown(None).await.unwrap();
  let stats = llm.stats();
  assert_eq!(
    (stats.published, stats.pending, stats.pending_bytes),
    (9, 0, 0)
  );
}

#[tokio::test(start_paused = true)]
async fn flush_after_shutdown_returns_the_shutdowns_result() {
  let store = Arc::new(MockStore::new(0));
  let (queues, reports) = open_default(&[("psi", "psi_profile.json")], &store).await;
  let queues = Arc::new(queues);
  queues
    .queue("psi")
    .unwrap()
    .push(psi_rows(&[1.0; 3]))
    .unwrap();
  let (shut, flushed) = tokio::join!(queues.shutdown(None), queues.flush(None));
  shut.unwrap();
  flushed.unwrap();
  queues.flush(None).await.unwrap();
  assert_eq!(queues.queue("psi").unwrap().stats().published, 3);
  assert!(
    reports.lock().unwrap().is_empty(),
    "{:?}",
    reports.lock().unwrap()
  );
}

/// A transport whose hand-over panics: a bug outside any aggregator.
struct PanickingTransport;

#[async_trait::async_trait]
impl Transport for PanickingTransport {
  fn name(&self) -> &'static str {
    "panicking"
  }

  fn publish(&self, _document: Arc<Document>) -> crate::core::transport::Confirmation {
    panic!("boom in a transport")
  }
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_the_event_loop_fails_what_is_pending_and_is_reported() {
  let (sink, reports) = recording_sink();
  let profile = DriftProfile::load(fixture("psi_profile.json")).unwrap();
  let bus = QueueBus::start(
    "psi".into(),
    profile,
    one(Arc::new(PanickingTransport)),
    &QueueOptions::default(),
    sink,
    None,
    crate::core::publish_events::PublishObserver::new(),
  );
  bus.push(psi_rows(&[1.0; 1500])).unwrap();
  bus.flush(soon()).await.unwrap_err();
  let stats = bus.stats();
  assert_eq!(
    (stats.inserted, stats.failed, stats.pending),
    (1500, 1500, 0)
  );
  assert!(reports.lock().unwrap()[0].1.contains("boom in a transport"));
  // The queue is closed now: a push is refused without being counted, and shutdown returns.
  assert!(matches!(
    bus.push(psi_rows(&[1.0])),
    Err(QueueError::Closed { .. })
  ));
  bus.shutdown(soon()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn documents_that_fail_over_count_per_transport_and_once_for_the_queue() {
  let (first, second) = (Arc::new(MockStore::new(0)), Arc::new(MockStore::new(0)));
  first.set_failing(true, false);
  let changes: Arc<Mutex<Vec<StateChange>>> = Arc::default();
  let sink_changes = Arc::clone(&changes);
  let (sink, reports) = recording_sink();
  let queues = ScouterQueues::open(
    vec![(
      "llm".into(),
      ProfileSource::File(fixture("llm_profile.json")),
    )],
    vec![
      TransportConfig::Mock(Arc::clone(&first)),
      TransportConfig::Mock(Arc::clone(&second)),
    ],
    BreakerOptions::default(),
    Arc::new(move |event| {
      if let ChainEvent::State(change) = event {
        sink_changes.lock().unwrap().push(change)
      }
    }),
    QueueOptions {
      max_in_flight: 1,
      ..QueueOptions::default()
    },
    sink,
    None,
  )
  .await
  .unwrap();
  assert_eq!(queues.chain().name(), "mock>mock");
  let llm = queues.queue("llm").unwrap();
  let record = |n: u32| {
    BuiltRecord::llm(
      format!("u{n}"),
      "2025-08-25T12:00:00.000000000Z".into(),
      format!(r#"{{"n":{n}}}"#),
      None,
    )
    .unwrap()
  };
  llm
    .push(ItemBatch::Records((0..8).map(record).collect()))
    .unwrap();
  queues.shutdown(None).await.unwrap();
  let stats = llm.stats();
  // Five documents failed on the first member before its breaker opened (the default
  // threshold); the next member confirmed all eight. For the queue, eight were published.
  assert_eq!(
    (
      stats.published,
      stats.failed,
      stats.documents,
      stats.publish_failures
    ),
    (8, 0, 8, 0)
  );
  let counts: Vec<(u64, u64)> = stats
    .transports
    .iter()
    .map(|c| (c.published, c.failed))
    .collect();
  assert_eq!(counts, [(0, 5), (8, 0)]);
  assert_eq!(first.attempts(), 5);
  assert_eq!(second.documents().len(), 8);
  assert!(reports.lock().unwrap().is_empty(), "nothing was lost");
  let changes = changes.lock().unwrap();
  assert_eq!(changes.len(), 1);
  assert_eq!((changes[0].index, changes[0].to.as_str()), (0, "open"));
}
