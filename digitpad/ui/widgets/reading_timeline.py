"""Replay with a reading timeline: each class's probability against the ink drawn so far.

The learner sees the moment a 1 became a 7 (the flag) or an 8 became sure. The timeline is computed
from ``core.replay`` one reading per timer tick (a reading costs what one on the pad does, ~2 ms),
so the pad never waits for it, and only while the dock is visible, after the drawing has rested.
Replay animates the marker across the timeline at the speed the drawing was made (or faster) and
shows each partial drawing as the network saw it; dragging the marker scrubs. An image (a loaded
file) has no drawing order: its ink is revealed in reading order, and the dock says so.

Reading letters (52 or 62 classes), the ten curves are the ten classes that rose highest, named
in the legend; the readings are named by class ("L"), as on the pad.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...core import replay

REST_MS = 300  # the drawing must rest this long before its timeline is recomputed
STEP_INTERVAL_MS = 4  # one partial reading per tick: the event loop runs between them
STEPS = 48
SPEEDS = (("1x (as drawn)", 1.0), ("2x", 2.0), ("4x", 4.0))
CURVES = 10  # one per digit; of more classes, the CURVES that rose highest
PALETTE = [QColor.fromHsv(int(h), 170, 210) for h in np.linspace(0, 330, CURVES)]


class ReadingTimeline(QWidget):
    """Signals
    -------
    timelineReady(Timeline): a drawing's timeline has been computed (tests wait for it).
    """

    timelineReady = Signal(object)

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.setObjectName("reading_timeline")
        self.context = context
        self.timeline: replay.Timeline | None = None
        self._inputs: list = []  # per step of the timeline: the network's input image, or None
        self._pending: list | None = None  # the computation in progress: (predictor, steps, partial results)
        self._rest = QTimer(self, singleShot=True, interval=REST_MS, timeout=self._start_computing)
        self._compute = QTimer(self, interval=STEP_INTERVAL_MS, timeout=self._compute_step)
        self._player = QTimer(self, interval=16, timeout=self._play_frame)
        self._play_clock = 0.0
        self._build()
        context.bus.predictionChanged.connect(self._on_drawing_changed)
        context.bus.modelChanged.connect(self._on_drawing_changed)

    # --- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        controls = QHBoxLayout()
        self.replay_button = QPushButton("Replay", objectName="replay_button", clicked=self.replay)
        self.replay_button.setToolTip("Redraw the drawing step by step and watch each class's probability grow")
        self.replay_button.setAccessibleName("Replay the drawing")
        self.speed = QComboBox(objectName="replay_speed")
        self.speed.setToolTip("Replay speed: as fast as it was drawn, or faster")
        self.speed.setAccessibleName("Replay speed")
        for text, factor in SPEEDS:
            self.speed.addItem(text, factor)
        self.info = QLabel("Draw a digit to see how its reading grew.", objectName="timeline_info")
        self.info.setWordWrap(True)
        controls.addWidget(self.replay_button)
        controls.addWidget(self.speed)
        controls.addWidget(self.info, 1)
        layout.addLayout(controls)

        body = QHBoxLayout()
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("timeline_plot")
        self.plot.setLabel("bottom", "ink drawn (%)")
        self.plot.setLabel("left", "probability")
        self.plot.setYRange(0, 1.02, padding=0)
        self.plot.setXRange(0, 100, padding=0.02)
        self.plot.setMouseEnabled(False, False)
        self.plot.setBackground(None)  # the window's own colours, like the probability chart
        legend = self.plot.addLegend(offset=(5, 5), labelTextSize="8pt", colCount=5)
        legend.setColumnCount(5)
        self.legend = legend
        self.curves = [self.plot.plot([], [], pen=pg.mkPen(PALETTE[c], width=1.5), name=str(c)) for c in range(CURVES)]
        self.classes: tuple[str, ...] = tuple(str(c) for c in range(CURVES))  # what the timeline's columns name
        self.curve_classes = list(range(CURVES))  # the column each curve draws
        self.marker = pg.InfiniteLine(pos=100, angle=90, movable=True, pen=pg.mkPen((230, 120, 20), width=2),
                                      hoverPen=pg.mkPen((230, 120, 20), width=4))
        self.marker.setToolTip("Drag to see the drawing and its reading at that moment")
        self.marker.sigPositionChanged.connect(self._on_marker_moved)
        self.plot.addItem(self.marker)
        body.addWidget(self.plot, 1)

        side = QVBoxLayout()
        self.preview = pg.GraphicsLayoutWidget()
        self.preview.setObjectName("timeline_preview")
        self.preview.setFixedSize(140, 140)
        self.preview.setToolTip("The partial drawing as the network sees it at the marker")
        view = self.preview.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.preview_image = pg.ImageItem(np.zeros((28, 28), np.float32), levels=(0, 1))
        view.addItem(self.preview_image)
        self.moment = QLabel("", objectName="timeline_moment", alignment=Qt.AlignmentFlag.AlignCenter)
        side.addWidget(self.preview)
        side.addWidget(self.moment)
        side.addStretch(1)
        body.addLayout(side)
        layout.addLayout(body, 1)

    # --- computing the timeline, one reading per tick ---------------------------------------

    @Slot(object)
    def _on_drawing_changed(self, *_):
        self._player.stop()
        self._compute.stop()
        self._pending = None
        self._rest.start()

    def _source(self):
        """(kind, steps) of what the pad holds now: its strokes, else its image, else nothing."""
        canvas = self.context.canvas
        strokes = canvas.vector_strokes()
        if strokes:
            partials, inks, times = replay.stroke_steps(strokes, STEPS)
            return "strokes", partials, inks, times
        prediction = self.context.model.last_prediction
        if prediction is not None and prediction.prepared is not None and prediction.prepared.image is not None:
            partials, inks = replay.image_steps(prediction.prepared.image, STEPS)
            return "image", partials, inks, np.arange(len(partials)) * 0.05
        return None, [], np.empty(0), np.empty(0)

    def _start_computing(self) -> None:
        predictor = self.context.model.predictor
        if predictor is None or not self.isVisible():
            return
        kind, partials, inks, times = self._source()
        if not partials:
            self._show(None)
            self.info.setText("Draw a digit to see how its reading grew.")
            return
        self._pending = [predictor, kind, partials, inks, times, []]
        self._compute.start()

    def _compute_step(self) -> None:
        if self._pending is None:
            self._compute.stop()
            return
        predictor, kind, partials, inks, times, readings = self._pending
        partial = partials[len(readings)]
        if kind == "strokes":
            readings.append(predictor.predict_strokes(partial))
        else:
            readings.append(predictor.predict_prepared(replay.prepared_image(partial)))
        if len(readings) < len(partials):
            return
        self._compute.stop()
        self._pending = None
        self.classes = predictor.classes
        probabilities, digits = replay.read_all(predictor, readings)
        # What the network saw at each step, kept so that scrubbing reads nothing again.
        self._inputs = [r.prepared.image if r.prepared is not None else None for r in readings]
        self._show(replay.Timeline(inks, times, probabilities, digits, tuple(partials), kind))

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.timeline is None:
            self._rest.start()

    # --- showing ----------------------------------------------------------------------------

    def _show(self, timeline: replay.Timeline | None) -> None:
        self.timeline = timeline
        if timeline is None:
            for curve in self.curves:
                curve.setData([], [])
            return
        x = timeline.ink * 100
        final = np.nan_to_num(timeline.probabilities[-1])
        peaks = np.nan_to_num(timeline.probabilities).max(axis=0)
        leaders = set(np.argsort(-peaks)[:3])
        shown = range(CURVES) if len(peaks) <= CURVES else sorted(np.argsort(-peaks, kind="stable")[:CURVES])
        self.curve_classes = [int(c) for c in shown]
        for colour, (column, curve) in enumerate(zip(self.curve_classes, self.curves)):
            width = 3 if column == int(final.argmax()) else (1.5 if column in leaders else 0.8)
            curve.setPen(pg.mkPen(PALETTE[colour], width=width))
            curve.setData(x, np.nan_to_num(timeline.probabilities[:, column]))
            label = self.legend.getLabel(curve)
            if label is not None and label.text != self.classes[column]:
                label.setText(self.classes[column])
        self._describe(timeline)
        self.marker.setValue(100)
        self._show_step(len(timeline) - 1)
        self.timelineReady.emit(timeline)

    def _describe(self, timeline: replay.Timeline) -> None:
        changes = timeline.changes()
        order = "as it was drawn" if timeline.kind == "strokes" else "in reading order (an image has no drawing order)"
        if changes:
            last = changes[-1]
            text = (f"Revealed {order}. It became a {self._name(timeline.readings[last])} at "
                    f"{timeline.ink[last] * 100:.0f}% of the ink")
        else:
            text = f"Revealed {order}. It read {self._name(timeline.readings[-1])} all along"
        self.info.setText(text + f"; {len(timeline)} steps.")

    def _name(self, reading) -> str:
        """A reading (a class index) by its name: "7", "L"."""
        return self.classes[reading] if reading is not None and 0 <= reading < len(self.classes) else str(reading)

    def _step_at(self, percent: float) -> int:
        return int(np.clip(np.searchsorted(self.timeline.ink * 100, percent - 1e-6), 0, len(self.timeline) - 1))

    @Slot()
    def _on_marker_moved(self) -> None:
        if self.timeline is not None and len(self.timeline):
            self._show_step(self._step_at(self.marker.value()))

    def _show_step(self, step: int) -> None:
        timeline = self.timeline
        image = self._inputs[step]
        self.preview_image.setImage(np.zeros((28, 28), np.float32) if image is None else image, levels=(0, 1))
        digit = timeline.readings[step]
        score = "" if digit is None else f" ({np.nan_to_num(timeline.probabilities[step]).max() * 100:.0f}%)"
        self.moment.setText(f"{timeline.ink[step] * 100:.0f}% of the ink: " + ("nothing yet" if digit is None else f"{self._name(digit)}{score}"))
        self.shown_step = step

    # --- replay -----------------------------------------------------------------------------

    def replay(self) -> None:
        if self.timeline is None or not len(self.timeline):
            return
        self._play_clock = 0.0
        self.marker.setValue(0)
        self._player.start()

    def _play_frame(self) -> None:
        timeline = self.timeline
        if timeline is None:
            self._player.stop()
            return
        self._play_clock += self._player.interval() / 1000 * float(self.speed.currentData())
        step = int(np.searchsorted(timeline.times, self._play_clock, side="right")) - 1
        step = max(step, 0)
        self.marker.setValue(timeline.ink[step] * 100)
        if step >= len(timeline) - 1:
            self._player.stop()


def create_dock_widget(context) -> ReadingTimeline:
    return ReadingTimeline(context)
