"""Presets: each seed system's architecture and training recipe, checked against its document."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import torch
from torch import nn

from digitpad.core.config import TrainConfig
from digitpad.core.datasets import DATASETS, DigitData
from digitpad.core.events import RunFailed, RunFinished
from digitpad.core.models import MeanPoolBlocks, build_model
from digitpad.core.presets import PRESETS, Preset, add_preset, get_preset, seed_presets
from digitpad.core.seed_layers import SpatialSubSampling
from digitpad.core.trainer import Trainer

SEED_PRESETS = ["torch5-usps", "torch5-usps-standard", "lasagne-5", "lasagne-50", "bastani-wang", "bastani-wang-h10", "tflearn"]


def tiny_data(size: int, n: int = 40) -> DigitData:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
    labels = np.arange(n, dtype=np.int64) % 10
    return DigitData("tiny", images, labels, images[:20].copy(), labels[:20].copy())


def model_of(name: str) -> nn.Module:
    config = get_preset(name).config
    return build_model(config.model, input_size=DATASETS[config.dataset].image_size, **config.model_args)


def layer_outputs(model: nn.Module, size: int) -> list[tuple[nn.Module, tuple[int, ...]]]:
    """Each top-level layer with the shape of its output for one (1, 1, size, size) input."""
    shapes = []
    x = torch.zeros(1, 1, size, size)
    model.eval()
    with torch.no_grad():
        for layer in model:
            x = layer(x)
            shapes.append((layer, tuple(x.shape[1:])))
    return shapes


def kinds(model: nn.Module) -> list[str]:
    return [type(layer).__name__ for layer in model]


def optimizer_of(name: str) -> torch.optim.Optimizer:
    config = get_preset(name).make_config(device="cpu")
    trainer = Trainer(config, tiny_data(DATASETS[config.dataset].image_size))
    return trainer._make_optimizer(model_of(name))


def test_all_seed_presets_exist_with_their_reported_figures():
    assert set(SEED_PRESETS) <= set(PRESETS)
    assert {p.name for p in seed_presets()} == set(SEED_PRESETS)
    for name in SEED_PRESETS:
        preset = get_preset(name)
        assert preset.seed and preset.reported and preset.notes
    assert get_preset("torch5-usps").reported_error == pytest.approx(0.035)
    assert get_preset("lasagne-5").reported_error == pytest.approx(1 - 0.9885)
    assert get_preset("lasagne-50").reported_error == pytest.approx(1 - 0.996)
    assert get_preset("bastani-wang").reported_error == pytest.approx(0.0269)
    assert get_preset("bastani-wang-h10").reported_error == pytest.approx(0.0173)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_validates_and_builds(name):
    config = get_preset(name).config
    config.validate()
    size = DATASETS[config.dataset].image_size
    out = model_of(name).eval()(torch.zeros(2, 1, size, size))
    assert out.shape == (2, 10)


@pytest.mark.parametrize("name", SEED_PRESETS)
def test_seed_presets_have_none_of_digitpads_extras(name):
    config = get_preset(name).config
    assert not config.augment and not config.elastic
    assert config.label_smoothing == 0 and config.weight_decay == 0
    # A constant rate, except where the seed's own code decays it (Bastani-Wang's 5 / (50 + t)).
    assert config.schedule == ("inverse-time" if name.startswith("bastani") else "constant")
    assert config.input_scaling == "unit"  # every seed fed grey values in [0, 1], none standardised


@pytest.mark.parametrize("name", SEED_PRESETS)
def test_every_seed_preset_trains(name):
    """One short epoch on random digits of the preset's size: the whole loop runs, nothing fails."""
    config = get_preset(name).make_config(epochs=1, threads=1, device="cpu")
    events = list(Trainer(config, tiny_data(DATASETS[config.dataset].image_size)).run())
    assert not [e for e in events if isinstance(e, RunFailed)]
    assert isinstance(events[-1], RunFinished) and events[-1].epochs_done == 1


def uniform_bound(tensor: torch.Tensor) -> float:
    return float(tensor.detach().abs().max())


