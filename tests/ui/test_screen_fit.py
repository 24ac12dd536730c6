"""The first window fits the screen: on a 1366x768 laptop and a 1920x1080 desktop, the pad, the
chart, the reading and the Train button are on screen and unclipped, and a run gives the curves room.

The screen size is fixed when QApplication starts, so each size runs in a fresh process on Qt's
offscreen platform with a screen of that size (its configfile option).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import json
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QApplication, QPushButton
    import digitpad
    from digitpad.ui.runs import Run

    window = digitpad.create_window()
    window.show()
    app = QApplication.instance()
    for _ in range(30):
        app.processEvents()

    def on_screen(widget):
        # Wholly visible (not clipped by a scroll area or the window edge) and inside the screen.
        widget = getattr(widget, "viewport", lambda: widget)()  # a plot paints in its viewport
        visible = widget.visibleRegion().boundingRect()
        top_left = widget.mapToGlobal(widget.rect().topLeft())
        inside = window.screen().availableGeometry().contains(QRect(top_left, widget.size()))
        return widget.isVisible() and visible.size() == widget.size() and inside

    train = window.findChild(QPushButton, "train_button")
    before = window.docks["training"].height()
    window.bus.runStarted.emit(Run("training", "test run"))
    for _ in range(30):
        app.processEvents()
    print(json.dumps({
        "window": [window.frameGeometry().width(), window.frameGeometry().height()],
        "screen": [window.screen().availableGeometry().width(), window.screen().availableGeometry().height()],
        "pad": on_screen(window.canvas), "chart": on_screen(window.chart), "reading": on_screen(window.prediction_label),
        "train": on_screen(train), "training_before": before, "training_after": window.docks["training"].height(),
    }))
    window.close()
    """
)


@pytest.mark.parametrize("width, height", [(1366, 768), (1920, 1080)])
def test_first_window_fits_the_screen_with_everyday_controls_visible(tmp_path, width, height):
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "screen", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "PYTHONPATH": str(REPO),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "DIGITPAD_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["screen"] == [width, height]
    assert facts["window"][0] <= width and facts["window"][1] <= height
    assert facts["pad"] and facts["chart"] and facts["reading"] and facts["train"], facts
    # A run shows the Training dock with room for its curves: about 40% of the window (within a
    # tenth of it, so that a few missing pixels never cost a whole-window relayout at the click).
    assert facts["training_after"] >= max(facts["training_before"], int(0.9 * 0.4 * facts["window"][1]) - 4), facts
    assert facts["training_after"] == facts["training_before"], facts  # no relayout at the click
