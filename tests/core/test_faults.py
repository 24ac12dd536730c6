"""Nothing is lost under faults: a full disk, a process killed mid-save, two writers at once, and
checkpoints that load but could never read (NaN weights, another alphabet or input size)."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import save as safetensors_bytes

from digitpad.core import atomic
from digitpad.core.atomic import SaveError
from digitpad.core.checkpoints import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from digitpad.core.models import build_model
from digitpad.core.personal import PersonalStore

REPO = Path(__file__).resolve().parents[2]


def small_checkpoint(seed: int = 0, **meta) -> Checkpoint:
    torch.manual_seed(seed)
    model = build_model("digitpad", width=8, hidden=16).eval()
    return Checkpoint.from_model(model, {"dataset": "mnist", "normalization": [0.13, 0.31], **meta})


def digit_image(seed: int) -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    row, col = np.random.default_rng(seed).integers(4, 12, size=2)
    image[row : row + 14, col : col + 4] = 255
    return image


def fill_the_disk(monkeypatch) -> None:
    """From now on every atomic write gets half its bytes onto the disk, then ENOSPC, as a full disk does."""
    real_fdopen = os.fdopen

    def half_then_enospc(fd, mode):
        handle = real_fdopen(fd, mode)
        write = handle.write

        def write_half(data):
            write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        handle.write = write_half
        return handle

    monkeypatch.setattr(atomic.os, "fdopen", half_then_enospc)


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


# --- a full disk ------------------------------------------------------------------------------


def test_full_disk_while_saving_a_model_keeps_the_old_file_whole(tmp_path, monkeypatch):
    path = save_checkpoint(small_checkpoint(0), tmp_path / "model.safetensors")
    before = path.read_bytes()
    fill_the_disk(monkeypatch)
    with pytest.raises(SaveError) as caught:
        save_checkpoint(small_checkpoint(1), path)
    message = str(caught.value)
    assert message == f"could not save {path}: no space left on the disk; the previous file is unchanged"
    assert caught.value.errno == errno.ENOSPC and isinstance(caught.value, OSError)
    assert path.read_bytes() == before and temp_files(tmp_path) == []
    monkeypatch.undo()
    np.testing.assert_array_equal(load_checkpoint(path).state["0.weight"], small_checkpoint(0).state["0.weight"])


def test_full_disk_on_a_first_save_says_nothing_was_written(tmp_path, monkeypatch):
    fill_the_disk(monkeypatch)
    with pytest.raises(SaveError, match="nothing was written"):
        save_checkpoint(small_checkpoint(0), tmp_path / "new.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_full_disk_while_adding_a_personal_digit_loses_nothing(tmp_path, monkeypatch):
    store = PersonalStore(tmp_path / "personal")
    kept = [store.add(digit_image(i), i).id for i in range(3)]
    fill_the_disk(monkeypatch)
    with pytest.raises(SaveError, match="no space left on the disk"):
        store.add(digit_image(9), 9)
    monkeypatch.undo()
    assert [e.id for e in store.entries()] == kept and store.skipped == []
    assert temp_files(store.root) == []


def test_full_disk_in_the_cli_is_one_line(tmp_path, monkeypatch, capsys):
    from PIL import Image

    from digitpad import cli

    image = tmp_path / "seven.png"
    Image.fromarray(255 - digit_image(7)).save(image)
    fill_the_disk(monkeypatch)
    code = cli.main(["personal", "add", "--home", str(tmp_path / "home"), str(image), "--label", "7"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "no space left on the disk" in err, err


# --- a process killed mid-save ----------------------------------------------------------------

SAVER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from digitpad.core.checkpoints import load_checkpoint, save_checkpoint
    base = load_checkpoint(sys.argv[1])
    versions = []
    for k in range(2):  # two whole, different versions of the same model
        state = {n: (v + k if v.dtype.kind == "f" else v) for n, v in base.state.items()}
        versions.append(type(base)(base.arch, base.arch_args, state, {**base.meta, "version": k}))
    n = 0
    while True:
        save_checkpoint(versions[n % 2], sys.argv[2])
        n += 1
        print(n, flush=True)
    """
)


