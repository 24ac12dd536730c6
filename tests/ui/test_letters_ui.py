"""Letters on the pad (issue 13): the Digits / Letters / Both choice and its memory, the chart of 52
or 62 classes, a capital L drawn with the mouse read as L by the shipped letters model, the fallback
from a digits-only model, the correction bar, the viewers inside the joint model, and the held-out
pen letters in the Mistakes viewer. Only the shipped models and fixtures built here: no shared data."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget

from digitpad.core import letters, pen
from digitpad.core.alphabets import DIGITS, DIGITS_AND_LETTERS, LETTERS
from digitpad.core.checkpoints import load_checkpoint
from digitpad.core.evaluation import evaluate_checkpoint
from digitpad.core.inference import Predictor, default_model_path
from digitpad.ui.widgets.probability_bars import best_of_each
from tests.ui.conftest import draw, vertical_line
from tests.ui.test_pen_ui import pen_writers
from tests.fixtures import write_pen_data

pytestmark = pytest.mark.skipif(not default_model_path("letters").exists(), reason="shipped letters model missing")
TIMEOUT_MS = 30_000


def choose(window, alphabet: str) -> None:
    """Choose what the pad reads with the combo beside the chart, as a user would."""
    combo = window.findChild(QComboBox, "alphabetChoice")
    combo.setCurrentIndex(combo.findData(alphabet))


def capital_l(canvas, size: float = 0.6, foot: float = 0.65) -> list[list[tuple[float, float]]]:
    """A capital L in the middle of the pad: a stem ``size`` of the pad's shorter side tall, drawn
    down, then a foot ``foot`` of the stem long drawn to the right along its bottom."""
    side = size * min(canvas.width(), canvas.height())
    left, top = canvas.width() / 2 - foot * side / 2, canvas.height() / 2 - side / 2
    stem = [(left, top + t) for t in np.linspace(0, side, 25)]
    base = [(left + t, top + side) for t in np.linspace(0, foot * side, 20)]
    return [stem, base]


def draw_strokes(canvas, strokes) -> None:
    for stroke in strokes:
        draw(canvas, stroke)


def wait_for_reading(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.last_prediction is not None and not window.last_prediction.empty, timeout=TIMEOUT_MS)


# --- the choice -------------------------------------------------------------------------------------

def test_the_alphabet_choice_is_remembered_and_the_chart_shows_its_classes(qtbot, window):
    import digitpad

    combo = window.findChild(QComboBox, "alphabetChoice")
    assert combo.currentData() == "digits" and combo.accessibleName()
    assert window.chart.classes == DIGITS and len(window.chart.values) == 10
    choose(window, "letters")
    assert window.settings.value("pad/alphabet") == "letters"
    assert window.predictor.alphabet == "letters" and window.chart.classes == LETTERS and len(window.chart.values) == 52
    assert window.alphabet_choice.actions["letters"].isChecked()  # the View menu's Read > Letters is checked
    window.alphabet_choice.actions["both"].trigger()  # View > Read > Both
    assert combo.currentData() == "both" and window.settings.value("pad/alphabet") == "both"
    assert window.chart.classes == DIGITS_AND_LETTERS and len(window.chart.values) == 62
    assert window.both_header.isVisibleTo(window)
    ticks = window.chart.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [label for _, label in ticks] == list(DIGITS_AND_LETTERS)  # every class is named on the axis

    again = digitpad.create_window()  # the next session reads both again
    qtbot.addWidget(again)
    assert again.findChild(QComboBox, "alphabetChoice").currentData() == "both"
    assert again.predictor.alphabet == "both" and len(again.chart.classes) == 62
    choose(again, "digits")
    assert again.settings.value("pad/alphabet") == "digits" and again.chart.classes == DIGITS
    assert not again.both_header.isVisibleTo(again)


def test_a_capital_l_drawn_with_the_mouse_reads_as_l_in_letters_mode(qtbot, window):
    choose(window, "letters")
    assert window.model_path == default_model_path("letters")  # the digits model cannot: the shipped letters one
    draw_strokes(window.canvas, capital_l(window.canvas))
    qtbot.waitUntil(lambda: window.prediction_label.text() == "L", timeout=TIMEOUT_MS)
    prediction = window.last_prediction
    assert prediction.label == prediction.shown == "L" and prediction.confident
    assert window.chart.values.argmax() == LETTERS.index("L")
    assert window.chart.labels[LETTERS.index("L")] == f"L {prediction.probabilities.max() * 100:.0f}%"
    assert sum(bool(text) for text in window.chart.labels) <= 3  # only the best few are labelled
    assert "sure" in window.confidence_label.text()


def test_unsure_works_for_letters_with_their_own_calibration(qtbot, window):
    choose(window, "letters")
    _, threshold = window.checkpoint.calibration("letters")
    assert window.predictor.threshold == threshold != window.checkpoint.calibration("digits")[1]
    w, h = window.canvas.width(), window.canvas.height()
    draw(window.canvas, [(x, h * 0.5) for x in np.linspace(w * 0.1, w * 0.9, 30)])  # a long dash: no letter
    wait_for_reading(qtbot, window)
    assert not window.last_prediction.confident
    assert "Unsure" in window.confidence_label.text() and "a letter" in window.confidence_label.text()


def test_both_shows_the_best_digit_and_the_best_letter_side_by_side(qtbot, window):
    probabilities = np.zeros(62)
    probabilities[DIGITS_AND_LETTERS.index("0")] = 0.61
    probabilities[DIGITS_AND_LETTERS.index("O")] = 0.35
    probabilities[DIGITS_AND_LETTERS.index("o")] = 0.04
    header, note = best_of_each(DIGITS_AND_LETTERS, probabilities).split("\n")
    assert header == "best digit 0 · 61% | best letter O · 35%"
    assert "0 and O" in note
    choose(window, "both")
    draw(window.canvas, vertical_line(window.canvas))  # 1, l or I
    wait_for_reading(qtbot, window)
    text = window.both_header.text()
    assert text.startswith("best digit ") and " | best letter " in text
    assert window.prediction_label.text() == window.last_prediction.shown


def test_a_digits_only_model_in_letters_mode_falls_back_to_the_shipped_letters_model(qtbot, window, tmp_path):
    mine = tmp_path / "mine.safetensors"
    shutil.copy(default_model_path("digits"), mine)
    assert window.load_model(mine) and window.checkpoint.alphabets == ("digits",)
    choose(window, "letters")
    message = window.statusBar().currentMessage()
    assert "mine.safetensors reads digits only" in message and "letters.safetensors" in message
    assert window.model_path == default_model_path("letters") and window.predictor.alphabet == "letters"
    draw_strokes(window.canvas, capital_l(window.canvas))
    qtbot.waitUntil(lambda: window.prediction_label.text() == "L", timeout=TIMEOUT_MS)
    choose(window, "digits")  # your own model comes back
    assert window.model_path == mine and window.predictor.alphabet == "digits" and window.chart.classes == DIGITS
    assert "again" in window.statusBar().currentMessage()
    # Opening a digits-only model while reading letters reads digits with it, and says so.
    choose(window, "letters")
    assert window.load_model(mine)
    assert window.model.alphabet == "digits" and window.findChild(QComboBox, "alphabetChoice").currentData() == "digits"
    assert "reads digits only: the pad reads digits now" in window.statusBar().currentMessage()
    assert window.settings.value("pad/alphabet") == "digits"


def test_without_a_shipped_letters_model_the_choice_stays_on_digits(qtbot, window, tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    monkeypatch.setenv("DIGITPAD_RESOURCES", str(tmp_path))  # no letters.safetensors there
    choose(window, "letters")
    assert window.model.alphabet == "digits" and window.chart.classes == DIGITS
    assert window.findChild(QComboBox, "alphabetChoice").currentData() == "digits"
    assert window.statusBar().currentMessage().startswith("Cannot read letters")


# --- the correction bar -----------------------------------------------------------------------------

def test_the_correction_bar_is_off_in_letters_mode_and_says_why(qtbot, window):
    bar = window.dock_widgets["personal"].correction_bar
    draw(window.canvas, vertical_line(window.canvas))
    wait_for_reading(qtbot, window)
    assert bar.confirm_button.isEnabled()
    choose(window, "letters")
    assert not bar.confirm_button.isEnabled() and not any(b.isEnabled() for b in bar.digit_buttons)
    assert "digits only" in bar.confirm_button.toolTip() and "digits only" in bar.digit_buttons[0].toolTip()
    assert not bar.correct(1)  # nothing stored, even when asked directly
    choose(window, "both")
    window.canvas.clear()
    draw_strokes(window.canvas, capital_l(window.canvas))
    qtbot.waitUntil(lambda: window.prediction_label.text() == "L", timeout=TIMEOUT_MS)
    # Read as a letter: nothing to confirm, but it may be your digit.
    assert not bar.confirm_button.isEnabled() and "letter" in bar.confirm_button.toolTip()
    assert all(b.isEnabled() for b in bar.digit_buttons)
    assert bar.correct(4)
    assert bar.digits.entries[-1].label == 4 and bar.digits.entries[-1].predicted is None


def test_fine_tuning_my_digits_needs_a_digits_model(qtbot, window):
    from tests.ui.test_personal_ui import add_writer_digits, show_my_digits

    panel = show_my_digits(qtbot, window)
    add_writer_digits(panel, 2, seed=4)
    choose(window, "letters")  # the pad now reads with the shipped digits-and-letters model
    assert not panel.start_finetune() and not panel.finetuning
    assert "Read > Digits" in panel.finetune_status.text()


# --- inside the joint model -------------------------------------------------------------------------

def test_the_kernel_viewer_says_the_joint_models_first_layer_is_shared(qtbot, window):
    viewer = window.dock_widgets["kernels"]
    assert viewer.shared_note.isHidden()  # the digits model has a first layer of its own
    choose(window, "letters")
    assert not viewer.shared_note.isHidden()
    assert "shared first layer of the digits and letters networks" in viewer.shared_note.text()
    assert "letters network" in viewer.shared_note.text()
    assert "shared" in viewer.layer_combo.itemText(0)
    shared = window.predictor.model.shared[0].weight.detach().numpy()[:, 0]
    np.testing.assert_allclose(viewer.shown_tiles, shared)
    # Deeper layers are the letters network's: shared conv1, then that network's own convolutions.
    assert [layer.module.split(".")[0] for layer in viewer.layers] == ["shared"] + ["letters"] * (len(viewer.layers) - 1)
    choose(window, "digits")
    assert viewer.shared_note.isHidden()


def test_feature_maps_and_saliency_follow_the_network_that_read(qtbot, window):
    window.docks["feature_maps"].show()
    window.docks["feature_maps"].raise_()
    maps = window.dock_widgets["feature_maps"]
    choose(window, "letters")
    draw_strokes(window.canvas, capital_l(window.canvas))
    qtbot.waitUntil(lambda: window.prediction_label.text() == "L" and maps.branch == "letters", timeout=TIMEOUT_MS)
    expected = window.predictor.activations(window.last_prediction.prepared.image, "letters")
    qtbot.waitUntil(lambda: maps.activations.keys() == expected.keys(), timeout=TIMEOUT_MS)
    maps.refresh()
    for name, values in expected.items():
        np.testing.assert_allclose(maps.activations[name], values)
    choose(window, "both")  # an L in Both: the letters network still
    qtbot.waitUntil(lambda: window.last_prediction.label == "L", timeout=TIMEOUT_MS)
    maps.refresh()
    assert maps.branch == "letters" and "letters network's maps (conv1 is shared)" in maps.info.text()
    saliency = maps.saliency
    saliency.set_method("grad_cam")  # on the letters network's last conv block: not blank
    saliency.set_enabled(True)
    assert saliency.saliency is not None and saliency.saliency.max() > 0


def test_feature_maps_do_not_call_an_unshared_first_layer_shared(qtbot, window, tmp_path):
    """The experiment's control (two networks, each with its own conv1) is a joint model too."""
    import torch

    from digitpad.core.checkpoints import Checkpoint, save_checkpoint
    from digitpad.core.models import build_model

    shipped = load_checkpoint(default_model_path("letters"))
    torch.manual_seed(0)
    control = build_model("digitpad-joint", shared=False)
    path = save_checkpoint(Checkpoint.from_model(control.eval(), shipped.meta), tmp_path / "control.safetensors")
    assert window.load_model(path)
    window.docks["feature_maps"].show()
    maps = window.dock_widgets["feature_maps"]
    choose(window, "letters")
    draw_strokes(window.canvas, capital_l(window.canvas))
    wait_for_reading(qtbot, window)
    maps.refresh()
    assert maps.branch == "letters" and "(each network has its own conv1)" in maps.info.text()
    assert "is shared" not in maps.info.text()


