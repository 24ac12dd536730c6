"""Take the README's screenshots of the real app on an X display (run under Xvfb), as a user sees it.

    xvfb-run -s "-screen 0 1440x900x24" .venv/bin/python tools/screenshots.py docs/img
    xvfb-run -s "-screen 0 1440x900x24" .venv/bin/python tools/screenshots.py docs/img --dark
    xvfb-run -s "-screen 0 1366x768x24" .venv/bin/python tools/screenshots.py docs/img --fit
    xvfb-run -s "-screen 0 1440x900x24" .venv/bin/python tools/screenshots.py docs/img --why=OTHER.safetensors
    xvfb-run -s "-screen 0 1400x860x24" .venv/bin/python tools/screenshots.py docs/img --pen-mistakes
    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python tools/screenshots.py docs/img --letters


Draws a digit with mouse events, shows the feature maps with the saliency overlay, trains for a
while on a quarter of MNIST (needs DIGITPAD_DATA) and shoots the panel mid-run, then the kernels,
the mistakes and My digits (after a few corrections), one PNG each, grabbed from the screen.
Run it with a throw-away XDG_CONFIG_HOME and DIGITPAD_HOME so your own settings and digits stay.
``--dark`` gives the app the dark palette a dark desktop theme hands Qt (Xvfb has no theme of its
own) and shoots only the pad, as ``app_dark.png``. ``--fit`` shoots the first-run window as it
opens on the display's screen (``first_run_WxH.png``). ``--why=MODEL`` shoots the Replay, Nearest
examples and Compare models docks, comparing the pad's model with MODEL (needs MNIST for the
nearest examples). ``--pen-mistakes`` shoots only the Mistakes viewer on the held-out pen writers
(needs the pen digits under DIGITPAD_DATA), with its most confident mistake drawn on the pad, as
``pen_mistakes.png``; it trains nothing. ``--letters`` shoots the pad reading letters (a capital L
drawn with the mouse, the Kernels dock saying its first layer is shared) as ``letters.png``, and
reading both (a loop: 0 or O, with the look-alike note) as ``both.png``; it needs no data.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def dark_palette():
    """Fusion's colours for a dark desktop, as KDE or GNOME's platform themes would set them."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    role = QPalette.ColorRole
    for name, colour in [
        (role.Window, "#2b2b2b"), (role.WindowText, "#e6e6e6"), (role.Base, "#1e1e1e"),
        (role.AlternateBase, "#2f2f2f"), (role.Text, "#e6e6e6"), (role.Button, "#353535"),
        (role.ButtonText, "#e6e6e6"), (role.Highlight, "#2f65ca"), (role.HighlightedText, "#ffffff"),
        (role.ToolTipBase, "#3c3c3c"), (role.ToolTipText, "#e6e6e6"), (role.PlaceholderText, "#8c8c8c"),
        (role.Link, "#6ea8ff"), (role.Mid, "#444444"), (role.Dark, "#1a1a1a"), (role.Light, "#505050"),
    ]:
        palette.setColor(name, QColor(colour))
    for name in (role.WindowText, role.Text, role.ButtonText):  # greyed out when disabled
        palette.setColor(QPalette.ColorGroup.Disabled, name, QColor("#7a7a7a"))
    return palette


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    dark = "--dark" in sys.argv
    out = Path(args[0] if args else "docs/img")
    out.mkdir(parents=True, exist_ok=True)
    import numpy as np
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    import digitpad
    from digitpad.core.samples import sample_strokes
    from digitpad.ui.app import ensure_app

    if dark:
        ensure_app().setPalette(dark_palette())
    fit = "--fit" in sys.argv
    why = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--why=")), None)
    pen_mistakes = "--pen-mistakes" in sys.argv
    letters = "--letters" in sys.argv
    window = digitpad.create_window()
    app = QApplication.instance()
    if not fit:
        window.resize(1400, 860)
        window.move(20, 20)
    window.show()

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def shot(name: str) -> None:
        pump(0.3)
        path = out / f"{name}.png"
        window.screen().grabWindow(0, window.x(), window.y(), window.frameGeometry().width(), window.frameGeometry().height()).save(str(path))
        print(f"saved {path}")

    def draw_digit(digit: int, seed: int = 3) -> None:
        canvas = window.canvas
        canvas.clear()
        side = min(canvas.width(), canvas.height()) * 0.7
        origin = (canvas.width() / 2 - side / 2, canvas.height() / 2 - side / 2)
        for stroke in sample_strokes(digit, np.random.default_rng(seed), size=side, origin=origin):
            points = [QPoint(int(x), int(y)) for x, y in stroke]
            QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
            for point in points[1:]:
                QTest.mouseMove(canvas, point)
                app.processEvents()
            QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])

    from PySide6.QtWidgets import QAbstractButton, QCheckBox

    pump(1.0)
    if letters:
        return shoot_letters(window, pump, shot)
    draw_digit(4)
    if dark:
        shot("app_dark")
        window.close()
        return 0
    if fit:
        pump(0.5)
        screen = window.screen().geometry()
        window.screen().grabWindow(0).save(str(out / f"first_run_{screen.width()}x{screen.height()}.png"))
        print(f"saved first_run_{screen.width()}x{screen.height()}.png")
        window.close()
        return 0
    if why:
        return shoot_why(window, why, draw_digit, pump, shot)
    if pen_mistakes:
        return shoot_pen_mistakes(window, pump, shot)
    shot("app")

    window.docks["feature_maps"].raise_()
    window.findChild(QCheckBox, "saliency_toggle").setChecked(True)
    shot("feature_maps")
    window.findChild(QCheckBox, "saliency_toggle").setChecked(False)

    if "mistakes" in window.docks:
        window.docks["mistakes"].show()
        window.docks["mistakes"].raise_()
        mistakes = window.dock_widgets["mistakes"]
        deadline = time.monotonic() + 120
        pump(1.0)
        while time.monotonic() < deadline and mistakes.is_busy():
            pump(0.3)
        shot("mistakes")
        window.docks["mistakes"].hide()

    panel = window.dock_widgets.get("training")
    if panel is not None:
        window.docks["training"].raise_()
        window.docks["kernels"].raise_()
        panel.choose("default")
        config = panel.config()
        config.epochs, config.train_fraction = 3, 0.25
        panel.set_config(config)
        panel.start_training()
        deadline = time.monotonic() + 25  # mid-run: about two epochs of live curves and kernels
        while time.monotonic() < deadline and panel.running:
            pump(0.5)
        shot("training")
        while panel.running:  # let it finish: its model becomes the pad's, its mistakes are reused
            pump(0.5)
        pump(1.0)
        shot("kernels")

    if "personal" in window.docks:
        window.docks["personal"].show()
        window.docks["personal"].raise_()
        for digit, seed in ((3, 1), (5, 2), (7, 3), (3, 4), (9, 5)):
            draw_digit(digit, seed)
            pump(0.3)
            window.findChild(QAbstractButton, f"correct_{digit}").click()
            pump(0.3)
        draw_digit(2, 6)
        shot("personal")
    window.close()
    return 0


