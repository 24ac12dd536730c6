"""Training past one process: torchrun with two CPU ranks (gloo) learns what one process learns,
and rank 0 alone prints and writes the checkpoint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from digitpad.core.checkpoints import load_checkpoint
from digitpad.core.distributed import Group
from digitpad.core.personal import PersonalStore

REPO = Path(__file__).resolve().parents[2]
TRAIN = ["train", "--dataset", "personal", "--model", "digitpad", "--model-arg", "width=8", "--model-arg", "hidden=32",
         "--epochs", "4", "--batch-size", "32", "--lr", "0.05", "--val-fraction", "0.2", "--seed", "0"]


def test_a_group_of_one_changes_nothing():
    group = Group.single()
    assert not group.active and group.is_main
    batch = torch.arange(8)
    assert torch.equal(group.shard(batch), batch)
    assert group.any(True, torch.device("cpu")) and not group.any(False, torch.device("cpu"))
    assert group.main_first(lambda: 42) == 42


def test_ranks_share_out_each_batch_without_overlap():
    batch = torch.arange(10)
    shards = [Group(rank, 2, rank, 2).shard(batch) for rank in range(2)]
    assert sorted(torch.cat(shards).tolist()) == list(range(10))
    assert [len(s) for s in shards] == [5, 5]


@pytest.fixture(scope="module")
def personal_home(tmp_path_factory):
    from tests.fixtures import synthetic_digits

    home = tmp_path_factory.mktemp("ddp-home")
    data = synthetic_digits(n_train=800, n_test=1, seed=3)
    store = PersonalStore(home / "personal")
    for image, label in zip(data.train_images, data.train_labels):
        store.add(image, int(label))
    return home


def run_cli(args: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "DIGITPAD_HOME": str(home), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.mark.slow
def test_torchrun_two_cpu_ranks_match_one_process_and_write_one_file(personal_home, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    run_cli([sys.executable, "-m", "digitpad", *TRAIN, "--threads", "1", "--out", str(one / "model")], personal_home, one)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    done = run_cli([*torchrun, "-m", "digitpad", *TRAIN, "--out", str(two / "model")], personal_home, two)

    assert sorted(p.name for p in two.iterdir()) == ["model.json", "model.safetensors"]  # rank 0's file only
    assert done.stdout.count("saved ") == 1 and done.stdout.count("epoch   4") == 1  # rank 0 alone prints
    single, distributed = (load_checkpoint(d / "model.safetensors").meta["metrics"] for d in (one, two))
    assert single["processes"] == 1 and distributed["processes"] == 2
    assert distributed["epochs_done"] == single["epochs_done"] == 4
    assert single["val_accuracy"] >= 0.85 and distributed["val_accuracy"] >= 0.85
    assert abs(distributed["val_accuracy"] - single["val_accuracy"]) <= 0.05  # same steps, same global batch
