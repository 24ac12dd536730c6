#!/usr/bin/env bash
# Run tests/core in a second environment, .venv-headless, that has no PySide6, pyqtgraph or
# pytest-qt: proof that the core (data, models, training, checkpoints, CLI) needs no Qt.
# Dependencies come from pyproject.toml, less the GUI ones, so the list lives in one place.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv-headless
stamp="$VENV/.digitpad-installed"
if [ ! -x "$VENV/bin/python" ]; then
  echo "digitpad: creating $VENV with $($PYTHON --version)" >&2
  "$PYTHON" -m venv "$VENV"
fi
want=$(cat pyproject.toml setup.py tools/test-headless.sh | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "digitpad: installing the headless dependencies into $VENV (once)" >&2
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q "${DIGITPAD_TORCH:-torch==2.13.0}"
  mapfile -t deps < <("$VENV/bin/python" - <<'PY'
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
gui = ("pyside6", "pyqtgraph", "pytest-qt")
for dep in project["dependencies"] + project["optional-dependencies"]["test"]:
    if not dep.lower().startswith(gui):
        print(dep)
PY
)
  "$VENV/bin/python" -m pip install -q "${deps[@]}"
  "$VENV/bin/python" -m pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi
if "$VENV/bin/python" -c "import PySide6" 2>/dev/null || "$VENV/bin/python" -c "import pyqtgraph" 2>/dev/null; then
  echo "digitpad: $VENV must not have PySide6 or pyqtgraph" >&2
  exit 1
fi
if [ -z "${DIGITPAD_DATA:-}" ] && [ -d ../shared/data ]; then
  export DIGITPAD_DATA="$(cd ../shared/data && pwd)"
fi
exec "$VENV/bin/python" -m pytest tests/core "$@"
