"""Why did it read that: the reading timeline, the nearest training digits, two models side by side."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from digitpad.core.checkpoints import Checkpoint, load_checkpoint
from digitpad.core.inference import default_model_path
from tests.ui.conftest import draw, vertical_line

TIMEOUT_MS = 20_000


def show(qtbot, window, key):
    window.docks[key].show()
    window.docks[key].raise_()
    widget = window.dock_widgets[key]
    qtbot.waitUntil(widget.isVisible, timeout=TIMEOUT_MS)
    return widget


def seven(canvas):
    w, h = canvas.width(), canvas.height()
    bar = [(w * x, h * 0.25) for x in np.linspace(0.3, 0.7, 15)]
    stem = [(w * (0.7 - 0.25 * t), h * (0.25 + 0.55 * t)) for t in np.linspace(0, 1, 20)]
    return bar, stem


def test_timeline_has_a_point_per_step_and_ends_at_the_live_reading(qtbot, window):
    timeline_view = show(qtbot, window, "reading_timeline")
    assert timeline_view.objectName() == "reading_timeline"
    bar, stem = seven(window.canvas)
    with qtbot.waitSignal(timeline_view.timelineReady, timeout=TIMEOUT_MS) as ready:
        draw(window.canvas, bar)
        draw(window.canvas, stem)
    timeline = ready.args[0]
    qtbot.waitUntil(lambda: timeline_view.timeline is not None and len(timeline_view.timeline.partials[-1]) == 2,
                    timeout=TIMEOUT_MS)
    timeline = timeline_view.timeline
    live = window.live_model.last_prediction if hasattr(window, "live_model") else window.last_prediction
    assert live.digit == 7 and timeline.readings[-1] == 7
    x, y = timeline_view.curves[7].getData()
    assert len(x) == len(timeline) == len(timeline.readings) and np.isclose(x[-1], 100)
    np.testing.assert_allclose(timeline.probabilities[-1], live.probabilities, atol=1e-6)
    assert y[-1] == pytest.approx(live.probabilities[7], abs=1e-6)

    timeline_view.marker.setValue(5)  # scrub near the start: the partial drawing and its reading
    step = timeline_view.shown_step
    assert step < len(timeline) - 1 and timeline.ink[step] >= 0.05
    assert timeline_view.moment.text().startswith(f"{timeline.ink[step] * 100:.0f}% of the ink")
    timeline_view.speed.setCurrentIndex(2)  # 4x
    timeline_view.replay()
    qtbot.waitUntil(lambda: not timeline_view._player.isActive(), timeout=TIMEOUT_MS)
    assert timeline_view.shown_step == len(timeline) - 1


def test_nearest_examples_of_a_training_digit_start_with_itself(qtbot, window, tiny_digits, monkeypatch, tmp_path):
    from digitpad.core.datasets import DigitData
    from digitpad.ui.widgets import nearest_examples

    # Training images in MNIST's own format (centred by mass in a 20-pixel box), as the pad prepares
    # drawings: the font digits of the fixture are not, and the pad would re-centre them.
    predictor = window.predictor
    prepared = np.stack([predictor.predict_image(img / 255.0).prepared.image for img in tiny_digits.train_images[:150]])
    train = (prepared * 255).round().astype(np.uint8)
    data = DigitData("mnist", train, tiny_digits.train_labels[:150], train[:10], tiny_digits.train_labels[:10])
    monkeypatch.setattr(nearest_examples, "load_dataset", lambda name, root, download=False: data)
    monkeypatch.setattr(nearest_examples, "index_cache_dir", lambda: tmp_path)
    view = show(qtbot, window, "nearest_examples")
    qtbot.waitUntil(lambda: view.index is not None, timeout=TIMEOUT_MS)
    image = train[42] / 255.0
    with qtbot.waitSignal(view.examplesShown, timeout=TIMEOUT_MS) as shown:
        window.bus.exampleRequested.emit(image, int(data.train_labels[42]))
    neighbours = shown.args[0]
    assert len(neighbours) == 8 and all(b.isEnabled() and b.text() for b in view.buttons)
    assert neighbours[0].index == 42 and neighbours[0].label == data.train_labels[42]
    assert neighbours[0].similarity > 0.99
    with qtbot.waitSignal(window.bus.exampleRequested, timeout=TIMEOUT_MS) as clicked:
        view.buttons[3].click()
    np.testing.assert_array_equal(clicked.args[0], train[neighbours[3].index] / 255.0)
    if default_model_path("letters").exists():  # letters have no neighbours among training digits
        window.model.set_alphabet("letters")
        qtbot.waitUntil(lambda: not any(b.isEnabled() for b in view.buttons), timeout=TIMEOUT_MS)
        assert "when the pad reads Digits" in view.info.text() and view.index is None
        window.model.set_alphabet("digits")
        qtbot.waitUntil(lambda: view.index is not None, timeout=TIMEOUT_MS)


def always_three() -> Checkpoint:
    """The shipped model with its last bias pushed so far towards 3 that it reads 3 whatever is drawn."""
    checkpoint = load_checkpoint(default_model_path())
    model = checkpoint.build_model()
    last_bias = [name for name, m in model.named_modules() if isinstance(m, torch.nn.Linear)][-1] + ".bias"
    state = dict(checkpoint.state)
    state[last_bias] = state[last_bias].copy()
    state[last_bias][3] += 1000.0
    return Checkpoint(checkpoint.arch, checkpoint.arch_args, state, dict(checkpoint.meta))


def test_two_models_side_by_side_mark_a_disagreement(qtbot, window):
    view = show(qtbot, window, "compare_chart")
    view.set_second(always_three(), "always-three")
    with qtbot.waitSignal(view.compared, timeout=TIMEOUT_MS) as compared:
        draw(window.canvas, vertical_line(window.canvas))
    first, second = compared.args
    qtbot.waitUntil(lambda: view.second_reading is not None and view.first_reading.digit == 1, timeout=TIMEOUT_MS)
    assert view.first_reading.digit == 1 and view.second_reading.digit == 3
    assert view.disagree and "they disagree" in view.verdict.text()
    assert "always-three: 3" in view.verdict.text() and view.bars.values.argmax() == 3

    view.set_second(load_checkpoint(default_model_path()), "same")
    assert not view.disagree and "disagree" not in view.verdict.text()


def test_the_second_model_can_be_a_shipped_one(qtbot, window):
    from digitpad.core.inference import shipped_models

    view = show(qtbot, window, "compare_chart")
    view.choose_menu.aboutToShow.emit()  # what opening the button's menu does
    actions = [a.objectName() for a in view.choose_menu.actions() if a.objectName()]
    assert actions == [f"compare_shipped_{name}" for name in shipped_models()] + ["compare_open_file"]
    next(a for a in view.choose_menu.actions() if a.objectName() == "compare_shipped_mnist").trigger()
    assert view.second_name == "mnist" and "Second model: mnist" in view.model_label.text()
    with qtbot.waitSignal(view.compared, timeout=TIMEOUT_MS):
        draw(window.canvas, vertical_line(window.canvas))
    qtbot.waitUntil(lambda: view.second_reading is not None, timeout=TIMEOUT_MS)
    assert view.second_reading.label == "1" and not view.disagree
