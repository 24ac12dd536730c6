#!/usr/bin/env bash
# Run the test suite (creating .venv on first use). Extra arguments go to pytest.
# Real-data tests use $DIGITPAD_DATA, else ../shared/data beside the checkout, else they skip.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
if [ -z "${DIGITPAD_DATA:-}" ] && [ -d ../shared/data ]; then
  export DIGITPAD_DATA="$(cd ../shared/data && pwd)"
fi
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
exec .venv/bin/python -m pytest "$@"
