"""Saliency: which input pixels drove a prediction, and where those pixels lie on the pad.

Two methods, both one forward and one backward pass on a single prepared image:

* gradient x input (Shrikumar et al. 2016): d logit / d pixel times the pixel, on the [0, 1] image
  (ink = 1, paper = 0), so paper scores exactly 0 and only ink carries evidence, for (+) or
  against (-) the class;
* Grad-CAM (Selvaraju et al. 2017) on the last conv block's activation: the maps weighted by their
  mean gradient, ReLU'd, and upsampled to the input: coarse, but it shows regions, not speckle.

``input_to_pad`` maps the model's input pixels back onto the pad using ``Prepared.bbox``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .models import feature_layers
from .preprocess import InputSpec, Prepared

METHODS = ("gradient_x_input", "grad_cam")
INK_THRESHOLD = 0.05  # prepared pixels fainter than this are resampling blur, not the digit's extent


def _prepare(model, image):
    device = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(image, np.float32), device=device)
    if x.dim() != 2:
        x = x.reshape(x.shape[-2:])
    return x.clone().requires_grad_(True)


def _target_logit(model, x: torch.Tensor, mean: float, std: float, target: int | None) -> tuple[torch.Tensor, int]:
    """The logit of ``target`` (default: the predicted class) for one image, and that class."""
    logits = model(((x - mean) / std)[None, None])
    target = int(logits[0].argmax()) if target is None else int(target)
    return logits[0, target], target


def gradient_x_input(model: torch.nn.Module, image, mean: float, std: float, target: int | None = None) -> tuple[np.ndarray, int]:
    """(map (s, s) float32, signed: + for ``target``, - against it; the target class).

    ``image``: the prepared (s, s) float image in [0, 1]; ``target`` defaults to the predicted class.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(False), torch.enable_grad():
            x = _prepare(model, image)
            logit, target = _target_logit(model, x, mean, std, target)
            (grad,) = torch.autograd.grad(logit, x)  # inputs only: the weights' .grad stays untouched
            result = (grad * x).detach().float().cpu().numpy()
    finally:
        model.train(was_training)
    return result, target


def grad_cam(model: torch.nn.Module, image, mean: float, std: float, target: int | None = None,
             branch: str | None = None) -> tuple[np.ndarray, int]:
    """(map (s, s) float32 >= 0, the target class): Grad-CAM on the last conv block's activation;
    ``branch``: the network of a joint model whose output ``target`` is (its own last conv block)."""
    layers = feature_layers(model, branch)
    if not layers:
        raise ValueError("this model has no convolution layer for Grad-CAM")
    _name, module = layers[-1]
    captured: list[torch.Tensor] = []
    handle = module.register_forward_hook(lambda _m, _i, output: captured.append(output))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(False), torch.enable_grad():
            x = _prepare(model, image)
            logit, target = _target_logit(model, x, mean, std, target)
            activation = captured[-1]
            (grad,) = torch.autograd.grad(logit, activation)
            weights = grad.mean(dim=(2, 3), keepdim=True)
            cam = F.relu((weights * activation).sum(dim=1, keepdim=True))
            cam = F.interpolate(cam, size=tuple(x.shape), mode="bilinear", align_corners=False)
            result = cam[0, 0].detach().float().cpu().numpy()
    finally:
        handle.remove()
        model.train(was_training)
    return result, target


def saliency_map(model, image, mean: float, std: float, method: str = "gradient_x_input", target: int | None = None,
                 branch: str | None = None) -> tuple[np.ndarray, int]:
    """Dispatch to one of ``METHODS``; ``target`` is a model output, ``branch`` its network in a joint model."""
    if method == "gradient_x_input":
        return gradient_x_input(model, image, mean, std, target)
    if method == "grad_cam":
        return grad_cam(model, image, mean, std, target, branch)
    raise ValueError(f"unknown saliency method {method!r}; known: {', '.join(METHODS)}")


@dataclass(frozen=True)
class PadMapping:
    """pad pixel = offset + scale * input pixel, per axis (edge coordinates: pixel i spans [i, i + 1])."""

    scale: float  # pad pixels per input pixel
    offset_y: float
    offset_x: float

    def to_pad(self, y: float, x: float) -> tuple[float, float]:
        return self.offset_y + self.scale * y, self.offset_x + self.scale * x

    def to_input(self, y: float, x: float) -> tuple[float, float]:
        return (y - self.offset_y) / self.scale, (x - self.offset_x) / self.scale


def input_to_pad(prepared: Prepared, spec: InputSpec, bbox_scale: float = 1.0) -> PadMapping | None:
    """Where the model's input lies on the pad; None when there is no digit.

    Preprocessing scales the ink's bounding box (``prepared.bbox``, in the pad's pixels) so its
    longer side is ``spec.box`` input pixels, then shifts it to centre it. The scale is therefore
    exact; the shift is recovered by matching the bbox's centre with the centre of the ink's
    bounding box in the prepared image (exact up to resampling blur, well under a pixel). For raster
    input whose stroke width preprocessing changed, the scale is off by that width change (a few %).
    ``bbox_scale`` converts bbox units to pad units (the raster path measures device pixels).
    """
    if prepared.empty or prepared.image is None or prepared.bbox is None:
        return None
    top, left, bottom, right = (v * bbox_scale for v in prepared.bbox)
    extent = max(bottom - top, right - left)
    ink = np.asarray(prepared.image) > INK_THRESHOLD
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if extent <= 0 or rows.size == 0:
        return None
    scale = extent / spec.box
    centre_y = (rows[0] + rows[-1] + 1) / 2
    centre_x = (cols[0] + cols[-1] + 1) / 2
    return PadMapping(scale, (top + bottom) / 2 - scale * centre_y, (left + right) / 2 - scale * centre_x)


__all__ = ["METHODS", "PadMapping", "grad_cam", "gradient_x_input", "input_to_pad", "saliency_map"]
