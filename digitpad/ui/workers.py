"""Where threads meet: every job that runs off the GUI thread, and the thread that runs one.

The jobs: ``TrainingWorker`` (read the data, then ``Trainer.run()``), ``FinetuneWorker``,
``DownloadWorker``, ``TaskWorker`` (an import or an export) and ``EvaluationWorker`` (the Mistakes
viewer's test-set evaluation). ``WorkerThread`` runs one on a fresh QThread; ``ui.runs.RunController``
is the one place that starts them. Everything slow happens on the worker thread: reading (or
downloading) a dataset, moving it to the training device, the training loop and the final
evaluation. The worker re-emits each item as one ``event = Signal(object)``; Qt queues it to the GUI
thread because the receivers live there. The items are ``digitpad.core.events`` (immutable, CPU
numpy only).

Flow control: each run's events pass through a ``core.throttle.EventThrottle`` on the worker
thread, so the GUI thread never receives more than ~``MAX_EVENTS_PER_S`` routine events a second
(batch losses merged, weight snapshots keeping the latest); everything else passes at once.

Torch threads: ``Trainer`` calls ``torch.set_num_threads(config.threads or default_threads())`` on
the worker thread, i.e. all cores but one (1 on a 2-core machine). In this torch build
(OpenMP) the count belongs to the calling thread, so it does not change the GUI thread's own count;
the training panel sets the GUI thread to one torch thread, so the pad's inference (a batch of
one) never waits for an OpenMP helper to win the core the trainer holds: measured on the 2-core
dev machine under load, a two-thread forward pass took ~500 ms, a one-thread one ~15 ms. Net: the
trainer keeps ``cores - 1`` busy and the GUI thread keeps a core.

Shutdown: ``WorkerThread.shutdown()`` asks the worker to abandon the run (stop within one batch,
skip the final evaluation whose result nobody will see, abort a download at its next chunk: the
download's ``.part`` file stays for a later resume and no verified file is half-written), then
``quit()`` and ``wait()``. Never ``terminate()``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from ..core.config import TrainConfig
from ..core.datasets import DATASETS, DataError, DigitData, ensure_dataset, load_dataset
from ..core.events import (
    DataLoaded,
    DataLoading,
    DataProgress,
    DataReady,
    DataUnavailable,
    RunFailed,
    TaskDone,
    TaskFailed,
    TaskProgress,
)
from ..core.mistakes import LabelledDigits, find_mistakes
from ..core.throttle import EventThrottle
from ..core.trainer import RunControl, Trainer

DOWNLOAD_REPORTS_PER_S = 10  # download progress updates at most
SHUTDOWN_WAIT_MS = 60_000  # a batch takes well under a second; a stalled connect can take 30 s

# name, root, progress(done, total) -> DigitData; raises DataError when the data is not there.
TASK_PROGRESS_INTERVAL_S = 0.25  # imports/exports: 4 progress reports a second at most

DataLoader = Callable[[str, "Path | None", Callable[[int, "int | None"], None]], DigitData]


class _Abandoned(Exception):
    """Raised inside a progress callback to abort a download when the app closes."""


def load_training_data(name: str, root: Path | None = None, progress=None) -> DigitData:
    """The panel's default loader: MNIST/USPS from the data folder (never downloads: the panel asks
    first), or the user's own digits. Raises ``DataError`` when the data is not there."""
    return load_dataset(name, root, download=False, progress=progress)


# --- workers --------------------------------------------------------------------------------


class Worker(QObject):
    """A job for ``WorkerThread``: ``run()`` executes on the worker thread.

    Events
    ------
    event(object): one item of the job, emitted on the worker thread (queued to receivers).
    finished(): the job is over (emitted last, on the worker thread).
    """

    event = Signal(object)
    finished = Signal()

    def __init__(self):
        super().__init__()  # no parent: moveToThread silently fails on an object with one
        self._abandoned = threading.Event()

    @property
    def abandoned(self) -> bool:
        return self._abandoned.is_set()

    def abandon(self) -> None:
        """From any thread: end as soon as possible, discarding the result (the app is closing)."""
        self._abandoned.set()

    @Slot()
    def run(self) -> None:
        try:
            self._run()
        except Exception as error:  # noqa: BLE001 - a worker must always reach `finished`
            self.event.emit(RunFailed(f"{type(error).__name__}: {error}"))
        finally:
            self.finished.emit()

    def _run(self) -> None:
        raise NotImplementedError


