"""Take a model elsewhere: ONNX and TorchScript files that need nothing of digitpad to run.

The exported graph takes what digitpad's preprocessing makes of a drawing: float32 in [0, 1],
white ink on black, shape (N, 1, H, W) with any N. Normalisation, temperature and softmax are
inside it, so it returns calibrated probabilities (N, classes) exactly as ``Predictor`` does. The
class names, input size, preprocessing version and normalisation go into the file's metadata
(ONNX ``metadata_props``; TorchScript ``_extra_files["digitpad.json"]``). Writes are atomic.
onnx, onnxruntime and onnxscript are an optional extra: ``pip install digitpad[export]``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import warnings
from pathlib import Path

import torch

from . import preprocess
from .atomic import atomic_write
from .checkpoints import Checkpoint
from .models import inference_copy

FORMATS = ("onnx", "torchscript")
ONNX_OPSET = 18


class ExportError(RuntimeError):
    """An export that cannot be made; the message says why and what to install."""


class CalibratedModel(torch.nn.Module):
    """Prepared image in [0, 1] -> calibrated probabilities: the whole of Predictor's arithmetic."""

    def __init__(self, checkpoint: Checkpoint):
        super().__init__()
        self.network = inference_copy(checkpoint.build_model())
        mean, std = checkpoint.normalization
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))
        self.register_buffer("temperature", torch.tensor(float(checkpoint.meta.get("temperature", 1.0))))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = self.network((images - self.mean) / self.std)
        return torch.softmax(logits / self.temperature, dim=1)


def export_metadata(checkpoint: Checkpoint) -> dict[str, str]:
    """What a consumer needs to feed the graph and read its output, as strings."""
    mean, std = checkpoint.normalization
    return {
        "digitpad.classes": json.dumps(list(checkpoint.classes)),
        "digitpad.input_size": str(checkpoint.input_size),
        "digitpad.input": "float32 (N, 1, H, W) in [0, 1], white ink on black, as digitpad's preprocessing makes it",
        "digitpad.output": "calibrated class probabilities (N, classes)",
        "digitpad.preprocess_version": str(checkpoint.meta.get("preprocess_version", preprocess.PREPROCESS_VERSION)),
        "digitpad.normalization": json.dumps([mean, std]),
        "digitpad.temperature": str(float(checkpoint.meta.get("temperature", 1.0))),
        "digitpad.threshold": str(float(checkpoint.meta.get("threshold", 0.5))),
        "digitpad.name": str(checkpoint.meta.get("name") or checkpoint.arch),
    }


def export_model(checkpoint: Checkpoint, path: str | os.PathLike, fmt: str = "onnx") -> Path:
    """Write ``checkpoint`` as ``fmt`` ("onnx" or "torchscript") to ``path``; returns the path."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")
    model = CalibratedModel(checkpoint).eval()
    example = torch.zeros(2, 1, checkpoint.input_size, checkpoint.input_size)
    blob = _onnx_bytes(model, example, export_metadata(checkpoint)) if fmt == "onnx" else _torchscript_bytes(model, example, checkpoint)
    path = Path(path)
    atomic_write(path, blob)
    return path


def _onnx_bytes(model: torch.nn.Module, example: torch.Tensor, metadata: dict[str, str]) -> bytes:
    try:
        import onnx  # noqa: F401 - the exporter needs it; say so before torch fails deep inside
        import onnxscript  # noqa: F401
    except ImportError as error:
        raise ExportError(f"ONNX export needs the optional packages onnx and onnxscript ({error.name} is missing): "
                          "pip install 'digitpad[export]' adds them") from None
    batch = torch.export.Dim("batch", min=1)
    with torch.no_grad(), _quiet_exporter():
        program = torch.onnx.export(model, (example,), input_names=["image"], output_names=["probabilities"],
                                    dynamic_shapes={"images": {0: batch}}, opset_version=ONNX_OPSET, dynamo=True,
                                    external_data=False, verbose=False)
    proto = program.model_proto
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    return proto.SerializeToString()


def _torchscript_bytes(model: torch.nn.Module, example: torch.Tensor, checkpoint: Checkpoint) -> bytes:
    with torch.no_grad():
        traced = torch.jit.trace(model, example)
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer, _extra_files={"digitpad.json": json.dumps(export_metadata(checkpoint))})
    return buffer.getvalue()


@contextlib.contextmanager
def _quiet_exporter():
    """The exporter logs its progress and notes about torchvision ops we never use: keep the CLI's
    output to what the user asked for."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