def shoot_why(window, other_model: str, draw_digit, pump, shot) -> int:
    """The three 'why did it read that' docks, each after drawing a digit."""
    from PySide6.QtCore import Qt

    for key in ("kernels", "feature_maps", "personal", "nearest_examples", "compare_chart"):
        if key in window.docks:
            window.docks[key].hide()
    window.docks["reading_timeline"].show()
    window.docks["reading_timeline"].raise_()
    window.resizeDocks([window.docks["reading_timeline"]], [380], Qt.Orientation.Vertical)
    draw_digit(7, 5)
    timeline = window.dock_widgets["reading_timeline"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and timeline.timeline is None:
        pump(0.2)
    timeline.marker.setValue(60)
    shot("replay")
    window.docks["reading_timeline"].hide()

    window.docks["nearest_examples"].show()
    window.docks["nearest_examples"].raise_()
    nearest = window.dock_widgets["nearest_examples"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not nearest.neighbours:
        pump(0.5)
        if nearest.index is not None and not nearest.neighbours:
            draw_digit(1, 8)
    shot("nearest")
    window.docks["nearest_examples"].hide()

    window.docks["compare_chart"].show()
    window.docks["compare_chart"].raise_()
    window.dock_widgets["compare_chart"].load_model(other_model)
    draw_digit(9, 4)
    pump(1.0)
    shot("compare")
    window.close()
    return 0


def draw_mouse_strokes(window, strokes, pump) -> None:
    """Drag the mouse along each stroke (canvas pixels) on the pad, as a user draws."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    canvas = window.canvas
    for stroke in strokes:
        points = [QPoint(int(x), int(y)) for x, y in stroke]
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
        for point in points[1:]:
            QTest.mouseMove(canvas, point)
            pump(0.005)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])


def shoot_letters(window, pump, shot) -> int:
    """The pad reading letters (a capital L, the kernels' shared first layer beside it), then both
    (a loop, which is a 0 or an O: the best of each side by side, with the look-alike note)."""
    import math

    import numpy as np

    window.move(0, 0)
    for key in ("training", "mistakes", "reading_timeline"):
        if key in window.docks:
            window.docks[key].hide()
    window.docks["kernels"].show()
    window.docks["kernels"].raise_()
    canvas = window.canvas
    w, h = canvas.width(), canvas.height()
    side = 0.6 * min(w, h)
    left, top = w / 2 - 0.65 * side / 2, h / 2 - side / 2
    capital_l = [[(left, top + t) for t in np.linspace(0, side, 25)],
                 [(left + t, top + side) for t in np.linspace(0, 0.65 * side, 20)]]
    window.alphabet_choice.choose("letters")
    canvas.clear()
    draw_mouse_strokes(window, capital_l, pump)
    pump(1.0)
    prediction = window.last_prediction
    print(f"letters: the pad reads {prediction.shown} ({prediction.score * 100:.1f}%)")
    shot("letters")
    window.alphabet_choice.choose("both")
    window.docks["feature_maps"].raise_()
    canvas.clear()
    loop = [[(w / 2 + 0.3 * side * math.sin(a), h / 2 - 0.42 * side * math.cos(a)) for a in np.linspace(0, 2 * math.pi * 1.03, 50)]]
    draw_mouse_strokes(window, loop, pump)
    pump(1.0)
    prediction = window.last_prediction
    print(f"both: the pad reads {prediction.shown} ({prediction.score * 100:.1f}%); {window.both_header.text()!r}")
    shot("both")
    window.alphabet_choice.choose("digits")  # leave the throw-away settings as a first run has them
    window.close()
    return 0


def shoot_pen_mistakes(window, pump, shot) -> int:
    """The Mistakes viewer on the held-out pen writers, its most confident mistake clicked: its
    strokes on the pad, read there as the viewer says."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window.move(0, 0)  # the whole window on a screen of its own size (1400x860)
    for key in ("training", "kernels", "personal", "reading_timeline", "nearest_examples", "compare_chart"):
        if key in window.docks:
            window.docks[key].hide()
    dock = window.docks["mistakes"]
    dock.show()
    dock.raise_()
    window.resizeDocks([dock], [520], Qt.Orientation.Vertical)  # as tall as the pad allows: most of the matrix
    mistakes = window.dock_widgets["mistakes"]
    mistakes.test_set_combo.setCurrentIndex(mistakes.test_set_combo.findData("pen"))
    deadline = time.monotonic() + 300
    pump(1.0)
    while time.monotonic() < deadline and (mistakes.is_busy() or mistakes.mistakes is None):
        pump(0.3)
        if not mistakes.is_busy() and mistakes.mistakes is None:
            break  # no pen digits: the status line says what is missing
    print(mistakes.status.text())
    if mistakes.mistakes is None or not len(mistakes.shown_indices):
        window.close()
        return 1
    gallery = mistakes.gallery
    QTest.mouseClick(gallery.viewport(), Qt.MouseButton.LeftButton, pos=gallery.visualRect(mistakes.model.index(0)).center())
    pump(1.0)
    prediction = window.last_prediction
    print(f"clicked {mistakes.model.index(0).data()}: the pad reads {prediction.digit} ({prediction.score * 100:.1f}%)")
    shot("pen_mistakes")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
