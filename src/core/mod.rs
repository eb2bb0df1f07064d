//! The core of scouter-queue: plain Rust that knows nothing about JavaScript, tested with
//! `cargo test`.
//!
//! - [`profile`]: drift profile files, loaded and validated.
//! - [`item`]: what callers hand over (rows of numbers, [`built_record`]s), in batches.
//! - [`aggregate`]: per-kind rules that turn a full batch into [`measurement`]s.
//! - [`wire`]: the wire formats (v0.9, 0.25) that make measurements into documents.
//! - [`queue`]: one queue per alias: the bus, the event task and its lanes, `TaskState`.
//! - [`scouter_queue`]: the queues of one `fromPath`, sharing a transport.
//! - [`transport`]: where documents go, behind one trait; [`retry`]: backoff for failures.
//! - [`spool`]: the write-ahead disk spool (`spoolDir`) and its replay.
//! - [`replay`]: re-publishing a JSON-lines file or a spool directory (the CLI's `replay`).
//! - [`tail`]: consumers that read documents back from a transport (the CLI's `tail`).
//! - [`stats`]: delivery accounting; [`error`]: the error type; [`publish_events`]: one event
//!   per settled document, for observers.
//! - [`options`]: every option's env vars, default and rule, in one table; [`secrets`]: what is
//!   never printed.
//! - [`panic_report`]: panics from any runtime thread reach the stats and `onError`, never the
//!   process.

pub mod aggregate;
pub mod built_record;
pub mod error;
pub mod item;
pub mod measurement;
pub mod options;
pub mod panic_report;
pub mod profile;
pub mod publish_events;
pub mod queue;
pub mod replay;
pub mod retry;
pub mod scouter_queue;
pub mod secrets;
pub mod spool;
pub mod stats;
pub mod tail;
pub mod transport;
pub mod wire;
