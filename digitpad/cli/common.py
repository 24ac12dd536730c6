"""What every command group of the ``digitpad`` command line shares: exit codes, the one-line
error, a progress bar on stderr, loading a data set, the model a command reads, Ctrl+C as Stop.

Public inside ``digitpad.cli``: the command modules import these names directly.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
DATA_HELP = "data folder (default: $DIGITPAD_DATA or the user cache)"


class CliError(Exception):
    """A failure to report as one line, exit code 1."""


class ProgressBar:
    """A one-line text progress bar on stderr; silent when stderr is not a terminal."""

    WIDTH = 30

    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last = 0.0

    def update(self, fraction: float, suffix: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and not force):
            return
        self._last = now
        filled = int(self.WIDTH * min(max(fraction, 0.0), 1.0))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction * 100:5.1f}% {suffix}\033[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()


def bytes_progress(label: str):
    bar = ProgressBar(label)

    def report(done: int, total: int | None) -> None:
        fraction = done / total if total else 0.0
        bar.update(fraction, f"{done / 2**20:.1f} MB" + (f" of {total / 2**20:.1f} MB" if total else ""))

    return bar, report


def load_data(name: str, root, download: bool = True):
    """The data set ``name`` (``core.datasets.load_dataset``), with a download bar on stderr."""
    from ..core.datasets import load_dataset

    bar, report = bytes_progress(f"downloading {name}")
    try:
        return load_dataset(name, root, download=download, progress=report)
    finally:
        bar.close()


def resolve_model(path, alphabet: str = "digits") -> Path:
    """The checkpoint a command reads: ``path`` (a file, or the name of a shipped model such as
    "pen" when no such file exists), else the shipped model for ``alphabet``."""
    from ..core.inference import default_model_path, find_model

    return find_model(path) if path else default_model_path(alphabet)


def stop_on_interrupt(control):
    """First Ctrl+C stops like the Stop button (the best model so far is saved); a second one aborts."""

    def handler(signum, frame):
        if control.stopped:
            raise KeyboardInterrupt
        control.stop()
        print("\ninterrupted: stopping after this batch and saving the best model so far", file=sys.stderr)

    return handler

