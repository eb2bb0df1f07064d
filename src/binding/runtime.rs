//! The one tokio runtime every queue runs on, registered with napi-rs when the addon loads so
//! that its async functions share it. Threads are named so they are recognisable in a profiler.
//! The panic hook goes in at the same time, so no panic on any thread reaches the process
//! unreported (`core::panic_report`).

#[napi_derive::module_init]
fn init() {
  crate::core::panic_report::install_hook();
  let runtime = tokio::runtime::Builder::new_multi_thread()
    .enable_all()
    .thread_name("scouter-queue")
    .build()
    .expect("the scouter-queue runtime could not start");
  napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
}
