"""The main window: the pad and its live reading in the middle, tools in docks, menus from a table.

The window composes: the pad (canvas, reading, chart, "what the network sees"), the pad's live
model (``ui.live_model.LiveModel``), the run controller (``ui.runs.RunController``), the docks of
``ui.docks.DOCKS`` (each given a ``DockContext``, not the window) and the menus of
``ui.actions.ACTIONS``/``MENUS``. It reads the pad (coalesced to one reading a display frame),
opens, saves and exports models and images (with Recent models and drops), and keeps its geometry
and layout in the settings.

Why one file of ~580 lines: every part here is the window's own wiring of pieces built elsewhere
(widgets, tables, the run controller); split further, each part would need the window back.
"""

from __future__ import annotations

import gc
import importlib
import math
import operator
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..core import pen, preprocess
from ..core.checkpoints import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from ..core.events import TaskDone, TaskFailed
from ..core.inference import available_devices, default_model_path, shipped_model_title, shipped_models
from . import settings as app_settings
from .actions import ACTIONS, ALPHABET_CHOICE, INFERENCE_DEVICES, MENUS, RECENT_MODELS, SHIPPED_MODELS
from .bus import AppBus
from .docks import DOCKS, DockContext
from .live_model import LiveModel, model_name
from .runs import RunController
from .widgets.alphabet_choice import AlphabetChoice
from .widgets.canvas import DrawingCanvas, image_to_pixmap
from .widgets.pen_controls import PenControls
from .widgets.probability_bars import ProbabilityChart, best_of_each

FALLBACK_REFRESH_HZ = 60.0  # when the screen reports no refresh rate
# Readings follow the display up to this rate: on a 144 or 240 Hz screen a reading (~5 ms on a
# slow CPU) would otherwise fill most of every frame of the GUI thread.
MAX_READINGS_HZ = 120.0
PREVIEW_SIZE_PX = 112  # 4 screen pixels per input pixel: crisp, and small enough for a 768-pixel screen
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.pgm *.ppm)"
MODEL_FILTER = "digitpad models (*.safetensors)"
EXPORT_FILTERS = "ONNX (*.onnx);;TorchScript (*.pt)"
FIRST_RUN_SIZE = (1280, 820)  # on a large screen; a smaller one gets SCREEN_SHARE of its free area
SCREEN_SHARE = 0.96
RECENT_MODELS_KEPT = 8
TRAINING_SHARE = 0.4  # of the window's height for the Training dock while a run's curves grow
# What the pad asks for and calls what it reads, per alphabet.
DRAW_PROMPTS = {"digits": "Draw a digit on the pad", "letters": "Draw a letter on the pad",
                "both": "Draw a digit or a letter on the pad"}
PAD_PROMPTS = {"digits": "Draw a digit here", "letters": "Draw a letter here", "both": "Draw a digit or a letter here"}
THINGS = {"digits": "a digit", "letters": "a letter", "both": "a digit or a letter"}
# The widest reading each alphabet shows: the reading label's fixed width (a case-merged "w/W").
WIDEST_READING = {"digits": "88", "letters": "w/W", "both": "w/W"}


def _live_model_attribute(name: str) -> property:
    """The window's ``name`` is its live model's (kept for scripts and tests: ``window.checkpoint``)."""
    return property(lambda self: getattr(self.model, name), lambda self, value: setattr(self.model, name, value))


