"""The Training dock: pick data, model and recipe, click Train, watch the curves grow.

This module is the dock's run control: it starts a training run through the window's
``ui.runs.RunController`` (on a worker thread, so the window never freezes), pauses and stops it,
offers the download when the data is missing, and hands the finished model to the pad. The parts:
``training_form.TrainingForm`` (the fields), ``run_view.RunView`` (progress, status and curves of
whichever run is active, its own or a fine-tune that My digits started), ``download.DatasetDownload``
(the banner's Download button). When its run ends (or is stopped: the best epoch so far is kept)
the model becomes the pad's live predictor at once (``LiveModel.set_checkpoint``), and "Back to
<model>" (``swap_model_button``) returns to the model the pad read with before, and forth. Closing
the window stops a run within one batch and saves nothing.

Scriptable: every control has an objectName (``train_button``, ``pause_button``, ``stop_button``,
``dataset_choice``, ``model_choice``, ``epochs``, ``loss_plot``, ``accuracy_plot``,
``train_progress``, ...) and an accessible name. ``set_config``/``config`` read and write all
fields; ``data_loader`` replaces how datasets are read (tests feed tiny data through it).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Slot
from PySide6.QtWidgets import (
    QFileDialog, QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea, QVBoxLayout, QWidget,
)

from ...core.config import TrainConfig
from ...core.datasets import DATASETS
from ...core.events import DataReady, DataUnavailable, RunFinished
from ...core.trainer import RunControl
from .. import settings as app_settings
from ..bus import AppBus
from ..live_model import model_name
from ..runs import Run, RunController
from ..workers import TrainingWorker, WorkerThread, load_training_data
from .controls import named
from .download import DatasetDownload
from .run_view import RunView, ending_text, result_text
from .training_form import DATASET_TITLES, TrainingForm


class TrainingPanel(QWidget):
    """Train a model inside the app.

    Events (on ``bus``, the window's ``AppBus``)
    ------------------------------------------
    The ``RunController`` tells the bus about the runs it starts (trainingStarted, trainingEvent,
    trainingFinished; runStarted, runEvent, runEnded). A run whose data is missing never starts
    training (the panel offers the download) and emits no training signal. ``statusMessage`` for
    exports and downloads.
    """

    def __init__(self, context=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("training_panel")
        self.setAccessibleName("Training panel")
        self.context = context  # a DockContext; None: a panel on its own (no pad to hand models to)
        self.bus: AppBus = context.bus if context is not None else AppBus(self)
        self.settings = context.settings if context is not None else app_settings.open_settings()
        self.runs: RunController = context.runs if context is not None else RunController(self.bus, self.settings, self)
        self.data_loader = load_training_data  # (name, root, progress) -> DigitData
        self.checkpoint = None  # the last trained model
        self.control: RunControl | None = None
        self.run_thread: WorkerThread | None = None
        self.run_config: TrainConfig | None = None
        self.last_result: RunFinished | None = None
        self._before_run: tuple | None = None  # (checkpoint, path) the pad read with before the run's model
        self._closing = False
        self._missing_dataset: str | None = None
        self._build()
        self._set_running(False)
        self.bus.runStarted.connect(self._on_run_started)
        self.bus.runEnded.connect(self._on_run_ended)
        self.bus.modelChanged.connect(self._on_model_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # --- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.form = TrainingForm()
        form = self.form
        self.dataset_choice, self.model_choice, self.model_description = form.dataset_choice, form.model_choice, form.model_description
        self.optimizer_choice, self.learning_rate, self.batch_size = form.optimizer_choice, form.learning_rate, form.batch_size
        self.epochs, self.augment, self.device_choice, self.device_label = form.epochs, form.augment, form.device_choice, form.device_label
        self._config_widgets = form.widgets

        self.train_button = named(QPushButton("Train"), "train_button", "Train", "Start training with these settings")
        self.pause_button = named(QPushButton("Pause"), "pause_button", "Pause or resume training",
                                  "Pause after the current batch; click again to resume")
        self.stop_button = named(QPushButton("Stop"), "stop_button", "Stop training",
                                 "Stop after the current batch and keep the best model so far")
        self.train_button.clicked.connect(self.start_training)
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.stop_button.clicked.connect(self.stop_training)
        buttons = QHBoxLayout()
        for button in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)

        self.save_button = named(QPushButton("Save model as..."), "save_button", "Save the trained model",
                                 "Keep the freshly trained model in a file")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.export_png_button = named(
            QPushButton("Export PNG..."), "export_png_button", "Export the curves as PNG",
            "Save the loss, accuracy and learning-rate curves as a PNG image",
        )
        self.export_png_button.clicked.connect(self._on_export_png_clicked)
        self.export_csv_button = named(
            QPushButton("Export CSV..."), "export_csv_button", "Export the metrics as CSV",
            "Save every logged value of this run (losses, accuracies, learning rate) as CSV",
        )
        self.export_csv_button.clicked.connect(self._on_export_csv_clicked)
        # A finished run's model replaces the pad's at once; this goes back (and forth), so a run
        # stopped after a few batches never costs the model the pad read with before.
        self.swap_button = named(QPushButton(""), "swap_model_button", "Switch the pad's model",
                                 "Switch the pad between the trained model and the one it read with before the run")
        self.swap_button.clicked.connect(self._on_swap_clicked)
        self.swap_button.setVisible(False)
        after = QHBoxLayout()
        after.addWidget(self.save_button)
        after.addWidget(self.export_png_button)
        after.addWidget(self.export_csv_button)

        # Train/Pause/Stop first: they must be visible without scrolling in a short dock. The form
        # scrolls on its own, so its height never sets the dock's: the curves keep the height there is.
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addWidget(form)
        settings_layout.addLayout(after)
        settings_layout.addStretch(1)
        self.form_scroll = QScrollArea(objectName="training_form_scroll")
        self.form_scroll.setWidget(settings)
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_scroll.setMinimumHeight(120)
        controls = QVBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addLayout(buttons)
        controls.addWidget(self.form_scroll, 1)
        left = QWidget()
        left.setLayout(controls)
        left.setMaximumWidth(340)
        left.setMinimumWidth(settings.sizeHint().width() + self.form_scroll.verticalScrollBar().sizeHint().width())

        self.view = RunView(self.bus, self)
        self.curves, self.progress = self.view.curves, self.view.progress
        self.status_label, self.result_label = self.view.status_label, self.view.result_label
        self.loss_plot = self.curves.loss_plot
        self.accuracy_plot = self.curves.accuracy_plot

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
        result_row = QHBoxLayout()
        result_row.addWidget(self.result_label, 1)
        result_row.addWidget(self.swap_button)
        layout.addLayout(result_row)
        layout.addLayout(upper, 1)

    def _build_banner(self) -> QFrame:
        banner = named(QFrame(), "data_banner", "Dataset missing")
        banner.setFrameShape(QFrame.Shape.StyledPanel)
        banner.setStyleSheet("#data_banner { background: #fff4d6; border: 1px solid #e0b040; }")
        self.banner_label = named(QLabel(""), "data_message", "Dataset problem")
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.download_progress = named(QProgressBar(), "download_progress", "Download progress")
        self.download_progress.setVisible(False)
        # Exclusive: the download leads to this dock's run, so nothing else starts meanwhile.
        self.downloader = DatasetDownload.with_button(
            self.runs, "Download", "download_button", "Download the dataset",
            "Fetch the published files and verify their checksums", self.download_progress, exclusive=True, parent=self,
        )
        self.download_button = self.downloader.button
        self.download_button.clicked.connect(self.download_dataset)
        self.downloader.ready.connect(self._on_downloaded)
        self.downloader.failed.connect(self._on_download_failed)
        self.downloader.ended.connect(self._on_download_ended)
        self.use_folder_button = named(QPushButton("Use folder..."), "use_folder_button", "Use a data folder",
                                       "A folder that already holds the dataset (remembered)")
        self.use_folder_button.clicked.connect(self._on_use_folder_clicked)
        row = QHBoxLayout()
        row.addWidget(self.banner_label, 1)
        row.addWidget(self.download_button)
        row.addWidget(self.use_folder_button)
        column = QVBoxLayout(banner)
        column.addLayout(row)
        column.addWidget(self.download_progress)
        banner.setVisible(False)
        return banner

    # --- configuration (the form's) -------------------------------------------------------------

    def set_config(self, config: TrainConfig) -> None:
        """Show ``config`` in the controls; fields without a control (schedule, ...) are kept."""
        self.form.set_config(config)

    def config(self) -> TrainConfig:
        """The run's configuration: the controls over the last recipe's other fields."""
        return self.form.config()

    def choose(self, name: str) -> None:
        """Select an architecture or a recipe by name, as a click in ``model_choice`` would."""
        self.form.choose(name)

    @property
    def data_root(self) -> Path | None:
        """The data folder the runs read ("Use folder..."; the window's, shared by every dock)."""
        return self.runs.data_root

    @data_root.setter
    def data_root(self, root: Path | None) -> None:
        self.runs.data_root = root

    # --- run control --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.run_thread is not None

    @property
    def busy(self) -> bool:
        """A run (this panel's or another's) or a download before one is going: do not start another."""
        return self.runs.busy

    @property
    def download_thread(self) -> WorkerThread | None:
        return self.downloader.thread

    @Slot()
    def start_training(self) -> bool:
        """Start a run with the current controls; False if one is already going or the config is bad."""
        if self.runs.busy or self._closing:
            return False
        try:
            config = self.config()
            config.validate()
        except ValueError as error:
            self.view.set_status(f"Cannot train: {error}", error=True)
            return False
        self.banner.setVisible(False)
        self.run_config = config
        self.last_result = None
        self.control = self.view.control = RunControl()
        worker = TrainingWorker(config, self.control, self.data_loader, self.data_root)
        run = Run("training", config=config, peak_lr=config.lr)
        self.run_thread = self.runs.start(run, worker, self._on_own_event, self._on_own_run_ended, "digitpad-training")
        return self.run_thread is not None

    @Slot()
    def stop_training(self) -> None:
        """Stop after the current batch; the best model so far is kept and handed to the pad."""
        if self.control is not None and self.running:
            self.control.stop()
            self.stop_button.setEnabled(False)
            self.pause_button.setEnabled(False)
            self.view.set_status("Stopping after this batch; the best model so far is kept…")

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
        free = not running and not self.runs.busy
        self.train_button.setEnabled(free)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Pause")
        self.download_button.setEnabled(free)
        self.use_folder_button.setEnabled(free)
        self.save_button.setEnabled(not running and self.checkpoint is not None and self.context is not None)

    # --- the runs (GUI thread; RunView draws them) ------------------------------------------------

    @Slot(object)
    def _on_run_started(self, run: Run) -> None:
        if not self._closing:
            self._set_running(run.kind == "training")
            self.swap_button.setVisible(False)  # the run view clears the result it spoke of

    @Slot(object)
    def _on_run_ended(self, _run: Run) -> None:
        self._set_running(False)

    def _on_own_event(self, event: object) -> None:
        """An event of this panel's run, after ``RunView`` drew it: the missing-data banner, and
        the finished model, which becomes the pad's."""
        if self._closing:
            return
        if isinstance(event, DataUnavailable):
            self._show_banner(event)
        if not isinstance(event, RunFinished):
            return
        self.last_result = event
        if event.checkpoint is None:
            return
        checkpoint, config = event.checkpoint, self.run_config
        checkpoint.meta.setdefault("name", f"{config.model} on {DATASET_TITLES.get(config.dataset, config.dataset)}")
        self.checkpoint = checkpoint
        if self.context is not None:
            live = self.context.model
            self._before_run = (live.checkpoint, live.model_path) if live.checkpoint is not None else None
            live.set_checkpoint(checkpoint)
            self._show_trained_in_use()
        test = f"test accuracy {event.test_accuracy * 100:.2f}%" if event.test_accuracy is not None else "no test digits"
        self.view.set_status(f"{ending_text(event, self.view.epochs)}; {test}.")

    # --- the pad's model: the trained one, or back to the one before -----------------------------

    def _show_trained_in_use(self) -> None:
        self.result_label.setText(f"{result_text(self.last_result)}. It is now the pad's model: draw to try it, or save it.")
        if self._before_run is not None:
            self.swap_button.setText(f"Back to {model_name(*self._before_run)}")
            self.swap_button.setVisible(True)

    def _on_swap_clicked(self) -> None:
        if self._before_run is None or self.checkpoint is None:
            return
        live = self.context.model
        if live.checkpoint is self.checkpoint:
            live.set_checkpoint(*self._before_run)
            self.result_label.setText(f"The pad reads with {model_name(*self._before_run)} again; the trained "
                                      "model is one click away, and Save model as... still saves it.")
            self.swap_button.setText("Use the trained model")
        else:
            live.set_checkpoint(self.checkpoint)
            self._show_trained_in_use()

    @Slot(object)
    def _on_model_changed(self, checkpoint) -> None:
        """Another model was opened: the swap no longer names the pad's two models."""
        if self._before_run is not None and checkpoint is not self.checkpoint and checkpoint is not self._before_run[0]:
            self.swap_button.setVisible(False)
            self._before_run = None

    def _on_own_run_ended(self) -> None:
        self.run_thread = None

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
        self.view.set_status(f"Cannot train: {title} is missing", error=True)

    @Slot()
    def download_dataset(self) -> bool:
        """Fetch the missing dataset on a worker thread (progress in the banner), then train."""
        name = self._missing_dataset or self.dataset_choice.currentData()
        if name not in DATASETS or self.runs.busy or self._closing:
            return False
        self._missing_dataset = name
        if not self.downloader.start(name, self.data_root):
            return False
        self.banner_label.setText(f"Downloading {DATASET_TITLES.get(name, name)}…")
        self._set_running(False)
        return True

    def _on_downloaded(self, event: DataReady) -> None:
        if self._closing:
            return
        self.banner.setVisible(False)
        self._missing_dataset = None
        self.bus.statusMessage.emit(f"Downloaded {DATASET_TITLES.get(event.dataset, event.dataset)} to {event.folder}")

    def _on_download_failed(self, message: str) -> None:
        if self._closing:
            return
        self.download_progress.setVisible(False)
        self.banner_label.setText(f"Download failed: {message}")

    @Slot()
    def _on_download_ended(self) -> None:
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
        self.data_root = root  # remembered in the settings
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
        if self.context is not None and self.checkpoint is not None:
            if self.context.model.checkpoint is not self.checkpoint:
                self.context.model.set_checkpoint(self.checkpoint)
            self.context.actions["save_model"].trigger()

    def _on_export_png_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export curves", "training-curves.png", "PNG images (*.png)")
        if path:
            try:
                saved = self.curves.export_png(path)
            except OSError as error:
                self.view.set_status(f"Cannot export: {error}", error=True)
                return
            self.bus.statusMessage.emit(f"Saved {saved}")

    def _on_export_csv_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics", "training-metrics.csv", "CSV files (*.csv)")
        if path:
            try:
                epochs, batches = self.curves.export_csv(path)
            except OSError as error:
                self.view.set_status(f"Cannot export: {error}", error=True)
                return
            self.bus.statusMessage.emit(f"Saved {epochs} and {batches}")

    # --- closing ------------------------------------------------------------------------------

    @Slot()
    def shutdown(self) -> None:
        """Stop any run or download within one batch (or chunk), wait for the thread, save nothing."""
        self._closing = True
        self.view.close()
        thread, self.run_thread = self.run_thread, None
        if thread is not None:
            thread.shutdown()
        self.downloader.shutdown()


def create_dock_widget(context) -> TrainingPanel:
    return TrainingPanel(context)
