"""The training panel: pick data, model and recipe, click Train, watch the curves grow.

The run happens on a worker thread (``digitpad.ui.training_worker``); this widget only turns the
worker's queued events into curves, a progress bar and a status line, so the window never freezes.
When a run ends (or is stopped: the best epoch so far is kept) its model becomes the pad's live
predictor at once through ``window.set_checkpoint``. Closing the window stops a run within one
batch and saves nothing.

Scriptable: every control has an objectName (``train_button``, ``pause_button``, ``stop_button``,
``dataset_choice``, ``model_choice``, ``epochs``, ``loss_plot``, ``accuracy_plot``,
``train_progress``, ...) and an accessible name. ``set_config``/``config`` read and write all
fields; ``data_loader`` replaces how datasets are read (tests feed tiny data through it).
"""

from __future__ import annotations

import copy
import dataclasses
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core import events as core_events
from ...core.config import OPTIMIZERS, TrainConfig
from ...core.datasets import DATASETS
from ...core.events import (
    EpochEnded,
    Evaluated,
    Paused,
    RunFailed,
    RunFinished,
    RunStarted,
    StepsEnded,
)
from ...core.inference import available_devices, select_device
from ...core.models import MODELS
from ...core.presets import PRESETS
from ...core.trainer import RunControl
from .. import settings as app_settings
from ..bus import AppBus
from ..training_worker import (
    DataLoaded,
    DataLoading,
    DataProgress,
    DataReady,
    DataUnavailable,
    DownloadWorker,
    TrainingWorker,
    WorkerThread,
    load_training_data,
)
from .training_curves import TrainingCurves

PROGRESS_STEPS = 1000  # progress bar resolution
PROGRESS_INTERVAL_MS = 250  # progress bar and its text: 4 updates a second at most
# While a run goes, a thread that wants the GIL waits at most this long for the other to yield it
# (Python's default: 5 ms). The trainer drops the GIL in every torch op anyway; the GUI thread
# drops and retakes it on each Qt call while painting, so the default let one repaint wait
# hundreds of times. Measured on the 2-core machine: worst GUI stall while training 260 -> 130 ms
# with the plots as they were, before the redraw work was cut.
TRAINING_SWITCH_INTERVAL_S = 0.0005
DATASET_TITLES = {"mnist": "MNIST", "usps": "USPS", "personal": "My digits", "pen": "Pen digits", "mnist+pen": "MNIST + pen digits"}
DATASET_TIPS = {"mnist+pen": "MNIST plus real pen digits drawn as on the pad, validated on other writers: the shipped recipe"}
OPTIMIZER_TITLES = {
    "sgd": "SGD",
    "momentum": "SGD + momentum",
    "nesterov": "SGD + Nesterov momentum",
    "adam": "Adam",
    "adamw": "AdamW",
    "adadelta": "Adadelta",
}
DEVICE_TITLES = {"auto": "Auto", "cpu": "CPU", "cuda": "CUDA GPU", "mps": "Apple GPU (MPS)"}


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _split_choice(data) -> tuple[str, str] | None:
    """'arch:lenet5' -> ('arch', 'lenet5'); None for a header."""
    if not data:
        return None
    kind, _, name = str(data).partition(":")
    return kind, name


def _named(widget: QWidget, name: str, accessible: str, tip: str = "") -> QWidget:
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    if tip:
        widget.setToolTip(tip)
    return widget


