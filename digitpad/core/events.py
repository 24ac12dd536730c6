"""What a training run reports: immutable facts in the past tense, holding CPU numpy arrays only.

These cross threads (the UI's worker re-emits them as Qt signals), so none holds a live tensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RunStarted:
    device: str
    threads: int
    train_size: int
    val_size: int
    test_size: int
    epochs: int
    steps_per_epoch: int
    parameters: int


@dataclass(frozen=True)
class StepsEnded:
    """Losses of the batches since the last report (reports are throttled, not one per batch)."""

    epoch: int  # 1-based
    step: int  # global batch count after the last of these batches
    losses: np.ndarray  # (k,) float32, one per batch
    lr: float
    samples_per_s: float
    eta_s: float
    progress: float  # 0..1 over the whole run


@dataclass(frozen=True)
class EpochEnded:
    epoch: int
    train_loss: float
    train_accuracy: float  # on the (augmented) batches seen during the epoch
    val_loss: float
    val_accuracy: float
    lr: float
    elapsed_s: float
    epoch_s: float
    is_best: bool


@dataclass(frozen=True)
class LoopEnded:
    """The last batch has run (end of the epochs, Stop, or a step or time budget).

    ``step`` is the exact number of optimizer steps taken; the model still holds the weights it
    ended with, until the trainer restores its best epoch right after this event.
    """

    step: int
    epochs_done: int


@dataclass(frozen=True)
class WeightsSnapshot:
    """First-layer kernels at a point in training, for the kernel viewer's live grid and scrubber."""

    epoch: int
    step: int
    kernels: np.ndarray  # (out_channels, kh, kw) float32


@dataclass(frozen=True)
class Paused:
    paused: bool


@dataclass(frozen=True)
class Evaluated:
    """A full evaluation of the best model on one split."""

    split: str  # "val" or "test"
    accuracy: float
    loss: float
    confusion: np.ndarray  # (10, 10) int64, rows = true digit, columns = predicted
    wrong_indices: np.ndarray  # (k,) int64 indices into that split
    wrong_probabilities: np.ndarray  # (k, 10) float32


@dataclass(frozen=True)
class RunFinished:
    stopped: bool  # True when the user stopped it before the last epoch
    epochs_done: int
    best_epoch: int
    best_val_accuracy: float
    test_accuracy: float | None
    elapsed_s: float
    state: dict  # best weights: {name: np.ndarray}, CPU copies


@dataclass(frozen=True)
class RunFailed:
    message: str
