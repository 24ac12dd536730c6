"""The pen's controls beside the pad: width, eraser, width by pressure, Clear."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout

from .canvas import DrawingCanvas


class PenControls:
    """Makes the controls for ``canvas`` and lays them out in ``layout`` (the window places it)."""

    def __init__(self, canvas: DrawingCanvas):
        self.layout = QVBoxLayout()
        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setObjectName("pen_width")
        self.pen_slider.setAccessibleName("Pen width")
        self.pen_slider.setToolTip("Pen width (the network sees the same stroke width whatever you pick)")
        self.pen_slider.setRange(2, 60)
        self.pen_slider.setValue(int(canvas.pen_width))
        self.pen_slider.valueChanged.connect(lambda v: setattr(canvas, "pen_width", float(v)))
        self.eraser_button = QToolButton()
        self.eraser_button.setObjectName("eraser")
        self.eraser_button.setText("Eraser")
        self.eraser_button.setCheckable(True)
        self.eraser_button.setAccessibleName("Eraser")
        self.eraser_button.setToolTip("Erase instead of drawing (or draw with the right mouse button)")
        self.eraser_button.toggled.connect(lambda on: setattr(canvas, "eraser", on))
        self.pressure_box = QCheckBox("Width by pen pressure")
        self.pressure_box.setObjectName("pressure_width")
        self.pressure_box.setAccessibleName("Width by pen pressure")
        self.pressure_box.setToolTip("With a tablet pen, press harder for a wider line")
        self.pressure_box.toggled.connect(lambda on: setattr(canvas, "pressure_width", on))
        self.clear_button = QToolButton()
        self.clear_button.setObjectName("clear_button")
        self.clear_button.setText("Clear")
        self.clear_button.setAccessibleName("Clear the pad")
        self.clear_button.setToolTip("Clear the pad (Esc)")
        self.clear_button.clicked.connect(canvas.clear)
        pen_label = QLabel("Pen width")
        self.layout.addWidget(pen_label)
        self.layout.addWidget(self.pen_slider)
        buttons = QHBoxLayout()
        buttons.addWidget(self.eraser_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        self.layout.addLayout(buttons)
        self.layout.addWidget(self.pressure_box)
        self.layout.addStretch(1)
