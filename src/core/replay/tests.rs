//! The replayer against the Mock transport: counts, retries, invalid lines, and a spool's
//! frames acknowledged only with `consume`.

use std::sync::Arc;

use super::*;
use crate::core::profile::DriftKind;
use crate::core::spool::{QueueSpool, SpoolBudget, SpoolSync};
use crate::core::transport::MockStore;
use crate::core::wire::WireFormat;

fn line(metric: &str) -> String {
  format!(
    r#"{{"records":[{{"Custom":{{"created_at":"t","space":"s","name":"n","version":"1","metric":"{metric}","value":1.0}}}},{{"Custom":{{"created_at":"t","space":"s","name":"n","version":"1","metric":"x","value":2.0}}}}]}}"#
  )
}

async fn run(replayer: &mut Replayer, step: usize) -> (ReplayProgress, Vec<String>) {
  let mut problems = Vec::new();
  loop {
    let mut progress = replayer.step(step).await;
    problems.append(&mut progress.problems);
    if progress.done {
      return (progress, problems);
    }
  }
}

#[tokio::test]
async fn a_jsonl_file_is_published_line_by_line_and_accounted() {
  let dir = tempfile::tempdir().unwrap();
  let path = dir.path().join("records.jsonl");
  std::fs::write(
    &path,
    format!("{}\nbroken\n{}\n{}\n", line("a"), line("b"), line("c")),
  )
  .unwrap();
  let store = Arc::new(MockStore::new(2));
  // The first attempt fails retryably: retried; then one fails for good.
  store.fail_next(1, true);
  let config = TransportConfig::Mock(Arc::clone(&store));
  let mut replayer = Replayer::open(&path, &config, ReplayOptions::default())
    .await
    .unwrap();
  let (progress, problems) = run(&mut replayer, 2).await;
  assert_eq!(
    progress.counts,
    ReplayCounts {
      read: 4,
      published: 3,
      failed: 0,
      invalid: 1,
      records: 6
    }
  );
  assert_eq!(progress.position, progress.total);
  assert_eq!(problems.len(), 1);
  assert!(problems[0].starts_with("line 2: not JSON"), "{problems:?}");
  let mut documents = store.documents();
  documents.sort();
  assert_eq!(documents, [line("a"), line("b"), line("c")]);
  replayer.close().await.unwrap();

  store.clear();
  store.fail_next(10, false);
  let mut replayer = Replayer::open(&path, &config, ReplayOptions::default())
    .await
    .unwrap();
  let (progress, problems) = run(&mut replayer, 10).await;
  assert_eq!(progress.counts.failed, 3);
  assert_eq!(progress.counts.published, 0);
  assert!(problems[1].starts_with("line 1: "), "{problems:?}");
}

#[tokio::test]
async fn consume_is_refused_for_a_file_and_missing_paths_are_named() {
  let dir = tempfile::tempdir().unwrap();
  let path = dir.path().join("records.jsonl");
  std::fs::write(&path, line("a")).unwrap();
  let config = TransportConfig::Mock(Arc::new(MockStore::new(0)));
  let consume = ReplayOptions { consume: true };
  assert!(Replayer::open(&path, &config, consume).await.is_err());
  let missing = dir.path().join("missing.jsonl");
  let error = Replayer::open(&missing, &config, ReplayOptions::default())
    .await
    .err()
    .unwrap();
  assert!(error.to_string().contains("cannot read"), "{error}");
}

fn spool_with(dir: &std::path::Path, queue: &str, metrics: &[&str]) {
  let budget = Arc::new(SpoolBudget::new(1 << 30));
  let (mut spool, _) =
    QueueSpool::open(dir.join(queue), SpoolSync::Never, 1 << 20, budget).unwrap();
  for metric in metrics {
    let json = line(metric).into_bytes();
    let document = Document {
      format: WireFormat::V0_9,
      kind: DriftKind::Custom,
      record_count: 2,
      json,
    };
    spool.append(&document, 1).unwrap();
  }
  spool.close().unwrap();
}

#[tokio::test]
async fn a_spool_is_replayed_and_consumed_only_when_asked() {
  let dir = tempfile::tempdir().unwrap();
  spool_with(dir.path(), "q1", &["a", "b"]);
  spool_with(dir.path(), "q2", &["c"]);
  let store = Arc::new(MockStore::new(0));
  let config = TransportConfig::Mock(Arc::clone(&store));

  let mut replayer = Replayer::open(dir.path(), &config, ReplayOptions::default())
    .await
    .unwrap();
  // The lock is held: a second replay (or a service) is refused meanwhile.
  assert!(
    Replayer::open(dir.path(), &config, ReplayOptions::default())
      .await
      .is_err()
  );
  let (progress, _) = run(&mut replayer, 10).await;
  assert_eq!(progress.counts.published, 3);
  assert_eq!(progress.total, 3);
  replayer.close().await.unwrap();
  assert_eq!(store.documents(), [line("a"), line("b"), line("c")]);

  // Not consumed: all three are there again; this time one fails and is kept.
  store.clear();
  store.fail_next(1, false);
  let consume = ReplayOptions { consume: true };
  let mut replayer = Replayer::open(dir.path(), &config, consume).await.unwrap();
  let (progress, _) = run(&mut replayer, 10).await;
  assert_eq!((progress.counts.published, progress.counts.failed), (2, 1));
  replayer.close().await.unwrap();

  store.clear();
  let mut replayer = Replayer::open(dir.path(), &config, consume).await.unwrap();
  let (progress, _) = run(&mut replayer, 10).await;
  assert_eq!(progress.counts.published, 1);
  replayer.close().await.unwrap();
  assert_eq!(store.documents(), [line("a")]);

  let replayer = Replayer::open(dir.path(), &config, consume).await.unwrap();
  assert_eq!(replayer.source.total(), 0);
}
