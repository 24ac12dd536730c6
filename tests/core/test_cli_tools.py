"""`digitpad doctor`, `digitpad export` and `--version`: their output and exit codes."""

from __future__ import annotations

import json
import sys

import pytest
import torch

from digitpad import __version__, cli
from digitpad.core.checkpoints import Checkpoint, save_checkpoint
from digitpad.core.models import build_model


@pytest.fixture
def small_model(tmp_path):
    torch.manual_seed(0)
    model = build_model("digitpad", width=8, hidden=16).eval()
    return save_checkpoint(Checkpoint.from_model(model, {"dataset": "mnist", "normalization": [0.13, 0.31]}), tmp_path / "m")


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"digitpad {__version__}"


def test_doctor_reports_and_exits_0(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITPAD_DATA", str(tmp_path))
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    for topic in ("digitpad:", "python:", "torch:", "device:", "qt:", "data folder:", "model:"):
        assert topic in out, topic
    assert cli.main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["digitpad"]["value"] == __version__ and "ok" in report["qt"] and "mnist" in report


@pytest.mark.parametrize("fmt, name", [("onnx", "m.onnx"), ("torchscript", "m.pt")])
def test_export_writes_the_file(small_model, tmp_path, capsys, fmt, name):
    if fmt == "onnx":
        pytest.importorskip("onnxscript")
    out = tmp_path / name
    assert cli.main(["export", "--format", fmt, "--model", str(small_model), "--out", str(out)]) == 0
    assert out.stat().st_size > 1000 and f"exported {out}" in capsys.readouterr().out


def test_export_without_onnx_is_one_line(small_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert cli.main(["export", "--model", str(small_model), "--out", str(tmp_path / "m.onnx")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'digitpad[export]'" in err
