//! scouter-queue: a Rust core that aggregates ML-monitoring data per drift profile and publishes
//! it to Scouter, and the thin N-API layer that lets Node.js drive it.
//!
//! - [`core`]: profiles, aggregation, queues and transports; no N-API anywhere.
//! - `binding`: the only code that imports napi; it converts and delegates.

#![deny(clippy::all)]

pub mod core;

// The binding needs Node's N-API symbols, which a `cargo test` binary cannot link against; the
// core is tested on its own and the binding from JavaScript.
#[cfg(not(test))]
mod binding;
