"""My digits: the user's own labelled drawings: browse, delete, export/import, fine-tune on them.

The dock (``PersonalPanel``) and the pad's correction bar (``correction_bar.CorrectionBar``) share
one ``PersonalDigits``: the on-disk ``core.personal.PersonalStore`` plus a cache of its entries, so
a correction appears in the gallery at once without reading the whole folder again. The folder is
read on first need (reading costs ~0.4 ms a digit, so a hidden dock costs start-up nothing), again
when the dock is shown and the folder changed meanwhile (the CLI may have added digits), and after
an import. A hidden dock does not redraw; it catches up when shown.

Slow work runs on worker threads started by the window's ``ui.runs.RunController``, never on the
GUI thread: import and export (every file is fsynced) and fine-tuning. Fine-tuning
(``core.finetune.Finetuner``) loads MNIST to replay, measures the model before, trains, measures
after; it is a run like training, so the Training dock draws its progress and curves from the bus
and its core events go out on ``bus.trainingEvent``, so the kernel viewer follows the weights. At
the end the fine-tuned model becomes the pad's model and "Save model as..." is offered.

Damaged entries never fail the dock: they are skipped and counted in a warning line.

Scriptable: ``personal_panel``, ``personal_summary``, ``personal_warning``, ``personal_all`` and
``personal_digit_0`` .. ``personal_digit_9`` (the per-digit counts, which filter the gallery),
``personal_gallery``, ``personal_delete``, ``personal_export``, ``personal_import``,
``personal_progress``, ``finetune_button``, ``finetune_stop``, ``finetune_save``,
``finetune_download``, ``finetune_progress``, ``finetune_status``, ``finetune_result``.
``base_loader`` and ``finetune_config`` may be replaced (tests inject tiny data and a short run);
folder dialogs go through ``QFileDialog.getExistingDirectory``.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QAbstractListModel, QCoreApplication, QEvent, QModelIndex, QObject, QSize, Qt, Signal, Slot
from PySide6.QtGui import QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.datasets import DigitData
from ...core.events import (
    DataLoaded,
    DataProgress,
    DataReady,
    DataUnavailable,
    EpochEnded,
    FinetuneFinished,
    FinetuneMeasured,
    RunFailed,
    RunFinished,
    RunStarted,
    StepsEnded,
    TaskDone,
    TaskFailed,
    TaskProgress,
)
from ...core.personal import INDEX_JSON, LABELS_CSV, CorruptEntryWarning, Entry, ImportResult, PersonalStore
from ...core.trainer import RunControl
from ..runs import Run, RunController
from ..workers import DownloadWorker, FinetuneWorker, TaskWorker, WorkerThread, load_training_data
from .correction_bar import CorrectionBar, digit_count_text
from ..bus import AppBus
from .training_panel import show_download_progress

THUMB_PX = 56  # 2x the stored 28x28: strokes readable, a dozen per row in the dock
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


# --- the set as the app sees it ---------------------------------------------------------------


class PersonalDigits(QObject):
    """The personal digit set for the GUI thread: a ``PersonalStore`` and a cache of its entries.

    Events
    ------
    changed(): the entries (or the skipped count) changed; read ``entries``, ``counts()``, ``skipped``.
    """

    changed = Signal()

    def __init__(self, store: PersonalStore | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store if store is not None else PersonalStore()
        self._entries: list[Entry] | None = None  # None: not read yet
        self._folder_mtime_ns: int | None = None  # the entries folder's, when last read
        self.skipped: list[tuple[str, str]] = []  # (file, why) of the damaged entries the last read skipped

    @property
    def root(self) -> Path:
        return self.store.root

    @property
    def entries(self) -> list[Entry]:
        """Every readable entry, oldest first (read from disk on first use)."""
        if self._entries is None:
            self._read()
        return self._entries

    def _folder_mtime(self) -> int | None:
        try:
            return self.store.entries_dir.stat().st_mtime_ns
        except OSError:
            return None

    def _read(self) -> None:
        self._folder_mtime_ns = self._folder_mtime()  # before reading: a change meanwhile reads again
        with warnings.catch_warnings():
            # The dock shows them as a warning line; a warnings filter set to "error" must not make
            # the store stop reading at the first damaged file.
            warnings.simplefilter("ignore", CorruptEntryWarning)
            self._entries = self.store.entries()
        self.skipped = list(self.store.skipped)

    def reload(self) -> None:
        """Read the folder again. Damaged entries are skipped (listed in ``skipped``), never fatal."""
        self._read()
        self.changed.emit()

    def refresh(self) -> bool:
        """Read the folder again if it changed since it was read (adds, deletes, relabels by anyone,
        this app included); True if it did."""
        if self._entries is not None and self._folder_mtime() == self._folder_mtime_ns:
            return False
        self.reload()
        return True

    def counts(self) -> np.ndarray:
        """(10,) int64: entries per digit."""
        return np.bincount([e.label for e in self.entries], minlength=10).astype(np.int64)

    def add(self, prediction, label: int, strokes=None) -> Entry:
        """Store what the pad read (``prediction.prepared``) as ``label``; raises OSError/ValueError."""
        entries = self.entries  # read the folder first (if not yet), then add to what was read
        entry = self.store.add(prediction.prepared, label, strokes=strokes, source="pad", predicted=prediction.digit)
        entries.append(entry)
        self.changed.emit()
        return entry

    def delete(self, entry_ids: list[str]) -> int:
        """Remove these entries; returns how many went (ids already gone are not an error)."""
        entries = self.entries
        removed = 0
        for entry_id in entry_ids:
            try:
                self.store.delete(entry_id)
                removed += 1
            except KeyError:
                pass
        gone = set(entry_ids)
        self._entries = [e for e in entries if e.id not in gone]
        self.changed.emit()
        return removed

    def relabel(self, entry_id: str, label: int) -> Entry:
        entries = self.entries
        entry = self.store.relabel(entry_id, label)
        self._entries = [entry if e.id == entry_id else e for e in entries]
        self.changed.emit()
        return entry

    def as_digit_data(self) -> DigitData:
        """The cached entries as a dataset: all in ``train``, an empty ``test`` (as the store's)."""
        size = self.entries[0].image.shape[0] if self.entries else 28
        images = np.stack([e.image for e in self.entries]) if self.entries else np.zeros((0, size, size), np.uint8)
        labels = np.array([e.label for e in self.entries], dtype=np.int64)
        return DigitData("personal", images, labels, np.zeros((0, size, size), np.uint8), np.zeros(0, np.int64))


# --- the gallery ------------------------------------------------------------------------------


class PersonalModel(QAbstractListModel):
    """The gallery's rows: entries sorted by digit (then age), optionally one digit only; thumbnails
    are made on demand and cached by entry id."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.entries: list[Entry] = []
        self._pixmaps: dict[str, QPixmap] = {}

    def set_entries(self, entries: list[Entry], digit: int | None = None) -> None:
        self.beginResetModel()
        shown = [e for e in entries if digit is None or e.label == digit]
        self.entries = sorted(shown, key=lambda e: (e.label, e.created, e.id))
        alive = {e.id for e in entries}
        self._pixmaps = {k: v for k, v in self._pixmaps.items() if k in alive}
        self.endResetModel()

    def entry(self, row: int) -> Entry:
        return self.entries[row]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.entries)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.entries):
            return None
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return str(entry.label)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(entry)
        if role == Qt.ItemDataRole.ToolTipRole:
            read = "" if entry.predicted is None else (
                " (the model read it right)" if entry.predicted == entry.label else f" (the model read {entry.predicted})"
            )
            strokes = ", strokes kept" if entry.strokes else ""
            return (f"A {entry.label}{read}\nSaved {entry.created} from the {entry.source}{strokes}\n"
                    "Double-click to put it on the pad; Delete removes it")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"Digit {entry.label}"
        if role == Qt.ItemDataRole.UserRole:
            return entry.id
        return None

    def _pixmap(self, entry: Entry) -> QPixmap:
        pixmap = self._pixmaps.get(entry.id)
        if pixmap is None:
            grey = np.ascontiguousarray(255 - entry.image)  # dark ink on paper, like the pad
            h, w = grey.shape
            image = QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
            pixmap = QPixmap.fromImage(image.scaled(THUMB_PX, THUMB_PX, Qt.AspectRatioMode.KeepAspectRatio))
            self._pixmaps[entry.id] = pixmap
        return pixmap


class DigitGallery(QListView):
    """Thumbnails in a grid. Delete (or Backspace) asks to remove the selection.

    The window's Clear action also listens to Delete; accepting the ShortcutOverride while the
    gallery has focus gives the key to the gallery, as a line edit takes its own keys.

    Events
    ------
    deleteRequested(): the user pressed Delete with digits selected.
    """

    deleteRequested = Signal()

    DELETE_KEYS = (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in self.DELETE_KEYS and self.selectedIndexes():
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.key() in self.DELETE_KEYS and self.selectedIndexes():
            self.deleteRequested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


# --- the dock ---------------------------------------------------------------------------------


def _named(widget: QWidget, name: str, accessible: str, tip: str = "") -> QWidget:
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    if tip:
        widget.setToolTip(tip)
    return widget


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _change(before: float, after: float) -> str:
    return f"{(after - before) * 100:+.1f} points"


class PersonalPanel(QWidget):
    """The My digits dock.

    Events (on ``bus``)
    -------------------
    A fine-tune is a run of the ``RunController``, which tells the bus (trainingStarted,
    trainingEvent, trainingFinished; runStarted, runEvent, runEnded, with this panel's summary);
    modelChanged through ``window.set_checkpoint``; statusMessage for saves, deletes, exports and
    imports.

    Inspectable: ``digits`` (the shared ``PersonalDigits``), ``gallery_model``, ``last_result``
    (the last ``FinetuneResult``), ``finetuning`` (a run is going), ``task_running``.
    """

    def __init__(self, window=None, digits: PersonalDigits | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("personal_panel")
        self.setAccessibleName("My digits")
        self.window_ = window
        self.bus = window.bus if window is not None else None
        self.runs: RunController = window.runs if window is not None else RunController(AppBus(self), parent=self)
        self.digits = digits if digits is not None else PersonalDigits(parent=self)
        self.correction_bar: CorrectionBar | None = None
        self.base_loader: DataLoader | None = None  # None: the Training panel's loader and data folder
        self.finetune_config = None  # None: FinetuneConfig() defaults (4 short epochs, 5000 MNIST replayed)
        self.last_result = None
        self.control: RunControl | None = None
        self.finetune_thread: WorkerThread | None = None
        self.download_thread: WorkerThread | None = None
        self.task_thread: WorkerThread | None = None
        self._task_kind = ""
        self._digit: int | None = None  # the gallery shows only this digit; None: all
        self._run: Run | None = None  # the fine-tune going now
        self._failure = ""
        self._last_progress_s = -float("inf")
        self._closing = False
        self._stale = True  # the views do not show the set yet (updated when shown)
        self._build()
        self.digits.changed.connect(self._on_digits_changed)
        if self.bus is not None:
            self.bus.modelChanged.connect(lambda _checkpoint: self._update_buttons())
            self.bus.trainingStarted.connect(lambda _config: self._update_buttons())
            self.bus.trainingFinished.connect(lambda _checkpoint: self._update_buttons())
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # --- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.summary = _named(QLabel(""), "personal_summary", "My digits summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning = _named(QLabel(""), "personal_warning", "Damaged digits skipped")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #8a5a00;")
        self.warning.setVisible(False)

        self.filter_group = QButtonGroup(self)
        self.filter_group.setExclusive(True)
        self.count_buttons: list[QToolButton] = []
        counts_row = QHBoxLayout()
        counts_row.setSpacing(2)
        self.all_button = self._count_button("personal_all", None)
        counts_row.addWidget(self.all_button)
        for digit in range(10):
            button = self._count_button(f"personal_digit_{digit}", digit)
            self.count_buttons.append(button)
            counts_row.addWidget(button)
        counts_row.addStretch(1)
        self.all_button.blockSignals(True)  # the gallery does not exist yet; it starts with all digits
        self.all_button.setChecked(True)
        self.all_button.blockSignals(False)

        self.gallery_model = PersonalModel(self)
        self.gallery = _named(DigitGallery(), "personal_gallery", "My digits",
                              "Your saved digits. Select and press Delete to remove; double-click to put one on the pad")
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setUniformItemSizes(True)
        self.gallery.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.gallery.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.gallery.setGridSize(QSize(THUMB_PX + 12, THUMB_PX + 22))
        self.gallery.setMinimumHeight(2 * (THUMB_PX + 22) + 8)
        self.gallery.setModel(self.gallery_model)
        self.gallery.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.gallery.customContextMenuRequested.connect(self._on_context_menu)
        self.gallery.deleteRequested.connect(self.delete_selected)
        self.gallery.doubleClicked.connect(self._on_double_clicked)
        self.gallery.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.delete_button = _named(QPushButton("Delete"), "personal_delete", "Delete the selected digits",
                                    "Remove the selected digits from My digits (Delete key)")
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button = _named(QPushButton("Export..."), "personal_export", "Export my digits",
                                    "Write My digits to a folder: one PNG per digit, labels.csv and index.json")
        self.export_button.clicked.connect(self._on_export_clicked)
        self.import_button = _named(QPushButton("Import..."), "personal_import", "Import digits",
                                    "Add the digits of a folder of images with a labels.csv (file,label), "
                                    "e.g. another digitpad's export")
        self.import_button.clicked.connect(self._on_import_clicked)
        files = QHBoxLayout()
        files.addWidget(self.delete_button)
        files.addStretch(1)
        files.addWidget(self.export_button)
        files.addWidget(self.import_button)
        self.task_progress = _named(QProgressBar(), "personal_progress", "Import or export progress")
        self.task_progress.setVisible(False)
        self.task_status = _named(QLabel(""), "personal_status", "Last change to My digits")
        self.task_status.setWordWrap(True)

        self.finetune_button = _named(QPushButton("Fine-tune on my digits"), "finetune_button", "Fine-tune on my digits",
                                      "A short training run of the pad's model on your digits, mixed with MNIST "
                                      "so it does not forget it; progress in the Training panel")
        self.finetune_button.clicked.connect(self.start_finetune)
        self.stop_button = _named(QPushButton("Stop"), "finetune_stop", "Stop fine-tuning",
                                  "Stop after the current batch; the model so far is measured and kept")
        self.stop_button.clicked.connect(self.stop_finetune)
        self.save_button = _named(QPushButton("Save model as..."), "finetune_save", "Save the fine-tuned model",
                                  "Keep the fine-tuned model in a file")
        self.save_button.clicked.connect(self._on_save_clicked)
        tune = QHBoxLayout()
        tune.addWidget(self.finetune_button)
        tune.addWidget(self.stop_button)
        tune.addStretch(1)
        self.download_button = _named(QPushButton(f"Download {BASE_TITLE}"), "finetune_download",
                                      f"Download {BASE_TITLE}",
                                      "Fetch the published files, verify their checksums, then fine-tune")
        self.download_button.clicked.connect(self.download_base)
        self.download_button.setVisible(False)
        self.finetune_progress = _named(QProgressBar(), "finetune_progress", "Fine-tuning progress")
        self.finetune_progress.setRange(0, 1000)
        self.finetune_progress.setVisible(False)
        self.finetune_status = _named(QLabel(""), "finetune_status", "Fine-tuning status")
        self.finetune_status.setWordWrap(True)
        self.finetune_result = _named(QLabel(""), "finetune_result", "Fine-tuning result")
        self.finetune_result.setWordWrap(True)
        self.finetune_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setFrameShadow(QFrame.Shadow.Sunken)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.warning)
        layout.addLayout(counts_row)
        layout.addWidget(self.gallery, 1)
        layout.addLayout(files)
        layout.addWidget(self.task_progress)
        layout.addWidget(self.task_status)
        layout.addWidget(rule)
        layout.addLayout(tune)
        layout.addWidget(self.finetune_progress)
        layout.addWidget(self.finetune_status)
        layout.addWidget(self.finetune_result)
        after = QHBoxLayout()
        after.addWidget(self.download_button)
        after.addWidget(self.save_button)
        after.addStretch(1)
        layout.addLayout(after)

    def _count_button(self, name: str, digit: int | None) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setAccessibleName("All your digits" if digit is None else f"Your {digit}s")
        button.setToolTip("Show all your digits" if digit is None else f"Show only your {digit}s (the count is below)")
        button.setCheckable(True)
        button.setAutoRaise(True)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.toggled.connect(lambda on, d=digit: on and self.show_digit(d))
        self.filter_group.addButton(button)
        return button

    # --- the set ------------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        # The CLI (or another window) may have changed the folder while the dock was hidden.
        if not self.digits.refresh() and self._stale:
            self._on_digits_changed()

    def show_digit(self, digit: int | None) -> None:
        """Show only ``digit``'s thumbnails (None: all, grouped by digit)."""
        self._digit = digit
        button = self.all_button if digit is None else self.count_buttons[digit]
        if not button.isChecked():
            button.setChecked(True)  # calls back here through toggled
            return
        self.gallery_model.set_entries(self.digits.entries, digit)
        self._update_buttons()

    @Slot()
    def _on_digits_changed(self) -> None:
        if not self.isVisible():  # a hidden dock catches up in showEvent
            self._stale = True
            return
        self._stale = False
        counts = self.digits.counts()
        total = int(counts.sum())
        self.all_button.setText(f"All\n{total}")
        self.all_button.setToolTip(f"Show all {total} digits, grouped by digit")
        self.all_button.setAccessibleName(f"All digits, {total} saved")
        for digit, button in enumerate(self.count_buttons):
            n = int(counts[digit])
            button.setText(f"{digit}\n{n}")
            button.setToolTip(f"Show only the {digit}s ({digit_count_text(digit, n)} saved)")
            button.setAccessibleName(f"Digit {digit}, {n} saved")
        # The folder goes in the tooltip: a long path has nowhere to wrap and would widen the dock.
        self.summary.setToolTip(f"Kept in {self.digits.root}")
        if total:
            self.summary.setText(f"{total} digit{'s' if total != 1 else ''} of yours")
        else:
            self.summary.setText("No digits of yours yet: draw one on the pad, then press Correct! "
                                 "or the right digit under the reading.")
        skipped = self.digits.skipped
        self.warning.setVisible(bool(skipped))
        if skipped:
            count = len(skipped)
            self.warning.setText(f"⚠ {count} damaged entr{'ies were' if count != 1 else 'y was'} skipped "
                                 f"(hover for details); the other digits are fine.")
            self.warning.setToolTip("\n".join(f"{name}: {why}" for name, why in skipped[:20]))
        self.gallery_model.set_entries(self.digits.entries, self._digit)
        self._update_buttons()

    def selected_ids(self) -> list[str]:
        rows = sorted({index.row() for index in self.gallery.selectionModel().selectedIndexes()})
        return [self.gallery_model.entry(row).id for row in rows]

    def select_ids(self, ids) -> None:
        """Select these entries in the gallery (scripting and tests)."""
        wanted = set(ids)
        selection = self.gallery.selectionModel()
        selection.clearSelection()
        for row, entry in enumerate(self.gallery_model.entries):
            if entry.id in wanted:
                selection.select(self.gallery_model.index(row), selection.SelectionFlag.Select)

    @Slot()
    def delete_selected(self) -> int:
        """Remove the selected digits (asking first when there are several); returns how many went."""
        ids = self.selected_ids()
        if not ids:
            return 0
        if len(ids) > 1:
            answer = QMessageBox.question(self, "Delete digits", f"Delete {len(ids)} of your digits? This cannot be undone.")
            if answer != QMessageBox.StandardButton.Yes:
                return 0
        try:
            removed = self.digits.delete(ids)
        except OSError as error:
            self._set_task_status(f"Could not delete: {error}", error=True)
            self.digits.reload()
            return 0
        self._set_task_status(f"Deleted {removed} digit{'s' if removed != 1 else ''} from My digits")
        return removed

    def _on_double_clicked(self, index) -> None:
        if self.bus is not None and index.isValid():
            entry = self.gallery_model.entry(index.row())
            self.bus.exampleRequested.emit(entry.image_float, entry.label)

    def _on_context_menu(self, pos) -> None:
        index = self.gallery.indexAt(pos)
        if not index.isValid():
            return
        entry = self.gallery_model.entry(index.row())
        menu = QMenu(self)
        menu.addAction("Put on the pad", lambda: self._on_double_clicked(index))
        relabel = menu.addMenu("Label as")
        for digit in range(10):
            action = relabel.addAction(str(digit), lambda d=digit: self._relabel(entry.id, d))
            action.setEnabled(digit != entry.label)
        delete = menu.addAction("Delete", self.delete_selected)
        delete.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        menu.exec(self.gallery.viewport().mapToGlobal(pos))

    def _relabel(self, entry_id: str, digit: int) -> None:
        try:
            self.digits.relabel(entry_id, digit)
        except (OSError, KeyError, ValueError) as error:
            self._set_task_status(f"Could not relabel: {error}", error=True)
            self.digits.reload()

    def _message(self, text: str) -> None:
        if self.bus is not None:
            self.bus.statusMessage.emit(text)

    # --- export / import (worker thread) --------------------------------------------------------

    @property
    def task_running(self) -> bool:
        return self.task_thread is not None

    def _on_export_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export My digits to a folder", str(Path.home()))
        if folder:
            self.export_to(folder)

    def export_to(self, folder: str | Path, overwrite: bool | None = None) -> bool:
        """Write the set to ``folder`` on a worker thread. An earlier export there is replaced only
        with ``overwrite`` (None: ask)."""
        folder = Path(folder)
        if self.task_running or self._closing:
            return False
        if (folder / LABELS_CSV).exists() and not overwrite:
            if overwrite is False:
                return False
            answer = QMessageBox.question(
                self, "Replace export", f"{folder} already holds an export ({LABELS_CSV}, {INDEX_JSON}). Replace it?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        store = self.digits.store
        self._start_task("export", lambda progress: (store.export(folder, overwrite=True), folder))
        return True

    def _on_import_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import digits from a folder", str(Path.home()))
        if folder:
            self.import_from(folder)

    def import_from(self, folder: str | Path) -> bool:
        """Add the labelled images of ``folder`` (``labels.csv``: file,label) on a worker thread."""
        if self.task_running or self._closing:
            return False
        store, folder = self.digits.store, Path(folder)
        self._start_task("import", lambda progress: store.import_folder(folder, progress=progress))
        return True

    def _start_task(self, kind: str, job) -> None:
        self._task_kind = kind
        self.task_thread = self.runs.start(Run(kind), TaskWorker(job), self._on_task_event, self._on_task_ended,
                                           f"digitpad-personal-{kind}")
        self.task_progress.setRange(0, 0)
        self.task_progress.setFormat(f"{kind.capitalize()}ing…")
        self.task_progress.setVisible(True)
        self._update_buttons()

    @Slot(object)
    def _on_task_event(self, event: object) -> None:
        if self._closing:
            return
        if isinstance(event, TaskProgress) and event.total:
            self.task_progress.setRange(0, event.total)
            self.task_progress.setValue(event.done)
            self.task_progress.setFormat("Importing %v of %m")
        elif isinstance(event, TaskDone):
            if isinstance(event.result, ImportResult):
                self._on_imported(event.result)
            else:
                count, folder = event.result
                self._set_task_status(f"Exported {count} digits to {folder} (PNGs, {LABELS_CSV}, {INDEX_JSON})")
        elif isinstance(event, (TaskFailed, RunFailed)):
            self._set_task_status(f"Could not {self._task_kind}: {event.message}", error=True)

    def _on_imported(self, result: ImportResult) -> None:
        added = len(result.added)
        skipped = f"; {len(result.skipped)} skipped (hover for why)" if result.skipped else ""
        details = "\n".join(f"{name}: {why}" for name, why in result.skipped[:20])
        if len(result.skipped) > 20:
            details += f"\n… and {len(result.skipped) - 20} more"
        self._set_task_status(f"Imported {added} digit{'s' if added != 1 else ''} into My digits{skipped}", tip=details)

    def _set_task_status(self, text: str, error: bool = False, tip: str = "") -> None:
        """A line under the gallery for deletes, exports and imports (and the status bar)."""
        self.task_status.setText(text)
        self.task_status.setToolTip(tip)
        self.task_status.setStyleSheet("color: #b00020;" if error else "")
        self._message(text)

    @Slot()
    def _on_task_ended(self) -> None:
        self.task_thread = None
        self.task_progress.setVisible(False)
        if not self._closing:
            self.digits.reload()  # an import added files; an export may have met damaged ones

    # --- fine-tuning (worker thread) -----------------------------------------------------------

    @property
    def finetuning(self) -> bool:
        return self.finetune_thread is not None or self.download_thread is not None

    def _base_loader(self) -> tuple[DataLoader, Path | None]:
        if self.base_loader is not None:
            return self.base_loader, None
        return load_training_data, self.runs.data_root  # the data folder training uses ("Use folder...")

    def _update_buttons(self) -> None:
        if not self.isVisible():  # a hidden dock catches up in showEvent (and reads nothing now)
            self._stale = True
            return
        has_model = self.window_ is not None and getattr(self.window_, "checkpoint", None) is not None
        idle = not self.finetuning and not self._closing
        self.finetune_button.setEnabled(idle and bool(self.digits.entries) and has_model)
        self.stop_button.setEnabled(self.finetune_thread is not None and self.control is not None and not self.control.stopped)
        self.save_button.setEnabled(idle and self.last_result is not None)
        self.delete_button.setEnabled(bool(self.gallery.selectionModel().selectedIndexes()))
        self.export_button.setEnabled(not self.task_running and bool(self.digits.entries))
        self.import_button.setEnabled(not self.task_running)
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
        checkpoint = getattr(self.window_, "checkpoint", None)
        if checkpoint is None:
            self._set_status("No model to fine-tune: open or train one first.", error=True)
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
        self._update_buttons()
        return True

    @Slot()
    def stop_finetune(self) -> None:
        """Stop after the current batch; the model so far is still measured and handed to the pad."""
        if self.control is not None and self.finetune_thread is not None:
            self.control.stop()
            self._set_status("Stopping after this batch; the model so far will be measured and kept…")
            self._update_buttons()

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
        if self.window_ is not None:
            self.window_.set_checkpoint(result.checkpoint)

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
        self._update_buttons()

    def _on_save_clicked(self) -> None:
        if self.window_ is None or self.last_result is None:
            return
        if self.window_.checkpoint is not self.last_result.checkpoint:
            self.window_.set_checkpoint(self.last_result.checkpoint)
        self.window_.save_model_dialog()

    # --- fetching MNIST -------------------------------------------------------------------------

    @Slot()
    def download_base(self) -> bool:
        """Fetch and verify MNIST on a worker thread (into the Training panel's data folder), then
        fine-tune."""
        if self.finetuning or self._closing:
            return False
        _, root = self._base_loader()
        self.download_thread = self.runs.start(Run("download"), DownloadWorker(BASE_DATASET, root), self._on_download_event,
                                               self._on_download_ended, "digitpad-download")
        self.finetune_progress.setRange(0, 0)
        self.finetune_progress.setFormat(f"Downloading {BASE_TITLE}…")
        self.finetune_progress.setVisible(True)
        self._set_status(f"Downloading {BASE_TITLE}…")
        self._failure = ""
        self._update_buttons()
        return True

    @Slot(object)
    def _on_download_event(self, event: object) -> None:
        if self._closing:
            return
        if isinstance(event, DataProgress):
            show_download_progress(self.finetune_progress, event)
        elif isinstance(event, DataReady):
            self.download_button.setVisible(False)
            self._message(f"Downloaded {BASE_TITLE} to {event.folder}")
        elif isinstance(event, (DataUnavailable, RunFailed)):
            self._failure = event.message
            self._set_status(f"Download failed: {event.message}", error=True)

    @Slot()
    def _on_download_ended(self) -> None:
        self.download_thread = None
        self.finetune_progress.setVisible(False)
        self._update_buttons()
        if not self._failure and not self._closing:
            self.start_finetune()  # what the user asked for in the first place

    # --- closing ------------------------------------------------------------------------------

    @Slot()
    def shutdown(self) -> None:
        """Stop a fine-tune, download, import or export within a batch (or file), wait, save nothing."""
        self._closing = True
        for attr in ("finetune_thread", "download_thread", "task_thread"):
            thread = getattr(self, attr)
            if thread is not None:
                thread.shutdown()
                setattr(self, attr, None)


def create_dock_widget(window) -> PersonalPanel:
    """The My digits dock, and the correction bar it puts under the pad's reading."""
    digits = PersonalDigits()
    panel = PersonalPanel(window, digits)
    digits.setParent(panel)
    add_pad_widget = getattr(window, "add_pad_widget", None)
    if add_pad_widget is not None:
        panel.correction_bar = CorrectionBar(window, digits)
        add_pad_widget(panel.correction_bar)
    return panel
