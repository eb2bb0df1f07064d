#!/usr/bin/env bash
# The quick start: set up, then publish through all four fixture profiles to the File transport
# and print what was written.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node examples/quickstart.js
