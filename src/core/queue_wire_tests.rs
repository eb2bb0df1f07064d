//! Queues of both wire formats side by side: each publishes its own profile's format, with the
//! same numbers for the same inputs, and 0.25 GenAI queues batch 25 records per document.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::tests::{documents, fixture, open};
use super::QueueOptions;
use crate::core::built_record::{BuiltRecord, EvalFields};
use crate::core::item::{ItemBatch, RowBatch};
use crate::core::transport::MockStore;
use crate::core::wire::WireFormat;

const UID: &str = "0197f3a0-0000-7000-8000-0000000000aa";

fn psi_rows(values: &[f64]) -> ItemBatch {
  // Both PSI fixtures: slots feature_0, color.
  let rows: Vec<Vec<Option<f64>>> = values.iter().map(|v| vec![Some(*v), Some(1.0)]).collect();
  ItemBatch::Rows(RowBatch::from_rows(2, &rows))
}

fn eval(n: u32) -> BuiltRecord {
  BuiltRecord::eval(
    format!("019a0000-0000-7000-8000-{n:012}"),
    "2026-03-26T12:00:00.000000001Z".into(),
    format!(r#"{{"n":{n}}}"#),
    EvalFields {
      record_id: format!("r{n}"),
      session_id: "s".into(),
      trace_id: None,
      tags: vec![format!("n={n}")],
    },
  )
  .unwrap()
}

/// Every record of `docs`, unwrapped from its one-key kind object.
fn records<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
  docs
    .iter()
    .flat_map(|doc| doc["records"].as_array().unwrap())
    .map(|record| &record[kind])
    .collect()
}

#[tokio::test(start_paused = true)]
async fn one_scouter_queue_mixes_formats_with_the_same_numbers() {
  // The v0.9 fixture, given a uid: the same bins in the 0.25 format.
  let text = std::fs::read_to_string(fixture("psi_profile.json")).unwrap();
  let mut profile: Value = serde_json::from_str(&text).unwrap();
  profile["config"]["uid"] = UID.into();
  let uid_file = std::env::temp_dir().join(format!("sq-wire-psi-{}.json", std::process::id()));
  std::fs::write(&uid_file, profile.to_string()).unwrap();
  let v09 = Arc::new(MockStore::new(0));
  let v025 = Arc::new(MockStore::new(0));
  let options = QueueOptions::default;
  let (old, _) = open(&[("psi", "psi_profile.json")], &v09, options()).await;
  let (new, _) = open(&[("psi", uid_file.to_str().unwrap())], &v025, options()).await;
  std::fs::remove_file(&uid_file).unwrap();
  let values: Vec<f64> = (0..300).map(|n| f64::from(n) / 30.0).collect();
  assert_eq!(old.queue("psi").unwrap().format(), WireFormat::V0_9);
  assert_eq!(new.queue("psi").unwrap().format(), WireFormat::V0_25);
  old.queue("psi").unwrap().push(psi_rows(&values)).unwrap();
  new.queue("psi").unwrap().push(psi_rows(&values)).unwrap();
  old.shutdown(None).await.unwrap();
  new.shutdown(None).await.unwrap();
  let (old_docs, new_docs) = (documents(&v09), documents(&v025));
  let (old_records, new_records) = (records(&old_docs, "Psi"), records(&new_docs, "Psi"));
  assert_eq!(old_records.len(), new_records.len());
  assert!(!new_records.is_empty());
  for (a, b) in old_records.iter().zip(&new_records) {
    for field in ["feature", "bin_id", "bin_count", "created_at"] {
      if field != "created_at" {
        assert_eq!(a[field], b[field], "{field}");
      }
    }
    assert_eq!(a["space"], "scouter");
    assert_eq!(b.get("space"), None);
    assert_eq!(b["uid"], UID);
    assert_eq!(b["entity_id"], 0);
    let keys: Vec<&String> = b.as_object().unwrap().keys().collect();
    assert_eq!(
      keys.len(),
      6,
      "created_at, uid, feature, bin_id, bin_count, entity_id: {keys:?}"
    );
  }
  let color_total: u64 = new_records
    .iter()
    .filter(|r| r["feature"] == "color")
    .map(|r| r["bin_count"].as_u64().unwrap())
    .sum();
  assert_eq!(color_total, 300);
}

