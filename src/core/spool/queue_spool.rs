//! The spool of one queue: a directory of numbered segment files, appended to in order and
//! deleted once every document in them has been acknowledged (confirmed by a transport) or
//! dropped (to keep the spool within `spoolMaxBytes`). Opening it recovers what an earlier
//! process left: each segment is read frame by frame, a torn tail is cut off (and reported), and
//! the documents never acknowledged are returned for replay, oldest first.
//!
//! The event loop owns the `QueueSpool` of its queue, so nothing here is shared or locked; only
//! the byte budget is shared by every queue of the directory.

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::time::Instant;

use super::frame::{self, SpooledDocument, ACK_ENTRY, FRAME_HEADER, SEGMENT_MAGIC};
use super::{SpoolBudget, SpoolSync, SYNC_INTERVAL};
use crate::core::profile::DriftKind;
use crate::core::wire::Document;

/// Where one spooled document is, and what it counts against the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolSlot {
  pub segment: u64,
  pub index: u32,
  pub offset: u64,
  /// The frame's bytes (what `spooledBytes` reports).
  pub len: u64,
}

/// A document an earlier process spooled and never saw acknowledged.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
  pub slot: SpoolSlot,
  pub kind: DriftKind,
  pub record_count: u32,
}

/// What opening a spool recovered.
#[derive(Debug, Default)]
pub struct Recovered {
  pub replay: Vec<Replayed>,
  /// One message per torn or damaged file found (and cut back to its last good record).
  pub damage: Vec<String>,
}

/// One segment file and its acknowledgement file.
#[derive(Debug)]
struct Segment {
  data_path: PathBuf,
  ack_path: PathBuf,
  /// Open for appends while this is the active segment.
  writer: Option<File>,
  acks: Option<File>,
  records: u32,
  resolved: u32,
  data_len: u64,
  /// What it counts against the budget: its file, and room for one acknowledgement per record.
  charged: u64,
}

/// The spool of one queue.
#[derive(Debug)]
pub struct QueueSpool {
  dir: PathBuf,
  sync: SpoolSync,
  segment_bytes: u64,
  budget: Arc<SpoolBudget>,
  segments: BTreeMap<u64, Segment>,
  active: Option<u64>,
  next_id: u64,
  /// Appends not yet made durable.
  dirty: bool,
  last_sync: Instant,
  scratch: Vec<u8>,
}

fn segment_paths(dir: &Path, id: u64) -> (PathBuf, PathBuf) {
  (
    dir.join(format!("{id:020}.seg")),
    dir.join(format!("{id:020}.ack")),
  )
}