class TrainingWorker(Worker):
    """Loads ``dataset`` with ``load_data`` (or uses ``data``), then drives a ``Trainer``.

    The finished model travels in the last event, ``RunFinished.checkpoint``: nothing on the GUI
    thread reaches into the worker or its trainer.
    """

    def __init__(self, config: TrainConfig, control: RunControl, load_data: DataLoader = load_training_data,
                 data_root: Path | None = None, data: DigitData | None = None):
        super().__init__()
        self.config = config
        self.control = control
        self.load_data = load_data
        self.data_root = data_root
        self.data = data

    def abandon(self) -> None:
        super().abandon()
        # The window is closing: stop within a batch and skip the best model's val/test
        # evaluation (seconds on MNIST), which would only delay the exit.
        self.control.abandon()

    def _run(self) -> None:
        throttle = EventThrottle(self.event.emit)
        data = self.data
        if data is None:
            self.event.emit(DataLoading(self.config.dataset))
            start = time.perf_counter()
            try:
                data = self.load_data(self.config.dataset, self.data_root, None)
            except DataError as error:
                self.event.emit(DataUnavailable(self.config.dataset, str(error), self.config.dataset in DATASETS))
                return
            self.event.emit(DataLoaded(data.name, len(data.train_labels), len(data.test_labels), time.perf_counter() - start))
        if self.abandoned:
            return
        trainer = Trainer(self.config, data, self.control)
        for item in trainer.run():
            throttle.push(item)
        throttle.flush()


class DownloadWorker(Worker):
    """Fetches and verifies a published dataset (``ensure_dataset``), reporting ``DataProgress``."""

    def __init__(self, name: str, root: Path | None = None):
        super().__init__()
        self.name = name
        self.root = root
        self._last_report = -float("inf")

    def _progress(self, done: int, total: int | None) -> None:
        if self.abandoned:
            raise _Abandoned()
        now = time.perf_counter()
        if now - self._last_report >= 1 / DOWNLOAD_REPORTS_PER_S or (total is not None and done >= total):
            self._last_report = now
            self.event.emit(DataProgress(done, total))

    def _run(self) -> None:
        try:
            folder = ensure_dataset(self.name, self.root, download=True, progress=self._progress)
        except _Abandoned:
            return
        except DataError as error:
            self.event.emit(DataUnavailable(self.name, str(error), True))
            return
        self.event.emit(DataReady(self.name, str(folder)))