#[tokio::test(start_paused = true)]
async fn genai_queues_publish_25_records_per_document_and_the_rest_at_shutdown() {
  let store = Arc::new(MockStore::new(0));
  let (queues, _) = open(
    &[("genai", "v0_25/genai_eval_profile.json")],
    &store,
    QueueOptions::default(),
  )
  .await;
  let genai = queues.queue("genai").unwrap();
  assert_eq!(genai.identifier(), "scouter/genai_eval/v0.1.0/genai");
  genai
    .push(ItemBatch::Records((0..60).map(eval).collect()))
    .unwrap();
  // A v0.9 LLM record is refused by a GenAI queue, and nothing is counted for it.
  let llm = BuiltRecord::llm("u".into(), "t".into(), "{}".into(), None).unwrap();
  assert!(genai.push(ItemBatch::Records(vec![llm])).is_err());
  tokio::time::sleep(Duration::from_millis(10)).await;
  let sizes: Vec<usize> = documents(&store)
    .iter()
    .map(|doc| doc["records"].as_array().unwrap().len())
    .collect();
  assert_eq!(sizes, [25, 25], "full batches leave at once");
  queues.shutdown(None).await.unwrap();
  let docs = documents(&store);
  let sizes: Vec<usize> = docs
    .iter()
    .map(|doc| doc["records"].as_array().unwrap().len())
    .collect();
  assert_eq!(sizes, [25, 25, 10]);
  let all = records(&docs, "GenAIEval");
  for (n, record) in all.iter().enumerate() {
    let record = &record["record"];
    assert_eq!(record["record_id"], format!("r{n}"));
    assert_eq!(record["entity_uid"], "0197f3a0-0000-7000-8000-000000000004");
    assert_eq!(record["tags"], serde_json::json!([format!("n={n}")]));
    assert_eq!(record["trace_id"], Value::Null);
  }
  let stats = genai.stats();
  assert_eq!((stats.inserted, stats.published), (60, 60));
}

#[tokio::test(start_paused = true)]
async fn genai_partial_batches_leave_on_the_timer() {
  let store = Arc::new(MockStore::new(0));
  let options = QueueOptions {
    flush_interval: Duration::from_secs(30),
    ..QueueOptions::default()
  };
  let (queues, _) = open(
    &[("genai", "v0_25/genai_eval_profile.json")],
    &store,
    options,
  )
  .await;
  let genai = queues.queue("genai").unwrap();
  genai
    .push(ItemBatch::Records((0..3).map(eval).collect()))
    .unwrap();
  tokio::time::sleep(Duration::from_millis(29_900)).await;
  assert!(store.documents().is_empty());
  tokio::time::sleep(Duration::from_millis(200)).await;
  assert_eq!(store.documents().len(), 1);
  queues.shutdown(None).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn spooled_0_25_documents_replay_in_their_format() {
  let dir = tempfile::tempdir().unwrap();
  let options = || QueueOptions {
    spool: Some(crate::core::spool::SpoolOptions {
      dir: dir.path().to_path_buf(),
      max_bytes: 1 << 20,
      sync: crate::core::spool::SpoolSync::Never,
    }),
    ..QueueOptions::default()
  };
  let failing = Arc::new(MockStore::new(0));
  failing.fail_next(u64::MAX, true);
  let genai = &[("genai", "v0_25/genai_eval_profile.json")];
  let (queues, _) = open(genai, &failing, options()).await;
  queues
    .queue("genai")
    .unwrap()
    .push(ItemBatch::Records((0..30).map(eval).collect()))
    .unwrap();
  queues
    .shutdown(Some(tokio::time::Instant::now() + Duration::from_secs(5)))
    .await
    .unwrap();
  drop(queues);

  let healthy = Arc::new(MockStore::new(0));
  let (queues, _) = open(genai, &healthy, options()).await;
  queues.shutdown(None).await.unwrap();
  let docs = documents(&healthy);
  assert_eq!(docs.len(), 2, "25 + 5, as they were made");
  let ids: Vec<String> = records(&docs, "GenAIEval")
    .iter()
    .map(|record| record["record"]["record_id"].as_str().unwrap().to_string())
    .collect();
  assert_eq!(ids, (0..30).map(|n| format!("r{n}")).collect::<Vec<_>>());
  assert_eq!(queues.queue("genai").unwrap().stats().replayed_documents, 2);
}

#[tokio::test(start_paused = true)]
async fn publish_events_name_each_settled_document_once_switched_on() {
  use crate::core::publish_events::PublishEvent;
  let store = Arc::new(MockStore::new(0));
  let (queues, _) = open(
    &[("genai", "v0_25/genai_eval_profile.json")],
    &store,
    QueueOptions::default(),
  )
  .await;
  let seen: Arc<std::sync::Mutex<Vec<PublishEvent>>> = Arc::default();
  let into = Arc::clone(&seen);
  queues
    .publishes()
    .set_sink(move |event| into.lock().unwrap().push(event));
  let genai = queues.queue("genai").unwrap();
  genai
    .push(ItemBatch::Records((0..25).map(eval).collect()))
    .unwrap();
  queues.flush(None).await.unwrap();
  assert!(seen.lock().unwrap().is_empty(), "off until switched on");

  queues.publishes().set_enabled(true);
  store.fail_next(1, false);
  genai
    .push(ItemBatch::Records((0..30).map(eval).collect()))
    .unwrap();
  queues.flush(None).await.unwrap();
  let events = seen.lock().unwrap().clone();
  let summary: Vec<(u64, u64, bool)> = events
    .iter()
    .map(|e| (e.items, e.records, e.error.is_some()))
    .collect();
  // 25 (refused for good by the mock) then the 5 of the flush.
  assert_eq!(summary, [(25, 25, true), (5, 5, false)]);
  assert!(events
    .iter()
    .all(|e| &*e.alias == "genai" && e.transport == "mock"));
  queues.shutdown(None).await.unwrap();
}
