"""One download control for every dock: a Download button that fetches and verifies a published
dataset on a worker thread (through the window's ``RunController``), its progress on a bar.

The Training dock shows it in its missing-data banner (then trains), My digits under fine-tuning
(MNIST to replay, then fine-tunes): each lays out the button and the bar, and says what it asks
for and what follows; this object only runs the download and reports. Closing the window abandons a download at its next chunk: the
``.part`` file stays for a later resume and no verified file is half-written.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QProgressBar, QPushButton

from ...core.events import DataProgress, DataReady, DataUnavailable, RunFailed
from ..runs import Run, RunController
from ..workers import DownloadWorker, WorkerThread
from .controls import named

PROGRESS_STEPS = 1000  # the bar's resolution once the total size is known


def show_download_progress(bar: QProgressBar, event: DataProgress) -> None:
    """Bytes downloaded on ``bar``; a busy bar while the server has not said the total."""
    if event.total:
        bar.setRange(0, PROGRESS_STEPS)
        bar.setValue(int(PROGRESS_STEPS * event.done / event.total))
        bar.setFormat(f"{event.done / 1e6:.1f} of {event.total / 1e6:.1f} MB")


class DatasetDownload(QObject):
    """A ``button`` (its click is the owner's to connect) and a download shown on ``progress``.

    ``exclusive``: no training or fine-tuning starts while it goes (the download leads to one).

    Events
    ------
    ready(DataReady): the verified files are in ``event.folder``.
    failed(str): why the download did not finish.
    ended(): the download's thread has stopped, either way (``thread`` is None again).
    """

    ready = Signal(object)
    failed = Signal(str)
    ended = Signal()

    def __init__(self, runs: RunController, button: QPushButton, progress: QProgressBar, exclusive: bool = False,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.runs = runs
        self.button = button
        self.progress = progress
        self.exclusive = exclusive
        self.thread: WorkerThread | None = None

    @classmethod
    def with_button(cls, runs: RunController, text: str, name: str, accessible: str, tip: str, progress: QProgressBar,
                    exclusive: bool = False, parent: QObject | None = None) -> "DatasetDownload":
        """With a new button named ``name`` (see ``controls.named``)."""
        return cls(runs, named(QPushButton(text), name, accessible, tip), progress, exclusive, parent)

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start(self, dataset: str, root: Path | None) -> bool:
        """Fetch ``dataset`` into ``root`` (None: the default data folder); False when it cannot start."""
        if self.thread is not None:
            return False
        run = Run("download", exclusive=self.exclusive)
        self.thread = self.runs.start(run, DownloadWorker(dataset, root), self._on_event, self._on_ended, "digitpad-download")
        if self.thread is None:
            return False
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        return True

    def _on_event(self, event: object) -> None:
        if isinstance(event, DataProgress):
            show_download_progress(self.progress, event)
        elif isinstance(event, DataReady):
            self.ready.emit(event)
        elif isinstance(event, (DataUnavailable, RunFailed)):
            self.failed.emit(event.message)

    def _on_ended(self) -> None:
        self.thread = None
        self.ended.emit()

    def shutdown(self) -> None:
        """Abandon the download at its next chunk and wait for the thread."""
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.shutdown()