class TrainingPanel(QWidget):
    """Train a model inside the app.

    Events (on ``bus``, the window's ``AppBus``)
    ------------------------------------------
    trainingStarted(TrainConfig) when the trainer starts; trainingEvent(event) for every core
    event; trainingFinished(Checkpoint or None) when that run is over (None: it failed). A run
    whose data is missing never starts (the panel offers the download) and emits neither.
    ``statusMessage`` for exports and downloads.
    """

    def __init__(self, window=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("training_panel")
        self.setAccessibleName("Training panel")
        self.window_ = window
        self.bus: AppBus = window.bus if window is not None else AppBus(self)
        self.settings = window.settings if window is not None else app_settings.open_settings()
        self.data_loader = load_training_data  # (name, root, progress) -> DigitData
        saved = app_settings.read(self.settings, "data_dir", "", str)
        self.data_root: Path | None = Path(saved) if saved and Path(saved).is_dir() else None
        self.checkpoint = None  # the last trained model
        self.control: RunControl | None = None
        self.run_thread: WorkerThread | None = None
        self.download_thread: WorkerThread | None = None
        self.run_config: TrainConfig | None = None
        self.last_result: RunFinished | None = None
        self._started = False  # trainingStarted went out for the current run
        self._closing = False
        self._steps_per_epoch = 1
        self._epochs = 1
        self._missing_dataset: str | None = None
        self._switch_interval: float | None = None  # Python's, to restore when the run ends
        self._guest: str | None = None  # the title of a run another widget drives (see begin_guest_run)
        self._base = PRESETS["default"].make_config() if "default" in PRESETS else TrainConfig()

        self._latest_steps: StepsEnded | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_INTERVAL_MS)
        self._progress_timer.timeout.connect(self._show_steps)
        self._build()
        self.set_config(self._base)
        self._set_running(False)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # --- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.dataset_choice = _named(QComboBox(), "dataset_choice", "Dataset", "The digits to train on")
        names = ["mnist", "usps", "personal", "pen", "mnist+pen"]
        for name in names:
            self.dataset_choice.addItem(DATASET_TITLES.get(name, name), name)
            info = DATASETS.get(name)
            tip = info.description if info else DATASET_TIPS.get(name, "The digits you drew and labelled yourself")
            self.dataset_choice.setItemData(self.dataset_choice.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)

        self.model_choice = _named(QComboBox(), "model_choice", "Model or recipe",
                                   "An architecture (keeps the other settings) or a recipe (sets them all)")
        self.model_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_choice.setMinimumContentsLength(16)
        self._add_header(self.model_choice, "Architectures")
        for info in MODELS.values():
            self.model_choice.addItem(info.name, f"arch:{info.name}")
            self.model_choice.setItemData(self.model_choice.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole)
        self._add_header(self.model_choice, "Recipes (set every field)")
        for preset in PRESETS.values():
            self.model_choice.addItem(f"{preset.name} (recipe)", f"preset:{preset.name}")
            self.model_choice.setItemData(self.model_choice.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)
        self.model_choice.view().setMinimumWidth(260)
        self.model_description = _named(QLabel(), "model_description", "Model description")
        self.model_description.setWordWrap(True)
        font = self.model_description.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.model_description.setFont(font)

        self.optimizer_choice = _named(
            QComboBox(), "optimizer_choice", "Optimizer", "How the weights are updated from the gradients"
        )
        for name in OPTIMIZERS:
            self.optimizer_choice.addItem(OPTIMIZER_TITLES.get(name, name), name)
        self.learning_rate = _named(QDoubleSpinBox(), "learning_rate", "Learning rate",
                                    "Peak learning rate for one-cycle, initial for the other schedules")
        self.learning_rate.setDecimals(5)
        self.learning_rate.setRange(1e-5, 10.0)
        self.learning_rate.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.batch_size = _named(QSpinBox(), "batch_size", "Batch size", "Digits per optimizer step")
        self.batch_size.setRange(1, 4096)
        self.epochs = _named(QSpinBox(), "epochs", "Epochs", "Passes over the training digits")
        self.epochs.setRange(1, 1000)
        self.augment = _named(QCheckBox("Augmentation"), "augment", "Augmentation",
                              "Small random shifts, rotations and scalings of each training batch")
        self.device_choice = _named(
            QComboBox(), "device_choice", "Training device", "Where training runs: Auto picks a GPU when there is one"
        )
        for name in available_devices():
            self.device_choice.addItem(DEVICE_TITLES.get(name, name), name)
        self.device_label = _named(QLabel(), "device_label", "Chosen training device")
        self.device_choice.currentIndexChanged.connect(self._show_device)
        device_row = QHBoxLayout()
        device_row.addWidget(self.device_choice, 1)
        device_row.addWidget(self.device_label)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Dataset", self.dataset_choice)
        form.addRow("Model", self.model_choice)
        form.addRow(self.model_description)
        form.addRow("Optimizer", self.optimizer_choice)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Epochs", self.epochs)
        form.addRow(self.augment)
        form.addRow("Device", device_row)
        self.model_choice.currentIndexChanged.connect(self._on_model_chosen)

        self.train_button = _named(QPushButton("Train"), "train_button", "Train", "Start training with these settings")
        self.pause_button = _named(QPushButton("Pause"), "pause_button", "Pause or resume training",
                                   "Pause after the current batch; click again to resume")
        self.stop_button = _named(QPushButton("Stop"), "stop_button", "Stop training",
                                  "Stop after the current batch and keep the best model so far")
        self.train_button.clicked.connect(self.start_training)
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.stop_button.clicked.connect(self.stop_training)
        buttons = QHBoxLayout()
        for button in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)

        self.save_button = _named(QPushButton("Save model as..."), "save_button", "Save the trained model",
                                  "Keep the freshly trained model in a file")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.export_png_button = _named(
            QPushButton("Export PNG..."), "export_png_button", "Export the curves as PNG",
            "Save the loss, accuracy and learning-rate curves as a PNG image",
        )
        self.export_png_button.clicked.connect(self._on_export_png_clicked)
        self.export_csv_button = _named(
            QPushButton("Export CSV..."), "export_csv_button", "Export the metrics as CSV",
            "Save every logged value of this run (losses, accuracies, learning rate) as CSV",
        )
        self.export_csv_button.clicked.connect(self._on_export_csv_clicked)
        after = QHBoxLayout()
        after.addWidget(self.save_button)
        after.addWidget(self.export_png_button)
        after.addWidget(self.export_csv_button)

        # Train/Pause/Stop first: they must be visible without scrolling in a short dock.
        controls = QVBoxLayout()
        controls.addLayout(buttons)
        controls.addLayout(form)
        controls.addLayout(after)
        controls.addStretch(1)
        left = QWidget()
        left.setLayout(controls)
        left.setMaximumWidth(340)

        self.curves = TrainingCurves()
        self.loss_plot = self.curves.loss_plot
        self.accuracy_plot = self.curves.accuracy_plot

        self.progress = _named(QProgressBar(), "train_progress", "Training progress")
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Not started")
        self.status_label = _named(QLabel(""), "train_status", "Training status")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label = _named(QLabel(""), "train_result", "Training result")
        self.result_label.setWordWrap(True)

        self.banner = self._build_banner()

        upper = QHBoxLayout()
        upper.addWidget(left)
        upper.addWidget(self.curves, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        status_row = QHBoxLayout()  # progress and status above the curves: never scrolled away
        status_row.addWidget(self.progress, 1)
        status_row.addWidget(self.status_label, 2)
        layout.addLayout(status_row)
        layout.addWidget(self.result_label)
        layout.addLayout(upper, 1)

        self._config_widgets = [
            self.dataset_choice, self.model_choice, self.optimizer_choice, self.learning_rate,
            self.batch_size, self.epochs, self.augment, self.device_choice,
        ]

    def _build_banner(self) -> QFrame:
        banner = _named(QFrame(), "data_banner", "Dataset missing")
        banner.setFrameShape(QFrame.Shape.StyledPanel)
        banner.setStyleSheet("#data_banner { background: #fff4d6; border: 1px solid #e0b040; }")
        self.banner_label = _named(QLabel(""), "data_message", "Dataset problem")
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.download_button = _named(QPushButton("Download"), "download_button", "Download the dataset",
                                      "Fetch the published files and verify their checksums")
        self.download_button.clicked.connect(self.download_dataset)
        self.use_folder_button = _named(QPushButton("Use folder..."), "use_folder_button", "Use a data folder",
                                        "A folder that already holds the dataset (remembered)")
        self.use_folder_button.clicked.connect(self._on_use_folder_clicked)
        self.download_progress = _named(QProgressBar(), "download_progress", "Download progress")
        self.download_progress.setVisible(False)
        row = QHBoxLayout()
        row.addWidget(self.banner_label, 1)
        row.addWidget(self.download_button)
        row.addWidget(self.use_folder_button)
        column = QVBoxLayout(banner)
        column.addLayout(row)
        column.addWidget(self.download_progress)
        banner.setVisible(False)
        return banner

    @staticmethod
    def _add_header(combo: QComboBox, text: str) -> None:
        combo.addItem(f"— {text} —", None)
        item = combo.model().item(combo.count() - 1)
        item.setEnabled(False)
        item.setSelectable(False)

    # --- configuration ------------------------------------------------------------------------

    def set_config(self, config: TrainConfig) -> None:
        """Show ``config`` in the controls; fields without a control (schedule, ...) are kept."""
        self._base = dataclasses.replace(config, model_args=copy.deepcopy(config.model_args))
        widgets = [*self._config_widgets]
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self._select_data(self.dataset_choice, config.dataset)
            self._select_data(self.model_choice, f"arch:{config.model}")
            self._select_data(self.optimizer_choice, config.optimizer)
            self.learning_rate.setValue(config.lr)
            self.batch_size.setValue(config.batch_size)
            self.epochs.setValue(config.epochs)
            self.augment.setChecked(config.augment)
            self._select_data(self.device_choice, config.device, fallback="auto")
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self._show_description()
        self._show_device()

    def config(self) -> TrainConfig:
        """The run's configuration: the controls over the last recipe's other fields."""
        kind, name = _split_choice(self.model_choice.currentData()) or ("arch", self._base.model)
        model = name if kind == "arch" else self._base.model
        return dataclasses.replace(
            self._base,
            dataset=self.dataset_choice.currentData(),
            model=model,
            model_args=copy.deepcopy(self._base.model_args) if model == self._base.model else {},
            optimizer=self.optimizer_choice.currentData(),
            lr=float(self.learning_rate.value()),
            batch_size=int(self.batch_size.value()),
            epochs=int(self.epochs.value()),
            augment=self.augment.isChecked(),
            device=self.device_choice.currentData(),
        )

    def choose(self, name: str) -> None:
        """Select an architecture or a recipe by name, as a click in ``model_choice`` would."""
        for kind in ("preset", "arch") if name in PRESETS else ("arch", "preset"):
            index = self.model_choice.findData(f"{kind}:{name}")
            if index >= 0:
                self.model_choice.setCurrentIndex(index)
                return
        raise KeyError(f"no model or recipe {name!r}")

    @staticmethod
    def _select_data(combo: QComboBox, value, fallback=None) -> None:
        index = combo.findData(value)
        if index < 0 and fallback is not None:
            index = combo.findData(fallback)
        if index >= 0:
            combo.setCurrentIndex(index)

    def _on_model_chosen(self, index: int) -> None:
        data = _split_choice(self.model_choice.itemData(index))
        if not data:
            return
        kind, name = data
        if kind == "preset":
            self.set_config(PRESETS[name].make_config())
            self.model_choice.blockSignals(True)
            self.model_choice.setCurrentIndex(index)  # keep showing the recipe that was chosen
            self.model_choice.blockSignals(False)
        else:
            # An architecture keeps every other field; its own size arguments start from its defaults.
            current = self.config()
            self._base = dataclasses.replace(current, model=name, model_args=current.model_args if name == current.model else {})
        self._show_description()

    def _show_description(self) -> None:
        data = _split_choice(self.model_choice.currentData())
        if not data:
            self.model_description.setText("")
            return
        kind, name = data
        self.model_description.setText(PRESETS[name].description if kind == "preset" else MODELS[name].description)

    def _show_device(self, *_args) -> None:
        choice = self.device_choice.currentData() or "auto"
        try:
            device = str(select_device(choice))
        except ValueError:
            device = "unavailable"
        self.device_label.setText(f"→ {device}")
        self.device_label.setToolTip(f"Training will run on {device}")

    # --- run control --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.run_thread is not None

    @Slot()
    def start_training(self) -> bool:
        """Start a run with the current controls; False if one is already going or the config is bad."""
        if self.running or self.download_thread is not None or self._guest is not None or self._closing:
            return False
        try:
            config = self.config()
            config.validate()
        except ValueError as error:
            self._set_status(f"Cannot train: {error}", error=True)
            return False
        self.banner.setVisible(False)
        self.run_config = config
        self.last_result = None
        self._started = False
        self._epochs = config.epochs
        self.control = RunControl()
        if self._switch_interval is None:
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(TRAINING_SWITCH_INTERVAL_S)
        worker = TrainingWorker(config, self.control, self.data_loader, self.data_root)
        self.run_thread = WorkerThread(worker, "digitpad-training", self)
        self.run_thread.event.connect(self._on_worker_event)
        self.run_thread.finished.connect(self._on_run_ended)
        self.curves.peak_lr = config.lr  # the schedules never go above it
        self.result_label.setText("")
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")
        self._set_running(True)
        self.run_thread.start()
        return True

    @Slot()
    def stop_training(self) -> None:
        """Stop after the current batch; the best model so far is kept and handed to the pad."""
        if self.control is not None and self.running:
            self.control.stop()
            self.stop_button.setEnabled(False)
            self.pause_button.setEnabled(False)
            self._set_status("Stopping after this batch; the best model so far is kept…")

    def pause_training(self) -> None:
        if self.control is not None and self.running and not self.control.paused:
            self.control.pause()
            self.pause_button.setText("Resume")
            self.pause_button.setToolTip("Continue training")

    def resume_training(self) -> None:
        if self.control is not None and self.running and self.control.paused:
            self.control.resume()
            self.pause_button.setText("Pause")
            self.pause_button.setToolTip("Pause after the current batch; click again to resume")

    def _on_pause_clicked(self) -> None:
        if self.control is not None and self.control.paused:
            self.resume_training()
        else:
            self.pause_training()

    def _set_running(self, running: bool) -> None:
        for widget in self._config_widgets:
            widget.setEnabled(not running)
        free = not running and self.download_thread is None and self._guest is None
        self.train_button.setEnabled(free)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Pause")
        self.download_button.setEnabled(free)
        self.use_folder_button.setEnabled(free)
        self.save_button.setEnabled(not running and self.checkpoint is not None and self.window_ is not None)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet("color: #b00020;" if error else "")

    # --- events from the worker (GUI thread, queued) --------------------------------------------

    @Slot(object)
    def _on_worker_event(self, event: object) -> None:
        if self._closing:
            return
        if isinstance(event, RunStarted):
            self._on_run_started(event)
        if type(event).__module__ == core_events.__name__ and self._started:
            self.bus.trainingEvent.emit(event)
        self.curves.add_event(event)
        if isinstance(event, StepsEnded):
            self._on_steps(event)
        elif isinstance(event, EpochEnded):
            best = " (best so far)" if event.is_best else ""
            self.result_label.setText(
                f"Epoch {event.epoch}: train {event.train_accuracy * 100:.2f}%, "
                f"validation {event.val_accuracy * 100:.2f}%{best}"
            )
        elif isinstance(event, Paused):
            self._on_paused(event)
        elif isinstance(event, Evaluated):
            if event.split == "val":
                self._set_status("Evaluating the best model on the test digits…")
        elif isinstance(event, RunFinished):
            self._on_run_finished(event)
        elif isinstance(event, RunFailed):
            self._set_status(f"Training failed: {event.message}", error=True)
            self.progress.setFormat("Failed")
        elif isinstance(event, DataLoading):
            self._set_status(f"Reading {DATASET_TITLES.get(event.dataset, event.dataset)}…")
            self.progress.setFormat("Reading the data…")
        elif isinstance(event, DataLoaded):
            self._set_status(
                f"Read {DATASET_TITLES.get(event.dataset, event.dataset)}: {event.train_size:,} training and "
                f"{event.test_size:,} test digits in {event.seconds:.1f} s; preparing the model…"
            )
        elif isinstance(event, DataUnavailable):
            self._show_banner(event)
            self.progress.setFormat("Not started")

    def _on_run_started(self, event: RunStarted) -> None:
        self._started = True
        self._steps_per_epoch = max(1, event.steps_per_epoch)
        self._epochs = event.epochs
        self.bus.trainingStarted.emit(self.run_config)
        threads = f", {event.threads} torch thread{'s' if event.threads != 1 else ''} (the window keeps a core)" if event.device == "cpu" else ""
        val = f" / {event.val_size:,} validation" if event.val_size else ""
        self._set_status(
            f"Training on {event.device}{threads} · {event.train_size:,} training{val} / {event.test_size:,} test digits · "
            f"{event.parameters:,} parameters"
        )
        self.progress.setFormat(f"Epoch 1/{event.epochs} · starting…")

    def _on_steps(self, event: StepsEnded) -> None:
        # Up to 20 reports a second; a progress bar repaints synchronously on setValue, and text
        # changing faster than ~4 times a second cannot be read anyway: show the latest at that rate.
        self._latest_steps = event
        if not self._progress_timer.isActive():
            self._show_steps()
            self._progress_timer.start()

    def _show_steps(self) -> None:
        event, self._latest_steps = self._latest_steps, None
        if event is None or self._closing:
            return
        self.progress.setValue(int(event.progress * PROGRESS_STEPS))
        batch = event.step - (event.epoch - 1) * self._steps_per_epoch
        if event.samples_per_s > 0:
            rate = f" · {event.samples_per_s:,.0f} samples/s · ETA {_duration(event.eta_s)}"
        else:
            rate = ""
        paused = "Paused · " if self.control is not None and self.control.paused else ""
        self.progress.setFormat(f"{paused}Epoch {event.epoch}/{self._epochs} · batch {batch}/{self._steps_per_epoch}{rate}")

    def _on_paused(self, event: Paused) -> None:
        self._show_steps()
        text = self.progress.format().removeprefix("Paused · ")
        self.progress.setFormat(f"Paused · {text}" if event.paused else text)

    def _on_run_finished(self, event: RunFinished) -> None:
        self._show_steps()
        self._progress_timer.stop()
        self.last_result = event
        worker = self.run_thread.worker if self.run_thread is not None else None
        checkpoint = getattr(getattr(worker, "trainer", None), "checkpoint", None)
        self.progress.setValue(PROGRESS_STEPS if not event.stopped else self.progress.value())
        how = f"Stopped after {event.epochs_done} of {self._epochs} epochs" if event.stopped else f"Trained {event.epochs_done} epochs"
        test = f"Test accuracy {event.test_accuracy * 100:.2f}%" if event.test_accuracy is not None else "No test digits"
        best = f" (best epoch {event.best_epoch}, validation {event.best_val_accuracy * 100:.2f}%)" if event.best_epoch and event.best_val_accuracy >= 0 else ""
        self.progress.setFormat(f"{how} in {_duration(event.elapsed_s)}")
        if checkpoint is None:
            self.result_label.setText(f"{test}{best}.")
            return
        config = self.run_config
        checkpoint.meta.setdefault("name", f"{config.model} on {DATASET_TITLES.get(config.dataset, config.dataset)}")
        self.checkpoint = checkpoint
        if self.window_ is not None:
            self.window_.set_checkpoint(checkpoint)
            self.result_label.setText(f"{test}{best}. It is now the pad's model: draw to try it, or save it.")
        else:
            self.result_label.setText(f"{test}{best}.")
        self._set_status(f"{how}; {test.lower()}.")

    def _restore_switch_interval(self) -> None:
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None

    @Slot()
    def _on_run_ended(self) -> None:
        self._restore_switch_interval()
        thread, self.run_thread = self.run_thread, None
        if thread is not None:
            thread.deleteLater()
        self._set_running(False)
        if self._started:
            self._started = False
            self.bus.trainingFinished.emit(self.checkpoint if self.last_result is not None else None)

    # --- runs driven elsewhere (My digits' fine-tuning) -----------------------------------------

    @property
    def busy(self) -> bool:
        """A run (this panel's or a guest's) or a download is going: do not start another."""
        return self.running or self.download_thread is not None or self._guest is not None

    def begin_guest_run(self, title: str, peak_lr: float | None = None) -> bool:
        """Show a run that another widget drives on its own worker thread (``title``, e.g.
        "Fine-tuning on my digits") in the curves, progress bar and status; Train is locked until
        ``end_guest_run``. Feed its core events to ``show_guest_event``. False when busy."""
        if self.busy or self._closing:
            return False
        self._guest = title
        self.control = None  # Pause/Stop belong to the guest's own widget
        self._started = False
        self._epochs = 1
        self._steps_per_epoch = 1
        if self._switch_interval is None:
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(TRAINING_SWITCH_INTERVAL_S)
        self.curves.peak_lr = peak_lr or 0.0
        self.result_label.setText("")
        self.progress.setValue(0)
        self.progress.setFormat(f"{title}: starting…")
        self._set_status(f"{title}…")
        self._set_running(False)
        return True

    def show_guest_event(self, event: object) -> None:
        """One event of the guest run (GUI thread): core events feed the curves and progress."""
        if self._guest is None or self._closing:
            return
        self.curves.add_event(event)
        if isinstance(event, RunStarted):
            self._steps_per_epoch = max(1, event.steps_per_epoch)
            self._epochs = event.epochs
            self._set_status(f"{self._guest} on {event.device} · {event.train_size:,} examples an epoch · "
                             f"{event.parameters:,} parameters")
            self.progress.setFormat(f"Epoch 1/{event.epochs} · starting…")
        elif isinstance(event, StepsEnded):
            self._on_steps(event)
        elif isinstance(event, EpochEnded):
            self.result_label.setText(f"{self._guest}, epoch {event.epoch}: train {event.train_accuracy * 100:.2f}%")
        elif isinstance(event, Paused):
            self._on_paused(event)

    def end_guest_run(self, text: str, error: bool = False) -> None:
        """The guest run is over: show ``text`` and unlock Train."""
        if self._guest is None:
            return
        self._show_steps()
        self._progress_timer.stop()
        if not error:
            self.progress.setValue(PROGRESS_STEPS)
        self.progress.setFormat("Failed" if error else f"{self._guest}: done")
        self._guest = None
        self._restore_switch_interval()
        self._set_status(text, error=error)
        self._set_running(False)

    # --- missing data -------------------------------------------------------------------------

    def _show_banner(self, event: DataUnavailable) -> None:
        self._missing_dataset = event.dataset
        title = DATASET_TITLES.get(event.dataset, event.dataset)
        if event.can_download:
            self.banner_label.setText(f"{title} is not available: {event.message}\n"
                                      "Download it, or point to a folder that holds it.")
        else:
            self.banner_label.setText(f"{title}: {event.message}")
        self.download_button.setVisible(event.can_download)
        self.use_folder_button.setVisible(event.can_download)
        self.download_progress.setVisible(False)
        self.banner.setVisible(True)
        self._set_status(f"Cannot train: {title} is missing", error=True)

    @Slot()
    def download_dataset(self) -> bool:
        """Fetch the missing dataset on a worker thread (progress in the banner), then train."""
        name = self._missing_dataset or self.dataset_choice.currentData()
        if name not in DATASETS or self.download_thread is not None or self.running or self._closing:
            return False
        self._missing_dataset = name
        self.download_thread = WorkerThread(DownloadWorker(name, self.data_root), "digitpad-download", self)
        self.download_thread.event.connect(self._on_download_event)
        self.download_thread.finished.connect(self._on_download_ended)
        self.download_progress.setRange(0, 0)
        self.download_progress.setVisible(True)
        self.banner_label.setText(f"Downloading {DATASET_TITLES.get(name, name)}…")
        self._set_running(False)
        self.download_thread.start()
        return True

    @Slot(object)
    def _on_download_event(self, event: object) -> None:
        if self._closing:
            return
        if isinstance(event, DataProgress):
            show_download_progress(self.download_progress, event)
        elif isinstance(event, DataReady):
            self.banner.setVisible(False)
            self._missing_dataset = None
            self.bus.statusMessage.emit(f"Downloaded {DATASET_TITLES.get(event.dataset, event.dataset)} to {event.folder}")
        elif isinstance(event, (DataUnavailable, RunFailed)):
            self.download_progress.setVisible(False)
            self.banner_label.setText(f"Download failed: {event.message}")

    @Slot()
    def _on_download_ended(self) -> None:
        thread, self.download_thread = self.download_thread, None
        if thread is not None:
            thread.deleteLater()
        self._set_running(False)
        if self.banner.isHidden():  # it worked: go on with the run the user asked for
            self.start_training()

    def use_data_folder(self, folder: str | Path) -> Path:
        """Read datasets from ``folder`` (a data root holding ``mnist/``, or a dataset folder itself),
        remember it, and retry the run. Returns the data root used."""
        folder = Path(folder)
        name = self._missing_dataset or self.dataset_choice.currentData()
        root = folder
        if not (folder / name).is_dir() and folder.name.lower() == name:
            root = folder.parent  # they picked .../mnist itself
        self.data_root = root
        self.settings.setValue("data_dir", str(root))
        self.banner.setVisible(False)
        self._missing_dataset = None
        self.start_training()
        return root

    def _on_use_folder_clicked(self) -> None:
        start = str(self.data_root) if self.data_root else ""
        folder = QFileDialog.getExistingDirectory(self, "Folder with the digit data", start)
        if folder:
            self.use_data_folder(folder)

    # --- after a run --------------------------------------------------------------------------

    def _on_save_clicked(self) -> None:
        if self.window_ is not None and self.checkpoint is not None:
            if self.window_.checkpoint is not self.checkpoint:
                self.window_.set_checkpoint(self.checkpoint)
            self.window_.save_model_dialog()

    def _on_export_png_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export curves", "training-curves.png", "PNG images (*.png)")
        if path:
            try:
                saved = self.curves.export_png(path)
            except OSError as error:
                self._set_status(f"Cannot export: {error}", error=True)
                return
            self.bus.statusMessage.emit(f"Saved {saved}")

    def _on_export_csv_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics", "training-metrics.csv", "CSV files (*.csv)")
        if path:
            try:
                epochs, batches = self.curves.export_csv(path)
            except OSError as error:
                self._set_status(f"Cannot export: {error}", error=True)
                return
            self.bus.statusMessage.emit(f"Saved {epochs} and {batches}")

    # --- closing ------------------------------------------------------------------------------

    @Slot()
    def shutdown(self) -> None:
        """Stop any run or download within one batch (or chunk), wait for the thread, save nothing."""
        self._closing = True
        for attr in ("run_thread", "download_thread"):
            thread = getattr(self, attr)
            if thread is not None:
                thread.shutdown()
                setattr(self, attr, None)
        self._restore_switch_interval()


def show_download_progress(bar, event: DataProgress) -> None:
    """Bytes downloaded on ``bar``; a busy bar while the server has not said the total."""
    if event.total:
        bar.setRange(0, 1000)
        bar.setValue(int(1000 * event.done / event.total))
        bar.setFormat(f"{event.done / 1e6:.1f} of {event.total / 1e6:.1f} MB")


def create_dock_widget(window) -> TrainingPanel:
    return TrainingPanel(window)
