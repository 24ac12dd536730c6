"""What the seed systems' libraries did that PyTorch does not do the same way: a layer and the
initialisations each library gives its layers when the code does not say otherwise.

- torch5/torch7 (seeds 000, 001): ``SpatialSubSampling``, and ``reset()`` of every layer.
- Lasagne (seed 002): ``GlorotUniform`` weights and zero biases (``Conv2DLayer``, ``DenseLayer``).
- tflearn (seed 004): ``uniform_scaling`` convolutions, ``truncated_normal`` dense layers, zero biases.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class SpatialSubSampling(nn.Module):
    """torch's ``nn.SpatialSubSampling(planes, kW, kH, dW, dH)``: each map's kW x kH *sum*, times
    one trainable weight per map, plus one trainable bias per map.

    Not an average pooling: the sum is kW*kH times larger, and the weight and bias are learnt (the
    convolution before it cannot absorb them exactly once a non-linearity follows, as tanh does).
    """

    def __init__(self, planes: int, kernel: int = 2, stride: int = 2):
        super().__init__()
        self.planes, self.kernel, self.stride = planes, kernel, stride
        self.weight = nn.Parameter(torch.empty(planes))
        self.bias = nn.Parameter(torch.empty(planes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # torch7 SpatialSubSampling:reset(): uniform in +-1/sqrt(kW*kH).
        bound = 1.0 / math.sqrt(self.kernel * self.kernel)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    @property
    def fan_in(self) -> int:
        return self.kernel * self.kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sums = F.avg_pool2d(x, self.kernel, self.stride) * (self.kernel * self.kernel)
        return sums * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f"{self.planes}, kernel={self.kernel}, stride={self.stride}"


def fan_in(module: nn.Module) -> int:
    """Inputs that feed one output unit of a layer: what torch7 and LeCun scale by."""
    if isinstance(module, nn.Conv2d):
        return module.in_channels // module.groups * math.prod(module.kernel_size)
    if isinstance(module, nn.Linear):
        return module.in_features
    if isinstance(module, SpatialSubSampling):
        return module.fan_in
    raise TypeError(f"no fan-in for {type(module).__name__}")


def _weighted_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear, SpatialSubSampling))]


def torch7_init(model: nn.Module) -> None:
    """torch7's ``reset()``: weights and biases uniform in +-1/sqrt(fan-in), every layer.

    (PyTorch's default for Conv2d and Linear draws from this same distribution; doing it here
    makes the preset say so, and covers SpatialSubSampling.)
    """
    for module in _weighted_layers(model):
        bound = 1.0 / math.sqrt(fan_in(module))
        nn.init.uniform_(module.weight, -bound, bound)
        nn.init.uniform_(module.bias, -bound, bound)


def lasagne_init(model: nn.Module) -> None:
    """Lasagne's defaults: ``GlorotUniform()`` (gain 1) weights and ``Constant(0.)`` biases.

    Lasagne's fan-out of a convolution is filters x kernel area, as in ``xavier_uniform_``.
    """
    for module in _weighted_layers(model):
        nn.init.xavier_uniform_(module.weight)
        nn.init.zeros_(module.bias)


def tflearn_init(model: nn.Module) -> None:
    """tflearn's defaults: ``conv_2d`` 'uniform_scaling' (uniform in +-sqrt(3/fan-in)),
    ``fully_connected`` 'truncated_normal' (stddev 0.02, cut at 2 stddev), zero biases."""
    for module in _weighted_layers(model):
        if isinstance(module, nn.Conv2d):
            bound = math.sqrt(3.0 / fan_in(module))
            nn.init.uniform_(module.weight, -bound, bound)
        else:
            nn.init.trunc_normal_(module.weight, std=0.02, a=-0.04, b=0.04)
        nn.init.zeros_(module.bias)
