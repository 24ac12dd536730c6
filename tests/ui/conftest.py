"""Fixtures for the GUI tests: windows on the shipped or a tiny model, and mouse drawing helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest


@pytest.fixture(autouse=True)
def fresh_settings(tmp_path_factory):
    """Each test's windows start from empty settings: Qt fixes the settings folder once per process,
    so the XDG_CONFIG_HOME that tests/conftest.py sets per test would not be enough."""
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path_factory.mktemp("settings")))
    yield


@pytest.fixture(autouse=True)
def no_dangling_qthreads(monkeypatch):
    """Fail a test that leaves a QThread running after its window closed (napari's _dangling_qthreads)."""
    from PySide6.QtCore import QThread

    started: list = []
    original = QThread.start

    def tracking_start(self, *args):
        started.append(self)
        return original(self, *args)

    monkeypatch.setattr(QThread, "start", tracking_start)
    yield started
    # pytest-qt has closed the test's widgets by now (closeEvent -> each dock's shutdown()).
    running = [t.objectName() or type(t).__name__ for t in started if t.isRunning()]
    for thread in started:  # never leave one for the next test, even when failing
        thread.quit()
        thread.wait(30_000)
    assert not running, f"QThreads still running after the test: {running}"


@pytest.fixture
def window(qtbot):
    """The app's main window as a user gets it: shipped model, shown."""
    import digitpad

    win = digitpad.create_window()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def draw(canvas, points, qtbot=None, button=Qt.MouseButton.LeftButton):
    """Drag the mouse through ``points`` (canvas pixels) as one stroke."""
    points = [QPoint(int(round(x)), int(round(y))) for x, y in points]
    QTest.mousePress(canvas, button, Qt.KeyboardModifier.NoModifier, points[0])
    for point in points[1:]:
        QTest.mouseMove(canvas, point)
    QTest.mouseRelease(canvas, button, Qt.KeyboardModifier.NoModifier, points[-1])


def vertical_line(canvas, height_fraction=0.6, x_fraction=0.5):
    w, h = canvas.width(), canvas.height()
    top, bottom = h * (1 - height_fraction) / 2, h * (1 + height_fraction) / 2
    return [(w * x_fraction, y) for y in np.linspace(top, bottom, 25)]


def closed_loop(canvas, rx_fraction=0.22, ry_fraction=0.32):
    w, h = canvas.width(), canvas.height()
    return [
        (w / 2 + w * rx_fraction * math.sin(a), h / 2 - h * ry_fraction * math.cos(a))
        for a in np.linspace(0, 2 * math.pi * 1.03, 50)
    ]


def scribble(canvas, seed=0):
    """Dense zig-zag hatching over most of the pad: not a digit."""
    rng = np.random.default_rng(seed)
    w, h = canvas.width(), canvas.height()
    xs = np.linspace(0.15 * w, 0.85 * w, 14)
    return [(x, (0.15 if i % 2 else 0.85) * h + rng.uniform(-10, 10)) for i, x in enumerate(xs)]
