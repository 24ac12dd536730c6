"""The command line's contract: sub-commands, --json output and exit codes (0 ok, 1 failure, 2 usage)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitpad import cli
from digitpad.cli import evaluate as evaluate_cli
from digitpad.cli import train as train_cli
from digitpad.core.checkpoints import load_checkpoint
from digitpad.core.inference import default_model_path

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def trained_checkpoint(tmp_path, tiny_digits, monkeypatch, capsys):
    monkeypatch.setattr(train_cli, "load_data", lambda name, root, download=True: tiny_digits)
    out = tmp_path / "tiny.safetensors"
    code = cli.main(["train", "--model", "digitpad", "--model-arg", "width=8", "--model-arg", "hidden=32",
                     "--epochs", "3", "--batch-size", "32", "--lr", "0.05", "--threads", "1", "--out", str(out)])
    assert code == 0
    capsys.readouterr()
    return out


def write_png(path, array):
    Image.fromarray(array).save(path)
    return path


def test_train_writes_a_loadable_checkpoint_and_prints_a_summary(trained_checkpoint):
    checkpoint = load_checkpoint(trained_checkpoint)
    assert checkpoint.meta["metrics"]["epochs_done"] == 3
    assert checkpoint.meta["name"] == "tiny"


def test_train_max_steps_stops_after_exactly_that_many_steps(tmp_path, tiny_digits, monkeypatch, capsys):
    monkeypatch.setattr(train_cli, "load_data", lambda name, root, download=True: tiny_digits)
    out = tmp_path / "budget.safetensors"
    code = cli.main(["train", "--model", "digitpad", "--model-arg", "width=8", "--model-arg", "hidden=32",
                     "--epochs", "5", "--max-steps", "15", "--batch-size", "32", "--threads", "1", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    meta = load_checkpoint(out).meta
    assert meta["config"]["max_steps"] == 15
    assert meta["metrics"]["epochs_done"] == 1  # 11 steps an epoch: the budget ends inside the second


def test_predict_json_lines(tmp_path, trained_checkpoint, tiny_digits, capsys):
    digit = write_png(tmp_path / "digit.png", 255 - tiny_digits.test_images[0])  # dark ink on white
    blank = write_png(tmp_path / "blank.png", np.full((50, 50), 255, np.uint8))
    code = cli.main(["predict", "--json", "--model", str(trained_checkpoint), str(digit), str(blank)])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == [str(digit), str(blank)]
    assert isinstance(lines[0]["digit"], int) and len(lines[0]["probabilities"]) == 10
    assert abs(sum(lines[0]["probabilities"]) - 1) < 1e-4
    assert isinstance(lines[0]["confident"], bool)
    assert lines[1] == {"file": str(blank), "digit": None, "confident": False, "probabilities": None, "label": None}


def test_predict_unreadable_file_fails_with_one_line(tmp_path, trained_checkpoint, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    code = cli.main(["predict", "--model", str(trained_checkpoint), str(bad)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.png" in err[0]


def test_eval_prints_accuracy_and_confusion(trained_checkpoint, tiny_digits, monkeypatch, capsys):
    monkeypatch.setattr(evaluate_cli, "load_data", lambda name, root, download=True: tiny_digits)
    assert cli.main(["eval", "--model", str(trained_checkpoint), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["count"] == len(tiny_digits.test_labels)
    assert np.array(result["confusion"]).sum() == result["count"]
    assert result["errors"] == result["count"] - np.trace(result["confusion"])


def test_bad_checkpoint_is_a_one_line_failure(tmp_path, capsys):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x00" * 64)
    code = cli.main(["predict", "--model", str(bad), str(tmp_path / "x.png")])
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model.safetensors" in err and "Traceback" not in err


def test_models_lists_every_architecture(capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("digitpad", "lenet5", "torch5-usps", "lasagne", "bastani-wang", "tflearn"):
        assert name in out


def test_usage_errors_exit_2():
    with pytest.raises(SystemExit) as info:
        cli.main(["train"])  # --out is required
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        cli.main(["frobnicate"])
    assert info.value.code == 2


def test_unknown_model_is_a_failure_not_a_traceback(tmp_path, capsys):
    code = cli.main(["train", "--model", "nope", "--out", str(tmp_path / "x")])
    assert code == 1
    assert "unknown model" in capsys.readouterr().err


def test_python_dash_m_runs_headless_without_qt():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = "import sys, runpy; sys.argv=['digitpad','models']; import digitpad.cli as c; c.main(['models']); assert 'PySide6' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)


def test_core_never_imports_qt():
    code = (
        "import sys, digitpad.cli, digitpad.core.trainer, digitpad.core.inference, digitpad.core.evaluation, "
        "digitpad.core.datasets, digitpad.core.preprocess; assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.realdata
def test_shipped_model_reaches_99_6_percent_on_mnist(real_data, capsys):
    if not default_model_path().exists():
        pytest.fail("the shipped model resources/models/default.safetensors is missing")
    assert cli.main(["eval", "--dataset", "mnist", "--data", str(real_data), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["count"] == 10000
    assert round(result["accuracy"] * 10000) >= 9960  # 99.60% (README), compared as a count: no float edge


def shipped_folder(tmp_path, monkeypatch, checkpoint_file, names=("default", "pen")):
    """A resources folder holding copies of ``checkpoint_file`` under ``names``, read as the shipped one."""
    from digitpad.core.checkpoints import save_checkpoint

    models = tmp_path / "resources" / "models"
    models.mkdir(parents=True)
    checkpoint = load_checkpoint(checkpoint_file)
    for name in names:
        checkpoint.meta["name"] = f"the {name} model"
        save_checkpoint(checkpoint, models / f"{name}.safetensors")
    monkeypatch.setenv("DIGITPAD_RESOURCES", str(tmp_path / "resources"))
    return models


def test_shipped_models_are_named_by_file_default_first(tmp_path, trained_checkpoint, monkeypatch):
    from digitpad.core.inference import find_model, shipped_model_title, shipped_models

    models = shipped_folder(tmp_path, monkeypatch, trained_checkpoint, names=("letters", "default", "pen"))
    assert list(shipped_models()) == ["default", "letters", "pen"]
    assert find_model("pen") == models / "pen.safetensors"
    assert shipped_model_title(models / "pen.safetensors") == "the pen model"
    (models / "pen.json").write_text("{not json")
    assert shipped_model_title(models / "pen.safetensors") == "pen"  # a broken sidecar costs only the title
    # A file of that name wins over the shipped model, and an unknown name stays a path (and fails there).
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pen").write_bytes(b"mine")
    assert find_model("pen") == Path("pen") and find_model("nothing") == Path("nothing")
    # "pen" named the pen-trained model until it became the default: without the file, it is the default.
    (tmp_path / "pen").unlink()
    (models / "pen.safetensors").unlink()
    assert find_model("pen") == models / "default.safetensors"


def test_predict_and_models_take_a_shipped_models_name(tmp_path, trained_checkpoint, tiny_digits, monkeypatch, capsys):
    shipped_folder(tmp_path, monkeypatch, trained_checkpoint)
    digit = write_png(tmp_path / "digit.png", 255 - tiny_digits.test_images[0])
    assert cli.main(["predict", "--json", "--model", "pen", str(digit)]) == 0
    assert json.loads(capsys.readouterr().out)["file"] == str(digit)
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    listing = out.split("shipped models (--model NAME):\n")[1].splitlines()
    assert [line.split()[0] for line in listing] == ["default", "pen"]
    assert "the pen model; reads digits" in listing[1]
    # Without its file, "pen" is listed as what it names now: the default.
    (tmp_path / "resources" / "models" / "pen.safetensors").unlink()
    assert cli.main(["models"]) == 0
    listing = capsys.readouterr().out.split("shipped models (--model NAME):\n")[1].splitlines()
    assert [line.split()[0] for line in listing] == ["default", "pen"]
    assert "another name for default" in listing[1]
