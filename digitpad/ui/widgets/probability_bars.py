"""The live bar chart of the ten class probabilities: one BarGraphItem, updated with setOpts."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

BAR_COLOR = QColor(120, 144, 180)
TOP_COLOR = QColor(38, 110, 220)
UNSURE_TOP_COLOR = QColor(220, 140, 40)


class ProbabilityChart(pg.PlotWidget):
    """Ten bars on a fixed 0..1 axis (so they don't jump), the top bar highlighted, values printed."""

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
        plot.setYRange(0, 1, padding=0)
        plot.setXRange(-0.6, 9.6, padding=0)
        plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(10)], []])
        plot.getAxis("left").setTicks([[(v, f"{v * 100:.0f}%") for v in (0, 0.25, 0.5, 0.75, 1.0)], []])
        plot.showGrid(y=True, alpha=0.15)
        self.values = np.zeros(10, np.float32)
        self._bars = pg.BarGraphItem(x=np.arange(10), height=self.values, width=0.7, brushes=[BAR_COLOR] * 10, pen=None)
        plot.addItem(self._bars)
        self._brush_key = None  # (top digit, confident) of the brushes now set
        self._labels = []
        for d in range(10):
            label = pg.TextItem("", anchor=(0.5, 1.0), color=(90, 90, 90))
            label.setPos(d, 0)
            plot.addItem(label)
            self._labels.append(label)
        self.setMinimumHeight(160)

    def set_probabilities(self, probabilities: np.ndarray | None, confident: bool = True) -> None:
        """Show ``probabilities`` (10,) or nothing (None: empty canvas).

        Called once per frame while drawing: only what changed is touched, because each pyqtgraph
        item update schedules its own repaint work.
        """
        if probabilities is None:
            self.values = np.zeros(10, np.float32)
            self._bars.setOpts(height=self.values, brushes=[BAR_COLOR] * 10)
            self._brush_key = None
            for label in self._labels:
                self._set_label(label, "", 0.0)
            return
        self.values = np.asarray(probabilities, np.float32)
        top = int(self.values.argmax())
        key = (top, confident)
        if key != self._brush_key:
            brushes = [BAR_COLOR] * 10
            brushes[top] = TOP_COLOR if confident else UNSURE_TOP_COLOR
            self._bars.setOpts(height=self.values, brushes=brushes)
            self._brush_key = key
        else:
            self._bars.setOpts(height=self.values)
        for label, value in zip(self._labels, self.values):
            self._set_label(label, f"{value * 100:.0f}%" if value >= 0.005 else "", min(float(value), 0.9) + 0.1)

    @staticmethod
    def _set_label(label: pg.TextItem, text: str, y: float) -> None:
        if label.textItem.toPlainText() != text:
            label.setText(text)
        if abs(label.pos().y() - y) > 1e-3:
            label.setPos(label.pos().x(), y)
