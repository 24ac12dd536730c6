"""The torch tutorial's USPS packaging (``usps-seed``): cut as usps_dataset.lua cuts it.

The sheets here are written by the tests: every 16x16 cell carries its class and its example
number k in its first pixels, so each check can read back where an example came from. The last
test reads the real sheets when a verified copy is around (``realdata`` mark).
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from digitpad.core import usps_seed
from digitpad.core.datasets import DATASETS, ChecksumError, load_dataset
from digitpad.core.usps_seed import example_position, split_sheets
from tests.core.test_datasets import env, info_for, no_network  # noqa: F401 - fixtures

ROWS, COLUMNS, SIDE = 34, 33, 16


def fixture_sheet(digit: int) -> np.ndarray:
    """A 544x528 sheet whose cell at (row, column) holds (digit, k) for k = row + 34 * column + 1."""
    sheet = np.zeros((ROWS * SIDE, COLUMNS * SIDE), np.uint8)
    for column in range(COLUMNS):
        for row in range(ROWS):
            k = row + ROWS * column + 1
            cell = sheet[row * SIDE : (row + 1) * SIDE, column * SIDE : (column + 1) * SIDE]
            cell[0, :3] = (digit, k // 256, k % 256)
    return sheet


def decode(image: np.ndarray) -> tuple[int, int]:
    """(class, k) written into an example by ``fixture_sheet``."""
    return int(image[0, 0]), int(image[0, 1]) * 256 + int(image[0, 2])


def write_sheets(folder) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for digit in range(10):
        path = folder / f"usps_{digit}.png"
        Image.fromarray(fixture_sheet(digit), mode="L").save(path)
        files[path.name] = path.read_bytes()
    return files


def test_example_k_sits_at_row_k_minus_1_mod_34_column_k_minus_1_div_34():
    assert example_position(1) == (0, 0)
    assert example_position(34) == (33, 0)
    assert example_position(35) == (0, 1)  # the grid is filled column by column
    assert example_position(1000) == (999 % 34, 999 // 34) == (13, 29)
    assert example_position(1100) == (11, 32)  # the last column is only partly used
    with pytest.raises(ValueError):
        example_position(1101)


def test_cut_takes_the_kth_example_from_its_cell():
    examples = usps_seed.cut_examples(fixture_sheet(7))
    assert examples.shape == (1100, 16, 16) and examples.dtype == np.uint8
    assert [decode(examples[k - 1]) for k in (1, 2, 34, 35, 500, 1100)] == [
        (7, 1), (7, 2), (7, 34), (7, 35), (7, 500), (7, 1100)
    ]  # fmt: skip


def test_split_is_1000_train_and_100_test_per_class_and_disjoint():
    train, train_labels, test, test_labels = split_sheets([fixture_sheet(d) for d in range(10)])
    assert train.shape == (10_000, 16, 16) and test.shape == (1_000, 16, 16)
    assert np.bincount(train_labels).tolist() == [1000] * 10
    assert np.bincount(test_labels).tolist() == [100] * 10
    train_ids = [decode(x) for x in train]
    test_ids = [decode(x) for x in test]
    # Labels match the sheet each example came from; examples 1-1,000 train, 1,001-1,100 test.
    assert [c for c, _ in train_ids] == train_labels.tolist() and [c for c, _ in test_ids] == test_labels.tolist()
    assert {k for _, k in train_ids} == set(range(1, 1001)) and {k for _, k in test_ids} == set(range(1001, 1101))
    assert not set(train_ids) & set(test_ids)
    # usps_dataset.lua's order: class by class, k ascending.
    assert train_ids[:2] == [(0, 1), (0, 2)] and train_ids[1000] == (1, 1) and test_ids[100] == (1, 1001)


def test_a_sheet_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError, match="544x528"):
        usps_seed.cut_examples(np.zeros((544, 512), np.uint8))


def test_downloaded_from_its_home_verified_and_cached(monkeypatch, tmp_path, env):  # noqa: F811
    mirror = tmp_path / "mirror"
    files = write_sheets(mirror)
    monkeypatch.setitem(DATASETS, "usps-seed", info_for("usps-seed", files, mirror, 16, "usps-seed"))
    data = load_dataset("usps-seed", tmp_path / "root", download=True)
    assert data.train_images.shape == (10_000, 16, 16) and data.test_images.shape == (1_000, 16, 16)
    assert decode(data.test_images[0]) == (0, 1001)
    assert (tmp_path / "root" / "usps-seed" / "usps_9.png").read_bytes() == files["usps_9.png"]


def test_read_from_a_folder_without_network_and_checked(monkeypatch, tmp_path, env, no_network):  # noqa: F811
    folder = tmp_path / "root" / "usps-seed"
    files = write_sheets(folder)
    monkeypatch.setitem(DATASETS, "usps-seed", info_for("usps-seed", files, None, 16, "usps-seed"))
    assert load_dataset("usps-seed", tmp_path / "root", download=False).train_labels[-1] == 9
    damaged = bytearray(files["usps_3.png"])
    damaged[-20] ^= 0xFF  # same size, other bytes
    (folder / "usps_3.png").write_bytes(bytes(damaged))
    (folder / ".digitpad-verified.json").unlink(missing_ok=True)
    with pytest.raises(ChecksumError, match="usps_3.png"):
        load_dataset("usps-seed", tmp_path / "root", download=False)


def test_its_public_home_is_the_tutorial_authors_repository():
    info = DATASETS["usps-seed"]
    assert [f.name for f in info.files] == [f"usps_{d}.png" for d in range(10)]
    for remote in info.files:
        assert len(remote.sha256) == 64 and remote.size > 100_000
        assert all(u.startswith("https://raw.githubusercontent.com/hpenedones/luacnn/") for u in remote.urls)
        assert all(u.endswith(f"/data/{remote.name}") for u in remote.urls)


@pytest.mark.realdata
def test_real_usps_seed(no_network):  # noqa: F811
    from tests.fixtures import real_data_root

    root = real_data_root()
    if root is None or not (root / "usps-seed").is_dir():
        pytest.skip("the tutorial's USPS sheets not found: set DIGITPAD_DATA to a folder holding usps-seed/")
    data = load_dataset("usps-seed", root, download=False)
    assert np.bincount(data.train_labels).tolist() == [1000] * 10
    assert np.bincount(data.test_labels).tolist() == [100] * 10
    # Polarity: bright ink on a dark page, as in MNIST; so grey / 255 is what loadPNG gave torch7.
    images = data.train_images
    border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], axis=1)
    assert border.mean() < images[:, 4:12, 4:12].mean() / 2
    assert images.max() == 255 and images.min() == 0


def test_a_model_trained_on_usps_seed_reads_the_pad():
    """The predictor finds the input spec of a usps-seed checkpoint (16x16, box-centred)."""
    from digitpad.core.datasets import DigitData
    from digitpad.core.inference import Predictor
    from digitpad.core.presets import get_preset
    from digitpad.core.trainer import Trainer

    train, train_labels, test, test_labels = split_sheets([fixture_sheet(d) for d in range(10)])
    data = DigitData("usps-seed", train[::50], train_labels[::50], test[::50], test_labels[::50])
    config = get_preset("torch5-usps").make_config(epochs=1, threads=1, device="cpu")
    trainer = Trainer(config, data)
    list(trainer.run())
    predictor = Predictor(trainer.checkpoint)
    assert predictor.spec.size == 16 and predictor.spec.center == "box"
    drawing = np.zeros((64, 64), np.uint8)
    drawing[10:54, 30:34] = 255  # a "1"
    assert predictor.predict_image(drawing).probabilities.shape == (10,)
