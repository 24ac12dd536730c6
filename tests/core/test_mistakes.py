"""The Mistakes viewer's numbers, Qt-free: a model's mistakes on a test split (core.mistakes)."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.core.checkpoints import Checkpoint
from digitpad.core.download import DataError
from digitpad.core.evaluation import evaluate_checkpoint
from digitpad.core.events import Evaluated
from digitpad.core.mistakes import LabelledDigits, MistakeSet, dataset_of, find_mistakes, load_test_split
from digitpad.core.models import build_model


@pytest.fixture(scope="module")
def checkpoint():
    model = build_model("digitpad", width=8, hidden=16).eval()
    return Checkpoint.from_model(model, {"dataset": "mnist", "normalization": [0.13, 0.31]})


def test_find_mistakes_evaluates_and_reports_progress(checkpoint, tiny_digits):
    images, labels = tiny_digits.test_images, tiny_digits.test_labels
    seen = []
    found = find_mistakes(checkpoint, "mnist", images, labels, progress=lambda done, total: seen.append((done, total)))
    expected = evaluate_checkpoint(checkpoint, images, labels)
    assert found.source == "computed" and found.dataset == "mnist"
    np.testing.assert_array_equal(found.wrong, expected.wrong_indices)
    np.testing.assert_array_equal(found.confusion, expected.confusion)
    assert found.accuracy == pytest.approx(expected.accuracy)
    np.testing.assert_array_equal(found.predicted, expected.probabilities[found.wrong].argmax(1))
    assert np.all(found.predicted != labels[found.wrong])
    assert seen[0] == (0, len(labels)) and seen[-1][0] == len(labels)


def test_find_mistakes_reuses_a_run_evaluation(checkpoint, tiny_digits):
    confusion = np.zeros((10, 10), np.int64)
    confusion[0, 0], confusion[3, 5] = 8, 2
    event = Evaluated("test", 0.8, 0.5, confusion, np.array([4, 7]), np.eye(10, dtype=np.float32)[[5, 5]] * 0.9)
    found = find_mistakes(checkpoint, "mnist", tiny_digits.test_images, tiny_digits.test_labels, precomputed=event)
    assert found.source == "training run" and found.wrong.tolist() == [4, 7]
    assert found.predicted.tolist() == [5, 5] and found.confidence.tolist() == pytest.approx([0.9, 0.9])
    assert found.accuracy == pytest.approx(0.8)


def test_drawn_test_digits_keep_their_strokes(checkpoint, tiny_digits):
    images, labels = tiny_digits.test_images, tiny_digits.test_labels
    strokes = tuple((np.array([[0.0, 0.0], [float(i), 50.0]]),) for i in range(len(labels)))
    assert find_mistakes(checkpoint, "pen", images, labels, strokes=strokes).strokes is strokes
    event = Evaluated("test", 0.8, 0.5, np.eye(10, dtype=np.int64), np.array([4]), np.eye(10, dtype=np.float32)[[5]])
    assert find_mistakes(checkpoint, "pen", images, labels, precomputed=event, strokes=strokes).strokes is strokes
    assert find_mistakes(checkpoint, "mnist", images, labels).strokes is None  # images only
    plain = LabelledDigits.of((images, labels))
    assert plain.strokes is None and plain.labels.dtype == np.int64 and LabelledDigits.of(plain) is plain


def test_an_empty_mistake_set():
    empty = MistakeSet("mnist", np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64), np.zeros((10, 10), np.int64),
                       np.zeros(0, np.int64), np.zeros((0, 10), np.float32), "computed")
    assert len(empty.predicted) == len(empty.confidence) == 0 and np.isnan(empty.accuracy)


def test_dataset_of_and_load_test_split_never_download(checkpoint, tmp_path):
    assert dataset_of(checkpoint) == "mnist"
    checkpoint.meta["dataset"] = "personal"
    try:
        assert dataset_of(checkpoint) == "mnist"  # judged on MNIST's test split
    finally:
        checkpoint.meta["dataset"] = "mnist"
    with pytest.raises(DataError):
        load_test_split("usps", tmp_path / "empty")


def test_letter_mistakes_that_only_read_the_other_case():
    from digitpad.core.alphabets import LETTERS
    from digitpad.core.metrics import confusion_matrix

    labels = np.array([LETTERS.index(c) for c in "aoOcZ"])
    read_as = np.array([LETTERS.index(c) for c in "aOoez"])
    wrong = np.flatnonzero(labels != read_as)
    mistakes = MistakeSet("pen-letters", np.zeros((5, 28, 28), np.uint8), labels, confusion_matrix(labels, read_as, len(LETTERS)),
                          wrong, np.eye(len(LETTERS), dtype=np.float32)[read_as[wrong]], "computed", None, LETTERS)
    assert mistakes.reads_letters and mistakes.case_only.tolist() == [True, True, False, True]
    assert mistakes.accuracy == pytest.approx(0.2) and mistakes.case_insensitive_accuracy == pytest.approx(0.8)
    digits = MistakeSet("mnist", np.zeros((1, 28, 28), np.uint8), np.array([3]), np.zeros((10, 10), np.int64),
                        np.array([0]), np.eye(10, dtype=np.float32)[[5]], "computed")
    assert not digits.reads_letters and digits.case_only.tolist() == [False]
