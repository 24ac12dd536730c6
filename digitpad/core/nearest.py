"""The training digits nearest to a drawing, as the network sees them.

"Your 1 looks like MNIST's 7s" is something a saliency map cannot say. Every training image is
mapped to the network's penultimate features (the input of its last linear layer), normalised to
unit length; a drawing's nearest examples are the largest cosine similarities. At MNIST's size
(60,000 x 256 float32, 61 MB) one matrix-vector product in numpy answers in a few milliseconds,
so no approximate-search library earns its place. The index is built once per model and dataset
(in a worker: about a second per 10,000 digits on one CPU core) and cached on disk under a hash of
the model's weights, as a plain ``.npz`` read without pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .atomic import atomic_write
from .checkpoints import Checkpoint

INDEX_FORMAT = 1


@dataclass(frozen=True)
class Neighbour:
    index: int  # into the training images the index was built from
    label: int
    similarity: float  # cosine, -1..1 (1: the network cannot tell them apart)


def model_fingerprint(checkpoint: Checkpoint) -> str:
    """A hash of what decides the features: architecture, its arguments, normalisation, weights."""
    digest = hashlib.sha256()
    digest.update(json.dumps([checkpoint.arch, checkpoint.arch_args, checkpoint.normalization], sort_keys=True).encode())
    for name in sorted(checkpoint.state):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(checkpoint.state[name]).tobytes())
    return digest.hexdigest()[:20]


def _last_linear(model: torch.nn.Module) -> torch.nn.Linear:
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise ValueError("this model has no linear layer to take features before")
    return linears[-1]


@torch.inference_mode()
def penultimate_features(model: torch.nn.Module, images: np.ndarray, mean: float, std: float,
                         batch_size: int = 1000, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """(n, d) float32 unit vectors: what the last layer sees for each image (uint8 or [0, 1] floats)."""
    model = model.eval()
    captured: list[torch.Tensor] = []
    handle = _last_linear(model).register_forward_hook(lambda _m, inputs, _out: captured.append(inputs[0].flatten(1)))
    scale = 255.0 if np.asarray(images).dtype == np.uint8 else 1.0
    try:
        for start in range(0, len(images), batch_size):
            chunk = torch.as_tensor(np.asarray(images[start : start + batch_size], np.float32) / scale)
            model(((chunk - mean) / std).unsqueeze(1))
            if progress:
                progress(min(start + batch_size, len(images)), len(images))
    finally:
        handle.remove()
    features = torch.cat(captured).float().numpy() if captured else np.empty((0, 0), np.float32)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-12)


@dataclass
class NearestIndex:
    features: np.ndarray  # (n, d) float32, unit rows
    labels: np.ndarray  # (n,) int64
    fingerprint: str
    dataset: str

    @classmethod
    def build(cls, checkpoint: Checkpoint, images: np.ndarray, labels: np.ndarray, dataset: str,
              progress: Callable[[int, int], None] | None = None) -> "NearestIndex":
        mean, std = checkpoint.normalization
        features = penultimate_features(checkpoint.build_model(), images, mean, std, progress=progress)
        return cls(features, np.asarray(labels, np.int64), model_fingerprint(checkpoint), dataset)

    def query(self, model: torch.nn.Module, image: np.ndarray, mean: float, std: float, k: int = 8) -> list[Neighbour]:
        """The ``k`` training images most similar to ``image`` (s, s) in [0, 1], most similar first."""
        feature = penultimate_features(model, np.asarray(image, np.float32)[None], mean, std)[0]
        similarity = self.features @ feature
        k = min(k, len(similarity))
        top = np.argpartition(-similarity, k - 1)[:k]
        top = top[np.argsort(-similarity[top], kind="stable")]
        return [Neighbour(int(i), int(self.labels[i]), float(similarity[i])) for i in top]

    def save(self, path: str | os.PathLike) -> Path:
        import io

        buffer = io.BytesIO()
        meta = json.dumps({"format": INDEX_FORMAT, "fingerprint": self.fingerprint, "dataset": self.dataset})
        np.savez(buffer, features=self.features.astype(np.float16), labels=self.labels, meta=np.array(meta))
        path = Path(path)
        atomic_write(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, fingerprint: str | None = None) -> "NearestIndex | None":
        """The cached index, or None when it is missing, unreadable, or for other weights."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                meta = json.loads(str(stored["meta"]))
                if meta.get("format") != INDEX_FORMAT or (fingerprint and meta.get("fingerprint") != fingerprint):
                    return None
                features = stored["features"].astype(np.float32)
                features /= np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
                return cls(features, stored["labels"].astype(np.int64), meta["fingerprint"], meta["dataset"])
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            return None


def cached_index(checkpoint: Checkpoint, images: np.ndarray, labels: np.ndarray, dataset: str, cache_dir: Path,
                 progress: Callable[[int, int], None] | None = None) -> NearestIndex:
    """Load this model's index for ``dataset`` from ``cache_dir``, or build and store it."""
    fingerprint = model_fingerprint(checkpoint)
    path = Path(cache_dir) / f"{dataset}-{fingerprint}.npz"
    index = NearestIndex.load(path, fingerprint)
    if index is not None and len(index.labels) == len(labels):
        return index
    index = NearestIndex.build(checkpoint, images, labels, dataset, progress)
    try:
        index.save(path)
    except OSError:
        pass  # a read-only cache only costs the next start a rebuild
    return index
