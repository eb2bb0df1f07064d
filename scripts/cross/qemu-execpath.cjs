// Preloaded (NODE_OPTIONS=--require) into every Node process of an emulated arm64 run. Node starts
// its children from process.execPath (ava's workers, the tests' own `node -e` children), which is
// the arm64 binary: without binfmt_misc the kernel refuses to exec it, so point it at
// qemu-node.sh, which starts the same binary under qemu-aarch64-static.
if (process.env.SCOUTER_QEMU_NODE) process.execPath = process.env.SCOUTER_QEMU_NODE
