"""The window's actions and menus as tables (pymmcore-gui's pattern): to add a menu item, add a row.

Each ``ActionSpec`` names the ``MainWindow`` method it calls (a dotted path: "canvas.undo");
``MENUS`` lists each menu's action keys in order, ``None`` for a separator. The View menu also
gets what the pad reads (digits, letters or both), the inference devices, the display options docks add, and a toggle per dock (``ui.docks``).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence

Keys = QKeySequence.StandardKey


@dataclass(frozen=True)
class ActionSpec:
    key: str  # the QAction's objectName is action_<key>
    text: str
    handler: str  # the MainWindow attribute to call, e.g. "open_model_dialog" or "canvas.undo"
    shortcuts: tuple = ()  # QKeySequence.StandardKey values or strings, the first the main one
    tip: str = ""  # default: the text without "&" and "..."
    role: QAction.MenuRole | None = None  # where macOS puts it

    def key_sequences(self) -> list[QKeySequence]:
        """Every key sequence of ``shortcuts``, each once, the main one first. A standard key brings
        all of the platform's bindings: ``QKeySequence(Keys.Redo)`` alone is only the first (Ctrl+Y
        on Linux), and the same sequence twice makes Qt call the shortcut ambiguous and fire neither."""
        sequences: dict[str, QKeySequence] = {}
        for shortcut in self.shortcuts:
            found = QKeySequence.keyBindings(shortcut) if isinstance(shortcut, Keys) else [QKeySequence(shortcut)]
            for sequence in found:
                sequences.setdefault(sequence.toString(), sequence)
        return list(sequences.values())


ACTIONS: list[ActionSpec] = [
    ActionSpec("open_model", "&Open model...", "open_model_dialog", (Keys.Open,), "Open a digitpad model (.safetensors)"),
    ActionSpec("save_model", "&Save model as...", "save_model_dialog", (Keys.SaveAs,), "Save the pad's current model"),
    ActionSpec("export_model", "&Export model...", "export_model_dialog", ("Ctrl+E",),
               "Write the pad's model as ONNX or TorchScript, to run it outside digitpad"),
    ActionSpec("open_image", "Open &image...", "open_image_dialog", ("Ctrl+I",), "Read a digit from an image file"),
    ActionSpec("quit", "&Quit", "close", (Keys.Quit,), role=QAction.MenuRole.QuitRole),
    ActionSpec("undo", "&Undo stroke", "canvas.undo", (Keys.Undo,)),
    ActionSpec("redo", "&Redo stroke", "canvas.redo", ("Ctrl+Shift+Z", Keys.Redo, "Ctrl+Y")),
    ActionSpec("clear", "&Clear pad", "canvas.clear", ("Esc", Keys.Delete)),
    ActionSpec("about", "&About digitpad", "show_about", role=QAction.MenuRole.AboutRole),
]

INFERENCE_DEVICES = "inference_devices"  # in MENUS: the "Inference device" submenu
RECENT_MODELS = "recent_models"  # in MENUS: the "Recent models" submenu
SHIPPED_MODELS = "shipped_models"  # in MENUS: the "Shipped models" submenu
ALPHABET_CHOICE = "alphabet_choice"  # in MENUS: the "Read" submenu (digits, letters or both)
MENUS: dict[str, list[str | None]] = {
    "&File": ["open_model", RECENT_MODELS, SHIPPED_MODELS, "save_model", "export_model", "open_image", None, "quit"],
    "&Edit": ["undo", "redo", "clear"],
    "&View": [ALPHABET_CHOICE, INFERENCE_DEVICES, None],  # then the docks' display options (above the separator) and toggles
    "&Help": ["about"],
}
