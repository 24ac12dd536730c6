"""Why did it read that: the reading timeline of a replay, and the nearest training digits."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.core.checkpoints import load_checkpoint
from digitpad.core.inference import Predictor, default_model_path
from digitpad.core.nearest import NearestIndex, cached_index, model_fingerprint
from digitpad.core.replay import PEN_UP_S, image_timeline, stroke_steps, strokes_timeline


def seven(t0: float = 0.0) -> list[np.ndarray]:
    """A 7 drawn as two strokes of (x, y, t, pressure): the bar, then the stem."""
    bar = np.array([[40 + 8 * i, 40, 0.02 * i, 1.0] for i in range(21)], float)
    stem = np.array([[200 - 5 * i, 40 + 10 * i, 0.03 * i, 1.0] for i in range(25)], float)
    return [bar, stem]


@pytest.fixture(scope="module")
def predictor():
    return Predictor(load_checkpoint(default_model_path()))


def test_steps_follow_the_ink_and_the_drawn_clock():
    partials, ink, times = stroke_steps(seven(), steps=20)
    assert len(partials) == len(ink) == len(times) >= 20
    assert np.all(np.diff(ink) > 0) and ink[-1] == pytest.approx(1.0)
    assert np.all(np.diff(times) >= 0)
    bar_duration = 0.02 * 20
    assert times[-1] == pytest.approx(bar_duration + PEN_UP_S + 0.03 * 24)  # the stem's last point
    assert [len(p) for p in partials[:3]] == [1, 1, 1] and len(partials[-1]) == 2
    np.testing.assert_array_equal(partials[-1][1], seven()[1])  # the last step is the whole drawing
    # The bar is finished exactly at a step (every stroke's end is one).
    assert any(len(p) == 1 and len(p[0]) == 21 for p in partials)


def test_timeline_has_one_reading_per_step_and_ends_at_the_live_reading(predictor):
    timeline = strokes_timeline(predictor, seven(), steps=30)
    assert len(timeline) == len(timeline.readings) == timeline.probabilities.shape[0]
    live = predictor.predict_strokes(seven())
    assert live.digit == 7 and timeline.readings[-1] == 7
    np.testing.assert_array_equal(timeline.probabilities[-1], live.probabilities)
    assert timeline.readings[0] != 7  # a lone bar is not yet a 7
    assert timeline.changes() and timeline.changes()[-1] <= len(timeline) - 1
    assert timeline.kind == "strokes"


def test_an_image_is_revealed_in_reading_order(predictor):
    image = predictor.predict_strokes(seven()).prepared.image
    timeline = image_timeline(predictor, image, steps=12)
    assert len(timeline) == 12 and timeline.kind == "image"
    assert np.all(np.diff(timeline.ink) >= 0) and timeline.ink[-1] == pytest.approx(1.0)
    np.testing.assert_array_equal(timeline.partials[-1], image)
    first_rows = np.flatnonzero(timeline.partials[0].any(axis=1))
    assert first_rows.max() <= np.flatnonzero(image.any(axis=1)).min() + 3  # the top rows come first
    assert timeline.readings[-1] == 7


def test_an_empty_drawing_has_an_empty_timeline(predictor):
    assert len(strokes_timeline(predictor, [])) == 0


def test_nearest_training_digit_of_a_training_image_is_itself(tiny_digits, tmp_path):
    checkpoint = load_checkpoint(default_model_path())
    images, labels = tiny_digits.train_images[:200], tiny_digits.train_labels[:200]
    index = NearestIndex.build(checkpoint, images, labels, "tiny")
    assert index.features.shape[0] == 200 and np.allclose(np.linalg.norm(index.features, axis=1), 1, atol=1e-5)
    model = checkpoint.build_model()
    mean, std = checkpoint.normalization
    neighbours = index.query(model, images[17] / 255.0, mean, std, k=8)
    assert len(neighbours) == 8 and neighbours[0].index == 17 and neighbours[0].label == labels[17]
    assert neighbours[0].similarity == pytest.approx(1.0, abs=1e-4)
    assert [n.similarity for n in neighbours] == sorted((n.similarity for n in neighbours), reverse=True)


def test_the_index_is_cached_per_model_and_rebuilt_for_other_weights(tiny_digits, tmp_path):
    checkpoint = load_checkpoint(default_model_path())
    images, labels = tiny_digits.train_images[:50], tiny_digits.train_labels[:50]
    calls = []
    first = cached_index(checkpoint, images, labels, "tiny", tmp_path, progress=lambda done, total: calls.append(done))
    assert calls and len(list(tmp_path.glob("tiny-*.npz"))) == 1
    calls.clear()
    again = cached_index(checkpoint, images, labels, "tiny", tmp_path, progress=lambda done, total: calls.append(done))
    assert calls == [] and np.allclose(again.features, first.features, atol=2e-3)  # stored as float16
    changed = load_checkpoint(default_model_path())
    changed.state = {k: (v * 1.01 if v.dtype.kind == "f" else v) for k, v in changed.state.items()}
    assert model_fingerprint(changed) != model_fingerprint(checkpoint)
    cached_index(changed, images, labels, "tiny", tmp_path)
    assert len(list(tmp_path.glob("tiny-*.npz"))) == 2
    (tmp_path / "broken.npz").write_bytes(b"not an npz")
    assert NearestIndex.load(tmp_path / "broken.npz") is None
