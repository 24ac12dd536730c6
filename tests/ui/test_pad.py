"""The drawing pad as a user meets it: draw, read, undo, clear, images, and the unsure reading."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QCheckBox, QComboBox, QLabel, QMessageBox, QScrollBar, QSpinBox, QWidget

from digitpad.core.inference import default_model_path
from tests.fixtures import render_digit
from tests.ui.conftest import closed_loop, draw, scribble, vertical_line

pytestmark = pytest.mark.skipif(not default_model_path().exists(), reason="shipped model missing")


def wait_for_reading(qtbot, window, text):
    qtbot.waitUntil(lambda: window.prediction_label.text() == text, timeout=3000)


def test_opens_ready_to_draw_on_the_shipped_model(window):
    assert window.checkpoint is not None
    assert "default" in window.windowTitle()
    assert window.windowTitle().endswith(f"— {window.checkpoint.test_figure}")  # names the set: mnist+pen's is not MNIST's
    assert window.checkpoint.meta["dataset"] in window.windowTitle()
    assert window.findChild(QWidget, "canvas") is window.canvas
    assert window.findChild(QWidget, "probabilities") is window.chart
    prediction = window.findChild(QLabel, "prediction")
    assert prediction.text() == ""  # empty canvas: no prediction
    assert not window.chart.values.any()  # and no bars
    assert "Draw" in window.confidence_label.text()


def test_vertical_line_reads_as_one(qtbot, window):
    draw(window.canvas, vertical_line(window.canvas))
    wait_for_reading(qtbot, window, "1")
    assert window.last_prediction.confident
    assert window.chart.values.sum() == pytest.approx(1.0, abs=1e-4)
    assert window.chart.values.argmax() == 1


def test_closed_loop_reads_as_zero(qtbot, window):
    draw(window.canvas, closed_loop(window.canvas))
    wait_for_reading(qtbot, window, "0")
    assert window.chart.values.sum() == pytest.approx(1.0, abs=1e-4)


def test_reading_updates_while_the_stroke_is_still_being_drawn(qtbot, window):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    points = vertical_line(window.canvas)
    QTest.mousePress(window.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*map(int, points[0])))
    for x, y in points[1:]:
        QTest.mouseMove(window.canvas, QPoint(int(x), int(y)))
    qtbot.waitUntil(lambda: window.prediction_label.text() == "1", timeout=3000)  # pen still down
    QTest.mouseRelease(window.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*map(int, points[-1])))


def test_undo_redo_and_clear(qtbot, window):
    draw(window.canvas, vertical_line(window.canvas))
    wait_for_reading(qtbot, window, "1")
    window.actions["undo"].trigger()
    wait_for_reading(qtbot, window, "")
    assert window.canvas.is_empty() and not window.chart.values.any()
    window.actions["redo"].trigger()
    wait_for_reading(qtbot, window, "1")
    window.actions["clear"].trigger()
    wait_for_reading(qtbot, window, "")
    window.actions["undo"].trigger()  # a clear is undoable too
    wait_for_reading(qtbot, window, "1")


def test_two_strokes_undo_one_at_a_time(qtbot, window):
    draw(window.canvas, vertical_line(window.canvas, x_fraction=0.4))
    draw(window.canvas, vertical_line(window.canvas, x_fraction=0.6))
    assert len(window.canvas.strokes) == 2
    window.canvas.undo()
    assert len(window.canvas.strokes) == 1
    window.canvas.undo()
    assert window.canvas.is_empty()
    assert not window.canvas.can_undo() and window.canvas.can_redo()


def test_a_scribble_is_reported_as_unsure(qtbot, window):
    draw(window.canvas, scribble(window.canvas))
    qtbot.waitUntil(lambda: window.last_prediction is not None and not window.last_prediction.empty, timeout=3000)
    assert not window.last_prediction.confident
    assert "Unsure" in window.confidence_label.text()
    assert window.prediction_label.text() == str(window.last_prediction.digit)  # the best guess, alone


def test_open_image_reads_it(qtbot, window, tmp_path):
    digit = render_digit(7, np.random.default_rng(3), size=28)
    big = np.kron(255 - digit, np.ones((8, 8), np.uint8))  # dark ink on white, 224x224
    path = tmp_path / "seven.png"
    Image.fromarray(big).save(path)
    assert window.open_image(path)
    wait_for_reading(qtbot, window, "7")
    assert window.preview.pixmap() is not None and not window.preview.pixmap().isNull()


def test_unreadable_image_gives_a_message_and_keeps_the_drawing(qtbot, window, tmp_path, monkeypatch):
    messages = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: messages.append(text))
    draw(window.canvas, vertical_line(window.canvas))
    wait_for_reading(qtbot, window, "1")
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    assert not window.open_image(bad)
    assert messages and "broken.png" in messages[0]
    assert len(window.canvas.strokes) == 1
    assert window.prediction_label.text() == "1"


def test_bad_model_file_keeps_the_current_model(qtbot, window, tmp_path, monkeypatch):
    messages = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: messages.append(text))
    before = window.checkpoint
    bad = tmp_path / "evil.safetensors"
    bad.write_bytes(b"PK\x03\x04 not a model")
    assert not window.load_model(bad)
    assert window.checkpoint is before
    assert "evil.safetensors" in messages[0]


def test_eraser_strokes_are_read_from_pixels(qtbot, window):
    line = vertical_line(window.canvas)
    draw(window.canvas, line)
    wait_for_reading(qtbot, window, "1")
    window.eraser_button.setChecked(True)
    window.pen_slider.setValue(50)
    draw(window.canvas, line)  # rub the whole line out again
    assert window.canvas.vector_strokes() is None  # pixels, not vectors, describe it now
    wait_for_reading(qtbot, window, "")
    assert window.last_prediction.empty
    window.canvas.undo()  # the eraser stroke is undoable like any other
    wait_for_reading(qtbot, window, "1")


def test_every_control_has_an_accessible_name(window):
    kinds = (QAbstractButton, QAbstractSlider, QComboBox, QSpinBox, QCheckBox)
    unnamed = [
        w for w in window.findChildren(QWidget)
        if isinstance(w, kinds) and not isinstance(w, QScrollBar) and w.isVisibleTo(window) and not w.accessibleName()
    ]
    assert not unnamed, [f"{type(w).__name__}:{w.objectName()}:{getattr(w, 'text', lambda: '')()}" for w in unnamed]


def test_every_control_of_ours_has_a_tooltip_and_a_name(window):
    kinds = (QAbstractButton, QAbstractSlider, QComboBox, QSpinBox, QCheckBox)
    qt_internal = ("qt_", "ScrollLeftButton", "ScrollRightButton")  # dock title bars, tab scrollers
    missing = [
        f"{type(w).__name__}:{w.objectName()}"
        for w in window.findChildren(QWidget)  # hidden docks too
        if isinstance(w, kinds) and not isinstance(w, QScrollBar) and not w.objectName().startswith(qt_internal)
        and not (w.toolTip() and w.accessibleName())
    ]
    assert not missing


def test_window_restores_its_size_and_pen(qtbot, window):
    import digitpad

    window.resize(760, 560)  # within the offscreen screen (800x600): Qt keeps restored windows on screen
    window.pen_slider.setValue(31)
    window.close()
    again = digitpad.create_window()
    qtbot.addWidget(again)
    assert again.pen_slider.value() == 31
    assert (again.width(), again.height()) == (760, 560)


def test_two_digits_side_by_side_are_reported_as_unsure(qtbot, window):
    draw(window.canvas, vertical_line(window.canvas, 0.4, 0.15))
    w = window.canvas.width()
    loop = closed_loop(window.canvas, rx_fraction=0.1, ry_fraction=0.2)
    draw(window.canvas, [(x + w * 0.15, y) for x, y in loop])  # "10": twice as wide as high
    qtbot.waitUntil(lambda: window.last_prediction is not None and len(window.canvas.strokes) == 2 and not window.last_prediction.empty, timeout=3000)
    assert not window.last_prediction.confident
    assert "Unsure" in window.confidence_label.text()


def _chart_colours(chart) -> set[tuple[int, int, int]]:
    image = chart.grab().toImage()
    pixels = {image.pixelColor(x, y).getRgb()[:3] for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}
    return pixels


def test_chart_paints_highlighted_top_bar_and_its_percentage(qtbot, window):
    from digitpad.ui.widgets.probability_bars import BAR_COLOR, TOP_COLOR

    draw(window.canvas, vertical_line(window.canvas))
    wait_for_reading(qtbot, window, "1")
    values, labels = window.chart.values, window.chart.labels
    assert labels[1] == f"{values[1] * 100:.0f}%"
    assert all(text == "" for text, v in zip(labels, values) if v < 0.005)
    colours = _chart_colours(window.chart)
    assert TOP_COLOR.getRgb()[:3] in colours
    window.actions["clear"].trigger()
    wait_for_reading(qtbot, window, "")
    assert window.chart.labels == [""] * 10
    colours = _chart_colours(window.chart)
    assert TOP_COLOR.getRgb()[:3] not in colours and BAR_COLOR.getRgb()[:3] not in colours


def test_moves_within_a_frame_share_one_reading(qtbot, window):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    assert window.frame_interval_ms() == pytest.approx(1000 / min(window.screen().refreshRate(), 120))
    readings = []
    window.bus.predictionChanged.connect(readings.append)
    points = vertical_line(window.canvas)
    QTest.mousePress(window.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*map(int, points[0])))
    for x, y in points[1:]:  # all in one event-loop pass: far faster than frames
        QTest.mouseMove(window.canvas, QPoint(int(x), int(y)))
    qtbot.waitUntil(lambda: window.prediction_label.text() == "1", timeout=3000)
    assert len(readings) <= 2  # the press's reading, then one for every move after it
    QTest.mouseRelease(window.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*map(int, points[-1])))


def test_startup_objects_are_kept_out_of_the_garbage_collector(window):
    import gc

    # Otherwise a full collection while drawing stalls the pad for ~100 ms.
    assert gc.get_freeze_count() > 50_000
    window.close()  # and given back when the window goes
    assert gc.get_freeze_count() == 0


def _column_points(canvas, n: int = 25):
    from PySide6.QtCore import QPoint

    x, top, bottom = canvas.width() // 2, canvas.height() * 0.15, canvas.height() * 0.85
    return [QPoint(x, int(top + (bottom - top) * i / (n - 1))) for i in range(n)]


def test_a_finger_draws_on_the_pad(qtbot, window):
    from PySide6.QtTest import QTest

    finger = QTest.createTouchDevice()
    points = _column_points(window.canvas)
    QTest.touchEvent(window.canvas, finger).press(0, points[0]).commit()
    for point in points[1:]:
        QTest.touchEvent(window.canvas, finger).move(0, point).commit()
    QTest.touchEvent(window.canvas, finger).release(0, points[-1]).commit()
    wait_for_reading(qtbot, window, "1")
    assert len(window.canvas.strokes) == 1 and len(window.canvas.strokes[0].points) >= len(points) - 1


def _stylus(pointer):
    from PySide6.QtGui import QInputDevice, QPointingDevice

    capabilities = QInputDevice.Capability.Position | QInputDevice.Capability.Pressure
    return QPointingDevice("test stylus", 4242, QInputDevice.DeviceType.Stylus, pointer, capabilities, 1, 3)


def _pen_stroke(canvas, device, points, pressures) -> None:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QTabletEvent
    from PySide6.QtWidgets import QApplication

    kinds = [QTabletEvent.Type.TabletPress] + [QTabletEvent.Type.TabletMove] * (len(points) - 2) + [QTabletEvent.Type.TabletRelease]
    for kind, point, pressure in zip(kinds, points, pressures):
        held = Qt.MouseButton.NoButton if kind == QTabletEvent.Type.TabletRelease else Qt.MouseButton.LeftButton
        event = QTabletEvent(
            kind, device, QPointF(point), QPointF(canvas.mapToGlobal(point)), pressure,
            0.0, 0.0, 0.0, 0.0, 0.0, Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton, held,
        )  # fmt: skip
        QApplication.sendEvent(canvas, event)


def _ink_width(grey: np.ndarray, row: int) -> int:
    return int((grey[row] < 128).sum())


def test_pen_pressure_sets_the_width_and_the_eraser_end_erases(qtbot, window):
    from PySide6.QtGui import QPointingDevice

    canvas = window.canvas
    canvas.pressure_width = True
    points = _column_points(canvas)
    pressures = np.linspace(0.1, 1.0, len(points))
    _pen_stroke(canvas, _stylus(QPointingDevice.PointerType.Pen), points, pressures)
    wait_for_reading(qtbot, window, "1")
    stroke = canvas.strokes[0]
    assert [p[3] for p in stroke.points] == pytest.approx(pressures[: len(stroke.points)].tolist())
    grey = canvas.grayscale()
    light, firm = _ink_width(grey, points[3].y()), _ink_width(grey, points[-4].y())
    assert 0 < light < firm * 0.6  # light pressure, thin ink

    _pen_stroke(canvas, _stylus(QPointingDevice.PointerType.Eraser), points, np.ones(len(points)))
    assert canvas.strokes[-1].erase
    qtbot.waitUntil(lambda: window.prediction_label.text() == "" or not window.last_prediction.confident, timeout=3000)
    assert _ink_width(canvas.grayscale(), points[len(points) // 2].y()) == 0


@pytest.mark.parametrize(("reported_hz", "frame_ms"), [(60.0, 1000 / 60), (240.0, 1000 / 120), (0.0, 1000 / 60)])
def test_reading_rate_follows_the_screen_up_to_120_hz(window, monkeypatch, reported_hz, frame_ms):
    class Screen:
        def refreshRate(self):  # noqa: N802 - Qt's name
            return reported_hz

    monkeypatch.setattr(window, "screen", lambda: Screen())
    assert window.frame_interval_ms() == pytest.approx(frame_ms)


def test_chart_axes_are_cached_and_redrawn_when_the_classes_change(qtbot):
    """The axes are kept as pixmaps (they would otherwise be repainted with every reading); the
    cache must still follow a change of classes, or the letters' ticks would show digits."""
    from PySide6.QtWidgets import QGraphicsItem

    from digitpad.core.alphabets import DIGITS, LETTERS
    from digitpad.ui.widgets.probability_bars import ProbabilityChart

    chart = ProbabilityChart()
    qtbot.addWidget(chart)
    chart.resize(420, 220)
    chart.show()
    qtbot.waitExposed(chart)
    plot = chart.getPlotItem()
    assert all(plot.getAxis(name).cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache for name in ("left", "bottom"))
    digits = chart.grab().toImage()
    chart.set_classes(LETTERS)
    letters = chart.grab().toImage()
    chart.set_classes(DIGITS)
    assert letters != digits
    assert chart.grab().toImage() == digits


