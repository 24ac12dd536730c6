"""The live bar chart of the class probabilities: a pyqtgraph plot with one custom bar item.

Ten digits, 52 letters or all 62 classes (``set_classes``): with ten every bar gets its percentage;
with more, bars are narrow and their tick labels small, so the three best are highlighted and named
over their bars ("L 87%"), the way a reader scans such a chart anyway.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QGuiApplication, QPalette
from PySide6.QtWidgets import QGraphicsItem

from ...core.alphabets import DIGITS, lookalike_note

BAR_COLOR = QColor(120, 144, 180)
TOP_COLOR = QColor(38, 110, 220)
UNSURE_TOP_COLOR = QColor(220, 140, 40)
RUNNER_UP_COLOR = QColor(110, 160, 230)  # the second and third of many classes: highlighted, less
BAR_WIDTH = 0.7
Y_TOP = 1.14  # fixed: 0..100% plus headroom for the label over a full bar
LABEL_GAP_PX = 3
FEW_CLASSES = 10  # up to this many, every bar is labelled; beyond, only the TOP_LABELLED best
TOP_LABELLED = 3
SMALL_TICK_POINTS = 6.5  # tick labels of many classes: 62 in the 300 px of a 1366x768 laptop's chart
MIN_SHOWN = 0.005  # a bar and its label from half a percent up
LOOKALIKE_MIN = 0.05  # the look-alike note once the weaker of the best digit and letter has this much


def x_range(count: int) -> tuple[float, float]:
    return -0.6, count - 0.4


class ProbabilityBars(pg.GraphicsObject):
    """One bar per class and the percentages, painted by one item.

    The chart changes every frame while the user draws. A BarGraphItem with per-bar colours plus a
    TextItem per bar cost ~1.5 ms a frame to update (geometry changes, re-laid-out text); this item
    keeps a fixed bounding rectangle (changed only with the classes), so an update is one
    ``update()`` call, and it paints the labels in screen pixels so they stay crisp and never scale
    with the plot.
    """

    def __init__(self, classes: Sequence[str] = DIGITS):
        super().__init__()
        self.classes = tuple(classes)
        self.values = np.zeros(len(self.classes), np.float32)
        self.top_color: QColor | None = None  # highlight for the top bar; None: no highlight
        self.texts = [""] * len(self.classes)
        self.ranked: list[int] = []  # the labelled bars, best first

    def set_classes(self, classes: Sequence[str]) -> None:
        self.prepareGeometryChange()  # the bounding rectangle follows the class count
        self.classes = tuple(classes)
        self.set_values(np.zeros(len(self.classes), np.float32), None)

    def set_values(self, values: np.ndarray, top_color: QColor | None) -> None:
        self.values = np.asarray(values, np.float32)
        self.top_color = top_color
        many = len(self.values) > FEW_CLASSES
        order = np.argsort(-self.values, kind="stable")[:TOP_LABELLED if many else len(self.values)]
        self.ranked = [int(i) for i in order if self.values[i] >= MIN_SHOWN]
        self.texts = [""] * len(self.values)
        for i in self.ranked:
            percent = f"{self.values[i] * 100:.0f}%"
            self.texts[i] = f"{self.classes[i]} {percent}" if many else percent
        self.update()

    def drawn_bars(self) -> list[int]:
        """The classes that get a bar: those the labels would name (0.5% and up). Below that a bar is
        a pixel or two tall, and 52 letters' worth of them read as a row of dashes above "0%"."""
        return [int(i) for i in np.flatnonzero(self.values >= MIN_SHOWN)]

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        low, high = x_range(len(self.classes))
        return QRectF(low, 0.0, high - low, Y_TOP)

    def paint(self, painter, *args) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        highlighted = {i: (self.top_color if rank == 0 else RUNNER_UP_COLOR)
                       for rank, i in enumerate(self.ranked[:TOP_LABELLED])} if self.top_color is not None else {}
        if len(self.values) <= FEW_CLASSES:  # ten bars: only the best stands out, as always
            highlighted = {i: c for i, c in highlighted.items() if c is self.top_color}
        for index in self.drawn_bars():
            painter.setBrush(highlighted.get(index, BAR_COLOR))
            painter.drawRect(QRectF(index - BAR_WIDTH / 2, 0.0, BAR_WIDTH, float(self.values[index])))
        self._paint_labels(painter)

    def _paint_labels(self, painter) -> None:
        """Each label just above its bar; in a plot too short for the headroom, at its top; never past
        the plot's sides (the first and last bars). A label that would cover a better one's
        (neighbouring classes) moves up a line, or down at the top."""
        painter.save()
        to_screen = painter.transform()
        painter.resetTransform()
        font = painter.font()
        if len(self.values) > FEW_CLASSES:
            font.setBold(True)
            painter.setFont(font)
        metrics = painter.fontMetrics()
        ceiling = to_screen.map(QPointF(0.0, Y_TOP)).y() + metrics.ascent()  # y grows downwards on screen
        low, high = (to_screen.map(QPointF(x, 0.0)).x() for x in x_range(len(self.values)))
        painter.setPen(QGuiApplication.palette().color(QPalette.ColorRole.WindowText))
        placed: list[QRectF] = []
        for index in self.ranked:
            text = self.texts[index]
            bar_top = to_screen.map(QPointF(index, float(self.values[index])))
            baseline = max(bar_top.y() - LABEL_GAP_PX - metrics.descent(), ceiling)
            width = metrics.horizontalAdvance(text)
            left = min(max(bar_top.x() - width / 2, low), high - width)
            rect = QRectF(left, baseline - metrics.ascent(), width, metrics.height())
            step = -metrics.lineSpacing() if baseline > ceiling + metrics.lineSpacing() else metrics.lineSpacing()
            while any(rect.intersects(other) for other in placed):
                rect.translate(0, step)
            placed.append(rect)
            painter.drawText(QPointF(rect.left(), rect.top() + metrics.ascent()), text)
        painter.restore()


