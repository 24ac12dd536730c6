"""The pad's live model, as every dock sees it: the checkpoint, the predictor that reads the pad
with it, the alphabet it reads (digits, letters or both), where it came from, and the pad's latest
reading.

The window owns one ``LiveModel`` and hands it to the docks (``ui.docks.DockContext``) instead of
itself: a viewer reads ``checkpoint`` and ``predictor``; a dock that trains or fine-tunes hands
its result over with ``set_checkpoint``. The live predictor never shares a training ``nn.Module``.

Two ways change the model, and each wins in its own direction:

* a model the user chose (opened, trained, fine-tuned: ``set_checkpoint``) is read in the current
  alphabet when it can be, else in its own (a digits-only model read in Letters mode switches the
  pad to Digits, and the status bar says why);
* an alphabet the user chose (``set_alphabet``) keeps the model when it reads that alphabet; else
  the model is *set aside* and the shipped one for the alphabet is read, until an alphabet the
  set-aside model reads brings it back (your own digits model, back when you choose Digits again).

Loading a shipped model reads a few MB (~25 ms) and is done here, on the GUI thread, as File > Open
does; each is loaded once per session.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from ..core.alphabets import ALPHABETS
from ..core.checkpoints import Checkpoint, CheckpointError, load_checkpoint
from ..core.inference import Predictor, default_model_path
from .bus import AppBus

ALPHABET_NOUNS = {"digits": "digits", "letters": "letters", "both": "digits and letters"}


class LiveModel(QObject):
    """The pad's model. ``set_checkpoint`` makes a checkpoint the live model at once and says so on
    ``bus.modelChanged``; ``set_alphabet`` reads another alphabet (``bus.alphabetChanged``, and
    ``bus.modelChanged`` when that takes another model); ``last_prediction`` is the pad's latest
    reading (the window sets it)."""

    def __init__(self, bus: AppBus, parent: QObject | None = None):
        super().__init__(parent)
        self.bus = bus
        self.checkpoint: Checkpoint | None = None
        self.model_path: Path | None = None
        self.predictor: Predictor | None = None
        self.alphabet = "digits"
        self.inference_device = "cpu"  # a batch of one is fastest on the CPU; View > Inference device
        self.last_prediction = None
        self.set_aside: tuple[Checkpoint, Path | None] | None = None  # put away for an alphabet it cannot read
        self._shipped: dict[Path, Checkpoint] = {}

    def set_checkpoint(self, checkpoint: Checkpoint, path: Path | None = None) -> None:
        """Make ``checkpoint`` the pad's live model (no restart) and tell every viewer. It is read in
        the current alphabet if it can be, else in its own (with a status message saying so)."""
        if not checkpoint.alphabets:  # load_checkpoint refuses these; a hand-built one must not get further
            raise CheckpointError("this model reads neither digits nor letters")
        alphabet = self.alphabet if self.alphabet in checkpoint.alphabets else checkpoint.alphabets[0]
        self.set_aside = None  # the user chose this model: nothing to go back to
        self._make_live(checkpoint, path, alphabet)
        if alphabet != self.alphabet:
            self.bus.statusMessage.emit(f"{model_name(checkpoint, path)} reads {ALPHABET_NOUNS[alphabet]} only: the pad reads "
                                        f"{ALPHABET_NOUNS[alphabet]} now")
            self._announce_alphabet(alphabet)
        self.bus.modelChanged.emit(checkpoint)

    def set_alphabet(self, alphabet: str) -> bool:
        """Read ``alphabet`` from now on, with the model that reads it (see the module's docstring).
        False, with a status message, when no model for it can be loaded: nothing changes then."""
        if alphabet not in ALPHABETS:
            raise ValueError(f"unknown alphabet {alphabet!r}")
        if alphabet == self.alphabet or self.checkpoint is None:
            if self.checkpoint is None:
                self._announce_alphabet(alphabet)
            return True
        current = (self.checkpoint, self.model_path)
        if self.set_aside is not None and alphabet in self.set_aside[0].alphabets:
            (checkpoint, path), self.set_aside = self.set_aside, current
            self.bus.statusMessage.emit(f"Reading {ALPHABET_NOUNS[alphabet]} with {model_name(checkpoint, path)} again")
        elif alphabet in self.checkpoint.alphabets:
            checkpoint, path = current
        else:
            shipped = self.shipped(alphabet)
            if shipped is None:
                return False
            checkpoint, path = shipped
            self.set_aside = current
            self.bus.statusMessage.emit(self._fallback_message(alphabet, path))
        model_changed = checkpoint is not self.checkpoint
        self._make_live(checkpoint, path, alphabet)
        self._announce_alphabet(alphabet)
        if model_changed:
            self.bus.modelChanged.emit(checkpoint)
        return True

    def _fallback_message(self, alphabet: str, shipped: Path) -> str:
        name, own = model_name(self.checkpoint, self.model_path), self.checkpoint.alphabets[0]
        return (f"{name} reads {ALPHABET_NOUNS[own]} only: reading {ALPHABET_NOUNS[alphabet]} with the shipped "
                f"model {shipped.name}; choose {own.title()} to read with {name} again")

    def shipped(self, alphabet: str) -> tuple[Checkpoint, Path] | None:
        """(the shipped model that reads ``alphabet``, its file), loaded once; None, with a status
        message, when it is missing or damaged."""
        path = default_model_path(alphabet)
        try:
            checkpoint = self._shipped.get(path) or load_checkpoint(path)
        except CheckpointError as error:
            self.bus.statusMessage.emit(f"Cannot read {ALPHABET_NOUNS[alphabet]}: {error}")
            return None
        if alphabet not in checkpoint.alphabets:
            self.bus.statusMessage.emit(f"Cannot read {ALPHABET_NOUNS[alphabet]}: the shipped {path.name} does not")
            return None
        self._shipped[path] = checkpoint
        return checkpoint, path

    def _make_live(self, checkpoint: Checkpoint, path: Path | None, alphabet: str) -> None:
        self.predictor = Predictor(checkpoint, _device(self.inference_device), alphabet)
        self.checkpoint = checkpoint
        self.model_path = Path(path) if path else None

    def _announce_alphabet(self, alphabet: str) -> None:
        if alphabet != self.alphabet:
            self.alphabet = alphabet
            self.bus.alphabetChanged.emit(alphabet)

    def set_inference_device(self, device: str) -> None:
        """Read the pad on ``device`` from now on ("auto": the CPU); raises ValueError or
        RuntimeError when it is not available (the device stays as it was)."""
        if self.checkpoint is not None:
            self.predictor = Predictor(self.checkpoint, _device(device), self.alphabet)
        self.inference_device = device


def _device(choice: str) -> str:
    """The device a View > Inference device choice reads on ("auto": the CPU, fastest for a batch of one)."""
    return "cpu" if choice == "auto" else choice


def model_name(checkpoint: Checkpoint, path: Path | None) -> str:
    """How a status message names a model: its file, else its name."""
    return Path(path).name if path else checkpoint.meta.get("name") or checkpoint.arch
