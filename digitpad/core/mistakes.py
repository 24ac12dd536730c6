"""A model's mistakes on a test split: which digits it misreads, as what, and how sure it was.

The Mistakes viewer's numbers, Qt-free: ``find_mistakes`` evaluates a checkpoint on a test split
(or takes a training run's own ``Evaluated(split="test")``, so nothing is computed twice) and
returns a ``MistakeSet``; ``load_test_split`` reads the split from disk and never downloads.

Test sets (``TEST_SETS``): MNIST's and USPS's test splits, and the held-out pen writers (``"pen"``):
real people's digits, by writers no model was trained or validated on, drawn on the pad as the pen
datasets draw their test split (``pen.draw_test_digits``, seed ``pen.TEST_DRAWING_SEED``) and
prepared through the pad's stroke path for the model's input (``load_test_set``). They keep their
strokes, so a misread one can be drawn on the pad again, stroke by stroke. The held-out pen letters
(``"pen-letters"``) are the same sites' letters (``letters.held_out_letters``), drawn the same way and
labelled in ``alphabets.LETTERS``: a model is judged on them reading letters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

from . import pen, preprocess
from .alphabets import DIGITS, LETTERS, alphabets_of, case_insensitive_equal
from .datasets import DATASETS, load_dataset
from .evaluation import evaluate_checkpoint
from .events import Evaluated

PEN_TEST = "pen"  # the held-out pen writers: the pen datasets' test split, strokes kept
PEN_LETTERS_TEST = "pen-letters"  # the held-out sites' pen letters, strokes kept
# The test sets a user can choose, in the order offered.
TEST_SETS = ("mnist", "usps", PEN_TEST, PEN_LETTERS_TEST)


def load_test_split(name: str, root: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The verified test split of ``name``, from disk only: a viewer never starts a download."""
    data = load_dataset(name, root, download=False)
    return data.test_images, data.test_labels


@dataclass(frozen=True)
class LabelledDigits:
    """A labelled test set; ``strokes``: each image's pad strokes when it was drawn from strokes."""

    images: np.ndarray  # (n, s, s) uint8, ink = 255
    labels: np.ndarray  # (n,) int64
    strokes: tuple | None = None  # (n,) tuples of (k, 2) arrays in pad pixels, in drawing order
    classes: tuple[str, ...] = DIGITS  # what the labels index

    @classmethod
    def of(cls, data) -> "LabelledDigits":
        """``data`` as is, or made from an (images, labels) pair."""
        if isinstance(data, LabelledDigits):
            return data
        images, labels = data
        return cls(np.asarray(images), np.asarray(labels, np.int64))


def load_test_set(name: str, root: Path | None = None, spec: preprocess.InputSpec = preprocess.MNIST_SPEC) -> LabelledDigits:
    """Test set ``name`` of ``TEST_SETS`` (or any dataset's test split), from disk only.

    ``"pen"``: the held-out pen writers' digits drawn on the pad and prepared with ``spec``, the
    input of the model to be judged, as the pad prepares a drawing for it. Images identical to
    ``load_dataset("pen").test_images`` for an MNIST-sized spec, without drawing the training part.
    Missing data is a ``DataError`` naming what is missing."""
    if name == PEN_TEST:
        drawn = pen.draw_test_digits(pen.held_out_digits(root), pen.TEST_DRAWING_SEED, spec)
        return LabelledDigits(drawn.images, drawn.labels, drawn.strokes)
    if name == PEN_LETTERS_TEST:
        from .letters import held_out_letters

        drawn = pen.draw_test_digits(held_out_letters(root), pen.TEST_DRAWING_SEED, spec)
        return LabelledDigits(drawn.images, drawn.labels - len(DIGITS), drawn.strokes, LETTERS)
    return LabelledDigits(*load_test_split(name, root))


def dataset_of(checkpoint) -> str:
    """The dataset whose test split judges ``checkpoint``: its own, or MNIST for anything else (personal)."""
    name = str(checkpoint.meta.get("dataset", "mnist")).lower()
    return name if name in DATASETS else "mnist"


@dataclass(frozen=True)
class MistakeSet:
    """A model's mistakes on one test split."""

    dataset: str
    images: np.ndarray  # (n, s, s) uint8, ink = 255: the whole split
    labels: np.ndarray  # (n,) int64, indices into ``classes``
    confusion: np.ndarray  # (classes, classes) rows = true class
    wrong: np.ndarray  # (k,) int64 indices into the split
    wrong_probabilities: np.ndarray  # (k, classes) calibrated
    source: str  # "computed" or "training run"
    strokes: tuple | None = None  # each test digit's pad strokes (LabelledDigits.strokes), or None: images only
    classes: tuple[str, ...] = DIGITS  # what the labels name (the digits, or LETTERS for the pen letters)

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

    @property
    def reads_letters(self) -> bool:
        return "letters" in alphabets_of(self.classes)

    @cached_property
    def case_only(self) -> np.ndarray:
        """(k,) bool: the mistake read the right letter in the other case (t for T), which the letters'
        case-insensitive figure counts right (and the pad shows o/O-like size-only pairs case-merged)."""
        names = np.asarray(self.classes)
        if not len(self.wrong):
            return np.zeros(0, bool)
        return case_insensitive_equal(names[self.labels[self.wrong]], names[self.predicted])

    @property
    def errors_ignoring_case(self) -> int:
        return len(self.wrong) - int(self.case_only.sum())

    @property
    def case_insensitive_accuracy(self) -> float:
        total = len(self.labels)
        return 1.0 - self.errors_ignoring_case / total if total else float("nan")


def find_mistakes(
    checkpoint,
    dataset: str,
    images: np.ndarray,
    labels: np.ndarray,
    precomputed: Evaluated | None = None,
    progress: Callable[[int, int], None] | None = None,
    strokes: tuple | None = None,
    classes: tuple[str, ...] = DIGITS,
) -> MistakeSet:
    """``checkpoint``'s mistakes on ``images``/``labels`` (the test split of ``dataset``): evaluated
    here (``progress(done, total)`` as it goes), or taken from a training run's ``precomputed``
    evaluation of that split. ``strokes`` (the images' pad strokes, when drawn) travel along;
    ``labels`` index ``classes``, the alphabet the model reads them in."""
    images, labels = np.asarray(images), np.asarray(labels, np.int64)
    if precomputed is not None:
        return MistakeSet(dataset, images, labels, precomputed.confusion, np.asarray(precomputed.wrong_indices, np.int64),
                          np.asarray(precomputed.wrong_probabilities, np.float32), "training run", strokes)
    if progress is not None:
        progress(0, len(labels))
    evaluation = evaluate_checkpoint(checkpoint, images, labels, progress=progress, classes=tuple(classes))
    wrong = evaluation.wrong_indices
    return MistakeSet(dataset, images, labels, evaluation.confusion, wrong,
                      evaluation.probabilities[wrong].astype(np.float32), "computed", strokes, tuple(classes))
