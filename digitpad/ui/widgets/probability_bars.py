"""The live bar chart of the ten class probabilities: a pyqtgraph plot with one custom bar item."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

BAR_COLOR = QColor(120, 144, 180)
TOP_COLOR = QColor(38, 110, 220)
UNSURE_TOP_COLOR = QColor(220, 140, 40)
BAR_WIDTH = 0.7
X_RANGE = (-0.6, 9.6)
Y_TOP = 1.14  # fixed: 0..100% plus headroom for the label over a full bar
LABEL_GAP_PX = 3


class ProbabilityBars(pg.GraphicsObject):
    """Ten bars and their percentages, painted by one item.

    The chart changes every frame while the user draws. A BarGraphItem with per-bar colours plus ten
    TextItems cost ~1.5 ms a frame to update (geometry changes, re-laid-out text); this item keeps a
    fixed bounding rectangle, so an update is one ``update()`` call, and it paints the labels in
    screen pixels so they stay crisp and never scale with the plot.
    """

    def __init__(self):
        super().__init__()
        self.values = np.zeros(10, np.float32)
        self.top_color: QColor | None = None  # highlight for the top bar; None: no highlight
        self.texts = [""] * 10

    def set_values(self, values: np.ndarray, top_color: QColor | None) -> None:
        self.values = np.asarray(values, np.float32)
        self.top_color = top_color
        self.texts = [f"{v * 100:.0f}%" if v >= 0.005 else "" for v in self.values]
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(X_RANGE[0], 0.0, X_RANGE[1] - X_RANGE[0], Y_TOP)

    def paint(self, painter, *args) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        top = int(self.values.argmax()) if self.values.any() else -1
        for digit, value in enumerate(self.values):
            if value > 0:
                painter.setBrush(self.top_color if digit == top and self.top_color is not None else BAR_COLOR)
                painter.drawRect(QRectF(digit - BAR_WIDTH / 2, 0.0, BAR_WIDTH, float(value)))
        self._paint_labels(painter)

    def _paint_labels(self, painter) -> None:
        """Each percentage just above its bar; in a plot too short for the headroom, at its top."""
        painter.save()
        to_screen = painter.transform()
        painter.resetTransform()
        metrics = painter.fontMetrics()
        ceiling = to_screen.map(QPointF(0.0, Y_TOP)).y() + metrics.ascent()  # y grows downwards on screen
        painter.setPen(QGuiApplication.palette().color(QPalette.ColorRole.WindowText))
        for digit, text in enumerate(self.texts):
            if text:
                bar_top = to_screen.map(QPointF(digit, float(self.values[digit])))
                baseline = max(bar_top.y() - LABEL_GAP_PX - metrics.descent(), ceiling)
                painter.drawText(QPointF(bar_top.x() - metrics.horizontalAdvance(text) / 2, baseline), text)
        painter.restore()


class ProbabilityChart(pg.PlotWidget):
    """Ten bars on a fixed 0..100% axis (so they don't jump), the top bar highlighted, values printed."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("probabilities")
        self.setAccessibleName("Class probabilities")
        self.setToolTip("The network's probability for each digit (calibrated on validation data)")
        self.setBackground(None)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setAntialiasing(False)  # axis-aligned bars need none; it halves the repaint per frame
        plot = self.getPlotItem()
        plot.setYRange(0, Y_TOP, padding=0)
        plot.setXRange(*X_RANGE, padding=0)
        plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(10)], []])
        plot.getAxis("left").setTicks([[(v, f"{v * 100:.0f}%") for v in (0, 0.25, 0.5, 0.75, 1.0)], []])
        plot.showGrid(y=True, alpha=0.15)
        self.bars = ProbabilityBars()
        plot.addItem(self.bars)
        self.setMinimumHeight(120)  # a 1366x768 laptop must also give the Training dock room

    @property
    def values(self) -> np.ndarray:
        return self.bars.values

    @property
    def labels(self) -> list[str]:
        """The percentages printed over the bars ("" where a bar is below 0.5%)."""
        return list(self.bars.texts)

    def set_probabilities(self, probabilities: np.ndarray | None, confident: bool = True) -> None:
        """Show ``probabilities`` (10,) or nothing (None: empty canvas)."""
        if probabilities is None:
            self.bars.set_values(np.zeros(10, np.float32), None)
        else:
            self.bars.set_values(probabilities, TOP_COLOR if confident else UNSURE_TOP_COLOR)
