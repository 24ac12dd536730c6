"""Stroke templates of the ten digits, drawn the way people commonly write them, for demos,
benchmarks (replayed into the pad) and tests. Coordinates are in a unit box, y pointing down.

``sample_strokes(digit, rng)`` adds a writer's variation: slant, aspect, wobble, position.
"""

from __future__ import annotations

import math

import numpy as np


def _arc(cx, cy, rx, ry, start_deg, end_deg, n=24):
    """Points on an ellipse from start to end angle (degrees, 0 = right, 90 = down)."""
    angles = np.radians(np.linspace(start_deg, end_deg, n))
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)


def _line(x0, y0, x1, y1, n=12):
    return np.stack([np.linspace(x0, x1, n), np.linspace(y0, y1, n)], axis=1)


def _join(*parts):
    return np.concatenate(parts)


TEMPLATES: dict[int, list[np.ndarray]] = {
    0: [_arc(0.5, 0.5, 0.3, 0.45, -90, 275, 40)],
    1: [_join(_line(0.35, 0.2, 0.55, 0.05, 5), _line(0.55, 0.05, 0.55, 0.95, 14))],
    2: [_join(_arc(0.5, 0.3, 0.3, 0.25, 200, 385, 20), _line(0.76, 0.4, 0.2, 0.95, 12), _line(0.2, 0.95, 0.85, 0.95, 8))],
    3: [_join(_arc(0.48, 0.27, 0.28, 0.22, 210, 450, 22), _arc(0.48, 0.72, 0.32, 0.24, 270, 500, 22))],
    4: [_join(_line(0.6, 0.05, 0.15, 0.65, 10), _line(0.15, 0.65, 0.85, 0.65, 10)), _line(0.62, 0.3, 0.62, 0.97, 10)],
    5: [_join(_line(0.8, 0.05, 0.3, 0.05, 6), _line(0.3, 0.05, 0.25, 0.45, 6), _arc(0.5, 0.67, 0.3, 0.28, 225, 480, 24))],
    6: [_join(_arc(0.75, 0.55, 0.55, 0.5, 250, 180, 14), _arc(0.5, 0.72, 0.3, 0.24, 180, 540, 28))],
    7: [_join(_line(0.15, 0.05, 0.85, 0.05, 8), _line(0.85, 0.05, 0.4, 0.97, 14))],
    8: [
        _join(
            _arc(0.5, 0.27, 0.24, 0.22, 90, -180, 22),
            _arc(0.5, 0.73, 0.3, 0.24, 270, 630, 30),
            _arc(0.5, 0.27, 0.24, 0.22, 180, 90, 10),
        )
    ],
    9: [_join(_arc(0.5, 0.3, 0.3, 0.25, 0, 360, 30), _line(0.8, 0.3, 0.7, 0.97, 12))],
}


def sample_strokes(digit: int, rng: np.random.Generator | None = None, size: float = 300.0, origin=(50.0, 50.0)):
    """The template of ``digit`` as canvas strokes ((n, 2) pixel arrays) with random writer variation."""
    rng = rng or np.random.default_rng(0)
    slant = rng.uniform(-0.25, 0.25)
    aspect = rng.uniform(0.7, 1.15)
    angle = math.radians(rng.uniform(-8, 8))
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    strokes = []
    for template in TEMPLATES[digit]:
        points = template.copy()
        points[:, 0] = 0.5 + (points[:, 0] - 0.5) * aspect + slant * (0.5 - points[:, 1])
        points = (points - 0.5) @ rotation.T + 0.5
        points += rng.normal(0, 0.008, points.shape).cumsum(axis=0) * 0.5  # hand wobble, correlated
        strokes.append(np.asarray(origin) + points * size)
    return strokes
