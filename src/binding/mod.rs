//! The N-API layer: the only Rust that imports napi. Each file converts one kind of value
//! between JavaScript and the core and delegates; no logic lives here. Types that cross to JS
//! carry the `Binding` prefix, so the boundary is easy to find.

mod config;
mod error;
mod mock_store;
mod options;
mod profile_check;
mod queue;
mod record_identity;
mod replay;
mod runtime;
mod scouter_queue;
mod stats;
mod tail;
