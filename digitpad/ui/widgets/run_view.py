"""What the Training dock shows of a run: a progress bar, a status line, a result line and the
curves, drawn from the bus for whichever run is active (a training run or a fine-tune).

``RunView`` makes those widgets; the Training dock lays them out. It follows ``bus.runStarted``,
``runEvent`` and ``runEnded`` (``ui.runs.RunController`` publishes every run there, whoever
started it), so it never needs to know which dock asked for the run. For a training run it shows
everything, data loading included; for another run (``run.title``, e.g. "Fine-tuning on my
digits") its training part, and at the end the summary its starter left in ``run.summary``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import QLabel, QProgressBar

from ...core.events import (
    DataLoaded,
    DataLoading,
    DataUnavailable,
    EpochEnded,
    Evaluated,
    Paused,
    RunFailed,
    RunFinished,
    RunStarted,
    StepsEnded,
    TrainingEvent,
)
from ..bus import AppBus
from ..runs import Run
from .controls import named
from .training_curves import TrainingCurves
from .training_form import DATASET_TITLES

PROGRESS_STEPS = 1000  # progress bar resolution
PROGRESS_INTERVAL_MS = 250  # progress bar and its text: 4 updates a second at most


def duration_text(seconds: float) -> str:
    """'1:05' or '2:03:09'."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def result_text(event: RunFinished) -> str:
    """'Test accuracy 98.10% (best epoch 3, validation 98.40%)'."""
    test = f"Test accuracy {event.test_accuracy * 100:.2f}%" if event.test_accuracy is not None else "No test digits"
    best = f" (best epoch {event.best_epoch}, validation {event.best_val_accuracy * 100:.2f}%)" if event.best_epoch and event.best_val_accuracy >= 0 else ""
    return f"{test}{best}"


def ending_text(event: RunFinished, epochs: int) -> str:
    """'Trained 3 epochs' or 'Stopped after 2 of 15 epochs'."""
    return f"Stopped after {event.epochs_done} of {epochs} epochs" if event.stopped else f"Trained {event.epochs_done} epochs"


class TippedLabel(QLabel):
    """A one-line label whose whole text is also its tooltip, should a narrow dock clip it."""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        super().setText(text)
        self.setToolTip(text)