@pytest.mark.parametrize("height", [120, 150, 220, 480])  # 120: its minimum; 150: a first window on a small screen
def test_chart_names_every_percentage_on_its_axis_zero_included(qtbot, height):
    """With the grid on, pyqtgraph drops a tick label that spills past the plot: "0%" on the axis's
    lower end would be half below it."""
    from PySide6.QtGui import QImage, QPainter

    from digitpad.ui.widgets.probability_bars import ProbabilityChart

    chart = ProbabilityChart()
    qtbot.addWidget(chart)
    chart.resize(420, height)
    chart.show()
    qtbot.waitExposed(chart)
    chart.grab()  # the first paint sizes the axis to its widest label ("100%")
    qtbot.wait(50)
    canvas = QImage(420, height, QImage.Format.Format_ARGB32)
    painter = QPainter(canvas)
    try:
        _, _, texts = chart.getPlotItem().getAxis("left").generateDrawSpecs(painter)
    finally:
        painter.end()
    assert [text for *_, text in texts] == ["0%", "25%", "50%", "75%", "100%"]


def test_chart_draws_bars_from_half_a_percent_up(qtbot):
    """Smaller ones are a pixel or two tall: among 52 letters they read as a row of dashes."""
    import numpy as np

    from digitpad.core.alphabets import LETTERS
    from digitpad.ui.widgets.probability_bars import ProbabilityChart

    chart = ProbabilityChart()
    qtbot.addWidget(chart)
    chart.set_classes(LETTERS)
    values = np.full(len(LETTERS), 0.003, np.float32)
    values[[3, 40]] = [0.006, 0.0]
    values[11] = 1 - values.sum()
    chart.set_probabilities(values)
    assert chart.bars.drawn_bars() == [3, 11]
    assert [i for i, text in enumerate(chart.labels) if text] == [3, 11]  # the same ones are labelled


