//! The File transport (addition): appends each document as one line of JSON, the embedded
//! default that needs no server. A publish is done when its line is written; `flush` syncs the
//! file to disk. One `write` per line under a lock keeps lines whole when several queues share
//! the file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::Transport;
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::record::Document;

/// Resolved options of the File transport.
#[derive(Debug, Clone, PartialEq)]
pub struct FileConfig {
  /// The JSON-lines file, created if missing, appended to otherwise.
  pub path: PathBuf,
  pub max_retries: u32,
}

/// Appends documents to a JSON-lines file.
pub struct FileTransport {
  path: PathBuf,
  file: Arc<Mutex<File>>,
}

impl FileTransport {
  /// Opens (creating if needed) the file for appending.
  pub fn open(config: &FileConfig) -> Result<Self> {
    let file = OpenOptions::new()
      .create(true)
      .append(true)
      .open(&config.path)
      .map_err(|err| QueueError::Config(format!("cannot open {} for appending: {err}", config.path.display())))?;
    Ok(FileTransport {
      path: config.path.clone(),
      file: Arc::new(Mutex::new(file)),
    })
  }

  /// Runs blocking file I/O off the runtime's worker threads.
  async fn blocking(&self, op: impl FnOnce(&mut File) -> std::io::Result<()> + Send + 'static) -> Result<(), TransportError> {
    let file = Arc::clone(&self.file);
    let path = self.path.display().to_string();
    tokio::task::spawn_blocking(move || {
      let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
      op(&mut file)
    })
    .await
    .map_err(|err| TransportError::retryable("file", format!("{path}: {err}")))?
    .map_err(|err| TransportError::retryable("file", format!("{path}: {err}")))
  }
}

#[async_trait]
impl Transport for FileTransport {
  fn name(&self) -> &'static str {
    "file"
  }

  async fn publish(&self, document: &Document) -> Result<(), TransportError> {
    let mut line = Vec::with_capacity(document.json.len() + 1);
    line.extend_from_slice(&document.json);
    line.push(b'\n');
    self.blocking(move |file| file.write_all(&line)).await
  }

  async fn flush(&self) -> Result<(), TransportError> {
    self.blocking(|file| file.sync_data()).await
  }

  async fn close(&self) -> Result<(), TransportError> {
    self.flush().await
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::profile::DriftKind;

  fn doc(text: &str) -> Document {
    Document {
      kind: DriftKind::Spc,
      record_count: 1,
      json: text.as_bytes().to_vec(),
    }
  }

  #[tokio::test]
  async fn appends_one_line_per_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    std::fs::write(&path, "{\"earlier\":1}\n").unwrap();
    let transport = FileTransport::open(&FileConfig {
      path: path.clone(),
      max_retries: 0,
    })
    .unwrap();
    transport.publish(&doc(r#"{"records":[1]}"#)).await.unwrap();
    transport.publish(&doc(r#"{"records":[2]}"#)).await.unwrap();
    transport.flush().await.unwrap();
    assert_eq!(
      std::fs::read_to_string(&path).unwrap(),
      "{\"earlier\":1}\n{\"records\":[1]}\n{\"records\":[2]}\n"
    );
  }

  #[test]
  fn unopenable_path_is_a_config_error() {
    let err = FileTransport::open(&FileConfig {
      path: "/nonexistent-dir/x/out.jsonl".into(),
      max_retries: 0,
    })
    .err()
    .unwrap();
    assert!(matches!(err, QueueError::Config(ref m) if m.contains("/nonexistent-dir/x/out.jsonl")), "{err}");
  }
}
