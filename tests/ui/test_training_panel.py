"""The training panel: runs on a worker thread, live curves, pause/resume/stop, the pad gets the model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QTimer

from digitpad.core.checkpoints import Checkpoint
from digitpad.core.datasets import DownloadError
from digitpad.core.events import Paused, StepsEnded
from digitpad.core.models import MODELS, build_model
from digitpad.core.presets import PRESETS
from digitpad.ui import workers
from digitpad.ui.main_window import MainWindow

RUN_TIMEOUT_MS = 60_000  # generous: two cores shared with other jobs


@pytest.fixture
def window(qtbot, tiny_digits):
    model = build_model("digitpad", width=8, hidden=16).eval()
    checkpoint = Checkpoint.from_model(model, {"dataset": "mnist", "normalization": [0.13, 0.31]})
    win = MainWindow(checkpoint)
    qtbot.addWidget(win)
    panel = win.dock_widgets["training"]
    panel.data_loader = lambda name, root, progress: tiny_digits
    return win


@pytest.fixture
def panel(window, tiny_config):
    panel = window.dock_widgets["training"]
    # Long enough to pause and stop in the middle; the tests stop it early.
    panel.set_config(dataclasses.replace(tiny_config, epochs=200))
    return panel


def observe(qtbot, ms: int) -> None:
    """Let the event loop run for a fixed window: only for asserting that nothing happens."""
    timer = QTimer()
    timer.setSingleShot(True)
    with qtbot.waitSignal(timer.timeout, timeout=ms + 10_000):
        timer.start(ms)


def is_pause(paused: bool):
    return lambda event: isinstance(event, Paused) and event.paused == paused


def test_scriptable_names(window):
    panel = window.dock_widgets["training"]
    for name in ("train_button", "pause_button", "stop_button", "loss_plot", "accuracy_plot", "train_progress",
                 "dataset_choice", "model_choice", "epochs"):
        widget = window.findChild(object, name)
        assert widget is not None, name
        assert widget.accessibleName(), name
    for widget in panel._config_widgets + [panel.train_button, panel.pause_button, panel.stop_button, panel.save_button]:
        assert widget.accessibleName()
    assert panel.train_button.isEnabled() and not panel.pause_button.isEnabled() and not panel.stop_button.isEnabled()


def test_model_choice_lists_architectures_and_presets(window):
    panel = window.dock_widgets["training"]
    combo = panel.model_choice
    data = [str(combo.itemData(i) or "").partition(":") for i in range(combo.count())]
    assert {name for kind, _, name in data if kind == "arch"} == set(MODELS)
    assert {name for kind, _, name in data if kind == "preset"} == set(PRESETS)

    panel.choose("lasagne-5")  # a recipe sets every field
    preset = PRESETS["lasagne-5"].config
    assert (panel.epochs.value(), panel.batch_size.value(), panel.augment.isChecked()) == (preset.epochs, preset.batch_size, preset.augment)
    assert panel.config() == preset
    assert panel.model_description.text() == PRESETS["lasagne-5"].description

    panel.epochs.setValue(3)
    panel.choose("lenet5")  # an architecture keeps the other fields
    config = panel.config()
    assert (config.model, config.epochs, config.batch_size, config.optimizer) == ("lenet5", 3, preset.batch_size, preset.optimizer)
    assert panel.model_description.text() == MODELS["lenet5"].description
    assert panel.device_label.text().startswith("→ ")


def test_recipe_details_show_and_set_what_a_seed_recipe_does(window):
    panel = window.dock_widgets["training"]
    form = panel.findChild(object, "recipe_details")
    assert form is not None and not form.isChecked() and not panel.findChild(object, "schedule_choice").isVisibleTo(form)
    form.setChecked(True)
    assert panel.findChild(object, "schedule_choice").isVisibleTo(form)

    panel.choose("bastani-wang")  # a recipe with fields the plain form has no control for
    preset = PRESETS["bastani-wang"].config
    details = {name: panel.findChild(object, name) for name in
               ("schedule_choice", "input_scaling", "loss_choice", "with_replacement", "fan_in_lr", "label_smoothing")}
    assert details["schedule_choice"].currentData() == preset.schedule
    assert details["input_scaling"].currentData() == preset.input_scaling
    assert details["with_replacement"].isChecked() == preset.sample_with_replacement
    assert panel.config() == preset  # shown and read back without a change

    details["schedule_choice"].setCurrentIndex(details["schedule_choice"].findData("step"))
    details["label_smoothing"].setValue(0.2)
    details["fan_in_lr"].setChecked(not preset.fan_in_lr)
    changed = panel.config()
    assert (changed.schedule, changed.label_smoothing, changed.fan_in_lr) == ("step", 0.2, not preset.fan_in_lr)
    assert changed.model == preset.model and changed.lr == preset.lr


def test_train_pause_resume_stop_hands_the_model_to_the_pad(qtbot, window, panel):
    before = window.checkpoint
    started, events = [], []
    window.bus.trainingStarted.connect(started.append)
    window.bus.trainingEvent.connect(events.append)

    panel.train_button.click()
    qtbot.waitUntil(lambda: panel.curves.loss_count > 0, timeout=RUN_TIMEOUT_MS)
    assert started and started[0].epochs == 200
    for widget in panel._config_widgets + [panel.train_button]:
        assert not widget.isEnabled(), widget.objectName()
    assert panel.pause_button.isEnabled() and panel.stop_button.isEnabled()
    assert "cpu" in panel.status_label.text()

    with qtbot.waitSignal(window.bus.trainingEvent, check_params_cb=is_pause(True), timeout=RUN_TIMEOUT_MS):
        panel.pause_button.click()
    assert panel.pause_button.text() == "Resume"
    paused_at = panel.curves.loss_count
    observe(qtbot, 300)
    assert panel.curves.loss_count == paused_at, "loss points arrived while paused"
    assert panel.progress.format().startswith("Paused")

    with qtbot.waitSignal(window.bus.trainingEvent, check_params_cb=is_pause(False), timeout=RUN_TIMEOUT_MS):
        panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.curves.loss_count > paused_at, timeout=RUN_TIMEOUT_MS)

    with qtbot.waitSignal(window.bus.trainingFinished, timeout=RUN_TIMEOUT_MS) as finished:
        panel.stop_button.click()
    checkpoint = finished.args[0]
    assert checkpoint is not None and checkpoint is panel.checkpoint
    assert panel.last_result.stopped
    # The pad now reads with the freshly trained model.
    assert window.checkpoint is checkpoint and window.checkpoint is not before
    assert window.predictor.checkpoint is checkpoint
    assert checkpoint.arch_args["hidden"] == 32 != before.arch_args["hidden"]
    assert "Test accuracy" in panel.result_label.text()
    assert panel.train_button.isEnabled() and panel.epochs.isEnabled() and not panel.stop_button.isEnabled()
    assert panel.save_button.isEnabled()
    assert not panel.running
    losses = np.concatenate([e.losses for e in events if isinstance(e, StepsEnded)])
    assert len(losses) == panel.curves.loss_count and np.isfinite(losses).all()


def test_full_run_reports_test_accuracy_and_exports(qtbot, window, tiny_config, tmp_path):
    panel = window.dock_widgets["training"]
    panel.set_config(dataclasses.replace(tiny_config, epochs=2))
    with qtbot.waitSignal(window.bus.trainingFinished, timeout=RUN_TIMEOUT_MS) as finished:
        assert panel.start_training()
    assert finished.args[0] is window.checkpoint
    assert not panel.last_result.stopped and panel.last_result.test_accuracy is not None
    assert f"{panel.last_result.test_accuracy * 100:.2f}%" in panel.result_label.text()
    assert panel.progress.value() == panel.progress.maximum()
    assert len(panel.curves.epochs) == 2 and panel.curves.test_accuracy is not None
    assert "loss" in panel.curves.hover_text("loss", 3) and "epoch 2" in panel.curves.hover_text("accuracy", 2)
    curves = panel.curves
    view = curves.loss_plot.getPlotItem().getViewBox()
    curves._on_mouse_moved("loss", view.mapViewToScene(QPointF(3, 0.5)))  # what the SignalProxy delivers
    label = curves._hover["loss"][0]
    assert label.isVisible() and label.toPlainText().startswith("batch 3")

    panel.curves.error_box.setChecked(True)  # error on a log axis
    png = panel.curves.export_png(tmp_path / "curves.png")
    assert png.stat().st_size > 1000
    epochs_csv, batches_csv = panel.curves.export_csv(tmp_path / "metrics.csv")
    assert epochs_csv.read_text().splitlines()[0].startswith("epoch,step,train_loss")
    assert len(epochs_csv.read_text().splitlines()) >= 3
    assert len(batches_csv.read_text().splitlines()) == panel.curves.loss_count + 1


def test_closing_the_window_mid_run_stops_cleanly(qtbot, window, panel):
    before = window.checkpoint
    panel.start_training()
    qtbot.waitUntil(lambda: panel.curves.loss_count > 0, timeout=RUN_TIMEOUT_MS)
    thread = panel.run_thread.thread
    window.close()  # returns once the worker has stopped: within one batch, not the 200 epochs
    assert not thread.isRunning()
    assert panel.run_thread is None
    observe(qtbot, 50)  # whatever was still queued from the worker is dropped
    assert window.checkpoint is before


def test_missing_dataset_offers_download_and_folder(qtbot, window, tiny_digits, tmp_path, monkeypatch):
    panel = window.dock_widgets["training"]
    panel.data_loader = workers.load_training_data
    monkeypatch.setenv("DIGITPAD_DATA", str(tmp_path / "empty"))
    panel.train_button.click()
    qtbot.waitUntil(lambda: not panel.banner.isHidden() and not panel.running, timeout=RUN_TIMEOUT_MS)
    assert "MNIST" in panel.banner_label.text()
    assert not panel.download_button.isHidden() and not panel.use_folder_button.isHidden()

    progress_seen = []

    def offline_ensure(name, root=None, *, download=True, progress=None, force=False):
        progress(0, 100)
        progress(100, 100)
        progress_seen.append(name)
        raise DownloadError("could not reach any mirror (no network in tests)")

    monkeypatch.setattr(workers, "ensure_dataset", offline_ensure)
    panel.download_button.click()
    qtbot.waitUntil(lambda: panel.download_thread is None, timeout=RUN_TIMEOUT_MS)
    assert progress_seen == ["mnist"]
    assert "Download failed" in panel.banner_label.text() and "no network" in panel.banner_label.text()
    assert not panel.banner.isHidden() and panel.train_button.isEnabled()

    roots = []

    def loader(name, root, progress):
        roots.append(root)
        return tiny_digits

    panel.data_loader = loader
    panel.set_config(dataclasses.replace(panel.config(), model_args={"width": 8, "hidden": 32}, epochs=1, batch_size=32, threads=1, device="cpu"))
    with qtbot.waitSignal(window.bus.trainingFinished, timeout=RUN_TIMEOUT_MS):
        root = panel.use_data_folder(tmp_path / "shared" / "mnist")  # the dataset folder itself
    assert root == tmp_path / "shared" and roots == [root]
    assert panel.settings.value("data_dir") == str(root)
    assert panel.banner.isHidden()


def test_the_curves_keep_the_docks_height_during_a_run(qtbot, window, tiny_config):
    """A run's status text once made the dock's scroll area size the panel to its preferred height
    (height-for-width): the curves slid below a 1400x860 window's Training dock."""
    window.resize(1400, 860)
    window.show()
    window.docks["training"].show()
    window.docks["training"].raise_()
    qtbot.waitExposed(window)
    panel = window.dock_widgets["training"]
    area = window.docks["training"].widget()
    panel.set_config(dataclasses.replace(tiny_config, epochs=2))
    with qtbot.waitSignal(window.bus.trainingFinished, timeout=RUN_TIMEOUT_MS):
        assert panel.start_training()
    qtbot.waitUntil(lambda: panel.status_label.text() != "", timeout=RUN_TIMEOUT_MS)
    assert area.viewport().height() >= panel.minimumSizeHint().height()  # the dock has the room
    qtbot.waitUntil(lambda: panel.height() == area.viewport().height(), timeout=5000)
    assert area.verticalScrollBar().maximum() == 0
    assert panel.curves.geometry().bottom() < panel.height()


