#!/usr/bin/env bash
# `npm run bench`: builds if needed, starts the Kafka broker, installs the Python original into
# .venv/scouter-0.9.0 (scripts/python-clients.sh), then runs each benchmark side by side; results
# go to bench/results/ as JSON and Markdown. Each prints its targets with pass/miss.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh up kafka
bash bench/setup-python.sh
node bench/insert.js "${BENCH_ROWS:-1000000}"
node bench/kafka-e2e.js "${BENCH_E2E_ROWS:-10000000}"
node bench/stall.js
node bench/event-loop.js
node bench/memory.js
node bench/lifecycle.js
node bench/spool.js
node bench/observability.js
