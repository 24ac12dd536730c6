"""Live training curves: loss per batch, accuracy (or error) per epoch, learning rate.

Every curve is one ``PlotDataItem`` created once and fed from the growing numpy buffers of a
``core.history.RunHistory`` (the numbers, Qt-free). Events only append to the buffers and mark
the view dirty; a single-shot timer redraws at most
``REDRAW_INTERVAL_MS`` later with ``setData`` (pyqtgraph's scrollingPlots recipe), with peak
downsampling and clip-to-view so a long run costs the same to draw as a short one. Hovering a plot
shows the values under the cursor (rate-limited with ``SignalProxy``).

What a redraw costs, and why it is cheap (measured on the 2-core dev machine, benchmarks/ui_stall.py):
most of a pyqtgraph repaint is its axes re-rendering tick labels and replaying grid lines. So the x
axes span the whole run from its start (they never move), the loss axis is [0, highest loss] (it
moves only on a new high), the lr axis is [0, peak lr], the left axes have a fixed width, there is
no grid, only the plots whose data changed get ``setData``, and redraws come at most 10 times a
second. A loss-plot repaint went from ~6 to ~1.5 ms of GUI-thread CPU, the idle accuracy plot stopped
repainting, and the training UI's share of the GUI thread fell from ~33% to ~5% at 20 reports/s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from ...core.history import RunHistory, export_csv

REDRAW_INTERVAL_MS = 100  # 10 redraws a second at most, only when something changed (see above)
HOVER_RATE_HZ = 30
ERROR_FLOOR = 1e-4  # a perfect epoch still has a place on the log axis
EXPORT_MIN_HEIGHT_PX = 600
LEFT_AXIS_WIDTH_PX = 52

RAW_LOSS_PEN = pg.mkPen(QColor(70, 110, 200, 60), width=1)
SMOOTH_LOSS_PEN = pg.mkPen(QColor(30, 80, 200), width=2)
VAL_LOSS_PEN = pg.mkPen(QColor(220, 120, 30), width=2)
TRAIN_ACC_PEN = pg.mkPen(QColor(30, 80, 200), width=2)
VAL_ACC_PEN = pg.mkPen(QColor(220, 120, 30), width=2)
LR_PEN = pg.mkPen(QColor(60, 150, 80), width=2)


def _plot(name: str, accessible: str, title: str, left: str, bottom: str) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    widget.setBackground(None)
    widget.setMinimumSize(180, 140)
    plot = widget.getPlotItem()
    plot.setTitle(title, size="9pt")
    plot.setLabel("left", left)
    plot.setLabel("bottom", bottom)
    # No grid: replaying an axis's grid lines on every repaint doubled the cost of a redraw.
    for side in ("left", "bottom"):  # "accuracy (x0.001)" with ticks 930..990 reads badly
        plot.getAxis(side).enableAutoSIPrefix(False)
    plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH_PX)  # tick labels changing width never re-lay out the plot
    plot.setDownsampling(auto=True, mode="peak")
    plot.setClipToView(True)
    return widget


class TrainingCurves(QWidget):
    """Three plots side by side; feed it core events with ``add_event`` (GUI thread)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("training_curves")
        self.setAccessibleName("Training curves")
        self.loss_plot = _plot("loss_plot", "Loss per batch", "Loss", "loss", "batch")
        self.loss_plot.setToolTip("Training loss of every batch (faint) and its moving average; validation loss per epoch")
        self.accuracy_plot = _plot("accuracy_plot", "Accuracy per epoch", "Accuracy", "accuracy", "epoch")
        self.accuracy_plot.setToolTip("Training and validation accuracy per epoch (or error, on a log axis)")
        self.lr_plot = _plot("lr_plot", "Learning rate", "Learning rate", "lr", "batch")
        self.lr_plot.setToolTip("The optimizer's learning rate as the schedule moves it")
        # Legends where the curves are not: loss falls from the top left, accuracy rises to the top.
        self.loss_plot.getPlotItem().addLegend(offset=(-5, 5), labelTextSize="8pt")
        self.accuracy_plot.getPlotItem().addLegend(offset=(-5, -5), labelTextSize="8pt")

        loss = self.loss_plot.getPlotItem()
        self._raw_loss = loss.plot(pen=RAW_LOSS_PEN, name="batch", antialias=False)  # thousands of faint segments
        self._smooth_loss = loss.plot(pen=SMOOTH_LOSS_PEN, name="smoothed")
        self._val_loss = loss.plot(pen=VAL_LOSS_PEN, symbol="o", symbolSize=5, symbolBrush=VAL_LOSS_PEN.color(), name="validation")
        accuracy = self.accuracy_plot.getPlotItem()
        self._train_acc = accuracy.plot(pen=TRAIN_ACC_PEN, symbol="o", symbolSize=5, symbolBrush=TRAIN_ACC_PEN.color(), name="train")
        self._val_acc = accuracy.plot(pen=VAL_ACC_PEN, symbol="o", symbolSize=5, symbolBrush=VAL_ACC_PEN.color(), name="validation")
        self._test_acc = accuracy.plot(pen=None, symbol="star", symbolSize=12, symbolBrush=QColor(200, 40, 40), name="test")
        self._lr = self.lr_plot.getPlotItem().plot(pen=LR_PEN)

        self.error_box = QCheckBox("Error, log axis")
        self.error_box.setObjectName("error_log")
        self.error_box.setAccessibleName("Show error on a log axis")
        self.error_box.setToolTip("Plot the error (1 - accuracy) on a logarithmic axis: the last tenths of a percent become visible")
        self.error_box.toggled.connect(self._on_error_toggled)

        plots = QHBoxLayout()
        plots.setContentsMargins(0, 0, 0, 0)
        plots.addWidget(self.loss_plot, 3)
        plots.addWidget(self.accuracy_plot, 2)
        plots.addWidget(self.lr_plot, 2)
        options = QHBoxLayout()
        options.addStretch(1)
        options.addWidget(self.error_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(plots, 1)
        layout.addLayout(options)

        self._hover = {}
        for key, widget in (("loss", self.loss_plot), ("accuracy", self.accuracy_plot), ("lr", self.lr_plot)):
            text = pg.TextItem("", anchor=(0, 1), color=(40, 40, 40), fill=pg.mkBrush(255, 255, 255, 200))
            text.setZValue(100)
            text.hide()
            widget.getPlotItem().addItem(text, ignoreBounds=True)
            proxy = pg.SignalProxy(widget.scene().sigMouseMoved, rateLimit=HOVER_RATE_HZ,
                                   slot=lambda args, k=key: self._on_mouse_moved(k, args[0]))
            self._hover[key] = (text, proxy)

        self.loss_plot.getPlotItem().getViewBox().sigRangeChangedManually.connect(self._on_loss_range_changed_by_user)
        self.redraw_timer = QTimer(self)
        self.redraw_timer.setSingleShot(True)
        self.redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self.redraw_timer.timeout.connect(self.redraw)
        self.redraws = 0  # for tests and the benchmark
        self.peak_lr: float | None = None  # set before a run: the lr axis is fixed, not re-ranged per report
        self.history = RunHistory()
        self.clear()

    # --- data ---------------------------------------------------------------------------------

    def clear(self) -> None:
        self.history.clear()
        self._reset_view()

    def _reset_view(self) -> None:
        self._loss_top_shown = 0.0
        self._follow_loss = True  # until the user pans or zooms the loss plot
        self._dirty = {"steps", "epochs"}
        for widget in (self.loss_plot, self.lr_plot, self.accuracy_plot):
            widget.getPlotItem().enableAutoRange()
        self.loss_plot.getPlotItem().enableAutoRange(y=False)  # _range_loss_axis does it
        self.redraw()

    # The history's buffers, read by the hover text, the exports, tests and benchmarks.
    steps = property(lambda self: self.history.steps)  # step, loss, smoothed loss
    lrs = property(lambda self: self.history.lrs)  # step, lr
    epochs = property(lambda self: self.history.epochs)  # core.history.EPOCH_COLUMNS
    test_accuracy = property(lambda self: self.history.test_accuracy)

    @property
    def loss_count(self) -> int:
        """Batch losses received so far."""
        return len(self.steps)

    def add_event(self, event: object) -> None:
        """Take one core event; the plots follow at the next redraw tick."""
        changed = self.history.add(event)
        if changed == "started":
            self._reset_view()
            # The whole run's width from the start: the x axes never change while it grows (each
            # axis change re-renders its tick labels: the dearest part of a redraw).
            total = max(1, event.epochs * event.steps_per_epoch)
            for widget in (self.loss_plot, self.lr_plot):
                widget.getPlotItem().setXRange(0, total, padding=0.02)
            self.accuracy_plot.getPlotItem().setXRange(0.5, event.epochs + 0.5, padding=0)
            if self.peak_lr:
                self.lr_plot.getPlotItem().setYRange(0, self.peak_lr, padding=0.05)
        elif changed == "steps":
            if self.peak_lr and event.lr > self.peak_lr * 1.05:  # a schedule beyond its peak: follow it
                self.lr_plot.getPlotItem().enableAutoRange(y=True)
            self._mark_dirty("steps")
        elif changed == "epochs":
            self._mark_dirty("epochs")

    def _mark_dirty(self, group: str) -> None:
        self._dirty.add(group)
        if not self.redraw_timer.isActive():
            self.redraw_timer.start()

    # --- drawing ------------------------------------------------------------------------------

    def _accuracy_values(self, accuracy: np.ndarray) -> np.ndarray:
        if self.error_box.isChecked():
            return np.clip(1.0 - accuracy, ERROR_FLOOR, 1.0)
        return accuracy

    def redraw(self) -> None:
        """Push what changed since the last redraw to its items (only those: each setData repaints)."""
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        self.redraws += 1
        if "steps" in dirty:
            steps = self.steps
            self._raw_loss.setData(steps.column(0), steps.column(1))
            self._smooth_loss.setData(steps.column(0), steps.column(2))
            self._lr.setData(self.lrs.column(0), self.lrs.column(1))
            self._range_loss_axis()
        if "epochs" in dirty:
            epochs = self.epochs
            self._val_loss.setData(*_finite(epochs.column(1), epochs.column(4)))
            self._train_acc.setData(epochs.column(0), self._accuracy_values(epochs.column(3)))
            self._val_acc.setData(*_finite(epochs.column(0), self._accuracy_values(epochs.column(5))))
            if self.test_accuracy is not None and len(epochs):
                self._test_acc.setData([epochs.column(0)[-1]], self._accuracy_values(np.array([self.test_accuracy])))
            else:
                self._test_acc.setData([], [])

    def _range_loss_axis(self) -> None:
        # pyqtgraph's auto-range would re-range (and re-render the tick labels) on every report as
        # the lowest loss falls; [0, highest loss] changes only when a new high arrives.
        view = self.loss_plot.getPlotItem().getViewBox()
        top = self.history.loss_top
        if not self._follow_loss or view.autoRangeEnabled()[1] or top <= 0:
            return  # the user has taken over (the "A" button gives pyqtgraph's auto-range back)
        if top != self._loss_top_shown:
            self._loss_top_shown = top
            view.setYRange(0, top, padding=0.02)

    def _on_loss_range_changed_by_user(self, *_args) -> None:
        self._follow_loss = False

    def _on_error_toggled(self, on: bool) -> None:
        plot = self.accuracy_plot.getPlotItem()
        plot.setLogMode(y=on)
        plot.setTitle("Error (log)" if on else "Accuracy", size="9pt")
        plot.setLabel("left", "error" if on else "accuracy")
        self._hover["accuracy"][0].hide()
        self._dirty.add("epochs")
        self.redraw()

    # --- hover --------------------------------------------------------------------------------

    def _on_mouse_moved(self, key: str, scene_pos) -> None:
        widget = {"loss": self.loss_plot, "accuracy": self.accuracy_plot, "lr": self.lr_plot}[key]
        text, _ = self._hover[key]
        plot = widget.getPlotItem()
        if not plot.sceneBoundingRect().contains(scene_pos):
            text.hide()
            return
        point = plot.vb.mapSceneToView(scene_pos)
        label = self.hover_text(key, point.x())
        if not label:
            text.hide()
            return
        text.setText(label)
        text.setPos(point.x(), point.y())
        text.show()

    def hover_text(self, key: str, x: float) -> str:
        """What hovering at data coordinate ``x`` of plot ``key`` shows ('' when nothing is there)."""
        if key == "loss":
            if not len(self.steps):
                return ""
            i = _nearest(self.steps.column(0), x)
            row = self.steps.rows()[i]
            return f"batch {int(row[0])}\nloss {row[1]:.4f}\nsmoothed {row[2]:.4f}"
        if key == "lr":
            if not len(self.lrs):
                return ""
            i = _nearest(self.lrs.column(0), x)
            step, lr = self.lrs.rows()[i]
            return f"batch {int(step)}\nlr {lr:.3g}"
        if not len(self.epochs):
            return ""
        i = _nearest(self.epochs.column(0), x)
        row = self.epochs.rows()[i]
        if self.error_box.isChecked():
            return f"epoch {int(row[0])}\ntrain error {(1 - row[3]) * 100:.2f}%\nval error {(1 - row[5]) * 100:.2f}%"
        return f"epoch {int(row[0])}\ntrain {row[3] * 100:.2f}%\nval {row[5] * 100:.2f}%"

    # --- export -------------------------------------------------------------------------------

    def export_png(self, path: str | Path) -> Path:
        """The three plots side by side in one PNG, each rendered by pyqtgraph's ImageExporter."""
        self.redraw()
        for text, _ in self._hover.values():
            text.hide()
        images = []
        for widget in (self.loss_plot, self.accuracy_plot, self.lr_plot):
            exporter = ImageExporter(widget.getPlotItem())
            params = exporter.parameters()
            # Exported at twice the on-screen size (at least EXPORT_MIN_HEIGHT_PX): text scales with it.
            scale = max(2.0, EXPORT_MIN_HEIGHT_PX / max(1.0, float(params["height"])))
            params["width"] = int(params["width"] * scale)  # the height follows the aspect ratio
            params["background"] = QColor("white")
            images.append(exporter.export(toBytes=True))
        width = sum(image.width() for image in images)
        height = max(image.height() for image in images)
        combined = QImage(width, height, QImage.Format.Format_ARGB32)
        combined.fill(QColor("white"))
        painter = QPainter(combined)
        x = 0
        for image in images:
            painter.drawImage(x, 0, image)
            x += image.width()
        painter.end()
        path = Path(path)
        if not combined.save(str(path), "PNG"):
            raise OSError(f"cannot write {path}")
        return path

    def export_csv(self, path: str | Path) -> tuple[Path, Path]:
        """Per-epoch metrics to ``path`` and per-batch losses to ``<stem>-batches.csv`` beside it."""
        return export_csv(self.history, path)


def _nearest(xs: np.ndarray, x: float) -> int:
    i = int(np.searchsorted(xs, x))
    if i <= 0:
        return 0
    if i >= len(xs):
        return len(xs) - 1
    return i if xs[i] - x < x - xs[i - 1] else i - 1


def _finite(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Only the points with a value: a run without validation (fine-tuning) has NaN there, and an
    all-NaN curve makes pyqtgraph's range code warn."""
    keep = np.isfinite(y)
    return x[keep], y[keep]
