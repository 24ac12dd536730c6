"""A model's mistakes on a test split: which digits it misreads, as what, and how sure it was.

The Mistakes viewer's numbers, Qt-free: ``find_mistakes`` evaluates a checkpoint on a test split
(or takes a training run's own ``Evaluated(split="test")``, so nothing is computed twice) and
returns a ``MistakeSet``; ``load_test_split`` reads the split from disk and never downloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

from .datasets import DATASETS, load_dataset
from .evaluation import evaluate_checkpoint
from .events import Evaluated


def load_test_split(name: str, root: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The verified test split of ``name``, from disk only: a viewer never starts a download."""
    data = load_dataset(name, root, download=False)
    return data.test_images, data.test_labels


def dataset_of(checkpoint) -> str:
    """The dataset whose test split judges ``checkpoint``: its own, or MNIST for anything else (personal)."""
    name = str(checkpoint.meta.get("dataset", "mnist")).lower()
    return name if name in DATASETS else "mnist"


@dataclass(frozen=True)
class MistakeSet:
    """A model's mistakes on one test split."""

    dataset: str
    images: np.ndarray  # (n, s, s) uint8, ink = 255: the whole split
    labels: np.ndarray  # (n,) int64
    confusion: np.ndarray  # (10, 10) rows = true digit
    wrong: np.ndarray  # (k,) int64 indices into the split
    wrong_probabilities: np.ndarray  # (k, 10) calibrated
    source: str  # "computed" or "training run"

    @cached_property  # the gallery asks per item and per repaint: compute once
    def predicted(self) -> np.ndarray:
        return self.wrong_probabilities.argmax(1) if len(self.wrong) else np.zeros(0, np.int64)

    @cached_property
    def confidence(self) -> np.ndarray:
        return self.wrong_probabilities.max(1) if len(self.wrong) else np.zeros(0, np.float32)

    @property
    def accuracy(self) -> float:
        total = int(self.confusion.sum())
        return float(np.trace(self.confusion)) / total if total else float("nan")


def find_mistakes(
    checkpoint,
    dataset: str,
    images: np.ndarray,
    labels: np.ndarray,
    precomputed: Evaluated | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MistakeSet:
    """``checkpoint``'s mistakes on ``images``/``labels`` (the test split of ``dataset``): evaluated
    here (``progress(done, total)`` as it goes), or taken from a training run's ``precomputed``
    evaluation of that split."""
    images, labels = np.asarray(images), np.asarray(labels, np.int64)
    if precomputed is not None:
        return MistakeSet(dataset, images, labels, precomputed.confusion, np.asarray(precomputed.wrong_indices, np.int64),
                          np.asarray(precomputed.wrong_probabilities, np.float32), "training run")
    if progress is not None:
        progress(0, len(labels))
    evaluation = evaluate_checkpoint(checkpoint, images, labels, progress=progress)
    wrong = evaluation.wrong_indices
    return MistakeSet(dataset, images, labels, evaluation.confusion, wrong,
                      evaluation.probabilities[wrong].astype(np.float32), "computed")
