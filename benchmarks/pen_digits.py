"""Reading real people's digits: held-out pen writers drawn on the pad, through every way in.

Run by hand: ``DIGITPAD_DATA=../shared/data .venv/bin/python benchmarks/pen_digits.py [--model M]``.

The digits are the held-out (test) part of the writer-disjoint split of the real pen digits
(``digitpad.core.pen``: UCI pendigits writers and whole UNIPEN sites never trained or validated on).
Each is drawn as a person would draw it on the pad (random size, place, aspect, slant, point spacing,
jitter; seeded) and read three ways:

(a) strokes: the pad's vector path (``Predictor.predict_strokes``), every held-out digit;
(b) PNG files: painted dark on white with a random pen width, saved, and read by the command line,
    ``digitpad predict --json`` in a subprocess, every held-out digit (``--png-sample`` to cap);
(c) the real canvas: a sample replayed as QTest mouse strokes on ``digitpad.create_window()``
    (offscreen), read as the window reads it.

Prints accuracy and the unsure rate (``Prediction.confident`` false) per source and per UNIPEN
site, and the ten most frequent confusions of the stroke path.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

SEED = 2026


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} logical CPUs)"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} ({os.cpu_count()} logical CPUs)"


def drawing(pen, digit, index: int, canvas=None):
    """The seeded pad drawing of held-out digit ``index``: strokes and the pen width it is painted with."""
    rng = np.random.default_rng([SEED, index])
    style = pen.PAD_STYLE if canvas is None else pen.PadStyle(canvas=canvas)
    strokes = pen.draw_on_pad(digit, rng, style)
    return strokes, float(rng.uniform(*style.pen_px))


def report(title: str, digits, readings) -> None:
    """Accuracy and unsure rate of (digit, confident) readings, overall, per source and per site."""
    from digitpad.core import pen

    print(title)
    index_of = {id(d): i for i, d in enumerate(digits)}
    for name, group in [("all", list(digits)), *pen.iter_sources(digits)]:
        rows = [readings[index_of[id(d)]] for d in group]
        right = np.mean([r[0] == d.label for r, d in zip(rows, group)])
        unsure = np.mean([not r[1] for r in rows])
        print(f"    {name:<16} {right * 100:6.2f}% read correctly, {unsure * 100:5.1f}% unsure  ({len(group)} digits, "
              f"{len({d.writer for d in group})} writers)")


def stroke_path(pen, predictor, digits):
    readings = []
    for index, digit in enumerate(digits):
        prediction = predictor.predict_strokes(drawing(pen, digit, index)[0])
        readings.append((prediction.digit, prediction.confident))
    return readings


def png_path(pen, digits, model: str | None, folder: Path, chunk: int = 400):
    """Paint each drawing, save it as PNG, and read them all with ``digitpad predict --json``."""
    paths = []
    for index, digit in enumerate(digits):
        strokes, pen_px = drawing(pen, digit, index)
        path = folder / f"{index:05d}.png"
        Image.fromarray(pen.paint_on_paper(strokes, pen_px)).save(path)
        paths.append(str(path))
    readings = {}
    for start in range(0, len(paths), chunk):
        command = [sys.executable, "-m", "digitpad", "predict", "--json", *paths[start : start + chunk]]
        if model:
            command[4:4] = ["--model", model]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
        for line in done.stdout.splitlines():
            row = json.loads(line)
            readings[row["file"]] = (row["digit"], row["confident"])
    return [readings.get(path, (None, False)) for path in paths]


def canvas_path(pen, digits, model: str | None):
    """Replay each drawing as mouse strokes on the real pad and read it as the window does."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    import digitpad

    window = digitpad.create_window(model)
    window.resize(1200, 800)
    window.show()
    app = QApplication.instance()
    app.processEvents()
    canvas = window.canvas
    readings = []
    for index, digit in enumerate(digits):
        strokes, _ = drawing(pen, digit, index, canvas=(canvas.width(), canvas.height()))
        for stroke in strokes:
            points = [QPoint(round(x), round(y)) for x, y in stroke]
            QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
            for point in points[1:]:
                QTest.mouseMove(canvas, point)
            QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
        app.processEvents()
        window.predict_now()
        prediction = window.last_prediction
        readings.append((prediction.digit, prediction.confident))
        canvas.clear()
    window.close()
    return readings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="checkpoint (default: the shipped model)")
    parser.add_argument("--png-sample", type=int, default=0, help="read only the first N digits through PNG files (0: all)")
    parser.add_argument("--canvas-sample", type=int, default=300, help="digits replayed on the real canvas (every k-th)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from digitpad.core import pen
    from digitpad.core.inference import Predictor, default_model_path

    model = args.model or str(default_model_path())
    predictor = Predictor.from_file(model)
    print(f"model {model} (threshold {predictor.threshold:.3f}, temperature {predictor.temperature:.3f})")
    print(f"CPU {cpu_model()}, torch {torch.__version__}, 1 torch thread")
    digits, reports = pen.load_pen_digits(download=False)
    print("data: " + "; ".join(str(r) for r in reports))
    held_out = pen.split_by_writer(digits)["test"]

    start = time.perf_counter()
    readings = stroke_path(pen, predictor, held_out)
    report(f"(a) stroke path, held-out pen writers ({time.perf_counter() - start:.0f}s):", held_out, readings)
    confusions = Counter((d.label, r[0]) for d, r in zip(held_out, readings) if r[0] != d.label)
    print("    ten most frequent confusions (true -> read: count): "
          + ", ".join(f"{t}->{p}: {n}" for (t, p), n in confusions.most_common(10)))

    sample = held_out[: args.png_sample] if args.png_sample else held_out
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        png = png_path(pen, sample, args.model, Path(folder))
    report(f"(b) PNG files through `digitpad predict --json` ({time.perf_counter() - start:.0f}s):", sample, png)
    agree = np.mean([a[0] == b[0] for a, b in zip(readings, png)])
    print(f"    PNG and stroke readings agree on {agree * 100:.2f}% of {len(sample)}")

    step = max(1, len(held_out) // max(1, args.canvas_sample))
    replayed = held_out[::step][: args.canvas_sample]
    start = time.perf_counter()
    on_canvas = canvas_path(pen, replayed, args.model)
    report(f"(c) replayed as mouse strokes on the real canvas ({time.perf_counter() - start:.0f}s):", replayed, on_canvas)


if __name__ == "__main__":
    main()
