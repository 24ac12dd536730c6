"""The seeds' recipe options (core/recipe.py), each off by default, and their CLI flags."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from digitpad.core import trainer as trainer_module
from digitpad.core.config import TrainConfig
from digitpad.core.datasets import DigitData, normalization_stats
from digitpad.core.events import EpochEnded, RunFinished
from digitpad.core.models import build_model
from digitpad.core.recipe import epoch_order, input_stats, lr_factor, momentum_at, parameter_groups, training_loss
from digitpad.core.trainer import Trainer


def tiny_data(n: int = 64, size: int = 16) -> DigitData:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
    labels = np.arange(n, dtype=np.int64) % 10
    return DigitData("tiny", images, labels, images[:20].copy(), labels[:20].copy())


def test_defaults_are_digitpads_own_recipe():
    config = TrainConfig()
    assert config.input_scaling == "standardize" and not config.sample_with_replacement and not config.fan_in_lr
    assert config.loss == "cross-entropy" and config.momentum_warmup_steps == 0


def test_input_scaling_unit_keeps_grey_over_255_and_standardize_uses_the_train_set():
    images = np.array([[[0, 255], [51, 102]]], np.uint8)
    assert input_stats(TrainConfig(input_scaling="unit"), images) == (0.0, 1.0)
    assert input_stats(TrainConfig(), images) == normalization_stats(images)
    with pytest.raises(ValueError, match="input scaling"):
        TrainConfig(input_scaling="zscore").validate()


def test_sampling_with_replacement_draws_independent_indices():
    generator = torch.Generator().manual_seed(0)
    order = epoch_order(TrainConfig(sample_with_replacement=True), 10, 1000, generator, "cpu")
    assert order.shape == (1000,) and int(order.min()) >= 0 and int(order.max()) < 10
    assert len(set(order[:20].tolist())) < 20  # repeats: not a permutation
    permutation = epoch_order(TrainConfig(), 10, 10, generator, "cpu")
    assert sorted(permutation.tolist()) == list(range(10))


def test_fan_in_learning_rates_follow_efficient_backprop():
    model = build_model("torch5-usps", input_size=16)
    groups = parameter_groups(model, TrainConfig(lr=0.1, fan_in_lr=True, weight_decay=0.0))
    rates = {tuple(g["params"][0].shape): g["lr"] for g in groups}
    assert rates[(6, 1, 5, 5)] == pytest.approx(0.1 / 5)  # conv: 25 inputs per unit
    assert rates[(6,)] in (pytest.approx(0.1 / 5), pytest.approx(0.1 / 2))  # conv or sub-sampling bias
    assert rates[(10, 216)] == pytest.approx(0.1 / math.sqrt(216))
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    plain = parameter_groups(model, TrainConfig(lr=0.1))
    assert len(plain) == 2 and all("lr" not in g for g in plain)


def test_conv_layers_can_learn_faster_than_the_rest():
    model = build_model("bastani-wang")
    groups = parameter_groups(model, TrainConfig(lr=0.1, conv_lr_scale=256.0, weight_decay=0.0))
    rates = {tuple(g["params"][0].shape): g["lr"] for g in groups}
    assert rates[(64, 1, 13, 13)] == pytest.approx(25.6) and rates[(64,)] == pytest.approx(25.6)  # conv weight, bias
    assert rates[(10, 256)] == pytest.approx(0.1) and rates[(10,)] == pytest.approx(0.1)
    both = parameter_groups(build_model("torch5-usps", input_size=16), TrainConfig(lr=0.1, fan_in_lr=True, conv_lr_scale=2.0))
    assert {tuple(g["params"][0].shape): g["lr"] for g in both}[(6, 1, 5, 5)] == pytest.approx(2 * 0.1 / 5)
    with pytest.raises(ValueError, match="conv_lr_scale"):
        TrainConfig(conv_lr_scale=0.0).validate()


def test_inverse_time_decay_is_5_over_50_plus_t_at_lr_0_1():
    config = TrainConfig(lr=0.1, schedule="inverse-time", inverse_time_steps=50)
    for t in (0, 1, 20, 1000):
        assert config.lr * lr_factor(config, t) == pytest.approx(5 / (50 + t))


def test_momentum_warms_up_then_switches():
    config = TrainConfig(optimizer="momentum", momentum=0.95, momentum_warmup=0.5, momentum_warmup_steps=21)
    assert [momentum_at(config, t) for t in (0, 20, 21, 500)] == [0.5, 0.5, 0.95, 0.95]
    assert momentum_at(TrainConfig(momentum=0.9), 0) == 0.9


def test_clipped_cross_entropy_gives_no_gradient_to_a_hopeless_example():
    config = TrainConfig(loss="clipped-cross-entropy")
    logits = torch.tensor([[0.0, 40.0], [1.0, 0.0]], requires_grad=True)
    labels = torch.tensor([0, 0])
    loss = training_loss(config, logits, labels)
    assert float(loss.detach()) == pytest.approx((-math.log(1e-10) - math.log(math.e / (1 + math.e))) / 2, rel=1e-4)
    loss.backward()
    assert logits.grad[0].abs().max() == 0 and logits.grad[1].abs().max() > 0
    same = training_loss(TrainConfig(loss="clipped-cross-entropy"), torch.tensor([[2.0, 0.0]]), torch.tensor([0]))
    assert float(same) == pytest.approx(float(nn.functional.cross_entropy(torch.tensor([[2.0, 0.0]]), torch.tensor([0]))))


def test_trainer_runs_the_bastani_wang_schedule(monkeypatch):
    seen = []
    original = trainer_module.set_momentum
    monkeypatch.setattr(trainer_module, "set_momentum", lambda opt, m: (seen.append(m), original(opt, m)))
    config = TrainConfig(
        model="torch5-usps", epochs=2, batch_size=8, optimizer="momentum", lr=0.1, momentum=0.95,
        momentum_warmup=0.5, momentum_warmup_steps=3, schedule="inverse-time", inverse_time_steps=50,
        sample_with_replacement=True, input_scaling="unit", augment=False, label_smoothing=0.0,
        val_fraction=0.0, threads=1, device="cpu",
    )  # fmt: skip
    events = list(Trainer(config, tiny_data()).run())
    assert isinstance(events[-1], RunFinished)
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert epochs[-1].lr == pytest.approx(0.1 * 50 / (50 + 16))  # 2 epochs of 64 // 8 steps
    assert seen == [0.5, 0.5, 0.5, 0.95]


def test_trainer_with_unit_inputs_stores_no_standardisation():
    config = TrainConfig(model="torch5-usps", epochs=1, batch_size=8, input_scaling="unit", fan_in_lr=True,
                         val_fraction=0.0, threads=1, device="cpu")  # fmt: skip
    trainer = Trainer(config, tiny_data())
    list(trainer.run())
    assert trainer.checkpoint.meta["normalization"] == [0.0, 1.0]


def test_cli_flags_set_the_recipe_options():
    from digitpad import cli
    from digitpad.cli.train import train_config

    args = cli.build_parser().parse_args([
        "train", "--preset", "torch5-usps", "--out", "m.safetensors", "--input-scaling", "standardize",
        "--fan-in-lr", "--inverse-time-steps", "20", "--momentum-warmup", "0.5", "--momentum-warmup-steps", "3",
        "--loss", "clipped-cross-entropy", "--dataset", "usps-seed",
    ])  # fmt: skip
    config = train_config(args)
    assert config.input_scaling == "standardize" and config.fan_in_lr and config.sample_with_replacement
    assert (config.inverse_time_steps, config.momentum_warmup, config.momentum_warmup_steps) == (20, 0.5, 3)
    assert config.loss == "clipped-cross-entropy" and config.dataset == "usps-seed"
    args = cli.build_parser().parse_args(["train", "--out", "m.safetensors", "--with-replacement"])
    assert train_config(args).sample_with_replacement