class MainWindow(QMainWindow):
    checkpoint = _live_model_attribute("checkpoint")
    model_path = _live_model_attribute("model_path")
    predictor = _live_model_attribute("predictor")
    inference_device = _live_model_attribute("inference_device")
    last_prediction = _live_model_attribute("last_prediction")

    def __init__(self, checkpoint: Checkpoint | None = None, model_path: Path | None = None):
        super().__init__()
        self.setObjectName("main_window")
        self.bus = AppBus(self)
        self.settings = app_settings.open_settings()
        self.runs = RunController(self.bus, self.settings, self)  # starts every run and task
        self.model = LiveModel(self.bus, self)  # the pad's model and latest reading, for every dock
        self.alphabet_choice = AlphabetChoice(self.model, self.settings, self)
        self.docks: dict[str, QDockWidget] = {}
        self._example: tuple = (None, None)  # (the pad's image, the dataset example it shows)
        self.dock_widgets: dict[str, QWidget] = {}
        self._build_pad()
        self._build_actions()
        self._build_menus()
        self._build_docks()
        # After the docks: each model change reaches them first, then the title and the pad's reading.
        self.bus.modelChanged.connect(self._on_model_changed)
        self.bus.alphabetChanged.connect(self._on_alphabet_changed)
        self._predict_timer = QTimer(self)
        self._predict_timer.setSingleShot(True)
        self._last_slot_s = 0.0  # when the last reading was scheduled to run
        self._predict_timer.timeout.connect(self.predict_now)
        self.canvas.drawingChanged.connect(self._on_drawing_changed)
        self.canvas.historyChanged.connect(self._update_history_actions)
        self.bus.exampleRequested.connect(self._on_example_requested)
        self.bus.strokesRequested.connect(self._on_strokes_requested)
        self.bus.runStarted.connect(self._on_run_started)
        self.bus.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.setAcceptDrops(True)
        # The status bar exists from the start: made on the first message, it shrank the pad by its
        # height in the middle of a stroke.
        self.statusBar()
        self._fit_to_screen()
        training = self.docks.get("training")
        if training is not None:  # its share from the start: growing it at the first click re-laid out
            # the whole window, a 20-40 ms stall (benchmarks/ui_stall.py); a saved layout overrides it
            self.resizeDocks([training], [int(self.height() * TRAINING_SHARE)], Qt.Orientation.Vertical)
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
        self._fit_reading_label("digits")
        self.prediction_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.confidence_label = QLabel(DRAW_PROMPTS["digits"])
        self.confidence_label.setObjectName("prediction_note")
        self.confidence_label.setAccessibleName("Prediction confidence")
        self.confidence_label.setWordWrap(True)
        self.confidence_label.setFixedHeight(3 * self.confidence_label.fontMetrics().lineSpacing())
        self.chart = ProbabilityChart()
        self.both_header = QLabel("")
        self.both_header.setObjectName("bothHeader")
        self.both_header.setAccessibleName("Best digit and best letter")
        self.both_header.setToolTip("Reading both: the best digit and the best letter, and why they look alike when they do")
        self.both_header.setWordWrap(True)
        # Room for the header and a look-alike note of two lines, whatever the reading says: a
        # header that resized would re-lay out the column, chart included, every frame.
        self.both_header.setFixedHeight(3 * self.both_header.fontMetrics().lineSpacing() + 2)
        self.both_header.hide()
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
        pen = PenControls(self.canvas)
        self.pen_slider, self.eraser_button, self.pressure_box, self.clear_button = (
            pen.pen_slider, pen.eraser_button, pen.pressure_box, pen.clear_button)
        lower.addLayout(pen.layout, 1)

        chart_head = QHBoxLayout()
        read = QLabel("Read")
        read.setBuddy(self.alphabet_choice.combo)
        chart_head.addWidget(read)
        chart_head.addWidget(self.alphabet_choice.combo)
        chart_head.addStretch(1)

        right = QWidget()
        column = QVBoxLayout(right)
        column.addLayout(reading)
        column.addLayout(chart_head)
        column.addWidget(self.both_header)
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

    # --- actions and menus ----------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.actions: dict[str, QAction] = {}
        for spec in ACTIONS:
            action = QAction(spec.text, self)
            action.setObjectName(f"action_{spec.key}")
            if spec.shortcuts:
                action.setShortcuts(spec.key_sequences())
            action.setToolTip(spec.tip or spec.text.replace("&", "").rstrip("."))
            action.setStatusTip(action.toolTip())
            handler = operator.attrgetter(spec.handler)(self)
            action.triggered.connect(lambda checked=False, handler=handler: handler())
            if spec.role is not None:
                action.setMenuRole(spec.role)
            self.actions[spec.key] = action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        for title, keys in MENUS.items():
            menu = bar.addMenu(title)
            if title == "&View":
                self.view_menu = menu
            for key in keys:
                if key is None:
                    menu.addSeparator()
                elif key == INFERENCE_DEVICES:
                    self._build_device_menu(menu.addMenu("Inference &device"))
                elif key == ALPHABET_CHOICE:
                    read_menu = menu.addMenu("&Read")
                    read_menu.setObjectName("menu_alphabet")
                    self.alphabet_choice.fill_menu(read_menu)
                elif key == RECENT_MODELS:
                    self.recent_menu = menu.addMenu("Recent &models")
                    self.recent_menu.setObjectName("menu_recent_models")
                    self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
                elif key == SHIPPED_MODELS:
                    self.shipped_menu = menu.addMenu("S&hipped models")
                    self.shipped_menu.setObjectName("menu_shipped_models")
                    self.shipped_menu.aboutToShow.connect(self._fill_shipped_menu)
                else:
                    menu.addAction(self.actions[key])

    def _build_device_menu(self, device_menu) -> None:
        group = QActionGroup(self)
        for device in available_devices():
            action = device_menu.addAction(device)
            action.setCheckable(True)
            action.setChecked(device == self.inference_device)
            action.triggered.connect(lambda checked=False, d=device: self.set_inference_device(d))
            group.addAction(action)

    def add_view_action(self, action: QAction) -> None:
        """A display option in the View menu, with the others above the separator before the docks' toggles."""
        separator = next((a for a in self.view_menu.actions() if a.isSeparator()), None)
        if separator is not None:
            self.view_menu.insertAction(separator, action)
        else:
            self.view_menu.addAction(action)

    def dock_context(self) -> DockContext:
        """What a dock receives: the services it may use, never the window itself."""
        return DockContext(self.bus, self.runs, self.model, self.settings, self.canvas, self.add_pad_widget,
                           self.add_view_action, self.actions, self)

    def _build_docks(self) -> None:
        context = self.dock_context()
        for spec in DOCKS:
            try:
                module = importlib.import_module(f"digitpad.ui.widgets.{spec.module}")
            except ModuleNotFoundError as error:
                if error.name != f"digitpad.ui.widgets.{spec.module}":
                    raise
                continue
            widget = getattr(module, spec.factory)(context)
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
        right = [self.docks[k] for k in ("kernels", "feature_maps", "personal", "nearest_examples", "compare_chart") if k in self.docks]
        for other in right[1:]:
            self.tabifyDockWidget(right[0], other)
        if right:
            right[0].raise_()
        bottom = [self.docks[k] for k in ("training", "mistakes", "reading_timeline") if k in self.docks]
        for other in bottom[1:]:
            self.tabifyDockWidget(bottom[0], other)
        if bottom:
            bottom[0].raise_()
        # First-run proportions (a saved layout overrides them): the pad keeps most of the window.
        if right:
            self.resizeDocks([right[0]], [400], Qt.Orientation.Horizontal)
        if bottom:
            self.resizeDocks([bottom[0]], [300], Qt.Orientation.Vertical)

    def _fit_to_screen(self) -> None:
        """First-run size: 1280x820, or less on a smaller screen (a 1366x768 laptop), centred on it.
        A saved geometry (``_restore_settings``) replaces it."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(*FIRST_RUN_SIZE)
            return
        available = screen.availableGeometry()
        width = min(FIRST_RUN_SIZE[0], int(available.width() * SCREEN_SHARE))
        height = min(FIRST_RUN_SIZE[1], int(available.height() * SCREEN_SHARE))
        self.resize(width, height)
        self.move(available.x() + (available.width() - width) // 2, available.y() + (available.height() - height) // 2)

    def _on_run_started(self, run) -> None:
        """Show the Training dock with room for its curves: a run that it did not start (a fine-tune)
        is drawn there too. A dock the user made taller keeps its height."""
        dock = self.docks.get("training")
        if dock is None:
            return
        dock.show()
        dock.raise_()
        # Within a tenth of its share is room enough: a few pixels more are not worth a relayout.
        if not dock.isFloating() and dock.height() < 0.9 * self.height() * TRAINING_SHARE:
            self.resizeDocks([dock], [int(self.height() * TRAINING_SHARE)], Qt.Orientation.Vertical)

    def _update_history_actions(self) -> None:
        self.actions["undo"].setEnabled(self.canvas.can_undo())
        self.actions["redo"].setEnabled(self.canvas.can_redo())

    # --- the model ----------------------------------------------------------------------------

    def set_checkpoint(self, checkpoint: Checkpoint, path: Path | None = None) -> None:
        """Make ``checkpoint`` the pad's live model at once (no restart), and tell every viewer."""
        self.model.set_checkpoint(checkpoint, path)

    def _on_model_changed(self, _checkpoint) -> None:
        self._show_classes()
        self._update_title()
        self.predict_now()

    def _on_alphabet_changed(self, alphabet: str) -> None:
        """Show the new alphabet's classes and read the drawing with it."""
        self._show_classes()
        self.canvas.set_prompt(PAD_PROMPTS[alphabet])
        self._fit_reading_label(alphabet)
        self.both_header.setVisible(alphabet == "both")
        self.predict_now()

    def _show_classes(self) -> None:
        """The chart's bars: the classes the live predictor reads (on a model or alphabet change,
        not on every reading)."""
        if self.predictor is not None:
            self.chart.set_classes(self.predictor.classes)

    def _fit_reading_label(self, alphabet: str) -> None:
        """Fixed widths: a reading changes the text every frame, and a label that resized would
        re-lay out (and repaint) the whole column, chart included."""
        self.prediction_label.setFixedWidth(self.prediction_label.fontMetrics().horizontalAdvance(WIDEST_READING[alphabet]))

    def _update_title(self) -> None:
        if self.checkpoint is None:
            self.setWindowTitle("digitpad — no model")
            return
        name = model_name(self.checkpoint, self.model_path) + ("" if self.model_path else " (unsaved)")
        detail = f" — {self.checkpoint.test_figure}" if self.checkpoint.test_figure else ""
        self.setWindowTitle(f"digitpad — {name}{detail}")

    # --- recent models ------------------------------------------------------------------------

    def recent_models(self) -> list[str]:
        """Models opened or saved, newest first (QSettings hands a one-item list back as a string)."""
        value = app_settings.read(self.settings, "recent_models", [])
        return [str(p) for p in ([value] if isinstance(value, str) else value or []) if p]

    def _remember_model(self, path: Path) -> None:
        resolved = str(Path(path).resolve())
        recent = [resolved] + [p for p in self.recent_models() if p != resolved]
        self.settings.setValue("recent_models", recent[:RECENT_MODELS_KEPT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_models()
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setEnabled(Path(path).exists())
            action.triggered.connect(lambda checked=False, p=path: self.load_model(p))
        if not recent:
            self.recent_menu.addAction("No models opened yet").setEnabled(False)

    def _fill_shipped_menu(self) -> None:
        """The models that come with digitpad (the pen-trained default, the MNIST-only one, the letters
        one), the one the pad reads checked."""
        self.shipped_menu.clear()
        current = self.model_path.resolve() if self.model_path else None
        for name, path in shipped_models().items():
            action = self.shipped_menu.addAction(f"{shipped_model_title(path)}  ({name})")
            action.setToolTip(str(path))
            action.setCheckable(True)
            action.setChecked(path.resolve() == current)
            action.triggered.connect(lambda checked=False, p=path: self.load_model(p))
        if self.shipped_menu.isEmpty():
            self.shipped_menu.addAction("No shipped models found").setEnabled(False)

    # --- models ---------------------------------------------------------------------------------

    def load_model(self, path: str | Path) -> bool:
        """Open a checkpoint; on failure say why and keep the current model."""
        try:
            checkpoint = load_checkpoint(path)
        except CheckpointError as error:
            QMessageBox.warning(self, "Cannot open model", f"{error}\n\nThe current model is kept.")
            return False
        alphabet = self.model.alphabet
        self.set_checkpoint(checkpoint, Path(path))
        self.settings.setValue("last_model", str(Path(path).resolve()))
        self._remember_model(Path(path))
        if self.model.alphabet == alphabet:  # else the status bar says why the pad reads another alphabet now
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
        except (OSError, CheckpointError) as error:  # a full disk, no permission, diverged weights
            QMessageBox.warning(self, "Cannot save model", str(error))
            return None
        self.model_path = saved
        self.settings.setValue("last_model", str(saved.resolve()))
        self._remember_model(saved)
        self._update_title()
        self.statusBar().showMessage(f"Saved {saved}", 5000)
        return saved

    def export_model_dialog(self) -> None:
        if self.checkpoint is None:
            return
        stem = self.model_path.stem if self.model_path else "digitpad-model"
        path, chosen = QFileDialog.getSaveFileName(self, "Export model", f"{stem}.onnx", EXPORT_FILTERS)
        if path:
            self.export_model(path, "torchscript" if chosen.startswith("TorchScript") or path.endswith(".pt") else "onnx")

    def export_model(self, path: str | Path, fmt: str = "onnx"):
        """Export on a worker (ONNX takes seconds); the status bar says when it is written."""
        from ..core.export import ExportError, export_model
        from .runs import Run
        from .workers import TaskWorker

        checkpoint = self.checkpoint

        def job(_progress):
            try:
                return export_model(checkpoint, path, fmt)
            except ExportError as error:
                raise ValueError(str(error)) from None

        def on_event(event):
            if isinstance(event, TaskDone):
                self.statusBar().showMessage(f"Exported {event.result} ({fmt})", 8000)
            elif isinstance(event, TaskFailed):
                QMessageBox.warning(self, "Cannot export model", event.message)

        self.statusBar().showMessage(f"Exporting the model as {fmt}…")
        return self.runs.start(Run("export", f"Exporting {Path(path).name}"), TaskWorker(job), on_event,
                               name="digitpad-export")

    def set_inference_device(self, device: str) -> None:
        try:
            self.model.set_inference_device(device)
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
            path = urls[0].toLocalFile()
            if path.lower().endswith(".safetensors"):
                self.load_model(path)  # a model file: read the pad with it
            else:
                self.open_image(path)
            event.acceptProposedAction()

    def _on_example_requested(self, image: np.ndarray, label=None) -> None:
        """Show a dataset example (s, s) float in [0, 1], ink = 1, on the pad as dark ink on paper."""
        grey = 255 - np.clip(np.asarray(image) * 255, 0, 255).astype(np.uint8)
        self.canvas.set_image(np.kron(grey, np.ones((10, 10), np.uint8)))  # crisp pixels when shown large
        # Read the example itself, not a re-preparation of its enlarged pixels: a misread test digit
        # clicked in the Mistakes viewer must be misread on the pad too.
        self._example = (self.canvas.background, np.asarray(image, np.float32))
        if label is not None:
            self.statusBar().showMessage(f"Example labelled {label}", 5000)

    def _on_strokes_requested(self, strokes, label=None) -> None:
        """Draw a recorded drawing's strokes on the pad, in their order, as vector strokes (undoable):
        the pad reads them through its stroke path, as if they had been drawn here. A drawing that
        does not lie on this pad is moved onto it (and shrunk only if it is bigger than the pad).

        No status message (``label`` is shown by the viewer that asks): the session's first message
        adds the status bar, and the pad's resize then would stretch the strokes just put on it."""
        self.canvas.set_strokes(pen.fit_on_pad(strokes, (self.canvas.width(), self.canvas.height())))

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
        background, example = self._example
        if self.canvas.shows_image_only() and self.canvas.background is background and \
                example.shape == (self.predictor.spec.size,) * 2:
            # The canvas path still gives the ink's box on the pad, for the saliency overlay.
            on_pad = preprocess.prepare_image(self.canvas.grayscale(), self.predictor.spec)
            return self.predictor.predict_prepared(preprocess.Prepared(example, False, on_pad.inverted, on_pad.bbox))
        return self.predictor.predict_image(self.canvas.grayscale())

    def predict_now(self) -> None:
        self._predict_timer.stop()
        prediction = self.read_drawing()
        self.last_prediction = prediction
        self._show_prediction(prediction)
        self.bus.predictionChanged.emit(prediction)

    def _show_prediction(self, prediction) -> None:
        alphabet = self.model.alphabet
        if prediction is None:
            self.prediction_label.setText("")
            self.confidence_label.setText("No model loaded: File > Open model")
            self.chart.set_probabilities(None)
            self.both_header.setText("")
            return
        if prediction.empty:
            self.prediction_label.setText("")
            self.confidence_label.setText(DRAW_PROMPTS[alphabet])
            self.chart.set_probabilities(None)
            self.both_header.setText("")
            self.preview.clear()
            return
        self.prediction_label.setText(prediction.shown)
        if prediction.confident:
            self.confidence_label.setText(f"{prediction.score * 100:.1f}% sure")
        else:
            self.confidence_label.setText(
                f"Unsure ({prediction.score * 100:.0f}%): this may not be {THINGS[alphabet]}, or it is ambiguous"
            )
        self.chart.set_probabilities(prediction.probabilities, prediction.confident)
        if alphabet == "both":
            self.both_header.setText(best_of_each(self.predictor.classes, prediction.probabilities))
        self.preview.setPixmap(image_to_pixmap(prediction.prepared.image, PREVIEW_SIZE_PX))

    # --- about, settings, closing -------------------------------------------------------------

    def show_about(self) -> None:
        import torch

        model = "none"
        if self.checkpoint is not None:
            figure = self.checkpoint.test_figure
            model = f"{self.model_path or 'unsaved'}<br>{self.checkpoint.arch}" + (f", {figure}" if figure else "")
        cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA GPU"
        QMessageBox.about(
            self,
            "About digitpad",
            f"<b>digitpad {__version__}</b><br>Draw a digit, watch a CNN read it, train it, look inside it.<br><br>"
            f"Model: {model}<br>Inference device: {self.inference_device}<br>Training devices: {', '.join(available_devices())} ({cuda})<br>"
            f"torch {torch.__version__}",
        )

    def _restore_settings(self) -> None:
        # The dock layout waits for the first show (showEvent).
        self._pending_dock_state = app_settings.read(self.settings, "window_state", None, QByteArray)
        geometry = app_settings.read(self.settings, "geometry", None, QByteArray)
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.pen_slider.setValue(app_settings.read(self.settings, "pen_width", int(self.canvas.pen_width), int))
        self.alphabet_choice.restore()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._pending_dock_state is not None:
            # Restored here, not before the first show: Qt 6.11 restoring tabbed groups with hidden
            # docks into a window never shown leaves stale tab bars on screen (one over the File and
            # Edit menus, one under the pad's controls) and a group shown later gets no tabs.
            state, self._pending_dock_state = self._pending_dock_state, None
            self.restoreState(state)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.runs.shutdown()  # every run and task stops within a batch (or chunk, or file); nothing saved
        for widget in self.dock_widgets.values():
            shutdown = getattr(widget, "shutdown", None)
            if shutdown is not None:
                shutdown()
        self.settings.setValue("geometry", self.saveGeometry())
        # A window closed before it was ever shown keeps the saved layout it has not applied yet.
        pending = self._pending_dock_state
        self.settings.setValue("window_state", pending if pending is not None else self.saveState())
        self.settings.setValue("pen_width", self.pen_slider.value())
        self.settings.sync()
        gc.unfreeze()  # let a full collection reclaim this window (an embedder may open another)
        super().closeEvent(event)


def _scrollable(widget: QWidget) -> QScrollArea:
    """Docks scroll rather than impose their full size: the window must fit a 1366x768 laptop."""
    holder = QWidget()
    layout = _PlainHeightLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(widget)
    area = QScrollArea()
    area.setWidget(holder)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area


class _PlainHeightLayout(QVBoxLayout):
    """What a dock's scroll area sees: never height-for-width. A wrapped label anywhere in a dock made
    it so, and the scroll area then sized the dock's content to its preferred height rather than to
    the dock (the Training dock's curves slid below its edge once a run started): now the content
    takes the dock's height, and scrolls only below its minimum."""

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return False
