fn main() {
  napi_build::setup();
  grpc_codegen();
}

/// The gRPC client and messages of `proto/scouter.proto`, into `OUT_DIR/scouter.grpc.v1.rs`.
/// protox parses the file in Rust, so building needs no `protoc`.
fn grpc_codegen() {
  const PROTO: &str = "proto/scouter.proto";
  println!("cargo:rerun-if-changed={PROTO}");
  let descriptors = protox::compile([PROTO], ["proto"])
    .unwrap_or_else(|error| panic!("cannot compile {PROTO}: {error}"));
  tonic_prost_build::configure()
    .build_client(true)
    .build_server(false)
    .build_transport(false)
    // These carry a password or a token: src/core/transport/grpc.rs prints them redacted.
    .skip_debug([
      ".scouter.grpc.v1.LoginRequest",
      ".scouter.grpc.v1.LoginResponse",
      ".scouter.grpc.v1.RefreshTokenRequest",
      ".scouter.grpc.v1.RefreshTokenResponse",
      ".scouter.grpc.v1.ValidateTokenRequest",
    ])
    .compile_fds(descriptors)
    .unwrap_or_else(|error| panic!("cannot generate the gRPC code of {PROTO}: {error}"));
}
