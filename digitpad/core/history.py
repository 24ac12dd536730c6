"""A run's numbers as its curves show them: losses per batch (raw and smoothed), learning rate,
metrics per epoch, test accuracy; fed one event at a time, exported as CSV.

Qt-free: ``ui.widgets.training_curves`` draws a ``RunHistory`` and redraws only what ``add``
says changed. Buffers grow by doubling (``GrowingColumns``, pyqtgraph's scrollingPlots recipe), so
an append never copies the run so far.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from .events import EpochEnded, Evaluated, RunStarted, StepsEnded

SMOOTHING = 0.95  # EMA weight of the smoothed loss (debiased, as TensorBoard's smoothing)
EPOCH_COLUMNS = ("epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "elapsed_s")


class GrowingColumns:
    """Rows of floats appended at the end; capacity doubles when full (no per-append copy).

    ``column(i)`` is a view of the filled part, valid until the next append.
    """

    def __init__(self, columns: int, capacity: int = 1024):
        self._data = np.empty((capacity, columns), np.float64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, rows: np.ndarray) -> None:
        rows = np.atleast_2d(np.asarray(rows, np.float64))
        need = self._n + len(rows)
        if need > len(self._data):
            bigger = np.empty((max(need, 2 * len(self._data)), self._data.shape[1]), np.float64)
            bigger[: self._n] = self._data[: self._n]
            self._data = bigger
        self._data[self._n : need] = rows
        self._n = need

    def column(self, i: int) -> np.ndarray:
        return self._data[: self._n, i]

    def rows(self) -> np.ndarray:
        return self._data[: self._n]

    def clear(self) -> None:
        self._n = 0


def ema(values: np.ndarray, weight: float, state: tuple[float, int] = (0.0, 0)) -> tuple[np.ndarray, tuple[float, int]]:
    """Debiased exponential moving average of ``values``, continuing from ``state``.

    Returns the smoothed values and the new state ``(biased average, count)``.
    """
    average, count = state
    out = np.empty(len(values), np.float64)
    for i, value in enumerate(np.asarray(values, np.float64)):
        if not math.isfinite(value):
            out[i] = average / (1 - weight**count) if count else value
            continue
        average = weight * average + (1 - weight) * value
        count += 1
        out[i] = average / (1 - weight**count)
    return out, (average, count)


class RunHistory:
    """The curves' data of one run.

    ``steps``: step, loss, smoothed loss per batch; ``lrs``: step, lr per report; ``epochs``: the
    ``EPOCH_COLUMNS`` per epoch; ``test_accuracy`` once the test split is evaluated; ``loss_top``:
    the highest finite batch loss so far.
    """

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self.steps = GrowingColumns(3)  # step, loss, smoothed loss
        self.lrs = GrowingColumns(2)  # step, lr
        self.epochs = GrowingColumns(len(EPOCH_COLUMNS))
        self.test_accuracy: float | None = None
        self.steps_per_epoch = 0
        self.loss_top = 0.0
        self._ema_state = (0.0, 0)

    def add(self, event: object) -> str | None:
        """Take one event; returns what changed: "started" (cleared for a new run), "steps" (batch
        losses and lr), "epochs" (per-epoch metrics or the test accuracy), or None."""
        if isinstance(event, RunStarted):
            self.clear()
            self.steps_per_epoch = event.steps_per_epoch
            return "started"
        if isinstance(event, StepsEnded):
            losses = np.asarray(event.losses, np.float64)
            if len(losses) == 0:
                return None
            smoothed, self._ema_state = ema(losses, SMOOTHING, self._ema_state)
            finite = losses[np.isfinite(losses)]
            if len(finite):
                self.loss_top = max(self.loss_top, float(finite.max()))
            first = event.step - len(losses) + 1
            self.steps.append(np.column_stack([np.arange(first, event.step + 1), losses, smoothed]))
            self.lrs.append([event.step, event.lr])
            return "steps"
        if isinstance(event, EpochEnded):
            step = event.epoch * self.steps_per_epoch if self.steps_per_epoch else event.epoch
            self.epochs.append([event.epoch, step, event.train_loss, event.train_accuracy, event.val_loss,
                                event.val_accuracy, event.lr, event.elapsed_s])
            return "epochs"
        if isinstance(event, Evaluated) and event.split == "test":
            self.test_accuracy = float(event.accuracy)
            return "epochs"
        return None


def export_csv(history: RunHistory, path: str | Path) -> tuple[Path, Path]:
    """Per-epoch metrics to ``path`` and per-batch losses to ``<stem>-batches.csv`` beside it."""
    path = Path(path)
    batches = path.with_name(f"{path.stem}-batches{path.suffix or '.csv'}")
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(list(EPOCH_COLUMNS))
        for row in history.epochs.rows():
            writer.writerow([int(row[0]), int(row[1]), *(f"{v:.6g}" for v in row[2:])])
        if history.test_accuracy is not None:
            writer.writerow([])
            writer.writerow(["test_accuracy", f"{history.test_accuracy:.6g}"])
    rows, lrs = history.steps.rows(), history.lrs.rows()
    # The lr comes once per report: each batch gets the one of the report that covers it.
    covering = np.minimum(np.searchsorted(lrs[:, 0], rows[:, 0]), max(len(lrs) - 1, 0))
    with open(batches, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "loss", "smoothed_loss", "lr"])
        for (step, loss, smoothed), j in zip(rows, covering):
            writer.writerow([int(step), f"{loss:.6g}", f"{smoothed:.6g}", f"{lrs[j, 1]:.6g}" if len(lrs) else ""])
    return path, batches
