"""digitpad: draw a digit, watch a CNN read it, train it, look inside it."""

__version__ = "0.1.0"


def create_window(model_path=None):
    """The main window (not yet shown) with the shipped model loaded, for embedding and tests.

    Creates the QApplication if there is none. Imports Qt only when called.
    """
    from .ui.app import ensure_app
    from .ui.main_window import create_window as _create

    ensure_app()
    return _create(model_path)
