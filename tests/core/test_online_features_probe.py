"""The online-features probe (benchmarks/online_features.py) encodes the pen's direction as it says:
the README's letters figures for "picture + pen direction" rest on these channels."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.online_features import direction_channels  # noqa: E402

INK, RIGHT, LEFT, DOWN, UP = range(5)


def line(start, end, points=20):
    return np.linspace(start, end, points)


def test_a_stroke_to_the_right_inks_the_right_channel_only():
    channels = direction_channels([line((10, 50), (90, 50))])
    assert channels.shape == (5, 28, 28) and channels.dtype == np.float32
    assert channels[INK].sum() > 0 and channels[RIGHT].sum() > 0.9 * channels[INK].sum()
    assert channels[LEFT].sum() == channels[UP].sum() == channels[DOWN].sum() == 0


def test_the_same_line_drawn_the_other_way_swaps_the_channels():
    forward = direction_channels([line((50, 10), (50, 90))])  # y grows downward: a stroke down
    backward = direction_channels([line((50, 90), (50, 10))])
    np.testing.assert_array_equal(forward[INK], backward[INK])  # the picture cannot tell them apart
    np.testing.assert_array_equal(forward[DOWN], backward[UP])
    assert forward[UP].sum() == backward[DOWN].sum() == 0


def test_a_diagonal_shares_its_direction_and_a_dot_or_nothing_has_no_direction():
    diagonal = direction_channels([line((10, 10), (90, 90))])
    assert abs(diagonal[RIGHT].sum() - diagonal[DOWN].sum()) < 1e-3 * diagonal[RIGHT].sum()
    assert diagonal[RIGHT].max() < 0.75  # cos 45 deg of the unit direction, not all of it
    assert direction_channels([np.array([[5.0, 5.0]])]) is None  # no extent: nothing to scale
