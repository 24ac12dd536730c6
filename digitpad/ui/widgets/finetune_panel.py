"""My digits' fine-tuning: a short training run of the pad's model on the user's digits, with
replay of MNIST so it does not forget it, and the MNIST download it may need first.

Fine-tuning (``core.finetune.Finetuner``) loads MNIST to replay, measures the model before,
trains, measures after. It is a run of the window's ``ui.runs.RunController`` like training, so the
Training dock draws its progress and curves from the bus, and its core events go out on
``bus.trainingEvent`` (the kernel viewer follows the weights). This widget shows its own progress
and the before/after accuracies; at the end the fine-tuned model becomes the pad's model and
"Save model as..." is offered.

Scriptable: ``finetune_button``, ``finetune_stop``, ``finetune_save``, ``finetune_download``,
``finetune_progress``, ``finetune_status``, ``finetune_result``. ``base_loader`` and
``finetune_config`` may be replaced (tests inject tiny data and a short run).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ...core.datasets import DigitData
from ...core.events import (
    DataLoaded,
    DataUnavailable,
    EpochEnded,
    FinetuneFinished,
    FinetuneMeasured,
    RunFailed,
    RunFinished,
    RunStarted,
    StepsEnded,
)
from ...core.trainer import RunControl
from ..live_model import LiveModel
from ..personal_digits import PersonalDigits
from ..runs import Run, RunController
from ..workers import FinetuneWorker, WorkerThread, load_training_data
from .controls import named
from .download import DatasetDownload

PROGRESS_INTERVAL_S = 0.25  # the dock's own progress bar: 4 updates a second at most
BASE_DATASET = "mnist"  # personal digits are MNIST-shaped; its replay keeps the model reading MNIST
BASE_TITLE = "MNIST"
RUN_TITLE = "Fine-tuning on my digits"

# name, root, progress(done, total) -> DigitData; raises DataError when the data is not there.
DataLoader = Callable[[str, "Path | None", "Callable[[int, int | None], None] | None"], DigitData]


def _finetune_api():
    """The core fine-tuning module, imported on first use: it pulls in the trainer and torch's optimizers."""
    from ...core import finetune

    return finetune


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _change(before: float, after: float) -> str:
    return f"{(after - before) * 100:+.1f} points"


