"""Outlier exposure: the "not a digit" drawings of the pen datasets and the trainer's uniform-target loss."""

from __future__ import annotations

import math

import numpy as np
import torch

from digitpad.core import outliers, pen
from digitpad.core.alphabets import DIGITS_AND_LETTERS
from digitpad.core.config import TrainConfig
from digitpad.core.datasets import DigitData
from digitpad.core.events import Evaluated, RunFinished
from digitpad.core.metrics import confidence_threshold
from digitpad.core.trainer import Trainer
from tests.core.test_pen import many_writers, template_digit

SMALL = {"letters": 4, "side by side": 5, "over each other": 6}


def letter(char: str, width: float, site: str = "kai") -> pen.PenDigit:
    """A stand-in letter: a zigzag ``width`` wide and 1 high (only its box and label matter here)."""
    stroke = np.array([[0.0, 0.0], [width / 2, 1.0], [width, 0.0]]) * 400
    return pen.PenDigit(DIGITS_AND_LETTERS.index(char), f"{site}/0", "unipen", site, (stroke,))


def test_outliers_are_labelled_minus_one_counted_and_seeded():
    digits = [template_digit(d, f"w/{w}") for w in range(4) for d in range(10)]
    letters = [letter(c, 0.8) for c in "xXkKmMoO0"]
    records = outliers.outlier_records(digits, letters, seed=3, counts=SMALL)
    assert len(records) == sum(SMALL.values())
    assert {r.label for r in records} == {outliers.OUTLIER}
    again = outliers.outlier_records(digits, letters, seed=3, counts=SMALL)
    assert all(all(np.array_equal(a, b) for a, b in zip(r.strokes, s.strokes)) for r, s in zip(records, again))
    other = outliers.outlier_records(digits, letters, seed=4, counts=SMALL)
    assert any(not np.array_equal(r.strokes[0], s.strokes[0]) for r, s in zip(records, other))
    images, labels = outliers.render_outliers(digits, letters, seed=3, counts=SMALL)
    assert images.shape == (len(records), 28, 28) and (labels == -1).all()


def test_only_letters_no_one_writes_as_a_digit_are_outliers():
    letters = [letter(c, 0.8) for c in "OolISsZzBgqbGAh"] + [letter("x", 0.8), letter("K", 0.8), letter("k", 0.1)]
    kept = outliers.not_digit_letters(letters)
    # Look-alikes of digits never; a thin one-stroke k (it looks like a 1) neither.
    assert [DIGITS_AND_LETTERS[k.label] for k in kept] == ["x", "K"]


def test_two_digits_side_by_side_are_twice_as_wide_and_over_each_other_stay_one_wide():
    one, four = template_digit(1), template_digit(4)
    pair = outliers.side_by_side(four, four, gap=0.5)
    points = np.concatenate(pair.strokes)
    single = np.concatenate(outliers._unit_height(four))
    assert np.ptp(points[:, 1]) == np.ptp(single[:, 1]) == 1.0
    assert np.isclose(np.ptp(points[:, 0]), 2 * np.ptp(single[:, 0]) + 0.5)
    stacked = outliers.over_each_other(four, one, np.array([0.2, 0.0]))
    assert len(stacked.strokes) == len(four.strokes) + len(one.strokes)
    assert np.ptp(np.concatenate(stacked.strokes)[:, 0]) < np.ptp(points[:, 0])


def test_digits_drawn_over_each_other_are_two_different_digits_and_never_a_one():
    digits = [template_digit(d, f"w/{w}") for w in range(8) for d in (1, 1, 1, 3, 3, 8)]
    records = outliers.outlier_records(digits, (), seed=0, counts={"letters": 0, "side by side": 0, "over each other": 40})
    assert len(records) == len(digits) // 4  # capped: a quarter as many as there are digits
    seen = {len(record.strokes) for record in records}
    three, eight = len(template_digit(3).strokes), len(template_digit(8).strokes)
    assert seen == {three + eight}  # 3 with 8 only: never 1, never a digit over itself


