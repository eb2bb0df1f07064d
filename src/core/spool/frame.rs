//! How the spool lays documents out on disk. A segment file starts with an 8-byte magic and holds
//! one frame per document: `[payload length: u32 LE][CRC32C of the payload: u32 LE][payload]`,
//! the payload being a small header (frame version, wire format and drift kind, record count,
//! items) and the document's JSON. A crash can leave the last frame cut short or half-written: the length and
//! the checksum detect that, and the reader stops there instead of trusting what follows.
//!
//! Acknowledgements go to a side file per segment, 8 bytes each: `[record index: u32 LE]
//! [CRC32C of those 4 bytes, salted: u32 LE]`, so a torn acknowledgement is detected the same way.
//! Nothing here sizes a buffer by a number read from disk without checking it against the bytes
//! actually there.

use crate::core::profile::DriftKind;
use crate::core::wire::{Document, WireFormat};

/// The first bytes of every segment file: a file without them is not ours and is left alone.
pub const SEGMENT_MAGIC: &[u8; 8] = b"SQSPOOL1";
/// Length and checksum before each payload.
pub const FRAME_HEADER: usize = 8;
/// Version, format and kind, record count and items before the JSON.
const PAYLOAD_HEADER: usize = 1 + 1 + 4 + 8;
/// The payload format this build writes and reads.
const PAYLOAD_VERSION: u8 = 1;
/// The bytes of one acknowledgement entry.
pub const ACK_ENTRY: usize = 8;
/// Keeps an all-zero acknowledgement (a zero-filled tail after a crash) from passing its check.
const ACK_SALT: u32 = 0x5C0_u32.wrapping_mul(0x9E37_79B9);

/// A document as the spool keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpooledDocument {
  pub format: WireFormat,
  pub kind: DriftKind,
  pub record_count: u32,
  /// Items of the process that wrote it (0 for documents replayed from an earlier process).
  pub items: u64,
  pub json: Vec<u8>,
}

impl SpooledDocument {
  /// The document to hand to a transport.
  pub fn into_document(self) -> Document {
    Document {
      format: self.format,
      kind: self.kind,
      record_count: self.record_count as usize,
      json: self.json,
    }
  }
}

/// The kind in the low four bits, the wire format in the high four. v0.9 is format 0, so the
/// byte is the same as before formats existed and older spools replay unchanged.
fn kind_code(format: WireFormat, kind: DriftKind) -> u8 {
  let kind = match kind {
    DriftKind::Spc => 0,
    DriftKind::Psi => 1,
    DriftKind::Custom => 2,
    DriftKind::Llm => 3,
    DriftKind::GenAi => 4,
  };
  format.code() << 4 | kind
}

fn kind_from_code(code: u8) -> Option<(WireFormat, DriftKind)> {
  let kind = match code & 0x0f {
    0 => DriftKind::Spc,
    1 => DriftKind::Psi,
    2 => DriftKind::Custom,
    3 => DriftKind::Llm,
    4 => DriftKind::GenAi,
    _ => return None,
  };
  Some((WireFormat::from_code(code >> 4)?, kind))
}

/// The bytes a document takes on disk, frame header included.
pub fn framed_len(document: &Document) -> u64 {
  (FRAME_HEADER + PAYLOAD_HEADER + document.json.len()) as u64
}

/// Appends the frame of `document` to `out`. `None` when the document is too large for a frame
/// (4 GiB), which no transport would take either.
pub fn encode(document: &Document, items: u64, out: &mut Vec<u8>) -> Option<()> {
  let payload_len = u32::try_from(PAYLOAD_HEADER + document.json.len()).ok()?;
  let record_count = u32::try_from(document.record_count).ok()?;
  let start = out.len();
  out.extend_from_slice(&payload_len.to_le_bytes());
  out.extend_from_slice(&[0; 4]);
  out.push(PAYLOAD_VERSION);
  out.push(kind_code(document.format, document.kind));
  out.extend_from_slice(&record_count.to_le_bytes());
  out.extend_from_slice(&items.to_le_bytes());
  out.extend_from_slice(&document.json);
  let crc = crc32c::crc32c(&out[start + FRAME_HEADER..]);
  out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
  Some(())
}

/// The payload length a frame header announces, and its checksum.
pub fn read_header(header: &[u8; FRAME_HEADER]) -> (u32, u32) {
  let len = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes"));
  let crc = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
  (len, crc)
}

