"""Evaluate a checkpoint on a labelled set of images, through the same path the pad uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import preprocess
from .checkpoints import Checkpoint
from .inference import batched_logits, select_device, spec_for_input_size
from .metrics import confusion_matrix


@dataclass(frozen=True)
class EvalResult:
    accuracy: float
    confusion: np.ndarray  # (10, 10) rows = true digit
    probabilities: np.ndarray  # (n, 10) calibrated
    labels: np.ndarray  # (n,)
    threshold: float

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
        return float((self.probabilities.max(1) >= self.threshold).mean()) if len(self.labels) else 0.0

    def to_json(self) -> dict:
        return {
            "accuracy": self.accuracy,
            "errors": self.errors,
            "count": int(len(self.labels)),
            "confident_fraction": self.confident_fraction,
            "confusion": self.confusion.tolist(),
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
    checkpoint: Checkpoint, images_u8: np.ndarray, labels: np.ndarray, device: str = "cpu", progress=None
) -> EvalResult:
    """Accuracy, confusion and calibrated probabilities of ``checkpoint`` on ``images_u8`` (n, s, s)."""
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
    logits = torch.cat(chunks) if chunks else torch.empty(0, 10)
    temperature = float(checkpoint.meta.get("temperature", 1.0))
    probs = torch.softmax(logits.float() / temperature, 1).cpu().numpy()
    labels = np.asarray(labels, np.int64)
    predicted = probs.argmax(1)
    return EvalResult(
        float((predicted == labels).mean()) if len(labels) else float("nan"),
        confusion_matrix(labels, predicted),
        probs,
        labels,
        float(checkpoint.meta.get("threshold", 0.5)),
    )
