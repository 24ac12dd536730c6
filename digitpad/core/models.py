"""Model registry: every architecture digitpad can train, by name, with hooks for the viewers.

Each model is a plain ``nn.Module`` built from an ``input_size`` (28 for MNIST, 16 for USPS) and
keyword arguments that are stored in checkpoints, so ``build_model(name, **args)`` rebuilds it.
The viewers never re-implement a forward pass: ``conv_layers`` lists the convolutions whose weights
are shown, and ``capture_activations`` records each feature layer's output with forward hooks.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

from .seed_layers import SpatialSubSampling, lasagne_init, tflearn_init, torch7_init

NUM_CLASSES = 10


@dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str
    factory: Callable[..., nn.Module]
    defaults: dict = field(default_factory=dict)


MODELS: dict[str, ModelInfo] = {}


def register(name: str, description: str, **defaults):
    def decorate(factory):
        MODELS[name] = ModelInfo(name, description, factory, defaults)
        return factory

    return decorate


def build_model(name: str, input_size: int = 28, **kwargs) -> nn.Module:
    """Build a registered architecture; unknown names raise ``KeyError`` listing the known ones."""
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    info = MODELS[name]
    args = {**info.defaults, **kwargs}
    model = info.factory(input_size=input_size, **args)
    model.arch_name = name
    model.arch_args = {"input_size": input_size, **args}
    return model


def _conv_bn_relu(c_in: int, c_out: int, kernel: int, padding: int = 0) -> list[nn.Module]:
    # bias=False: the BatchNorm shift makes a conv bias redundant.
    return [nn.Conv2d(c_in, c_out, kernel, padding=padding, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


def _side_after(size: int, *ops: tuple[str, int]) -> int:
    """Spatial side after a chain of ('conv', k) valid convolutions and ('pool', p) poolings."""
    for op, k in ops:
        size = size - k + 1 if op == "conv" else size // k
    return size


@register(
    "digitpad",
    "digitpad's default: conv5-32/BN, pool, conv3-64/BN x2, pool, dense 256 (BN, dropout); fast on a CPU",
    width=32,
    hidden=256,
    dropout=0.3,
)
def digitpad_net(input_size: int, width: int, hidden: int, dropout: float, num_classes: int = NUM_CLASSES) -> nn.Module:
    # Designed for accuracy per CPU-second: wide enough to reach 99.6%+ with augmentation, with the
    # expensive 3x3 convolutions only at 12x12 and below.
    # Flat, as checkpoints have always named its tensors ("0.weight" ... "12.bias").
    return nn.Sequential(*first_block(width), *digitpad_trunk(input_size, width, hidden, dropout, num_classes))


def first_block(width: int) -> nn.Sequential:
    """The first layer: conv5 + BatchNorm + ReLU (one module, so a joint model can share it)."""
    return nn.Sequential(*_conv_bn_relu(1, width, 5))


def digitpad_trunk(input_size: int, width: int, hidden: int, dropout: float, num_classes: int) -> list[nn.Module]:
    """Everything after the first layer, down to the class logits."""
    # The first 3x3 convolution is padded, so only the second one shrinks the map.
    side = _side_after(input_size, ("conv", 5), ("pool", 2), ("conv", 3), ("pool", 2))
    return [
        nn.MaxPool2d(2),
        *_conv_bn_relu(width, 2 * width, 3, padding=1),
        *_conv_bn_relu(2 * width, 2 * width, 3),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * width * side * side, hidden, bias=False),
        nn.BatchNorm1d(hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
    ]


class JointNet(nn.Module):
    """The torch tutorial's idea for going further: a digit network and a letter network whose
    first layer is one module (the same parameters, not a copy), trained jointly.

    ``forward`` returns both heads' logits side by side, digits first: (n, 10 + 52), in the order
    of ``alphabets.DIGITS_AND_LETTERS``. Each head is trained with its own cross-entropy on its own
    examples (``head_loss``); ``both_weight`` adds a cross-entropy over all 62 logits so the two
    heads' logits are comparable and the model can also read "both" alphabets at once.
    With ``shared=False`` each network has its own first layer: the control the experiment needs.
    """

    def __init__(self, input_size: int, width: int, hidden: int, dropout: float, digit_classes: int,
                 letter_classes: int, shared: bool, both_weight: float):
        super().__init__()
        self.digit_classes, self.both_weight = digit_classes, both_weight
        self.shared = first_block(width) if shared else None
        self.digits = nn.Sequential(*([] if shared else first_block(width)),
                                    *digitpad_trunk(input_size, width, hidden, dropout, digit_classes))
        self.letters = nn.Sequential(*([] if shared else first_block(width)),
                                     *digitpad_trunk(input_size, width, hidden, dropout, letter_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.shared is not None:
            x = self.shared(x)
        return torch.cat([self.digits(x), self.letters(x)], dim=1)

    def is_digit(self, labels: torch.Tensor) -> torch.Tensor:
        return labels < self.digit_classes

    def within_alphabet(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The logits with the other alphabet's classes far below the rest: softmax then reads each example
        with the head of its own alphabet (what "digits" and "letters" mode show)."""
        digit_rows = self.is_digit(labels)[:, None]
        digit_cols = torch.arange(logits.shape[1], device=logits.device)[None] < self.digit_classes
        # Far below any real logit but finite: a temperature fit divides and differentiates these.
        return logits.masked_fill(digit_rows != digit_cols, -1e4)

    def head_loss(self, logits: torch.Tensor, labels: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
        """Mean over the batch of each example's cross-entropy under its own head (+ the 62-way term)."""
        digit = self.is_digit(labels)
        total = logits.new_zeros(())
        split = self.digit_classes
        if digit.any():
            total = total + F.cross_entropy(logits[digit, :split], labels[digit], label_smoothing=label_smoothing,
                                            reduction="sum")
        if (~digit).any():
            total = total + F.cross_entropy(logits[~digit, split:], labels[~digit] - split,
                                            label_smoothing=label_smoothing, reduction="sum")
        loss = total / max(1, len(labels))
        if self.both_weight:
            loss = loss + self.both_weight * F.cross_entropy(logits, labels, label_smoothing=label_smoothing)
        return loss


@register(
    "digitpad-joint",
    "Digits and letters: two digitpad networks (10 and 52 classes) sharing one first layer, trained jointly",
    width=32,
    hidden=256,
    dropout=0.3,
    digit_classes=10,
    letter_classes=52,
    shared=True,
    both_weight=0.5,
)
def digitpad_joint(input_size: int, **args) -> nn.Module:
    return JointNet(input_size, **args)


def adapt_state(model: nn.Module, state: dict) -> dict:
    """``state`` made to fit ``model``: a digitpad (digits) checkpoint starts a joint model as its
    shared first layer and *both* networks after it (the letters learn on top of digit features),
    all but the letter head's last layer, whose shape differs and which keeps ``model``'s own
    initialisation. Any other state is returned as it is (and must fit exactly)."""
    if not isinstance(model, JointNet) or model.shared is None or "shared.0.weight" in state:
        return state
    first = len(first_block(1))  # the flat digits net's first-layer modules: conv, BN, ReLU
    mapped = dict(model.state_dict())
    for key, value in state.items():
        index, _, rest = key.partition(".")
        if int(index) < first:
            mapped[f"shared.{key}"] = value
            continue
        for branch in ("digits", "letters"):
            name = f"{branch}.{int(index) - first}.{rest}"
            if name in mapped and tuple(mapped[name].shape) == tuple(value.shape):
                mapped[name] = value
    return mapped


def is_joint(model: nn.Module) -> bool:
    return isinstance(model, JointNet)


def within_alphabet(model: nn.Module, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Each example's logits as its own alphabet's head reads them (unchanged for one-head models)."""
    return model.within_alphabet(logits, labels) if isinstance(model, JointNet) else logits


def shared_first_layer(model: nn.Module) -> nn.Module | None:
    """The first layer that several heads share, or None for a single-head model."""
    return getattr(model, "shared", None)


@register("lenet5", "LeNet-5 (LeCun 1998): conv5-6, avg-pool, conv5-16, avg-pool, dense 120-84-10, tanh")
def lenet5(input_size: int) -> nn.Module:
    pad = 2 if input_size >= 28 else 0  # LeNet-5 saw 32x32; pad MNIST's 28 to keep its geometry
    side = _side_after(input_size + 2 * pad, ("conv", 5), ("pool", 2), ("conv", 5), ("pool", 2))
    if side < 1:  # 16x16 USPS: the second convolution would leave nothing, so pad it too
        pad, side = 2, _side_after(input_size + 4, ("conv", 5), ("pool", 2), ("conv", 5), ("pool", 2))
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=pad), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * side * side, 120), nn.Tanh(),
        nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, NUM_CLASSES),
    )  # fmt: skip


@register(
    "torch5-usps",
    "Seeds 000/001, the torch5 USPS tutorial: conv5-6 (16->12), 2x2 sub-sampling, tanh, linear 216->10",
)
def torch5_usps(input_size: int) -> nn.Module:
    side = _side_after(input_size, ("conv", 5), ("pool", 2))
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5),
        SpatialSubSampling(6, 2, 2),  # usps_cnn.lua: nn.SpatialSubSampling(6, 2, 2, 2, 2)
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(6 * side * side, NUM_CLASSES),
    )
    torch7_init(model)
    return model


@register(
    "lasagne",
    "Seed 002, the Lasagne MNIST net: conv5-32, max-pool, conv5-32, max-pool, dropout, dense 256, dropout, 10",
)
def lasagne_net(input_size: int) -> nn.Module:
    side = _side_after(input_size, ("conv", 5), ("pool", 2), ("conv", 5), ("pool", 2))
    model = nn.Sequential(
        nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(32 * side * side, 256), nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(256, NUM_CLASSES),
    )  # fmt: skip
    lasagne_init(model)
    return model


class MeanPoolBlocks(nn.Module):
    """Mean over a ``blocks`` x ``blocks`` grid of equal regions (Bastani-Wang's pooling blocks).

    With 2x2 blocks a 16x16 map pools into four 8x8 means, as in the paper's Table 1.
    """

    def __init__(self, blocks: int):
        super().__init__()
        self.blocks = blocks
        self.pool = nn.AdaptiveAvgPool2d(blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def _uniform_init(model: nn.Module, bound: float = 1.0) -> None:
    # Bastani & Wang: "weights random and uniformly distributed within [-1, 1)". With 13x13x1
    # fan-in that saturates sigmoids at first, which is part of what the preset reproduces.
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.uniform_(module.weight, -bound, bound)
            nn.init.uniform_(module.bias, -bound, bound)


@register(
    "bastani-wang",
    "Seed 003, Bastani & Wang's numpy CNN: 64 13x13 sigmoid filters, mean-pool 2x2 blocks, softmax",
    filters=64,
    filter_size=13,
    pool_blocks=2,
    hidden=0,
)
def bastani_wang(input_size: int, filters: int, filter_size: int, pool_blocks: int, hidden: int) -> nn.Module:
    features = filters * pool_blocks * pool_blocks
    layers: list[nn.Module] = [nn.Conv2d(1, filters, filter_size), nn.Sigmoid(), MeanPoolBlocks(pool_blocks), nn.Flatten()]
    if hidden:
        layers += [nn.Linear(features, hidden), nn.Sigmoid()]
        features = hidden
    layers.append(nn.Linear(features, NUM_CLASSES))
    model = nn.Sequential(*layers)
    _uniform_init(model)
    return model


register(
    "bastani-wang-h10",
    "Seed 003's best variant: Bastani-Wang net with a 10-neuron sigmoid hidden layer (1.73% error)",
    filters=64,
    filter_size=13,
    pool_blocks=2,
    hidden=10,
)(bastani_wang)


@register(
    "tflearn",
    "Seed 004, the tflearn net: conv2-32, max-pool, conv2-64, max-pool, dense 1024, dropout (keep 0.8), 10",
)
def tflearn_net(input_size: int) -> nn.Module:
    # TensorFlow's 'same' padding for an even kernel puts the extra pixel after (right, bottom);
    # so only the two poolings shrink the map.
    side = input_size // 4
    model = nn.Sequential(
        nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(1, 32, 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(32, 64, 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * side * side, 1024), nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(1024, NUM_CLASSES),
    )  # fmt: skip
    tflearn_init(model)
    return model


@register(
    "pytorch-example",
    "pytorch/examples mnist/main.py: conv3-32, conv3-64, max-pool, dropout, dense 128, dropout, 10",
)
def pytorch_example_net(input_size: int) -> nn.Module:
    side = _side_after(input_size, ("conv", 3), ("conv", 3), ("pool", 2))
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(64 * side * side, 128), nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, NUM_CLASSES),
    )  # fmt: skip


# --- hooks for the viewers -------------------------------------------------------------------

_FEATURE_TYPES = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.MaxPool2d, nn.AvgPool2d, MeanPoolBlocks, SpatialSubSampling)


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    """The model's convolutions in forward order, with their module names."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def first_layer_kernels(model: nn.Module) -> torch.Tensor:
    """First convolution's weights, (out_channels, kh, kw), detached on the CPU."""
    _, conv = conv_layers(model)[0]
    return conv.weight.detach().to("cpu", torch.float32)[:, 0].clone()


def feature_layers(model: nn.Module, branch: str | None = None) -> list[tuple[str, nn.Module]]:
    """The layers whose outputs are spatial feature maps worth showing: each conv block's output.

    For a conv -> (BN) -> activation -> (pool) chain that is the activation, i.e. what the next
    layer sees before pooling; named after the convolution that feeds it (``conv1``, ``conv2``...).
    For the joint model, ``branch`` ("digits" or "letters", default digits) picks the network after
    the shared first layer.
    """
    layers: list[tuple[str, nn.Module]] = []
    seen_conv = 0
    pending = False
    for _, module in _branch_modules(model, branch):
        if isinstance(module, nn.Conv2d):
            seen_conv += 1
            pending = True
        elif pending and isinstance(module, (nn.ReLU, nn.Tanh, nn.Sigmoid)):
            layers.append((f"conv{seen_conv}", module))
            pending = False
        elif pending and isinstance(module, (nn.AvgPool2d, MeanPoolBlocks, SpatialSubSampling)):
            continue  # torch5 sub-samples before its tanh: keep waiting for the activation
        elif isinstance(module, nn.Flatten):
            break
    return layers


def _branch_modules(model: nn.Module, branch: str | None) -> list[tuple[str, nn.Module]]:
    if not isinstance(model, JointNet):
        return list(model.named_modules())
    branch = branch or "digits"
    keep = ("shared.", f"{branch}.")
    return [(name, m) for name, m in model.named_modules() if name.startswith(keep)]


@torch.no_grad()
def capture_activations(model: nn.Module, x: torch.Tensor, branch: str | None = None
                        ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run ``model`` on ``x`` and return (logits, {layer name: activation}) via forward hooks."""
    captured: dict[str, torch.Tensor] = {}
    handles = []
    for name, module in feature_layers(model, branch):
        def hook(_module, _inputs, output, name=name):
            # ReLU modules may be reused in-place later in some nets: clone to keep this snapshot.
            captured[name] = output.detach().clone()

        handles.append(module.register_forward_hook(hook))
    try:
        logits = model(x)
    finally:
        for handle in handles:
            handle.remove()
    return logits, captured


def inference_copy(model: nn.Module) -> nn.Module:
    """An eval-mode copy of ``model`` for reading only: in each Sequential (the model itself, or
    its child Sequentials, as in the joint model), each BatchNorm is folded into the convolution or
    linear layer before it and Dropout is dropped.

    Same outputs (to float rounding), fewer operators: a batch of one spends most of its time
    dispatching operators, not computing.
    """
    model = copy.deepcopy(model).eval()
    if isinstance(model, nn.Sequential):
        return _folded(model)
    for name, child in list(model.named_children()):
        if isinstance(child, nn.Sequential):
            setattr(model, name, _folded(child))
    return model


def _folded(sequence: nn.Sequential) -> nn.Sequential:
    kept: list[nn.Module] = []
    for layer in sequence:
        previous = kept[-1] if kept else None
        if isinstance(layer, nn.BatchNorm2d) and isinstance(previous, nn.Conv2d):
            kept[-1] = fuse_conv_bn_eval(previous, layer)
        elif isinstance(layer, nn.BatchNorm1d) and isinstance(previous, nn.Linear):
            kept[-1] = fuse_linear_bn_eval(previous, layer)
        elif not isinstance(layer, nn.Dropout):
            kept.append(layer)
    return nn.Sequential(*kept).eval()


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

