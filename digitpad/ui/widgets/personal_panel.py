"""My digits: the user's own labelled drawings: browse, relabel, delete, export/import, fine-tune on them.

This dock browses the set (counts per digit, the gallery of ``personal_gallery``), deletes and
relabels; ``personal_transfer.PersonalTransfer`` exports and imports it, and the fine-tuning
controls are ``finetune_panel.FinetunePanel``, placed under it. The dock and the pad's correction bar (``correction_bar.CorrectionBar``) share one
``ui.personal_digits.PersonalDigits``. A hidden dock does not redraw; it catches up when shown.

Imports and exports (every file is fsynced) run on worker threads started by the window's
``ui.runs.RunController``, never on the GUI thread. Damaged entries never fail the dock: they are
skipped and counted in a warning line.

Scriptable: ``personal_panel``, ``personal_summary``, ``personal_warning``, ``personal_all`` and
``personal_digit_0`` .. ``personal_digit_9`` (the per-digit counts, which filter the gallery),
``personal_gallery``, ``personal_delete``, ``personal_export``, ``personal_import``,
``personal_progress``, and the fine-tuning panel's (see there). ``base_loader`` and
``finetune_config`` may be replaced (tests inject tiny data and a short run); folder dialogs go
through ``QFileDialog.getExistingDirectory``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSize, Qt, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..bus import AppBus
from ..live_model import LiveModel
from ..personal_digits import PersonalDigits
from ..runs import RunController
from .controls import named
from .correction_bar import CorrectionBar, digit_count_text
from .finetune_panel import FinetunePanel
from .personal_gallery import THUMB_PX, DigitGallery, PersonalModel
from .personal_transfer import PersonalTransfer


# --- the dock ---------------------------------------------------------------------------------


class PersonalPanel(QWidget):
    """The My digits dock.

    Events (on ``bus``)
    -------------------
    statusMessage for saves, deletes, exports and imports; a fine-tune's are its panel's.

    Inspectable: ``digits`` (the shared ``PersonalDigits``), ``gallery_model``, ``finetune`` (the
    ``FinetunePanel``: ``last_result``, ``finetuning`` and its controls are forwarded here),
    ``task_running``.
    """

    def __init__(self, context=None, digits: PersonalDigits | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("personal_panel")
        self.setAccessibleName("My digits")
        self.bus: AppBus = context.bus if context is not None else AppBus(self)
        self.runs: RunController = context.runs if context is not None else RunController(self.bus, parent=self)
        model = context.model if context is not None else LiveModel(self.bus, self)
        save_model = context.actions["save_model"].trigger if context is not None else (lambda: None)
        self.digits = digits if digits is not None else PersonalDigits(parent=self)
        self.correction_bar: CorrectionBar | None = None
        self._digit: int | None = None  # the gallery shows only this digit; None: all
        self._closing = False
        self._stale = True  # the views do not show the set yet (updated when shown)
        self.finetune = FinetunePanel(self.runs, model, save_model, self.digits)
        self.finetune.changed.connect(self._update_buttons)
        self.finetune.message.connect(self._message)
        for name in ("finetune_button", "stop_button", "save_button", "download_button", "finetune_progress",
                     "finetune_status", "finetune_result", "start_finetune", "stop_finetune", "download_base"):
            setattr(self, name, getattr(self.finetune, name))
        self._build()
        self.digits.changed.connect(self._on_digits_changed)
        if self.bus is not None:
            self.bus.modelChanged.connect(lambda _checkpoint: self._update_buttons())
            self.bus.trainingStarted.connect(lambda _config: self._update_buttons())
            self.bus.trainingFinished.connect(lambda _checkpoint: self._update_buttons())
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # --- the fine-tuning panel's state, for scripts and tests -----------------------------------

    base_loader = property(lambda self: self.finetune.base_loader,
                           lambda self, loader: setattr(self.finetune, "base_loader", loader))
    finetune_config = property(lambda self: self.finetune.finetune_config,
                               lambda self, config: setattr(self.finetune, "finetune_config", config))
    last_result = property(lambda self: self.finetune.last_result)
    finetuning = property(lambda self: self.finetune.finetuning)

    # --- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.summary = named(QLabel(""), "personal_summary", "My digits summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning = named(QLabel(""), "personal_warning", "Damaged digits skipped")
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
        self.gallery = named(DigitGallery(), "personal_gallery", "My digits",
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

        self.delete_button = named(QPushButton("Delete"), "personal_delete", "Delete the selected digits",
                                    "Remove the selected digits from My digits (Delete key)")
        self.delete_button.clicked.connect(self.delete_selected)
        self.transfer = PersonalTransfer(self.runs, self.digits, self)
        self.transfer.report.connect(lambda text, error, tip: self._set_task_status(text, error, tip))
        self.transfer.ended.connect(self.digits.reload)  # an import added files; an export may have met damaged ones
        self.transfer.busyChanged.connect(self._update_buttons)
        self.export_button, self.import_button = self.transfer.export_button, self.transfer.import_button
        files = QHBoxLayout()
        files.addWidget(self.delete_button)
        files.addStretch(1)
        files.addWidget(self.export_button)
        files.addWidget(self.import_button)
        self.task_progress = self.transfer.progress
        self.task_status = named(QLabel(""), "personal_status", "Last change to My digits")
        self.task_status.setWordWrap(True)

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
        layout.addWidget(self.finetune)

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

    # --- export / import (PersonalTransfer, on a worker thread) ---------------------------------

    @property
    def task_running(self) -> bool:
        return self.transfer.running

    def export_to(self, folder: str | Path, overwrite: bool | None = None) -> bool:
        """Write the set to ``folder`` on a worker thread (see ``PersonalTransfer.export_to``)."""
        return self.transfer.export_to(folder, overwrite)

    def import_from(self, folder: str | Path) -> bool:
        """Add the labelled images of ``folder`` on a worker thread (see ``PersonalTransfer.import_from``)."""
        return self.transfer.import_from(folder)

    def _set_task_status(self, text: str, error: bool = False, tip: str = "") -> None:
        """A line under the gallery for deletes, exports and imports (and the status bar)."""
        self.task_status.setText(text)
        self.task_status.setToolTip(tip)
        self.task_status.setStyleSheet("color: #b00020;" if error else "")
        self._message(text)

    @Slot()
    def _update_buttons(self) -> None:
        if not self.isVisible():  # a hidden dock catches up in showEvent (and reads nothing now)
            self._stale = True
            return
        self.finetune.update_buttons()
        self.delete_button.setEnabled(bool(self.gallery.selectionModel().selectedIndexes()))
        self.transfer.update_buttons()

    # --- closing ------------------------------------------------------------------------------

    @Slot()
    def shutdown(self) -> None:
        """Stop a fine-tune, download, import or export within a batch (or file), wait, save nothing."""
        self._closing = True
        self.finetune.shutdown()
        self.transfer.shutdown()


def create_dock_widget(context) -> PersonalPanel:
    """The My digits dock, and the correction bar it puts under the pad's reading."""
    digits = PersonalDigits()
    panel = PersonalPanel(context, digits)
    digits.setParent(panel)
    panel.correction_bar = CorrectionBar(context, digits)
    context.add_pad_widget(panel.correction_bar)
    return panel
