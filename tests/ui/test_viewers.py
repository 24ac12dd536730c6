"""The viewers inside the network: kernels, feature maps, mistakes + confusion matrix, saliency."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QCheckBox, QWidget

from digitpad.core.config import TrainConfig
from digitpad.core.download import DataError
from digitpad.core.evaluation import evaluate_checkpoint
from digitpad.core.inference import Predictor
from digitpad.core.events import Evaluated, WeightsSnapshot
from digitpad.core.models import conv_layers, first_layer_kernels
from digitpad.core.trainer import train_to_end
from digitpad.ui.main_window import MainWindow
from tests.fixtures import synthetic_digits

TIMEOUT_MS = 20_000
SEVEN = [np.array([[90.0, 70.0], [200.0, 70.0], [130.0, 220.0]])]  # vector strokes in pad pixels


@pytest.fixture(scope="module")
def trained():
    """A tiny model trained on synthetic digits: (config, checkpoint, events, data). Gets some wrong."""
    data = synthetic_digits(n_train=240, n_test=60, seed=3)
    config = TrainConfig(model_args={"width": 8, "hidden": 32}, epochs=2, batch_size=32, threads=1, device="cpu")
    trainer, events = train_to_end(config, data)
    return config, trainer.checkpoint, events, data


@pytest.fixture
def window(qtbot, trained):
    _config, checkpoint, _events, _data = trained
    window = MainWindow(checkpoint)
    qtbot.addWidget(window)
    return window


def _find(window, name: str, kind=QWidget):
    widget = window.findChild(kind, name)
    assert widget is not None, f"no {kind.__name__} named {name!r}"
    return widget


def _show_dock(qtbot, window, key: str) -> None:
    if not window.isVisible():
        window.show()
        qtbot.waitExposed(window)
    window.docks[key].show()
    window.docks[key].raise_()
    qtbot.waitUntil(lambda: window.dock_widgets[key].isVisible(), timeout=TIMEOUT_MS)


def _item_pos(qtbot, graphics_view, item, x: float, y: float) -> QPoint:
    """The viewport position of item-local point (x, y), once the view's layout and range settled
    (pyqtgraph applies a new range on the next paint)."""
    last = [None]

    def settled() -> bool:
        pos = graphics_view.mapFromScene(item.mapToScene(QPointF(x, y)))
        same, last[0] = pos == last[0], pos
        return same

    qtbot.waitUntil(settled, timeout=TIMEOUT_MS)
    return last[0]


def _click_item(qtbot, graphics_view, item, x: float, y: float) -> None:
    """Left-click item-local point (x, y) of a pyqtgraph item shown in ``graphics_view``."""
    pos = _item_pos(qtbot, graphics_view, item, x, y)
    qtbot.mouseMove(graphics_view.viewport(), pos)
    qtbot.mouseClick(graphics_view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def _test_loader(data):
    return lambda name: (data.test_images, data.test_labels)


# --- kernels ------------------------------------------------------------------------------------


def test_kernel_grid_has_a_tile_per_first_layer_kernel_and_changes_as_training_steps(qtbot, window, trained):
    config, checkpoint, events, _data = trained
    viewer = _find(window, "kernel_viewer")
    expected = first_layer_kernels(checkpoint.build_model()).numpy()
    assert viewer.tile_count == len(expected) == 8
    np.testing.assert_allclose(viewer.shown_tiles, expected)
    assert viewer.source == "loaded model"

    snapshots = [e for e in events if isinstance(e, WeightsSnapshot)]
    window.bus.trainingStarted.emit(config)
    window.bus.trainingEvent.emit(snapshots[0])  # before the first step
    qtbot.waitUntil(lambda: viewer.source == "epoch 0, step 0", timeout=TIMEOUT_MS)
    before = viewer.shown_tiles.copy()
    assert viewer.tile_count == 8
    window.bus.trainingEvent.emit(snapshots[1])  # after some training steps
    qtbot.waitUntil(lambda: not np.array_equal(viewer.shown_tiles, before), timeout=TIMEOUT_MS)
    np.testing.assert_allclose(viewer.shown_tiles, snapshots[1].kernels)
    for snapshot in snapshots[2:]:
        window.bus.trainingEvent.emit(snapshot)
    qtbot.waitUntil(lambda: np.array_equal(viewer.shown_tiles, snapshots[-1].kernels), timeout=TIMEOUT_MS)

    # After the run the scrubber walks back through the snapshots to the loaded model at its end.
    window.bus.trainingFinished.emit(checkpoint)
    assert viewer.scrubber.maximum() == len(snapshots)
    assert viewer.source == "loaded model"
    viewer.scrubber.setValue(0)
    np.testing.assert_allclose(viewer.shown_tiles, snapshots[0].kernels)
    assert "1 of" in viewer.snapshot_label.text()
    # One shared, zero-centred scale, shown by the colour bar.
    low, high = viewer.colorbar.levels()
    assert low == -high == pytest.approx(-np.abs(snapshots[0].kernels).max())


def test_a_snapshot_rereads_the_pads_drawing_with_its_own_weights(qtbot, window, trained):
    config, checkpoint, events, _data = trained
    viewer = _find(window, "kernel_viewer")
    snapshots = [e for e in events if isinstance(e, WeightsSnapshot)]
    assert all(s.checkpoint is not None for s in snapshots)
    window.bus.trainingStarted.emit(config)
    for snapshot in snapshots:
        window.bus.trainingEvent.emit(snapshot)
    window.bus.trainingFinished.emit(checkpoint)
    window.canvas.set_strokes(SEVEN)
    qtbot.waitUntil(lambda: window.last_prediction is not None and not window.last_prediction.empty, timeout=TIMEOUT_MS)
    prepared = window.last_prediction.prepared
    for index in (0, len(snapshots) - 1):
        viewer.scrubber.setValue(index)
        expected = Predictor(snapshots[index].checkpoint).predict_prepared(prepared)
        np.testing.assert_allclose(viewer.snapshot_then.probabilities, expected.probabilities, atol=1e-6)
        assert f"step {snapshots[index].step} the network read your drawing as {expected.digit}" in viewer.snapshot_reading.text()
    untrained = Predictor(snapshots[0].checkpoint).predict_prepared(prepared).probabilities
    assert not np.allclose(untrained, window.last_prediction.probabilities)  # it did learn in between
    viewer.scrubber.setValue(viewer.scrubber.maximum())  # the loaded model: nothing to re-read
    assert viewer.snapshot_reading.text() == ""


def test_deeper_layers_show_every_kernel_or_a_summary_with_hover_info(qtbot, window):
    viewer = _find(window, "kernel_viewer")
    _show_dock(qtbot, window, "kernels")
    convs = conv_layers(window.predictor.model)
    out_c, in_c = convs[1][1].weight.shape[:2]
    viewer.layer_combo.setCurrentIndex(1)
    assert viewer.tile_count == out_c * in_c
    assert not viewer.scrubber.isEnabled()
    x, y = viewer.image.layout.tile_origin(in_c + 2)  # second row: output 1, input 2
    pos = _item_pos(qtbot, viewer.graphics, viewer.image, x + 1.5, y + 1.5)
    qtbot.mouseMove(viewer.graphics.viewport(), pos)
    qtbot.waitUntil(lambda: "output 1 ← input 2" in viewer.info.text(), timeout=TIMEOUT_MS)
    tile = viewer.shown_tiles[in_c + 2]
    assert f"{tile.min():+.3f}" in viewer.info.text()
    viewer.view_combo.setCurrentIndex(viewer.view_combo.findData("summary"))
    assert viewer.tile_count == out_c


# --- feature maps ---------------------------------------------------------------------------------


def test_feature_maps_appear_for_a_drawn_digit_with_one_map_per_channel(qtbot, window):
    maps = _find(window, "feature_maps")
    _show_dock(qtbot, window, "feature_maps")
    assert maps.counts_per_layer == {}  # empty pad
    canvas = window.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(90, 70))
    for x, y in [(120, 70), (160, 70), (200, 70), (180, 120), (150, 170), (130, 220)]:
        qtbot.mouseMove(canvas, QPoint(x, y))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(130, 220))
    assert not canvas.is_empty()

    expected = {f"conv{i + 1}": conv.out_channels for i, (_name, conv) in enumerate(conv_layers(window.predictor.model))}
    qtbot.waitUntil(lambda: maps.counts_per_layer == expected, timeout=TIMEOUT_MS)
    prepared = window.last_prediction.prepared.image
    np.testing.assert_allclose(maps.activations["conv1"], window.predictor.activations(prepared)["conv1"])

    # Click map 3 of conv2: it is shown large.
    item = maps._items["conv2"]
    x, y = item.layout.tile_origin(3)
    _click_item(qtbot, maps.graphics, item, x + 0.5, y + 0.5)
    qtbot.waitUntil(lambda: maps.selected == ("conv2", 3), timeout=TIMEOUT_MS)
    assert maps.detail.isVisible()
    np.testing.assert_allclose(maps.detail_image.image, maps.activations["conv2"][3])

    canvas.clear()
    qtbot.waitUntil(lambda: maps.counts_per_layer == {}, timeout=TIMEOUT_MS)


def test_feature_maps_wait_while_hidden(qtbot, window):
    maps = _find(window, "feature_maps")
    window.docks["feature_maps"].hide()
    window.canvas.set_strokes(SEVEN)
    window.predict_now()
    assert maps.counts_per_layer == {}  # no forward pass for a hidden dock
    _show_dock(qtbot, window, "feature_maps")
    qtbot.waitUntil(lambda: len(maps.counts_per_layer) == 3, timeout=TIMEOUT_MS)


# --- mistakes and the confusion matrix ----------------------------------------------------------


def _computed_mistakes(qtbot, window, data):
    mistakes = _find(window, "mistakes")
    mistakes.data_loader = _test_loader(data)
    assert mistakes.evaluations_started == 0  # hidden at start: nothing computed
    _show_dock(qtbot, window, "mistakes")
    qtbot.waitUntil(lambda: mistakes.mistakes is not None and not mistakes.is_busy(), timeout=TIMEOUT_MS)
    assert mistakes.evaluations_started == 1
    return mistakes


def test_gallery_lists_exactly_the_examples_the_model_gets_wrong(qtbot, window, trained):
    _config, checkpoint, events, data = trained
    mistakes = _computed_mistakes(qtbot, window, data)
    expected = evaluate_checkpoint(checkpoint, data.test_images, data.test_labels)
    assert 0 < expected.errors < len(data.test_labels)
    assert sorted(mistakes.shown_indices.tolist()) == expected.wrong_indices.tolist()
    run_test_eval = next(e for e in events if isinstance(e, Evaluated) and e.split == "test")
    assert sorted(mistakes.shown_indices.tolist()) == run_test_eval.wrong_indices.tolist()
    assert mistakes.model.rowCount() == expected.errors
    np.testing.assert_array_equal(_find(window, "confusion_matrix").matrix, expected.confusion)
    # Sorted by confidence, most confident first; then the other way round.
    confidence = expected.probabilities[mistakes.shown_indices].max(1)
    assert np.all(np.diff(confidence) <= 1e-7)
    mistakes.sort_combo.setCurrentIndex(mistakes.sort_combo.findData("unsure"))
    confidence = expected.probabilities[mistakes.shown_indices].max(1)
    assert np.all(np.diff(confidence) >= -1e-7)
    # Captions: true -> predicted (confidence).
    first = mistakes.shown_indices[0]
    caption = mistakes.model.index(0).data()
    assert caption.startswith(f"{data.test_labels[first]}→{expected.predicted[first]} (")
    widest = mistakes.gallery.fontMetrics().horizontalAdvance("8→8 (100%)")
    assert mistakes.gallery.gridSize().width() > widest  # never elided to "8→8 (10…"
    assert mistakes.model.index(0).data(Qt.ItemDataRole.SizeHintRole).width() > widest
    qtbot.waitUntil(lambda: mistakes.gallery.visualRect(mistakes.model.index(0)).width() > widest, timeout=5_000)
    # Filters by true and predicted digit.
    digit = int(data.test_labels[first])
    mistakes.true_combo.setCurrentIndex(digit + 1)
    assert len(mistakes.shown_indices) and np.all(data.test_labels[mistakes.shown_indices] == digit)
    assert len(mistakes.shown_indices) == expected.confusion[digit].sum() - expected.confusion[digit, digit]


def test_clicking_a_confusion_cell_filters_the_gallery_to_it(qtbot, window, trained):
    _config, checkpoint, _events, data = trained
    mistakes = _computed_mistakes(qtbot, window, data)
    matrix = _find(window, "confusion_matrix")
    off = matrix.matrix * (1 - np.eye(10, dtype=np.int64))
    true, predicted = np.unravel_index(off.argmax(), off.shape)
    assert off[true, predicted] > 0
    _click_item(qtbot, matrix, matrix.image, predicted + 0.5, true + 0.5)
    qtbot.waitUntil(lambda: len(mistakes.shown_indices) == off[true, predicted], timeout=TIMEOUT_MS)
    expected = evaluate_checkpoint(checkpoint, data.test_images, data.test_labels)
    shown = mistakes.shown_indices
    assert np.all(data.test_labels[shown] == true) and np.all(expected.predicted[shown] == predicted)
    assert matrix.selected == (true, predicted)
    assert mistakes.true_combo.currentData() == true and mistakes.pred_combo.currentData() == predicted
    # A diagonal cell lists every mistake on that digit.
    _click_item(qtbot, matrix, matrix.image, true + 0.5, true + 0.5)
    qtbot.waitUntil(lambda: mistakes.pred_combo.currentData() is None, timeout=TIMEOUT_MS)
    assert len(mistakes.shown_indices) == off[true].sum()


def test_clicking_an_example_puts_it_on_the_pad(qtbot, window, trained):
    _config, _checkpoint, _events, data = trained
    mistakes = _computed_mistakes(qtbot, window, data)
    first = int(mistakes.shown_indices[0])
    rect = mistakes.gallery.visualRect(mistakes.model.index(0))
    with qtbot.waitSignal(window.bus.exampleRequested, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(mistakes.gallery.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    image, label = blocker.args
    np.testing.assert_allclose(image, data.test_images[first] / 255.0, atol=1e-6)
    assert label == data.test_labels[first]
    qtbot.waitUntil(lambda: window.last_prediction is not None and not window.last_prediction.empty, timeout=TIMEOUT_MS)
    assert not window.canvas.is_empty()
    assert window.prediction_label.text() == str(window.last_prediction.digit)
    maps = _find(window, "feature_maps")
    _show_dock(qtbot, window, "feature_maps")
    qtbot.waitUntil(lambda: len(maps.counts_per_layer) == 3, timeout=TIMEOUT_MS)


def test_mistakes_after_training_reuse_the_run_evaluation(qtbot, trained):
    config, checkpoint, events, data = trained
    window = MainWindow(None)
    qtbot.addWidget(window)
    mistakes = _find(window, "mistakes")
    mistakes.data_loader = _test_loader(data)
    window.bus.trainingStarted.emit(config)
    test_eval = next(e for e in events if isinstance(e, Evaluated) and e.split == "test")
    for event in events:
        window.bus.trainingEvent.emit(event)
    window.bus.trainingFinished.emit(checkpoint)
    window.set_checkpoint(checkpoint)  # the trained model becomes the pad's model
    qtbot.waitUntil(lambda: mistakes.mistakes is not None and not mistakes.is_busy(), timeout=TIMEOUT_MS)
    assert mistakes.evaluations_started == 0
    assert mistakes.mistakes.source == "training run"
    assert sorted(mistakes.shown_indices.tolist()) == test_eval.wrong_indices.tolist()
    assert "from the training run" in mistakes.status.text()


def test_a_training_run_updates_kernels_live_and_refreshes_mistakes_without_recomputing(qtbot, window, trained):
    config, checkpoint, _events, data = trained
    panel = window.dock_widgets.get("training")
    if panel is None:
        pytest.skip("no training panel in this build")
    panel.data_loader = lambda name, root, progress: data
    panel.set_config(dataclasses.replace(config, seed=1))
    viewer = _find(window, "kernel_viewer")
    mistakes = _find(window, "mistakes")
    mistakes.data_loader = _test_loader(data)
    before = viewer.shown_tiles.copy()
    with qtbot.waitSignal(window.bus.trainingFinished, timeout=60_000):
        assert panel.start_training()
    assert window.checkpoint is not checkpoint  # the pad has the trained model
    assert len(viewer.snapshots) >= 2 and viewer.source == "loaded model"
    assert not np.array_equal(viewer.shown_tiles, before)
    np.testing.assert_allclose(viewer.shown_tiles, first_layer_kernels(window.checkpoint.build_model()).numpy())
    qtbot.waitUntil(lambda: mistakes.mistakes is not None and not mistakes.is_busy(), timeout=TIMEOUT_MS)
    assert mistakes.evaluations_started == 0 and mistakes.mistakes.source == "training run"
    expected = evaluate_checkpoint(window.checkpoint, data.test_images, data.test_labels)
    assert sorted(mistakes.shown_indices.tolist()) == expected.wrong_indices.tolist()


def test_missing_test_data_is_a_message_not_a_crash(qtbot, window):
    mistakes = _find(window, "mistakes")

    def missing(name):
        raise DataError(f"{name.upper()} is not in /nowhere: run `digitpad download {name}` or set DIGITPAD_DATA")

    mistakes.data_loader = missing
    qtbot.mouseClick(mistakes.compute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not mistakes.is_busy(), timeout=TIMEOUT_MS)
    assert "digitpad download mnist" in mistakes.status.text()
    assert mistakes.mistakes is None and len(mistakes.shown_indices) == 0


# --- saliency -----------------------------------------------------------------------------------


def test_saliency_toggle_draws_an_overlay_over_the_digit(qtbot, window):
    toggle = _find(window, "saliency_toggle", QCheckBox)
    action = next(a for a in window.view_menu.actions() if a.objectName() == "action_saliency")
    maps = _find(window, "feature_maps")
    window.canvas.set_strokes(SEVEN)
    window.predict_now()
    assert maps.saliency.overlay is None and window.canvas._overlay is None  # off by default
    toggle.setChecked(True)
    assert action.isChecked()
    overlay = maps.saliency.overlay
    assert overlay is not None and overlay.shape == (window.canvas.height(), window.canvas.width(), 4)
    assert window.canvas._overlay is not None
    # The tint lies over the drawing: its alpha-weighted centre is inside the strokes' box.
    alpha = overlay[..., 3].astype(float)
    assert alpha.sum() > 0
    rows, cols = np.indices(alpha.shape)
    cy, cx = (rows * alpha).sum() / alpha.sum(), (cols * alpha).sum() / alpha.sum()
    assert 70 - 10 <= cy <= 220 + 10 and 90 - 10 <= cx <= 200 + 10

    maps.saliency.set_method("grad_cam")
    assert maps.saliency.saliency.min() >= 0
    window.canvas.clear()
    qtbot.waitUntil(lambda: maps.saliency.overlay is None, timeout=TIMEOUT_MS)
    action.setChecked(False)  # the View menu action and the checkbox stay in step
    assert not toggle.isChecked()
    assert window.canvas._overlay is None


def test_warp_to_pad_puts_an_input_pixel_where_the_mapping_says():
    from digitpad.core.saliency import PadMapping
    from digitpad.ui.widgets.saliency import warp_to_pad

    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[10, 5] = (255, 0, 0, 255)
    mapping = PadMapping(scale=10.0, offset_y=-20.0, offset_x=30.0)
    warped = warp_to_pad(rgba, mapping, (300, 300))
    alpha = warped[..., 3].astype(float)
    rows, cols = np.indices(alpha.shape)
    centre = np.array([(rows * alpha).sum(), (cols * alpha).sum()]) / alpha.sum() + 0.5
    np.testing.assert_allclose(centre, mapping.to_pad(10.5, 5.5), atol=1.0)


def test_viewer_controls_are_named_for_scripts_and_screen_readers(qtbot, window):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QComboBox, QScrollBar

    for key in ("kernels", "feature_maps", "mistakes"):
        _show_dock(qtbot, window, key)
    for name in ("kernel_viewer", "feature_maps", "mistakes", "confusion_matrix", "saliency_toggle"):
        _find(window, name)
    roots = [_find(window, name) for name in ("kernel_viewer", "feature_maps", "mistakes")]
    controls = [w for root in roots for w in root.findChildren(QWidget) if isinstance(w, (QAbstractButton, QAbstractSlider, QComboBox))]
    unnamed = [
        f"{type(w).__name__}:{w.objectName()}"
        for w in controls
        if w.isVisibleTo(window) and not w.accessibleName() and not isinstance(w, QScrollBar)  # views' own scroll bars
    ]
    assert controls and not unnamed, unnamed


def test_letter_mistakes_can_hide_the_ones_that_only_read_the_other_case(qtbot):
    from digitpad.core.alphabets import LETTERS
    from digitpad.core.metrics import confusion_matrix
    from digitpad.core.mistakes import MistakeSet
    from digitpad.ui.widgets.mistakes import MistakesView

    labels = np.array([LETTERS.index(c) for c in "aoOc"])
    read_as = np.array([LETTERS.index(c) for c in "aOoe"])  # two case-only mistakes, one real one
    probabilities = np.full((4, len(LETTERS)), 0.001, np.float32)
    probabilities[np.arange(4), read_as] = 0.9
    mistakes = MistakeSet("pen-letters", np.zeros((4, 28, 28), np.uint8), labels, confusion_matrix(labels, read_as, len(LETTERS)),
                          np.array([1, 2, 3]), probabilities[1:], "computed", None, LETTERS)
    view = MistakesView()
    qtbot.addWidget(view)
    view._on_evaluated(mistakes)
    box = view.findChild(QCheckBox, "mistakes_ignore_case")
    assert not box.isHidden() and box.isChecked()  # on by default: the pad reads such letters case-merged
    assert view.shown_indices.tolist() == [3]
    assert "3 of 4" in view.status.text() and "25.00% exact case; ignoring case 1 misread, 75.00% correct" in view.status.text()
    box.setChecked(False)
    assert sorted(view.shown_indices.tolist()) == [1, 2, 3]
    assert view.settings.value("mistakes/ignore_case") in (False, "false")
    view._on_evaluated(MistakeSet("mnist", np.zeros((2, 28, 28), np.uint8), np.array([1, 2]), confusion_matrix(np.array([1, 2]), np.array([1, 3]), 10),
                                  np.array([1]), np.eye(10, dtype=np.float32)[[3]], "computed"))
    assert box.isHidden() and view.shown_indices.tolist() == [1]  # digits have no case
