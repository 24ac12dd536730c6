"""The confusion matrix heat map: one ImageItem, counts as text, a colour bar; cells are clickable.

Follows pyqtgraph's MatrixDisplayExample: row-major image, ``invertY``, digit ticks, ``ColorBarItem``.
Rows are the true digit, columns the prediction (``core.metrics.confusion_matrix``). The colour
scale tops out at the largest off-diagonal count, so the mistakes are what the colours resolve;
the diagonal (the correct readings) saturates.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from .image_grid import TileImageItem, TileLayout

CLASSES = 10
COUNT_MAP = "viridis"
SELECTION_COLOR = QColor(255, 60, 60)


class ConfusionMatrixView(pg.GraphicsLayoutWidget):
    """Signals
    -------
    cellClicked(int, int): (true digit, predicted digit) of a clicked cell.

    Inspectable state: ``matrix`` ((10, 10) int64 or None), ``selected`` ((true, predicted) or None).
    """

    cellClicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("confusion_matrix")
        self.setAccessibleName("Confusion matrix")
        self.setToolTip("Rows: the true digit; columns: what the network read. Click a cell to list those mistakes.")
        self.setBackground(None)
        self.setMinimumSize(260, 240)
        self.matrix: np.ndarray | None = None
        self.selected: tuple[int, int] | None = None
        self.plot = self.addPlot()
        plot = self.plot
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.invertY(True)
        plot.setAspectLocked(True)
        plot.setRange(xRange=(0, CLASSES), yRange=(0, CLASSES), padding=0.01)
        ticks = [[(d + 0.5, str(d)) for d in range(CLASSES)], []]
        for side in ("left", "top"):
            plot.getAxis(side).setTicks(ticks)
            plot.getAxis(side).setStyle(tickLength=0)
        plot.showAxis("top")
        plot.hideAxis("bottom")
        plot.setLabel("left", "true digit")
        plot.setLabel("top", "predicted digit")
        self.image = TileImageItem()
        self.image.layout = TileLayout(CLASSES * CLASSES, CLASSES, CLASSES, 1, 1, gap=0)
        plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get(COUNT_MAP), interactive=False, label="count")
        self.colorbar.setImageItem(self.image, insert_in=plot)
        self._texts: list[pg.TextItem] = []
        for t in range(CLASSES):
            for p in range(CLASSES):
                text = pg.TextItem("", anchor=(0.5, 0.5))
                text.setPos(p + 0.5, t + 0.5)
                plot.addItem(text)
                self._texts.append(text)
        pen = QPen(SELECTION_COLOR, 3)
        pen.setCosmetic(True)
        self._selection = QGraphicsRectItem(QRectF(0, 0, 1, 1))
        self._selection.setPen(pen)
        self._selection.setVisible(False)
        plot.addItem(self._selection)
        self.image.tileClicked.connect(lambda i: self.cellClicked.emit(*divmod(i, CLASSES)))
        self.image.tileHovered.connect(self._on_hovered)

    def set_matrix(self, matrix: np.ndarray | None) -> None:
        """Show ``matrix`` (10, 10) counts, rows = true digit; None shows an empty grid."""
        self.matrix = None if matrix is None else np.asarray(matrix, np.int64)
        if self.matrix is None:
            self.image.clear()
            for text in self._texts:
                text.setText("")
            return
        off_diagonal = self.matrix[~np.eye(CLASSES, dtype=bool)]
        top = float(max(1, off_diagonal.max() if off_diagonal.size else 1))
        self.image.setImage(self.matrix.astype(np.float32), autoLevels=False, levels=(0, top))
        self.colorbar.setLevels((0, top))
        lut = pg.colormap.get(COUNT_MAP)
        for (t, p), count in np.ndenumerate(self.matrix):
            text = self._texts[t * CLASSES + p]
            shade = lut.map(min(count / top, 1.0), mode="float")
            light = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] > 0.55
            text.setColor((20, 20, 20) if light else (240, 240, 240))
            text.setText(str(count) if count else "")

    def select_cell(self, cell: tuple[int, int] | None) -> None:
        """Outline cell (true, predicted), or nothing."""
        self.selected = cell
        if cell is None:
            self._selection.setVisible(False)
            return
        self._selection.setRect(QRectF(cell[1], cell[0], 1, 1))
        self._selection.setVisible(True)

    def cell_center(self, true: int, predicted: int):
        """The viewport position of a cell's centre (for tests and scripting): a QPoint."""
        scene = self.image.mapToScene(QPointF(predicted + 0.5, true + 0.5))
        return self.mapFromScene(scene)

    def _on_hovered(self, index: int) -> None:
        if index < 0 or self.matrix is None:
            self.image.setToolTip("")
            return
        t, p = divmod(index, CLASSES)
        count = int(self.matrix[t, p])
        row = int(self.matrix[t].sum())
        what = "read correctly" if t == p else f"read as {p}"
        self.image.setToolTip(f"{count} of {row} test digits labelled {t} {what}")
