"""Small helpers every panel uses to make its controls scriptable: objectName, accessible name, tooltip."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QWidget


def named(widget: QWidget, name: str, accessible: str, tip: str = "") -> QWidget:
    """``widget`` with its objectName (for scripts and tests), accessible name and tooltip set."""
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    if tip:
        widget.setToolTip(tip)
    return widget


def add_header(combo: QComboBox, text: str) -> None:
    """A disabled "— text —" row in ``combo`` (its data None): a heading over the rows after it."""
    combo.addItem(f"— {text} —", None)
    item = combo.model().item(combo.count() - 1)
    item.setEnabled(False)
    item.setSelectable(False)
