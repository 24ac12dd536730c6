"""HOG features and the linear SVM of the hog-svm experiment (Bastani & Wang's baseline)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from digitpad.experiments.hog_svm import hog_features, svm_error, train_linear_svm
from tests.fixtures import synthetic_digits


def _edge(vertical: bool) -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    if vertical:
        image[:, 14:] = 255
    else:
        image[14:, :] = 255
    return image


def test_hog_has_324_features_in_normalised_blocks():
    features = hog_features(np.stack([_edge(True), _edge(False)]))
    assert features.shape == (2, 324) and features.dtype == np.float32
    blocks = features.reshape(2, 9, 36)
    norms = np.linalg.norm(blocks, axis=2)
    assert np.all((norms < 1.0 + 1e-4) & ((norms > 0.99) | (norms < 1e-3)))  # L2-Hys: unit, or empty
    assert features.min() >= 0  # magnitudes: never negative


def test_hog_puts_an_edge_in_the_bin_of_its_gradient():
    vertical, horizontal = hog_features(np.stack([_edge(True), _edge(False)])).reshape(2, 9, 4, 9).sum(axis=(1, 2))
    assert vertical.argmax() == 0  # brightness changes along x: gradient angle 0 degrees
    assert horizontal.argmax() == 4  # along y: 90 degrees, the fifth of nine 20-degree bins
    assert vertical[1:].sum() == pytest.approx(0) and horizontal[[0, 1, 2, 3, 5, 6, 7, 8]].sum() == pytest.approx(0)


def test_hog_is_the_same_for_uint8_and_unit_float_and_across_chunks(monkeypatch):
    from digitpad.experiments import hog_svm

    images = synthetic_digits(n_train=7, n_test=1).train_images
    whole = hog_features(images)
    np.testing.assert_allclose(hog_features(images.astype(np.float32) / 255), whole, atol=1e-6)
    monkeypatch.setattr(hog_svm, "CHUNK", 3)
    np.testing.assert_array_equal(hog_features(images), whole)


def test_linear_svm_on_hog_reads_synthetic_digits():
    data = synthetic_digits(n_train=600, n_test=200)
    train, test = hog_features(data.train_images), hog_features(data.test_images)
    svm = train_linear_svm(train, data.train_labels, weight_decay=1e-4, epochs=10)
    assert svm_error(svm, test, data.test_labels) < 0.2  # chance is 0.9
    assert svm_error(svm, train, data.train_labels) < 0.1


def test_cli_hog_svm_writes_both_methods_and_plots_them(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from digitpad import cli
    from digitpad.core.inference import default_model_path
    from digitpad.cli import experiment as experiment_cli

    if not default_model_path().exists():
        pytest.skip("shipped model missing")
    data = synthetic_digits(n_train=300, n_test=100)
    monkeypatch.setattr(experiment_cli, "_load_data", lambda name, root: data)
    assert cli.main(["experiment", "hog-svm", "--epochs", "2", "--out", str(tmp_path)]) == 0
    with open(tmp_path / "hog-svm.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["method"] for r in rows][:3] == ["HOG + linear SVM"] * 3 and rows[-1]["method"].startswith("CNN")
    assert sum(r["chosen"] == "True" for r in rows[:3]) == 1
    assert all(0 <= float(r["test_error"]) <= 1 for r in rows)
    assert float(rows[-1]["train_s"]) > 0  # the CNN's training time, from its checkpoint
    assert (tmp_path / "hog-svm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_hog_svm_rejects_a_bad_model_before_training(tmp_path, monkeypatch, capsys):
    from digitpad import cli
    from digitpad.cli import experiment as experiment_cli
    from digitpad.experiments import hog_svm

    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    monkeypatch.setattr(experiment_cli, "_load_data", lambda name, root: synthetic_digits(n_train=50, n_test=10))
    monkeypatch.setattr(hog_svm, "train_linear_svm", lambda *a, **k: pytest.fail("trained before checking the model"))
    assert cli.main(["experiment", "hog-svm", "--model", str(bad), "--out", str(tmp_path), "--no-plot"]) == 1
    assert "bad.safetensors" in capsys.readouterr().err and not (tmp_path / "hog-svm.csv").exists()
