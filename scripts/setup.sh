#!/usr/bin/env bash
# Installs what scouter-queue needs to build on a fresh machine (npm packages; the Rust crates
# come with the build) and builds the addon and the TypeScript facade. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (https://rustup.rs)" >&2; exit 1; }
command -v node >/dev/null || { echo "setup: node not found; install Node.js >= 20" >&2; exit 1; }

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.scouter-lock-stamp
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm packages"
  # `npm install` rather than `npm ci`: npm 11 leaves optional platform packages of
  # @napi-rs/cli's dependencies out of the lock file, which `npm ci` then refuses.
  npm install --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

echo "setup: building the native addon (release) and the TypeScript facade"
npm run --silent build