def test_torch5_usps_matches_seeds_000_001():
    config = get_preset("torch5-usps").config
    assert config.dataset == "usps-seed" and DATASETS["usps-seed"].image_size == 16
    # usps_cnn.lua: one example drawn at random (with replacement) per step, plain SGD,
    # learningRate = 0.01, maxIterations = 100000 over 10,000 training digits; no validation.
    assert config.batch_size == 1 and config.optimizer == "sgd" and config.lr == 0.01
    assert config.sample_with_replacement and config.epochs * 10_000 == 100_000
    assert config.val_fraction == 0 and config.input_scaling == "unit" and config.loss == "cross-entropy"
    model = model_of("torch5-usps")
    assert kinds(model) == ["Conv2d", "SpatialSubSampling", "Tanh", "Flatten", "Linear"]
    layers = layer_outputs(model, 16)
    conv, sub, _, _, linear = (layer for layer, _ in layers)
    assert (conv.in_channels, conv.out_channels, conv.kernel_size) == (1, 6, (5, 5))
    assert (sub.planes, sub.kernel, sub.stride) == (6, 2, 2)
    assert sub.weight.shape == sub.bias.shape == (6,)  # one trainable weight and bias per map
    assert [shape for _, shape in layers] == [(6, 12, 12), (6, 6, 6), (6, 6, 6), (216,), (10,)]
    assert (linear.in_features, linear.out_features) == (216, 10)
    # torch7's reset(): uniform in +-1/sqrt(fan-in), weights and biases alike.
    for module, fan_in in ((conv, 25), (sub, 4), (linear, 216)):
        for tensor in (module.weight, module.bias):
            assert 0.5 / fan_in**0.5 < uniform_bound(tensor) <= 1 / fan_in**0.5
    optimizer = optimizer_of("torch5-usps")
    assert type(optimizer) is torch.optim.SGD
    for group in optimizer.param_groups:
        assert group["lr"] == 0.01 and group["momentum"] == 0 and group["weight_decay"] == 0


def test_torch5_usps_standard_is_the_same_recipe_on_the_standard_split():
    seed, standard = get_preset("torch5-usps").config, get_preset("torch5-usps-standard").config
    assert standard.dataset == "usps" and standard.epochs * 7291 >= 100_000 > (standard.epochs - 1) * 7291
    assert {**seed.to_dict(), "dataset": "usps", "epochs": standard.epochs} == standard.to_dict()


def test_spatial_subsampling_is_a_weighted_2x2_sum_plus_bias():
    sub = SpatialSubSampling(2, 2, 2)
    with torch.no_grad():
        sub.weight.copy_(torch.tensor([0.5, -2.0]))
        sub.bias.copy_(torch.tensor([1.0, 0.25]))
    x = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(1, 2, 4, 4)
    sums = x.reshape(1, 2, 2, 2, 2, 2).sum(dim=(3, 5))  # each 2x2 block's sum, not its mean
    expected = sums * torch.tensor([0.5, -2.0]).view(1, 2, 1, 1) + torch.tensor([1.0, 0.25]).view(1, 2, 1, 1)
    assert torch.allclose(sub(x), expected)
    sub(x).sum().backward()
    assert sub.weight.grad is not None and sub.bias.grad.tolist() == [4.0, 4.0]


