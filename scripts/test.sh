#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set up, start the real brokers the transport suites
# talk to (Kafka, RabbitMQ, Redis on 127.0.0.1; installed on first use), install the real Python
# clients the differential test runs beside ours (scouter-ml 0.9.0 and 0.25.0, into .venv/), then
# the Rust core's unit tests and the JavaScript suites. Ends with one summary line
# "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh up

log=$(mktemp -d)
status=0

echo "test: lint (cargo fmt --check, clippy -D warnings), as the workflow's lint job"
cargo fmt -- --check || status=1
cargo clippy --quiet --lib --tests -- -D warnings || status=1

echo "test: cargo test (Rust core)"
cargo test --lib 2>&1 | tee "$log/cargo.txt" || status=1

echo "test: typecheck (facade, tests, examples; a strict ESM + CJS consumer)"
npx tsc -p tsconfig.json || status=1
npx tsc -p examples/typescript || status=1
npx tsc -p examples/typescript-bare || status=1
npm run --silent lint || status=1
npm run --silent docs || status=1   # the API reference: every public item documented

# Before ava: __test__/differential.spec.ts runs them. A failed install fails that spec (with the
# reason), not the whole run.
echo "test: the Python clients for the differential test (scripts/python-clients.sh)"
bash scripts/python-clients.sh || status=1

echo "test: ava (JavaScript API)"
npx ava --tap 2>&1 | tee "$log/ava.txt" || status=1

# They kill, restart and pause the shared brokers, so they run alone, one file at a time.
echo "test: ava broker fault suites (kill -9, restart, SIGSTOP), one at a time"
npx ava --tap --config ava.faults.config.cjs 2>&1 | tee "$log/ava-faults.txt" || status=1

echo "test: packaging (npm pack, install without Rust, publish)"
bash scripts/package-test.sh || status=1

sum() { grep -Eo "$1" "$2" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}'; }
passed=$(( $(sum '[0-9]+ passed;' "$log/cargo.txt") + $(sum '^# pass +[0-9]+' "$log/ava.txt") + $(sum '^# pass +[0-9]+' "$log/ava-faults.txt") ))
failed=$(( $(sum '[0-9]+ failed;' "$log/cargo.txt") + $(sum '^# fail +[0-9]+' "$log/ava.txt") + $(sum '^# fail +[0-9]+' "$log/ava-faults.txt") ))
[[ $failed -eq 0 ]] || status=1
[[ $passed -gt 0 ]] || status=1
echo "tests: $passed passed, $failed failed"
# A step without counted tests (lint, typecheck, packaging) can fail too; say so beside the count.
[[ $status -eq 0 ]] || echo "tests: FAILED (a step above exited non-zero)"
exit $status
