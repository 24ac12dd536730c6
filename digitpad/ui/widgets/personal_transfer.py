"""My digits' export and import: the whole set to a folder of PNGs plus ``labels.csv`` and
``index.json``, or a folder of labelled images into the set, on a worker thread.

``PersonalTransfer`` makes the Export and Import buttons and their progress bar, which the dock
lays out, and runs each job through the window's ``ui.runs.RunController`` (every file is
fsynced: never on the GUI thread). Folder dialogs go through ``QFileDialog.getExistingDirectory``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressBar, QPushButton, QWidget

from ...core.events import RunFailed, TaskDone, TaskFailed, TaskProgress
from ...core.personal import INDEX_JSON, LABELS_CSV, ImportResult
from ..personal_digits import PersonalDigits
from ..runs import Run, RunController
from ..workers import TaskWorker, WorkerThread
from .controls import named


class PersonalTransfer(QObject):
    """``export_button``, ``import_button`` and ``progress`` for ``digits``; dialogs over ``owner``.

    Events
    ------
    report(str, bool, str): a line for the dock: text, whether it is an error, details (tooltip).
    ended(): an export or import is over, either way (the set may have changed: read it again).
    busyChanged(): one began or ended (``running`` changed).
    """

    report = Signal(str, bool, str)
    ended = Signal()
    busyChanged = Signal()

    def __init__(self, runs: RunController, digits: PersonalDigits, owner: QWidget):
        super().__init__(owner)
        self.runs = runs
        self.digits = digits
        self.owner = owner
        self.thread: WorkerThread | None = None
        self._kind = ""
        self._closing = False
        self.export_button = named(QPushButton("Export..."), "personal_export", "Export my digits",
                                   "Write My digits to a folder: one PNG per digit, labels.csv and index.json")
        self.export_button.clicked.connect(self._on_export_clicked)
        self.import_button = named(QPushButton("Import..."), "personal_import", "Import digits",
                                   "Add the digits of a folder of images with a labels.csv (file,label), "
                                   "e.g. another digitpad's export")
        self.import_button.clicked.connect(self._on_import_clicked)
        self.progress = named(QProgressBar(), "personal_progress", "Import or export progress")
        self.progress.setVisible(False)

    @property
    def running(self) -> bool:
        return self.thread is not None

    def update_buttons(self) -> None:
        self.export_button.setEnabled(not self.running and bool(self.digits.entries))
        self.import_button.setEnabled(not self.running)

    # --- export ---------------------------------------------------------------------------------

    def _on_export_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.owner, "Export My digits to a folder", str(Path.home()))
        if folder:
            self.export_to(folder)

    def export_to(self, folder: str | Path, overwrite: bool | None = None) -> bool:
        """Write the set to ``folder`` on a worker thread. An earlier export there is replaced only
        with ``overwrite`` (None: ask)."""
        folder = Path(folder)
        if self.running or self._closing:
            return False
        if (folder / LABELS_CSV).exists() and not overwrite:
            if overwrite is False:
                return False
            answer = QMessageBox.question(
                self.owner, "Replace export", f"{folder} already holds an export ({LABELS_CSV}, {INDEX_JSON}). Replace it?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        store = self.digits.store
        self._start("export", lambda progress: (store.export(folder, overwrite=True), folder))
        return True

    # --- import ---------------------------------------------------------------------------------

    def _on_import_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.owner, "Import digits from a folder", str(Path.home()))
        if folder:
            self.import_from(folder)

    def import_from(self, folder: str | Path) -> bool:
        """Add the labelled images of ``folder`` (``labels.csv``: file,label) on a worker thread."""
        if self.running or self._closing:
            return False
        store, folder = self.digits.store, Path(folder)
        self._start("import", lambda progress: store.import_folder(folder, progress=progress))
        return True

    # --- the job --------------------------------------------------------------------------------

    def _start(self, kind: str, job) -> None:
        self._kind = kind
        self.thread = self.runs.start(Run(kind), TaskWorker(job), self._on_event, self._on_ended,
                                      f"digitpad-personal-{kind}")
        self.progress.setRange(0, 0)
        self.progress.setFormat(f"{kind.capitalize()}ing…")
        self.progress.setVisible(True)
        self.busyChanged.emit()

    @Slot(object)
    def _on_event(self, event: object) -> None:
        if self._closing:
            return
        if isinstance(event, TaskProgress) and event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            self.progress.setFormat("Importing %v of %m")
        elif isinstance(event, TaskDone):
            if isinstance(event.result, ImportResult):
                self._on_imported(event.result)
            else:
                count, folder = event.result
                self.report.emit(f"Exported {count} digits to {folder} (PNGs, {LABELS_CSV}, {INDEX_JSON})", False, "")
        elif isinstance(event, (TaskFailed, RunFailed)):
            self.report.emit(f"Could not {self._kind}: {event.message}", True, "")

    def _on_imported(self, result: ImportResult) -> None:
        added = len(result.added)
        skipped = f"; {len(result.skipped)} skipped (hover for why)" if result.skipped else ""
        details = "\n".join(f"{name}: {why}" for name, why in result.skipped[:20])
        if len(result.skipped) > 20:
            details += f"\n… and {len(result.skipped) - 20} more"
        self.report.emit(f"Imported {added} digit{'s' if added != 1 else ''} into My digits{skipped}", False, details)

    def _on_ended(self) -> None:
        self.thread = None
        self.progress.setVisible(False)
        if not self._closing:
            self.ended.emit()
        self.busyChanged.emit()

    def shutdown(self) -> None:
        """Stop an import or export within a file and wait for it; the entries added so far are complete."""
        self._closing = True
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.shutdown()