class WorkerThread(QObject):
    """Runs one ``Worker`` on a fresh QThread; lives on the GUI thread.

    Events
    ------
    event(object): the worker's events, delivered on the GUI thread.
    finished(): the job ended and the thread has stopped (it is safe to drop this object).
    """

    event = Signal(object)
    finished = Signal()

    def __init__(self, worker: Worker, name: str = "digitpad-worker", parent: QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread()  # unparented: only we decide when it may be destroyed
        self.thread.setObjectName(name)
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        # Direct: quit() is thread-safe, and a queued call would never run while the GUI thread
        # sits in shutdown()'s wait().
        worker.finished.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        worker.event.connect(self._relay)
        self.thread.finished.connect(self._on_thread_finished)
        self._closed = False  # shut down: drop events and say nothing more
        self._cancelled = False  # cancelled: drop events, still say ``finished``

    def start(self) -> None:
        self.thread.start()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    @Slot(object)
    def _relay(self, item: object) -> None:
        if not self._closed and not self._cancelled:
            self.event.emit(item)

    @Slot()
    def _on_thread_finished(self) -> None:
        # `finished` is emitted from the thread just before it ends: wait for the end proper, so
        # dropping the QThread afterwards can never destroy a running thread.
        self.thread.wait()
        if not self._closed:
            self.finished.emit()

    def cancel(self) -> None:
        """Abandon the job without waiting for it: its later events are dropped; ``finished``
        still comes once the thread has stopped (keep this object until then)."""
        self._cancelled = True
        self.worker.abandon()

    def shutdown(self, timeout_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Abandon the job, stop the thread and wait for it; True when it ended in time.

        Events still queued for the GUI thread are dropped: the receiver is going away.
        """
        self._closed = True
        self.worker.abandon()
        self.thread.quit()
        ended = self.thread.wait(timeout_ms)
        if not ended:
            _UNFINISHED.append(self)  # keep it alive: destroying a running QThread aborts the app
        return ended


_UNFINISHED: list[WorkerThread] = []


# --- the personal set's jobs (imports, exports, fine-tuning) and the Mistakes viewer's evaluation ---


class _Cancelled(Exception):
    """Raised in a progress callback to end an import (or an evaluation) when it is abandoned."""


class TaskWorker(Worker):
    """Runs ``job(progress)`` (an import or an export) and reports ``TaskProgress``, then ``TaskDone``
    or ``TaskFailed`` (a folder that cannot be read or written: the user can act on it)."""

    def __init__(self, job: Callable[[Callable[[int, int], None]], object]):
        super().__init__()
        self.job = job
        self._last_report = -float("inf")

    def _progress(self, done: int, total: int) -> None:
        if self.abandoned:
            raise _Cancelled()  # the entries added so far are complete: each add is atomic
        now = time.perf_counter()
        if now - self._last_report >= TASK_PROGRESS_INTERVAL_S or done >= total:
            self._last_report = now
            self.event.emit(TaskProgress(done, total))

    def _run(self) -> None:
        try:
            result = self.job(self._progress)
        except _Cancelled:
            return
        except (OSError, ValueError) as error:
            self.event.emit(TaskFailed(str(error)))
            return
        self.event.emit(TaskDone(result))


class FinetuneWorker(Worker):
    """Loads the base data set (MNIST) with ``load_base``, then drives a ``Finetuner``.

    Emits ``DataLoading``/``DataLoaded``/``DataUnavailable`` (the training worker's), then the
    Finetuner's events, routine ones throttled as the training worker's are; the fine-tuned model
    travels in the last, ``FinetuneFinished``.
    """

    def __init__(self, checkpoint, personal: DigitData, config, control: RunControl,
                 load_base: DataLoader, data_root: Path | None = None, base_dataset: str = "mnist"):
        super().__init__()
        self.checkpoint = checkpoint
        self.personal = personal
        self.config = config
        self.control = control
        self.load_base = load_base
        self.data_root = data_root
        self.base_dataset = base_dataset  # replayed so the model keeps reading it

    def abandon(self) -> None:
        super().abandon()
        self.control.abandon()  # the window is closing: stop within a batch, skip the measuring

    def _run(self) -> None:
        self.event.emit(DataLoading(self.base_dataset))
        start = time.perf_counter()
        try:
            base = self.load_base(self.base_dataset, self.data_root, None)
        except DataError as error:
            self.event.emit(DataUnavailable(self.base_dataset, str(error), self.base_dataset in DATASETS))
            return
        self.event.emit(DataLoaded(base.name, len(base.train_labels), len(base.test_labels), time.perf_counter() - start))
        if self.abandoned:
            return
        from ..core import finetune  # pulls in the trainer and torch's optimizers: on first use only

        try:
            runner = finetune.Finetuner(self.checkpoint, self.personal, base, self.config, self.control)
        except ValueError as error:  # e.g. a 16x16 (USPS) model: personal digits are 28x28
            self.event.emit(RunFailed(str(error)))
            return
        throttle = EventThrottle(self.event.emit)
        for item in runner.run():
            throttle.push(item)
        throttle.flush()


class EvaluationWorker(Worker):
    """Loads a test set (unless ``data`` is given: ``LabelledDigits`` or (images, labels)) and finds
    ``checkpoint``'s mistakes on it (``core.mistakes.find_mistakes``, or the run's own
    ``precomputed`` evaluation). ``loader(dataset)`` returns either kind too.

    Emits ``TaskProgress`` (digits done, digits in all), then ``TaskDone(MistakeSet)``, or
    ``TaskFailed`` (missing data) or ``RunFailed`` (an error); nothing once abandoned.
    """

    def __init__(self, checkpoint, dataset: str, loader, data=None, precomputed=None):
        super().__init__()
        self.checkpoint, self.dataset, self.loader = checkpoint, dataset, loader
        self.data, self.precomputed = data, precomputed

    def _progress(self, done: int, total: int) -> None:
        if self.abandoned:
            raise _Cancelled()
        self.event.emit(TaskProgress(done, total))

    def _run(self) -> None:
        try:
            data = LabelledDigits.of(self.data if self.data is not None else self.loader(self.dataset))
            if self.abandoned:
                return
            result = find_mistakes(self.checkpoint, self.dataset, data.images, data.labels, self.precomputed,
                                   self._progress, data.strokes, data.classes)
        except _Cancelled:
            return
        except DataError as error:
            self.event.emit(TaskFailed(str(error)))
            return
        self.event.emit(TaskDone(result))