impl QueueSpool {
  /// Opens (creating if needed) the spool in `dir` and recovers what an earlier process left.
  pub fn open(
    dir: PathBuf,
    sync: SpoolSync,
    segment_bytes: u64,
    budget: Arc<SpoolBudget>,
  ) -> io::Result<(Self, Recovered)> {
    std::fs::create_dir_all(&dir)?;
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
      let name = entry?.file_name();
      let name = name.to_string_lossy();
      if let Some(id) = name
        .strip_suffix(".seg")
        .and_then(|s| s.parse::<u64>().ok())
      {
        ids.push(id);
      }
    }
    ids.sort_unstable();
    let mut spool = QueueSpool {
      next_id: ids.last().map_or(0, |id| id + 1),
      dir,
      sync,
      segment_bytes: segment_bytes.max(1),
      budget,
      segments: BTreeMap::new(),
      active: None,
      dirty: false,
      last_sync: Instant::now(),
      scratch: Vec::new(),
    };
    let mut recovered = Recovered::default();
    for id in ids {
      spool.recover_segment(id, &mut recovered)?;
    }
    Ok((spool, recovered))
  }

  fn recover_segment(&mut self, id: u64, recovered: &mut Recovered) -> io::Result<()> {
    let (data_path, ack_path) = segment_paths(&self.dir, id);
    let mut file = OpenOptions::new().read(true).write(true).open(&data_path)?;
    let file_len = file.metadata()?.len();
    let mut magic = [0u8; 8];
    if file_len < SEGMENT_MAGIC.len() as u64 {
      // Created but never written to: it holds no record.
      drop(file);
      remove(&data_path, &ack_path);
      return Ok(());
    }
    file.read_exact(&mut magic)?;
    if &magic != SEGMENT_MAGIC {
      recovered.damage.push(format!(
        "{} is not a spool segment; it was left alone",
        data_path.display()
      ));
      return Ok(());
    }
    let mut offsets = Vec::new();
    let mut offset = SEGMENT_MAGIC.len() as u64;
    let mut kinds = Vec::new();
    let torn = loop {
      let rest = file_len - offset;
      if rest == 0 {
        break None;
      }
      if rest < FRAME_HEADER as u64 {
        break Some("a frame header cut short");
      }
      let mut header = [0u8; FRAME_HEADER];
      file.read_exact_at(&mut header, offset)?;
      let (payload_len, crc) = frame::read_header(&header);
      if u64::from(payload_len) > rest - FRAME_HEADER as u64 {
        break Some("a frame cut short");
      }
      let mut payload = vec![0u8; payload_len as usize];
      file.read_exact_at(&mut payload, offset + FRAME_HEADER as u64)?;
      match frame::decode_payload(&payload, crc) {
        Ok(document) => {
          let len = FRAME_HEADER as u64 + u64::from(payload_len);
          offsets.push((offset, len));
          kinds.push((document.kind, document.record_count));
          offset += len;
        }
        Err(reason) => break Some(reason),
      }
    };
    if let Some(reason) = torn {
      recovered.damage.push(format!(
        "spool segment {}: {reason} at byte {offset} (a write cut off by a crash); it was removed, \
         and the {} documents before it are kept",
        data_path.display(),
        offsets.len()
      ));
      file.set_len(offset)?;
      file.sync_all()?;
    }
    let records = offsets.len() as u32;
    let acked = read_acks(&ack_path, records)?;
    if acked.len() as u32 == records {
      drop(file);
      remove(&data_path, &ack_path);
      return Ok(());
    }
    for (index, ((offset, len), (kind, record_count))) in offsets.into_iter().zip(kinds).enumerate()
    {
      let index = index as u32;
      if !acked.contains(&index) {
        recovered.replay.push(Replayed {
          slot: SpoolSlot {
            segment: id,
            index,
            offset,
            len,
          },
          kind,
          record_count,
        });
      }
    }
    let ack_len = std::fs::metadata(&ack_path).map_or(0, |m| m.len());
    let charged = offset + ack_len + u64::from(records - acked.len() as u32) * ACK_ENTRY as u64;
    self.budget.charge(charged);
    self.segments.insert(
      id,
      Segment {
        data_path,
        ack_path,
        writer: None,
        acks: None,
        records,
        resolved: acked.len() as u32,
        data_len: offset,
        charged,
      },
    );
    Ok(())
  }

  /// What appending `document` would count against the budget, at most.
  pub fn charge_of(document: &Document) -> u64 {
    frame::framed_len(document) + ACK_ENTRY as u64 + SEGMENT_MAGIC.len() as u64
  }

  /// Whether the directory's budget has room for `charge` more bytes.
  pub fn has_room(&self, charge: u64) -> bool {
    self.budget.has_room(charge)
  }

  /// Appends `document` (made from `items` items) and returns where it is. With `SpoolSync`
  /// other than `Never`, call [`QueueSpool::sync_due`] before handing it over.
  pub fn append(&mut self, document: &Document, items: u64) -> io::Result<SpoolSlot> {
    self.scratch.clear();
    frame::encode(document, items, &mut self.scratch)
      .ok_or_else(|| io::Error::other("document too large for the spool (4 GiB)"))?;
    let len = self.scratch.len() as u64;
    let roll = match self.active.and_then(|id| self.segments.get(&id)) {
      None => true,
      Some(active) => active.records > 0 && active.data_len + len > self.segment_bytes,
    };
    if roll {
      self.seal_active()?;
      self.start_segment()?;
    }
    let id = self.active.expect("a segment was started");
    let segment = self
      .segments
      .get_mut(&id)
      .expect("the active segment exists");
    let writer = segment.writer.as_mut().expect("the active segment is open");
    let offset = segment.data_len;
    if let Err(err) = writer.write_all(&self.scratch) {
      // Leave no half-written frame behind for later appends to follow.
      let _ = writer.set_len(offset);
      return Err(err);
    }
    let index = segment.records;
    segment.records += 1;
    segment.data_len += len;
    let charge = len + ACK_ENTRY as u64;
    segment.charged += charge;
    self.budget.charge(charge);
    self.dirty = true;
    Ok(SpoolSlot {
      segment: id,
      index,
      offset,
      len,
    })
  }

  fn start_segment(&mut self) -> io::Result<()> {
    let id = self.next_id;
    let (data_path, ack_path) = segment_paths(&self.dir, id);
    let mut writer = OpenOptions::new()
      .append(true)
      .create_new(true)
      .open(&data_path)?;
    writer.write_all(SEGMENT_MAGIC)?;
    self.next_id += 1;
    let charged = SEGMENT_MAGIC.len() as u64;
    self.budget.charge(charged);
    self.segments.insert(
      id,
      Segment {
        data_path,
        ack_path,
        writer: Some(writer),
        acks: None,
        records: 0,
        resolved: 0,
        data_len: charged,
        charged,
      },
    );
    self.active = Some(id);
    Ok(())
  }

  /// Stops appending to the active segment (made durable first, unless `Never`); deletes it if
  /// nothing in it waits any more.
  fn seal_active(&mut self) -> io::Result<()> {
    let Some(id) = self.active.take() else {
      return Ok(());
    };
    if self.sync != SpoolSync::Never && self.dirty {
      if let Some(writer) = self.segments.get(&id).and_then(|s| s.writer.as_ref()) {
        writer.sync_data()?;
      }
      self.dirty = false;
      self.last_sync = Instant::now();
    }
    if let Some(segment) = self.segments.get_mut(&id) {
      segment.writer = None;
    }
    self.delete_if_done(id);
    Ok(())
  }

  /// Reads a spooled document back.
  pub fn read(&self, slot: SpoolSlot) -> io::Result<SpooledDocument> {
    let segment = self
      .segments
      .get(&slot.segment)
      .ok_or_else(|| io::Error::other("the segment of this document is gone"))?;
    let file = File::open(&segment.data_path)?;
    let mut buffer = vec![0u8; slot.len as usize];
    file.read_exact_at(&mut buffer, slot.offset)?;
    let header: &[u8; FRAME_HEADER] = buffer[..FRAME_HEADER]
      .try_into()
      .map_err(|_| io::Error::other("frame shorter than its header"))?;
    let (_, crc) = frame::read_header(header);
    frame::decode_payload(&buffer[FRAME_HEADER..], crc).map_err(io::Error::other)
  }

  /// Marks a document as done with (confirmed, dropped, or failed for good), so that no later
  /// process replays it; deletes its segment once nothing in it waits any more.
  pub fn resolve(&mut self, slot: SpoolSlot) {
    let Some(segment) = self.segments.get_mut(&slot.segment) else {
      return;
    };
    if segment.acks.is_none() {
      segment.acks = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&segment.ack_path)
        .ok();
    }
    if let Some(acks) = segment.acks.as_mut() {
      // A lost acknowledgement only means a replay (at least once), never a loss.
      let _ = acks.write_all(&frame::encode_ack(slot.index));
    }
    segment.resolved += 1;
    self.delete_if_done(slot.segment);
  }

  fn delete_if_done(&mut self, id: u64) {
    let done = self
      .segments
      .get(&id)
      .is_some_and(|s| s.writer.is_none() && s.resolved >= s.records);
    if done {
      let segment = self.segments.remove(&id).expect("checked above");
      remove(&segment.data_path, &segment.ack_path);
      self.budget.release(segment.charged);
    }
  }

  /// When the next sync is due (`Interval` with appends not yet durable), for the event loop's
  /// timer.
  pub fn sync_at(&self) -> Option<Instant> {
    (self.sync == SpoolSync::Interval && self.dirty).then(|| self.last_sync + SYNC_INTERVAL)
  }

  /// Makes appends durable if the policy says it is time: always before a hand-over with
  /// `Always`, once `SYNC_INTERVAL` has passed with `Interval`, never with `Never`.
  pub fn sync_due(&mut self) -> io::Result<()> {
    let due = match self.sync {
      SpoolSync::Always => self.dirty,
      SpoolSync::Interval => self.dirty && Instant::now() >= self.last_sync + SYNC_INTERVAL,
      SpoolSync::Never => false,
    };
    if due {
      self.sync_now()?;
    }
    Ok(())
  }

  fn sync_now(&mut self) -> io::Result<()> {
    if let Some(writer) = self
      .active
      .and_then(|id| self.segments.get(&id))
      .and_then(|s| s.writer.as_ref())
    {
      writer.sync_data()?;
    }
    self.dirty = false;
    self.last_sync = Instant::now();
    Ok(())
  }

  /// The spool is no longer appended to: makes it durable (unless `Never`) and deletes every
  /// segment with nothing waiting in it.
  pub fn close(&mut self) -> io::Result<()> {
    self.seal_active()
  }

  /// Segments on disk (for tests and the size bound).
  pub fn segment_count(&self) -> usize {
    self.segments.len()
  }
}

/// The acknowledged record indices of a segment with `records` records; a torn or damaged tail
/// of the acknowledgement file is ignored (and cut off, so later entries follow good ones).
fn read_acks(path: &Path, records: u32) -> io::Result<HashSet<u32>> {
  let bytes = match std::fs::read(path) {
    Ok(bytes) => bytes,
    Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(HashSet::new()),
    Err(err) => return Err(err),
  };
  let mut acked = HashSet::new();
  let mut good = 0;
  for entry in bytes.chunks(ACK_ENTRY) {
    let Some(index) = frame::decode_ack(entry) else {
      break;
    };
    if index < records {
      acked.insert(index);
    }
    good += ACK_ENTRY;
  }
  if good < bytes.len() {
    OpenOptions::new()
      .write(true)
      .open(path)?
      .set_len(good as u64)?;
  }
  Ok(acked)
}

fn remove(data_path: &Path, ack_path: &Path) {
  let _ = std::fs::remove_file(data_path);
  let _ = std::fs::remove_file(ack_path);
}

#[cfg(test)]
#[path = "queue_spool_tests.rs"]
mod tests;