/// Checks a payload against its checksum and parses it; `Err` says why it is unusable.
pub fn decode_payload(payload: &[u8], crc: u32) -> Result<SpooledDocument, &'static str> {
  if crc32c::crc32c(payload) != crc {
    return Err("checksum mismatch");
  }
  if payload.len() < PAYLOAD_HEADER {
    return Err("frame shorter than its header");
  }
  if payload[0] != PAYLOAD_VERSION {
    return Err("unknown frame version");
  }
  let (format, kind) = kind_from_code(payload[1]).ok_or("unknown drift kind or wire format")?;
  let record_count = u32::from_le_bytes(payload[2..6].try_into().expect("4 bytes"));
  let items = u64::from_le_bytes(payload[6..14].try_into().expect("8 bytes"));
  Ok(SpooledDocument {
    format,
    kind,
    record_count,
    items,
    json: payload[PAYLOAD_HEADER..].to_vec(),
  })
}

/// The acknowledgement entry of record `index`.
pub fn encode_ack(index: u32) -> [u8; ACK_ENTRY] {
  let bytes = index.to_le_bytes();
  let check = crc32c::crc32c(&bytes) ^ ACK_SALT;
  let mut entry = [0; ACK_ENTRY];
  entry[..4].copy_from_slice(&bytes);
  entry[4..].copy_from_slice(&check.to_le_bytes());
  entry
}

/// The record index of an acknowledgement entry, or `None` when the entry is torn or damaged.
pub fn decode_ack(entry: &[u8]) -> Option<u32> {
  let entry: &[u8; ACK_ENTRY] = entry.try_into().ok()?;
  let bytes: [u8; 4] = entry[..4].try_into().expect("4 bytes");
  let check = u32::from_le_bytes(entry[4..].try_into().expect("4 bytes"));
  (crc32c::crc32c(&bytes) ^ ACK_SALT == check).then(|| u32::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
  use super::*;

  fn document(json: &str) -> Document {
    Document {
      format: WireFormat::V0_9,
      kind: DriftKind::Psi,
      record_count: 3,
      json: json.as_bytes().to_vec(),
    }
  }

  #[test]
  fn format_and_kind_round_trip_and_v0_9_bytes_are_unchanged() {
    for format in WireFormat::ALL {
      for kind in [
        DriftKind::Spc,
        DriftKind::Psi,
        DriftKind::Custom,
        DriftKind::Llm,
        DriftKind::GenAi,
      ] {
        let mut out = Vec::new();
        let doc = Document {
          format,
          kind,
          ..document("{}")
        };
        encode(&doc, 1, &mut out).unwrap();
        let (_, crc) = read_header(out[..8].try_into().unwrap());
        let decoded = decode_payload(&out[FRAME_HEADER..], crc).unwrap();
        assert_eq!(decoded.into_document(), doc);
      }
    }
    // Spools written before formats existed: PSI was kind byte 1.
    assert_eq!(kind_code(WireFormat::V0_9, DriftKind::Psi), 1);
    assert_eq!(kind_from_code(0x25), None);
    assert_eq!(kind_from_code(0x70), None);
  }

  #[test]
  fn a_frame_round_trips() {
    let mut out = Vec::new();
    encode(&document(r#"{"records":[]}"#), 42, &mut out).unwrap();
    assert_eq!(out.len() as u64, framed_len(&document(r#"{"records":[]}"#)));
    let (len, crc) = read_header(out[..8].try_into().unwrap());
    assert_eq!(len as usize, out.len() - FRAME_HEADER);
    let decoded = decode_payload(&out[FRAME_HEADER..], crc).unwrap();
    assert_eq!(decoded.items, 42);
    assert_eq!(decoded.record_count, 3);
    assert_eq!(decoded.kind, DriftKind::Psi);
    assert_eq!(decoded.into_document(), document(r#"{"records":[]}"#));
  }

  #[test]
  fn any_flipped_byte_is_detected() {
    let mut out = Vec::new();
    encode(&document(r#"{"records":[1]}"#), 1, &mut out).unwrap();
    let (_, crc) = read_header(out[..8].try_into().unwrap());
    for i in FRAME_HEADER..out.len() {
      let mut damaged = out[FRAME_HEADER..].to_vec();
      damaged[i - FRAME_HEADER] ^= 0x40;
      assert!(decode_payload(&damaged, crc).is_err(), "byte {i}");
    }
  }

  #[test]
  fn acknowledgements_detect_damage() {
    let entry = encode_ack(7);
    assert_eq!(decode_ack(&entry), Some(7));
    assert_eq!(decode_ack(&[0; ACK_ENTRY]), None);
    assert_eq!(decode_ack(&entry[..5]), None);
    let mut damaged = entry;
    damaged[0] ^= 1;
    assert_eq!(decode_ack(&damaged), None);
  }
}
