#!/usr/bin/env bash
# Run the digitpad app (creating .venv on first use). Extra arguments go to `digitpad`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
if [ $# -eq 0 ] || [ "$1" = gui ]; then
  # Before Qt aborts with "could not load the Qt platform plugin", name the missing system packages.
  .venv/bin/python -m digitpad.qt_check || exit 1
fi
exec .venv/bin/digitpad "$@"
