"""The main window: the pad and its live reading in the middle, tools in docks, menus from a table."""

from __future__ import annotations

import gc
import importlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSlider,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..core import preprocess
from ..core.checkpoints import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from ..core.inference import Predictor, available_devices, default_model_path
from . import settings as app_settings
from .bus import AppBus
from .runs import RunController
from .widgets.canvas import DrawingCanvas, image_to_pixmap
from .widgets.probability_bars import ProbabilityChart

FALLBACK_REFRESH_HZ = 60.0  # when the screen reports no refresh rate
# Readings follow the display up to this rate: on a 144 or 240 Hz screen a reading (~5 ms on a
# slow CPU) would otherwise fill most of every frame of the GUI thread.
MAX_READINGS_HZ = 120.0
PREVIEW_SIZE_PX = 140
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.pgm *.ppm)"
MODEL_FILTER = "digitpad models (*.safetensors)"


@dataclass(frozen=True)
class DockSpec:
    """A tool window: created at start-up from ``module.factory(window)``, toggled from View."""

    key: str
    title: str
    module: str  # digitpad.ui.widgets.<module>
    factory: str
    area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea
    visible: bool = True
    shortcut: str = ""


# To add a tool window, add a row here. Missing modules are skipped, so the pad always starts.
DOCKS: list[DockSpec] = [
    DockSpec("training", "Training", "training_panel", "create_dock_widget", Qt.DockWidgetArea.BottomDockWidgetArea, True, "Ctrl+1"),
    DockSpec("kernels", "Kernels", "kernel_viewer", "create_dock_widget", Qt.DockWidgetArea.RightDockWidgetArea, True, "Ctrl+2"),
    DockSpec("feature_maps", "Feature maps", "feature_maps", "create_dock_widget", Qt.DockWidgetArea.RightDockWidgetArea, True, "Ctrl+3"),
    DockSpec("mistakes", "Mistakes", "mistakes", "create_dock_widget", Qt.DockWidgetArea.BottomDockWidgetArea, False, "Ctrl+4"),
    DockSpec("personal", "My digits", "personal_panel", "create_dock_widget", Qt.DockWidgetArea.RightDockWidgetArea, False, "Ctrl+5"),
]