def test_killed_mid_save_leaves_the_old_or_the_new_file_never_a_torn_one(tmp_path):
    from digitpad.core.inference import default_model_path

    target = tmp_path / "model.safetensors"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    seen = set()
    for kill_after in (3, 7, 12):  # kill at different points of the save loop
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(default_model_path()), str(target)],
                                 stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(kill_after):
            assert saver.stdout.readline(), "the saver died before it was killed"
        saver.send_signal(signal.SIGKILL)
        saver.wait(60)
        saver.stdout.close()
        checkpoint = load_checkpoint(target)  # never raises: old or new, whole
        seen.add(checkpoint.meta["version"])
    assert seen <= {0, 1}


# --- two writers at once ----------------------------------------------------------------------

ADDER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from digitpad.core.personal import PersonalStore
    store = PersonalStore(sys.argv[1])
    for i in range(int(sys.argv[2])):
        image = np.zeros((28, 28), np.uint8)
        image[6:22, 10 + i % 6 : 14 + i % 6] = 255
        store.add(image, i % 10, source=sys.argv[3])
    """
)


def test_two_processes_adding_personal_digits_at_once_lose_none(tmp_path):
    root = tmp_path / "personal"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writers = [subprocess.Popen([sys.executable, "-c", ADDER, str(root), "40", name], env=env) for name in ("app", "cli")]
    assert [w.wait(120) for w in writers] == [0, 0]
    store = PersonalStore(root)
    entries = store.entries()
    assert store.skipped == [] and len(entries) == 80 and len({e.id for e in entries}) == 80
    assert sorted(e.source for e in entries) == ["app"] * 40 + ["cli"] * 40
    assert temp_files(root) == []


# --- checkpoints that load but could never read ---------------------------------------------


def write_raw(path: Path, checkpoint: Checkpoint) -> Path:
    """Write a checkpoint file without save_checkpoint's checks, as another tool might."""
    import json

    from digitpad.core.checkpoints import _metadata

    meta = json.dumps(_metadata(checkpoint))
    path.write_bytes(safetensors_bytes({k: np.ascontiguousarray(v) for k, v in checkpoint.state.items()}, metadata={"digitpad": meta}))
    return path


def test_nan_weights_are_refused_on_load_and_on_save(tmp_path):
    checkpoint = small_checkpoint(0)
    checkpoint.state["16.weight"] = checkpoint.state["16.weight"].copy()
    checkpoint.state["16.weight"][0, 0] = np.nan
    path = write_raw(tmp_path / "nan.safetensors", checkpoint)
    with pytest.raises(CheckpointError, match=r"16\.weight are NaN or infinite .*cannot read anything"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="not saved"):
        save_checkpoint(checkpoint, tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


def test_a_model_for_another_alphabet_is_refused_clearly(tmp_path):
    letters = small_checkpoint(0, classes=list("abcdefghijklmnopqrstuvwxyz"))
    with pytest.raises(CheckpointError, match=r"a model for 26 classes \(abcdefghijkl…\); this digitpad reads the digits 0-9, the letters a-z A-Z, or both"):
        load_checkpoint(write_raw(tmp_path / "letters.safetensors", letters))


def test_a_model_for_another_input_size_is_refused_clearly(tmp_path):
    torch.manual_seed(0)
    model = build_model("digitpad", input_size=32, width=8, hidden=16).eval()
    checkpoint = Checkpoint.from_model(model, {"dataset": "mnist", "normalization": [0.13, 0.31]})
    with pytest.raises(CheckpointError, match="a model for 32x32 inputs; digitpad prepares drawings at 28x28 or 16x16"):
        load_checkpoint(write_raw(tmp_path / "big.safetensors", checkpoint))


def test_digits_checkpoints_still_load(tmp_path):
    from digitpad.core.inference import default_model_path

    assert load_checkpoint(default_model_path()).classes == tuple("0123456789")
    assert load_checkpoint(save_checkpoint(small_checkpoint(0), tmp_path / "m")).classes == tuple("0123456789")
