//! Event-loop tests with the disk spool on: documents wait on disk while the transport fails,
//! stay there through a shutdown, are replayed by the next `open` on the directory, and the spool
//! keeps within `spoolMaxBytes` by dropping its oldest documents, counted exactly.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::tests::{documents, open, Reports};
use super::*;
use crate::core::built_record::BuiltRecord;
use crate::core::spool::{SpoolOptions, SpoolSync};
use crate::core::transport::MockStore;

const LLM: &[(&str, &str)] = &[("llm", "llm_profile.json")];

fn spooled_options(dir: &Path, max_bytes: u64) -> QueueOptions {
  QueueOptions {
    max_pending_items: 50,
    spool: Some(SpoolOptions {
      dir: dir.to_path_buf(),
      max_bytes,
      sync: SpoolSync::Always,
    }),
    ..QueueOptions::default()
  }
}

/// LLM records `from..to`; the LLM fixture has `sample_rate` 1, so each is its own document.
fn records(from: u32, to: u32) -> ItemBatch {
  ItemBatch::Records(
    (from..to)
      .map(|n| {
        BuiltRecord::llm(
          format!("u{n}"),
          "2025-08-25T12:00:00.000000000Z".into(),
          format!(r#"{{"n":{n}}}"#),
          None,
        )
        .unwrap()
      })
      .collect(),
  )
}

fn ids(docs: &[Value]) -> Vec<u64> {
  docs
    .iter()
    .map(|d| {
      d["records"][0]["LLMDrift"]["record"]["context"]["n"]
        .as_u64()
        .unwrap()
    })
    .collect()
}

fn in_seconds(seconds: u64) -> Option<Instant> {
  Some(Instant::now() + Duration::from_secs(seconds))
}

/// Bytes of the files under `dir`, the lock file left out.
fn disk_usage(dir: &Path) -> u64 {
  let mut total = 0;
  for entry in std::fs::read_dir(dir).unwrap() {
    let entry = entry.unwrap();
    let meta = entry.metadata().unwrap();
    if meta.is_dir() {
      total += disk_usage(&entry.path());
    } else if entry.file_name() != "LOCK" {
      total += meta.len();
    }
  }
  total
}

fn errors(reports: &Reports) -> Vec<String> {
  reports
    .lock()
    .unwrap()
    .iter()
    .map(|(_, e)| e.clone())
    .collect()
}

#[tokio::test(start_paused = true)]
async fn a_failing_transport_moves_documents_to_disk_instead_of_dropping_them() {
  let dir = tempfile::tempdir().unwrap();
  let store = Arc::new(MockStore::new(0));
  store.fail_next(u64::MAX, true);
  let (queues, reports) = open(LLM, &store, spooled_options(dir.path(), 1 << 20)).await;
  let bus = queues.queue("llm").unwrap();
  // Four times `max_pending_items`: without a spool, most would be dropped.
  for start in (0..200).step_by(50) {
    assert_eq!(bus.push(records(start, start + 50)).unwrap(), 50);
    tokio::time::sleep(Duration::from_millis(10)).await;
  }
  tokio::time::sleep(Duration::from_millis(100)).await;
  let s = bus.stats();
  assert_eq!(
    (s.inserted, s.dropped, s.failed, s.pending),
    (200, 0, 0, 200)
  );
  assert_eq!((s.spooled_documents, s.spooled_items), (200, 200));
  assert!(s.spooled_bytes > 200 * 100, "{}", s.spooled_bytes);
  assert_eq!(s.pending_bytes, 0);
  assert!(errors(&reports)[0].contains("kept in the spool"));

  // The transport comes back: everything is delivered, in order, and the spool empties.
  store.fail_next(0, true);
  queues.flush(in_seconds(120)).await.unwrap();
  let s = bus.stats();
  assert_eq!((s.published, s.pending, s.failed), (200, 0, 0));
  assert_eq!((s.spooled_documents, s.spooled_bytes), (0, 0));
  assert!(s.balanced());
  let delivered = ids(&documents(&store));
  assert_eq!(delivered.len(), 200);
  let mut sorted = delivered.clone();
  sorted.sort_unstable();
  assert_eq!(sorted, (0..200).collect::<Vec<_>>());
  queues.shutdown(None).await.unwrap();
  assert_eq!(
    disk_usage(dir.path()),
    0,
    "acknowledged segments are deleted"
  );
}

#[tokio::test(start_paused = true)]
async fn what_a_shutdown_could_not_deliver_is_replayed_by_the_next_process_first() {
  let dir = tempfile::tempdir().unwrap();
  let store = Arc::new(MockStore::new(0));
  store.fail_next(u64::MAX, true);
  let (queues, _) = open(LLM, &store, spooled_options(dir.path(), 1 << 20)).await;
  let bus = Arc::clone(queues.queue("llm").unwrap());
  bus.push(records(0, 30)).unwrap();
  queues.shutdown(in_seconds(5)).await.unwrap();
  let s = bus.stats();
  assert_eq!((s.pending, s.failed, s.spooled_documents), (30, 0, 30));
  assert!(s.balanced());
  drop(queues);

  let healthy = Arc::new(MockStore::new(0));
  let (queues, reports) = open(LLM, &healthy, spooled_options(dir.path(), 1 << 20)).await;
  let bus = queues.queue("llm").unwrap();
  assert_eq!(bus.stats().spooled_documents, 30);
  bus.push(records(30, 35)).unwrap();
  queues.shutdown(None).await.unwrap();
  assert_eq!(ids(&documents(&healthy)), (0..35).collect::<Vec<_>>());
  let s = bus.stats();
  assert_eq!((s.replayed_documents, s.inserted, s.published), (30, 5, 5));
  assert_eq!((s.spooled_documents, s.spooled_bytes, s.pending), (0, 0, 0));
  assert!(errors(&reports).is_empty(), "{:?}", errors(&reports));
  assert_eq!(disk_usage(dir.path()), 0);
}

#[tokio::test(start_paused = true)]
async fn a_full_spool_drops_its_oldest_documents_and_counts_them() {
  let dir = tempfile::tempdir().unwrap();
  let store = Arc::new(MockStore::new(0));
  store.fail_next(u64::MAX, true);
  let max = SpoolOptions::MIN_MAX_BYTES;
  let (queues, reports) = open(LLM, &store, spooled_options(dir.path(), max)).await;
  let bus = queues.queue("llm").unwrap();
  let mut peak = 0;
  for start in (0..2000).step_by(50) {
    bus.push(records(start, start + 50)).unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    peak = peak.max(disk_usage(dir.path()));
  }
  tokio::time::sleep(Duration::from_millis(100)).await;
  let s = bus.stats();
  assert!(s.dropped > 0, "{s:?}");
  assert_eq!(s.inserted, 2000);
  assert_eq!(s.pending, s.spooled_items);
  assert_eq!(s.dropped + s.pending, 2000, "{s:?}");
  assert!(s.balanced());
  assert!(peak <= max, "the spool took {peak} bytes, over {max}");
  let reported: Vec<String> = errors(&reports)
    .into_iter()
    .filter(|e| e.contains("spool is full"))
    .collect();
  assert_eq!(reported.len(), 1, "{reported:?}");

  // What survived is the newest documents: the oldest were dropped.
  store.fail_next(0, true);
  queues.shutdown(in_seconds(120)).await.unwrap();
  let delivered = ids(&documents(&store));
  assert_eq!(delivered.len() as u64, s.pending);
  let first_kept = 2000 - s.pending;
  let mut sorted = delivered.clone();
  sorted.sort_unstable();
  assert_eq!(sorted, (first_kept..2000).collect::<Vec<_>>());
  let s = bus.stats();
  assert_eq!(
    (s.published, s.dropped, s.pending),
    (2000 - first_kept, first_kept, 0)
  );
}

#[tokio::test(start_paused = true)]
async fn a_document_refused_for_good_leaves_the_spool_as_failed() {
  let dir = tempfile::tempdir().unwrap();
  let store = Arc::new(MockStore::new(0));
  store.fail_next(3, false);
  let (queues, _) = open(LLM, &store, spooled_options(dir.path(), 1 << 20)).await;
  let bus = queues.queue("llm").unwrap();
  bus.push(records(0, 5)).unwrap();
  queues.shutdown(None).await.unwrap();
  let s = bus.stats();
  assert_eq!((s.failed, s.published, s.pending), (3, 2, 0));
  assert_eq!(s.spooled_documents, 0);
  assert_eq!(disk_usage(dir.path()), 0);
}

#[tokio::test(start_paused = true)]
async fn a_second_live_open_of_the_directory_is_a_config_error() {
  let dir = tempfile::tempdir().unwrap();
  let store = Arc::new(MockStore::new(0));
  let (queues, _) = open(LLM, &store, spooled_options(dir.path(), 1 << 20)).await;
  let (sink, _) = super::tests::recording_sink();
  let second = crate::core::scouter_queue::ScouterQueues::open(
    vec![(
      "llm".into(),
      crate::core::profile::ProfileSource::File(super::tests::fixture("llm_profile.json")),
    )],
    vec![crate::core::transport::TransportConfig::Mock(Arc::clone(
      &store,
    ))],
    crate::core::transport::BreakerOptions::default(),
    Arc::new(|_| {}),
    spooled_options(dir.path(), 1 << 20),
    sink,
    None,
  )
  .await;
  let Err(error) = second else {
    panic!("a second open of a locked spool must fail");
  };
  assert!(matches!(error, QueueError::Config(_)), "{error}");
  assert!(error.to_string().contains("already in use"), "{error}");
  // Once the first has shut down, the directory is free.
  queues.shutdown(None).await.unwrap();
  let (again, _) = open(LLM, &store, spooled_options(dir.path(), 1 << 20)).await;
  again.shutdown(None).await.unwrap();
}