class RunView(QObject):
    """Draws the active run: ``progress``, ``status_label``, ``result_label`` and ``curves``.

    ``control``: the ``RunControl`` of the Training dock's own run, whose pause shows at once;
    ``shown``: the run drawn now (None between runs); ``epochs``: how many its trainer runs.
    """

    def __init__(self, bus: AppBus, parent: QObject | None = None):
        super().__init__(parent)
        self.bus = bus
        self.control = None
        self.shown: Run | None = None
        self.epochs = 1
        self._steps_per_epoch = 1
        self._closing = False

        self.curves = TrainingCurves()
        self.progress = named(QProgressBar(), "train_progress", "Training progress")
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Not started")
        self.status_label = named(QLabel(""), "train_status", "Training status")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label = named(TippedLabel(""), "train_result", "Training result")
        # Room for the lines a run writes, reserved up front: a label that grows when Train is
        # clicked re-lays out the whole window (pad, chart, every plot) mid-stroke, a 20-40 ms stall.
        # Fixed, not minimum: wrapped text of a narrow dock would still grow them.
        line = self.status_label.fontMetrics().lineSpacing()
        self.status_label.setFixedHeight(2 * line + 4)
        self.result_label.setFixedHeight(line + 4)  # one line, the whole of it in the tooltip

        self._latest_steps: StepsEnded | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_INTERVAL_MS)
        self._progress_timer.timeout.connect(self._show_steps)
        bus.runStarted.connect(self._on_run_started)
        bus.runEvent.connect(self._on_run_event)
        bus.runEnded.connect(self._on_run_ended)

    def set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)  # the whole line, should a narrow dock clip it
        self.status_label.setStyleSheet("color: #b00020;" if error else "")

    def close(self) -> None:
        """The window is closing: draw nothing more."""
        self._closing = True

    # --- the bus ------------------------------------------------------------------------------

    @Slot(object)
    def _on_run_started(self, run: Run) -> None:
        """A run began: clear the curves and the texts for it."""
        if self._closing:
            return
        self.shown = run
        self.epochs = getattr(run.config, "epochs", 1) if run.kind == "training" else 1
        self._steps_per_epoch = 1
        if run.kind != "training":
            self.control = None  # Pause/Stop belong to the widget that started it
        self.curves.peak_lr = run.peak_lr or 0.0  # the schedules never go above it: it tops the lr axis
        self.result_label.setText("")
        self.progress.setValue(0)
        if run.kind == "training":
            self.progress.setFormat("Starting…")
        else:
            self.progress.setFormat(f"{run.title}: starting…")
            self.set_status(f"{run.title}…")

    @Slot(object)
    def _on_run_event(self, event: object) -> None:
        """One event of the run drawn now (GUI thread)."""
        run = self.shown
        if self._closing or run is None:
            return
        if run.kind != "training":
            self._draw_other(run, event)
            return
        if isinstance(event, RunStarted):
            self._on_training_started(event)
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
                self.set_status("Evaluating the best model on the test digits…")
        elif isinstance(event, RunFinished):
            self._show_finished(event)
        elif isinstance(event, RunFailed):
            self.set_status(f"Training failed: {event.message}", error=True)
            self.progress.setFormat("Failed")
        elif isinstance(event, DataLoading):
            self.set_status(f"Reading {DATASET_TITLES.get(event.dataset, event.dataset)}…")
            self.progress.setFormat("Reading the data…")
        elif isinstance(event, DataLoaded):
            self.set_status(
                f"Read {DATASET_TITLES.get(event.dataset, event.dataset)}: {event.train_size:,} training and "
                f"{event.test_size:,} test digits in {event.seconds:.1f} s; preparing the model…"
            )
        elif isinstance(event, DataUnavailable):
            self.progress.setFormat("Not started")

    def _draw_other(self, run: Run, event: object) -> None:
        """A run another dock drives (a fine-tune): its training part in the curves and progress."""
        if not isinstance(event, TrainingEvent):
            return
        self.curves.add_event(event)
        if isinstance(event, RunStarted):
            self._steps_per_epoch = max(1, event.steps_per_epoch)
            self.epochs = event.epochs
            self.set_status(f"{run.title} on {event.device} · {event.train_size:,} examples an epoch · "
                            f"{event.parameters:,} parameters")
            self.progress.setFormat(f"Epoch 1/{event.epochs} · starting…")
        elif isinstance(event, StepsEnded):
            self._on_steps(event)
        elif isinstance(event, EpochEnded):
            self.result_label.setText(f"{run.title}, epoch {event.epoch}: train {event.train_accuracy * 100:.2f}%")
        elif isinstance(event, Paused):
            self._on_paused(event)

    def _on_training_started(self, event: RunStarted) -> None:
        self._steps_per_epoch = max(1, event.steps_per_epoch)
        self.epochs = event.epochs
        threads = f", {event.threads} torch thread{'s' if event.threads != 1 else ''} (the window keeps a core)" if event.device == "cpu" else ""
        val = f" / {event.val_size:,} validation" if event.val_size else ""
        self.set_status(
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
            rate = f" · {event.samples_per_s:,.0f} samples/s · ETA {duration_text(event.eta_s)}"
        else:
            rate = ""
        paused = "Paused · " if self.control is not None and self.control.paused else ""
        self.progress.setFormat(f"{paused}Epoch {event.epoch}/{self.epochs} · batch {batch}/{self._steps_per_epoch}{rate}")

    def _on_paused(self, event: Paused) -> None:
        self._show_steps()
        text = self.progress.format().removeprefix("Paused · ")
        self.progress.setFormat(f"Paused · {text}" if event.paused else text)

    def _show_finished(self, event: RunFinished) -> None:
        self._show_steps()
        self._progress_timer.stop()
        self.progress.setValue(PROGRESS_STEPS if not event.stopped else self.progress.value())
        self.progress.setFormat(f"{ending_text(event, self.epochs)} in {duration_text(event.elapsed_s)}")
        self.result_label.setText(f"{result_text(event)}.")

    @Slot(object)
    def _on_run_ended(self, run: Run) -> None:
        """The run drawn now is over (its thread has stopped); another dock's left a summary."""
        if run is not self.shown:
            return
        self.shown = None
        if run.kind != "training" and not self._closing:
            self._show_steps()
            self._progress_timer.stop()
            if not run.failed:
                self.progress.setValue(PROGRESS_STEPS)
            self.progress.setFormat("Failed" if run.failed else f"{run.title}: done")
            self.set_status(run.summary, error=run.failed)
