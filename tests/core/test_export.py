"""Exported models (ONNX, TorchScript) read exactly as digitpad does, with their metadata."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

from digitpad.core.checkpoints import Checkpoint, load_checkpoint
from digitpad.core.export import ExportError, export_model
from digitpad.core.inference import Predictor, default_model_path
from digitpad.core.models import build_model


@pytest.fixture(scope="module")
def checkpoint():
    torch.manual_seed(0)
    model = build_model("digitpad", width=8, hidden=16).eval()
    return Checkpoint.from_model(model, {"dataset": "mnist", "normalization": [0.13, 0.31], "temperature": 1.7,
                                         "threshold": 0.6, "name": "tiny"})


def images(n: int, size: int = 28) -> np.ndarray:
    return np.random.default_rng(n).random((n, 1, size, size), dtype=np.float32)


def test_onnx_matches_the_predictor_with_any_batch_and_carries_metadata(checkpoint, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    path = export_model(checkpoint, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.name == "image" and inp.shape[1:] == [1, 28, 28] and isinstance(inp.shape[0], str)
    predictor = Predictor(checkpoint)
    for n in (1, 7):
        x = images(n)
        (probs,) = session.run(None, {"image": x})
        assert probs.shape == (n, 10)
        expected = np.stack([predictor.probabilities(img[0]) for img in x])
        np.testing.assert_allclose(probs, expected, atol=1e-5)
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["digitpad.classes"]) == list("0123456789")
    assert meta["digitpad.input_size"] == "28" and meta["digitpad.preprocess_version"] == "1"
    assert json.loads(meta["digitpad.normalization"]) == pytest.approx([0.13, 0.31])
    assert float(meta["digitpad.temperature"]) == pytest.approx(1.7) and meta["digitpad.name"] == "tiny"


def test_torchscript_matches_the_predictor_and_carries_metadata(checkpoint, tmp_path):
    path = export_model(checkpoint, tmp_path / "m.pt", "torchscript")
    extra = {"digitpad.json": ""}
    loaded = torch.jit.load(str(path), _extra_files=extra)
    x = images(5)
    with torch.no_grad():
        probs = loaded(torch.from_numpy(x)).numpy()
    expected = np.stack([Predictor(checkpoint).probabilities(img[0]) for img in x])
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    assert json.loads(json.loads(extra["digitpad.json"])["digitpad.classes"]) == list("0123456789")


def test_missing_onnx_is_a_clear_error(checkpoint, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(ExportError, match=r"pip install 'digitpad\[export\]'"):
        export_model(checkpoint, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_unknown_format_is_refused(checkpoint, tmp_path):
    with pytest.raises(ExportError, match="unknown export format"):
        export_model(checkpoint, tmp_path / "m.x", "tflite")


@pytest.mark.realdata
def test_onnx_reads_the_mnist_test_set_as_digitpad_does(real_data, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from digitpad.core.datasets import load_dataset
    from digitpad.core.inference import batched_logits

    shipped = load_checkpoint(default_model_path())
    data = load_dataset("mnist", real_data, download=False)
    session = ort.InferenceSession(str(export_model(shipped, tmp_path / "m.onnx")), providers=["CPUExecutionProvider"])
    x = (data.test_images.astype(np.float32) / 255.0)[:, None]
    onnx_digits = np.concatenate([session.run(None, {"image": x[i : i + 1000]})[0].argmax(1) for i in range(0, len(x), 1000)])
    mean, std = shipped.normalization
    ours = batched_logits(shipped.build_model(), torch.from_numpy(data.test_images), mean, std).argmax(1).numpy()
    assert (onnx_digits == ours).all()
    assert (onnx_digits == data.test_labels).mean() >= 0.995  # the shipped model: 99.60% (README)