def _canvas_grey(canvas) -> np.ndarray:
    image = canvas._image
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[..., 0].copy()


def test_a_jittery_pen_recording_is_painted_as_solid_ink(qtbot):
    """A recorded pen stroke (hundreds of close points, doubling back a little) once painted with
    light rings inside the ink; the stroke must be solid, and reach its last point."""
    from digitpad.ui.widgets.canvas import DrawingCanvas

    canvas = DrawingCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(400, 400)
    rng = np.random.default_rng(0)
    line = np.column_stack([np.linspace(80, 320, 300), np.linspace(100, 300, 300)]) + rng.normal(0, 1.5, (300, 2))
    canvas.set_strokes([line, np.array([[60.0, 350.0], [140.0, 350.0]])], width=18)
    grey = _canvas_grey(canvas)
    inside = grey < 250
    for _ in range(3):  # pixels at least three pixels inside the painted area
        inside &= np.roll(inside, 1, 0) & np.roll(inside, -1, 0) & np.roll(inside, 1, 1) & np.roll(inside, -1, 1)
    assert inside.sum() > 2000
    assert (grey[inside] > 100).sum() == 0
    assert grey[350, 138] < 60 and grey[350, 62] < 60  # both ends of a two-point stroke are inked


def test_a_stroke_drawn_live_looks_as_it_does_after_a_repaint(qtbot):
    """Undo, resize and replays repaint every stroke from its points: the ink must not change then."""
    from digitpad.ui.widgets.canvas import DrawingCanvas

    canvas = DrawingCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(400, 400)
    canvas.show()
    draw(canvas, closed_loop(canvas))
    draw(canvas, vertical_line(canvas, x_fraction=0.8))
    live = _canvas_grey(canvas)
    canvas._repaint_backing()
    assert (live < 128).sum() > 3000
    assert np.abs(live.astype(int) - _canvas_grey(canvas)).max() <= 2