def test_the_replay_dock_names_letters(qtbot, window):
    dock = window.dock_widgets["reading_timeline"]
    window.docks["reading_timeline"].show()
    window.docks["reading_timeline"].raise_()
    choose(window, "letters")
    with qtbot.waitSignal(dock.timelineReady, timeout=TIMEOUT_MS):
        draw_strokes(window.canvas, capital_l(window.canvas))
    assert dock.timeline.probabilities.shape[1] == 52
    assert "L" in [dock.classes[c] for c in dock.curve_classes] and "L" in dock.moment.text()


# --- the held-out pen letters in the Mistakes viewer -----------------------------------------------

def _line(x0, y0, x1, y1, n=12):
    return np.stack([np.linspace(x0, x1, n), np.linspace(y0, y1, n)], axis=1)


def _ellipse(n=40):
    angles = np.radians(np.linspace(-90, 275, n))
    return np.stack([0.5 + 0.3 * np.cos(angles), 0.5 + 0.42 * np.sin(angles)], axis=1)


LETTER_STROKES = {  # a unit box, y down
    "L": [_line(0.3, 0.1, 0.3, 0.9), _line(0.3, 0.9, 0.75, 0.9)],
    "T": [_line(0.15, 0.1, 0.85, 0.1), _line(0.5, 0.1, 0.5, 0.9)],
    "E": [_line(0.3, 0.1, 0.3, 0.9), _line(0.3, 0.1, 0.75, 0.1), _line(0.3, 0.5, 0.65, 0.5), _line(0.3, 0.9, 0.75, 0.9)],
    "O": [_ellipse()],
}
# Held out: site "tst" (its digits are, in pen_writers()); the last is an L its writer labelled T.
HELD_OUT = [("L", "L"), ("T", "T"), ("E", "E"), ("O", "O"), ("L", "T")]


