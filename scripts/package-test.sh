#!/usr/bin/env bash
# Proves the tarballs hold what a user needs: packs the root package and this machine's platform
# package (linux-x64-gnu, or linux-arm64-gnu on arm64), installs both into a fresh project with
# the Rust tools hidden from PATH, and there publishes through the File transport from ESM and
# from CommonJS and checks the records, then runs the installed bin (`scouter-queue --help`,
# `check-profile`). Expects a built addon and facade (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
platform=linux-$(node -p process.arch)-gnu
binary="scouter-queue.$platform.node"
[[ -f $binary && -f dist/index.mjs ]] || { echo "package-test: build first (scripts/setup.sh)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"; rm -f "$root/npm/$platform/$binary"' EXIT

npm pack --silent --pack-destination "$work" >/dev/null
cp "$binary" "npm/$platform/"
(cd "npm/$platform" && npm pack --silent --pack-destination "$work" >/dev/null)
rm -f "npm/$platform/$binary"
echo "package-test: packed $(cd "$work" && ls *.tgz | tr '\n' ' ')"

# What the root tarball ships: the facade, the loader, no binary, no sources.
listing=$(tar -tzf "$work"/scouter-queue-[0-9]*.tgz)
for needed in package/dist/cli.js package/dist/index.js package/dist/index.mjs package/dist/index.d.ts package/dist/index.d.mts package/index.js package/index.d.ts; do
  grep -qx "$needed" <<<"$listing" || { echo "package-test: $needed is missing from the root tarball" >&2; exit 1; }
done
if grep -qE '\.node$|^package/src/|^package/ts/' <<<"$listing"; then
  echo "package-test: the root tarball ships binaries or sources" >&2
  exit 1
fi

mkdir "$work/app"
cp __test__/fixtures/psi_profile.json __test__/fixtures/custom_profile.json "$work/app/"
cat > "$work/app/package.json" <<'JSON'
{ "name": "consumer", "version": "1.0.0", "private": true }
JSON
cat > "$work/app/check.mjs" <<'JS'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { ScouterQueue, Features, Metrics, FileConfig } from 'scouter-queue'

const cjs = createRequire(import.meta.url)('scouter-queue')
if (cjs.ScouterQueue !== ScouterQueue) throw new Error('ESM and CJS load different copies')

const path = 'records.jsonl'
const queues = await ScouterQueue.fromPath({ psi: './psi_profile.json', custom: './custom_profile.json' }, new FileConfig({ path }))
for (const x of [0.5, 1.5, 1.5]) queues.get('psi').insert(Features.fromObject({ feature_0: x }))
queues.get('custom').insert(cjs.Metrics.fromObject({ mae: 2 }))
queues.get('custom').insert(Metrics.fromObject({ mae: 4 }))
const stats = await queues.shutdown()
const docs = readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
const psi = docs.find((d) => 'Psi' in d.records[0]).records.map((r) => r.Psi)
const custom = docs.find((d) => 'Custom' in d.records[0]).records.map((r) => r.Custom)
const counts = Object.fromEntries(psi.map((r) => [r.bin_id, r.bin_count]))
if (docs.length !== 2 || counts[1] !== 1 || counts[2] !== 2 || psi.length !== 10) throw new Error(`bad PSI records: ${JSON.stringify(psi)}`)
if (custom.length !== 1 || custom[0].metric !== 'mae' || custom[0].value !== 3) throw new Error(`bad Custom records: ${JSON.stringify(custom)}`)
if (stats.psi.published !== 3 || stats.custom.published !== 2) throw new Error(`bad stats: ${JSON.stringify(stats)}`)
console.log(`package-test: installed package published ${docs.length} documents, records exact`)
JS

# A PATH without the Rust toolchain: the installed package must not need it.
nodedir=$(dirname "$(command -v node)")
npmcli=$(command -v npm)
(
  cd "$work/app"
  export PATH="$nodedir:/usr/bin:/bin"
  if command -v cargo >/dev/null || command -v rustc >/dev/null; then
    echo "package-test: Rust is still on PATH" >&2
    exit 1
  fi
  "$npmcli" install --silent --no-audit --no-fund "$work"/scouter-queue-[0-9]*.tgz "$work/scouter-queue-$platform-"*.tgz
  node check.mjs
  # The bin: installed on PATH of npm scripts (node_modules/.bin), runs without a build step.
  ./node_modules/.bin/scouter-queue --help >/dev/null
  ./node_modules/.bin/scouter-queue check-profile psi_profile.json
)
