//! The spool on a real directory: appends, acknowledgements, segment deletion, and recovery after
//! a crash at any byte of a write (a property test over random histories).

use super::*;
use crate::core::spool::SpoolBudget;

use proptest::prelude::*;

fn document(id: u64, pad: usize) -> Document {
  Document {
    format: crate::core::wire::WireFormat::V0_9,
    kind: DriftKind::Llm,
    record_count: 1,
    json: format!(
      r#"{{"records":[{{"id":{id},"pad":"{}"}}]}}"#,
      "x".repeat(pad)
    )
    .into_bytes(),
  }
}

fn id_of(json: &[u8]) -> u64 {
  let text = std::str::from_utf8(json).unwrap();
  let start = text.find("\"id\":").unwrap() + 5;
  let end = start + text[start..].find(',').unwrap();
  text[start..end].parse().unwrap()
}

fn open(dir: &Path, segment_bytes: u64) -> (QueueSpool, Recovered, Arc<SpoolBudget>) {
  let budget = Arc::new(SpoolBudget::new(u64::MAX));
  let (spool, recovered) = QueueSpool::open(
    dir.to_path_buf(),
    SpoolSync::Never,
    segment_bytes,
    Arc::clone(&budget),
  )
  .unwrap();
  (spool, recovered, budget)
}

fn files(dir: &Path) -> Vec<String> {
  let mut names: Vec<String> = std::fs::read_dir(dir)
    .unwrap()
    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
    .collect();
  names.sort();
  names
}

#[test]
fn documents_read_back_and_segments_go_once_acknowledged() {
  let dir = tempfile::tempdir().unwrap();
  let (mut spool, recovered, budget) = open(dir.path(), 200);
  assert!(recovered.replay.is_empty());
  let slots: Vec<SpoolSlot> = (0..6)
    .map(|id| spool.append(&document(id, 40), 10 + id).unwrap())
    .collect();
  // 200-byte segments hold two of these documents each.
  assert_eq!(spool.segment_count(), 3);
  for (id, slot) in slots.iter().enumerate() {
    let read = spool.read(*slot).unwrap();
    assert_eq!(id_of(&read.json), id as u64);
    assert_eq!(read.items, 10 + id as u64);
  }
  spool.resolve(slots[0]);
  assert_eq!(spool.segment_count(), 3, "half of segment 0 still waits");
  spool.resolve(slots[1]);
  assert_eq!(spool.segment_count(), 2, "segment 0 is done and deleted");
  for slot in &slots[2..] {
    spool.resolve(*slot);
  }
  assert_eq!(spool.segment_count(), 1, "the active segment stays open");
  spool.close().unwrap();
  assert_eq!(spool.segment_count(), 0);
  assert_eq!(files(dir.path()), Vec::<String>::new());
  assert_eq!(budget.used(), 0);
}

#[test]
fn a_new_process_replays_what_was_never_acknowledged_in_order() {
  let dir = tempfile::tempdir().unwrap();
  let (mut spool, _, _) = open(dir.path(), 300);
  let slots: Vec<SpoolSlot> = (0..7)
    .map(|id| spool.append(&document(id, 30), 1).unwrap())
    .collect();
  for index in [0, 2, 3, 6] {
    spool.resolve(slots[index]);
  }
  drop(spool); // a crash: no close
  let (mut spool, recovered, budget) = open(dir.path(), 300);
  assert!(recovered.damage.is_empty(), "{:?}", recovered.damage);
  let ids: Vec<u64> = recovered
    .replay
    .iter()
    .map(|r| id_of(&spool.read(r.slot).unwrap().json))
    .collect();
  assert_eq!(ids, vec![1, 4, 5]);
  assert!(budget.used() > 0);
  for replayed in &recovered.replay {
    spool.resolve(replayed.slot);
  }
  spool.close().unwrap();
  assert_eq!(files(dir.path()), Vec::<String>::new());
  assert_eq!(budget.used(), 0);
}

#[test]
fn a_torn_tail_is_cut_off_and_reported_once() {
  let dir = tempfile::tempdir().unwrap();
  let (mut spool, _, _) = open(dir.path(), 1 << 20);
  for id in 0..3 {
    spool.append(&document(id, 10), 1).unwrap();
  }
  drop(spool);
  let segment = dir.path().join(format!("{:020}.seg", 0));
  let len = std::fs::metadata(&segment).unwrap().len();
  let file = OpenOptions::new().write(true).open(&segment).unwrap();
  file.set_len(len - 5).unwrap();
  drop(file);
  let (spool, recovered, _) = open(dir.path(), 1 << 20);
  assert_eq!(recovered.damage.len(), 1);
  assert!(
    recovered.damage[0].contains("cut short"),
    "{:?}",
    recovered.damage
  );
  assert!(recovered.damage[0].contains("the 2 documents before it are kept"));
  let ids: Vec<u64> = recovered
    .replay
    .iter()
    .map(|r| id_of(&spool.read(r.slot).unwrap().json))
    .collect();
  assert_eq!(ids, vec![0, 1]);
  drop(spool);
  // The file was cut back, so the next process finds nothing wrong.
  let (_, again, _) = open(dir.path(), 1 << 20);
  assert!(again.damage.is_empty());
  assert_eq!(again.replay.len(), 2);
}