def write_pen_letters(root, monkeypatch) -> None:
    """The two UNIPEN letter files under ``root/pen`` (y up, as the real ones), checksums pinned."""
    def record(shape, label, site):
        strokes = [[[float(x) * 500, -float(y) * 500] for x, y in stroke] for stroke in LETTER_STROKES[shape]]
        return json.dumps({"label": label, "site": site, "writer": f"{site}/0", "strokes": strokes})

    capitals = [record(shape, label, "tst") for shape, label in HELD_OUT] + [record("E", "E", "big")]
    files = {letters.UPPERCASE_FILE: capitals, letters.LOWERCASE_FILE: [record("O", "o", "big")]}
    digests = {}
    for name, lines in files.items():
        path = root / "pen" / name
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setattr(letters, "LETTER_FILES", digests)


def show_letter_mistakes(qtbot, window):
    mistakes = window.dock_widgets["mistakes"]
    combo = mistakes.findChild(QComboBox, "mistakesTestSet")
    combo.setCurrentIndex(combo.findData("pen-letters"))
    window.docks["mistakes"].show()
    window.docks["mistakes"].raise_()
    qtbot.waitUntil(lambda: not mistakes.is_busy() and mistakes.evaluations_started > 0, timeout=TIMEOUT_MS)
    return mistakes


