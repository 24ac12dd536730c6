"""Evaluate a checkpoint on a labelled set of images, through the same path the pad uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import preprocess
from .alphabets import DIGITS, alphabets_of, case_insensitive_equal, class_indices, reading_scores
from .checkpoints import Checkpoint, CheckpointError
from .inference import batched_logits, select_device, spec_for_input_size
from .metrics import confusion_matrix


@dataclass(frozen=True)
class EvalResult:
    accuracy: float
    confusion: np.ndarray  # (classes, classes) rows = true class
    probabilities: np.ndarray  # (n, classes) calibrated
    labels: np.ndarray  # (n,)
    threshold: float
    classes: tuple[str, ...] = DIGITS  # what the label indices name

    @property
    def alphabet(self) -> str:
        return alphabets_of(self.classes)[-1]

    @property
    def case_insensitive_accuracy(self) -> float:
        """Letters read right in either case (equal to ``accuracy`` for digits)."""
        if not len(self.labels):
            return float("nan")
        names = np.asarray(self.classes)
        return float(case_insensitive_equal(names[self.labels], names[self.predicted]).mean())

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(1)

    @property
    def errors(self) -> int:
        return int((self.predicted != self.labels).sum())

    @property
    def wrong_indices(self) -> np.ndarray:
        return np.flatnonzero(self.predicted != self.labels)

    @property
    def confident_fraction(self) -> float:
        """Share of the images the pad would read without saying unsure (letters case-merged)."""
        if not len(self.labels):
            return 0.0
        scores, _ = reading_scores(self.classes, self.probabilities)
        return float((scores >= self.threshold).mean())

    def to_json(self) -> dict:
        return {
            "accuracy": self.accuracy,
            "errors": self.errors,
            "count": int(len(self.labels)),
            "confident_fraction": self.confident_fraction,
            "confusion": self.confusion.tolist(),
            **({} if self.classes == DIGITS else {
                "alphabet": self.alphabet,
                "classes": list(self.classes),
                "case_insensitive_accuracy": self.case_insensitive_accuracy,
            }),
        }


def fit_to_model(images_u8: np.ndarray, spec: preprocess.InputSpec) -> np.ndarray:
    """Bring images of another dataset's size (USPS 16x16 for an MNIST model, say) to the model's
    input through ``prepare_image``, exactly as a drawing of that digit would be; float32 [0, 1]."""
    out = np.zeros((len(images_u8), spec.size, spec.size), np.float32)
    for i, image in enumerate(images_u8):
        prepared = preprocess.prepare_image(image, spec, normalize_width=False)
        if prepared.image is not None:
            out[i] = prepared.image
    return out


@torch.no_grad()
def evaluate_checkpoint(
    checkpoint: Checkpoint, images_u8: np.ndarray, labels: np.ndarray, device: str = "cpu", progress=None,
    classes: tuple[str, ...] = DIGITS,
) -> EvalResult:
    """Accuracy, confusion and calibrated probabilities of ``checkpoint`` on ``images_u8`` (n, s, s),
    whose ``labels`` index ``classes`` (digits, letters or both): the model reads that alphabet."""
    alphabet = alphabets_of(tuple(classes))[-1] if alphabets_of(tuple(classes)) else None
    if alphabet not in checkpoint.alphabets:
        raise CheckpointError(f"this model reads {' and '.join(checkpoint.alphabets)}; the test set is "
                              f"{alphabet or f'{len(classes)} classes'}")
    columns = torch.from_numpy(class_indices(checkpoint.classes, alphabet))
    device = select_device(device)
    model = checkpoint.build_model().to(device)
    mean, std = checkpoint.normalization
    size = checkpoint.input_size
    if images_u8.shape[-1] != size:
        images = torch.from_numpy(fit_to_model(images_u8, spec_for_input_size(size)))
    else:
        images = torch.from_numpy(np.ascontiguousarray(images_u8))
    chunks = []
    step = 2000
    for start in range(0, len(images), step):
        chunks.append(batched_logits(model, images[start : start + step].to(device), mean, std))
        if progress:
            progress(min(start + step, len(images)), len(images))
    logits = torch.cat(chunks)[:, columns.to(device)] if chunks else torch.empty(0, len(classes))
    temperature, threshold = checkpoint.calibration(alphabet)
    probs = torch.softmax(logits.float() / temperature, 1).cpu().numpy()
    labels = np.asarray(labels, np.int64)
    predicted = probs.argmax(1)
    return EvalResult(
        float((predicted == labels).mean()) if len(labels) else float("nan"),
        confusion_matrix(labels, predicted, len(classes)),
        probs,
        labels,
        threshold,
        tuple(classes),
    )
