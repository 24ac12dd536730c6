"""Two models side by side: the pad's model and a second checkpoint read the same drawing.

Pick a second model (a shipped one, a preset you trained, the model before fine-tuning, any ``.safetensors``);
its chart sits beside the reading, both readings are named, and a disagreement is highlighted. The
second reading is made right after the pad's own (at most 20 a second), so the pad is never slower.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QMenu, QPushButton, QVBoxLayout, QWidget

from ...core.checkpoints import Checkpoint, CheckpointError, load_checkpoint
from ...core.inference import Predictor, shipped_model_title, shipped_models
from .probability_bars import TOP_COLOR, UNSURE_TOP_COLOR, ProbabilityChart

READ_INTERVAL_MS = 50
DISAGREE_STYLE = "color: #c0392b; font-weight: bold;"


class CompareChart(QWidget):
    """Signals
    -------
    compared(first, second): both readings of the current drawing (``Prediction`` each, or None).
    """

    compared = Signal(object, object)

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.setObjectName("compare_chart")
        self.context = context
        self.second: Predictor | None = None
        self.second_name = ""
        self.first_reading = None
        self.second_reading = None
        self._read = QTimer(self, singleShot=True, interval=READ_INTERVAL_MS, timeout=self.refresh)
        self._build()
        context.bus.predictionChanged.connect(self._on_prediction)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.choose_button = QPushButton("Second model…", objectName="compare_choose")
        self.choose_menu = QMenu(self.choose_button, objectName="compare_choose_menu")
        self.choose_menu.aboutToShow.connect(self._fill_choose_menu)
        self.choose_button.setMenu(self.choose_menu)
        self.choose_button.setToolTip("Pick a second model to read the same drawing: a shipped one or a file")
        self.choose_button.setAccessibleName("Choose a second model")
        self.model_label = QLabel("No second model yet.", objectName="compare_model", wordWrap=True)
        row.addWidget(self.choose_button)
        row.addWidget(self.model_label, 1)
        layout.addLayout(row)
        self.verdict = QLabel("", objectName="compare_verdict", wordWrap=True)
        layout.addWidget(self.verdict)
        self.plot = ProbabilityChart()  # the same chart as the pad's, for the second model
        self.plot.setObjectName("compare_plot")
        self.plot.setAccessibleName("The second model's probabilities")
        self.plot.setToolTip("The second model's probability for each digit")
        self.plot.setMaximumHeight(260)
        self.bars = self.plot.bars
        layout.addWidget(self.plot, 1)

    # --- the second model -------------------------------------------------------------------

    def _fill_choose_menu(self) -> None:
        """The shipped models by name and title (read when the menu opens), then any file."""
        self.choose_menu.clear()
        for name, path in shipped_models().items():
            action = self.choose_menu.addAction(f"{shipped_model_title(path)}  ({name})")  # as File > Shipped models
            action.setObjectName(f"compare_shipped_{name}")
            action.triggered.connect(lambda _checked=False, path=path: self.load_model(path))
        if not self.choose_menu.isEmpty():
            self.choose_menu.addSeparator()
        self.choose_menu.addAction("Open a model file…", self.choose_model).setObjectName("compare_open_file")

    def choose_model(self) -> None:
        start = str(self.context.model.model_path.parent) if self.context.model.model_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Second model", start, "digitpad models (*.safetensors)")
        if path:
            self.load_model(path)

    def load_model(self, path: str | Path) -> bool:
        try:
            checkpoint = load_checkpoint(path)
        except CheckpointError as error:
            self.model_label.setText(f"Cannot open: {error}")
            return False
        self.set_second(checkpoint, Path(path).stem)
        return True

    def set_second(self, checkpoint: Checkpoint, name: str) -> None:
        self.second = Predictor(checkpoint)  # in its own alphabet: a digits model reads digits
        self.plot.set_classes(self.second.classes)
        self.second_name = name
        detail = f", {checkpoint.test_figure}" if checkpoint.test_figure else ""
        self.model_label.setText(f"Second model: {name} ({checkpoint.arch}{detail})")
        self.refresh()

    # --- reading ----------------------------------------------------------------------------

    @Slot(object)
    def _on_prediction(self, _prediction) -> None:
        if self.second is not None and not self._read.isActive():
            self._read.start()

    def refresh(self) -> None:
        first = self.context.model.last_prediction
        if self.second is None or first is None or first.prepared is None or first.prepared.image is None:
            self.plot.set_probabilities(None)
            self.first_reading = self.second_reading = None
            self.verdict.setText("" if self.second is None else "Draw a digit: both models will read it.")
            self.verdict.setStyleSheet("")
            return
        second = self.second.predict_image(first.prepared.image) if self.second.spec.size != first.prepared.image.shape[0] \
            else self.second.predict_prepared(first.prepared)
        self.first_reading, self.second_reading = first, second
        self.bars.set_values(second.probabilities, TOP_COLOR if second.confident else UNSURE_TOP_COLOR)
        agree = first.label == second.label  # by name: a digit's index and a letter's differ in a joint model
        self.verdict.setText(
            f"Pad's model: {first.label} ({first.score * 100:.0f}%) · {self.second_name}: {second.label} "
            f"({second.score * 100:.0f}%)" + ("" if agree else " — they disagree")
        )
        self.verdict.setStyleSheet("" if agree else DISAGREE_STYLE)
        self.compared.emit(first, second)

    @property
    def disagree(self) -> bool:
        return self.first_reading is not None and self.second_reading is not None and \
            self.first_reading.label != self.second_reading.label


def create_dock_widget(context) -> CompareChart:
    return CompareChart(context)