def test_the_mistakes_viewer_reads_the_held_out_pen_letters_and_replays_one(qtbot, window, tmp_path, monkeypatch):
    root = write_pen_data(tmp_path, pen_writers(), monkeypatch)
    write_pen_letters(root, monkeypatch)
    monkeypatch.setenv("DIGITPAD_DATA", str(root))
    mistakes = show_letter_mistakes(qtbot, window)
    found = mistakes.mistakes
    assert found is not None, mistakes.status.text()
    held_out = letters.held_out_letters(root)
    assert [DIGITS_AND_LETTERS[d.label] for d in held_out] == [label for _, label in HELD_OUT]
    drawn = pen.draw_test_digits(held_out, pen.TEST_DRAWING_SEED)
    np.testing.assert_array_equal(found.images, drawn.images)
    np.testing.assert_array_equal(found.labels, drawn.labels - len(DIGITS))
    # The pad reads digits, so the shipped letters model judged them, reading letters; the status says so.
    shipped = load_checkpoint(default_model_path("letters"))
    expected = evaluate_checkpoint(shipped, drawn.images, drawn.labels - len(DIGITS), classes=LETTERS)
    assert found.classes == LETTERS and found.confusion.shape == (52, 52)
    np.testing.assert_array_equal(found.confusion, expected.confusion)
    assert len(HELD_OUT) - 1 in found.wrong.tolist()  # the L labelled T
    assert found.wrong.tolist() == expected.wrong_indices.tolist()
    assert sorted(mistakes.shown_indices.tolist()) == found.wrong[~found.case_only].tolist()  # "Ignore case" is on
    assert window.findChild(QWidget, "confusion_matrix").matrix.shape == (52, 52)
    assert window.findChild(QWidget, "confusion_matrix").classes == LETTERS
    status = mistakes.status.text()
    assert f"{expected.errors} of {len(HELD_OUT)} held-out pen test letters misread" in status
    assert "letters.safetensors" in status
    assert mistakes.true_combo.itemText(1) == "a" and mistakes.true_combo.count() == 53
    assert "Pen letter" in mistakes.model.index(0).data(Qt.ItemDataRole.ToolTipRole)

    # Clicking one draws its strokes on the pad, which reads letters from then on, as the viewer did.
    index = int(mistakes.shown_indices[0])
    misread_as = LETTERS[int(found.predicted[found.wrong.tolist().index(index)])]
    rect = mistakes.gallery.visualRect(mistakes.model.index(0))
    with qtbot.waitSignal(window.bus.strokesRequested, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(mistakes.gallery.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args[1] == LETTERS[int(found.labels[index])]
    assert window.model.alphabet == "letters" and len(window.canvas.vector_strokes()) == len(drawn.strokes[index])
    wait_for_reading(qtbot, window)
    assert window.last_prediction.label == misread_as == \
        Predictor(shipped, alphabet="letters").predict_strokes(drawn.strokes[index]).label


def test_missing_pen_letters_are_a_message_not_a_crash(qtbot, window, tmp_path, monkeypatch):
    write_pen_data(tmp_path, pen_writers(), monkeypatch)  # the digits, but no letter files
    monkeypatch.setenv("DIGITPAD_DATA", str(tmp_path))
    mistakes = show_letter_mistakes(qtbot, window)
    status = mistakes.status.text()
    assert status.startswith("Cannot list mistakes on the held-out pen letters: ")
    assert letters.UPPERCASE_FILE in status or letters.LOWERCASE_FILE in status
    assert mistakes.mistakes is None and len(mistakes.shown_indices) == 0


def test_an_empty_pad_invites_what_it_reads(qtbot, window):
    assert window.canvas.prompt == "Draw a digit here"
    choose(window, "letters")
    assert window.canvas.prompt == "Draw a letter here"
    window.alphabet_choice.actions["both"].trigger()
    assert window.canvas.prompt == "Draw a digit or a letter here"
    choose(window, "digits")
    assert window.canvas.prompt == "Draw a digit here"
