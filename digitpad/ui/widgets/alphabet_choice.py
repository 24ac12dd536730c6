"""What the pad reads: Digits, Letters or Both, chosen beside the probability chart (the combo
``alphabetChoice``) or in View > Read (a QActionGroup), the two always in step with the live model.

The choice is remembered in the settings (``pad/alphabet``: "digits", "letters" or "both"; digits by
default) and applied when the window has its model (``restore``). Choosing changes the model when
the current one cannot read the alphabet (``LiveModel.set_alphabet``: the shipped letters model for
letters, your own model back for digits); when no model can be had, the choice snaps back and the
status bar says why.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QComboBox, QMenu

from ...core.alphabets import ALPHABETS
from .. import settings as app_settings
from ..live_model import LiveModel

ALPHABET_KEY = "pad/alphabet"
TITLES = {"digits": "Digits", "letters": "Letters", "both": "Both"}
TIPS = {
    "digits": "Read the digits 0-9",
    "letters": "Read the letters a-z and A-Z (with the shipped letters model unless yours reads them)",
    "both": "Read digits and letters at once: 62 classes; the best digit and the best letter are shown side by side",
}


class AlphabetChoice(QObject):
    """The combo (``combo``) and the View menu's actions (``actions``, by alphabet) of the pad's alphabet."""

    def __init__(self, model: LiveModel, settings: QSettings, parent: QObject):
        super().__init__(parent)
        self.model, self.settings = model, settings
        # Read now: a model that reads only another alphabet may change it before ``restore``.
        self.saved = app_settings.read(settings, ALPHABET_KEY, "digits", str)
        if self.saved not in ALPHABETS:
            self.saved = "digits"
        self.combo = self._build_combo()
        self.group = QActionGroup(self)
        self.actions: dict[str, QAction] = {}
        for alphabet in ALPHABETS:
            action = QAction(f"&{TITLES[alphabet]}", parent)
            action.setObjectName(f"action_alphabet_{alphabet}")
            action.setCheckable(True)
            action.setToolTip(TIPS[alphabet])
            action.setStatusTip(TIPS[alphabet])
            action.triggered.connect(lambda checked=False, a=alphabet: self.choose(a))
            self.group.addAction(action)
            self.actions[alphabet] = action
        self._show(model.alphabet)
        model.bus.alphabetChanged.connect(self._on_alphabet_changed)

    def _build_combo(self) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName("alphabetChoice")
        combo.setAccessibleName("What the pad reads")
        combo.setToolTip("What the pad reads: digits, letters or both (also in View > Read)")
        for alphabet in ALPHABETS:
            combo.addItem(TITLES[alphabet], alphabet)
            combo.setItemData(combo.count() - 1, TIPS[alphabet], Qt.ItemDataRole.ToolTipRole)
        # Any change but ``_show``'s (signals blocked) is a choice: the user's, or a script's setCurrentIndex.
        combo.currentIndexChanged.connect(lambda index: self.choose(combo.itemData(index)))
        return combo

    def fill_menu(self, menu: QMenu) -> None:
        for alphabet in ALPHABETS:
            menu.addAction(self.actions[alphabet])

    def restore(self) -> None:
        """Read the remembered alphabet (the window calls this once it has its model)."""
        self.choose(self.saved)

    def choose(self, alphabet: str) -> bool:
        """Read ``alphabet``; False (the choice shows the alphabet still read) when it cannot be."""
        done = self.model.set_alphabet(alphabet)
        if done:
            self.settings.setValue(ALPHABET_KEY, alphabet)
        self._show(self.model.alphabet)
        return done

    def _on_alphabet_changed(self, alphabet: str) -> None:
        self._show(alphabet)
        self.settings.setValue(ALPHABET_KEY, alphabet)

    def _show(self, alphabet: str) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(self.combo.findData(alphabet))
        self.combo.blockSignals(False)
        self.actions[alphabet].setChecked(True)