class ProbabilityChart(pg.PlotWidget):
    """One bar per class on a fixed 0..100% axis (so they don't jump), the best highlighted, values printed."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("probabilities")
        self.setAccessibleName("Class probabilities")
        self.setToolTip("The network's probability for each class (calibrated on validation data)")
        self.setBackground(None)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setAntialiasing(False)  # axis-aligned bars need none; it halves the repaint per frame
        plot = self.getPlotItem()
        plot.setYRange(0.0, Y_TOP, padding=0)
        plot.getViewBox().sigResized.connect(self._room_for_zero_label)
        plot.getAxis("left").setTicks([[(v, f"{v * 100:.0f}%") for v in (0, 0.25, 0.5, 0.75, 1.0)], []])
        plot.showGrid(y=True, alpha=0.15)
        # The axes (and the grid they draw across the plot) change only with the classes, yet the
        # bars' update repaints them every frame: kept as pixmaps, that repaint halves (0.6 -> 0.3 ms).
        for name in ("left", "bottom"):
            plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._tick_font = QFont(self.font())
        self.bars = ProbabilityBars()
        plot.addItem(self.bars)
        self._show_ticks(DIGITS)
        self.setMinimumHeight(120)  # a 1366x768 laptop must also give the Training dock room

    def _room_for_zero_label(self) -> None:
        """Start the axis a little under 0, by half a label's height in pixels: with the grid on,
        pyqtgraph drops a tick label that spills past the plot, and "0%" would be half below it."""
        pixels = self.getPlotItem().getViewBox().height()
        half_label = QFontMetricsF(self.font()).height() / 2 + 1
        if pixels > 2 * half_label:
            self.getPlotItem().setYRange(-Y_TOP * half_label / (pixels - half_label), Y_TOP, padding=0)

    @property
    def values(self) -> np.ndarray:
        return self.bars.values

    @property
    def classes(self) -> tuple[str, ...]:
        return self.bars.classes

    @property
    def labels(self) -> list[str]:
        """The labels printed over the bars ("" where a bar is below 0.5%, or not among the three
        best of many classes)."""
        return list(self.bars.texts)

    def set_classes(self, classes: Sequence[str]) -> None:
        """Show these classes' bars (the digits, the letters or both); cheap when they are the same."""
        if tuple(classes) == self.bars.classes:
            return
        self.bars.set_classes(classes)
        self._show_ticks(self.bars.classes)

    def _show_ticks(self, classes: tuple[str, ...]) -> None:
        plot = self.getPlotItem()
        plot.setXRange(*x_range(len(classes)), padding=0)
        axis = plot.getAxis("bottom")
        font = QFont(self._tick_font)
        if len(classes) > FEW_CLASSES:
            font.setPointSizeF(SMALL_TICK_POINTS)
        # Every class is named even when the labels nearly touch (pyqtgraph would drop them all),
        # the last one too, a few pixels past the axis's end (pyqtgraph would drop it).
        axis.setStyle(tickFont=font, textFillLimits=[(0, 2.0)], tickTextOffset=2, hideOverlappingLabels=8)
        axis.setTicks([[(i, label) for i, label in enumerate(classes)], []])

    def set_probabilities(self, probabilities: np.ndarray | None, confident: bool = True) -> None:
        """Show ``probabilities`` (one per class) or nothing (None: empty canvas)."""
        if probabilities is None:
            self.bars.set_values(np.zeros(len(self.bars.classes), np.float32), None)
        else:
            self.bars.set_values(probabilities, TOP_COLOR if confident else UNSURE_TOP_COLOR)


def best_of_each(classes: Sequence[str], probabilities: np.ndarray) -> str:
    """Reading both alphabets: "best digit 0 · 61% | best letter O · 35%" (each its own bar, as the
    chart shows it), and on a second line why the two look alike when they are a known look-alike
    pair (O/0, l/1/I, S/5 ...) that is a real contest (the weaker has at least LOOKALIKE_MIN)."""
    classes = tuple(classes)
    probabilities = np.asarray(probabilities, np.float64)
    digit, letter = (max((i for i, label in enumerate(classes) if label.isalpha() == alpha), key=probabilities.__getitem__)
                     for alpha in (False, True))
    header = (f"best digit {classes[digit]} · {probabilities[digit] * 100:.0f}% | "
              f"best letter {classes[letter]} · {probabilities[letter] * 100:.0f}%")
    contest = min(probabilities[digit], probabilities[letter]) >= LOOKALIKE_MIN
    note = lookalike_note(classes[digit], classes[letter]) if contest else None
    return f"{header}\n{note}" if note else header
