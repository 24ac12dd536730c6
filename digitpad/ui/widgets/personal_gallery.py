"""My digits' gallery: the personal digits as thumbnails in a grid, grouped by digit (or one digit
only), with Delete and Backspace to remove the selection."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractListModel, QEvent, QModelIndex, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QListView

from ...core.personal import Entry

THUMB_PX = 56  # 2x the stored 28x28: strokes readable, a dozen per row in the dock


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
