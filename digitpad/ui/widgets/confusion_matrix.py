"""The confusion matrix heat map: one ImageItem, counts as text, a colour bar; cells are clickable.

Follows pyqtgraph's MatrixDisplayExample: row-major image, ``invertY``, digit ticks, ``ColorBarItem``.
Rows are the true digit, columns the prediction (``core.metrics.confusion_matrix``). The colour
scale tops out at the largest off-diagonal count, so the mistakes are what the colours resolve;
the diagonal (the correct readings) saturates.

Ten digits by default; ``set_matrix(matrix, classes)`` shows any classes (52 letters for the pen
letters): beyond ten, the cells are too small for their counts, which the tooltip gives instead.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from ...core.alphabets import DIGITS
from .image_grid import TileImageItem, TileLayout

CLASSES = 10  # cells with their counts printed: up to this many classes
COUNT_MAP = "viridis"
SELECTION_COLOR = QColor(255, 60, 60)
SMALL_TICK_POINTS = 6.5  # 52 letters along a side of a few hundred pixels


class ConfusionMatrixView(pg.GraphicsLayoutWidget):
    """Signals
    -------
    cellClicked(int, int): (true class, predicted class) of a clicked cell, indices into ``classes``.

    Inspectable state: ``matrix`` ((n, n) int64 or None), ``classes``, ``selected`` ((true, predicted) or None).
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
        self.classes: tuple[str, ...] = ()
        self.selected: tuple[int, int] | None = None
        self.plot = self.addPlot()
        plot = self.plot
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.invertY(True)
        plot.setAspectLocked(True)
        for side in ("left", "top"):
            plot.getAxis(side).setStyle(tickLength=0)
        plot.showAxis("top")
        plot.hideAxis("bottom")
        self._tick_font = QFont(self.font())
        self.image = TileImageItem()
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
        self.image.tileClicked.connect(lambda i: self.cellClicked.emit(*divmod(i, len(self.classes))))
        self.image.tileHovered.connect(self._on_hovered)
        self._set_classes(DIGITS)

    def _set_classes(self, classes) -> None:
        """Axes, cells and printed counts for these classes (rebuilt only when they change)."""
        classes = tuple(classes)
        if classes == self.classes:
            return
        n = len(classes)
        self.classes = classes
        plot = self.plot
        plot.setRange(xRange=(0, n), yRange=(0, n), padding=0.01)
        font = QFont(self._tick_font)
        if n > CLASSES:
            font.setPointSizeF(SMALL_TICK_POINTS)
        ticks = [[(i + 0.5, label) for i, label in enumerate(classes)], []]
        for side in ("left", "top"):
            plot.getAxis(side).setTicks(ticks)
            plot.getAxis(side).setStyle(tickFont=font, textFillLimits=[(0, 2.0)])
        what = "digit" if classes == DIGITS else "letter" if all(c.isalpha() for c in classes) else "class"
        plot.setLabel("left", f"true {what}")
        plot.setLabel("top", f"predicted {what}")
        self.image.layout = TileLayout(n * n, n, n, 1, 1, gap=0)
        for text in self._texts:
            text.setText("")
            text.setVisible(n <= CLASSES)

    def set_matrix(self, matrix: np.ndarray | None, classes=None) -> None:
        """Show ``matrix`` (n, n) counts of ``classes`` (default: the digits), rows = true class;
        None shows an empty grid."""
        self._set_classes(DIGITS if classes is None else classes)
        self.matrix = None if matrix is None else np.asarray(matrix, np.int64)
        if self.matrix is None:
            self.image.clear()
            for text in self._texts:
                text.setText("")
            return
        n = len(self.classes)
        off_diagonal = self.matrix[~np.eye(n, dtype=bool)]
        top = float(max(1, off_diagonal.max() if off_diagonal.size else 1))
        self.image.setImage(self.matrix.astype(np.float32), autoLevels=False, levels=(0, top))
        self.colorbar.setLevels((0, top))
        if n > CLASSES:
            return  # cells too small for their counts: the tooltip says them
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
        t, p = divmod(index, len(self.classes))
        count = int(self.matrix[t, p])
        row = int(self.matrix[t].sum())
        what = "read correctly" if t == p else f"read as {self.classes[p]}"
        noun = "digits" if self.classes == DIGITS else "drawings"
        self.image.setToolTip(f"{count} of {row} test {noun} labelled {self.classes[t]} {what}")
