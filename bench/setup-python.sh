#!/usr/bin/env bash
# Installs the Python original (scouter-ml 0.9.0, the release that speaks our wire format) into a
# project-local virtual environment, bench/.venv. Idempotent.
set -euo pipefail
cd "$(dirname "$0")"
version=${SCOUTER_ML_VERSION:-0.9.0}
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import importlib.metadata as m; assert m.version('scouter-ml') == '$version'" 2>/dev/null; then
  echo "bench: installing scouter-ml==$version into bench/.venv"
  .venv/bin/pip install --quiet --disable-pip-version-check "scouter-ml==$version"
fi
