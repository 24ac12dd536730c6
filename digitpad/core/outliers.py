"""Drawings that are not one digit, to teach the digit network to say so (outlier exposure).

A network trained on digits alone is sure of *something* for any drawing: a letter, two digits
written side by side, one digit written over another. Trained with a few thousand such drawings
whose target is the uniform distribution (Hendrycks, Mazeika & Dietterich, "Deep Anomaly Detection
with Outlier Exposure", ICLR 2019), its top probability on them drops, so the unsure threshold can
sit lower for real digits while non-digits are still flagged.

Every outlier is built from the *training* writers of the pen collections (never a validation or
test writer) and drawn on the pad exactly as the pen digits are (``pen.render_digits``). Three kinds:

* letters no one writes as a digit (``NOT_DIGIT_LETTERS``: O, I, l, S, Z, B, G, g, q, b ... are left out);
* two training digits side by side, as someone writing "42" on the pad would;
* two training digits drawn over each other: a scrawl made of real pen strokes.

They carry the label ``OUTLIER`` (-1); the trainer gives them the uniform-target loss and leaves
them out of accuracy, calibration and the aspect-ratio limit.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .alphabets import DIGITS_AND_LETTERS
from .pen import PenDigit, RASTER_FRACTION, render_digits

OUTLIER = -1
# Letters that are not a way of writing any digit; look-alikes (LOOKALIKES in alphabets.py and a few
# more: D, G, J, T, Y, b, d, g, i, j, l, o, p, q, s, t, y, z ...) are left out so the net is never
# taught that a real digit is not one.
NOT_DIGIT_LETTERS = frozenset("EFHKLMNPRUVWXefkmnruvwx")  # A (an open 4), C/c (a broken 0), h (a 4) left out too
OUTLIER_COUNTS = {"letters": 6000, "side by side": 2500, "over each other": 2500}


def _box(strokes: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    points = np.concatenate(strokes)
    return points.min(axis=0), points.max(axis=0)


def _unit_height(digit: PenDigit) -> list[np.ndarray]:
    """The digit's strokes moved to (0, 0) and scaled to height 1, aspect kept (a flat one, wider than
    four heights, to a quarter of its width: a dash must not become a mile long)."""
    low, high = _box(digit.strokes)
    scale = 1.0 / max(float(high[1] - low[1]), float(high[0] - low[0]) * 0.25, 1e-9)
    return [(np.asarray(s, np.float64) - low) * scale for s in digit.strokes]


def side_by_side(first: PenDigit, second: PenDigit, gap: float) -> PenDigit:
    """``second`` written after ``first``, ``gap`` (in digit heights) to its right, both one height."""
    left = _unit_height(first)
    right = _unit_height(second)
    shift = np.array([_box(left)[1][0] + gap, 0.0])
    return PenDigit(OUTLIER, first.writer, first.source, first.site, tuple(left + [s + shift for s in right]))


def over_each_other(first: PenDigit, second: PenDigit, offset: np.ndarray) -> PenDigit:
    """``second`` drawn over ``first`` (both one height), moved by ``offset`` digit heights."""
    return PenDigit(OUTLIER, first.writer, first.source, first.site,
                    tuple(_unit_height(first) + [s + offset for s in _unit_height(second)]))


def not_digit_letters(letters: Sequence[PenDigit]) -> list[PenDigit]:
    """The letters (labels in DIGITS_AND_LETTERS) that are no way of writing a digit; a letter drawn
    as one thin stroke (narrower than a third of its height) is left out too: it looks like a 1."""
    def wide_enough(letter: PenDigit) -> bool:
        low, high = _box(letter.strokes)
        return high[0] - low[0] >= (high[1] - low[1]) / 3

    return [letter for letter in letters if DIGITS_AND_LETTERS[letter.label] in NOT_DIGIT_LETTERS and wide_enough(letter)]


def outlier_records(digits: Sequence[PenDigit], letters: Sequence[PenDigit] = (), seed: int = 0,
                    counts: dict[str, int] = OUTLIER_COUNTS) -> list[PenDigit]:
    """The outliers' strokes, labelled OUTLIER: from training ``digits`` and ``letters`` only (at most a
    quarter as many pairs of each kind as there are digits)."""
    rng = np.random.default_rng([seed, 7919])
    records: list[PenDigit] = []
    usable = not_digit_letters(letters)
    if usable:
        picked = rng.choice(len(usable), min(counts["letters"], len(usable)), replace=False)
        records += [PenDigit(OUTLIER, usable[i].writer, usable[i].source, usable[i].site, usable[i].strokes) for i in picked]
    # A few pen digits make a few pairs, not thousands.
    pairs, overlays = (min(counts[kind], len(digits) // 4) for kind in ("side by side", "over each other"))
    if len(digits) >= 2:
        for _ in range(pairs):
            a, b = rng.choice(len(digits), 2, replace=False)
            records.append(side_by_side(digits[a], digits[b], rng.uniform(0.05, 0.6)))
        # Over each other: two different digits, neither a 1 (a 1 over a 7 is still a 7).
        overlaid = [i for i, d in enumerate(digits) if d.label != 1]
        made, enough_kinds = 0, len({digits[i].label for i in overlaid}) >= 2
        while enough_kinds and made < overlays:
            a, b = rng.choice(overlaid, 2, replace=False)
            if digits[a].label != digits[b].label:
                # Moved sideways by 15-40% of a height: two digits right on top of each other can make a third (3 over 8).
                offset = np.array([rng.choice([-1, 1]) * rng.uniform(0.15, 0.4), rng.uniform(-0.2, 0.2)])
                records.append(over_each_other(digits[a], digits[b], offset))
                made += 1
    return records


def render_outliers(digits: Sequence[PenDigit], letters: Sequence[PenDigit] = (), seed: int = 0,
                    counts: dict[str, int] = OUTLIER_COUNTS) -> tuple[np.ndarray, np.ndarray]:
    """The outliers drawn on the pad as the pen digits are: (images, labels all OUTLIER)."""
    return render_digits(outlier_records(digits, letters, seed, counts), seed, 1, RASTER_FRACTION)
