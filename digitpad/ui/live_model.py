"""The pad's live model, as every dock sees it: the checkpoint, the predictor that reads the pad
with it, where it came from, and the pad's latest reading.

The window owns one ``LiveModel`` and hands it to the docks (``ui.docks.DockContext``) instead of
itself: a viewer reads ``checkpoint`` and ``predictor``; a dock that trains or fine-tunes hands
its result over with ``set_checkpoint``. The live predictor never shares a training ``nn.Module``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from ..core.checkpoints import Checkpoint
from ..core.inference import Predictor
from .bus import AppBus


class LiveModel(QObject):
    """The pad's model. ``set_checkpoint`` makes a checkpoint the live model at once and says so on
    ``bus.modelChanged``; ``last_prediction`` is the pad's latest reading (the window sets it)."""

    def __init__(self, bus: AppBus, parent: QObject | None = None):
        super().__init__(parent)
        self.bus = bus
        self.checkpoint: Checkpoint | None = None
        self.model_path: Path | None = None
        self.predictor: Predictor | None = None
        self.inference_device = "cpu"  # a batch of one is fastest on the CPU; View > Inference device
        self.last_prediction = None

    def set_checkpoint(self, checkpoint: Checkpoint, path: Path | None = None) -> None:
        """Make ``checkpoint`` the pad's live model (no restart) and tell every viewer."""
        self.predictor = Predictor(checkpoint, self.inference_device)
        self.checkpoint = checkpoint
        self.model_path = Path(path) if path else None
        self.bus.modelChanged.emit(checkpoint)

    def set_inference_device(self, device: str) -> None:
        """Read the pad on ``device`` from now on ("auto": the CPU); raises ValueError or
        RuntimeError when it is not available (the device stays as it was)."""
        if self.checkpoint is not None:
            self.predictor = Predictor(self.checkpoint, "cpu" if device == "auto" else device)
        self.inference_device = device
