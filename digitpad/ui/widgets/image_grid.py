"""Many small images tiled into one array for one ImageItem, and the item that maps pixels back to tiles.

Hundreds of kernels or feature maps as hundreds of widgets would be slow to build and to lay out;
composed in numpy into one mosaic they are a single ``setImage``. ``TileLayout`` remembers where each
tile went, so hovering and clicking can name the tile under the mouse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

TILE_GAP_PX = 1  # image pixels of transparent gap between tiles


@dataclass(frozen=True)
class TileLayout:
    """Where ``n`` tiles of ``tile_h`` x ``tile_w`` sit in a ``rows`` x ``cols`` mosaic, row by row."""

    n: int
    rows: int
    cols: int
    tile_h: int
    tile_w: int
    gap: int = TILE_GAP_PX

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the mosaic in image pixels."""
        if self.n == 0:
            return (0, 0)
        return (self.rows * (self.tile_h + self.gap) - self.gap, self.cols * (self.tile_w + self.gap) - self.gap)

    def index_at(self, x: float, y: float) -> int | None:
        """The tile under mosaic point (x = column, y = row, in image pixels), or None (gap, outside)."""
        if self.n == 0 or x < 0 or y < 0:
            return None
        col, dx = divmod(int(math.floor(x)), self.tile_w + self.gap)
        row, dy = divmod(int(math.floor(y)), self.tile_h + self.gap)
        if dx >= self.tile_w or dy >= self.tile_h or col >= self.cols or row >= self.rows:
            return None
        index = row * self.cols + col
        return index if index < self.n else None

    def tile_origin(self, index: int) -> tuple[int, int]:
        """(x, y) of tile ``index``'s top-left corner in the mosaic."""
        row, col = divmod(index, self.cols)
        return col * (self.tile_w + self.gap), row * (self.tile_h + self.gap)


def grid_shape(n: int, cols: int | None = None) -> tuple[int, int]:
    """(rows, cols) for ``n`` tiles: ``cols`` if given, else as square as possible."""
    if n <= 0:
        return 0, 0
    cols = cols or math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def tile_images(images: np.ndarray, cols: int | None = None, gap: int = TILE_GAP_PX) -> tuple[np.ndarray, TileLayout]:
    """Tile ``images`` (n, h, w) into one float32 mosaic; gaps are NaN, which ImageItem draws transparent."""
    images = np.asarray(images, np.float32)
    n, h, w = images.shape
    rows, cols = grid_shape(n, cols)
    layout = TileLayout(n, rows, cols, h, w, gap)
    if n == 0:
        return np.zeros((0, 0), np.float32), layout
    cells = np.full((rows * cols, h + gap, w + gap), np.nan, np.float32)
    cells[:n, :h, :w] = images
    mosaic = cells.reshape(rows, cols, h + gap, w + gap).transpose(0, 2, 1, 3).reshape(rows * (h + gap), cols * (w + gap))
    height, width = layout.shape
    return np.ascontiguousarray(mosaic[:height, :width]), layout


class TileImageItem(pg.ImageItem):
    """A row-major ImageItem showing a mosaic, reporting the tile under the mouse.

    Signals
    -------
    tileHovered(int): the tile under the mouse changed; -1 when over a gap or outside.
    tileClicked(int): a tile was clicked with the left button.
    """

    tileHovered = Signal(int)
    tileClicked = Signal(int)

    def __init__(self):
        # Row-major explicitly, so the item is right even where ensure_app() did not set it globally.
        super().__init__(axisOrder="row-major")
        self.layout: TileLayout | None = None
        self._hovered = -1

    def set_mosaic(self, mosaic: np.ndarray, layout: TileLayout, levels: tuple[float, float]) -> None:
        self.layout = layout
        if layout.n == 0:
            self.clear()
        else:
            self.setImage(mosaic, autoLevels=False, levels=levels)

    def _tile_at(self, pos) -> int:
        if self.layout is None:
            return -1
        index = self.layout.index_at(pos.x(), pos.y())
        return -1 if index is None else index

    def hoverEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph override
        index = -1 if ev.isExit() else self._tile_at(ev.pos())
        if index >= 0:
            ev.acceptClicks(Qt.MouseButton.LeftButton)  # the click is ours, not the view's
        if index != self._hovered:
            self._hovered = index
            self.tileHovered.emit(index)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph override
        if ev.button() == Qt.MouseButton.LeftButton:
            index = self._tile_at(ev.pos())
            if index >= 0:
                ev.accept()
                self.tileClicked.emit(index)
                return
        super().mouseClickEvent(ev)
