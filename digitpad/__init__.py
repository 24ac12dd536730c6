"""digitpad: draw a digit, watch a CNN read it, train it, look inside it.

Importing the package imports no Qt: ``create_window`` is a lazy attribute that brings in the UI
only when first used, so the core and the command line start headless.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

__all__ = ["__version__", "create_window"]


def __getattr__(name: str):
    if name == "create_window":
        return importlib.import_module(".ui.app", __name__).create_window
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
