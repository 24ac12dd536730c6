"""The personal digit set as the app sees it: the on-disk ``core.personal.PersonalStore`` plus a
cache of its entries, shared by the My digits dock and the pad's correction bar.

A correction appears in the gallery at once without reading the whole folder again. The folder is
read on first need (reading costs ~0.4 ms a digit, so a hidden dock costs start-up nothing), again
when the dock is shown and the folder changed meanwhile (the CLI may have added digits), and after
an import. Damaged entries never fail it: they are skipped and listed in ``skipped``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..core.datasets import DigitData
from ..core.personal import CorruptEntryWarning, Entry, PersonalStore


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
        # What the model read, when it read a digit (in Both mode it may have read a letter).
        predicted = int(prediction.label) if prediction.label is not None and prediction.label.isdigit() else None
        entry = self.store.add(prediction.prepared, label, strokes=strokes, source="pad", predicted=predicted)
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