def test_pen_datasets_bring_outliers_from_training_writers_and_sites_only():
    digits = many_writers()
    parts = pen.split_by_writer(digits)
    train_sites = {d.site for d in parts["train"] if d.source == "unipen"}
    held_sites = {d.site for d in parts["val"] + parts["test"] if d.source == "unipen"}
    letters = [letter("x", 0.8, site) for site in sorted(train_sites | held_sites)]
    data = pen.build_pen_data("pen", digits, letters=letters)
    drawn_digits = pen.PEN_COPIES * len(parts["train"])
    expected = outliers.outlier_records(parts["train"], [x for x in letters if x.site in train_sites])
    assert len(data.train_labels) == drawn_digits + len(expected)
    assert (data.train_labels[drawn_digits:] == -1).all() and (data.train_labels[:drawn_digits] >= 0).all()
    assert {r.writer for r in expected} <= {d.writer for d in parts["train"]} | {f"{s}/0" for s in train_sites}
    assert (data.val_labels >= 0).all() and (data.test_labels >= 0).all()  # validation and test: digits only
    without = pen.build_pen_data("pen", digits, outliers=False)
    assert len(without.train_labels) == drawn_digits


def outlier_data(tiny_digits) -> DigitData:
    """The tiny digits plus very wide all-ink bars labelled -1: not digits, and wider than any digit."""
    n = 200
    bars = np.zeros((n, 28, 28), np.uint8)
    bars[:, 12:16, 1:27] = 255
    return DigitData("pen", np.concatenate([tiny_digits.train_images, bars]),
                     np.concatenate([tiny_digits.train_labels, np.full(n, -1)]).astype(np.int64),
                     tiny_digits.test_images, tiny_digits.test_labels,
                     val_images=tiny_digits.test_images[:40], val_labels=tiny_digits.test_labels[:40])


def test_the_uniform_target_loss_is_log_classes_for_even_logits_and_zero_weight_ignores_outliers(tiny_digits, tiny_config):
    trainer = Trainer(tiny_config, outlier_data(tiny_digits))
    trainer._prepare_data()
    assert trainer.has_outliers
    labels = torch.tensor([-1, -1, 3])
    logits = torch.zeros(3, 10)
    logits[2, 3] = 5.0
    digit_only = torch.nn.functional.cross_entropy(logits[2:], labels[2:], label_smoothing=tiny_config.label_smoothing)
    loss = trainer._loss(None, logits, labels)
    assert math.isclose(float(loss), float(digit_only) + tiny_config.outlier_weight * math.log(10), rel_tol=1e-5)
    only_outliers = trainer._loss(None, logits[:2], labels[:2])  # a batch of one kind is fine (no NaN)
    assert math.isclose(float(only_outliers), tiny_config.outlier_weight * math.log(10), rel_tol=1e-5)
    trainer.config = TrainConfig(**{**tiny_config.to_dict(), "outlier_weight": 0.0})
    assert math.isclose(float(trainer._loss(None, logits, labels)), float(digit_only), rel_tol=1e-6)


def test_training_with_outliers_lowers_their_top_probability_and_keeps_them_out_of_the_metrics(tiny_digits, tiny_config):
    data = outlier_data(tiny_digits)
    events = list(Trainer(tiny_config, data).run())
    finished = next(e for e in events if isinstance(e, RunFinished))
    val = next(e for e in events if isinstance(e, Evaluated) and e.split == "val")
    assert val.confusion.sum() == 40  # outliers are in no metric
    checkpoint = finished.checkpoint
    # The bars are far wider than any digit: they must not widen the "one digit" aspect limit.
    assert checkpoint.meta["max_aspect"] < 3
    model = checkpoint.build_model().eval()
    mean, std = checkpoint.meta["normalization"]
    bars = torch.as_tensor(data.train_images[-20:]).float().div(255).unsqueeze(1)
    with torch.no_grad():
        top = torch.softmax(model((bars - mean) / std), 1).max(1).values
    assert float(top.mean()) < 0.5  # taught the uniform target: far from a confident reading
    # The unsure threshold keeps 99.5% of the correctly read validation digits above it (0.99 without outliers).
    assert checkpoint.meta["unsure_keep"] == 0.995
    val_images = torch.as_tensor(data.val_images).float().div(255).unsqueeze(1)
    with torch.no_grad():
        probs = torch.softmax(model((val_images - mean) / std) / checkpoint.meta["temperature"], 1)
    correct = (probs.argmax(1).numpy() == data.val_labels)
    expected = confidence_threshold(probs.max(1).values.numpy(), correct, 0.995)
    assert math.isclose(checkpoint.meta["threshold"], expected, rel_tol=1e-4)
    plain = next(e for e in Trainer(tiny_config, tiny_digits).run() if isinstance(e, RunFinished))
    assert plain.checkpoint.meta["unsure_keep"] == 0.99

