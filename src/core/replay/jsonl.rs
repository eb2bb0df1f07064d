//! Documents from a File-transport JSON-lines file: each non-blank line is one published
//! document, `{"records": [...]}`, in either wire format. The format and kind are read from the
//! records themselves ([`parse_document`]), since the line carries no header.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

use super::{Entry, Origin, Source};
use crate::core::error::{QueueError, Result};
use crate::core::profile::DriftKind;
use crate::core::wire::{Document, WireFormat};

/// The document a line holds: its format (v0.9 records carry `space`, 0.25 records the
/// profile's `uid`; `LLMDrift` exists only in v0.9, `GenAIEval` only in 0.25) and kind, from its
/// records, all of which must be of one kind and format. The JSON is kept byte for byte.
pub fn parse_document(json: Vec<u8>) -> Result<Document, String> {
  let value: Value = serde_json::from_slice(&json).map_err(|err| format!("not JSON: {err}"))?;
  let records = value
    .get("records")
    .and_then(Value::as_array)
    .ok_or("not a document: no `records` array")?;
  if records.is_empty() {
    return Err("a document with no records".into());
  }
  let mut found: Option<(WireFormat, DriftKind)> = None;
  for (index, record) in records.iter().enumerate() {
    let this = record_kind(record).map_err(|reason| format!("record {index}: {reason}"))?;
    match found {
      None => found = Some(this),
      Some(first) if first != this => {
        return Err(format!(
          "record {index}: a {} {} record after {} {} records (one document holds one kind)",
          this.0.spec().name,
          this.1.as_str(),
          first.0.spec().name,
          first.1.as_str()
        ))
      }
      Some(_) => {}
    }
  }
  let (format, kind) = found.expect("records is not empty");
  Ok(Document {
    format,
    kind,
    record_count: records.len(),
    json,
  })
}

/// The format and kind of one record, `{"Psi": {...}}`.
fn record_kind(record: &Value) -> Result<(WireFormat, DriftKind), String> {
  let object = record
    .as_object()
    .filter(|o| o.len() == 1)
    .ok_or("not a record (an object with one kind key)")?;
  let (tag, body) = object.iter().next().expect("one key");
  let kind = match tag.as_str() {
    "Spc" => DriftKind::Spc,
    "Psi" => DriftKind::Psi,
    "Custom" => DriftKind::Custom,
    "LLMDrift" => return Ok((WireFormat::V0_9, DriftKind::Llm)),
    "GenAIEval" => return Ok((WireFormat::V0_25, DriftKind::GenAi)),
    other => return Err(format!("unknown record kind `{other}`")),
  };
  if body.get("uid").is_some() {
    Ok((WireFormat::V0_25, kind))
  } else if body.get("space").is_some() {
    Ok((WireFormat::V0_9, kind))
  } else {
    Err(format!(
      "a {tag} record with neither `space` (v0.9) nor `uid` (0.25)"
    ))
  }
}

/// A JSON-lines file read line by line.
pub struct JsonlSource {
  reader: BufReader<File>,
  total: u64,
  position: u64,
  line: u64,
}

impl JsonlSource {
  /// Opens `path` for reading.
  pub fn open(path: &Path) -> Result<Self> {
    let fail =
      |err: std::io::Error| QueueError::Config(format!("cannot read {}: {err}", path.display()));
    let file = File::open(path).map_err(fail)?;
    let total = file.metadata().map_err(fail)?.len();
    Ok(JsonlSource {
      reader: BufReader::new(file),
      total,
      position: 0,
      line: 0,
    })
  }
}

impl Source for JsonlSource {
  fn total(&self) -> u64 {
    self.total
  }

  fn position(&self) -> u64 {
    self.position
  }

