"""The drawing pad: smooth strokes kept as vectors and as pixels, with undo/redo, eraser and images.

Strokes are lists of (x, y, t, pressure) points in canvas pixels; the pixels live in a backing
QImage that new segments are painted into incrementally, so a mouse move repaints a few pixels,
not the whole drawing. Undo/redo works per stroke (a clear or a loaded image is one undo step).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap, QTabletEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

PAPER = QColor(255, 255, 255)
INK = QColor(20, 20, 20)
DEFAULT_PEN_WIDTH = 18.0


@dataclass
class Stroke:
    points: list[tuple[float, float, float, float]] = field(default_factory=list)  # x, y, t, pressure
    width: float = DEFAULT_PEN_WIDTH
    erase: bool = False
    pressure_width: bool = False

    def xy(self) -> np.ndarray:
        return np.asarray([(p[0], p[1]) for p in self.points], np.float64).reshape(-1, 2)

    def as_array(self) -> np.ndarray:
        """(n, 4) float: x, y, seconds since the stroke began, pressure."""
        return np.asarray(self.points, np.float64).reshape(-1, 4)


@dataclass
class _Snapshot:
    """One undo state: the strokes and the background image present at that point."""

    strokes: list[Stroke]
    background: QImage | None


class DrawingCanvas(QWidget):
    """Draw with mouse, pen (pressure) or finger.

    Signals
    -------
    drawingChanged: the drawing changed (emitted on every move: receivers coalesce it).
    historyChanged: undo/redo availability may have changed.
    """

    drawingChanged = Signal()
    historyChanged = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setAccessibleName("Drawing canvas")
        self.setAccessibleDescription("Draw a digit here with the mouse, a pen or a finger")
        self.setToolTip("Draw a digit. Right-click or hold Shift to erase. Esc clears.")
        self.prompt = "Draw a digit here"  # shown on an empty pad; the window says what it reads
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 240)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        # Every pixel comes from the backing image: Qt need not paint the window behind a stroke.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.pen_width = DEFAULT_PEN_WIDTH
        self.eraser = False
        self.pressure_width = False  # vary the width with tablet pressure
        self._strokes: list[Stroke] = []
        self._background: QImage | None = None  # a loaded image, drawn under the strokes
        self._undo: list[_Snapshot] = []
        self._redo: list[_Snapshot] = []
        self._current: Stroke | None = None
        self._t0 = 0.0
        self._image = QImage()
        self._overlay: QImage | None = None
        self._resize_backing()

    # --- public API ---------------------------------------------------------------------

    @property
    def strokes(self) -> list[Stroke]:
        return list(self._strokes)

    def vector_strokes(self) -> list[np.ndarray] | None:
        """The drawing as (n, 2) point arrays, or None when only pixels describe it (eraser, image)."""
        if self._background is not None or any(s.erase for s in self._strokes):
            return None
        strokes = [s.xy() for s in self._strokes]
        if self._current is not None and self._current.points and not self._current.erase:
            strokes.append(self._current.xy())
        return strokes

    def is_empty(self) -> bool:
        return self._background is None and not self._strokes and self._current is None

    @property
    def background(self) -> QImage | None:
        """The image on the pad (``set_image``), or None; the same object until it is replaced."""
        return self._background

    def shows_image_only(self) -> bool:
        """An image and nothing drawn over it."""
        return self._background is not None and not self._strokes and self._current is None

    def grayscale(self) -> np.ndarray:
        """The pixels as (H, W) uint8, dark ink on white paper, in device pixels (2x on a 2x screen)."""
        image = self._image.convertToFormat(QImage.Format.Format_Grayscale8)
        ptr = image.constBits()
        array = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine())
        return array[:, : image.width()].copy()

    def clear(self) -> None:
        if self.is_empty():
            return
        self._push_undo()
        self._strokes, self._background = [], None
        self._after_edit()

    def undo(self) -> None:
        if self._undo:
            self._redo.append(self._snapshot())
            self._restore(self._undo.pop())

    def redo(self) -> None:
        if self._redo:
            self._undo.append(self._snapshot())
            self._restore(self._redo.pop())

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def set_image(self, grey_u8: np.ndarray) -> None:
        """Show an image (H, W) uint8 as the pad's content (undoable); strokes start over on top of it."""
        self._push_undo()
        grey = np.ascontiguousarray(grey_u8, np.uint8)
        height, width = grey.shape
        self._background = QImage(grey.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
        self._strokes = []
        self._after_edit()

    def set_strokes(self, strokes: list[np.ndarray], width: float | None = None) -> None:
        """Replace the drawing with vector strokes ((n, 2+) arrays in canvas pixels), undoably."""
        self._push_undo()
        self._background = None
        self._strokes = [
            Stroke([(float(p[0]), float(p[1]), 0.0, 1.0) for p in np.asarray(s)], width or self.pen_width)
            for s in strokes
        ]
        self._after_edit()

    def set_prompt(self, text: str) -> None:
        """What an empty pad invites: "Draw a digit here", or a letter when the pad reads letters."""
        self.prompt = text
        self.update()

    def set_overlay(self, rgba: np.ndarray | None) -> None:
        """An optional translucent (H, W, 4) uint8 image drawn over the pad (e.g. saliency); None hides it."""
        if rgba is None:
            self._overlay = None
        else:
            rgba = np.ascontiguousarray(rgba, np.uint8)
            h, w, _ = rgba.shape
            self._overlay = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        self.update()

    # --- history --------------------------------------------------------------------------

    def _snapshot(self) -> _Snapshot:
        return _Snapshot(list(self._strokes), self._background)

    def _push_undo(self) -> None:
        self._undo.append(self._snapshot())
        self._redo.clear()

    def _restore(self, snapshot: _Snapshot) -> None:
        self._strokes, self._background = list(snapshot.strokes), snapshot.background
        self._after_edit()

    def _after_edit(self) -> None:
        self._repaint_backing()
        self.historyChanged.emit()
        self.drawingChanged.emit()

    # --- painting -------------------------------------------------------------------------

    def _resize_backing(self) -> None:
        # Backing store in device pixels so strokes stay crisp on high-DPI screens.
        ratio = self.devicePixelRatioF()
        self._image = QImage(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)), QImage.Format.Format_RGB32)
        self._image.setDevicePixelRatio(ratio)
        self._repaint_backing()

    def _repaint_backing(self) -> None:
        self._image.fill(PAPER)
        painter = self._image_painter()
        if self._background is not None:
            self._draw_background(painter)
        for stroke in self._strokes:
            self._paint_stroke(painter, stroke)
        painter.end()
        self.update()

    def _draw_background(self, painter: QPainter) -> None:
        # Fit the image inside the pad keeping its aspect ratio, centred, smoothly scaled.
        image = self._background
        scale = min(self.width() / image.width(), self.height() / image.height())
        w, h = image.width() * scale, image.height() * scale
        target = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, image)

    def _pen_for(self, stroke: Stroke, pressure: float = 1.0) -> QPen:
        width = stroke.width * (0.3 + 0.7 * pressure if stroke.pressure_width else 1.0)
        pen = QPen(PAPER if stroke.erase else INK, width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    def _paint_stroke(self, painter: QPainter, stroke: Stroke) -> None:
        points = stroke.points
        if not points:
            return
        self._paint_dot(painter, stroke)  # as live painting starts
        if len(points) == 1:
            return
        # One smoothed piece per segment, as the stroke was painted while drawn. One wide path for the
        # whole stroke left light rings in the ink where a pen recording doubles back on itself
        # between close points (the outline's tiny reversed loops are holes to the fill).
        for i in range(1, len(points)):
            self._paint_segment(painter, stroke, i)
        self._paint_tail(painter, stroke)

    def _image_painter(self) -> QPainter:
        """A painter on the backing image, antialiased; the caller ends it."""
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        return painter

    def _paint_dot(self, painter: QPainter, stroke: Stroke) -> None:
        """The stroke's first point: a round dot of the pen."""
        x, y, _t, pressure = stroke.points[0]
        painter.setPen(self._pen_for(stroke, pressure))
        painter.drawPoint(QPointF(x, y))

    def _paint_tail(self, painter: QPainter, stroke: Stroke) -> None:
        """The last half segment, up to the last point: each piece ends half a segment short."""
        pts = stroke.points
        painter.setPen(self._pen_for(stroke, pts[-1][3]))
        painter.drawLine(_mid(pts[-2], pts[-1]), QPointF(pts[-1][0], pts[-1][1]))

    def _paint_segment(self, painter: QPainter, stroke: Stroke, i: int) -> None:
        """Paint the smoothed piece of ``stroke`` that ends at point ``i`` (quadratic through midpoints)."""
        pts = stroke.points
        painter.setPen(self._pen_for(stroke, pts[i][3]))
        path = QPainterPath()
        prev_mid = _mid(pts[i - 2], pts[i - 1]) if i >= 2 else QPointF(pts[0][0], pts[0][1])
        path.moveTo(prev_mid)
        path.quadTo(QPointF(pts[i - 1][0], pts[i - 1][1]), _mid(pts[i - 1], pts[i]))
        painter.drawPath(path)

    def _paint_latest(self) -> None:
        stroke = self._current
        painter = self._image_painter()
        i = len(stroke.points) - 1
        if i == 0:
            self._paint_dot(painter, stroke)
        else:
            self._paint_segment(painter, stroke, i)
        painter.end()
        x, y = stroke.points[-1][0], stroke.points[-1][1]
        px, py = stroke.points[max(0, i - 2)][0], stroke.points[max(0, i - 2)][1]
        margin = int(stroke.width) + 4
        self.update(int(min(x, px)) - margin, int(min(y, py)) - margin, int(abs(x - px)) + 2 * margin, int(abs(y - py)) + 2 * margin)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        ratio = self._image.devicePixelRatio()
        rect = event.rect()
        source = QRectF(rect.x() * ratio, rect.y() * ratio, rect.width() * ratio, rect.height() * ratio)
        painter.drawImage(QRectF(rect), self._image, source)
        if self._overlay is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(QRectF(self.rect()), self._overlay)
        if self.is_empty():
            painter.setPen(QColor(150, 150, 150))
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.6)
            painter.setFont(font)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.prompt)
        painter.end()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        old = (event.oldSize().width(), event.oldSize().height())
        if old[0] > 0 and old[1] > 0:
            sx, sy = self.width() / old[0], self.height() / old[1]
            scale = min(sx, sy)
            for stroke in self._strokes:  # keep the drawing where it was, relative to the pad
                stroke.points = [(x * sx, y * sy, t, p) for x, y, t, p in stroke.points]
                stroke.width *= scale
        self._resize_backing()
        super().resizeEvent(event)

    # --- input ----------------------------------------------------------------------------

    def _begin(self, pos: QPointF, pressure: float, erase: bool) -> None:
        self._push_undo()
        self._t0 = time.monotonic()
        self._current = Stroke([], self.pen_width, erase or self.eraser, self.pressure_width)
        self._strokes.append(self._current)
        self._extend(pos, pressure)
        self.historyChanged.emit()

    def _extend(self, pos: QPointF, pressure: float) -> None:
        if self._current is None:
            return
        self._current.points.append((pos.x(), pos.y(), time.monotonic() - self._t0, pressure))
        self._paint_latest()
        self.drawingChanged.emit()

    def _end(self) -> None:
        if self._current is None:
            return
        stroke, self._current = self._current, None
        if len(stroke.points) > 1:  # live painting leaves the last half segment to the end
            painter = self._image_painter()
            self._paint_tail(painter, stroke)
            painter.end()
            self.update()
        self.drawingChanged.emit()

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            erase = event.button() == Qt.MouseButton.RightButton or bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self._begin(event.position(), 1.0, erase)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._current is not None:
            self._extend(event.position(), 1.0)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._end()

    def tabletEvent(self, event: QTabletEvent) -> None:  # noqa: N802 - Qt override
        kind = event.type()
        if kind == QTabletEvent.Type.TabletPress:
            eraser = event.pointerType() == event.pointerType().Eraser
            self._begin(event.position(), event.pressure(), eraser)
        elif kind == QTabletEvent.Type.TabletMove and self._current is not None:
            self._extend(event.position(), event.pressure())
        elif kind == QTabletEvent.Type.TabletRelease:
            self._end()
        event.accept()  # no synthesized mouse events: the pen path already handled it


def _mid(a, b) -> QPointF:
    return QPointF((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)


def image_to_pixmap(grey: np.ndarray, size: int) -> QPixmap:
    """(h, w) float [0, 1] or uint8 -> a QPixmap about ``size`` wide, each pixel a solid square.

    Enlarged by whole-number repeats in numpy: cheaper than QImage.scaled on every frame, and the
    pixels stay exactly square."""
    array = grey if grey.dtype == np.uint8 else np.clip(grey * 255, 0, 255).astype(np.uint8)
    factor = max(1, size // max(array.shape))
    array = np.ascontiguousarray(array.repeat(factor, axis=0).repeat(factor, axis=1))
    h, w = array.shape
    return QPixmap.fromImage(QImage(array.data, w, h, w, QImage.Format.Format_Grayscale8))
