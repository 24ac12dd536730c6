"""File menu work: Recent models, Shipped models, Export (ONNX/TorchScript) on a worker, a model file dropped on the window."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from digitpad.core.checkpoints import Checkpoint, save_checkpoint
from digitpad.core.models import build_model


def small_model(path):
    torch.manual_seed(0)
    model = build_model("digitpad", width=8, hidden=16).eval()
    return save_checkpoint(Checkpoint.from_model(model, {"dataset": "mnist", "normalization": [0.13, 0.31]}), path)


def drop(window, path):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def test_recent_models_remember_opened_and_saved_models_newest_first(qtbot, window, tmp_path):
    first, second = small_model(tmp_path / "a"), small_model(tmp_path / "b")
    assert window.load_model(first) and window.load_model(second)
    saved = window.save_model(tmp_path / "c.safetensors")
    assert window.recent_models() == [str(saved.resolve()), str(second.resolve()), str(first.resolve())]
    assert window.load_model(first)
    assert window.recent_models()[0] == str(first.resolve()) and len(window.recent_models()) == 3
    window._fill_recent_menu()
    names = [a.text() for a in window.recent_menu.actions()]
    assert names == ["a.safetensors", "c.safetensors", "b.safetensors"]
    window.recent_menu.actions()[2].trigger()
    assert window.model_path.resolve() == second.resolve()


def test_shipped_models_menu_lists_them_by_name_and_opens_one(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMenu

    models = tmp_path / "models"
    models.mkdir()
    small_model(models / "default.safetensors")
    pen = small_model(models / "pen.safetensors")
    (models / "pen.json").write_text('{"name": "digitpad pen digits"}')  # what the title is read from
    monkeypatch.setenv("DIGITPAD_RESOURCES", str(tmp_path))
    menu = window.findChild(QMenu, "menu_shipped_models")
    window._fill_shipped_menu()
    assert [a.text() for a in menu.actions()] == ["default  (default)", "digitpad pen digits  (pen)"]
    assert not any(a.isChecked() for a in menu.actions())  # the pad reads the real shipped model
    menu.actions()[1].trigger()
    assert window.model_path.resolve() == pen.resolve()
    window._fill_shipped_menu()
    assert [a.isChecked() for a in menu.actions()] == [False, True]
    monkeypatch.setenv("DIGITPAD_RESOURCES", str(tmp_path / "nowhere"))
    window._fill_shipped_menu()
    assert [(a.text(), a.isEnabled()) for a in menu.actions()] == [("No shipped models found", False)]


def test_a_dropped_model_file_becomes_the_pads_model(qtbot, window, tmp_path):
    path = small_model(tmp_path / "dropped")
    drop(window, path)
    assert window.model_path.resolve() == path.resolve() and window.checkpoint.arch_args["width"] == 8


@pytest.mark.parametrize("fmt, name", [("torchscript", "m.pt"), ("onnx", "m.onnx")])
def test_export_runs_on_a_worker_and_writes_the_file(qtbot, window, tmp_path, fmt, name):
    if fmt == "onnx":
        pytest.importorskip("onnxscript")
    out = tmp_path / name
    thread = window.export_model(out, fmt)
    assert thread is not None
    qtbot.waitUntil(lambda: not window.runs.busy and out.exists() and "Exported" in window.statusBar().currentMessage(),
                    timeout=120_000)
    if fmt == "onnx":
        import onnx

        assert onnx.load(str(out)).graph.input[0].name == "image"
    else:
        assert torch.jit.load(str(out)) is not None
