"""HOG features and a linear SVM: the baseline Bastani & Wang compare their CNN against (seed 003).

HOG (Dalal & Triggs 2005) in numpy: central-difference gradients, unsigned orientation in 9 bins,
square cells (7x7 pixels on 28x28 MNIST: 4x4 cells), blocks of 2x2 cells with L2-Hys
normalisation, 3x3 blocks x 4 cells x 9 bins = 324 features. The SVM is linear with the
multi-class hinge loss (Weston-Watkins, torch's MultiMarginLoss) and an L2 penalty chosen on a
validation split. Both are written here, with numpy and torch, rather than taken from scikit-image
and scikit-learn: about sixty lines against two large dependencies (and SciPy) for one comparison.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..core.checkpoints import load_checkpoint
from ..core.datasets import DigitData, split_validation
from ..core.evaluation import evaluate_checkpoint
from ..core.inference import default_model_path

ORIENTATIONS = 9
CELLS_PER_SIDE = 4  # 7-pixel cells on MNIST, 4-pixel cells on USPS
L2_HYS_CLIP = 0.2
WEIGHT_DECAYS = (1e-5, 1e-4, 1e-3)
CHUNK = 5000  # images per HOG pass: bounds the memory of the gradient arrays

Log = Callable[[str], None]


def hog_features(images: np.ndarray, cells_per_side: int = CELLS_PER_SIDE, orientations: int = ORIENTATIONS) -> np.ndarray:
    """(n, s, s) uint8 or float images -> (n, blocks x 4 cells x orientations) float32 HOG vectors."""
    images = np.asarray(images)
    chunks = [_hog_chunk(images[i : i + CHUNK], cells_per_side, orientations) for i in range(0, len(images), CHUNK)]
    return np.concatenate(chunks) if chunks else np.zeros((0, (cells_per_side - 1) ** 2 * 4 * orientations), np.float32)


def _hog_chunk(images: np.ndarray, cells_per_side: int, orientations: int) -> np.ndarray:
    x = images.astype(np.float32) / (255.0 if images.dtype == np.uint8 else 1.0)
    gx, gy = np.zeros_like(x), np.zeros_like(x)
    gx[:, :, 1:-1] = x[:, :, 2:] - x[:, :, :-2]
    gy[:, 1:-1, :] = x[:, 2:, :] - x[:, :-2, :]
    magnitude = np.hypot(gx, gy)
    angle = np.rad2deg(np.arctan2(gy, gx)) % 180.0  # unsigned: a stroke's two edges count alike
    bins = np.minimum((angle * orientations / 180.0).astype(np.int64), orientations - 1)
    n, side = len(x), x.shape[1] // cells_per_side * cells_per_side
    cell = side // cells_per_side
    shape = (n, cells_per_side, cell, cells_per_side, cell)
    histograms = np.stack(
        [np.where(bins[:, :side, :side] == o, magnitude[:, :side, :side], 0).reshape(shape).sum(axis=(2, 4)) for o in range(orientations)],
        axis=-1,
    )  # (n, cells, cells, orientations)
    blocks = [
        _l2_hys(histograms[:, r : r + 2, c : c + 2].reshape(n, -1))
        for r in range(cells_per_side - 1)
        for c in range(cells_per_side - 1)
    ]
    return np.concatenate(blocks, axis=1).astype(np.float32)


def _l2_hys(block: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """L2 normalise, clip at 0.2, normalise again (Dalal & Triggs' best block normalisation)."""
    block = block / np.sqrt((block**2).sum(axis=1, keepdims=True) + eps**2)
    block = np.minimum(block, L2_HYS_CLIP)
    return block / np.sqrt((block**2).sum(axis=1, keepdims=True) + eps**2)


def train_linear_svm(
    features: np.ndarray, labels: np.ndarray, *, weight_decay: float, epochs: int = 15, batch_size: int = 256, seed: int = 0
) -> nn.Linear:
    """A linear multi-class SVM: hinge loss, L2 penalty on the weights, SGD with a decaying rate.

    Trained on standardised features (HOG values are small and alike, so SGD crawls on them raw);
    the standardisation is folded into the returned layer, which takes raw features.
    """
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    raw = torch.from_numpy(np.ascontiguousarray(features, np.float32))
    mean, std = raw.mean(0), raw.std(0) + 1e-6
    x, y = (raw - mean) / std, torch.from_numpy(np.asarray(labels, np.int64))
    svm = nn.Linear(x.shape[1], int(y.max()) + 1)
    optimizer = torch.optim.SGD(
        [{"params": [svm.weight], "weight_decay": weight_decay}, {"params": [svm.bias], "weight_decay": 0.0}],
        lr=0.05, momentum=0.9,
    )  # fmt: skip
    steps = epochs * -(-len(x) // batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)
    hinge = nn.MultiMarginLoss()
    for _ in range(epochs):
        for index in torch.randperm(len(x), generator=generator).split(batch_size):
            optimizer.zero_grad()
            hinge(svm(x[index]), y[index]).backward()
            optimizer.step()
            schedule.step()
    with torch.no_grad():
        svm.weight /= std
        svm.bias -= svm.weight @ mean
    return svm


@torch.no_grad()
def svm_error(svm: nn.Linear, features: np.ndarray, labels: np.ndarray) -> float:
    predicted = svm(torch.from_numpy(np.ascontiguousarray(features))).argmax(1).numpy()
    return float((predicted != np.asarray(labels)).mean())


def compare(
    data: DigitData,
    *,
    weight_decays=WEIGHT_DECAYS,
    epochs: int = 15,
    checkpoint_path=None,
    log: Log = lambda _message: None,
) -> list[dict]:
    """HOG + linear SVM (penalty chosen on validation) against a CNN checkpoint, on ``data``'s test set.

    One row per SVM penalty (``chosen`` marks the one validation picked) and one for the CNN.
    """
    checkpoint = load_checkpoint(checkpoint_path or default_model_path())  # a bad file fails before the work
    start = time.perf_counter()
    train_x, test_x = hog_features(data.train_images), hog_features(data.test_images)
    hog_s = time.perf_counter() - start
    log(f"HOG: {train_x.shape[1]} features per digit, {len(train_x) + len(test_x)} digits in {hog_s:.1f}s")
    fit_idx, val_idx = split_validation(len(train_x))
    rows = []
    for decay in weight_decays:
        start = time.perf_counter()
        svm = train_linear_svm(train_x[fit_idx], data.train_labels[fit_idx], weight_decay=decay, epochs=epochs)
        row = {
            "method": "HOG + linear SVM",
            "weight_decay": decay,
            "train_s": time.perf_counter() - start + hog_s,
            "validation_error": svm_error(svm, train_x[val_idx], data.train_labels[val_idx]),
            "test_error": svm_error(svm, test_x, data.test_labels),
            "chosen": False,
        }
        log(f"  penalty {decay:g}: validation error {row['validation_error'] * 100:.2f}%, test error {row['test_error'] * 100:.2f}%")
        rows.append(row)
    min(rows, key=lambda r: r["validation_error"])["chosen"] = True
    rows.append(_cnn_row(data, checkpoint))
    log(f"  CNN ({rows[-1]['method']}): test error {rows[-1]['test_error'] * 100:.2f}%")
    return rows


def _cnn_row(data: DigitData, checkpoint) -> dict:
    result = evaluate_checkpoint(checkpoint, data.test_images, data.test_labels)
    name = checkpoint.meta.get("name") or checkpoint.arch
    return {
        "method": f"CNN: {name}",
        "weight_decay": "",
        "train_s": (checkpoint.meta.get("metrics") or {}).get("train_seconds", ""),
        "validation_error": "",
        "test_error": 1.0 - result.accuracy,
        "chosen": True,
    }
