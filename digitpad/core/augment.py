"""Batch augmentation on the training device: random affine (and optional elastic) warps.

One ``grid_sample`` per batch, no per-sample Python: the sampling grid for the whole batch is built
from per-sample random parameters drawn as tensors on the same device as the images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AffineRange:
    rotation_deg: float = 12.0
    scale: float = 0.12  # zoom factor in [1 - scale, 1 + scale]
    shear: float = 0.15  # horizontal shear factor (slant), as handwriting varies most there
    shift_px: float = 2.5


def _uniform(n: int, bound: float, generator, device) -> torch.Tensor:
    return (torch.rand(n, generator=generator, device=device) * 2 - 1) * bound


def random_affine_grid(n: int, size: int, spec: AffineRange, generator=None, device="cpu") -> torch.Tensor:
    """(n, size, size, 2) sampling grid for ``grid_sample`` with a random affine per sample."""
    angle = _uniform(n, math.radians(spec.rotation_deg), generator, device)
    zoom = 1.0 + _uniform(n, spec.scale, generator, device)
    shear = _uniform(n, spec.shear, generator, device)
    shift = _uniform(2 * n, spec.shift_px * 2.0 / size, generator, device).view(n, 2)  # pixels -> [-1, 1] units
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack(
        [
            torch.stack([cos, -sin + shear * cos, shift[:, 0]], dim=1),
            torch.stack([sin, cos + shear * sin, shift[:, 1]], dim=1),
        ],
        dim=1,
    )
    return F.affine_grid(theta, (n, 1, size, size), align_corners=False)


def elastic_offsets(n: int, size: int, alpha_px: float = 2.0, sigma_px: float = 3.0, generator=None, device="cpu"):
    """Smooth random displacement field (Simard et al. 2003), (n, size, size, 2) in grid units."""
    noise = torch.rand(n, 2, size, size, generator=generator, device=device) * 2 - 1
    radius = int(3 * sigma_px)
    coords = torch.arange(-radius, radius + 1, device=device, dtype=torch.float32)
    kernel = torch.exp(-(coords**2) / (2 * sigma_px**2))
    kernel = kernel / kernel.sum()
    # Separable Gaussian blur of both displacement channels.
    field = F.conv2d(noise.view(-1, 1, size, size), kernel.view(1, 1, 1, -1), padding=(0, radius))
    field = F.conv2d(field, kernel.view(1, 1, -1, 1), padding=(radius, 0)).view(n, 2, size, size)
    field = field / field.abs().amax(dim=(2, 3), keepdim=True).clamp_min(1e-6)
    return field.permute(0, 2, 3, 1) * (alpha_px * 2.0 / size)


def augment_batch(images: torch.Tensor, spec: AffineRange | None = None, elastic: bool = False, generator=None):
    """Warp a batch (n, 1, s, s) of float images in [0, 1]; ink stays ink, empty borders stay black."""
    n, _, size, _ = images.shape
    grid = random_affine_grid(n, size, spec or AffineRange(), generator, images.device)
    if elastic:
        grid = grid + elastic_offsets(n, size, generator=generator, device=images.device)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
