#!/usr/bin/env bash
# Run the digitpad app (creating .venv on first use). Extra arguments go to `digitpad`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
exec .venv/bin/digitpad "$@"
