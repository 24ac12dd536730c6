"""Prediction: a checkpoint's model plus its normalisation and calibration, applied to prepared images."""

from __future__ import annotations

import importlib.resources
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import preprocess
from .alphabets import case_merged_reading, class_indices, classes_of
from .checkpoints import Checkpoint, load_checkpoint, sidecar_path
from .metrics import ink_aspect_ratios
from .models import capture_activations, inference_copy

DEFAULT_MODEL_NAME = "default.safetensors"
LETTERS_MODEL_NAME = "letters.safetensors"
# For checkpoints that predate the "max_aspect" metadata: the 99.9th percentile of the ink
# width/height of MNIST's 60,000 training digits (metrics.max_aspect_ratio).
DEFAULT_MAX_ASPECT = 1.67


def resources_dir() -> Path:
    """The shipped resources: ``resources/`` in a checkout, installed as the package
    ``digitpad.resources`` (setup.py), so a wheel finds its models wherever it is installed."""
    override = os.environ.get("DIGITPAD_RESOURCES")
    if override:
        return Path(override)
    return Path(str(importlib.resources.files("digitpad.resources")))


def default_model_path(alphabet: str = "digits") -> Path:
    """The shipped model: the digits model, or for letters and both the joint digits-and-letters one."""
    return resources_dir() / "models" / (DEFAULT_MODEL_NAME if alphabet == "digits" else LETTERS_MODEL_NAME)


def shipped_models() -> dict[str, Path]:
    """The models shipped in ``resources/models``, by name (the file's stem: "default", "mnist",
    "letters"), the default first: what ``--model NAME`` and File > Shipped models offer."""
    folder = resources_dir() / "models"
    paths = sorted(folder.glob("*.safetensors"), key=lambda p: (p.name != DEFAULT_MODEL_NAME, p.name)) if folder.is_dir() else []
    return {path.stem: path for path in paths}