#[test]
fn a_damaged_byte_in_a_frame_stops_recovery_there() {
  let dir = tempfile::tempdir().unwrap();
  let (mut spool, _, _) = open(dir.path(), 1 << 20);
  let slots: Vec<SpoolSlot> = (0..3)
    .map(|id| spool.append(&document(id, 10), 1).unwrap())
    .collect();
  drop(spool);
  let segment = dir.path().join(format!("{:020}.seg", 0));
  let mut bytes = std::fs::read(&segment).unwrap();
  bytes[(slots[1].offset + 20) as usize] ^= 0xFF;
  std::fs::write(&segment, bytes).unwrap();
  let (_, recovered, _) = open(dir.path(), 1 << 20);
  assert_eq!(recovered.damage.len(), 1);
  assert!(recovered.damage[0].contains("checksum mismatch"));
  assert_eq!(recovered.replay.len(), 1);
}

#[test]
fn files_that_are_not_segments_are_left_alone() {
  let dir = tempfile::tempdir().unwrap();
  std::fs::write(
    dir.path().join("00000000000000000005.seg"),
    b"not a spool file",
  )
  .unwrap();
  std::fs::write(dir.path().join("notes.txt"), b"hello").unwrap();
  let (mut spool, recovered, _) = open(dir.path(), 1 << 20);
  assert_eq!(recovered.damage.len(), 1);
  assert!(recovered.replay.is_empty());
  // New segments are numbered after it and never overwrite it.
  let slot = spool.append(&document(1, 1), 1).unwrap();
  assert_eq!(slot.segment, 6);
  assert!(dir.path().join("notes.txt").exists());
}

/// One step of a random history.
#[derive(Debug, Clone)]
enum Step {
  /// Append a document with this much padding.
  Append(usize),
  /// Acknowledge the n-th (mod count) outstanding document.
  Ack(usize),
  /// The process dies while appending a document: only this fraction of its frame reached the
  /// file. Then a new process opens the spool.
  CrashMidAppend(usize, f64),
  /// The process dies while writing an acknowledgement of the n-th outstanding document: this
  /// many of its 8 bytes reached the file (0..7). Then a new process opens the spool.
  CrashMidAck(usize, usize),
  /// The process dies between writes.
  Crash,
}

fn step() -> impl Strategy<Value = Step> {
  prop_oneof![
    4 => (0usize..120).prop_map(Step::Append),
    3 => any::<usize>().prop_map(Step::Ack),
    1 => ((0usize..120), 0.0f64..1.0).prop_map(|(pad, cut)| Step::CrashMidAppend(pad, cut)),
    1 => (any::<usize>(), 0usize..8).prop_map(|(n, bytes)| Step::CrashMidAck(n, bytes)),
    1 => Just(Step::Crash),
  ]
}

proptest! {
  #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

  /// Whatever the history: every document appended and not acknowledged is replayed after a
  /// crash, in order, exactly once per restart; no acknowledged document is; a torn write is
  /// reported once and loses only itself.
  #[test]
  fn crashes_at_any_byte_lose_nothing_acknowledged_or_not(steps in prop::collection::vec(step(), 1..60)) {
    let dir = tempfile::tempdir().unwrap();
    let (mut spool, _, _) = open(dir.path(), 256);
    let mut next_id = 0u64;
    // Outstanding documents, in append order: (id, slot).
    let mut outstanding: Vec<(u64, SpoolSlot)> = Vec::new();
    for step in steps {
      let torn_expected = match step {
        Step::Append(pad) => {
          let slot = spool.append(&document(next_id, pad), 1).unwrap();
          outstanding.push((next_id, slot));
          next_id += 1;
          continue;
        }
        Step::Ack(n) => {
          if !outstanding.is_empty() {
            let (_, slot) = outstanding.remove(n % outstanding.len());
            spool.resolve(slot);
          }
          continue;
        }
        Step::CrashMidAppend(pad, cut) => {
          let slot = spool.append(&document(next_id, pad), 1).unwrap();
          next_id += 1;
          let keep = ((slot.len as f64) * cut) as u64;
          let path = dir.path().join(format!("{:020}.seg", slot.segment));
          OpenOptions::new().write(true).open(path).unwrap().set_len(slot.offset + keep).unwrap();
          keep > 0
        }
        Step::CrashMidAck(n, bytes) => {
          if !outstanding.is_empty() {
            let index = n % outstanding.len();
            let (_, slot) = outstanding[index];
            let ack_path = dir.path().join(format!("{:020}.ack", slot.segment));
            let before = std::fs::metadata(&ack_path).map_or(0, |m| m.len());
            spool.resolve(slot);
            // The segment may have been deleted by that acknowledgement (all done, sealed): then the
            // crash came after the deletion and the document is gone for good, as acknowledged.
            // Otherwise its acknowledgement is torn: it stays outstanding (at least once).
            if ack_path.exists() {
              OpenOptions::new().write(true).open(&ack_path).unwrap().set_len(before + bytes as u64).unwrap();
            } else {
              outstanding.remove(index);
            }
          }
          false
        }
        Step::Crash => false,
      };
      drop(spool);
      let (reopened, recovered, _) = open(dir.path(), 256);
      spool = reopened;
      prop_assert_eq!(recovered.damage.len(), usize::from(torn_expected), "{:?}", recovered.damage);
      let replayed: Vec<u64> = recovered
        .replay
        .iter()
        .map(|r| id_of(&spool.read(r.slot).unwrap().json))
        .collect();
      let expected: Vec<u64> = outstanding.iter().map(|(id, _)| *id).collect();
      prop_assert_eq!(&replayed, &expected);
      outstanding = recovered
        .replay
        .iter()
        .zip(&expected)
        .map(|(r, id)| (*id, r.slot))
        .collect();
    }
  }
}
