"""What a run reports: immutable facts in the past tense, holding CPU numpy arrays only.

Every event of every run (training, fine-tuning, data loading and downloads, imports, exports and
evaluations) is here, under one base class, ``RunEvent``. These cross threads (the UI's workers
re-emit them as Qt signals), so none holds a live tensor.

- ``TrainingEvent``: what ``core.trainer.Trainer.run()`` yields (a fine-tune's training part too);
  the UI's ``bus.trainingEvent`` carries exactly these.
- Data events: a worker reading or downloading a data set before a run.
- Fine-tuning's frame around its training: ``FinetuneMeasured`` and ``FinetuneFinished``.
- Task events: progress and outcome of an import, an export or an evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


class RunEvent:
    """Base class of every event a run reports."""


class TrainingEvent(RunEvent):
    """An event of the training loop itself (``Trainer.run()``)."""


# --- the training loop ----------------------------------------------------------------------


@dataclass(frozen=True)
class RunStarted(TrainingEvent):
    device: str
    threads: int
    train_size: int
    val_size: int
    test_size: int
    epochs: int
    steps_per_epoch: int
    parameters: int


@dataclass(frozen=True)
class StepsEnded(TrainingEvent):
    """Losses of the batches since the last report (reports are throttled, not one per batch)."""

    epoch: int  # 1-based
    step: int  # global batch count after the last of these batches
    losses: np.ndarray  # (k,) float32, one per batch
    lr: float
    samples_per_s: float
    eta_s: float
    progress: float  # 0..1 over the whole run


@dataclass(frozen=True)
class EpochEnded(TrainingEvent):
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
class LoopEnded(TrainingEvent):
    """The last batch has run (end of the epochs, Stop, or a step or time budget).

    ``step`` is the exact number of optimizer steps taken; the model still holds the weights it
    ended with, until the trainer restores its best epoch right after this event.
    """

    step: int
    epochs_done: int


@dataclass(frozen=True)
class WeightsSnapshot(TrainingEvent):
    """First-layer kernels at a point in training, for the kernel viewer's live grid and scrubber,
    and the whole model then (``checkpoint``, uncalibrated), so the pad's drawing can be re-read as
    the network read it at that point."""

    epoch: int
    step: int
    kernels: np.ndarray  # (out_channels, kh, kw) float32
    checkpoint: object = None  # core.checkpoints.Checkpoint: CPU numpy weights and normalisation


@dataclass(frozen=True)
class Paused(TrainingEvent):
    paused: bool


@dataclass(frozen=True)
class Evaluated(TrainingEvent):
    """A full evaluation of the best model on one split."""

    split: str  # "val" or "test"
    accuracy: float
    loss: float
    confusion: np.ndarray  # (10, 10) int64, rows = true digit, columns = predicted
    wrong_indices: np.ndarray  # (k,) int64 indices into that split
    wrong_probabilities: np.ndarray  # (k, 10) float32


@dataclass(frozen=True)
class RunFinished(TrainingEvent):
    stopped: bool  # True when the user stopped it before the last epoch
    epochs_done: int
    best_epoch: int
    best_val_accuracy: float
    test_accuracy: float | None
    elapsed_s: float
    state: dict  # best weights: {name: np.ndarray}, CPU copies
    # The finished model (core.checkpoints.Checkpoint, holding ``state``): receivers take it from
    # here, never from the trainer. None only where a producer has no checkpoint to give.
    checkpoint: Any = None


@dataclass(frozen=True)
class RunFailed(TrainingEvent):
    message: str


# --- data, before a run ---------------------------------------------------------------------


@dataclass(frozen=True)
class DataLoading(RunEvent):
    """The worker began reading ``dataset`` (before ``RunStarted``)."""

    dataset: str


@dataclass(frozen=True)
class DataProgress(RunEvent):
    """Bytes of a download so far; ``total`` None when the server did not say."""

    done: int
    total: int | None


@dataclass(frozen=True)
class DataLoaded(RunEvent):
    dataset: str
    train_size: int
    test_size: int
    seconds: float


@dataclass(frozen=True)
class DataUnavailable(RunEvent):
    """The dataset is missing or damaged (training did not start), or a download failed."""

    dataset: str
    message: str
    can_download: bool  # a published dataset (MNIST, USPS) that ``ensure_dataset`` can fetch


@dataclass(frozen=True)
class DataReady(RunEvent):
    """A download finished: ``folder`` holds the verified files."""

    dataset: str
    folder: str


# --- fine-tuning's frame around its training (core.finetune) --------------------------------


@dataclass(frozen=True)
class FinetuneMeasured(RunEvent):
    """Accuracies of the model before or after fine-tuning."""

    stage: str  # "before" or "after"
    personal_accuracy: float
    base_accuracy: float
    heldout_accuracy: float | None
    personal_count: int
    base_count: int


@dataclass(frozen=True)
class FinetuneFinished(RunEvent):
    """The last event of a fine-tune: ``result`` is its ``core.finetune.FinetuneResult``."""

    result: Any

    @property
    def checkpoint(self):
        """The fine-tuned model (``result.checkpoint``)."""
        return self.result.checkpoint


# --- tasks: imports, exports, evaluations ---------------------------------------------------


@dataclass(frozen=True)
class TaskProgress(RunEvent):
    done: int
    total: int


@dataclass(frozen=True)
class TaskDone(RunEvent):
    result: object


@dataclass(frozen=True)
class TaskFailed(RunEvent):
    message: str
