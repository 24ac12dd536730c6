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
# usps_cnn.lua: learningRate = 0.01, maxIterations = 100000, each step on math.random(dataset:size())
# (drawn with replacement), network:updateParameters = plain SGD, ClassNLL(LogSoftMax) = cross-
# entropy. usps_dataset.lua: its own usps_N.png sheets, 1,000 train / 100 test per digit, pixel
# values as image.loadPNG gives them (0..1). 10 epochs of 10,000 draws = 100,000 steps. No
# validation set in the tutorial: it tests the last weights, and so does this preset (no val).
_TORCH5 = dict(
    model="torch5-usps",
    batch_size=1,
    optimizer="sgd",
    lr=0.01,
    momentum=0.0,
    val_fraction=0.0,
    sample_with_replacement=True,
    input_scaling="unit",
    **_PLAIN,
)
add_preset(
    Preset(
        "torch5-usps",
        "Seeds 000/001, torch5 USPS tutorial on its own data: conv5-6, SpatialSubSampling 2x2, tanh, "
        "linear 216->10; plain SGD lr 0.01 on one random example per step, 100,000 steps",
        TrainConfig(dataset="usps-seed", epochs=10, **_TORCH5),
        reported="3-4% test error (its own USPS packaging, 1,000 train / 100 test per digit)",
        seed="000, 001",
        reported_error=0.035,
        notes="Follows usps_cnn.lua and usps_dataset.lua literally: the tutorial's usps_N.png sheets "
        "cut as it cuts them, grey values in [0, 1] as image.loadPNG gives them, torch7's default "
        "initialisation (uniform in +-1/sqrt(fan-in)), SpatialSubSampling as a 2x2 sum with a "
        "trainable weight and bias per map, examples drawn at random with replacement.",
    )
)
add_preset(
    Preset(
        "torch5-usps-standard",
        "The torch5 tutorial's network and recipe on the standard USPS split (7,291 / 2,007), the "
        "harder comparison: 14 epochs = 102,074 steps",
        TrainConfig(dataset="usps", epochs=14, **_TORCH5),
        reported="3-4% test error, on the tutorial's own split (this split is harder)",
        seed="000, 001",
        reported_error=0.035,
        notes="The same recipe as torch5-usps on the ESL USPS split: 7,291 training digits, so 14 "
        "epochs of draws (102,074 steps) stand for the tutorial's 100,000. Its test set of 2,007 "
        "digits is known to be hard (human error about 2.5%).",
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
    input_scaling="unit",  # the tutorial's load_dataset: grey / 256, no standardisation
    **_PLAIN,
)
_LASAGNE_NOTES = (
    "Batch size, learning rate, momentum, the 50,000/10,000 split and inputs scaled to [0, 1) are "
    "the Lasagne tutorial's (the blog says its code is 'primarily from their tutorial' and gives no "
    "values). Lasagne's defaults where the code is silent: Glorot-uniform weights, zero biases, "
    "dropout that rescales by 1/(1-p) while training, a batch iterator that shuffles every epoch and "
    "drops the last partial batch. digitpad keeps the epoch with the best validation accuracy; the "
    "tutorial tested the last one. Measured (docs/seeds.md): 5 epochs give 97.14% at batches of 500 "
    "and 98.77% with --batch-size 100, the blog's figure; the blog chose its own batch size."
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
_BASTANI = {
    **_PLAIN,
    "dataset": "mnist",
    "batch_size": 256,
    "sample_with_replacement": True,  # numpy.random.choice(range(len(x)), 256)
    "optimizer": "momentum",
    "lr": 0.1,  # 5 / (50 + iteration) at iteration 0 ...
    "schedule": "inverse-time",  # ... and after: 0.1 * 50 / (50 + t)
    "inverse_time_steps": 50.0,
    "momentum": 0.95,  # momentum = 0.5; if iteration > 20: momentum = 0.95
    "momentum_warmup": 0.5,
    "momentum_warmup_steps": 21,
    "input_scaling": "unit",  # mnist.py: grey / 256.
    "val_fraction": 0.0,  # the paper trains on all 60,000 and tests on the 10,000
    "max_minutes": 600.0,
}
_BASTANI_NOTES = (
    "The paper gives no batch size or learning rate; the authors' code (github.com/uakfdotb/cnn, "
    "network.py sgd_iteration, mnist.py) gives them and the preset follows it: 256 examples drawn "
    "with replacement per iteration, learning rate 5/(50+t), momentum 0.5 up to iteration 20 and "
    "0.95 after, inputs grey/256 in [0, 1). 'Trained 10 hours' at the paper's 30.5 s per iteration "
    "is about 1,180 iterations, 5 epochs, which is what the preset trains (with a 10-hour cap, "
    "max_minutes=600). Weights start uniform in [-1, 1) as in the paper. Not followed: that code "
    "sums (does not average) the convolution's gradient over the 256 examples and never updates the "
    "convolution's biases, and it starts the filters in [-3, 3)."
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
            input_scaling="unit",  # tflearn.datasets.mnist: grey / 255
            loss="clipped-cross-entropy",  # regression(loss='categorical_crossentropy')
            **_PLAIN,
        ),
        reported="no accuracy given; about 40 minutes of training on a 2.6 GHz Core i7",
        seed="004",
        reported_error=None,
        notes="Batch 64 is tflearn's DNN.fit default (the blog does not set it). tflearn's layer "
        "defaults: convolutions 'uniform_scaling', dense layers truncated normal (stddev 0.02), zero "
        "biases, 'same' padding; its loss clips the softmax to [1e-10, 1 - 1e-10] before the log; "
        "its Adam has epsilon 1e-8 like PyTorch's (TensorFlow adds it to sqrt(v) after the bias "
        "correction of the step size, PyTorch after correcting v: a negligible difference). Inputs "
        "are grey/255 as tflearn's MNIST loader gives them. The blog validated on the test set; "
        "digitpad holds out 5,000 training digits instead, as tflearn's loader does.",
    )
)
