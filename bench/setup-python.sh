#!/usr/bin/env bash
# Installs the Python original the benchmarks run beside ours (scouter-ml 0.9.0, the release that
# speaks our v0.9 wire format) through the project's one installer, scripts/python-clients.sh,
# into .venv/scouter-0.9.0. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/python-clients.sh "${SCOUTER_ML_VERSION:-0.9.0}"
