"""A wheel carries everything the app needs: installed outside the checkout, it reads a digit with
its shipped model (the resources/ folder travels inside the package as digitpad.resources)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(REPO)],
        capture_output=True, text=True, timeout=600,
    )
    if done.returncode != 0 and "No module named" in done.stderr:
        pytest.skip(f"cannot build a wheel here: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    (path,) = out.glob("digitpad-*.whl")
    return path


def test_the_wheel_holds_every_shipped_resource(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    root = REPO / "resources"
    shipped = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert {"models/default.safetensors", "icons/digitpad.png", "digitpad.desktop"} <= set(shipped)
    assert [name for name in shipped if f"digitpad/resources/{name}" not in names] == []
    assert not [n for n in names if n.startswith(("tests/", "resources/", "benchmarks/"))]


@pytest.mark.slow
def test_an_installed_wheel_reads_a_drawn_digit_from_any_folder(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # The heavy dependencies (torch, Qt) come from this test's own environment, as a path entry
    # (not a site dir, so its editable digitpad is not picked up); digitpad itself from the wheel.
    site = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True, timeout=300)

    seven = np.full((120, 100), 255, np.uint8)
    seven[20:28, 15:85] = 0
    for row in range(28, 105):  # the stem, falling to the left
        col = 80 - (row - 28) * 35 // 77
        seven[row, col - 4 : col + 4] = 0
    Image.fromarray(seven).save(tmp_path / "seven.png")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DIGITPAD_RESOURCES")}
    done = subprocess.run([env_dir / "bin" / "digitpad", "predict", "--json", "seven.png"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    where = subprocess.check_output([python, "-c", "import digitpad.core.inference as i; print(i.default_model_path())"],
                                    cwd=tmp_path, env=env, text=True).strip()
    assert where.startswith(str(site)), where  # the installed copy, not the checkout
    assert json.loads(done.stdout)["digit"] == 7
