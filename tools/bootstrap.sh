#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv and install digitpad into it.
# Used by tools/app.sh and tools/test.sh, so a fresh clone needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv
stamp="$VENV/.digitpad-installed"
if [ ! -x "$VENV/bin/python" ]; then
  echo "digitpad: creating $VENV with $($PYTHON --version)" >&2
  "$PYTHON" -m venv "$VENV"
fi
# Reinstall only when the dependency list changed since the last install.
want=$(cat pyproject.toml setup.py | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "digitpad: installing dependencies into $VENV (once)" >&2
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # torch first, pinned: on a machine without CUDA this picks the CPU build instead of letting
  # the open range below pull a multi-GB CUDA build. Set DIGITPAD_TORCH to choose another.
  "$VENV/bin/python" -m pip install -q "${DIGITPAD_TORCH:-torch==2.13.0}"
  "$VENV/bin/python" -m pip install -q -e ".[test]"
  echo "$want" > "$stamp"
fi
