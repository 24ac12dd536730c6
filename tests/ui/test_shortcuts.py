"""The pad's keyboard: Esc clears it, Ctrl+Z / Ctrl+Shift+Z undo and redo, as the README and tooltips say."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest

from digitpad.ui.widgets.canvas import DrawingCanvas

from .conftest import draw, vertical_line

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def test_esc_clears_the_pad_and_ctrl_z_and_ctrl_shift_z_undo_and_redo(qtbot, window):
    window.activateWindow()
    qtbot.waitActive(window)  # window shortcuts fire only in the active window
    canvas = window.findChild(DrawingCanvas)
    draw(canvas, vertical_line(canvas, x_fraction=0.4))
    draw(canvas, vertical_line(canvas, x_fraction=0.6))
    QTest.keyClick(canvas, Qt.Key.Key_Z, CTRL)
    assert len(canvas.strokes) == 1
    QTest.keyClick(canvas, Qt.Key.Key_Z, CTRL | SHIFT)
    assert len(canvas.strokes) == 2
    QTest.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.strokes == [] and window.findChild(DrawingCanvas).is_empty()
    QTest.keyClick(canvas, Qt.Key.Key_Z, CTRL)  # clearing is undone like a stroke
    assert len(canvas.strokes) == 2
    QTest.keyClick(canvas, Qt.Key.Key_Z, CTRL)
    QTest.keyClick(canvas, Qt.Key.Key_Y, CTRL)  # the other redo
    assert len(canvas.strokes) == 2


def test_no_key_sequence_belongs_to_two_window_actions(qtbot, window):
    """Qt fires neither of two shortcuts with one key sequence ("Ambiguous shortcut overload")."""
    owners: dict[str, list[str]] = {}
    for action in window.findChildren(QAction):
        for sequence in action.shortcuts():
            owners.setdefault(sequence.toString(), []).append(action.objectName() or action.text())
    assert {key: names for key, names in owners.items() if len(names) > 1} == {}
