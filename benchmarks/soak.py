"""Soak: minutes of timers, signals and drawing in one app, to catch binding crashes.

PySide6 6.12.0 on Python 3.11 aborted with "Fatal Python error: none_dealloc" after a few hundred
Python slot calls; this drives thousands (a 1 ms QTimer calling a plain function, a lambda slot,
bus signals, and strokes drawn into the pad with live readings) and exits 0 if it survived.

Run by hand: ``.venv/bin/python benchmarks/soak.py --seconds 180``; tests/ui/test_soak.py runs it
for a few seconds in a subprocess (a fatal error kills the process, not the test runner).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    args = parser.parse_args()

    import numpy as np
    import torch

    torch.set_num_threads(1)
    from PySide6.QtCore import QPoint, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    import digitpad
    from digitpad.core.samples import sample_strokes

    window = digitpad.create_window()
    window.show()
    app = QApplication.instance()
    counts = {"timer": 0, "lambda": 0, "bus": 0, "readings": 0}

    def on_timer():  # a plain function as a slot: what crashed 6.12.0
        counts["timer"] += 1

    fast = QTimer()
    fast.setInterval(1)
    fast.timeout.connect(on_timer)
    fast.timeout.connect(lambda: counts.__setitem__("lambda", counts["lambda"] + 1))
    fast.start()
    window.bus.statusMessage.connect(lambda text: counts.__setitem__("bus", counts["bus"] + 1))
    window.bus.predictionChanged.connect(lambda p: counts.__setitem__("readings", counts["readings"] + 1))

    rng = np.random.default_rng(0)
    canvas = window.canvas
    end = time.monotonic() + args.seconds
    digit = 0
    while time.monotonic() < end:
        for stroke in sample_strokes(digit % 10, rng, size=200, origin=(40, 40)):
            points = [QPoint(int(x), int(y)) for x, y in stroke]
            QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
            for point in points[1:]:
                QTest.mouseMove(canvas, point)
                app.processEvents()
            QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
        window.bus.statusMessage.emit(f"digit {digit}")
        app.processEvents()
        canvas.clear()
        digit += 1
    fast.stop()
    window.close()
    print(f"survived {args.seconds:.0f}s: {counts['timer']} timer slot calls, {counts['lambda']} lambda calls, "
          f"{counts['bus']} bus signals, {counts['readings']} readings of {digit} digits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
