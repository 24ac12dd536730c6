"""The kernel viewer: convolution weights tiled into one ImageItem, live while training, with a scrubber.

The first layer's kernels come from the loaded model and, during a run, from the trainer's
``WeightsSnapshot`` events (several per epoch); the scrubber walks back through those snapshots to
watch the kernels form. Deeper layers (loaded model only) show every (output, input) kernel pair, or
one summary tile per output channel. One diverging colour map, white at zero, one scale for all
tiles in view, shown by the colour bar.

A joint digits-and-letters model has one first layer for both networks: the viewer says so under
the kernels (``kernel_shared``), and its deeper layers are those of the network the pad reads with
(the letters' in Letters mode).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from ...core.events import WeightsSnapshot
from ...core.inference import Predictor
from ...core.models import conv_layers, is_joint, shared_first_layer
from .image_grid import TileImageItem, tile_images

REDRAW_INTERVAL_MS = 100  # live kernels during a run: at most ten redraws a second
MAX_SNAPSHOT_MODELS = 32  # whole models kept for re-reading the pad (~2 MB each for the default net)
DIVERGING_MAP = "CET-D1"  # blue - white - red: sign reads at a glance, zero is white
VIEW_KERNELS = "kernels"  # every (output, input) kernel: rows = output channels, columns = inputs
VIEW_SUMMARY = "summary"  # one tile per output channel: its kernels averaged over the input channels


@dataclass(frozen=True)
class KernelLayer:
    name: str  # conv1, conv2, ... in forward order
    module: str  # the module's name in the model (e.g. "4")
    weights: np.ndarray  # (out_channels, in_channels, kh, kw) float32


SHARED_NOTE = ("conv1 is the shared first layer of the digits and letters networks: both read the drawing "
               "through these same kernels. Deeper layers: the {branch} network's.")


def model_kernel_layers(model, branch: str | None = None) -> list[KernelLayer]:
    """Every convolution of ``model`` with a CPU copy of its weights; of a joint model, those of the
    shared first layer and of the ``branch`` network ("digits" by default)."""
    convs = conv_layers(model)
    if is_joint(model):
        keep = ("shared.", f"{branch or 'digits'}.")
        convs = [(name, conv) for name, conv in convs if name.startswith(keep)]
    return [
        KernelLayer(f"conv{i + 1}", name, conv.weight.detach().to("cpu").float().numpy().copy())
        for i, (name, conv) in enumerate(convs)
    ]


def kernel_tiles(weights: np.ndarray, view: str) -> tuple[np.ndarray, int | None, list[tuple[int, int | None]]]:
    """Tiles (n, kh, kw) of a (out, in, kh, kw) weight tensor, the grid's column count (None: square)
    and, per tile, (output channel, input channel or None for a summary tile)."""
    out_channels, in_channels = weights.shape[:2]
    if in_channels == 1:
        return weights[:, 0], None, [(o, 0) for o in range(out_channels)]
    if view == VIEW_SUMMARY:
        return weights.mean(axis=1), None, [(o, None) for o in range(out_channels)]
    tiles = weights.reshape(out_channels * in_channels, *weights.shape[2:])
    return tiles, in_channels, [(o, i) for o in range(out_channels) for i in range(in_channels)]


class KernelViewer(QWidget):
    """The Kernels dock: layer and view choice, the tiled kernels with a colour bar, the snapshot scrubber.

    Inspectable state: ``tile_count`` (tiles shown), ``shown_tiles`` ((n, kh, kw) weights shown),
    ``source`` (what they are: "loaded model" or a snapshot's description), ``snapshots``.
    """

    def __init__(self, context=None, parent=None):
        super().__init__(parent)
        self.setObjectName("kernel_viewer")
        self.setAccessibleName("Kernel viewer")
        self.model = context.model if context is not None else None  # the pad's LiveModel
        self.layers: list[KernelLayer] = []
        self.joint = False  # the model is a joint digits-and-letters one
        self.snapshots: list[WeightsSnapshot] = []
        self.training = False
        self.tile_count = 0
        self.shown_tiles = np.zeros((0, 0, 0), np.float32)
        self.source = ""
        self._tile_ids: list[tuple[int, int | None]] = []
        self._layer_name = "conv1"
        self._inputs = 1
        self._snapshot_readers: dict[int, Predictor] = {}  # snapshot index -> its reader, built on demand
        self.snapshot_then = None  # the last re-reading (a Prediction), for tests
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self._redraw_timer.timeout.connect(self.redraw)
        self._build()
        if context is not None:
            bus = context.bus
            bus.modelChanged.connect(self._on_model_changed)
            bus.trainingStarted.connect(self._on_training_started)
            bus.trainingEvent.connect(self._on_training_event)
            bus.trainingFinished.connect(self._on_training_finished)
            bus.predictionChanged.connect(self._on_prediction)
            bus.alphabetChanged.connect(self._on_alphabet_changed)
            if context.model.checkpoint is not None:
                self._on_model_changed(context.model.checkpoint)

    def _build(self) -> None:
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("kernel_layer")
        self.layer_combo.setAccessibleName("Layer")
        self.layer_combo.setToolTip("Which convolution's kernels to show")
        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self.view_combo = QComboBox()
        self.view_combo.setObjectName("kernel_view")
        self.view_combo.setAccessibleName("Kernel view")
        self.view_combo.addItem("Every kernel", VIEW_KERNELS)
        self.view_combo.addItem("Mean over inputs", VIEW_SUMMARY)
        self.view_combo.setToolTip("Every kernel: a row for each output channel, a column for each input channel "
                                   "(deeper layers have one kernel per input channel for each output channel). "
                                   "Mean over inputs: one averaged kernel per output channel")
        self.view_combo.currentIndexChanged.connect(lambda _i: self.redraw())
        for combo in (self.layer_combo, self.view_combo):  # long item texts must not widen the dock
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer"))
        top.addWidget(self.layer_combo, 3)  # the layer's name is the longer text
        top.addWidget(self.view_combo, 2)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("kernel_grid")
        self.graphics.setBackground(None)
        self.graphics.setMinimumSize(200, 160)
        self.view = self.graphics.addViewBox(row=0, col=0, lockAspect=True, invertY=True, enableMenu=False)
        self.image = TileImageItem()
        self.view.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(-1, 1), colorMap=pg.colormap.get(DIVERGING_MAP), interactive=False, label="weight")
        self.colorbar.setImageItem(self.image)
        self.graphics.addItem(self.colorbar, row=0, col=1)
        self.image.tileHovered.connect(self._on_tile_hovered)

        self.shared_note = QLabel("")
        self.shared_note.setObjectName("kernel_shared")
        self.shared_note.setAccessibleName("Shared first layer")
        self.shared_note.setWordWrap(True)
        self.shared_note.setStyleSheet("font-weight: bold;")
        self.shared_note.hide()
        self.info = QLabel("")
        self.info.setObjectName("kernel_info")
        self.info.setAccessibleName("Kernel under the mouse")
        self.info.setWordWrap(True)
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setObjectName("kernel_scrubber")
        self.scrubber.setAccessibleName("Training snapshot")
        self.scrubber.setToolTip("Scrub through the first-layer kernels captured during the last training run")
        self.scrubber.setRange(0, 0)
        self.scrubber.setEnabled(False)
        self.scrubber.valueChanged.connect(self._on_scrubbed)
        self.snapshot_label = QLabel("")
        self.snapshot_label.setObjectName("kernel_snapshot")
        self.snapshot_reading = QLabel("")
        self.snapshot_reading.setObjectName("kernel_snapshot_reading")
        self.snapshot_reading.setAccessibleName("The pad's drawing read by this snapshot")
        self.snapshot_reading.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.scrubber, 1)
        bottom.addWidget(self.snapshot_label)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.shared_note)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.info)
        layout.addLayout(bottom)
        layout.addWidget(self.snapshot_reading)

    # --- positions on the scrubber ----------------------------------------------------------
    # The scrubber's positions are the run's snapshots, then (when no run is going) the loaded model.
    # Its last position is always "now": the newest snapshot while training, else the loaded model.

    def _position_count(self) -> int:
        return len(self.snapshots) + (0 if self.training or not self.layers else 1)

    def _at_end(self) -> bool:
        return self.scrubber.value() >= self.scrubber.maximum()

    def _update_scrubber(self, follow: bool) -> None:
        count = self._position_count()
        self.scrubber.blockSignals(True)
        self.scrubber.setRange(0, max(0, count - 1))
        if follow:
            self.scrubber.setValue(self.scrubber.maximum())
        self.scrubber.blockSignals(False)
        self.scrubber.setEnabled(count > 1 and self.layer_combo.currentIndex() <= 0)

    def _snapshot_index(self) -> int | None:
        """The snapshot the scrubber points at, or None for the loaded model."""
        value = self.scrubber.value()
        return value if value < len(self.snapshots) else None

    # --- bus --------------------------------------------------------------------------------

    def _on_alphabet_changed(self, _alphabet: str) -> None:
        checkpoint = getattr(self.model, "checkpoint", None)
        if self.joint and checkpoint is not None:
            self._on_model_changed(checkpoint)  # a joint model's deeper layers are the other network's now

    def _on_model_changed(self, checkpoint) -> None:
        predictor = getattr(self.model, "predictor", None)
        model = predictor.model if predictor is not None and predictor.checkpoint is checkpoint else checkpoint.build_model()
        branch = predictor.branch if predictor is not None else None
        self.layers = model_kernel_layers(model, branch)
        self.joint = is_joint(model)
        shared = self.joint and shared_first_layer(model) is not None
        self.shared_note.setText(SHARED_NOTE.format(branch=branch or "digits") if shared else "")
        self.shared_note.setVisible(shared)
        if self.snapshots and self.layers and self.snapshots[-1].kernels.shape != self.layers[0].weights[:, 0].shape:
            self.snapshots = []  # another architecture: the last run's snapshots no longer fit
        current = self.layer_combo.currentIndex()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for i, layer in enumerate(self.layers):
            out_c, in_c, kh, kw = layer.weights.shape
            first = (" (shared first layer)" if shared else " (first layer)") if i == 0 else ""
            self.layer_combo.addItem(f"{layer.name}{first}: {out_c}×{in_c} kernels {kh}×{kw}", i)
        self.layer_combo.setCurrentIndex(current if 0 <= current < len(self.layers) else 0)
        self.layer_combo.blockSignals(False)
        self._update_scrubber(follow=True)
        self.redraw()

    def _on_training_started(self, _config) -> None:
        self.training = True
        self.snapshots = []
        self._snapshot_readers.clear()
        self._update_scrubber(follow=True)

    def _on_training_event(self, event) -> None:
        if not isinstance(event, WeightsSnapshot):
            return
        if not self.training:  # a run whose start we did not see (e.g. the dock was created late)
            self.training = True
        following = self._at_end() or not self.scrubber.isEnabled()
        self.snapshots.append(event)
        self._thin_snapshot_models()
        self._update_scrubber(follow=following)
        if following and not self._redraw_timer.isActive():
            self._redraw_timer.start()  # coalesce bursts of snapshots into one redraw

    def _on_training_finished(self, _checkpoint) -> None:
        following = self._at_end()
        self.training = False
        self._update_scrubber(follow=following)
        self.redraw()

    # --- user -------------------------------------------------------------------------------

    def _on_layer_changed(self, _index: int) -> None:
        deeper = self.layer_combo.currentIndex() > 0
        self.view_combo.setEnabled(deeper)
        self._update_scrubber(follow=False)
        self.redraw()

    def _on_scrubbed(self, _value: int) -> None:
        self.redraw()
        self.reread()

    def _on_prediction(self, _prediction) -> None:
        if self.snapshot_reading.text():
            self.reread()

    # --- the pad's drawing, read by a snapshot ----------------------------------------------

    def _thin_snapshot_models(self) -> None:
        """Keep whole models for at most MAX_SNAPSHOT_MODELS snapshots (a few MB each): beyond
        that, every other older one keeps only its kernels."""
        with_model = [i for i, s in enumerate(self.snapshots) if s.checkpoint is not None]
        if len(with_model) > MAX_SNAPSHOT_MODELS:
            for i in with_model[1:-1:2]:
                self.snapshots[i] = replace(self.snapshots[i], checkpoint=None)
            self._snapshot_readers.clear()

    def reread(self) -> None:
        """Read the pad's drawing with the weights of the snapshot under the scrubber."""
        index = self._snapshot_index()
        prediction = getattr(self.model, "last_prediction", None)
        if index is None or self.training and self._at_end():
            self.snapshot_reading.setText("")
            return
        snapshot = self.snapshots[index]
        if snapshot.checkpoint is None:
            self.snapshot_reading.setText("This snapshot kept only its kernels (older snapshots are thinned out).")
            return
        if prediction is None or prediction.prepared is None or prediction.prepared.image is None:
            self.snapshot_reading.setText("Draw a digit to see how the network read it at this snapshot.")
            return
        reader = self._snapshot_readers.get(index)
        if reader is None:
            reader = self._snapshot_readers[index] = Predictor(snapshot.checkpoint)
        then = reader.predict_prepared(prediction.prepared)
        self.snapshot_reading.setText(
            f"At epoch {snapshot.epoch}, step {snapshot.step} the network read your drawing as {then.shown} "
            f"({then.score * 100:.0f}%); now: {prediction.shown} ({prediction.score * 100:.0f}%)."
        )
        self.snapshot_then = then

    def _on_tile_hovered(self, index: int) -> None:
        if index < 0 or index >= len(self._tile_ids):
            self.info.setText("")
            self.image.setToolTip("")
            return
        out_c, in_c = self._tile_ids[index]
        tile = self.shown_tiles[index]
        if in_c is None:
            what = f"{self._layer_name} output {out_c}: its kernels averaged over the inputs"
        elif self._inputs == 1:
            what = f"{self._layer_name} kernel {out_c}"
        else:
            what = f"{self._layer_name} kernel: output {out_c} ← input {in_c}"
        text = f"{what}; weights {tile.min():+.3f} … {tile.max():+.3f}"
        self.info.setText(text)
        self.image.setToolTip(text)

    # --- drawing ----------------------------------------------------------------------------

    def redraw(self) -> None:
        """Show what the layer choice and the scrubber select (also the redraw timer's slot)."""
        self._redraw_timer.stop()
        layer_index = max(0, self.layer_combo.currentIndex())
        snapshot = self._snapshot_index() if layer_index == 0 else None
        if snapshot is None and self.training and self.snapshots and layer_index == 0:
            snapshot = len(self.snapshots) - 1
        if snapshot is not None:
            event = self.snapshots[snapshot]
            weights = event.kernels[:, None]
            self.source = f"epoch {event.epoch}, step {event.step}"
            self.snapshot_label.setText(f"{self.source} ({snapshot + 1} of {len(self.snapshots)})")
        elif self.layers:
            weights = self.layers[layer_index].weights
            self.source = "loaded model"
            self.snapshot_label.setText("loaded model" if layer_index == 0 or not self.snapshots else "loaded model (snapshots: first layer only)")
        else:
            weights = np.zeros((0, 1, 1, 1), np.float32)
            self.source = ""
            self.snapshot_label.setText("no model")
        tiles, cols, ids = kernel_tiles(np.asarray(weights, np.float32), self.view_combo.currentData() or VIEW_KERNELS)
        mosaic, layout = tile_images(tiles, cols)
        scale = float(np.abs(tiles).max()) if tiles.size else 1.0
        scale = scale if scale > 0 else 1.0
        self.image.set_mosaic(mosaic, layout, (-scale, scale))
        self.colorbar.setLevels((-scale, scale))
        self.shown_tiles, self._tile_ids, self.tile_count = tiles, ids, len(tiles)
        self._layer_name = self.layers[layer_index].name if self.layers else "conv1"
        self._inputs = weights.shape[1]
        if layout.n:
            height, width = layout.shape
            self.view.setRange(xRange=(0, width), yRange=(0, height), padding=0.02)


def create_dock_widget(context) -> KernelViewer:
    return KernelViewer(context)
