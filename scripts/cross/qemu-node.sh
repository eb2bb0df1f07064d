#!/bin/sh
# An arm64 `node` for this x64 machine: the official arm64 Node.js binary under qemu-user, with the
# arm64 glibc of Debian's libc6-arm64-cross. Without binfmt_misc the kernel cannot exec an arm64
# binary itself, so every Node process of an emulated run goes through this script (see
# qemu-execpath.cjs). Set by scripts/cross.sh: SCOUTER_ARM64_NODE, QEMU_LD_PREFIX.
exec qemu-aarch64-static -L "${QEMU_LD_PREFIX:-/usr/aarch64-linux-gnu}" "$SCOUTER_ARM64_NODE" "$@"
