#!/usr/bin/env bash
# Installs the real Python Scouter clients, each into its own virtual environment in the project
# (git-ignored), for the differential test (__test__/differential.spec.ts) and the benchmarks:
#   .venv/scouter-0.9.0    scouter-ml 0.9.0, the v0.9 wire format (SCOUTER_QUEUE.md)
#   .venv/scouter-0.25.0   scouter-ml 0.25.0, the current wire format (SCOUTER_WIRE_0_25.md)
#
#   bash scripts/python-clients.sh [VERSION...]     (no argument: both)
#
# Idempotent and safe on a fresh machine: an environment that already holds its version is left
# alone (a second run takes well under a second); a missing or broken one is made anew. Needs a
# CPython >= 3.10 with venv (`PYTHON`, default python3) and PyPI.
#
# Pins: scouter-ml declares no dependencies (its wheels bundle the Rust extension), so the exact
# version is the whole pin. Wheels only (`--only-binary`): a source build would need Rust and
# maturin and take many minutes. pandas is not needed: the profiles are fixtures, made once by
# the packages' own Drifter (which, for 0.25, needs `pandas<3`).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
versions=("$@")
[[ ${#versions[@]} -gt 0 ]] || versions=(0.9.0 0.25.0)

if ! "$PYTHON" -c 'import sys, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "python-clients: $PYTHON must be a CPython >= 3.10 with the venv module (scouter-ml needs 3.10+)" >&2
  exit 1
fi

has_version() { # venv-dir version
  "$1/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('scouter-ml') != '$2')" 2>/dev/null
}

for version in "${versions[@]}"; do
  [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "python-clients: not a version: $version" >&2; exit 1; }
  dir=.venv/scouter-$version
  if has_version "$dir" "$version"; then
    continue
  fi
  echo "python-clients: installing scouter-ml==$version into $dir"
  began=$SECONDS
  rm -rf "$dir"
  mkdir -p .venv
  "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --only-binary=:all: "scouter-ml==$version"
  has_version "$dir" "$version" || { echo "python-clients: $dir does not hold scouter-ml $version" >&2; exit 1; }
  echo "python-clients: scouter-ml $version ready in $((SECONDS - began)) s"
done