@pytest.mark.parametrize("name, epochs", [("lasagne-5", 5), ("lasagne-50", 50)])
def test_lasagne_matches_seed_002(name, epochs):
    config = get_preset(name).config
    assert config.dataset == "mnist" and config.epochs == epochs and config.batch_size == 500
    assert config.val_fraction == pytest.approx(1 / 6)  # the tutorial's 50,000 / 10,000 split
    model = model_of(name)
    assert kinds(model) == [
        "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d",
        "Flatten", "Dropout", "Linear", "ReLU", "Dropout", "Linear",
    ]  # fmt: skip
    layers = layer_outputs(model, 28)
    shapes = [shape for _, shape in layers]
    assert shapes[:6] == [(32, 24, 24), (32, 24, 24), (32, 12, 12), (32, 8, 8), (32, 8, 8), (32, 4, 4)]
    convs = [layer for layer, _ in layers if isinstance(layer, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [(1, 32, (5, 5)), (32, 32, (5, 5))]
    assert all(layer.kernel_size == 2 for layer, _ in layers if isinstance(layer, nn.MaxPool2d))
    dense = [layer for layer, _ in layers if isinstance(layer, nn.Linear)]
    assert [(d.in_features, d.out_features) for d in dense] == [(512, 256), (256, 10)]
    assert [layer.p for layer, _ in layers if isinstance(layer, nn.Dropout)] == [0.5, 0.5]
    # Lasagne's defaults: GlorotUniform weights (bound sqrt(6 / (fan-in + fan-out))), zero biases.
    for layer in convs + dense:
        fan_in, fan_out = layer.weight[0].numel(), layer.weight[:, 0].numel()
        bound = (6 / (fan_in + fan_out)) ** 0.5
        assert 0.9 * bound < uniform_bound(layer.weight) <= bound and uniform_bound(layer.bias) == 0
    assert config.input_scaling == "unit" and not config.sample_with_replacement  # shuffled epochs
    optimizer = optimizer_of(name)
    group = optimizer.param_groups[0]
    assert type(optimizer) is torch.optim.SGD and group["nesterov"]
    assert group["lr"] == 0.01 and group["momentum"] == 0.9 and group["weight_decay"] == 0


def test_bastani_wang_matches_seed_003():
    config = get_preset("bastani-wang").config
    assert config.dataset == "mnist" and config.val_fraction == 0  # all 60,000 train, 10,000 test
    assert config.max_minutes == 600  # the paper's 10 hours, as a cap
    model = model_of("bastani-wang")
    assert kinds(model) == ["Conv2d", "Sigmoid", "MeanPoolBlocks", "Flatten", "Linear"]
    layers = layer_outputs(model, 28)
    conv = layers[0][0]
    assert (conv.in_channels, conv.out_channels, conv.kernel_size) == (1, 64, (13, 13))
    assert [shape for _, shape in layers] == [(64, 16, 16), (64, 16, 16), (64, 2, 2), (256,), (10,)]
    assert (layers[-1][0].in_features, layers[-1][0].out_features) == (256, 10)
    # Weights start uniform in [-1, 1), as the paper says.
    for module in (conv, layers[-1][0]):
        assert module.weight.abs().max() <= 1 and module.weight.abs().max() > 0.9
    # The authors' code: 256 examples drawn with replacement, lr 5 / (50 + t), momentum 0.5 up to
    # iteration 20 and 0.95 after, inputs grey / 256.
    assert config.batch_size == 256 and config.sample_with_replacement and config.input_scaling == "unit"
    assert config.schedule == "inverse-time" and config.lr == 0.1 and config.inverse_time_steps == 50
    assert (config.momentum_warmup, config.momentum_warmup_steps, config.momentum) == (0.5, 21, 0.95)
    optimizer = optimizer_of("bastani-wang")
    group = optimizer.param_groups[0]
    assert type(optimizer) is torch.optim.SGD and not group["nesterov"]
    assert group["momentum"] > 0 and group["lr"] == config.lr and group["weight_decay"] == 0


def test_bastani_wang_mean_pooling_is_four_8x8_block_means():
    x = torch.arange(16 * 16, dtype=torch.float32).reshape(1, 1, 16, 16)
    pooled = MeanPoolBlocks(2)(x)
    expected = x.reshape(2, 8, 2, 8).mean(dim=(1, 3))
    assert torch.allclose(pooled[0, 0], expected)


def test_bastani_wang_h10_adds_a_10_neuron_sigmoid_layer():
    model = model_of("bastani-wang-h10")
    assert kinds(model) == ["Conv2d", "Sigmoid", "MeanPoolBlocks", "Flatten", "Linear", "Sigmoid", "Linear"]
    dense = [m for m in model if isinstance(m, nn.Linear)]
    assert [(d.in_features, d.out_features) for d in dense] == [(256, 10), (10, 10)]
    base, h10 = get_preset("bastani-wang").config, get_preset("bastani-wang-h10").config
    assert {**base.to_dict(), "model": h10.model} == h10.to_dict()  # same training, other net


def test_tflearn_matches_seed_004():
    config = get_preset("tflearn").config
    assert config.dataset == "mnist" and config.epochs == 10 and config.batch_size == 64
    model = model_of("tflearn")
    assert kinds(model) == [
        "ZeroPad2d", "Conv2d", "ReLU", "MaxPool2d", "ZeroPad2d", "Conv2d", "ReLU", "MaxPool2d",
        "Flatten", "Linear", "ReLU", "Dropout", "Linear",
    ]  # fmt: skip  (TensorFlow's 'same' padding of a 2x2 kernel: one pixel after, none before)
    layers = layer_outputs(model, 28)
    convs = [layer for layer, _ in layers if isinstance(layer, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [(1, 32, (2, 2)), (32, 64, (2, 2))]
    assert [shape for _, shape in layers][:8] == [
        (1, 29, 29), (32, 28, 28), (32, 28, 28), (32, 14, 14), (32, 15, 15), (64, 14, 14), (64, 14, 14), (64, 7, 7)
    ]  # fmt: skip
    dense = [layer for layer, _ in layers if isinstance(layer, nn.Linear)]
    assert [(d.in_features, d.out_features) for d in dense] == [(64 * 7 * 7, 1024), (1024, 10)]
    (dropout,) = [layer for layer, _ in layers if isinstance(layer, nn.Dropout)]
    assert dropout.p == pytest.approx(0.2)  # tflearn's dropout(0.8) keeps 80%
    # tflearn's defaults: conv 'uniform_scaling' (+-sqrt(3 / fan-in)), dense truncated normal
    # (stddev 0.02, cut at 2 stddev), zero biases; its clipped cross-entropy; inputs grey / 255.
    for conv in convs:
        bound = (3 / conv.weight[0].numel()) ** 0.5
        assert 0.9 * bound < uniform_bound(conv.weight) <= bound
    for layer in dense:
        assert uniform_bound(layer.weight) <= 0.04 and 0.015 < float(layer.weight.detach().std()) < 0.02
    assert all(uniform_bound(layer.bias) == 0 for layer in convs + dense)
    assert config.loss == "clipped-cross-entropy" and config.input_scaling == "unit"
    optimizer = optimizer_of("tflearn")
    assert type(optimizer) is torch.optim.Adam and optimizer.param_groups[0]["lr"] == 0.01
    assert optimizer.param_groups[0]["eps"] == 1e-8  # tflearn's Adam epsilon


def test_make_config_copies_and_overrides():
    preset = get_preset("bastani-wang")
    config = preset.make_config(epochs=1)
    assert config.epochs == 1 and preset.config.epochs == 5
    config.model_args["filters"] = 8
    assert "filters" not in preset.config.model_args and "filters" not in preset.make_config().model_args


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(KeyError, match="torch5-usps"):
        get_preset("nope")


def test_add_preset_registers(monkeypatch):
    monkeypatch.setattr("digitpad.core.presets.PRESETS", dict(PRESETS))
    from digitpad.core import presets

    preset = add_preset(Preset("mine", "a test recipe", TrainConfig(epochs=1)))
    assert presets.get_preset("mine") is preset and preset.seed == ""


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_cli_train_uses_the_preset(name):
    from digitpad import cli
    from digitpad.cli import train as train_cli

    args = cli.build_parser().parse_args(["train", "--preset", name, "--out", "model.safetensors"])
    preset = get_preset(name).config
    # Headless, a preset trains on every core, as a plain `digitpad train` does (the app keeps one free).
    expected = dataclasses.replace(preset, threads=os.cpu_count() or 1) if preset.threads == 0 else preset
    assert train_cli.train_config(args) == expected


def test_cli_train_threads_flag_overrides_the_preset():
    from digitpad import cli
    from digitpad.cli import train as train_cli

    args = cli.build_parser().parse_args(["train", "--preset", "default", "--threads", "1", "--out", "m.safetensors"])
    assert train_cli.train_config(args).threads == 1
