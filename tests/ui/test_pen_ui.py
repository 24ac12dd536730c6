"""The pen digits in the app: the training panel offers the pen sets, a pen drawing replayed as
mouse strokes on the real pad is read like the same strokes given to the core, and the Mistakes
viewer judges the pad's model on the held-out pen writers and draws a misread one on the pad."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QWidget

from digitpad.core import pen
from digitpad.core.evaluation import evaluate_checkpoint
from digitpad.core.inference import Predictor
from digitpad.core.samples import TEMPLATES
from digitpad.ui.widgets.mistakes import MistakesView
from tests.fixtures import write_pen_data


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


# --- the held-out pen writers in the Mistakes viewer -----------------------------------------------

TIMEOUT_MS = 30_000
WRONGLY_LABELLED = {4: 8, 5: 6}  # held-out digit index -> the label its writer gave a 3 and a 0


def template_digit(template: int, writer: str, site: str, label: int | None = None) -> pen.PenDigit:
    """A UNIPEN digit from the stroke templates (a unit box, y down), at tablet scale."""
    strokes = tuple(np.asarray(s) * 500 for s in TEMPLATES[template])
    return pen.PenDigit(template if label is None else label, writer, pen.UNIPEN_SOURCE, site, strokes)


def pen_writers() -> list[pen.PenDigit]:
    """Three UNIPEN sites of 30, 7 and 6 digits: the writer split trains on the first, validates on the
    second and holds out the third, whose writer labelled two digits wrongly (WRONGLY_LABELLED), so
    that any model that reads a 3 as a 3 and a 0 as a 0 gets those two wrong."""
    digits = [template_digit(i % 10, f"big/{i // 10}", "big") for i in range(30)]
    digits += [template_digit(d, "mid/0", "mid") for d in range(7)]
    for index, template in enumerate([1, 2, 4, 7, 3, 0]):
        digits.append(template_digit(template, "tst/0", "tst", WRONGLY_LABELLED.get(index)))
    return digits


def choose_test_set(mistakes, name: str) -> None:
    combo = mistakes.findChild(QComboBox, "mistakesTestSet")
    assert combo is mistakes.test_set_combo and combo.accessibleName()
    combo.setCurrentIndex(combo.findData(name))


def show_pen_mistakes(qtbot, window, root):
    """The Mistakes dock on the held-out pen writers of the data folder ``root``; returns the view and
    the held-out digits as the benchmark and the pen datasets draw them."""
    mistakes = window.dock_widgets["mistakes"]
    choose_test_set(mistakes, "pen")
    assert mistakes.evaluations_started == 0  # the dock is hidden: nothing computed yet
    window.docks["mistakes"].show()
    window.docks["mistakes"].raise_()
    qtbot.waitUntil(lambda: mistakes.mistakes is not None and not mistakes.is_busy(), timeout=TIMEOUT_MS)
    held_out = pen.split_by_writer(pen.load_pen_digits(root, download=False)[0])["test"]
    assert {d.site for d in held_out} == {"tst"}
    return mistakes, pen.draw_test_digits(held_out, pen.TEST_DRAWING_SEED)


def test_the_mistakes_viewer_lists_the_held_out_pen_writers_mistakes(qtbot, window, tmp_path, monkeypatch):
    root = write_pen_data(tmp_path, pen_writers(), monkeypatch)
    monkeypatch.setenv("DIGITPAD_DATA", str(root))
    mistakes, drawn = show_pen_mistakes(qtbot, window, root)
    assert mistakes.evaluations_started == 1
    found = mistakes.mistakes
    assert found.dataset == "pen" and found.strokes is not None
    np.testing.assert_array_equal(found.images, drawn.images)
    np.testing.assert_array_equal(found.labels, drawn.labels)
    expected = evaluate_checkpoint(window.checkpoint, drawn.images, drawn.labels)
    assert set(WRONGLY_LABELLED) <= set(expected.wrong_indices.tolist())
    assert sorted(mistakes.shown_indices.tolist()) == expected.wrong_indices.tolist()
    assert mistakes.model.rowCount() == expected.errors
    np.testing.assert_array_equal(window.findChild(QWidget, "confusion_matrix").matrix, expected.confusion)
    assert (f"{expected.errors} of {len(drawn.labels)} held-out pen test digits misread "
            f"({expected.accuracy * 100:.2f}% correct") in mistakes.status.text()
    assert "Pen digit" in mistakes.model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    assert window.settings.value("mistakes/test_set") == "pen"


def test_clicking_a_pen_mistake_draws_its_strokes_on_the_pad_and_the_pad_reads_them(qtbot, window, tmp_path, monkeypatch):
    root = write_pen_data(tmp_path, pen_writers(), monkeypatch)
    monkeypatch.setenv("DIGITPAD_DATA", str(root))
    mistakes, drawn = show_pen_mistakes(qtbot, window, root)
    assert window.canvas.is_empty()
    found = mistakes.mistakes
    index = int(mistakes.shown_indices[0])
    misread_as = int(found.predicted[found.wrong.tolist().index(index)])
    rect = mistakes.gallery.visualRect(mistakes.model.index(0))
    with qtbot.waitSignal(window.bus.strokesRequested, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(mistakes.gallery.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args[1] == drawn.labels[index]
    canvas = window.canvas
    # The pad holds that record's strokes, as vectors, in the order they were drawn.
    on_pad = canvas.vector_strokes()
    assert canvas.background is None and on_pad is not None
    assert len(on_pad) == len(drawn.strokes[index]) == len(drawn.digits[index].strokes)
    for stroke, recorded in zip(on_pad, pen.fit_on_pad(drawn.strokes[index], (canvas.width(), canvas.height()))):
        np.testing.assert_allclose(stroke, recorded)
    # The pad reads them through its stroke path, and misreads them as the viewer said.
    qtbot.waitUntil(lambda: window.last_prediction is not None and not window.last_prediction.empty, timeout=TIMEOUT_MS)
    assert window.last_prediction.digit == misread_as == Predictor(window.checkpoint).predict_strokes(drawn.strokes[index]).digit
    assert window.prediction_label.text() == str(misread_as)
    np.testing.assert_allclose(window.last_prediction.prepared.image, drawn.images[index] / 255.0, atol=0.51 / 255 + 0.02)
    canvas.undo()  # one undo step, as any drawing put on the pad
    assert canvas.is_empty()


def test_the_test_set_choice_is_remembered(qtbot):
    first = MistakesView()
    qtbot.addWidget(first)
    assert first.test_set_combo.currentData() == "own"  # the model's own test set, as before
    assert [first.test_set_combo.itemData(i) for i in range(first.test_set_combo.count())] == ["own", "mnist", "usps", "pen", "pen-letters"]
    choose_test_set(first, "pen")
    again = MistakesView()
    qtbot.addWidget(again)
    assert again.test_set_combo.currentData() == "pen"
    again.settings.setValue("mistakes/test_set", "no-such-set")
    unknown = MistakesView()
    qtbot.addWidget(unknown)
    assert unknown.test_set_combo.currentData() == "own"


@pytest.mark.parametrize("missing", ["the pen folder", "the UNIPEN file"])
def test_missing_pen_data_is_a_message_naming_it_not_a_crash(qtbot, window, tmp_path, monkeypatch, missing):
    if missing == "the UNIPEN file":
        write_pen_data(tmp_path, pen_writers(), monkeypatch)
        (tmp_path / "pen" / pen.UNIPEN_FILE).unlink()
    monkeypatch.setenv("DIGITPAD_DATA", str(tmp_path))
    mistakes = window.dock_widgets["mistakes"]
    choose_test_set(mistakes, "pen")
    qtbot.mouseClick(mistakes.compute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not mistakes.is_busy(), timeout=TIMEOUT_MS)
    status = mistakes.status.text()
    assert status.startswith("Cannot list mistakes on the held-out pen digits: ")
    assert (pen.UNIPEN_FILE if missing == "the UNIPEN file" else "PEN is not in") in status
    assert str(tmp_path / "pen") in status
    assert mistakes.mistakes is None and len(mistakes.shown_indices) == 0
