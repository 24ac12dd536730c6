"""The saliency overlay: which pixels drove the prediction, drawn translucently over the pad.

Off by default. Toggled by the ``saliency_toggle`` checkbox in the Feature maps dock and by
View > Show saliency on the pad (the two stay in step). When on, each ``predictionChanged`` (already
one per display frame) costs one forward and backward pass of the small model. The map is computed
on the model's input (``core.saliency``) and warped back onto the pad with ``input_to_pad``.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QComboBox

from ...core.saliency import PadMapping, input_to_pad, saliency_map

FOR_COLOR = (220, 30, 30)  # evidence for the predicted digit
AGAINST_COLOR = (30, 90, 230)  # evidence against it (gradient x input only)
MAX_ALPHA = 190  # the strongest pixel still lets the ink show through
METHOD_NAMES = {"gradient_x_input": "Gradient × input", "grad_cam": "Grad-CAM (last conv layer)"}
_LATEST = object()


def saliency_rgba(saliency: np.ndarray, signed: bool) -> np.ndarray:
    """(s, s) saliency -> (s, s, 4) uint8: red for, blue against, alpha by strength (max = MAX_ALPHA)."""
    peak = float(np.abs(saliency).max()) if saliency.size else 0.0
    value = saliency / peak if peak > 0 else np.zeros_like(saliency)
    if not signed:
        value = np.clip(value, 0, 1)
    rgba = np.zeros((*saliency.shape, 4), np.uint8)
    rgba[value > 0, :3] = FOR_COLOR
    rgba[value < 0, :3] = AGAINST_COLOR
    # A gamma under 1 lifts the weaker evidence so the overlay is not just one hot pixel.
    rgba[..., 3] = np.round(MAX_ALPHA * np.abs(value) ** 0.7).astype(np.uint8)
    return rgba


def warp_to_pad(rgba: np.ndarray, mapping: PadMapping, pad_shape: tuple[int, int]) -> np.ndarray:
    """Place an input-sized (s, s, 4) image on a pad of ``pad_shape`` (H, W): (H, W, 4) uint8."""
    height, width = pad_shape
    inverse = 1.0 / mapping.scale  # PIL wants pad -> input: input = (pad - offset) / scale
    warped = Image.fromarray(np.ascontiguousarray(rgba), "RGBA").transform(
        (int(width), int(height)),
        Image.Transform.AFFINE,
        (inverse, 0.0, -mapping.offset_x * inverse, 0.0, inverse, -mapping.offset_y * inverse),
        resample=Image.Resampling.BILINEAR,
        fillcolor=(0, 0, 0, 0),
    )
    return np.asarray(warped, np.uint8)


class SaliencyOverlay(QObject):
    """Keeps the pad's overlay in step with the prediction while enabled.

    Inspectable state: ``enabled``, ``method``, ``saliency`` (the last (s, s) map, or None),
    ``overlay`` (the last (H, W, 4) image given to the pad, or None), ``action`` (the View menu's).
    """

    def __init__(self, context, parent=None):
        super().__init__(parent or context.parent)
        self.context = context
        self.enabled = False
        self.method = "gradient_x_input"
        self.saliency: np.ndarray | None = None
        self.overlay: np.ndarray | None = None
        self.action = QAction("Show &saliency on the pad", context.parent)
        self.action.setObjectName("action_saliency")
        self.action.setCheckable(True)
        self.action.setToolTip("Tint the pixels that drove the prediction: red for the digit, blue against it")
        self.action.setStatusTip(self.action.toolTip())
        self.action.toggled.connect(self.set_enabled)
        context.add_view_action(self.action)  # with the other display options, above the docks' toggles
        context.bus.predictionChanged.connect(self._on_prediction_changed)

    def make_checkbox(self) -> QCheckBox:
        box = QCheckBox("Saliency on the pad")
        box.setObjectName("saliency_toggle")
        box.setAccessibleName("Show saliency on the pad")
        box.setToolTip(self.action.toolTip())
        box.setChecked(self.enabled)
        box.toggled.connect(self.action.setChecked)  # setChecked to the same value emits nothing: no loop
        self.action.toggled.connect(box.setChecked)
        return box

    def make_method_combo(self) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName("saliency_method")
        combo.setAccessibleName("Saliency method")
        combo.setToolTip(
            "Gradient × input: per-pixel, signed. Grad-CAM: regions that the last conv layer found decisive."
        )
        for key, name in METHOD_NAMES.items():
            combo.addItem(name, key)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)
        combo.currentIndexChanged.connect(lambda _i: self.set_method(combo.currentData()))
        return combo

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        if self.action.isChecked() != self.enabled:
            self.action.setChecked(self.enabled)
        self.refresh()

    def set_method(self, method: str) -> None:
        self.method = method
        self.refresh()

    def _on_prediction_changed(self, prediction) -> None:
        if self.enabled:
            self.refresh(prediction)

    def refresh(self, prediction=_LATEST) -> None:
        canvas, model = self.context.canvas, self.context.model
        if prediction is _LATEST:
            prediction = model.last_prediction
        predictor = model.predictor
        if not self.enabled or prediction is None or prediction.empty or predictor is None:
            self._clear()
            return
        raster = canvas.vector_strokes() is None  # the window then read canvas.grayscale(): device pixels
        mapping = input_to_pad(prediction.prepared, predictor.spec, 1.0 / canvas.devicePixelRatioF() if raster else 1.0)
        if mapping is None:
            self._clear()
            return
        # The best class's own output and network: a joint model's letters are outputs 10-61.
        self.saliency, _target = saliency_map(
            predictor.model, prediction.prepared.image, predictor.mean, predictor.std, self.method,
            predictor.output_of(prediction.digit), predictor.branch_of(prediction),
        )
        rgba = saliency_rgba(self.saliency, signed=self.method == "gradient_x_input")
        self.overlay = warp_to_pad(rgba, mapping, (canvas.height(), canvas.width()))
        canvas.set_overlay(self.overlay)

    def _clear(self) -> None:
        self.saliency = self.overlay = None
        self.context.canvas.set_overlay(None)
