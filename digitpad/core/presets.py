"""Named training recipes: digitpad's own, and the seed documents' systems as they describe them.

A seed preset sets what its document states (data set, input size, layers, non-linearities,
pooling, optimizer, learning rate, batch size, duration) and turns off every digitpad extra the
seed did not have: no augmentation, no label smoothing, no weight decay, a constant learning rate.
Where a document is silent, the value comes from the code its author published or from the
library's documented default, and ``notes`` says which. ``docs/seeds.md`` holds the measured
comparison; ``digitpad experiment reproduce`` regenerates it.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

from .config import TrainConfig


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    config: TrainConfig
    reported: str = ""  # the figure the source reports, for the comparison table
    seed: str = ""  # the seed document(s) it reproduces, e.g. "000, 001"; empty for digitpad's own
    reported_error: float | None = None  # the reported test error as a fraction, for the table
    notes: str = ""  # where the recipe had to choose or differs from the source, and why

    def make_config(self, **overrides) -> TrainConfig:
        """A fresh copy of the recipe with some fields replaced (e.g. epochs for a quick try).

        ``model_args`` is copied too, so a caller that edits it never changes the preset.
        """
        overrides.setdefault("model_args", copy.deepcopy(self.config.model_args))
        return dataclasses.replace(self.config, **overrides)


PRESETS: dict[str, Preset] = {}


def add_preset(preset: Preset) -> Preset:
    PRESETS[preset.name] = preset
    return preset


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(sorted(PRESETS))}")
    return PRESETS[name]


def seed_presets() -> list[Preset]:
    """The presets that reproduce a seed document, in seed order."""
    return [p for p in PRESETS.values() if p.seed]


# The seeds trained plain networks: none of digitpad's extras.
_PLAIN = dict(augment=False, elastic=False, label_smoothing=0.0, weight_decay=0.0, schedule="constant")


add_preset(
    Preset(
        "default",
        "digitpad's default net on MNIST: one-cycle Nesterov SGD, augmentation, label smoothing",
        TrainConfig(dataset="mnist", model="digitpad", epochs=15),
    )
)

add_preset(
    Preset(
        "default-usps",
        "digitpad's default net and recipe on USPS (16x16), to compare with the torch5 tutorial",
        TrainConfig(dataset="usps", model="digitpad", epochs=15),
    )
)

# --- seeds 000 / 001: the torch5 / torch7 USPS tutorial (hpenedones/luacnn, usps_cnn.lua) -------
# usps_cnn.lua: learningRate = 0.01, maxIterations = 100000, one random example per step, plain
# SGD on ClassNLL(LogSoftMax) = cross-entropy. 100,000 steps over the 7,291 digits of the standard
# split is 13.7 passes: 14 epochs of batch 1. No validation set in the tutorial: all 7,291 train.
add_preset(
    Preset(
        "torch5-usps",
        "Seeds 000/001, torch5 USPS tutorial: conv5-6, 2x2 sub-sampling, tanh, linear 216->10; "
        "plain SGD lr 0.01 on one example per step, 100,000 steps",
        TrainConfig(
            dataset="usps",
            model="torch5-usps",
            epochs=14,
            batch_size=1,
            optimizer="sgd",
            lr=0.01,
            momentum=0.0,
            val_fraction=0.0,
            **_PLAIN,
        ),
        reported="3-4% test error (USPS, 1,000 train / 100 test per digit)",
        seed="000, 001",
        reported_error=0.035,
        notes="Data: the standard USPS split (7,291 train / 2,007 test) stands in for the tutorial's "
        "usps.zip (10,000 / 1,000), which could not be found; the standard test set is the harder one. "
        "Steps draw examples from a fresh permutation each epoch instead of with replacement. "
        "SpatialSubSampling (a trainable weight and bias per map on each 2x2 sum) is average pooling; "
        "the convolution's weights and bias can absorb the difference. digitpad standardises inputs "
        "with the training set's mean and standard deviation; the tutorial fed raw grey values.",
    )
)

# --- seed 002: the Lasagne MNIST CNN (the Lasagne tutorial's build_cnn) -------------------------
# The blog runs the Lasagne tutorial's code: Nesterov momentum SGD, learning_rate=0.01,
# momentum=0.9, mini-batches of 500, the last 10,000 training digits held out for validation.
_LASAGNE = dict(
    dataset="mnist",
    model="lasagne",
    batch_size=500,
    optimizer="nesterov",
    lr=0.01,
    momentum=0.9,
    val_fraction=1 / 6,
    **_PLAIN,
)
_LASAGNE_NOTES = (
    "Batch size, learning rate, momentum and the 50,000/10,000 split are the Lasagne tutorial's "
    "(the blog says its code is 'primarily from their tutorial' and gives no values). PyTorch's "
    "default initialisation replaces Lasagne's Glorot-uniform. digitpad keeps the epoch with the "
    "best validation accuracy; the tutorial tested the last one."
)
add_preset(
    Preset(
        "lasagne-5",
        "Seed 002, Lasagne MNIST net: conv5-32, max-pool, conv5-32, max-pool, dense 256, dropout 0.5; "
        "Nesterov SGD lr 0.01, batches of 500, 5 epochs",
        TrainConfig(epochs=5, **_LASAGNE),
        reported="98.85% test accuracy after 5 epochs (about 2 minutes on a GPU)",
        seed="002",
        reported_error=0.0115,
        notes=_LASAGNE_NOTES,
    )
)
add_preset(
    Preset(
        "lasagne-50",
        "Seed 002, Lasagne MNIST net trained 50 epochs (Nesterov SGD lr 0.01, batches of 500)",
        TrainConfig(epochs=50, **_LASAGNE),
        reported="99.6% test accuracy after 50 epochs",
        seed="002",
        reported_error=0.004,
        notes=_LASAGNE_NOTES,
    )
)

# --- seed 003: Bastani & Wang 2014, a numpy CNN (github.com/uakfdotb/cnn) ------------------------
# Table 1: 64 13x13 filters, mean pooling into 2x2 blocks, softmax output, SGD with momentum,
# 10 hours. The paper gives no batch size or learning rate; the authors' network.py draws 256
# random examples per iteration, starts at learning rate 0.1 (5 / (50 + iteration)) and uses
# momentum. At the paper's 30.5 s per iteration, 10 hours is about 1,180 iterations of 256
# examples = 302,000 examples: 5 epochs of the 60,000. So the preset trains 5 epochs, capped at
# the paper's 10 hours of training time.
_BASTANI = dict(
    dataset="mnist",
    batch_size=256,
    optimizer="momentum",
    lr=0.1,
    momentum=0.9,
    val_fraction=0.0,  # the paper trains on all 60,000 and tests on the 10,000
    max_minutes=600.0,
    **_PLAIN,
)
_BASTANI_NOTES = (
    "The paper gives no batch size or learning rate: batch 256 and a starting rate of 0.1 come from "
    "the authors' code (github.com/uakfdotb/cnn, network.py); its 5/(50+t) decay and 0.5->0.95 "
    "momentum are replaced by a constant 0.1 with momentum 0.9. 'Trained 10 hours' at the paper's "
    "30.5 s per 256-example iteration is about 5 epochs, which is what the preset trains (with a "
    "10-hour cap, max_minutes=600). Weights start uniform in [-1, 1) as in the paper; digitpad "
    "standardises the inputs, the paper scaled them to [0, 1)."
)
add_preset(
    Preset(
        "bastani-wang",
        "Seed 003, Bastani & Wang: 64 13x13 sigmoid filters, mean pooling into 2x2 blocks, softmax; "
        "SGD with momentum, batches of 256, 5 epochs (their 10 hours)",
        TrainConfig(model="bastani-wang", epochs=5, **_BASTANI),
        reported="2.69% test error (default network, 10 hours of training)",
        seed="003",
        reported_error=0.0269,
        notes=_BASTANI_NOTES,
    )
)
add_preset(
    Preset(
        "bastani-wang-h10",
        "Seed 003, Bastani & Wang's best: the default net plus a 10-neuron sigmoid hidden layer",
        TrainConfig(model="bastani-wang-h10", epochs=5, **_BASTANI),
        reported="1.73% test error (10-neuron hidden layer, 10 hours of training)",
        seed="003",
        reported_error=0.0173,
        notes=_BASTANI_NOTES,
    )
)

# --- seed 004: the tflearn blog -----------------------------------------------------------------
# conv_2d(32, 2, relu), max_pool_2d(2), conv_2d(64, 2, relu), max_pool_2d(2), fully_connected(1024,
# relu), dropout(0.8) (tflearn's argument is the keep probability), softmax 10; Adam lr 0.01,
# categorical cross-entropy, n_epoch=10. DNN.fit's default batch size is 64; tflearn's MNIST loader
# gives 55,000 training digits (5,000 are its validation split): val_fraction 1/12 leaves 55,000.
add_preset(
    Preset(
        "tflearn",
        "Seed 004, tflearn net: conv2-32, max-pool, conv2-64, max-pool, dense 1024, dropout 0.2; "
        "Adam lr 0.01, batches of 64, 10 epochs",
        TrainConfig(
            dataset="mnist",
            model="tflearn",
            epochs=10,
            batch_size=64,
            optimizer="adam",
            lr=0.01,
            val_fraction=1 / 12,
            **_PLAIN,
        ),
        reported="no accuracy given; about 40 minutes of training on a 2.6 GHz Core i7",
        seed="004",
        reported_error=None,
        notes="Batch 64 is tflearn's DNN.fit default (the blog does not set it). tflearn initialises "
        "convolutions with uniform scaling and dense layers with a truncated normal; PyTorch's "
        "defaults are used here. The blog validated on the test set; digitpad holds out 5,000 "
        "training digits instead, as tflearn's loader does.",
    )
)
