"""The QApplication: global pyqtgraph options, the main window (with its model), and the event loop."""

from __future__ import annotations

import atexit
import gc
import signal
import socket
import sys
from pathlib import Path

from PySide6.QtCore import QSocketNotifier
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
    if not getattr(app, "_digitpad_exits", False):
        # Every way out stops the workers first: app.quit() and the interpreter's exit close the
        # windows (each waits for its threads), so no QThread is destroyed while it runs.
        app._digitpad_exits = True
        app.aboutToQuit.connect(close_windows)
        atexit.register(close_windows)
    return app


def close_windows() -> None:
    """Close every digitpad window: each stops its runs within a batch and waits for their threads."""
    app = QApplication.instance()
    if app is None:
        return
    for widget in app.topLevelWidgets():
        if hasattr(widget, "runs"):  # a MainWindow, shown or not
            widget.close()


def quit_on_signals(app: QApplication, signals=(signal.SIGINT, signal.SIGTERM)) -> None:
    """Ctrl+C and SIGTERM in a terminal quit like File > Quit (workers stop, nothing half-written).

    Python runs signal handlers only when the interpreter gets control, which Qt's event loop may
    not give it for a long time; the signal's wake-up byte on a socket wakes the loop at once.
    """
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)
    notifier.activated.connect(lambda *_: reader.recv(64))
    app._digitpad_signal_sockets = (reader, writer, notifier)  # kept alive with the app
    for number in signals:
        signal.signal(number, lambda *_: app.quit())


def create_window(model_path=None):
    """The main window (not yet shown) with the shipped model loaded, for embedding and tests.

    Creates the QApplication if there is none (``digitpad.create_window`` is this function).
    """
    ensure_app()
    return _create_window(model_path)


def main(model_path: str | None = None) -> int:
    from ..core.checkpoints import CheckpointError

    app = ensure_app()
    try:
        window = _create_window(model_path)
    except CheckpointError as error:
        QMessageBox.critical(None, "Cannot open model", str(error))
        return 1
    window.show()
    quit_on_signals(app)
    return app.exec()


def _create_window(model_path: str | Path | None = None):
    """The main window, not yet shown, with a model loaded: ``model_path``, else the last one opened
    (if it still loads), else the shipped default. Raises CheckpointError if ``model_path`` is bad."""
    from ..core.checkpoints import CheckpointError, load_checkpoint
    from ..core.inference import default_model_path, find_model
    from . import settings as app_settings
    from .main_window import MainWindow

    preload_training_imports()
    settings = app_settings.open_settings()
    candidates = [find_model(model_path)] if model_path else []
    last = app_settings.read(settings, "last_model", "", str)
    if not model_path and last:
        candidates.append(Path(last))
    candidates.append(default_model_path())
    passed_over: list[str] = []  # why a remembered model was not used, said once the window is up
    for i, path in enumerate(candidates):
        try:
            window = MainWindow(load_checkpoint(path), path)
        except CheckpointError as error:
            if model_path and i == 0:
                raise
            passed_over.append(_why_not_used(path, error))
            continue
        if passed_over:
            window.statusBar().showMessage(f"{passed_over[0]}; reading with {path.name} instead", 20000)
        return _settled(window)
    window = MainWindow(None)
    window.statusBar().showMessage("; ".join(passed_over), 20000)
    return _settled(window)


def _why_not_used(path: Path, error: Exception) -> str:
    """One line for the status bar: a model file that could not be opened at start-up, and why."""
    if not Path(path).exists():
        return f"Could not open {path}: the file is gone"
    return f"Could not open {error}"  # the error names the file first


def preload_training_imports() -> None:
    """Import what the first training run would import, now, before the window shows.

    Building any torch optimizer imports ``torch._dynamo`` (and sympy with it: ~1 s of module code).
    On the worker thread that import held the GIL in long stretches and stalled the window 150-200
    ms just after the first click on Train, and its ~100,000 new objects were not frozen out of the
    collector's view (``_settled``). Here it costs start-up time instead, once per process."""
    import torch._dynamo  # noqa: F401


def _settled(window):
    """Move everything built so far (torch, Qt wrappers, the model) out of the garbage collector's
    view: otherwise a full collection while drawing walks ~200,000 long-lived objects and stalls
    the pad for ~110 ms (measured)."""
    gc.collect()
    gc.freeze()
    return window
