"""Shared test set-up: offscreen Qt, isolated settings and user folders, small data fixtures."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# pytest-qt's binding, set here rather than in pytest's ini so that tests/core runs where
# pytest-qt is not installed (tools/test-headless.sh) without an unknown-option warning.
os.environ.setdefault("PYTEST_QT_API", "pyside6")

import pytest  # noqa: E402
import torch  # noqa: E402

# Two cores are shared by the suite and the GUI tests' event loops: one torch thread is plenty.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Every test gets its own digitpad home (personal digits, settings) and data cache."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DIGITPAD_HOME", str(home / "digitpad"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    yield


@pytest.fixture(scope="session")
def tiny_digits():
    from tests.fixtures import synthetic_digits

    return synthetic_digits()


@pytest.fixture(scope="session")
def tiny_config():
    """A full run in about a second on one CPU thread: the --dry-run idea."""
    from digitpad.core.config import TrainConfig

    return TrainConfig(model="digitpad", model_args={"width": 8, "hidden": 32}, epochs=2, batch_size=32, lr=0.05, threads=1, device="cpu")


@pytest.fixture(scope="session")
def real_data():
    """Folder of the verified real MNIST/USPS copies; the test is skipped when they are absent."""
    from tests.fixtures import real_data_root

    root = real_data_root()
    if root is None:
        pytest.skip("real datasets not found: set DIGITPAD_DATA to a folder holding mnist/ and usps/")
    return root
