"""The pen digits in the app: the training panel offers the pen sets, and a pen drawing replayed as
mouse strokes on the real pad is read like the same strokes given to the core."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from digitpad.core import pen
from digitpad.core.samples import TEMPLATES


def test_the_training_panel_offers_the_pen_sets(window):
    choice = window.dock_widgets["training"].dataset_choice
    for name, title in [("pen", "Pen digits"), ("mnist+pen", "MNIST + pen digits")]:
        index = choice.findData(name)
        assert index >= 0 and choice.itemText(index) == title
        assert "pen digits" in choice.itemData(index, Qt.ItemDataRole.ToolTipRole).lower()


def test_a_pen_drawing_replayed_on_the_pad_reads_as_its_strokes(qtbot, window):
    canvas = window.canvas
    digit = pen.PenDigit(3, "w/0", "unipen", "syn", tuple(np.asarray(s) * 500 for s in TEMPLATES[3]))
    strokes = pen.draw_on_pad(digit, np.random.default_rng(0), pen.PadStyle(canvas=(canvas.width(), canvas.height())))
    replayed = []
    for stroke in strokes:
        points = [QPoint(round(x), round(y)) for x, y in stroke]
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
        for point in points[1:]:
            QTest.mouseMove(canvas, point)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
        replayed.append(np.array([(p.x(), p.y()) for p in points], float))
    window.predict_now()
    assert len(canvas.vector_strokes()) == len(strokes)
    assert window.last_prediction.digit == window.predictor.predict_strokes(replayed).digit == 3
