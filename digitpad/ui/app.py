"""The QApplication: global pyqtgraph options, the main window, and the event loop."""

from __future__ import annotations

import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from ..core.inference import resources_dir


GUI_TORCH_THREADS = 1


def ensure_app() -> QApplication:
    import pyqtgraph as pg
    import torch

    # The pad's inference (a batch of one) runs on the GUI thread: one torch thread there. Two
    # would form an OpenMP team whose helper must win a core from the trainer or any busy process:
    # measured under load, a forward pass then took ~500 ms instead of ~2 ms. The count is per
    # thread in this torch build, so the trainer's own setting does not change it.
    torch.set_num_threads(GUI_TORCH_THREADS)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("digitpad")
    app.setOrganizationName("digitpad")
    app.setApplicationDisplayName("digitpad")
    app.setDesktopFileName("digitpad")  # matches resources/digitpad.desktop, so docks show our icon
    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "digitpad.png")))
    # Antialiased curves and row-major images (numpy's [row, column]) everywhere.
    pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")
    return app


def create_window(model_path=None):
    """The main window (not yet shown) with the shipped model loaded, for embedding and tests.

    Creates the QApplication if there is none (``digitpad.create_window`` is this function).
    """
    from .main_window import create_window as _create

    ensure_app()
    return _create(model_path)


def main(model_path: str | None = None) -> int:
    from ..core.checkpoints import CheckpointError
    from .main_window import create_window

    app = ensure_app()
    try:
        window = create_window(model_path)
    except CheckpointError as error:
        QMessageBox.critical(None, "Cannot open model", str(error))
        return 1
    window.show()
    return app.exec()
