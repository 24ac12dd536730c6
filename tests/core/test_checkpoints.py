"""Checkpoints round-trip exactly and refuse foreign, corrupt or mismatched files clearly."""

import json
import pickle

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

from digitpad.core.checkpoints import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint, sidecar_path
from digitpad.core.inference import Predictor
from digitpad.core.models import build_model


def make_checkpoint():
    torch.manual_seed(0)
    model = build_model("digitpad", width=8, hidden=16).eval()
    meta = {"dataset": "mnist", "normalization": [0.13, 0.31], "temperature": 1.5, "threshold": 0.7, "metrics": {"test_accuracy": 0.5}}
    return Checkpoint.from_model(model, meta)


def test_round_trip_gives_identical_probabilities_and_metadata(tmp_path):
    checkpoint = make_checkpoint()
    path = save_checkpoint(checkpoint, tmp_path / "m.safetensors")
    loaded = load_checkpoint(path)
    assert loaded.arch == "digitpad" and loaded.arch_args == checkpoint.arch_args
    assert loaded.meta["temperature"] == 1.5 and loaded.meta["normalization"] == [0.13, 0.31]
    image = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    a = Predictor(checkpoint).probabilities(image)
    b = Predictor(loaded).probabilities(image)
    np.testing.assert_array_equal(a, b)
    assert abs(a.sum() - 1) < 1e-5
    sidecar = json.loads(sidecar_path(path).read_text())
    assert sidecar["arch"] == "digitpad" and sidecar["digitpad_version"]


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    path = save_checkpoint(make_checkpoint(), tmp_path / "m")
    assert path.name == "m.safetensors"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = save_checkpoint(make_checkpoint(), tmp_path / "m.safetensors")
    before = path.read_bytes()
    import digitpad.core.checkpoints as ck

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(ck.os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_checkpoint(make_checkpoint(), path)
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a safetensors file"),
        (b"hello world, this is text", "not a safetensors file"),
        (pickle.dumps({"weights": 1}), "not a safetensors file"),
    ],
)
def test_foreign_files_are_refused(tmp_path, content, message):
    path = tmp_path / "foreign.safetensors"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(path)
    assert "foreign.safetensors" in str(info.value)


def test_pickle_is_never_loaded(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_safetensors_without_our_metadata_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, str(path))
    with pytest.raises(CheckpointError, match="not a digitpad checkpoint"):
        load_checkpoint(path)


def test_truncated_file_is_refused(tmp_path):
    path = save_checkpoint(make_checkpoint(), tmp_path / "m.safetensors")
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="m.safetensors"):
        load_checkpoint(path)


def test_mismatched_weights_are_refused(tmp_path):
    checkpoint = make_checkpoint()
    checkpoint.arch_args["width"] = 16  # the stored tensors are for width 8
    path = tmp_path / "m.safetensors"
    from safetensors.numpy import save

    from digitpad.core import checkpoints as ck

    path.write_bytes(save(checkpoint.state, metadata={"digitpad": json.dumps(ck._metadata(checkpoint))}))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(path)


def test_unknown_architecture_is_refused(tmp_path):
    checkpoint = make_checkpoint()
    checkpoint.arch = "resnet-9000"
    path = tmp_path / "m.safetensors"
    from digitpad.core import checkpoints as ck

    blob_meta = {**ck._metadata(checkpoint)}
    from safetensors.numpy import save

    path.write_bytes(save(checkpoint.state, metadata={"digitpad": json.dumps(blob_meta)}))
    with pytest.raises(CheckpointError, match="unknown architecture"):
        load_checkpoint(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "absent.safetensors")
    with pytest.raises(CheckpointError, match="folder"):
        load_checkpoint(tmp_path)


def test_test_figure_names_its_data_set_and_is_empty_without_one():
    checkpoint = make_checkpoint()
    assert checkpoint.test_figure == "50.00% on the mnist test set"
    checkpoint.meta.pop("dataset")
    assert checkpoint.test_figure == "50.00% on its test set"
    checkpoint.meta["metrics"] = {"test_accuracy": "n/a"}  # a foreign sidecar's odd value is not a figure
    assert checkpoint.test_figure == ""
    checkpoint.meta.pop("metrics")
    assert checkpoint.test_figure == ""