def shipped_model_title(path: Path) -> str:
    """A shipped model's name as its JSON sidecar gives it ("digitpad default (MNIST)"), read without
    loading the weights; the file's stem when the sidecar is missing or unreadable."""
    try:
        name = json.loads(sidecar_path(path).read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    return name if isinstance(name, str) and name else path.stem


# Names that shipped models had before: scripts written for them keep working.
SHIPPED_ALIASES = {"pen": "default"}  # the pen-trained model, "pen" until it became the default


def find_model(path_or_name: str | os.PathLike) -> Path:
    """A checkpoint file, or the shipped model of that name ("mnist") when no such file exists."""
    path = Path(path_or_name)
    if path.exists():
        return path
    shipped, name = shipped_models(), str(path_or_name)
    return shipped.get(name) or shipped.get(SHIPPED_ALIASES.get(name, ""), path)


def select_device(preference: str = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple MPS, then CPU; an explicit device that is absent is an error."""
    preference = (preference or "auto").lower()
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if has_mps else torch.device("cpu")
    if preference.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("CUDA was asked for, but torch sees no CUDA GPU on this machine")
    if preference == "mps" and not has_mps:
        raise ValueError("Apple MPS was asked for, but it is not available on this machine")
    return torch.device(preference)


def available_devices() -> list[str]:
    devices = ["auto", "cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


@dataclass(frozen=True)
class Prediction:
    probabilities: np.ndarray | None  # (classes,) float32 summing to 1; None when the input is empty
    digit: int | None  # index of the best class (the digit itself when reading digits); None when empty
    confident: bool  # calibrated score above the checkpoint's threshold, and a plausible shape
    score: float  # calibrated probability of what is shown (0 when empty)
    prepared: preprocess.Prepared  # exactly what was fed to the model
    label: str | None = None  # the best class as text: "7", "a", "Q"
    shown: str | None = None  # what the pad shows: the label, or "o/O" when the two cases are not told apart

    @property
    def empty(self) -> bool:
        return self.prepared.empty


def normalize(images: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """uint8 (n, s, s) or float (n, s, s) in [0, 1] -> normalised float (n, 1, s, s)."""
    if images.dtype == torch.uint8:
        images = images.float() / 255.0
    return ((images - mean) / std).unsqueeze(1)


@torch.no_grad()
def batched_logits(model, images: torch.Tensor, mean: float, std: float, batch_size: int = 1000) -> torch.Tensor:
    """Logits for many images (uint8 or [0, 1] float), batch by batch on the images' device."""
    model.eval()
    outputs = [model(normalize(images[i : i + batch_size], mean, std)) for i in range(0, len(images), batch_size)]
    return torch.cat(outputs) if outputs else torch.empty(0, 10)


class Predictor:
    """Reads prepared digits with one checkpoint. Not thread-safe: one per thread.

    ``confident`` needs two things, both chosen on data when the checkpoint was trained: the
    calibrated max probability at or above ``threshold`` (``metrics.confidence_threshold``), and
    ink no wider than ``max_aspect`` times its height (``metrics.max_aspect_ratio``).
    """

    def __init__(self, checkpoint: Checkpoint, device: str | torch.device = "cpu", alphabet: str | None = None):
        self.checkpoint = checkpoint
        alphabet = alphabet or checkpoint.alphabets[0]
        if alphabet not in checkpoint.alphabets:
            raise ValueError(f"{self.name} reads {' and '.join(checkpoint.alphabets)}, not {alphabet}")
        self.alphabet = alphabet
        self.classes = classes_of(alphabet)
        columns = class_indices(checkpoint.classes, alphabet)
        # None when the model's outputs are exactly the alphabet: no gather on every frame.
        self.columns = None if np.array_equal(columns, np.arange(len(checkpoint.classes))) else columns
        self.device = torch.device(device)
        self.model = checkpoint.build_model().to(self.device).eval()  # for the viewers' hooks
        # What reads the pad on every frame: BatchNorm folded in, Dropout gone. Measured on the CPU
        # for a batch of one between other work (cold caches): 1.1 ms against 1.4 ms.
        self.reader = inference_copy(self.model)
        self.mean, self.std = checkpoint.normalization
        self.temperature, self.threshold = checkpoint.calibration(alphabet)
        self.max_aspect = float(checkpoint.meta.get("max_aspect", DEFAULT_MAX_ASPECT))
        self.spec = input_spec(checkpoint)

    @classmethod
    def from_file(cls, path: str | os.PathLike, device="cpu", alphabet: str | None = None) -> "Predictor":
        return cls(load_checkpoint(path), device, alphabet)

    @property
    def branch(self) -> str:
        """Which network of a joint model the viewers look inside: the letters' when reading letters."""
        return "letters" if self.alphabet == "letters" else "digits"

    def branch_of(self, prediction: "Prediction | None") -> str:
        """The network that gave ``prediction``'s best class: in Both, the letters' for a letter."""
        if self.alphabet == "both" and prediction is not None and prediction.label is not None:
            return "letters" if prediction.label.isalpha() else "digits"
        return self.branch

    def output_of(self, index: int) -> int:
        """The model's output (logit) of the alphabet's class ``index``: they differ for a joint model."""
        return int(index) if self.columns is None else int(self.columns[index])

    @property
    def name(self) -> str:
        return self.checkpoint.meta.get("name") or self.checkpoint.arch

    def _tensor(self, image: np.ndarray) -> torch.Tensor:
        """(s, s) in [0, 1] -> normalised (1, 1, s, s) on the device; numpy does the arithmetic,
        because for 784 numbers torch's per-operator overhead is the whole cost."""
        normalised = (np.asarray(image, np.float32) - np.float32(self.mean)) / np.float32(self.std)
        return torch.from_numpy(normalised[None, None]).to(self.device)

    @torch.inference_mode()
    def probabilities(self, image: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of the alphabet's classes for one prepared image (s, s) in [0, 1]."""
        logits = self.reader(self._tensor(image))[0].double().cpu().numpy()
        if self.columns is not None:
            logits = logits[self.columns]
        logits = logits / self.temperature
        exp = np.exp(logits - logits.max())
        return (exp / exp.sum()).astype(np.float32)

    def predict_prepared(self, prepared: preprocess.Prepared) -> Prediction:
        if prepared.empty or prepared.image is None:
            return Prediction(None, None, False, 0.0, prepared)
        probs = self.probabilities(prepared.image)
        best = int(probs.argmax())
        shown, score = case_merged_reading(self.classes, probs)
        confident = score >= self.threshold and self.plausible_shape(prepared.image)
        return Prediction(probs, best, confident, score, prepared, self.classes[best], shown)

    def plausible_shape(self, image: np.ndarray) -> bool:
        """False for ink much wider than any training digit (two digits side by side, a dash)."""
        return float(ink_aspect_ratios((np.asarray(image)[None] * 255).astype(np.uint8))[0]) <= self.max_aspect

    def predict_image(self, image: np.ndarray) -> Prediction:
        return self.predict_prepared(preprocess.prepare_image(image, self.spec))

    def predict_strokes(self, strokes) -> Prediction:
        return self.predict_prepared(preprocess.prepare_strokes(strokes, self.spec))

    def predict_file(self, path) -> Prediction:
        return self.predict_prepared(preprocess.prepare_file(path, self.spec))

    @torch.inference_mode()
    def activations(self, image: np.ndarray, branch: str | None = None) -> dict[str, np.ndarray]:
        """Each feature layer's maps (channels, h, w) for one prepared image, via forward hooks;
        ``branch``: which network of a joint model (default: the alphabet's, ``branch``)."""
        _, captured = capture_activations(self.model, self._tensor(image), branch or self.branch)
        return {name: act[0].float().contiguous().cpu().numpy() for name, act in captured.items() if act.dim() == 4}


def input_spec(checkpoint: Checkpoint) -> preprocess.InputSpec:
    """How the pad prepares a drawing for ``checkpoint``: its dataset's spec, unless the network's
    input size says otherwise."""
    spec = preprocess.spec_for(checkpoint.meta.get("dataset", "mnist"))
    return spec if spec.size == checkpoint.input_size else spec_for_input_size(checkpoint.input_size)


def spec_for_input_size(size: int) -> preprocess.InputSpec:
    return preprocess.USPS_SPEC if size == preprocess.USPS_SPEC.size else preprocess.MNIST_SPEC
