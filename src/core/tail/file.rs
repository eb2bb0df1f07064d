//! Following a File-transport JSON-lines file, as `tail -f` does: each complete line is one
//! document. The file is polled (every 50 ms while waiting), which works on every platform and
//! file system, and a file that shrinks (truncated or replaced) is read again from its start.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{Tail, TailOptions};
use crate::core::error::{QueueError, Result, TransportError};

/// How often a waiting `next` looks at the file again.
const POLL: Duration = Duration::from_millis(50);

/// A follower of one JSON-lines file.
#[derive(Debug)]
pub struct FileTail {
  path: PathBuf,
  /// The byte offset read up to.
  position: u64,
  /// Bytes after the last newline: a line still being written.
  partial: Vec<u8>,
  /// Complete lines read but not handed out yet (more than one batch arrived at once).
  ready: std::collections::VecDeque<Vec<u8>>,
}

impl FileTail {
  /// Starts at the end of the file (or its start with `from_beginning`). A file that does not
  /// exist yet is waited for (the File transport creates it on first publish), but its directory
  /// must exist.
  pub fn open(path: &Path, options: TailOptions) -> Result<Self> {
    let position = match std::fs::metadata(path) {
      Ok(metadata) if !metadata.is_file() => {
        return Err(QueueError::Config(format!(
          "cannot follow {}: it is not a regular file",
          path.display()
        )))
      }
      Ok(metadata) if !options.from_beginning => metadata.len(),
      Ok(_) => 0,
      Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if parent.is_some_and(|dir| !dir.is_dir()) {
          return Err(QueueError::Config(format!(
            "cannot follow {}: its directory does not exist",
            path.display()
          )));
        }
        0
      }
      Err(err) => {
        return Err(QueueError::Config(format!(
          "cannot follow {}: {err}",
          path.display()
        )))
      }
    };
    Ok(FileTail {
      path: path.to_path_buf(),
      position,
      partial: Vec::new(),
      ready: Default::default(),
    })
  }

  /// Reads what was appended since the last look, queuing complete lines.
  fn read_new(&mut self) -> std::io::Result<()> {
    let mut file = match File::open(&self.path) {
      Ok(file) => file,
      Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
      Err(err) => return Err(err),
    };
    let len = file.metadata()?.len();
    if len < self.position {
      // Truncated or replaced by a shorter file: its content is new.
      self.position = 0;
      self.partial.clear();
    }
    if len == self.position {
      return Ok(());
    }
    file.seek(SeekFrom::Start(self.position))?;
    let mut bytes = Vec::with_capacity((len - self.position) as usize);
    file.take(len - self.position).read_to_end(&mut bytes)?;
    self.position += bytes.len() as u64;
    let mut rest = &bytes[..];
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
      self.partial.extend_from_slice(&rest[..end]);
      let line = std::mem::take(&mut self.partial);
      if !line.iter().all(u8::is_ascii_whitespace) {
        self.ready.push_back(line);
      }
      rest = &rest[end + 1..];
    }
    self.partial.extend_from_slice(rest);
    Ok(())
  }

  fn take_batch(&mut self, max: usize) -> Vec<Vec<u8>> {
    let count = self.ready.len().min(max);
    self.ready.drain(..count).collect()
  }
}

#[async_trait]
impl Tail for FileTail {
  async fn next(&mut self, wait: Duration, max: usize) -> Result<Vec<Vec<u8>>, TransportError> {
    let deadline = Instant::now() + wait;
    loop {
      if self.ready.is_empty() {
        self.read_new().map_err(|err| {
          TransportError::retryable(
            "file",
            format!("cannot read {}: {err}", self.path.display()),
          )
        })?;
      }
      if !self.ready.is_empty() {
        return Ok(self.take_batch(super::batch_limit(max)));
      }
      let now = Instant::now();
      if now >= deadline {
        return Ok(Vec::new());
      }
      tokio::time::sleep((deadline - now).min(POLL)).await;
    }
  }

  async fn close(&mut self) {}
}

#[cfg(test)]
mod tests {
  use std::io::Write;

  use super::*;
  use crate::core::tail::MAX_BATCH;

  fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
      .create(true)
      .append(true)
      .open(path)
      .unwrap();
    file.write_all(text.as_bytes()).unwrap();
  }

  fn texts(lines: Vec<Vec<u8>>) -> Vec<String> {
    lines
      .into_iter()
      .map(|line| String::from_utf8(line).unwrap())
      .collect()
  }

  #[tokio::test]
  async fn starts_at_the_end_and_reads_whole_lines_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.jsonl");
    append(&path, "{\"old\":1}\n");
    let mut tail = FileTail::open(&path, TailOptions::default()).unwrap();
    assert!(tail
      .next(Duration::ZERO, MAX_BATCH)
      .await
      .unwrap()
      .is_empty());
    append(&path, "{\"a\":1}\n{\"b\":");
    assert_eq!(
      texts(tail.next(Duration::ZERO, MAX_BATCH).await.unwrap()),
      ["{\"a\":1}"]
    );
    assert!(tail
      .next(Duration::ZERO, MAX_BATCH)
      .await
      .unwrap()
      .is_empty());
    append(&path, "2}\n\n");
    assert_eq!(
      texts(tail.next(Duration::ZERO, MAX_BATCH).await.unwrap()),
      ["{\"b\":2}"]
    );
  }

  #[tokio::test]
  async fn from_beginning_reads_existing_lines_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.jsonl");
    append(&path, "1\n2\n");
    let options = TailOptions {
      from_beginning: true,
    };
    let mut tail = FileTail::open(&path, options).unwrap();
    assert_eq!(
      texts(tail.next(Duration::ZERO, MAX_BATCH).await.unwrap()),
      ["1", "2"]
    );
  }

  #[tokio::test]
  async fn waits_for_a_missing_file_and_rereads_a_truncated_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("later.jsonl");
    let mut tail = FileTail::open(&path, TailOptions::default()).unwrap();
    assert!(tail
      .next(Duration::from_millis(60), MAX_BATCH)
      .await
      .unwrap()
      .is_empty());
    append(&path, "first\nsecond\n");
    assert_eq!(
      texts(tail.next(Duration::ZERO, MAX_BATCH).await.unwrap()),
      ["first", "second"]
    );
    std::fs::write(&path, "new\n").unwrap();
    assert_eq!(
      texts(tail.next(Duration::ZERO, MAX_BATCH).await.unwrap()),
      ["new"]
    );
  }

  #[tokio::test]
  async fn large_backlogs_come_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.jsonl");
    append(&path, &"x\n".repeat(MAX_BATCH + 3));
    let mut tail = FileTail::open(
      &path,
      TailOptions {
        from_beginning: true,
      },
    )
    .unwrap();
    assert_eq!(
      tail.next(Duration::ZERO, MAX_BATCH).await.unwrap().len(),
      MAX_BATCH
    );
    assert_eq!(tail.next(Duration::ZERO, MAX_BATCH).await.unwrap().len(), 3);
  }

  #[test]
  fn a_missing_directory_or_a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope").join("x.jsonl");
    assert!(FileTail::open(&missing, TailOptions::default()).is_err());
    assert!(FileTail::open(dir.path(), TailOptions::default()).is_err());
  }
}