class FinetunePanel(QWidget):
    """Fine-tune the pad's ``model`` (a ``LiveModel``) on ``digits``, through ``runs``; ``save_model()``
    asks where to keep the pad's model (the window's "Save model as...").

    Inspectable: ``last_result`` (the last ``FinetuneResult``), ``finetuning`` (a run or its
    download is going).

    Events
    ------
    changed(): what the buttons depend on changed (the owner calls ``update_buttons`` when shown).
    message(str): a line for the status bar.
    """

    changed = Signal()
    message = Signal(str)

    def __init__(self, runs: RunController, model: LiveModel, save_model: Callable[[], None], digits: PersonalDigits,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.runs = runs
        self.model = model
        self.save_model = save_model
        self.digits = digits
        self.base_loader: DataLoader | None = None  # None: the training loader and data folder
        self.finetune_config = None  # None: FinetuneConfig() defaults (4 short epochs, 5000 MNIST replayed)
        self.last_result = None
        self.control: RunControl | None = None
        self.finetune_thread: WorkerThread | None = None
        self._run: Run | None = None  # the fine-tune going now
        self._failure = ""
        self._last_progress_s = -float("inf")
        self._closing = False

        self.finetune_button = named(QPushButton("Fine-tune on my digits"), "finetune_button", "Fine-tune on my digits",
                                     "A short training run of the pad's model on your digits, mixed with MNIST "
                                     "so it does not forget it; progress in the Training panel")
        self.finetune_button.clicked.connect(self.start_finetune)
        self.stop_button = named(QPushButton("Stop"), "finetune_stop", "Stop fine-tuning",
                                 "Stop after the current batch; the model so far is measured and kept")
        self.stop_button.clicked.connect(self.stop_finetune)
        self.save_button = named(QPushButton("Save model as..."), "finetune_save", "Save the fine-tuned model",
                                 "Keep the fine-tuned model in a file")
        self.save_button.clicked.connect(self._on_save_clicked)
        tune = QHBoxLayout()
        tune.addWidget(self.finetune_button)
        tune.addWidget(self.stop_button)
        tune.addStretch(1)
        self.finetune_progress = named(QProgressBar(), "finetune_progress", "Fine-tuning progress")
        self.finetune_progress.setRange(0, 1000)
        self.finetune_progress.setVisible(False)
        # MNIST's download shows on the fine-tuning bar: one thing at a time happens here.
        self.downloader = DatasetDownload.with_button(
            runs, f"Download {BASE_TITLE}", "finetune_download", f"Download {BASE_TITLE}",
            "Fetch the published files, verify their checksums, then fine-tune", self.finetune_progress, parent=self,
        )
        self.download_button = self.downloader.button
        self.download_button.clicked.connect(self.download_base)
        self.download_button.setVisible(False)
        self.downloader.ready.connect(self._on_downloaded)
        self.downloader.failed.connect(self._on_download_failed)
        self.downloader.ended.connect(self._on_download_ended)
        self.finetune_status = named(QLabel(""), "finetune_status", "Fine-tuning status")
        self.finetune_status.setWordWrap(True)
        self.finetune_result = named(QLabel(""), "finetune_result", "Fine-tuning result")
        self.finetune_result.setWordWrap(True)
        self.finetune_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tune)
        layout.addWidget(self.finetune_progress)
        layout.addWidget(self.finetune_status)
        layout.addWidget(self.finetune_result)
        after = QHBoxLayout()
        after.addWidget(self.download_button)
        after.addWidget(self.save_button)
        after.addStretch(1)
        layout.addLayout(after)

    @property
    def finetuning(self) -> bool:
        return self.finetune_thread is not None or self.downloader.running

    @property
    def download_thread(self) -> WorkerThread | None:
        return self.downloader.thread

    def _base_loader(self) -> tuple[DataLoader, Path | None]:
        if self.base_loader is not None:
            return self.base_loader, None
        return load_training_data, self.runs.data_root  # the data folder training uses ("Use folder...")

    def update_buttons(self) -> None:
        idle = not self.finetuning and not self._closing
        self.finetune_button.setEnabled(idle and bool(self.digits.entries) and self.model.checkpoint is not None)
        self.stop_button.setEnabled(self.finetune_thread is not None and self.control is not None and not self.control.stopped)
        self.save_button.setEnabled(idle and self.last_result is not None)
        self.download_button.setEnabled(idle)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.finetune_status.setText(text)
        self.finetune_status.setStyleSheet("color: #b00020;" if error else "")

    @Slot()
    def start_finetune(self) -> bool:
        """Fine-tune the pad's model on the digits shown here, on a worker thread; False (with a
        reason in ``finetune_status``) when it cannot start."""
        if self.finetuning or self._closing:
            return False
        checkpoint = self.model.checkpoint
        if checkpoint is None:
            self._set_status("No model to fine-tune: open or train one first.", error=True)
            return False
        if checkpoint.alphabets != ("digits",):
            self._set_status("The pad reads with a digits-and-letters model: choose Read > Digits to fine-tune "
                             "your digits model.", error=True)
            return False
        if not self.digits.entries:
            self._set_status("No digits yet: draw some on the pad and label them under the reading.", error=True)
            return False
        if self.runs.busy:
            self._set_status("The Training panel is busy: fine-tune when its run is over.", error=True)
            return False
        finetune = _finetune_api()
        config = dataclasses.replace(self.finetune_config or finetune.FinetuneConfig())
        try:
            config.validate()
        except ValueError as error:
            self._set_status(f"Cannot fine-tune: {error}", error=True)
            return False
        personal = self.digits.as_digit_data()
        loader, root = self._base_loader()
        self.control = RunControl()
        worker = FinetuneWorker(checkpoint, personal, config, self.control, loader, root)
        self.last_result = None
        self._failure = ""
        self._last_progress_s = -float("inf")
        self.download_button.setVisible(False)
        self.finetune_result.setText("")
        self.finetune_progress.setRange(0, 0)
        self.finetune_progress.setValue(0)
        self.finetune_progress.setFormat("Starting…")
        self.finetune_progress.setVisible(True)
        self._set_status(f"Reading {BASE_TITLE}…")
        # The trainer's config, for the viewers (bus.trainingStarted); its lr tops the curves' lr axis.
        self._run = Run("finetune", RUN_TITLE, finetune.train_config(checkpoint, config), config.lr)
        self.finetune_thread = self.runs.start(self._run, worker, self._on_finetune_event, self._on_finetune_ended,
                                               "digitpad-finetune")
        self.changed.emit()
        return True

    @Slot()
    def stop_finetune(self) -> None:
        """Stop after the current batch; the model so far is still measured and handed to the pad."""
        if self.control is not None and self.finetune_thread is not None:
            self.control.stop()
            self._set_status("Stopping after this batch; the model so far will be measured and kept…")
            self.changed.emit()

    @Slot(object)
    def _on_finetune_event(self, event: object) -> None:
        if self._closing:
            return
        if isinstance(event, DataLoaded):
            self._set_status(f"Measuring the model on your {len(self.digits.entries)} digits and "
                             f"{event.test_size:,} {BASE_TITLE} test digits…")
        elif isinstance(event, DataUnavailable):
            self._on_base_missing(event)
        elif isinstance(event, FinetuneMeasured):
            self._on_measured(event)
        elif isinstance(event, RunStarted):
            self.finetune_progress.setRange(0, 1000)
            self._set_status(f"Fine-tuning on {event.device}: {event.train_size:,} examples an epoch "
                             f"(your digits, repeated, and {BASE_TITLE}), {event.epochs} epochs…")
        elif isinstance(event, StepsEnded):
            now = time.perf_counter()
            if now - self._last_progress_s >= PROGRESS_INTERVAL_S:
                self._last_progress_s = now
                self.finetune_progress.setValue(int(event.progress * 1000))
                self.finetune_progress.setFormat(f"Epoch {event.epoch} · %p%")
        elif isinstance(event, EpochEnded):
            self.finetune_progress.setFormat(f"Epoch {event.epoch} done · %p%")
        elif isinstance(event, RunFinished):
            self.finetune_progress.setRange(0, 0)
            self._set_status("Measuring the fine-tuned model…")
        elif isinstance(event, FinetuneFinished):
            self._on_finetuned(event.result)
        elif isinstance(event, RunFailed):
            self._failure = event.message
            self._set_status(f"Fine-tuning failed: {event.message}", error=True)

    def _on_measured(self, event) -> None:
        if event.stage == "before":
            self.finetune_result.setText(
                f"Before: my digits {_percent(event.personal_accuracy)} ({event.personal_count}), "
                f"{BASE_TITLE} test {_percent(event.base_accuracy)} ({event.base_count:,})"
            )
            self._set_status("Preparing the run…")

    def _on_finetuned(self, result) -> None:
        self.last_result = result
        stopped = " (stopped early)" if result.stopped else ""
        self.finetune_result.setText(
            f"My digits: {_percent(result.personal_before)} → {_percent(result.personal_after)} "
            f"({_change(result.personal_before, result.personal_after)}; the {result.personal_count} digits it learnt from)\n"
            f"{BASE_TITLE} test: {_percent(result.base_before)} → {_percent(result.base_after)} "
            f"({_change(result.base_before, result.base_after)}; {result.base_test_count:,} digits)\n"
            f"The fine-tuned model{stopped} is now the pad's model: draw to try it, or save it."
        )
        self._set_status(f"Fine-tuned in {result.seconds:.0f} s.")
        self.model.set_checkpoint(result.checkpoint)

    def _on_base_missing(self, event: DataUnavailable) -> None:
        self._failure = event.message
        self._set_status(
            f"Fine-tuning needs {BASE_TITLE}: it mixes {BASE_TITLE} digits into the run so the model does not "
            f"forget them, and measures the {BASE_TITLE} test accuracy before and after. {BASE_TITLE} is not "
            f"on this computer: {event.message}",
            error=True,
        )
        self.finetune_result.setText(
            f"Download {BASE_TITLE} here, or point the Training panel to a folder that holds it "
            "(pick MNIST, Train, Use folder...), then fine-tune again."
            if event.can_download else ""
        )
        self.download_button.setVisible(event.can_download)

    @Slot()
    def _on_finetune_ended(self) -> None:
        """The thread has stopped: leave the run's summary (the Training dock shows it), update."""
        self.finetune_thread = None
        self.finetune_progress.setVisible(False)
        result, run, self._run = self.last_result, self._run, None
        if run is not None:
            if result is not None:
                run.summary = (f"{RUN_TITLE}: my digits {_percent(result.personal_before)} → {_percent(result.personal_after)}, "
                               f"{BASE_TITLE} test {_percent(result.base_before)} → {_percent(result.base_after)}.")
            else:
                run.summary, run.failed = f"{RUN_TITLE} did not finish: {self._failure or 'stopped'}", True
        if result is None and not self._failure and not self._closing:
            self._set_status("Fine-tuning was stopped before it began; the model is unchanged.")
        self.changed.emit()

    def _on_save_clicked(self) -> None:
        if self.last_result is None:
            return
        if self.model.checkpoint is not self.last_result.checkpoint:
            self.model.set_checkpoint(self.last_result.checkpoint)
        self.save_model()

    # --- fetching MNIST -------------------------------------------------------------------------

    @Slot()
    def download_base(self) -> bool:
        """Fetch and verify MNIST on a worker thread (into the Training panel's data folder), then
        fine-tune."""
        if self.finetuning or self._closing:
            return False
        _, root = self._base_loader()
        if not self.downloader.start(BASE_DATASET, root):
            return False
        self.finetune_progress.setFormat(f"Downloading {BASE_TITLE}…")
        self._set_status(f"Downloading {BASE_TITLE}…")
        self._failure = ""
        self.changed.emit()
        return True

    def _on_downloaded(self, event) -> None:
        if not self._closing:
            self.download_button.setVisible(False)
            self.message.emit(f"Downloaded {BASE_TITLE} to {event.folder}")

    def _on_download_failed(self, message: str) -> None:
        if not self._closing:
            self._failure = message
            self._set_status(f"Download failed: {message}", error=True)

    @Slot()
    def _on_download_ended(self) -> None:
        self.finetune_progress.setVisible(False)
        self.changed.emit()
        if not self._failure and not self._closing:
            self.start_finetune()  # what the user asked for in the first place

    # --- closing ------------------------------------------------------------------------------

    @Slot()
    def shutdown(self) -> None:
        """Stop a fine-tune or download within a batch (or chunk), wait, save nothing."""
        self._closing = True
        thread, self.finetune_thread = self.finetune_thread, None
        if thread is not None:
            thread.shutdown()
        self.downloader.shutdown()
