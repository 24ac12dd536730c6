"""The seed's claim, measured: does sharing the first layer between a digit and a letter network help?

Seeds 000/001 end: "one can jointly train two networks (one for digits and another for letters) and
share the first layer parameters of the networks." Three ways to learn letters, each seeing every
letter example the same number of times (same share of the training set, same epochs, same recipe):

(a) ``shared``: the joint model, one first layer for both networks, trained on digits and letters;
(b) ``separate``: the same two networks trained on the same batches, each with its own first layer;
(c) ``letters-alone``: the letter network alone, on the letters only.

Both joint variants use the seed's loss alone (each head its own cross-entropy, ``both_weight=0``),
so (a) and (b) differ only in the sharing. Digits and letters are read on the held-out sites' test
drawings; letters exact and case-insensitive.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from ..core.alphabets import DIGITS, LETTERS
from ..core.config import TrainConfig
from ..core.datasets import DigitData
from ..core.events import RunFailed
from ..core.models import parameter_count
from ..core.trainer import Trainer

VARIANTS = ("shared", "separate", "letters-alone")
COLUMNS = [
    "variant", "fraction", "epochs", "train_letters", "train_digits", "parameters", "train_s",
    "digits_test_accuracy", "letters_test_accuracy", "letters_case_insensitive", "seed", "threads",
]  # fmt: skip


def letters_only(data: DigitData) -> DigitData:
    """The letters of a digits+letters set, labelled 0-51 (``LETTERS``)."""
    shift = len(DIGITS)

    def pick(images, labels):
        keep = labels >= shift
        return images[keep], labels[keep] - shift

    train, test, val = pick(data.train_images, data.train_labels), pick(data.test_images, data.test_labels), \
        pick(data.val_images, data.val_labels)
    return DigitData("letters", *train, *test, val_images=val[0], val_labels=val[1], classes=LETTERS)


def _config(variant: str, fraction: float, epochs: int, threads: int, seed: int) -> TrainConfig:
    common = dict(epochs=epochs, train_fraction=fraction, threads=threads, seed=seed, lr=0.05)
    if variant == "letters-alone":
        return TrainConfig(model="digitpad", dataset="letters", **common)
    return TrainConfig(model="digitpad-joint", dataset="digits+letters", **common,
                       model_args={"shared": variant == "shared", "both_weight": 0.0})


def run_variant(variant: str, data: DigitData, fraction: float, epochs: int, threads: int = 1, seed: int = 0,
                log: Callable[[str], None] = print) -> dict:
    """Train one variant and read its test sets; one CSV row."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    config = _config(variant, fraction, epochs, threads, seed)
    run_data = letters_only(data) if variant == "letters-alone" else data
    trainer = Trainer(config, run_data)
    start = time.perf_counter()
    for event in trainer.run():
        if isinstance(event, RunFailed):
            raise RuntimeError(f"{variant}: {event.message}")
    meta = trainer.checkpoint.meta
    metrics = meta.get("alphabet_metrics", {})
    train_labels = run_data.train_labels
    kept = max(1, round(len(train_labels) * fraction))
    letter_share = float(np.mean(train_labels >= (0 if variant == "letters-alone" else len(DIGITS))))
    row = {
        "variant": variant,
        "fraction": fraction,
        "epochs": epochs,
        "train_letters": round(kept * letter_share),
        "train_digits": round(kept * (1 - letter_share)),
        "parameters": parameter_count(trainer.checkpoint.build_model()),
        "train_s": meta["metrics"]["train_seconds"],
        "digits_test_accuracy": metrics.get("test_digits_accuracy"),
        "letters_test_accuracy": metrics.get("test_letters_accuracy"),
        "letters_case_insensitive": metrics.get("test_letters_case_insensitive"),
        "seed": seed,
        "threads": threads,
    }
    log(f"{variant:<14} letters {row['letters_test_accuracy'] * 100:.2f}% exact, "
        f"{row['letters_case_insensitive'] * 100:.2f}% case-insensitive; digits "
        + (f"{row['digits_test_accuracy'] * 100:.2f}%" if row["digits_test_accuracy"] is not None else "-")
        + f"  ({row['train_s']:.0f}s, {time.perf_counter() - start:.0f}s wall)")
    return row


def compare(data: DigitData, fractions=(0.1,), epochs: int = 3, threads: int = 1, seeds=(0,),
            variants=VARIANTS, log: Callable[[str], None] = print) -> list[dict]:
    """Every variant at every training-set share, once per seed: the rows of ``shared-first-layer.csv``.

    A seed changes the subset drawn, the initial weights and the batch order alike, so the spread
    over seeds says whether a difference between variants is more than luck."""
    return [run_variant(v, data, f, epochs, threads, seed, log) for seed in seeds for f in fractions for v in variants]
