"""The training-recipe options the seeds need beyond digitpad's own loop, one small function each.

The Trainer calls these; each returns digitpad's usual behaviour when its option is off:
- ``input_stats``: standardise with the training set's mean/std, or feed grey/255 as the seeds did;
- ``epoch_order``: a fresh permutation per epoch, or draws with replacement (torch5, Bastani-Wang);
- ``parameter_groups``: weight decay on weights only, and LeCun's fan-in scaled rates on request;
- ``lr_factor`` / ``momentum_at``: the inverse-time decay and momentum warm-up of Bastani-Wang;
- ``training_loss``: cross-entropy, or tflearn's clipped one.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import TrainConfig
from .datasets import normalization_stats
from .seed_layers import fan_in


def input_stats(config: TrainConfig, train_images_u8: np.ndarray) -> tuple[float, float]:
    """(mean, std) the inputs are shifted and divided by, after grey / 255.

    'unit' leaves them in [0, 1]: what torch7's ``image.loadPNG`` gave the tutorial and what
    Lasagne's, tflearn's and Bastani-Wang's loaders fed their networks (x / 255 or x / 256).
    """
    if config.input_scaling == "unit":
        return 0.0, 1.0
    return normalization_stats(train_images_u8)


def epoch_order(config: TrainConfig, n: int, draws: int, generator: torch.Generator, device) -> torch.Tensor:
    """The training indices of one epoch's batches, in order.

    A permutation sees every example once; with replacement each draw is independent, as
    ``math.random(dataset:size())`` in usps_cnn.lua and ``numpy.random.choice`` in Bastani-Wang.
    """
    if config.sample_with_replacement:
        return torch.randint(n, (draws,), generator=generator, device=device)
    return torch.randperm(n, generator=generator, device=device)


def parameter_groups(model: nn.Module, config: TrainConfig) -> list[dict]:
    """Optimizer groups: weight decay on weights only (never biases or norm scales), and with
    ``fan_in_lr`` one group per layer at ``lr / sqrt(fan-in)`` (LeCun et al., Efficient BackProp,
    section 4.7: a unit with many inputs moves more per step, so its weights need a smaller rate),
    and convolution layers at ``conv_lr_scale`` times their rate (Bastani & Wang's code sums the
    convolution's gradient over its 256 examples where it averages the softmax layer's)."""
    if not config.fan_in_lr and config.conv_lr_scale == 1.0:
        decay = [p for p in model.parameters() if p.dim() > 1]
        no_decay = [p for p in model.parameters() if p.dim() <= 1]
        return [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    groups, seen = [], set()
    for module in model.modules():
        params = [p for p in module.parameters(recurse=False)]
        if not params:
            continue
        lr = config.lr
        if config.fan_in_lr:
            try:
                lr = config.lr / math.sqrt(fan_in(module))
            except TypeError:  # a norm layer: no fan-in, keep the base rate
                pass
        if isinstance(module, nn.modules.conv._ConvNd):
            lr *= config.conv_lr_scale
        for p in params:
            seen.add(id(p))
            decay = config.weight_decay if p.dim() > 1 else 0.0
            groups.append({"params": [p], "weight_decay": decay, "lr": lr})
    assert len(seen) == len(list(model.parameters())), "every parameter in exactly one group"
    return groups


def lr_factor(config: TrainConfig, step: int) -> float:
    """The 'inverse-time' schedule's multiplier after ``step`` steps: T / (T + step).

    With lr 0.1 and T = 50 this is Bastani-Wang's ``5 / (50 + iteration)``.
    """
    return config.inverse_time_steps / (config.inverse_time_steps + step)


def momentum_at(config: TrainConfig, step: int) -> float:
    """Momentum for step ``step`` (from 0): ``momentum_warmup`` for the first
    ``momentum_warmup_steps`` steps, then ``momentum`` (Bastani-Wang: 0.5 up to iteration 20, then 0.95)."""
    if step < config.momentum_warmup_steps:
        return config.momentum_warmup
    return config.momentum


def set_momentum(optimizer: torch.optim.Optimizer, momentum: float) -> None:
    for group in optimizer.param_groups:
        if "momentum" in group:
            group["momentum"] = momentum


def training_loss(config: TrainConfig, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the logits; 'clipped-cross-entropy' is tflearn's ``categorical_crossentropy``:
    softmax probabilities clipped to [1e-10, 1 - 1e-10] before the log, so an example the network
    is sure it gets wrong (p < 1e-10) gives no gradient at all."""
    if config.loss == "clipped-cross-entropy":
        probs = torch.softmax(logits.float(), dim=1).clamp(1e-10, 1.0 - 1e-10)
        return F.nll_loss(probs.log(), labels)
    return F.cross_entropy(logits, labels, label_smoothing=config.label_smoothing)
