"""Accuracy, confusion matrix, misclassified examples and calibration, from logits or probabilities."""

from __future__ import annotations

import numpy as np
import torch

NUM_CLASSES = 10


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int = NUM_CLASSES) -> np.ndarray:
    """(classes, classes) int64 counts; rows are the true digit, columns the prediction."""
    flat = np.asarray(true, np.int64) * classes + np.asarray(predicted, np.int64)
    return np.bincount(flat, minlength=classes * classes).reshape(classes, classes)


def accuracy(true: np.ndarray, predicted: np.ndarray) -> float:
    true = np.asarray(true)
    return float((true == np.asarray(predicted)).mean()) if len(true) else 0.0


def misclassified(true: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Indices of the examples whose most probable class is not the true one."""
    return np.flatnonzero(np.asarray(probabilities).argmax(1) != np.asarray(true))


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, steps: int = 200) -> float:
    """Temperature T minimising the NLL of softmax(logits / T) (Guo et al. 2017), on held-out data.

    Optimised over log T so T stays positive; LBFGS converges in a few dozen evaluations.
    """
    logits = logits.detach().float()
    labels = labels.detach().long()
    log_t = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=steps)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp().clamp(0.05, 20.0))


def confidence_threshold(max_probabilities: np.ndarray, correct: np.ndarray, keep: float = 0.99) -> float:
    """The max-softmax score above which ``keep`` of the correctly read held-out digits fall.

    Real digits the model reads correctly score above it ``keep`` of the time; scribbles, letters
    and ambiguous drawings mostly fall below it, and the pad then says it is unsure.
    """
    scores = np.asarray(max_probabilities)[np.asarray(correct, bool)]
    if scores.size == 0:
        return 0.5
    return float(np.quantile(scores, 1.0 - keep))


def ink_aspect_ratios(images_u8: np.ndarray, ink_level: int = 64) -> np.ndarray:
    """Width / height of each image's ink bounding box (n,); 0 for an image without ink."""
    ink = np.asarray(images_u8) > ink_level
    rows, cols = ink.any(axis=2), ink.any(axis=1)

    def extent(mask):
        index = np.arange(mask.shape[1])
        first = np.where(mask, index, mask.shape[1]).min(axis=1)
        last = np.where(mask, index, -1).max(axis=1)
        return np.maximum(last - first + 1, 0)

    heights = extent(rows)
    return np.divide(extent(cols), heights, out=np.zeros(len(ink)), where=heights > 0)


def max_aspect_ratio(images_u8: np.ndarray, quantile: float = 0.999) -> float:
    """The width/height above which only ``1 - quantile`` of the training digits lie.

    A drawing wider than that is more likely two digits side by side (or a dash) than one digit.
    """
    ratios = ink_aspect_ratios(images_u8)
    ratios = ratios[ratios > 0]
    return float(np.quantile(ratios, quantile)) if ratios.size else float("inf")
