"""Mistakes: the loaded model's misclassified test digits as a gallery, beside the confusion matrix.

The test set is evaluated off the GUI thread (``workers.EvaluationWorker`` started by the window's
``RunController``; ``core.mistakes`` holds the numbers), lazily: when the dock is shown or Compute
is pressed, never at start-up. After a training run, the run's own
``Evaluated(split="test")`` event is reused when the trained model becomes the pad's model, so
nothing is computed twice. Clicking a confusion cell filters the gallery; clicking a digit puts it
on the pad (``bus.exampleRequested``).

The test set is the model's own by default; the user can choose MNIST's, USPS's or the held-out
pen writers' (``mistakesTestSet``, remembered in the settings). Pen digits are real people's
handwriting, drawn on the pad as the pen datasets draw their test split, so the figures here are
those of a model trained or measured on them; a misread one clicked in the gallery goes on the pad
as its strokes, in order (``bus.strokesRequested``), and the pad reads it as it reads any drawing.

The held-out pen letters (the same held-out sites' letters) are read as letters: with the pad's
model when it reads them, else with the shipped letters model (the status line names it). Their
confusion matrix has 52 rows, and a letter clicked in the gallery goes on the pad in Letters mode.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Callable

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core.events import Evaluated, RunFailed, TaskDone, TaskFailed, TaskProgress
from ...core.alphabets import DIGITS
from ...core.inference import input_spec
from ...core.mistakes import PEN_LETTERS_TEST, PEN_TEST, LabelledDigits, MistakeSet, dataset_of, load_test_set
from .. import settings as app_settings
from ..bus import AppBus
from ..runs import Run, RunController
from ..workers import EvaluationWorker, WorkerThread
from .confusion_matrix import ConfusionMatrixView

REPEAT_CLICK_S = 0.5  # a click and the activation it may also trigger (style, double-click) load once
THUMB_PX = 56  # 2x MNIST: strokes readable, ~20 digits per row in a wide dock
SORT_CONFIDENT_FIRST, SORT_UNSURE_FIRST, SORT_INDEX = "confident", "unsure", "index"
OWN_TEST_SET = "own"  # the test split of the model's own dataset (core.mistakes.dataset_of)
TEST_SET_KEY = "mistakes/test_set"  # the settings key of the chosen test set
IGNORE_CASE_KEY = "mistakes/ignore_case"  # letters: hide the mistakes that only read the other case
# The test set choice: (data, text, tooltip).
TEST_SET_CHOICES = (
    (OWN_TEST_SET, "Its own test set", "The test split of the dataset the model was trained on (MNIST for your own digits)"),
    ("mnist", "MNIST test set", "MNIST's 10,000 test digits"),
    ("usps", "USPS test set", "USPS's 2,007 test digits"),
    (PEN_TEST, "Held-out pen writers", "Digits written with a pen by people no model was trained on (UCI pendigits "
     "and UNIPEN), drawn on the pad as the pen datasets' test split; click one to draw its strokes on the pad"),
    (PEN_LETTERS_TEST, "Held-out pen letters", "Letters written with a pen at the UNIPEN sites no model was trained on, "
     "read as letters (with the shipped letters model if the pad's cannot read them); click one to draw it on the pad"),
)

# dataset name -> test images u8 (n, s, s) and labels (n,), or a core.mistakes.LabelledDigits
DataLoader = Callable[[str], "tuple[np.ndarray, np.ndarray] | object"]


def title_of(dataset: str) -> str:
    """How the status line names a test set: "held-out pen", "MNIST", ..."""
    return "held-out pen" if dataset in (PEN_TEST, PEN_LETTERS_TEST) else dataset.upper()


def noun_of(dataset: str) -> str:
    """What a test set holds: "letters" or "digits"."""
    return "letters" if dataset == PEN_LETTERS_TEST else "digits"


class MistakesModel(QAbstractListModel):
    """The gallery's rows: indices into a MistakeSet, thumbnails made on demand and cached."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.mistakes: MistakeSet | None = None
        self.rows = np.zeros(0, np.int64)  # positions in mistakes.wrong, in display order
        self._pixmaps: dict[int, QPixmap] = {}
        # Every cell this size: the view's uniform item size is otherwise taken from whichever item
        # it measures first, and a longer caption ("5→6 (100%)") is then elided.
        self.cell_size: QSize | None = None

    def set_rows(self, mistakes: MistakeSet | None, rows: np.ndarray) -> None:
        self.beginResetModel()
        if mistakes is not self.mistakes:
            self._pixmaps.clear()
        self.mistakes, self.rows = mistakes, np.asarray(rows, np.int64)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.mistakes is None:
            return None
        k = int(self.rows[index.row()])
        m = self.mistakes
        names = m.classes
        test_index, conf = int(m.wrong[k]), float(m.confidence[k])
        true, pred = names[int(m.labels[m.wrong[k]])], names[int(m.predicted[k])]
        noun = "digit" if names == DIGITS else "letter"
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{true}→{pred} ({conf * 100:.0f}%)"
        if role == Qt.ItemDataRole.SizeHintRole:
            return self.cell_size
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(k, test_index)
        if role == Qt.ItemDataRole.ToolTipRole:
            second = np.argsort(m.wrong_probabilities[k])[-2]
            what, click = (f"Pen {noun}", "draw its strokes on the pad") if m.strokes is not None else ("Test digit", "put it on the pad")
            return (
                f"{what} #{test_index}: labelled {true}, read as {pred} ({conf * 100:.1f}%); "
                f"{names[second]}: {m.wrong_probabilities[k][second] * 100:.1f}%. Click to {click}."
            )
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{noun.title()} labelled {true} read as {pred}, {conf * 100:.0f} percent"
        if role == Qt.ItemDataRole.UserRole:
            return test_index
        return None

    def _pixmap(self, k: int, test_index: int) -> QPixmap:
        pixmap = self._pixmaps.get(k)
        if pixmap is None:
            grey = np.ascontiguousarray(255 - self.mistakes.images[test_index])  # dark ink on paper, like the pad
            h, w = grey.shape
            image = QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
            pixmap = QPixmap.fromImage(image.scaled(THUMB_PX, THUMB_PX, Qt.AspectRatioMode.KeepAspectRatio))
            self._pixmaps[k] = pixmap
        return pixmap


