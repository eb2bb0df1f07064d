//! The one tokio runtime every queue runs on, registered with napi-rs when the addon loads so
//! that its async functions share it. Threads are named so they are recognisable in a profiler.

#[napi_derive::module_init]
fn init() {
  let runtime = tokio::runtime::Builder::new_multi_thread()
    .enable_all()
    .thread_name("scouter-queue")
    .build()
    .expect("the scouter-queue runtime could not start");
  napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
}
