"""High-DPI: on a 2x screen the pad keeps device pixels and reads the same as on a 1x screen.

The scale factor is fixed when QApplication starts, so this runs the pad in a fresh process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from digitpad.core.inference import default_model_path

pytestmark = pytest.mark.skipif(not default_model_path().exists(), reason="shipped model missing")

SCRIPT = textwrap.dedent(
    """
    import json
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    import digitpad

    window = digitpad.create_window()
    window.show()
    app = QApplication.instance()
    canvas = window.canvas

    def settle():
        for _ in range(50):
            app.processEvents()

    def stroke(button, points):
        QTest.mousePress(canvas, button, Qt.KeyboardModifier.NoModifier, points[0])
        for point in points[1:]:
            QTest.mouseMove(canvas, point)
        QTest.mouseRelease(canvas, button, Qt.KeyboardModifier.NoModifier, points[-1])
        settle()

    settle()
    x = canvas.width() // 2
    stroke(Qt.MouseButton.LeftButton, [QPoint(x, int(canvas.height() * (0.15 + 0.7 * i / 24))) for i in range(25)])
    vector = window.prediction_label.text()
    stroke(Qt.MouseButton.RightButton, [QPoint(5, 5)])  # an eraser touch: now read from the pixels
    print(json.dumps({
        "ratio": canvas.devicePixelRatioF(),
        "widget": [canvas.height(), canvas.width()],
        "pixels": list(canvas.grayscale().shape),
        "vector_reading": vector,
        "pixel_reading": window.prediction_label.text(),
        "pixel_confident": window.last_prediction.confident,
    }))
    window.close()
    """
)


def test_a_2x_screen_gets_a_2x_pad_that_reads_the_same(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2", "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ratio"] == 2.0
    assert result["pixels"] == [2 * side for side in result["widget"]]  # crisp strokes: device pixels
    assert result["vector_reading"] == "1"
    assert result["pixel_reading"] == "1" and result["pixel_confident"]