class MistakesView(QWidget):
    """The Mistakes dock.

    ``data_loader`` (dataset name -> test images, labels) can be replaced, e.g. by tests.
    Inspectable state: ``mistakes`` (the current MistakeSet or None), ``shown_indices`` (test
    indices in the gallery, in display order), ``evaluations_started`` (how many were run),
    ``test_set_combo`` (the chosen test set: ``OWN_TEST_SET`` or a ``core.mistakes.TEST_SETS`` name).
    """

    def __init__(self, context=None, data_loader: DataLoader | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("mistakes")
        self.setAccessibleName("Mistakes")
        self.bus: AppBus = context.bus if context is not None else AppBus(self)
        self.settings = context.settings if context is not None else app_settings.open_settings()
        self.runs: RunController = context.runs if context is not None else RunController(self.bus, self.settings, self)
        self.live = context.model if context is not None else None  # the pad's LiveModel: its alphabet, the shipped models
        self.data_loader: DataLoader = data_loader or load_test_set
        self.checkpoint = None
        self.mistakes: MistakeSet | None = None
        self.shown_indices = np.zeros(0, np.int64)
        self.evaluations_started = 0
        self._stale = False  # the checkpoint's mistakes are not computed yet
        self._thread: WorkerThread | None = None
        self._finished_threads: list[WorkerThread] = []  # cancelled, still winding down
        self._data_cache: dict[tuple[str, int], object] = {}  # (dataset, input size) -> its test digits
        self._evaluating: tuple[str, int] | None = None  # the cache key of the evaluation in progress
        self._run_config = None  # the TrainConfig of the run in progress or last finished
        self._run_evaluation: tuple[str, dict | None, Evaluated] | None = None  # its Evaluated(test)
        self._last_request = (-1, 0.0)  # (test index, monotonic time) last sent to the pad
        self.judged_by: str | None = None  # the shipped model's file when it, not the pad's, was judged
        self._judged = None  # the checkpoint whose mistakes are computed or shown
        self._build()
        if context is not None:
            bus = context.bus
            bus.modelChanged.connect(self._on_model_changed)
            bus.trainingStarted.connect(self._on_training_started)
            bus.trainingEvent.connect(self._on_training_event)
            if context.model.checkpoint is not None:
                self._on_model_changed(context.model.checkpoint)

    def _build(self) -> None:
        self.compute_button = QPushButton("Compute")
        self.compute_button.setObjectName("mistakes_compute")
        self.compute_button.setAccessibleName("Compute mistakes")
        self.compute_button.setToolTip("Evaluate the pad's model on the test set and list its mistakes")
        self.compute_button.clicked.connect(self.compute)
        self.test_set_combo = QComboBox()
        self.test_set_combo.setObjectName("mistakesTestSet")
        self.test_set_combo.setAccessibleName("Test set")
        self.test_set_combo.setToolTip("The digits the model is judged on")
        for data, text, tip in TEST_SET_CHOICES:
            self.test_set_combo.addItem(text, data)
            self.test_set_combo.setItemData(self.test_set_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        saved = self.test_set_combo.findData(app_settings.read(self.settings, TEST_SET_KEY, OWN_TEST_SET, str))
        self.test_set_combo.setCurrentIndex(max(0, saved))  # an unknown saved value: the model's own
        self.test_set_combo.currentIndexChanged.connect(self._on_test_set_chosen)
        self.progress = QProgressBar()
        self.progress.setObjectName("mistakes_progress")
        self.progress.setAccessibleName("Evaluation progress")
        self.progress.setMaximumWidth(200)
        self.progress.hide()
        self.status = QLabel("")
        self.status.setObjectName("mistakes_status")
        self.status.setWordWrap(True)
        self.true_combo = self._class_combo("mistakes_true", "True digit", "Show only the mistakes on this digit")
        self.pred_combo = self._class_combo("mistakes_predicted", "Predicted digit", "Show only the mistakes read as this digit")
        self._combo_classes = DIGITS
        self.sort_combo = QComboBox()
        self.sort_combo.setObjectName("mistakes_sort")
        self.sort_combo.setAccessibleName("Sort mistakes")
        self.sort_combo.setToolTip("Order of the gallery: the model's most confident mistakes first, its least, or test-set order")
        self.sort_combo.addItem("Most confident first", SORT_CONFIDENT_FIRST)
        self.sort_combo.addItem("Least confident first", SORT_UNSURE_FIRST)
        self.sort_combo.addItem("Test set order", SORT_INDEX)
        self.sort_combo.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.ignore_case = QCheckBox("Ignore case")
        self.ignore_case.setObjectName("mistakes_ignore_case")
        self.ignore_case.setAccessibleName("Ignore case")
        self.ignore_case.setToolTip("Letters: hide the mistakes that read the right letter in the other case (t for T, "
                                    "o for O...), as the case-insensitive figure counts them right. c/C, o/O, s/S and "
                                    "others differ only in size, which a pad that scales every drawing cannot see")
        self.ignore_case.setChecked(app_settings.read_flag(self.settings, IGNORE_CASE_KEY, True))
        self.ignore_case.setVisible(False)  # shown with a letters test set
        self.ignore_case.toggled.connect(self._on_ignore_case_toggled)
        top = QHBoxLayout()
        top.addWidget(self.test_set_combo)
        top.addWidget(self.compute_button)
        top.addWidget(self.progress)
        top.addWidget(self.status, 1)
        top.addWidget(QLabel("True"))
        top.addWidget(self.true_combo)
        top.addWidget(QLabel("Read as"))
        top.addWidget(self.pred_combo)
        top.addWidget(self.sort_combo)
        top.addWidget(self.ignore_case)

        self.matrix = ConfusionMatrixView()
        self.matrix.cellClicked.connect(self._on_cell_clicked)
        self.model = MistakesModel(self)
        self.gallery = QListView()
        self.gallery.setObjectName("mistakes_gallery")
        self.gallery.setAccessibleName("Misclassified test digits")
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setUniformItemSizes(True)
        self.gallery.setLayoutMode(QListView.LayoutMode.Batched)  # 10k-test-set worst case stays responsive
        self.gallery.setIconSize(QSize(THUMB_PX, THUMB_PX))
        # Wide enough for the longest caption ("W→M (100%)") in this font: narrower cells elided it.
        caption_px = self.gallery.fontMetrics().horizontalAdvance("W→M (100%)") + 10
        self.gallery.setGridSize(QSize(max(THUMB_PX + 26, caption_px), THUMB_PX + 24))
        self.model.cell_size = self.gallery.gridSize() - QSize(4, 2)
        self.gallery.setModel(self.model)
        self.gallery.clicked.connect(self._on_example_clicked)
        self.gallery.activated.connect(self._on_example_clicked)
        splitter = QSplitter()
        splitter.addWidget(self.matrix)
        splitter.addWidget(self.gallery)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self._set_status("No model loaded")

    def _class_combo(self, name: str, accessible: str, tip: str) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        combo.setAccessibleName(accessible)
        combo.setToolTip(tip)
        self._fill_classes(combo, DIGITS)
        combo.currentIndexChanged.connect(lambda _i: self._apply_filter())
        return combo

    @staticmethod
    def _fill_classes(combo: QComboBox, classes) -> None:
        """"any", then each class (its data: the class index)."""
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("any", None)
        for index, label in enumerate(classes):
            combo.addItem(label, index)
        combo.blockSignals(False)

    def _follow_classes(self, classes) -> None:
        """The filters offer the shown test set's classes (the digits, or the letters)."""
        if tuple(classes) == self._combo_classes:
            return
        self._combo_classes = tuple(classes)
        for combo in (self.true_combo, self.pred_combo):
            self._fill_classes(combo, classes)

    def _set_status(self, text: str) -> None:
        self.status.setText(text)

    # --- when to compute --------------------------------------------------------------------

    def _on_model_changed(self, checkpoint) -> None:
        if self._shows_judged(checkpoint):
            self.checkpoint = checkpoint  # the pad now reads with the model these mistakes are of: keep them
            return
        self.checkpoint = checkpoint
        self.judged_by = None
        self._cancel_running()
        run, self._run_evaluation = self._run_evaluation, None  # only the model change right after a run
        if run is not None and run[0] == self.chosen_test_set(checkpoint) and self._is_run_model(checkpoint, *run):
            dataset, _config, event = run
            self._start(checkpoint, dataset, precomputed=event)  # the run's own evaluation: no recomputing
            return
        self._mark_stale("Not computed yet for this model: shown when this dock is open, or press Compute")

    def _shows_judged(self, checkpoint) -> bool:
        """Whether the mistakes shown are ``checkpoint``'s on the test set it would be judged on (the
        shipped letters model that judged the pen letters became the pad's model: a letter clicked)."""
        return self.mistakes is not None and self._thread is None and checkpoint is self._judged and \
            self.chosen_test_set(checkpoint) == self.mistakes.dataset

    def _mark_stale(self, status: str) -> None:
        self._stale = True
        self._show(None)
        self._set_status(status)
        if self.isVisible():
            self.compute()

    def chosen_test_set(self, checkpoint) -> str:
        """The dataset whose test digits judge ``checkpoint``: the chosen one, or the model's own."""
        chosen = self.test_set_combo.currentData()
        return dataset_of(checkpoint) if chosen == OWN_TEST_SET else chosen

    def _on_test_set_chosen(self, _index: int) -> None:
        self.settings.setValue(TEST_SET_KEY, self.test_set_combo.currentData())
        if self.checkpoint is None:
            return
        self._cancel_running()
        self._mark_stale("Not computed yet on this test set: shown when this dock is open, or press Compute")

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale and self._thread is None and self.checkpoint is not None:
            self.compute()

    def _on_training_started(self, config) -> None:
        self._run_config = config
        self._run_evaluation = None

    def _on_training_event(self, event) -> None:
        if isinstance(event, Evaluated) and event.split == "test" and self._run_config is not None:
            config = self._run_config
            dataset = str(getattr(config, "dataset", "mnist")).lower()
            as_dict = config.to_dict() if hasattr(config, "to_dict") else None
            self._run_evaluation = (dataset, as_dict, event)

    @staticmethod
    def _is_run_model(checkpoint, dataset: str, config: dict | None, event: Evaluated) -> bool:
        """Whether ``checkpoint`` is the model that the run evaluated: same data, same settings, and
        the test accuracy the trainer recorded in it is the event's."""
        meta = checkpoint.meta
        accuracy = (meta.get("metrics") or {}).get("test_accuracy")
        if dataset != dataset_of(checkpoint) or accuracy is None or float(accuracy) != float(event.accuracy):
            return False
        return config is None or meta.get("config") == config

    # --- computing --------------------------------------------------------------------------

    def compute(self) -> None:
        """Evaluate the loaded model on the chosen test set (its own by default), on a background thread."""
        if self.checkpoint is None:
            self._set_status("No model loaded")
            return
        self._cancel_running()
        self._stale = False
        dataset = self.chosen_test_set(self.checkpoint)
        judged = self._judge(dataset)
        if judged is None:
            self._set_status("Cannot list mistakes on the held-out pen letters: the pad's model does not read "
                             "letters and the shipped letters model cannot be loaded (see the status bar).")
            return
        self.evaluations_started += 1
        self._start(judged, dataset)

    def _judge(self, dataset: str):
        """The model judged on ``dataset``: the pad's, or for the pen letters the shipped letters model
        when the pad's cannot read letters (None when that cannot be loaded either)."""
        self.judged_by = None
        if dataset != PEN_LETTERS_TEST or "letters" in self.checkpoint.alphabets:
            return self.checkpoint
        shipped = self.live.shipped("letters") if self.live is not None else None
        if shipped is None:
            return None
        self.judged_by = shipped[1].name
        return shipped[0]

    def _loader(self, checkpoint) -> DataLoader:
        if self.data_loader is not load_test_set:
            return self.data_loader
        # The folder the Training dock was pointed at ("Use a folder…"), read here on the GUI thread;
        # pen digits are drawn for the model's input, as the pad prepares a drawing for it.
        root = self.runs.data_root
        return partial(load_test_set, root=root if root is not None and root.is_dir() else None, spec=input_spec(checkpoint))

    def _start(self, checkpoint, dataset: str, precomputed: Evaluated | None = None) -> None:
        self._stale = False
        self._judged = checkpoint
        self._evaluating = (dataset, int(checkpoint.input_size))
        worker = EvaluationWorker(checkpoint, dataset, self._loader(checkpoint), self._data_cache.get(self._evaluating),
                                  precomputed)
        started: list[WorkerThread] = []  # the callbacks run after start() returns: events are queued
        thread = self.runs.start(Run("evaluation"), worker, lambda event: self._on_evaluation_event(started[0], event),
                                 lambda: self._on_thread_finished(started[0]), "digitpad-evaluation")
        started.append(thread)
        self._thread = thread
        self.compute_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.progress.show()
        what = "Reading" if precomputed is not None else "Evaluating on"
        self._set_status(f"{what} the {title_of(dataset)} test {noun_of(dataset)}…")

    def _cancel_running(self) -> None:
        if self._thread is not None:
            self.runs.cancel(self._thread)
            self._finished_threads.append(self._thread)  # keep it alive until its run() returns
            self._thread = None
            self.progress.hide()
            self.compute_button.setEnabled(True)

    def _on_evaluation_event(self, thread: WorkerThread, event: object) -> None:
        if thread is not self._thread:
            return  # a cancelled run finishing late
        if isinstance(event, TaskProgress):
            self._on_progressed(event.done, event.total)
        elif isinstance(event, TaskDone):
            self._on_evaluated(event.result)
        elif isinstance(event, (TaskFailed, RunFailed)):
            self._on_failed(event.message)

    def _on_progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _on_evaluated(self, result: MistakeSet) -> None:
        if self._evaluating is not None:
            self._data_cache[self._evaluating] = LabelledDigits(result.images, result.labels, result.strokes, result.classes)
        self._show(result)
        n = len(result.labels)
        origin = "from the training run" if result.source == "training run" else "computed"
        if self.judged_by:
            origin += f" with the shipped {self.judged_by}: the pad's model does not read letters"
        score = f"{result.accuracy * 100:.2f}% correct"
        if result.reads_letters:
            score = (f"{result.accuracy * 100:.2f}% exact case; ignoring case {result.errors_ignoring_case} misread, "
                     f"{result.case_insensitive_accuracy * 100:.2f}% correct")
        self._set_status(
            f"{len(result.wrong)} of {n} {title_of(result.dataset)} test {noun_of(result.dataset)} misread "
            f"({score}, {origin})"
        )

    def _on_failed(self, message: str) -> None:
        self._show(None)
        dataset = self._evaluating[0] if self._evaluating is not None else ""
        if dataset in (PEN_TEST, PEN_LETTERS_TEST):  # UNIPEN cannot be downloaded: the message says where to put it
            self._set_status(f"Cannot list mistakes on the held-out pen {noun_of(dataset)}: {message}.")
        else:
            self._set_status(f"Cannot list mistakes: {message}. (The Training dock can download it, too.)")

    def _on_thread_finished(self, thread: WorkerThread) -> None:
        if thread is self._thread:
            self._thread = None
            self.progress.hide()
            self.compute_button.setEnabled(True)
        elif thread in self._finished_threads:
            self._finished_threads.remove(thread)

    def is_busy(self) -> bool:
        return self._thread is not None

    def shutdown(self) -> None:
        """Stop and join any evaluation (the window calls this on close)."""
        self._cancel_running()
        for thread in list(self._finished_threads):
            thread.shutdown()
        self._finished_threads.clear()

    # --- showing ----------------------------------------------------------------------------

    def _show(self, mistakes: MistakeSet | None) -> None:
        self.mistakes = mistakes
        classes = DIGITS if mistakes is None else mistakes.classes
        self._follow_classes(classes)
        self.matrix.set_matrix(None if mistakes is None else mistakes.confusion, classes)
        self._apply_filter()

    def set_filter(self, true: int | None, predicted: int | None) -> None:
        """Filter the gallery to mistakes labelled ``true`` and read as ``predicted`` (None: any)."""
        for combo, value in ((self.true_combo, true), (self.pred_combo, predicted)):
            combo.blockSignals(True)
            combo.setCurrentIndex(0 if value is None else int(value) + 1)
            combo.blockSignals(False)
        self._apply_filter()

    def _on_ignore_case_toggled(self, checked: bool) -> None:
        self.settings.setValue(IGNORE_CASE_KEY, checked)
        self._apply_filter()

    def _on_cell_clicked(self, true: int, predicted: int) -> None:
        # The diagonal holds the correct readings: clicking it lists every mistake on that digit.
        self.set_filter(true, None if true == predicted else predicted)

    def _apply_filter(self) -> None:
        m = self.mistakes
        self.ignore_case.setVisible(m is not None and m.reads_letters)
        true, predicted = self.true_combo.currentData(), self.pred_combo.currentData()
        self.matrix.select_cell(None if true is None or predicted is None else (true, predicted))
        if m is None or not len(m.wrong):
            self.model.set_rows(m, np.zeros(0, np.int64))
            self.shown_indices = np.zeros(0, np.int64)
            return
        labels = m.labels[m.wrong]
        keep = np.ones(len(m.wrong), bool)
        if true is not None:
            keep &= labels == true
        if predicted is not None:
            keep &= m.predicted == predicted
        if m.reads_letters and self.ignore_case.isChecked():
            keep &= ~m.case_only
        rows = np.flatnonzero(keep)
        order = self.sort_combo.currentData()
        if order == SORT_CONFIDENT_FIRST:
            rows = rows[np.argsort(-m.confidence[rows], kind="stable")]
        elif order == SORT_UNSURE_FIRST:
            rows = rows[np.argsort(m.confidence[rows], kind="stable")]
        self.model.set_rows(m, rows)
        self.shown_indices = m.wrong[rows]

    def _on_example_clicked(self, index) -> None:
        if self.mistakes is None or not index.isValid():
            return
        test_index = int(index.data(Qt.ItemDataRole.UserRole))
        now = time.monotonic()
        if self._last_request[0] == test_index and now - self._last_request[1] < REPEAT_CLICK_S:
            return
        self._last_request = (test_index, now)
        mistakes = self.mistakes
        label = int(mistakes.labels[test_index])
        if mistakes.classes != DIGITS:  # a pen letter: the pad reads it as the viewer did, as a letter
            label = mistakes.classes[label]
            if self.live is not None and self.live.alphabet != "letters":
                self.live.set_alphabet("letters")
        if mistakes.strokes is not None:  # a pen digit: drawn again, stroke by stroke, and read as drawn
            self.bus.strokesRequested.emit([np.array(s) for s in mistakes.strokes[test_index]], label)
            return
        image = mistakes.images[test_index].astype(np.float32) / 255.0
        self.bus.exampleRequested.emit(image, label)


def create_dock_widget(context) -> MistakesView:
    return MistakesView(context)
