"""Replay a drawing and read it at every step: when did the 1 become a 7?

A drawing is revealed in the order it was made, point by point along each stroke, and each partial
drawing is read by the same ``Predictor`` as the pad, so the last step's reading is the pad's own.
Steps are spaced evenly along the ink (plus the end of every stroke), so a long slow stroke and a
quick flick get steps in proportion to their ink, not their number of mouse events. Each step
also has the time at which the replay reaches it at the speed the drawing was made: strokes carry
their own clock (column 2, seconds since the stroke began); between strokes, where the pad keeps
no clock, the replay pauses ``PEN_UP_S``.

An image has no order of drawing: its ink is revealed in reading order instead (row by row, top
to bottom), which says less about the writer and is labelled so by the caller. Nothing here
imports Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .inference import Predictor

PEN_UP_S = 0.25  # the pause between strokes when replaying: the pad does not time pen-up moves
DEFAULT_STEPS = 60


@dataclass(frozen=True)
class Timeline:
    """Readings of a drawing as it grows: one row per step, the last one the whole drawing."""

    ink: np.ndarray  # (k,) share of the ink drawn at each step, 0..1, increasing, ends at 1
    times: np.ndarray  # (k,) seconds into the replay at the drawn speed
    probabilities: np.ndarray  # (k, classes); NaN rows where the partial drawing is still empty
    readings: tuple[int | None, ...]  # argmax per step, None where empty
    partials: tuple  # per step: the partial strokes (list of arrays) or the partial image (s, s)
    kind: str  # "strokes" (the order it was drawn) or "image" (reading order)

    def __len__(self) -> int:
        return len(self.ink)

    def changes(self) -> list[int]:
        """Steps at which the reading changed from the step before (the moments worth showing)."""
        return [i for i in range(1, len(self)) if self.readings[i] != self.readings[i - 1]]


def _points(stroke) -> np.ndarray:
    points = np.atleast_2d(np.asarray(stroke, dtype=np.float64))
    return points[np.isfinite(points[:, :2]).all(axis=1)] if points.size else np.empty((0, 2))


def _arc(xy: np.ndarray) -> np.ndarray:
    """Cumulative ink length at each point of one stroke (0 at its first point)."""
    if len(xy) < 2:
        return np.zeros(len(xy))
    return np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(xy[:, :2], axis=0).T))))


def stroke_steps(strokes: Sequence, steps: int = DEFAULT_STEPS) -> tuple[list[list[np.ndarray]], np.ndarray, np.ndarray]:
    """Partial drawings at ``steps`` evenly spaced ink positions and at every stroke's end.

    Returns (partials, ink share, replay time) with one entry per step, the last the whole drawing.
    """
    paths = [p for p in (_points(s) for s in strokes) if len(p)]
    if not paths:
        return [], np.empty(0), np.empty(0)
    arcs = [_arc(p) for p in paths]
    lengths = np.array([a[-1] for a in arcs])
    # A tap (a dot) has no length; give each stroke a small share so it still gets its step.
    weights = np.maximum(lengths, max(lengths.sum(), 1.0) * 1e-3)
    starts = np.concatenate(([0.0], np.cumsum(weights)))
    total = starts[-1]
    marks = np.unique(np.concatenate((np.linspace(0, total, steps + 1)[1:], starts[1:])))
    partials, inks, times = [], [], []
    clock = 0.0
    stroke_clock_starts = []
    for path in paths:
        stroke_clock_starts.append(clock)
        duration = float(path[-1, 2] - path[0, 2]) if path.shape[1] > 2 else 0.0
        clock += max(duration, 0.0) + PEN_UP_S
    for mark in marks:
        index = min(max(int(np.searchsorted(starts, mark, side="left")) - 1, 0), len(paths) - 1)
        path, arc = paths[index], arcs[index]
        within = (mark - starts[index]) / weights[index] * arc[-1] if arc[-1] > 0 else 0.0
        count = max(1, int(np.searchsorted(arc, within + 1e-9, side="right")))
        partials.append(paths[:index] + [path[:count]])
        inks.append(mark / total)
        own_clock = float(path[count - 1, 2] - path[0, 2]) if path.shape[1] > 2 else 0.0
        times.append(stroke_clock_starts[index] + max(own_clock, 0.0))
    return partials, np.array(inks), np.array(times)


def image_steps(image: np.ndarray, steps: int = DEFAULT_STEPS) -> tuple[list[np.ndarray], np.ndarray]:
    """Partial images revealing the ink in reading order (row by row); (partials, ink share)."""
    image = np.asarray(image, np.float32)
    order = np.flatnonzero(image.ravel() > 0)
    if len(order) == 0:
        return [], np.empty(0)
    ink = image.ravel()[order]
    cumulative = np.cumsum(ink) / ink.sum()
    partials, shares = [], []
    for share in np.linspace(0, 1, steps + 1)[1:]:
        count = max(1, int(np.searchsorted(cumulative, share - 1e-9)) + 1)
        partial = np.zeros(image.size, np.float32)
        partial[order[:count]] = ink[:count]
        partials.append(partial.reshape(image.shape))
        shares.append(float(cumulative[count - 1]))
    return partials, np.array(shares)


def read_all(predictor: Predictor, predictions) -> tuple[np.ndarray, tuple]:
    classes = len(predictor.classes)  # the alphabet read, not every output of a joint model
    probabilities = np.full((len(predictions), classes), np.nan, np.float32)
    readings = []
    for i, prediction in enumerate(predictions):
        if prediction.probabilities is not None:
            probabilities[i] = prediction.probabilities
        readings.append(prediction.digit)
    return probabilities, tuple(readings)


def strokes_timeline(predictor: Predictor, strokes: Sequence, steps: int = DEFAULT_STEPS) -> Timeline:
    """Read each partial drawing through the pad's own stroke path."""
    partials, inks, times = stroke_steps(strokes, steps)
    probabilities, readings = read_all(predictor, [predictor.predict_strokes(p) for p in partials])
    return Timeline(inks, times, probabilities, readings, tuple(partials), "strokes")


def image_timeline(predictor: Predictor, image: np.ndarray, steps: int = DEFAULT_STEPS) -> Timeline:
    """Read a prepared image (s, s) in [0, 1] as its ink appears in reading order."""
    partials, inks = image_steps(image, steps)
    predictions = [predictor.predict_prepared(prepared_image(p)) for p in partials]
    probabilities, readings = read_all(predictor, predictions)
    return Timeline(inks, np.arange(len(partials)) * 0.05, probabilities, readings, tuple(partials), "image")


def prepared_image(image: np.ndarray):
    from .preprocess import Prepared

    return Prepared(image, False, False, None)
