"""The 8 training digits nearest to the drawing, as the network sees them (``core.nearest``).

It shows when "your 1 looks like MNIST's 7s", which a saliency map cannot. The index of the
training set is built once per model on a worker (``RunController`` task) and cached on disk per
checkpoint hash; a query is one matrix-vector product (a few ms), made right after the pad's own
reading, at most 10 times a second, and only while the dock is visible. Click an example to put it
on the pad.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import platformdirs
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from ...core import nearest
from ...core.datasets import DataError, load_dataset
from .canvas import image_to_pixmap

K = 8
QUERY_INTERVAL_MS = 100  # at most 10 queries a second, behind the pad's reading
THUMB_PX = 72


def index_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("digitpad")) / "nearest"


def index_dataset(checkpoint) -> str:
    """Which training set the examples come from: the one of the model's input size."""
    return "usps" if checkpoint.input_size == 16 else "mnist"


class NearestExamples(QWidget):
    """Signals
    -------
    examplesShown(list[Neighbour]): the examples now on show (tests wait for it).
    """

    examplesShown = Signal(object)

    def __init__(self, context, parent=None):
        super().__init__(parent)
        self.setObjectName("nearest_examples")
        self.context = context
        self.index: nearest.NearestIndex | None = None
        self.images: np.ndarray | None = None  # the training images the index points into
        self.neighbours: list[nearest.Neighbour] = []
        self._building = None
        self._query = QTimer(self, singleShot=True, interval=QUERY_INTERVAL_MS, timeout=self.refresh)
        self._build()
        context.bus.predictionChanged.connect(self._on_prediction)
        context.bus.modelChanged.connect(self._on_model_changed)
        context.bus.alphabetChanged.connect(self._on_model_changed)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.info = QLabel("", objectName="nearest_info", wordWrap=True)
        layout.addWidget(self.info)
        grid = QGridLayout()
        self.buttons: list[QToolButton] = []
        for i in range(K):
            button = QToolButton(objectName=f"nearest_{i}")
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setIconSize(QPixmap(THUMB_PX, THUMB_PX).size())
            button.setToolTip("Put this training digit on the pad")
            button.setAccessibleName(f"Nearest training digit {i + 1}")
            button.clicked.connect(lambda _=False, i=i: self._put_on_pad(i))
            button.setEnabled(False)
            grid.addWidget(button, i // 4, i % 4)
            self.buttons.append(button)
        layout.addLayout(grid)
        layout.addStretch(1)

    # --- the index --------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._ensure_index()
        self._query.start()

    @Slot(object)
    def _on_model_changed(self, _checkpoint) -> None:
        self.index = None
        self._clear()
        if self.isVisible():
            self._ensure_index()

    def _reads_digits(self) -> bool:
        """The index holds MNIST's (or USPS's) training digits: neighbours of a letter among them,
        through the letters network's features, would mean nothing."""
        return getattr(self.context.model, "alphabet", "digits") == "digits"

    def _ensure_index(self) -> None:
        checkpoint = self.context.model.checkpoint
        if not self._reads_digits():
            self.info.setText("The nearest examples are training digits: they are shown when the pad reads "
                              "Digits (Read beside the chart).")
            return
        if checkpoint is None or self._building is not None:
            return
        if self.index is not None and self.index.fingerprint == nearest.model_fingerprint(checkpoint):
            return
        from ..runs import Run
        from ..workers import TaskWorker

        dataset = index_dataset(checkpoint)
        root = self.context.runs.data_root

        def job(progress):
            try:
                data = load_dataset(dataset, root, download=False)
            except DataError as error:
                raise ValueError(f"{error}. The nearest examples need it: download it in the Training dock.") from None
            index = nearest.cached_index(checkpoint, data.train_images, data.train_labels, dataset, index_cache_dir(),
                                         progress)
            return index, data.train_images

        self.info.setText(f"Indexing {dataset.upper()}'s training digits for this model (once; cached)…")
        self._building = self.context.runs.start(Run("index", f"Indexing {dataset.upper()}"), TaskWorker(job),
                                                 self._on_index_event, self._on_index_ended, "digitpad-nearest")

    def _on_index_event(self, event) -> None:
        from ...core.events import TaskDone, TaskFailed, TaskProgress

        if isinstance(event, TaskProgress) and event.total:
            self.info.setText(f"Indexing training digits for this model: {event.done * 100 // event.total}%…")
        elif isinstance(event, TaskDone):
            self.index, self.images = event.result
            self.info.setText(f"The {K} nearest of {len(self.index.labels):,} {self.index.dataset.upper()} training "
                              "digits, as the network sees them (cosine of its last features). Click one to draw it.")
            self._query.start()
        elif isinstance(event, TaskFailed):
            self.info.setText(event.message)

    def _on_index_ended(self) -> None:
        self._building = None

    # --- queries ----------------------------------------------------------------------------

    @Slot(object)
    def _on_prediction(self, _prediction) -> None:
        if self.isVisible() and not self._query.isActive():
            self._query.start()

    def refresh(self) -> None:
        prediction = self.context.model.last_prediction
        predictor = self.context.model.predictor
        if self.index is None or predictor is None or prediction is None or prediction.prepared is None \
                or prediction.prepared.image is None or not self._reads_digits():
            self._clear()
            return
        mean, std = predictor.mean, predictor.std
        self.neighbours = self.index.query(predictor.model, prediction.prepared.image, mean, std, K)
        for button, neighbour in zip(self.buttons, self.neighbours):
            button.setIcon(image_to_pixmap(self.images[neighbour.index], THUMB_PX))
            button.setText(f"{neighbour.label}  ·  {neighbour.similarity:.2f}")
            button.setEnabled(True)
        self.examplesShown.emit(self.neighbours)

    def _clear(self) -> None:
        self.neighbours = []
        for button in self.buttons:
            button.setIcon(QPixmap())
            button.setText("")
            button.setEnabled(False)

    def _put_on_pad(self, i: int) -> None:
        if i < len(self.neighbours):
            neighbour = self.neighbours[i]
            self.context.bus.exampleRequested.emit(self.images[neighbour.index] / 255.0, neighbour.label)


def create_dock_widget(context) -> NearestExamples:
    return NearestExamples(context)
