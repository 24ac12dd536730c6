"""Feature maps: each conv layer's activations for the digit on the pad, one tiled ImageItem per layer.

Updates on ``predictionChanged`` (about one per display frame while drawing), at most every
REFRESH_INTERVAL_MS and just after a reading; the extra forward pass (``Predictor.activations``)
is skipped while the dock is hidden and made up when it is shown. Clicking a map shows it large
below the grid. The dock also holds the saliency toggle.

With a joint digits-and-letters model the maps are those of the network that read the drawing: the
letters' in Letters mode, and in Both mode the network of the best class (``branch``).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from ...core.models import feature_layers, is_joint, shared_first_layer
from .image_grid import TileImageItem, tile_images

REFRESH_INTERVAL_MS = 50  # the maps follow the drawing at up to 20 Hz, outside the pad's frame
SETTLE_MS = 40  # over two frames without a reading: the drawing paused, show its latest maps
ACTIVATION_MAP = "inferno"  # sequential: activations are mostly >= 0 (ReLU), dark = silent
LAYER_SIZE = 100.0  # view units: each layer's mosaic is scaled to this height (in a row) or width (column)
LAYER_GAP = 12.0
TITLE_SPACE = 14.0  # room above each mosaic for its title
EMPTY_TEXT = "Draw a digit to see what each layer of the network responds to"


def _network_caption(model, branch: str | None) -> str:
    """Which network of a joint model the maps are from, and whether its first layer is shared."""
    if branch is None:
        return ""
    shared = " (conv1 is shared)" if shared_first_layer(model) is not None else " (each network has its own conv1)"
    return f"The {branch} network's maps{shared}. "


class FeatureMapsView(QWidget):
    """The Feature maps dock.

    Inspectable state: ``layer_names`` (in forward order), ``counts_per_layer`` ({layer: maps shown},
    empty when there is no digit), ``activations`` ({layer: (channels, h, w)}), ``selected``
    ((layer, channel) shown large, or None).
    """

    def __init__(self, context=None, parent=None):
        super().__init__(parent)
        self.setObjectName("feature_maps")
        self.setAccessibleName("Feature maps")
        self.model = context.model if context is not None else None  # the pad's LiveModel
        self.layer_names: list[str] = []
        self.counts_per_layer: dict[str, int] = {}
        self.activations: dict[str, np.ndarray] = {}
        self.selected: tuple[str, int] | None = None
        self.branch: str | None = None  # the joint model's network shown ("digits" or "letters"), else None
        self._items: dict[str, TileImageItem] = {}
        self._titles: dict[str, pg.TextItem] = {}
        self._pending = None  # the prediction not yet shown (the dock was hidden)
        self._dirty = False
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self.refresh)
        self._last_refresh_s = 0.0
        self._build()
        if context is not None:
            context.bus.modelChanged.connect(self._on_model_changed)
            context.bus.predictionChanged.connect(self._on_prediction_changed)
            if context.model.checkpoint is not None:
                self._on_model_changed(context.model.checkpoint)

    def _build(self) -> None:
        self.controls = QHBoxLayout()  # create_dock_widget puts the saliency toggle here
        self.info = QLabel(EMPTY_TEXT)
        self.info.setObjectName("feature_maps_info")
        self.info.setWordWrap(True)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("feature_grid")
        self.graphics.setBackground(None)
        self.graphics.setMinimumSize(200, 200)
        self.graphics.setToolTip("Click a map to see it large")
        self.view = self.graphics.addViewBox(row=0, col=0, lockAspect=True, invertY=True, enableMenu=False)
        self.view.setMouseEnabled(False, False)
        self.view.sigResized.connect(lambda _view: self._arrange())
        self._arrangement = None

        self.detail = QWidget()
        self.detail.setObjectName("feature_map_detail")
        self.detail_title = QLabel("")
        close = QToolButton()
        close.setText("×")
        close.setToolTip("Close the large view")
        close.setAccessibleName("Close the large feature map")
        close.clicked.connect(lambda: self.select_map(None))
        self.detail_plot = pg.PlotWidget()
        self.detail_plot.setBackground(None)
        self.detail_plot.setMenuEnabled(False)
        self.detail_plot.setMouseEnabled(x=False, y=False)
        self.detail_plot.hideButtons()
        self.detail_plot.setAspectLocked(True)
        self.detail_plot.invertY(True)
        self.detail_plot.hideAxis("left")
        self.detail_plot.hideAxis("bottom")
        self.detail_plot.setMinimumHeight(160)
        self.detail_image = pg.ImageItem(axisOrder="row-major")
        self.detail_image.setColorMap(pg.colormap.get(ACTIVATION_MAP))
        self.detail_plot.addItem(self.detail_image)
        head = QHBoxLayout()
        head.addWidget(self.detail_title, 1)
        head.addWidget(close)
        column = QVBoxLayout(self.detail)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(head)
        column.addWidget(self.detail_plot, 1)
        self.detail.hide()

        layout = QVBoxLayout(self)
        layout.addLayout(self.controls)
        layout.addWidget(self.info)
        layout.addWidget(self.graphics, 3)
        layout.addWidget(self.detail, 2)

    # --- model and layers -------------------------------------------------------------------

    def _on_model_changed(self, checkpoint) -> None:
        predictor = getattr(self.model, "predictor", None)
        model = predictor.model if predictor is not None and predictor.checkpoint is checkpoint else checkpoint.build_model()
        names = [name for name, _module in feature_layers(model)]
        if names != self.layer_names:
            self._build_layers(names)
        self.select_map(None)

    def _build_layers(self, names: list[str]) -> None:
        """One title and one ImageItem per layer, in the one view; rebuilt only when the layers change."""
        for item in list(self._items.values()) + list(self._titles.values()):
            self.view.removeItem(item)
        self._items, self._titles = {}, {}
        colormap = pg.colormap.get(ACTIVATION_MAP)
        for name in names:
            title = pg.TextItem(name, color=(110, 110, 110), anchor=(0, 1))
            item = TileImageItem()
            item.setColorMap(colormap)
            self.view.addItem(title)
            self.view.addItem(item)
            item.tileHovered.connect(lambda index, name=name: self._on_tile_hovered(name, index))
            item.tileClicked.connect(lambda index, name=name: self.select_map((name, index)))
            self._items[name], self._titles[name] = item, title
        self.layer_names = list(names)
        self.counts_per_layer = {}
        self.activations = {}
        self._arrangement = None

    def _arrange(self, force: bool = False) -> None:
        """Lay the layers' mosaics out in a row (wide dock) or a column (tall dock), each scaled to the
        same height or width, so a 10x10 map is as legible as a 24x24 one."""
        shapes = tuple(item.layout.shape if item.layout is not None else (0, 0) for item in self._items.values())
        across = self.view.width() >= self.view.height()
        key = (shapes, across)
        if key == self._arrangement and not force:
            return
        self._arrangement = key
        position = 0.0
        for (name, item), (height, width) in zip(self._items.items(), shapes):
            title = self._titles[name]
            if not height:
                item.hide()
                title.hide()
                continue
            scale = LAYER_SIZE / (height if across else width)
            x, y = (position, TITLE_SPACE) if across else (0.0, position + TITLE_SPACE)
            item.setTransform(QTransform.fromScale(scale, scale))
            item.setPos(x, y)
            title.setPos(x, y)
            item.show()
            title.show()
            position += (width if across else height) * scale + (LAYER_GAP if across else LAYER_GAP + TITLE_SPACE)
        if position > 0:
            size = (position - LAYER_GAP, LAYER_SIZE + TITLE_SPACE) if across else (LAYER_SIZE, position - LAYER_GAP)
            self.view.setRange(xRange=(0, size[0]), yRange=(0, size[1]), padding=0.02)

    # --- predictions ------------------------------------------------------------------------

    def _on_prediction_changed(self, prediction) -> None:
        self._pending, self._dirty = prediction, True
        if not self.isVisible():
            return
        # Refresh right behind a reading (a 0 ms timer runs after the chart's repaint), never on a
        # clock of its own: a reading takes ~5 ms of a 16.7 ms frame, so the maps' ~4 ms fit before
        # the next mouse move. On their own clock they landed on moves and delayed 1 reading in 20
        # by ~4 ms. Between due refreshes each reading restarts the settle timer instead, which
        # fires only once the drawing pauses, so the maps always end on the latest drawing.
        due = time.perf_counter() - self._last_refresh_s >= REFRESH_INTERVAL_MS / 1000
        self._refresh_timer.start(0 if due else SETTLE_MS)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def refresh(self) -> None:
        """Compute and show the maps of the latest prediction (cheap: one small forward pass)."""
        self._refresh_timer.stop()
        self._last_refresh_s = time.perf_counter()
        self._dirty = False
        prediction = self._pending
        predictor = getattr(self.model, "predictor", None)
        if prediction is None or prediction.empty or predictor is None:
            self.branch = None
            self._show({})
            return
        branch = predictor.branch_of(prediction)
        self.branch = branch if is_joint(predictor.model) else None
        self._show(predictor.activations(prediction.prepared.image, branch), _network_caption(predictor.model, self.branch))

    def _show(self, activations: dict[str, np.ndarray], network: str = "") -> None:
        self.activations = {name: maps for name, maps in activations.items() if name in self._items}
        self.counts_per_layer = {name: int(maps.shape[0]) for name, maps in self.activations.items()}
        for name, item in self._items.items():
            maps = self.activations.get(name)
            if maps is None:
                item.set_mosaic(*tile_images(np.zeros((0, 1, 1))), (0.0, 1.0))
                self._titles[name].setText(name)
                continue
            mosaic, layout = tile_images(maps)
            low, high = float(min(0.0, maps.min())), float(maps.max())
            item.set_mosaic(mosaic, layout, (low, high if high > low else low + 1.0))
            channels, h, w = maps.shape
            self._titles[name].setText(f"{name}: {channels} × {h}×{w}")
        self._arrange()
        if self.activations:
            self.info.setText(network + "Hover a map for its values; click it to see it large")
        else:
            self.info.setText(EMPTY_TEXT)
        self._update_detail()

    def _on_tile_hovered(self, name: str, index: int) -> None:
        maps = self.activations.get(name)
        if maps is None or index < 0 or index >= len(maps):
            return
        text = f"{name} map {index}: activation {maps[index].min():.2f} … {maps[index].max():.2f}"
        self.info.setText(text)
        self._items[name].setToolTip(text)

    # --- the large view ---------------------------------------------------------------------

    def select_map(self, selection: tuple[str, int] | None) -> None:
        """Show map ``(layer, channel)`` large below the grid (None hides the large view)."""
        self.selected = selection
        self._update_detail()

    def _update_detail(self) -> None:
        if self.selected is None:
            self.detail.hide()
            return
        name, index = self.selected
        maps = self.activations.get(name)
        self.detail.show()
        if maps is None or index >= len(maps):
            self.detail_image.clear()
            self.detail_title.setText(f"{name} map {index}: draw a digit")
            return
        single = maps[index]
        low, high = float(min(0.0, maps.min())), float(maps.max())
        self.detail_image.setImage(single, autoLevels=False, levels=(low, high if high > low else low + 1.0))
        self.detail_title.setText(f"{name} map {index} of {len(maps)} ({single.shape[0]}×{single.shape[1]}), same colour scale as its layer")
        self.detail_plot.setRange(xRange=(0, single.shape[1]), yRange=(0, single.shape[0]), padding=0.02)


def create_dock_widget(context) -> FeatureMapsView:
    from .saliency import SaliencyOverlay

    view = FeatureMapsView(context)
    view.saliency = SaliencyOverlay(context, view)
    view.controls.addWidget(view.saliency.make_checkbox())
    view.controls.addWidget(view.saliency.make_method_combo())
    view.controls.addStretch(1)
    return view
