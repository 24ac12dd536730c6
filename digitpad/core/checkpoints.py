"""Checkpoints: safetensors weights with the JSON metadata that rebuilds and describes the model.

A checkpoint is one ``.safetensors`` file whose header metadata holds ``digitpad`` (JSON: the
architecture and its arguments, dataset, input size, normalisation, calibration, metrics, training
config, digitpad version). A ``.json`` sidecar with the same metadata is written beside it for
people and scripts. Loading never unpickles, and every failure names what is wrong: a file that is
not a checkpoint, a truncated one, weights that do not fit, NaN or infinite weights (a diverged
run), or a model for another alphabet or input size than the pad reads.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.numpy import load as load_safetensors_bytes
from safetensors.numpy import save as save_safetensors_bytes

from .. import __version__
from .atomic import atomic_write
from .alphabets import DIGITS, alphabets_of
from .models import MODELS, build_model

FORMAT = "digitpad-checkpoint"
FORMAT_VERSION = 1
MAX_CHECKPOINT_BYTES = 512 * 1024 * 1024  # refuse absurd files before reading them into memory
# The pad prepares drawings at these sizes (MNIST's 28x28 and USPS's 16x16): a model for any
# other input size could not read them.
READABLE_INPUT_SIZES = (28, 16)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says which file and why."""


@dataclass
class Checkpoint:
    arch: str
    arch_args: dict
    state: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)

    @property
    def input_size(self) -> int:
        return int(self.arch_args.get("input_size", 28))

    @property
    def classes(self) -> tuple[str, ...]:
        """The labels of the model's outputs, in order (digits unless the metadata says otherwise)."""
        return tuple(str(c) for c in self.meta.get("classes") or DIGITS)

    @property
    def alphabets(self) -> tuple[str, ...]:
        """What the model can read: ("digits",), ("letters",) or ("digits", "letters", "both")."""
        return alphabets_of(self.classes)

    def calibration(self, alphabet: str) -> tuple[float, float]:
        """(temperature, unsure threshold) for reading ``alphabet``; a one-alphabet model's own."""
        fitted = (self.meta.get("calibration") or {}).get(alphabet)
        if fitted:
            return float(fitted["temperature"]), float(fitted["threshold"])
        return float(self.meta.get("temperature", 1.0)), float(self.meta.get("threshold", 0.5))

    @property
    def test_figure(self) -> str:
        """The recorded test accuracy and the set it was measured on ("99.36% on the mnist+pen test
        set"); "" when the metadata has none. Named, since "its test set" hid that a mixed set's
        figure is not MNIST's."""
        accuracy = (self.meta.get("metrics") or {}).get("test_accuracy")
        if not isinstance(accuracy, (int, float)):
            return ""
        dataset = self.meta.get("dataset")
        return f"{accuracy * 100:.2f}% on the {dataset} test set" if dataset else f"{accuracy * 100:.2f}% on its test set"

    @property
    def normalization(self) -> tuple[float, float]:
        mean, std = self.meta.get("normalization", (0.0, 1.0))
        return float(mean), float(std)

    def build_model(self) -> torch.nn.Module:
        """A fresh model in eval mode with these weights (strict: every tensor must match)."""
        args = {k: v for k, v in self.arch_args.items() if k != "input_size"}
        model = build_model(self.arch, input_size=self.input_size, **args)
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.state.items()}
        try:
            model.load_state_dict(tensors, strict=True)
        except RuntimeError as error:
            first = str(error).strip().splitlines()[0]
            raise CheckpointError(f"weights do not fit architecture {self.arch!r}: {first}") from None
        return model.eval()

    @classmethod
    def from_model(cls, model: torch.nn.Module, meta: dict) -> "Checkpoint":
        return cls(model.arch_name, dict(model.arch_args), state_to_numpy(model.state_dict()), dict(meta))


def state_to_numpy(state: dict) -> dict[str, np.ndarray]:
    return {k: v.detach().to("cpu").numpy().copy() for k, v in state.items()}


def _metadata(checkpoint: Checkpoint) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "digitpad_version": __version__,
        "arch": checkpoint.arch,
        "arch_args": checkpoint.arch_args,
        **checkpoint.meta,
    }


def sidecar_path(path: Path) -> Path:
    return Path(path).with_suffix(".json")


