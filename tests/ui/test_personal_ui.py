"""My digits: correcting the pad's reading stores the drawing; the dock browses, deletes, exports,
imports and fine-tunes on the set (on a worker thread, shown in the Training dock).

Everything runs on fixtures built here: a tiny model trained on ``synthetic_digits`` (font digits
standing in for MNIST) and a "writer" who draws every digit mirrored, a style the tiny model mostly
misreads yet can learn. One torch thread; the fine-tune is a few hundred examples for 3 epochs.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QFileDialog, QLabel, QPushButton, QToolButton

from digitpad.core.config import TrainConfig
from digitpad.core.download import DataError
from digitpad.core.finetune import FinetuneConfig
from digitpad.core.personal import PersonalStore
from digitpad.core.trainer import train_to_end
from digitpad.ui.main_window import MainWindow
from digitpad.ui.widgets.correction_bar import digit_count_text
from tests.fixtures import render_digit
from tests.ui.conftest import closed_loop, draw, vertical_line

RUN_TIMEOUT_MS = 120_000  # generous: two cores shared with other jobs
# The stated bound: fine-tuning may cost at most 5 points of accuracy on the fixture MNIST test set
# (5 of its 100 digits; the tiny 2-epoch base model is noisy). The core's own test holds a stronger
# base to 2 points on 300 digits, the benchmark real MNIST to 0.2.
BASE_DROP_BOUND = 0.05
FAST_FINETUNE = FinetuneConfig(epochs=3, replay=300, lr=0.02, batch_size=32, device="cpu", threads=1)


@pytest.fixture(scope="module")
def tiny_checkpoint(tiny_digits):
    config = TrainConfig(model_args={"width": 8, "hidden": 32}, epochs=2, batch_size=32, lr=0.05, threads=1, device="cpu")
    trainer, _events = train_to_end(config, tiny_digits)
    assert trainer.checkpoint is not None
    return trainer.checkpoint


@pytest.fixture
def window(qtbot, tiny_checkpoint, tiny_digits):
    win = MainWindow(tiny_checkpoint)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    panel = win.dock_widgets["personal"]
    panel.base_loader = lambda name, root, progress: tiny_digits  # the fixture "MNIST"
    panel.finetune_config = FAST_FINETUNE
    return win


def mirrored_digits(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixture writer: font digits flipped left-right, (count, 28, 28) uint8 ink = 255."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 10
    return np.stack([np.fliplr(render_digit(int(d), rng)) for d in labels]), labels.astype(np.int64)


def show_my_digits(qtbot, window):
    """Raise the My digits dock (hidden at first) and return its panel."""
    dock = window.docks["personal"]
    dock.show()
    dock.raise_()
    panel = window.dock_widgets["personal"]
    qtbot.waitUntil(panel.isVisible, timeout=5_000)
    return panel


def add_writer_digits(panel, count: int, seed: int, source: str = "import") -> None:
    images, labels = mirrored_digits(count, seed)
    for image, label in zip(images, labels):
        panel.digits.store.add(image, int(label), source=source)
    panel.digits.reload()


def draw_and_wait(qtbot, window, points) -> None:
    bar = window.dock_widgets["personal"].correction_bar
    draw(window.canvas, points)
    qtbot.waitUntil(lambda: bar.confirm_button.isEnabled() and not window.last_prediction.empty, timeout=10_000)


def click(widget) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_correcting_three_drawings_stores_them_and_the_browser_shows_them(qtbot, window):
    panel = window.dock_widgets["personal"]
    bar = panel.correction_bar
    messages: list[str] = []
    window.bus.statusMessage.connect(messages.append)

    # The bar sits under the reading, above the probability bars.
    assert window.findChild(QPushButton, "confirm_button") is bar.confirm_button
    assert bar.parent() is window.prediction_label.parent()
    assert window.prediction_label.geometry().bottom() <= bar.geometry().top() <= window.chart.geometry().top()
    for digit in range(10):
        button = window.findChild(QToolButton, f"correct_{digit}")
        assert button.text() == str(digit)
        assert button.toolTip() == f"That's a {digit}: save this drawing as {digit} in My digits"
    assert not bar.confirm_button.isEnabled() and not bar.digit_buttons[7].isEnabled()  # an empty pad

    saved = []
    for points, button in (
        (vertical_line(window.canvas), "correct_7"),  # "That's a 7", whatever the model read
        (closed_loop(window.canvas), "confirm_button"),  # "Correct!": the label is what the model read
        (vertical_line(window.canvas, 0.7, 0.3), "correct_4"),
    ):
        draw_and_wait(qtbot, window, points)
        prediction = window.last_prediction
        click(window.findChild(QAbstractButton, button))
        saved.append(prediction)
        assert window.canvas.is_empty()  # cleared for the next digit (Ctrl+Z brings it back)
        assert not bar.confirm_button.isEnabled()  # no second save of the same drawing
    labels = [7, saved[1].digit, 4]

    entries = PersonalStore().entries()
    assert [e.label for e in entries] == labels
    for entry, prediction in zip(entries, saved):
        assert entry.predicted == prediction.digit and entry.source == "pad"
        expected = np.clip(np.rint(prediction.prepared.image * 255), 0, 255).astype(np.uint8)
        np.testing.assert_array_equal(entry.image, expected)  # exactly what the network read
        assert entry.strokes and all(s.shape[1] == 4 for s in entry.strokes)  # x, y, t, pressure
    assert messages == [
        "Saved as 7 in My digits (1 seven)",
        f"Saved as {labels[1]} in My digits ({digit_count_text(labels[1], labels[:2].count(labels[1]))})",
        f"Saved as 4 in My digits ({digit_count_text(4, labels.count(4))})",
    ]
    assert digit_count_text(7, 12) == "12 sevens" and digit_count_text(6, 2) == "2 sixes"

    # The browser shows them, grouped by digit, with counts.
    show_my_digits(qtbot, window)
    model = panel.gallery_model
    assert model.rowCount() == 3
    assert [model.entry(r).label for r in range(3)] == sorted(labels)
    counts = np.bincount(labels, minlength=10)
    assert panel.all_button.text() == "All\n3"
    for digit in range(10):
        assert panel.count_buttons[digit].text() == f"{digit}\n{counts[digit]}"
    click(panel.count_buttons[7])
    assert [model.entry(r).label for r in range(model.rowCount())] == [7] * counts[7]
    click(panel.all_button)
    assert model.rowCount() == 3
    assert panel.finetune_button.isEnabled()

    # Select one and press Delete: it goes; the pad's own Delete shortcut (Clear) does not fire.
    draw(window.canvas, vertical_line(window.canvas))
    four = next(r for r in range(3) if model.entry(r).label == 4)
    gallery = panel.gallery
    click_at = gallery.visualRect(model.index(four)).center()
    QTest.mouseClick(gallery.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, click_at)
    assert panel.selected_ids() == [model.entry(four).id]
    assert panel.delete_button.isEnabled()
    gallery.setFocus()
    QTest.keyClick(gallery, Qt.Key.Key_Delete)
    assert [e.label for e in PersonalStore().entries()] == labels[:2]
    assert model.rowCount() == 2 and panel.count_buttons[4].text() == f"4\n{labels[:2].count(4)}"
    assert not window.canvas.is_empty()

    # And with the button.
    panel.select_ids([model.entry(0).id])
    click(panel.delete_button)
    assert len(PersonalStore().entries()) == 1 and model.rowCount() == 1


def test_a_damaged_entry_is_skipped_with_a_warning(qtbot, tiny_checkpoint):
    store = PersonalStore()
    images, labels = mirrored_digits(3, seed=1)
    for image, label in zip(images, labels):
        store.add(image, int(label))
    store.entries()[0].image_path.write_bytes(b"not a png")
    (store.entries_dir / "20200101-000000-000000-abcdef.json").write_text("{ half written", encoding="utf-8")

    win = MainWindow(tiny_checkpoint)
    qtbot.addWidget(win)
    win.show()
    panel = show_my_digits(qtbot, win)
    assert panel.gallery_model.rowCount() == 2
    assert panel.warning.isVisibleTo(panel)
    assert panel.warning.text().startswith("⚠ 2 damaged entries were skipped")
    assert "half written" not in panel.warning.text() and "20200101" in panel.warning.toolTip()
    assert panel.finetune_button.isEnabled()


def test_export_and_import_a_plain_folder(qtbot, window, tmp_path, monkeypatch):
    panel = show_my_digits(qtbot, window)
    add_writer_digits(panel, 4, seed=2)
    labels = mirrored_digits(4, seed=2)[1]
    assert panel.gallery_model.rowCount() == 4

    folder = tmp_path / "shared"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(folder))
    click(panel.export_button)
    qtbot.waitUntil(lambda: not panel.task_running, timeout=30_000)
    assert sorted(p.name.split("_")[0] for p in folder.glob("*.png")) == [str(d) for d in sorted(labels)]
    rows = (folder / "labels.csv").read_text().splitlines()
    assert rows[0] == "file,label" and len(rows) == 5
    assert len(json.loads((folder / "index.json").read_text())["entries"]) == 4
    assert panel.task_status.text().startswith("Exported 4 digits")

    for entry in PersonalStore().entries():  # a fresh set, e.g. another computer
        PersonalStore().delete(entry.id)
    panel.digits.reload()
    assert panel.gallery_model.rowCount() == 0 and not panel.finetune_button.isEnabled()

    click(panel.import_button)
    qtbot.waitUntil(lambda: not panel.task_running, timeout=30_000)
    assert panel.gallery_model.rowCount() == 4
    assert sorted(e.label for e in PersonalStore().entries()) == sorted(labels.tolist())
    assert panel.task_status.text() == "Imported 4 digits into My digits"

    click(panel.import_button)  # the same folder again: nothing twice
    qtbot.waitUntil(lambda: not panel.task_running, timeout=30_000)
    assert panel.gallery_model.rowCount() == 4
    assert "4 skipped" in panel.task_status.text() and "already" in panel.task_status.toolTip()


def test_finetuning_learns_my_digits_and_keeps_mnist(qtbot, window, tmp_path, monkeypatch):
    panel = show_my_digits(qtbot, window)
    training = window.dock_widgets["training"]
    add_writer_digits(panel, 30, seed=3)
    base = window.checkpoint
    started, events, finished, models = [], [], [], []
    window.bus.trainingStarted.connect(started.append)
    window.bus.trainingEvent.connect(events.append)
    window.bus.trainingFinished.connect(finished.append)
    window.bus.modelChanged.connect(models.append)

    click(panel.finetune_button)
    assert panel.finetuning and not panel.finetune_button.isEnabled() and panel.stop_button.isEnabled()
    assert window.docks["training"].isVisible()
    assert not training.train_button.isEnabled()  # one run at a time on the shared cores
    assert training.start_training() is False
    qtbot.waitUntil(lambda: not panel.finetuning, timeout=RUN_TIMEOUT_MS)

    result = panel.last_result
    assert result is not None, panel.finetune_status.text()
    assert result.personal_count == 30 and result.base_test_count == 100 and not result.stopped
    assert result.personal_before < 0.8  # the writer is mostly misread at first ...
    assert result.personal_after >= result.personal_before + 0.2  # ... and learnt
    assert result.base_after >= result.base_before - BASE_DROP_BOUND, result.to_json()  # the stated bound

    text = panel.findChild(QLabel, "finetune_result").text()
    assert f"My digits: {result.personal_before * 100:.1f}% → {result.personal_after * 100:.1f}%" in text
    assert f"MNIST test: {result.base_before * 100:.1f}% → {result.base_after * 100:.1f}%" in text
    assert window.checkpoint is result.checkpoint is not base and models[-1] is result.checkpoint
    assert window.checkpoint.meta["finetune"]["personal_digits"] == 30

    # Shown in the Training dock like a run, and on the bus for the other viewers.
    assert training.curves.loss_count > 0 and len(training.curves.epochs) == 3
    assert "Fine-tuning on my digits" in training.status_label.text()
    assert training.train_button.isEnabled()
    assert len(started) == 1 and finished == [result.checkpoint]
    assert any(type(e).__name__ == "EpochEnded" for e in events)

    target = tmp_path / "tuned.safetensors"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    assert panel.save_button.isEnabled()
    click(panel.save_button)
    assert target.is_file() and window.model_path == target


def test_finetuning_without_mnist_says_what_is_missing(qtbot, window):
    panel = show_my_digits(qtbot, window)
    add_writer_digits(panel, 2, seed=4)

    def missing(name, root, progress):
        raise DataError(f"{name} is not in /nowhere/{name}: download it or set DIGITPAD_DATA")

    panel.base_loader = missing
    before = window.checkpoint
    assert panel.start_finetune()
    qtbot.waitUntil(lambda: not panel.finetuning, timeout=30_000)
    status = panel.finetune_status.text()
    assert "Fine-tuning needs MNIST" in status and "/nowhere/mnist" in status
    assert panel.download_button.isVisibleTo(panel) and panel.download_button.isEnabled()
    assert window.checkpoint is before and panel.last_result is None
    assert window.dock_widgets["training"].train_button.isEnabled()
    assert not panel.save_button.isEnabled() and panel.finetune_button.isEnabled()


def test_stopping_a_finetune_keeps_the_app_usable(qtbot, window):
    panel = show_my_digits(qtbot, window)
    add_writer_digits(panel, 10, seed=5)
    before = window.checkpoint
    click(panel.finetune_button)
    click(panel.stop_button)
    assert not panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.finetuning, timeout=RUN_TIMEOUT_MS)
    # Stopped while measuring (the usual case: nothing trained, the model unchanged), or within
    # a batch of training (the model so far is measured and kept).
    result = panel.last_result
    assert (result is None and window.checkpoint is before) or (result.stopped and window.checkpoint is result.checkpoint)
    assert panel.finetune_button.isEnabled() and window.dock_widgets["training"].train_button.isEnabled()


def test_closing_the_window_mid_finetune_stops_it(qtbot, window):
    panel = show_my_digits(qtbot, window)
    add_writer_digits(panel, 10, seed=6)
    assert panel.start_finetune()
    window.close()  # closeEvent -> shutdown(): abandon the run and wait for the thread
    assert not panel.finetuning


def test_my_digits_is_a_training_data_set(window):
    training = window.dock_widgets["training"]
    assert training.dataset_choice.findData("personal") >= 0
