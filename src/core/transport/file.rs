//! The File transport (addition): appends each document as one line of JSON, the embedded
//! default that needs no server. One writer thread owns the file, so lines are whole and in the
//! order they were handed over; a publish is done when its line is written, and `flush` syncs
//! the file to disk.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::oneshot;

use super::{Confirmation, Transport};
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::wire::Document;

/// Resolved options of the File transport.
#[derive(Debug, Clone, PartialEq)]
pub struct FileConfig {
  /// The JSON-lines file, created if missing, appended to otherwise.
  pub path: PathBuf,
  pub max_retries: u32,
}

/// What the writer thread is asked to do.
enum Op {
  Write(Arc<Document>, oneshot::Sender<std::io::Result<()>>),
  Sync(oneshot::Sender<std::io::Result<()>>),
}

/// Appends documents to a JSON-lines file.
pub struct FileTransport {
  path: String,
  /// `None` once closed; the writer thread ends when the sender is dropped.
  ops: Mutex<Option<mpsc::Sender<Op>>>,
}

impl FileTransport {
  /// Opens (creating if needed) the file for appending and starts its writer thread.
  pub fn open(config: &FileConfig) -> Result<Self> {
    let path = config.path.display().to_string();
    let file = OpenOptions::new()
      .create(true)
      .append(true)
      .open(&config.path)
      .map_err(|err| QueueError::Config(format!("cannot open {path} for appending: {err}")))?;
    let (ops, rx) = mpsc::channel();
    std::thread::Builder::new()
      .name("scouter-queue-file".into())
      .spawn(move || write_loop(file, rx))
      .map_err(|err| QueueError::Config(format!("cannot start the writer of {path}: {err}")))?;
    Ok(FileTransport {
      path,
      ops: Mutex::new(Some(ops)),
    })
  }

  fn send(&self, op: impl FnOnce(oneshot::Sender<std::io::Result<()>>) -> Op) -> Confirmation {
    let (done, confirmed) = oneshot::channel();
    let sent = match &*self.ops.lock().unwrap_or_else(|p| p.into_inner()) {
      Some(ops) => ops.send(op(done)).is_ok(),
      None => false,
    };
    let path = self.path.clone();
    Box::pin(async move {
      if !sent {
        return Err(TransportError::permanent(
          "file",
          format!("{path}: the file transport is closed"),
        ));
      }
      match confirmed.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(TransportError::retryable("file", format!("{path}: {err}"))),
        Err(_) => Err(TransportError::permanent(
          "file",
          format!("{path}: the writer stopped"),
        )),
      }
    })
  }
}

/// The writer thread: one `write` per line, in order.
fn write_loop(mut file: File, ops: mpsc::Receiver<Op>) {
  let mut line = Vec::new();
  for op in ops {
    match op {
      Op::Write(document, done) => {
        line.clear();
        line.extend_from_slice(&document.json);
        line.push(b'\n');
        let _ = done.send(file.write_all(&line));
      }
      Op::Sync(done) => {
        let _ = done.send(file.sync_data());
      }
    }
  }
}

#[async_trait]
impl Transport for FileTransport {
  fn name(&self) -> &'static str {
    "file"
  }

  fn publish(&self, document: Arc<Document>) -> Confirmation {
    self.send(|done| Op::Write(document, done))
  }

  async fn flush(&self) -> Result<(), TransportError> {
    self.send(Op::Sync).await
  }

  async fn close(&self) -> Result<(), TransportError> {
    let synced = self.flush().await;
    self.ops.lock().unwrap_or_else(|p| p.into_inner()).take();
    synced
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::profile::DriftKind;

  fn doc(text: &str) -> Arc<Document> {
    Arc::new(Document {
      format: crate::core::wire::WireFormat::V0_9,
      kind: DriftKind::Spc,
      record_count: 1,
      json: text.as_bytes().to_vec(),
    })
  }

  #[tokio::test]
  async fn appends_one_line_per_document_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    std::fs::write(&path, "{\"earlier\":1}\n").unwrap();
    let transport = FileTransport::open(&FileConfig {
      path: path.clone(),
      max_retries: 0,
    })
    .unwrap();
    let confirmations: Vec<_> = (0..50)
      .map(|n| transport.publish(doc(&format!("{{\"n\":{n}}}"))))
      .collect();
    for confirmation in confirmations.into_iter().rev() {
      confirmation.await.unwrap();
    }
    transport.close().await.unwrap();
    let expected: String = std::iter::once("{\"earlier\":1}\n".to_string())
      .chain((0..50).map(|n| format!("{{\"n\":{n}}}\n")))
      .collect();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    assert!(transport.publish(doc("{}")).await.is_err(), "closed");
  }

  #[test]
  fn unopenable_path_is_a_config_error() {
    let err = FileTransport::open(&FileConfig {
      path: "/nonexistent-dir/x/out.jsonl".into(),
      max_retries: 0,
    })
    .err()
    .unwrap();
    assert!(
      matches!(err, QueueError::Config(ref m) if m.contains("/nonexistent-dir/x/out.jsonl")),
      "{err}"
    );
  }
}