  fn next(&mut self) -> Option<Result<Entry, String>> {
    loop {
      let mut bytes = Vec::new();
      match self.reader.read_until(b'\n', &mut bytes) {
        Ok(0) => return None,
        Ok(read) => self.position += read as u64,
        Err(err) => {
          // Not a line's fault: the file itself went bad; stop here.
          self.position = self.total;
          return Some(Err(format!("cannot read on: {err}")));
        }
      }
      self.line += 1;
      while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
      }
      if bytes.iter().all(u8::is_ascii_whitespace) {
        continue;
      }
      let line = self.line;
      return Some(
        parse_document(bytes)
          .map(|document| Entry {
            document,
            origin: Origin::Line(line),
          })
          .map_err(|reason| format!("line {line}: {reason}")),
      );
    }
  }

  fn acknowledge(&mut self, _origin: &Origin) {}

  fn finish(&mut self) -> Result<()> {
    Ok(())
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn parse(text: &str) -> Result<(WireFormat, DriftKind, usize), String> {
    parse_document(text.as_bytes().to_vec()).map(|d| (d.format, d.kind, d.record_count))
  }

  #[test]
  fn formats_and_kinds_come_from_the_records() {
    let psi = r#"{"records":[{"Psi":{"created_at":"t","space":"s","name":"n","version":"1","feature":"f","bin_id":1,"bin_count":2}},{"Psi":{"created_at":"t","space":"s","name":"n","version":"1","feature":"f","bin_id":2,"bin_count":1}}]}"#;
    assert_eq!(parse(psi), Ok((WireFormat::V0_9, DriftKind::Psi, 2)));
    let custom = r#"{"records":[{"Custom":{"created_at":"t","uid":"u","metric":"mae","value":1.0,"entity_id":0}}]}"#;
    assert_eq!(parse(custom), Ok((WireFormat::V0_25, DriftKind::Custom, 1)));
    let llm = r#"{"records":[{"LLMDrift":{"record":{"uid":"r"}}}]}"#;
    assert_eq!(parse(llm), Ok((WireFormat::V0_9, DriftKind::Llm, 1)));
    let eval = r#"{"records":[{"GenAIEval":{"record":{"uid":"r"}}}]}"#;
    assert_eq!(parse(eval), Ok((WireFormat::V0_25, DriftKind::GenAi, 1)));
  }

  #[test]
  fn what_is_not_a_document_is_named() {
    assert!(parse("nope").unwrap_err().starts_with("not JSON"));
    assert_eq!(
      parse(r#"{"x":1}"#).unwrap_err(),
      "not a document: no `records` array"
    );
    assert_eq!(
      parse(r#"{"records":[]}"#).unwrap_err(),
      "a document with no records"
    );
    assert_eq!(
      parse(r#"{"records":[{"Nope":{}}]}"#).unwrap_err(),
      "record 0: unknown record kind `Nope`"
    );
    assert_eq!(
      parse(r#"{"records":[{"Spc":{"value":1}}]}"#).unwrap_err(),
      "record 0: a Spc record with neither `space` (v0.9) nor `uid` (0.25)"
    );
    let mixed = r#"{"records":[{"Spc":{"space":"s"}},{"Spc":{"uid":"u"}}]}"#;
    assert_eq!(
      parse(mixed).unwrap_err(),
      "record 1: a 0.25 spc record after v0.9 spc records (one document holds one kind)"
    );
  }

  #[test]
  fn lines_are_read_with_their_numbers_and_blank_lines_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.jsonl");
    let doc = r#"{"records":[{"Custom":{"space":"s","metric":"m","value":1}}]}"#;
    std::fs::write(&path, format!("{doc}\n\nbroken\n{doc}")).unwrap();
    let mut source = JsonlSource::open(&path).unwrap();
    assert_eq!(source.total(), std::fs::metadata(&path).unwrap().len());
    let first = source.next().unwrap().unwrap();
    assert_eq!(first.origin, Origin::Line(1));
    assert_eq!(first.document.json, doc.as_bytes());
    assert!(source
      .next()
      .unwrap()
      .unwrap_err()
      .starts_with("line 3: not JSON"));
    assert_eq!(source.next().unwrap().unwrap().origin, Origin::Line(4));
    assert!(source.next().is_none());
    assert_eq!(source.position(), source.total());
  }
}
