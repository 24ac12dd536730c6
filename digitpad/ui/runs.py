"""The one run path: ``RunController`` starts every run (training, fine-tuning, downloads, imports,
exports, evaluations) on a worker thread and publishes the active training or fine-tuning run.

Every dock that starts work hands a ``workers`` job to ``RunController.start`` and gets the job's
events back on the GUI thread; nobody else creates worker threads. Training and fine-tuning are
*runs*: one at a time (the cores are shared), drawn by the Training dock whoever started them, and
told to every viewer on the bus. Downloads, imports, exports and evaluations are *tasks*: they go
to their starter only.

While a run goes, Python's thread switch interval is shortened (``TRAINING_SWITCH_INTERVAL_S``):
the trainer drops the GIL in every torch op anyway; the GUI thread drops and retakes it on each Qt
call while painting, so the default 5 ms let one repaint wait hundreds of times. Measured on the
2-core machine: worst GUI stall while training 260 -> 130 ms with the plots as they were, before
the redraw work was cut.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QCoreApplication, QObject, Slot

from ..core.events import FinetuneFinished, RunFinished, RunStarted, TrainingEvent
from . import settings as app_settings
from .bus import AppBus
from .workers import Worker, WorkerThread

TRAINING_SWITCH_INTERVAL_S = 0.0005  # see the module docstring
RUN_KINDS = ("training", "finetune")  # one at a time, drawn by the Training dock, told on the bus


@dataclass
class Run:
    """What is running, for the Training dock and the viewers.

    ``kind``: "training" or "finetune" (a run), or a task's ("download", "import", "export",
    "evaluation"). ``exclusive``: no training or fine-tuning may start while it goes (runs always
    are; the Training dock's download is too: it leads to a run). ``config``: a run's
    ``TrainConfig`` (for ``bus.trainingStarted``); ``peak_lr``: the lr axis of its curves.
    ``summary`` and ``failed``: the starter's last word, set in its ``on_ended`` before
    ``bus.runEnded`` goes out.
    """

    kind: str
    title: str = ""
    config: object = None
    peak_lr: float | None = None
    exclusive: bool = False
    summary: str = ""
    failed: bool = False

    def __post_init__(self):
        if self.kind in RUN_KINDS:
            self.exclusive = True

    @property
    def is_run(self) -> bool:
        return self.kind in RUN_KINDS


class RunController(QObject):
    """Starts jobs on worker threads; keeps one training or fine-tuning run at a time.

    Events (on ``bus``, for runs only, never tasks)
    -----------------------------------------------
    runStarted(Run) as the thread starts; runEvent(event) for each of its events (the Training
    dock draws them); runEnded(Run) once its thread has stopped. And, as before, for the viewers:
    trainingStarted(TrainConfig) at the trainer's ``RunStarted``, trainingEvent(event) for each
    ``TrainingEvent`` from then on, trainingFinished(Checkpoint or None) at the end (the final
    event's model: ``RunFinished`` for training, ``FinetuneFinished`` for fine-tuning; None when
    there is none). A run whose training never started (missing data) emits none of these three.
    """

    def __init__(self, bus: AppBus, settings=None, parent: QObject | None = None):
        super().__init__(parent)
        self.bus = bus
        self.settings = settings if settings is not None else app_settings.open_settings()
        self._threads: dict[WorkerThread, Run] = {}
        self._switch_interval: float | None = None  # Python's, to restore when the run ends
        self._closing = False
        saved = app_settings.read(self.settings, "data_dir", "", str)
        self._data_root: Path | None = Path(saved) if saved and Path(saved).is_dir() else None
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # --- the data folder every job reads ----------------------------------------------------------

    @property
    def data_root(self) -> Path | None:
        """The folder picked with "Use folder..." (remembered; at start-up only if it still exists)."""
        return self._data_root

    @data_root.setter
    def data_root(self, root: Path | None) -> None:
        self._data_root = root
        self.settings.setValue("data_dir", str(root) if root is not None else "")

    # --- starting ---------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A training or fine-tuning run (or the download before one) is going: start no other."""
        return any(run.exclusive for run in self._threads.values())

    @property
    def active_run(self) -> Run | None:
        return next((run for run in self._threads.values() if run.is_run), None)

    def start(
        self,
        run: Run,
        worker: Worker,
        on_event: Callable[[object], None] | None = None,
        on_ended: Callable[[], None] | None = None,
        name: str = "digitpad-worker",
    ) -> WorkerThread | None:
        """Run ``worker`` on a fresh thread: ``on_event(event)`` for each of its events and
        ``on_ended()`` once the thread has stopped (GUI thread). None when ``run`` is exclusive and
        another exclusive job goes, or the app is closing."""
        if self._closing or (run.exclusive and self.busy):
            return None
        thread = WorkerThread(worker, name, self)
        self._threads[thread] = run
        state = {"started": False, "checkpoint": None}
        thread.event.connect(lambda event: self._on_event(run, state, event, on_event))
        thread.finished.connect(lambda: self._on_finished(thread, run, state, on_ended))
        if run.is_run:
            if self._switch_interval is None:
                self._switch_interval = sys.getswitchinterval()
                sys.setswitchinterval(TRAINING_SWITCH_INTERVAL_S)
            self.bus.runStarted.emit(run)
        thread.start()
        return thread

    def _on_event(self, run: Run, state: dict, event: object, on_event) -> None:
        if self._closing:
            return
        if run.is_run:
            if isinstance(event, RunStarted) and not state["started"]:
                state["started"] = True
                self.bus.trainingStarted.emit(run.config)
            if isinstance(event, TrainingEvent) and state["started"]:
                self.bus.trainingEvent.emit(event)
            if isinstance(event, FinetuneFinished if run.kind == "finetune" else RunFinished):
                state["checkpoint"] = event.checkpoint
            self.bus.runEvent.emit(event)
        if on_event is not None:
            on_event(event)

    def _on_finished(self, thread: WorkerThread, run: Run, state: dict, on_ended) -> None:
        self._threads.pop(thread, None)
        thread.deleteLater()
        if run.is_run:
            self._restore_switch_interval()
        if on_ended is not None:
            on_ended()
        if run.is_run:
            self.bus.runEnded.emit(run)
            if state["started"]:
                self.bus.trainingFinished.emit(state["checkpoint"])

    def _restore_switch_interval(self) -> None:
        if self._switch_interval is not None and self.active_run is None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None

    # --- stopping ---------------------------------------------------------------------------------

    def cancel(self, thread: WorkerThread) -> None:
        """Abandon one job without waiting for it; its later events are dropped, ``on_ended`` still runs."""
        thread.cancel()

    @Slot()
    def shutdown(self) -> None:
        """Stop every job within a batch (or chunk, or file), wait for the threads, save nothing."""
        self._closing = True
        for thread in list(self._threads):
            thread.shutdown()
        self._threads.clear()
        self._restore_switch_interval()
