"""Pad latency: replay recorded strokes into the canvas offscreen and time mouse-move -> chart updated.

Run by hand: ``.venv/bin/python benchmarks/pad_latency.py [--digits 200] [--rate-hz 60]``.
Prints p50/p99/max of the whole path and of its parts (preprocessing, inference, chart).

Events are replayed as a hand makes them: press, moves and release one per period of the replay
rate (60 Hz by default, the display's frame rate), and a pen-up pause between strokes (100 ms by
default; a hand needs 50-300 ms to lift the pen and set it down elsewhere). The window coalesces
readings to about one per frame, so at higher rates some moves share a reading. The latency of a move is from its event to the end of the first chart update after it (the bars
hold the new values; Qt paints them in the same event-loop pass). Viewers that listen to the
reading (feature maps) run after that point.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def percentiles(values_ms) -> str:
    values = np.asarray(values_ms)
    return f"p50 {np.percentile(values, 50):6.2f} ms   p99 {np.percentile(values, 99):6.2f} ms   max {values.max():6.2f} ms   (n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=200, help="digits to replay")
    parser.add_argument("--rate-hz", type=float, default=60.0, help="mouse-move rate")
    parser.add_argument("--pen-up-ms", type=float, default=100.0, help="pause between strokes")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the app leaves cores to training)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    import digitpad
    from digitpad.core import preprocess
    from digitpad.core.samples import sample_strokes
    from digitpad.ui.main_window import MainWindow

    window = digitpad.create_window()
    window.resize(1200, 800)
    window.show()
    app = QApplication.instance()
    app.processEvents()
    canvas = window.canvas

    # Instrument the parts of one reading without changing the code path.
    parts = {"preprocess": [], "inference": [], "chart": []}
    predictor = window.predictor
    original_prepare, original_predict = preprocess.prepare_strokes, predictor.predict_prepared
    original_show = MainWindow._show_prediction

    def timed(name, fn):
        def wrapper(*a, **k):
            t = time.perf_counter()
            result = fn(*a, **k)
            parts[name].append((time.perf_counter() - t) * 1000)
            return result

        return wrapper

    preprocess.prepare_strokes = timed("preprocess", original_prepare)
    predictor.predict_prepared = timed("inference", original_predict)
    updates = []

    def show_and_stamp(prediction):
        original_show(window, prediction)
        updates.append(time.perf_counter())  # the chart holds the new values from here on

    window._show_prediction = timed("chart", show_and_stamp)

    rng = np.random.default_rng(0)
    period = 1.0 / args.rate_hz
    latencies = []

    loop, wake = QEventLoop(), QTimer()
    wake.setSingleShot(True)
    wake.setTimerType(Qt.TimerType.PreciseTimer)
    wake.timeout.connect(loop.quit)

    def idle(seconds: float) -> None:
        """Run the event loop for ``seconds``, asleep when it has nothing to do, as the app's own
        loop is between mouse moves (a busy processEvents() spin would evict the CPU caches)."""
        wake.start(max(0, round(seconds * 1000)))
        loop.exec()

    side = min(canvas.width(), canvas.height()) * 0.7
    for i in range(args.digits):
        for stroke in sample_strokes(i % 10, rng, size=side, origin=(canvas.width() * 0.15, canvas.height() * 0.15)):
            points = [QPoint(int(x), int(y)) for x, y in stroke]
            QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
            idle(period)
            for point in points[1:]:
                start = time.perf_counter()
                seen = len(updates)
                QTest.mouseMove(canvas, point)
                idle(start + period - time.perf_counter())
                while len(updates) == seen and time.perf_counter() < start + 1.0:
                    app.processEvents()
                if len(updates) > seen:
                    latencies.append((updates[seen] - start) * 1000)
            QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
            idle(args.pen_up_ms / 1000)
        canvas.clear()
        idle(args.pen_up_ms / 1000)

    print(f"pad latency, {args.digits} digits replayed at {args.rate_hz:.0f} Hz with {args.pen_up_ms:.0f} ms pen-up, "
          f"torch threads {args.threads}, "
          f"model {window.checkpoint.arch}")
    print(f"  mouse move -> chart updated: {percentiles(latencies)}")
    for name, values in parts.items():
        print(f"  {name:<10}                  {percentiles(values)}")
    window.close()


if __name__ == "__main__":
    main()
