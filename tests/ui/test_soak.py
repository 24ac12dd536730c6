"""The app survives thousands of Python slot calls (PySide6 6.12.0 aborted after a few hundred)."""

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_timers_signals_and_drawing_do_not_crash_the_bindings():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "soak.py"), "--seconds", "8"],
        capture_output=True, text=True, env=env, timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Fatal Python error" not in result.stderr
    timer_calls = int(re.search(r"(\d+) timer slot calls", result.stdout).group(1))
    readings = int(re.search(r"(\d+) readings", result.stdout).group(1))
    assert timer_calls > 300 and readings > 20, result.stdout  # 6.12.0 died after a few hundred