def save_checkpoint(checkpoint: Checkpoint, path: str | os.PathLike) -> Path:
    """Write ``checkpoint`` atomically (the old file survives any failure, which raises
    ``atomic.SaveError``); weights with NaN or infinity are refused with ``CheckpointError``."""
    bad = _non_finite(checkpoint.state)
    if bad:
        raise CheckpointError(f"not saved: the weights of {bad} are NaN or infinite (the training diverged)")
    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_name(path.name + ".safetensors")
    metadata = _metadata(checkpoint)
    tensors = {k: np.ascontiguousarray(v) for k, v in checkpoint.state.items()}
    blob = save_safetensors_bytes(tensors, metadata={"digitpad": json.dumps(metadata)})
    atomic_write(path, blob)
    atomic_write(sidecar_path(path), (json.dumps(metadata, indent=2, sort_keys=True) + "\n").encode())
    return path


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file")
    size = path.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path}: {size / 2**20:.0f} MB is far larger than any digitpad model")
    try:
        return path.read_bytes()
    except OSError as error:
        raise CheckpointError(f"{path}: cannot read: {error.strerror or error}") from None


def _parse_metadata(path: Path, blob: bytes) -> dict:
    # The header is an 8-byte little-endian length then JSON; read it ourselves so a foreign or
    # truncated file gets a precise message before any tensor is touched.
    if len(blob) < 8:
        raise CheckpointError(f"{path}: not a safetensors file (only {len(blob)} bytes)")
    header_len = int.from_bytes(blob[:8], "little")
    if header_len <= 0 or 8 + header_len > len(blob):
        raise CheckpointError(f"{path}: not a safetensors file, or truncated (bad header length)")
    try:
        header = json.loads(blob[8 : 8 + header_len])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{path}: not a safetensors file (header is not JSON)") from None
    raw = (header.get("__metadata__") or {}).get("digitpad")
    if raw is None:
        raise CheckpointError(f"{path}: a safetensors file, but not a digitpad checkpoint (no digitpad metadata)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError:
        raise CheckpointError(f"{path}: digitpad metadata is corrupt (not JSON)") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {meta.get('format')!r}")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: written by a newer digitpad ({meta.get('digitpad_version')}); please upgrade digitpad"
        )
    if meta.get("arch") not in MODELS:
        raise CheckpointError(f"{path}: unknown architecture {meta.get('arch')!r}")
    return meta


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read and validate a checkpoint; raises ``CheckpointError`` naming the file and the problem."""
    path = Path(path)
    blob = _read_bytes(path)
    meta = _parse_metadata(path, blob)
    try:
        state = load_safetensors_bytes(blob)
    except (SafetensorError, ValueError, OverflowError) as error:
        raise CheckpointError(f"{path}: corrupt tensor data ({error})") from None
    arch, arch_args = meta.pop("arch"), meta.pop("arch_args", {})
    checkpoint = Checkpoint(arch, arch_args, state, meta)
    model = checkpoint.build_model()  # validates that every tensor fits the architecture, or raises
    _check_readable(path, checkpoint, model)
    return checkpoint


def _non_finite(state: dict[str, np.ndarray]) -> str | None:
    """The name of the first floating-point tensor holding NaN or infinity, else None."""
    for name, value in state.items():
        value = np.asarray(value)
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            return name
    return None


def _check_readable(path: Path, checkpoint: Checkpoint, model: torch.nn.Module) -> None:
    """Refuse, with the reason, a checkpoint the pad could load but never read with."""
    bad = _non_finite(checkpoint.state)
    if bad:
        raise CheckpointError(f"{path}: the weights of {bad} are NaN or infinite (the training diverged); "
                              "this model cannot read anything")
    size = checkpoint.input_size
    if size not in READABLE_INPUT_SIZES:
        raise CheckpointError(f"{path}: a model for {size}x{size} inputs; digitpad prepares drawings at "
                              f"{' or '.join(f'{s}x{s}' for s in READABLE_INPUT_SIZES)}")
    classes = checkpoint.classes
    if not checkpoint.alphabets:
        shown = "".join(classes[:12]) + ("…" if len(classes) > 12 else "")
        raise CheckpointError(f"{path}: a model for {len(classes)} classes ({shown}); this digitpad reads "
                              "the digits 0-9, the letters a-z A-Z, or both")
    with torch.no_grad():
        outputs = model(torch.zeros(1, 1, size, size)).shape[-1]
    if outputs != len(classes):
        raise CheckpointError(f"{path}: the model has {outputs} outputs but its metadata names "
                              f"{len(classes)} classes")