class MainWindow(QMainWindow):
    def __init__(self, checkpoint: Checkpoint | None = None, model_path: Path | None = None):
        super().__init__()
        self.setObjectName("main_window")
        self.bus = AppBus(self)
        self.settings = app_settings.open_settings()
        self.runs = RunController(self.bus, self.settings, self)  # starts every run and task
        self.checkpoint: Checkpoint | None = None
        self.model_path: Path | None = None
        self.predictor: Predictor | None = None
        self.inference_device = "cpu"  # a batch of one is fastest on the CPU; View > Inference device
        self.last_prediction = None
        self.docks: dict[str, QDockWidget] = {}
        self.dock_widgets: dict[str, QWidget] = {}
        self._build_pad()
        self._build_actions()
        self._build_menus()
        self._build_docks()
        self._predict_timer = QTimer(self)
        self._predict_timer.setSingleShot(True)
        self._last_slot_s = 0.0  # when the last reading was scheduled to run
        self._predict_timer.timeout.connect(self.predict_now)
        self.canvas.drawingChanged.connect(self._on_drawing_changed)
        self.canvas.historyChanged.connect(self._update_history_actions)
        self.bus.exampleRequested.connect(self._on_example_requested)
        self.bus.runStarted.connect(self._on_run_started)
        self.bus.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        if checkpoint is not None:
            self.set_checkpoint(checkpoint, model_path)
        self._restore_settings()
        self._update_history_actions()
        self.predict_now()

    # --- layout -------------------------------------------------------------------------------

    def _build_pad(self) -> None:
        self.canvas = DrawingCanvas()
        self.prediction_label = QLabel("")
        self.prediction_label.setObjectName("prediction")
        self.prediction_label.setAccessibleName("Predicted digit")
        self.prediction_label.setToolTip("The digit the network reads")
        font = self.prediction_label.font()
        font.setPointSizeF(font.pointSizeF() * 4.5)
        font.setBold(True)
        self.prediction_label.setFont(font)
        # Fixed sizes: a reading changes the text every frame, and a label that resized would
        # re-lay out (and repaint) the whole column, chart included.
        self.prediction_label.setFixedWidth(self.prediction_label.fontMetrics().horizontalAdvance("88"))
        self.prediction_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.confidence_label = QLabel("Draw a digit on the pad")
        self.confidence_label.setObjectName("prediction_note")
        self.confidence_label.setAccessibleName("Prediction confidence")
        self.confidence_label.setWordWrap(True)
        self.confidence_label.setFixedHeight(3 * self.confidence_label.fontMetrics().lineSpacing())
        self.chart = ProbabilityChart()
        self.preview = QLabel()
        self.preview.setObjectName("network_input")
        self.preview.setAccessibleName("What the network sees")
        self.preview.setToolTip("Exactly what is fed to the network: the drawing cropped, scaled and centred")
        self.preview.setFixedSize(PREVIEW_SIZE_PX, PREVIEW_SIZE_PX)
        self.preview.setStyleSheet("background: black; border: 1px solid gray;")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)

        reading = QHBoxLayout()
        reading.addWidget(self.prediction_label)
        reading.addWidget(self.confidence_label, 1)
        sees = QVBoxLayout()
        caption = QLabel("What the network sees")
        caption.setAccessibleName("What the network sees caption")
        sees.addWidget(caption)
        sees.addWidget(self.preview)
        sees.addStretch(1)
        lower = QHBoxLayout()
        lower.addLayout(sees)
        lower.addLayout(self._build_pen_controls(), 1)

        right = QWidget()
        column = QVBoxLayout(right)
        column.addLayout(reading)
        column.addWidget(self.chart, 1)
        self._pad_column = column
        self._pad_widgets = 0  # added under the reading by add_pad_widget
        column.addLayout(lower)
        splitter = QSplitter()
        splitter.setObjectName("pad_splitter")
        splitter.addWidget(self.canvas)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.setCentralWidget(splitter)

    def add_pad_widget(self, widget: QWidget) -> None:
        """Put ``widget`` in the pad's right column, under the reading and above the probability
        bars (after any added before it): e.g. My digits' correction bar."""
        self._pad_column.insertWidget(1 + self._pad_widgets, widget)
        self._pad_widgets += 1

    def _build_pen_controls(self) -> QVBoxLayout:
        layout = QVBoxLayout()
        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setObjectName("pen_width")
        self.pen_slider.setAccessibleName("Pen width")
        self.pen_slider.setToolTip("Pen width (the network sees the same stroke width whatever you pick)")
        self.pen_slider.setRange(2, 60)
        self.pen_slider.setValue(int(self.canvas.pen_width))
        self.pen_slider.valueChanged.connect(lambda v: setattr(self.canvas, "pen_width", float(v)))
        self.eraser_button = QToolButton()
        self.eraser_button.setObjectName("eraser")
        self.eraser_button.setText("Eraser")
        self.eraser_button.setCheckable(True)
        self.eraser_button.setAccessibleName("Eraser")
        self.eraser_button.setToolTip("Erase instead of drawing (or draw with the right mouse button)")
        self.eraser_button.toggled.connect(lambda on: setattr(self.canvas, "eraser", on))
        self.pressure_box = QCheckBox("Width by pen pressure")
        self.pressure_box.setObjectName("pressure_width")
        self.pressure_box.setAccessibleName("Width by pen pressure")
        self.pressure_box.setToolTip("With a tablet pen, press harder for a wider line")
        self.pressure_box.toggled.connect(lambda on: setattr(self.canvas, "pressure_width", on))
        self.clear_button = QToolButton()
        self.clear_button.setObjectName("clear_button")
        self.clear_button.setText("Clear")
        self.clear_button.setAccessibleName("Clear the pad")
        self.clear_button.setToolTip("Clear the pad (Esc)")
        self.clear_button.clicked.connect(self.canvas.clear)
        pen_label = QLabel("Pen width")
        layout.addWidget(pen_label)
        layout.addWidget(self.pen_slider)
        buttons = QHBoxLayout()
        buttons.addWidget(self.eraser_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(self.pressure_box)
        layout.addStretch(1)
        return layout

    # --- actions and menus ----------------------------------------------------------------------

    def _action(self, key: str, text: str, handler: Callable, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setObjectName(f"action_{key}")
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setToolTip(tip or text.replace("&", "").rstrip("."))
        action.setStatusTip(action.toolTip())
        action.triggered.connect(lambda checked=False: handler())
        self.actions[key] = action
        return action

    def _build_actions(self) -> None:
        self.actions: dict[str, QAction] = {}
        keys = QKeySequence.StandardKey
        self._action("open_model", "&Open model...", self.open_model_dialog, keys.Open, "Open a digitpad model (.safetensors)")
        self._action("save_model", "&Save model as...", self.save_model_dialog, keys.SaveAs, "Save the pad's current model")
        self._action("open_image", "Open &image...", self.open_image_dialog, "Ctrl+I", "Read a digit from an image file")
        self._action("quit", "&Quit", self.close, keys.Quit)
        self._action("undo", "&Undo stroke", self.canvas.undo, keys.Undo)
        self._action("redo", "&Redo stroke", self.canvas.redo, [QKeySequence(keys.Redo), QKeySequence("Ctrl+Y")])
        self._action("clear", "&Clear pad", self.canvas.clear, [QKeySequence("Esc"), QKeySequence(keys.Delete)])
        self._action("about", "&About digitpad", self.show_about)
        self.actions["quit"].setMenuRole(QAction.MenuRole.QuitRole)
        self.actions["about"].setMenuRole(QAction.MenuRole.AboutRole)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for key in ("open_model", "save_model", "open_image"):
            file_menu.addAction(self.actions[key])
        file_menu.addSeparator()
        file_menu.addAction(self.actions["quit"])
        edit = bar.addMenu("&Edit")
        for key in ("undo", "redo", "clear"):
            edit.addAction(self.actions[key])
        self.view_menu = bar.addMenu("&View")
        device_menu = self.view_menu.addMenu("Inference &device")
        group = QActionGroup(self)
        for device in available_devices():
            action = device_menu.addAction(device)
            action.setCheckable(True)
            action.setChecked(device == self.inference_device)
            action.triggered.connect(lambda checked=False, d=device: self.set_inference_device(d))
            group.addAction(action)
        self.view_menu.addSeparator()
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.actions["about"])

    def _build_docks(self) -> None:
        for spec in DOCKS:
            try:
                module = importlib.import_module(f"digitpad.ui.widgets.{spec.module}")
            except ModuleNotFoundError as error:
                if error.name != f"digitpad.ui.widgets.{spec.module}":
                    raise
                continue
            widget = getattr(module, spec.factory)(self)
            dock = QDockWidget(spec.title, self)
            dock.setObjectName(f"dock_{spec.key}")
            dock.setWidget(_scrollable(widget))
            dock.setAccessibleName(spec.title)
            self.addDockWidget(spec.area, dock)
            dock.setVisible(spec.visible)
            toggle = dock.toggleViewAction()
            if spec.shortcut:
                toggle.setShortcut(QKeySequence(spec.shortcut))
            toggle.setToolTip(f"Show or hide {spec.title}")
            self.view_menu.addAction(toggle)
            self.docks[spec.key] = dock
            self.dock_widgets[spec.key] = widget
        right = [self.docks[k] for k in ("kernels", "feature_maps", "personal") if k in self.docks]
        for other in right[1:]:
            self.tabifyDockWidget(right[0], other)
        if right:
            right[0].raise_()
        bottom = [self.docks[k] for k in ("training", "mistakes") if k in self.docks]
        for other in bottom[1:]:
            self.tabifyDockWidget(bottom[0], other)
        if bottom:
            bottom[0].raise_()
        # First-run proportions (a saved layout overrides them): the pad keeps most of the window.
        if right:
            self.resizeDocks([right[0]], [400], Qt.Orientation.Horizontal)
        if bottom:
            self.resizeDocks([bottom[0]], [300], Qt.Orientation.Vertical)

    def _on_run_started(self, run) -> None:
        """A run that the Training dock did not start (a fine-tune) is drawn there: show it."""
        dock = self.docks.get("training")
        if dock is not None and run.kind != "training":
            dock.show()
            dock.raise_()

    def _update_history_actions(self) -> None:
        self.actions["undo"].setEnabled(self.canvas.can_undo())
        self.actions["redo"].setEnabled(self.canvas.can_redo())

    # --- the model ----------------------------------------------------------------------------

    def set_checkpoint(self, checkpoint: Checkpoint, path: Path | None = None) -> None:
        """Make ``checkpoint`` the pad's live model at once (no restart), and tell every viewer."""
        self.predictor = Predictor(checkpoint, self.inference_device)
        self.checkpoint = checkpoint
        self.model_path = Path(path) if path else None
        self._update_title()
        self.bus.modelChanged.emit(checkpoint)
        self.predict_now()

    def _update_title(self) -> None:
        if self.checkpoint is None:
            self.setWindowTitle("digitpad — no model")
            return
        name = self.model_path.name if self.model_path else f"{self.checkpoint.meta.get('name') or self.checkpoint.arch} (unsaved)"
        accuracy = (self.checkpoint.meta.get("metrics") or {}).get("test_accuracy")
        detail = f" — {accuracy * 100:.2f}% on {self.checkpoint.meta.get('dataset', '?').upper()} test" if accuracy else ""
        self.setWindowTitle(f"digitpad — {name}{detail}")

    def load_model(self, path: str | Path) -> bool:
        """Open a checkpoint; on failure say why and keep the current model."""
        try:
            checkpoint = load_checkpoint(path)
        except CheckpointError as error:
            QMessageBox.warning(self, "Cannot open model", f"{error}\n\nThe current model is kept.")
            return False
        self.set_checkpoint(checkpoint, Path(path))
        self.settings.setValue("last_model", str(Path(path).resolve()))
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def open_model_dialog(self) -> None:
        start = str(self.model_path.parent) if self.model_path else str(default_model_path().parent)
        path, _ = QFileDialog.getOpenFileName(self, "Open model", start, MODEL_FILTER)
        if path:
            self.load_model(path)

    def save_model_dialog(self) -> None:
        if self.checkpoint is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save model as", "my-model.safetensors", MODEL_FILTER)
        if path:
            self.save_model(path)

    def save_model(self, path: str | Path) -> Path | None:
        try:
            saved = save_checkpoint(self.checkpoint, path)
        except OSError as error:
            QMessageBox.warning(self, "Cannot save model", f"{path}: {error.strerror or error}")
            return None
        self.model_path = saved
        self.settings.setValue("last_model", str(saved.resolve()))
        self._update_title()
        self.statusBar().showMessage(f"Saved {saved}", 5000)
        return saved

    def set_inference_device(self, device: str) -> None:
        try:
            if self.checkpoint is not None:
                self.predictor = Predictor(self.checkpoint, "cpu" if device == "auto" else device)
            self.inference_device = device
        except (ValueError, RuntimeError) as error:
            QMessageBox.warning(self, "Device not available", str(error))
        self.predict_now()

    # --- images -------------------------------------------------------------------------------

    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", "", IMAGE_FILTER)
        if path:
            self.open_image(path)

    def open_image(self, path: str | Path) -> bool:
        """Put an image file on the pad; an unreadable file gets a message and the drawing stays."""
        try:
            grey = preprocess.load_image_file(path)
        except preprocess.ImageReadError as error:
            QMessageBox.warning(self, "Cannot open image", str(error))
            return False
        self.canvas.set_image(np.clip(grey * 255, 0, 255).astype(np.uint8))
        self.statusBar().showMessage(f"Reading {Path(path).name}", 5000)
        return True

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_image(urls[0].toLocalFile())
            event.acceptProposedAction()

    def _on_example_requested(self, image: np.ndarray, label=None) -> None:
        """Show a dataset example (s, s) float in [0, 1], ink = 1, on the pad as dark ink on paper."""
        grey = 255 - np.clip(np.asarray(image) * 255, 0, 255).astype(np.uint8)
        self.canvas.set_image(np.kron(grey, np.ones((10, 10), np.uint8)))  # crisp pixels when shown large
        if label is not None:
            self.statusBar().showMessage(f"Example labelled {label}", 5000)

    # --- live prediction ----------------------------------------------------------------------

    def _on_drawing_changed(self) -> None:
        """Coalesce: read the drawing as soon as the event loop is free, at most once per display
        frame; changes that arrive while a reading is pending join it (the latest drawing wins).

        The frame is counted from the slot the last reading was scheduled for, not from when it
        ran: otherwise one reading delayed by a busy event loop would delay every later one.
        """
        if self._predict_timer.isActive():
            return
        now = time.perf_counter()
        wait_ms = max(0.0, self.frame_interval_ms() - (now - self._last_slot_s) * 1000)
        self._last_slot_s = now + wait_ms / 1000
        self._predict_timer.start(math.ceil(wait_ms))

    def frame_interval_ms(self) -> float:
        """One frame of the window's screen (at most MAX_READINGS_HZ): the least time between two
        readings' slots."""
        screen = self.screen()
        rate = screen.refreshRate() if screen is not None else 0.0
        return 1000.0 / min(rate if rate >= 20 else FALLBACK_REFRESH_HZ, MAX_READINGS_HZ)

    def read_drawing(self):
        """Preprocess and classify what is on the pad now; returns a Prediction (or None: no model)."""
        if self.predictor is None:
            return None
        strokes = self.canvas.vector_strokes()
        if self.canvas.is_empty():
            return self.predictor.predict_prepared(preprocess.Prepared(None, True, False, None))
        if strokes is not None:
            return self.predictor.predict_strokes(strokes)
        return self.predictor.predict_image(self.canvas.grayscale())

    def predict_now(self) -> None:
        self._predict_timer.stop()
        prediction = self.read_drawing()
        self.last_prediction = prediction
        self._show_prediction(prediction)
        self.bus.predictionChanged.emit(prediction)

    def _show_prediction(self, prediction) -> None:
        if prediction is None:
            self.prediction_label.setText("")
            self.confidence_label.setText("No model loaded: File > Open model")
            self.chart.set_probabilities(None)
            return
        if prediction.empty:
            self.prediction_label.setText("")
            self.confidence_label.setText("Draw a digit on the pad")
            self.chart.set_probabilities(None)
            self.preview.clear()
            return
        self.prediction_label.setText(str(prediction.digit))
        if prediction.confident:
            self.confidence_label.setText(f"{prediction.score * 100:.1f}% sure")
        else:
            self.confidence_label.setText(
                f"Unsure ({prediction.score * 100:.0f}%): this may not be a digit, or it is ambiguous"
            )
        self.chart.set_probabilities(prediction.probabilities, prediction.confident)
        self.preview.setPixmap(image_to_pixmap(prediction.prepared.image, PREVIEW_SIZE_PX))

    # --- about, settings, closing -------------------------------------------------------------

    def show_about(self) -> None:
        import torch

        model = "none"
        if self.checkpoint is not None:
            metrics = self.checkpoint.meta.get("metrics") or {}
            acc = metrics.get("test_accuracy")
            model = f"{self.model_path or 'unsaved'}<br>{self.checkpoint.arch}" + (f", {acc * 100:.2f}% test accuracy" if acc else "")
        cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA GPU"
        QMessageBox.about(
            self,
            "About digitpad",
            f"<b>digitpad {__version__}</b><br>Draw a digit, watch a CNN read it, train it, look inside it.<br><br>"
            f"Model: {model}<br>Inference device: {self.inference_device}<br>Training devices: {', '.join(available_devices())} ({cuda})<br>"
            f"torch {torch.__version__}",
        )

    def _restore_settings(self) -> None:
        # Dock layout first: restoring it can resize the window, which the geometry then corrects.
        state = app_settings.read(self.settings, "window_state", None, QByteArray)
        if state is not None:
            self.restoreState(state)
        geometry = app_settings.read(self.settings, "geometry", None, QByteArray)
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.pen_slider.setValue(app_settings.read(self.settings, "pen_width", int(self.canvas.pen_width), int))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.runs.shutdown()  # every run and task stops within a batch (or chunk, or file); nothing saved
        for widget in self.dock_widgets.values():
            shutdown = getattr(widget, "shutdown", None)
            if shutdown is not None:
                shutdown()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.settings.setValue("pen_width", self.pen_slider.value())
        self.settings.sync()
        gc.unfreeze()  # let a full collection reclaim this window (an embedder may open another)
        super().closeEvent(event)


def _scrollable(widget: QWidget) -> QScrollArea:
    """Docks scroll rather than impose their full size: the window must fit a 1366x768 laptop."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area


def create_window(model_path: str | Path | None = None) -> MainWindow:
    """The main window, not yet shown, with a model loaded: ``model_path``, else the last one opened
    (if it still loads), else the shipped default. Raises CheckpointError if ``model_path`` is bad."""
    settings = app_settings.open_settings()
    candidates = [Path(model_path)] if model_path else []
    last = app_settings.read(settings, "last_model", "", str)
    if not model_path and last:
        candidates.append(Path(last))
    candidates.append(default_model_path())
    for i, path in enumerate(candidates):
        try:
            return _settled(MainWindow(load_checkpoint(path), path))
        except CheckpointError:
            if model_path and i == 0:
                raise
    return _settled(MainWindow(None))


def _settled(window: MainWindow) -> MainWindow:
    """Move everything built so far (torch, Qt wrappers, the model) out of the garbage collector's
    view: otherwise a full collection while drawing walks ~200,000 long-lived objects and stalls
    the pad for ~110 ms (measured)."""
    gc.collect()
    gc.freeze()
    return window