def test_back_to_the_model_the_pad_read_with_before_the_run(qtbot, tiny_digits, tiny_config, tmp_path):
    # A run stopped after a few batches replaces the pad's model too: one click must bring the old one back.
    from digitpad.core.checkpoints import save_checkpoint

    path = save_checkpoint(Checkpoint.from_model(build_model("digitpad", width=8, hidden=16).eval(),
                                                 {"dataset": "mnist", "normalization": [0.13, 0.31]}), tmp_path / "mine")
    from digitpad.core.checkpoints import load_checkpoint

    before = load_checkpoint(path)
    window = MainWindow(before, path)
    qtbot.addWidget(window)
    panel = window.dock_widgets["training"]
    panel.data_loader = lambda name, root, progress: tiny_digits
    panel.set_config(dataclasses.replace(tiny_config, epochs=1))
    assert not panel.swap_button.isVisibleTo(window)
    with qtbot.waitSignal(window.bus.trainingFinished, timeout=RUN_TIMEOUT_MS) as finished:
        assert panel.start_training()
    trained = finished.args[0]
    assert window.checkpoint is trained
    assert panel.swap_button.isVisibleTo(window) and panel.swap_button.text() == "Back to mine.safetensors"

    panel.swap_button.click()
    assert window.checkpoint is before and window.model_path == path and window.predictor.checkpoint is before
    assert panel.swap_button.text() == "Use the trained model"
    assert "mine.safetensors again" in panel.result_label.text()
    panel.swap_button.click()
    assert window.checkpoint is trained and window.predictor.checkpoint is trained
    assert panel.swap_button.text() == "Back to mine.safetensors" and "pad's model" in panel.result_label.text()

    window.set_checkpoint(load_checkpoint(path), path)  # another model opened: nothing to swap between
    assert not panel.swap_button.isVisibleTo(window)
