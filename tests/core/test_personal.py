"""The personal digit set: storing, listing, deleting, export/import, corruption and interrupted writes,
plus the ``digitpad personal`` commands and ``digitpad train --dataset personal``. No real data needed."""

from __future__ import annotations

import csv
import json
import os
import warnings
from pathlib import Path

import numpy as np
import platformdirs
import pytest
from PIL import Image, ImageDraw

from digitpad import cli
from digitpad.core import personal
from digitpad.core.download import DataError
from digitpad.core.personal import (
    CorruptEntryWarning,
    PersonalStore,
    finetuned_model_path,
    home_dir,
    load_personal_dataset,
    personal_dir,
)
from digitpad.core.preprocess import prepare_strokes


def digit(seed: int) -> np.ndarray:
    """A prepared-looking 28x28 float image in [0, 1] with some ink."""
    rng = np.random.default_rng(seed)
    image = np.zeros((28, 28), np.float32)
    top, left = rng.integers(4, 10, 2)
    image[top : top + 14, left : left + 3] = 1.0
    image[top : top + 3, left : left + 10] = rng.uniform(0.5, 1.0)
    return image


def seven_strokes(scale: float = 1.0) -> list[np.ndarray]:
    return [np.array([[60, 50], [200, 50], [110, 240]], float) * scale]


def paper_digit(path: Path, size=(120, 90), ink=0, paper=255) -> Path:
    """A dark '7' on light paper, the way a scan or a phone photo looks."""
    canvas = Image.new("L", size, paper)
    w, h = size
    ImageDraw.Draw(canvas).line([(w * 0.25, h * 0.2), (w * 0.75, h * 0.2), (w * 0.45, h * 0.85)], fill=ink, width=max(2, w // 15))
    canvas.save(path)
    return path


@pytest.fixture
def store(tmp_path) -> PersonalStore:
    return PersonalStore(tmp_path / "personal")


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --- storing and listing -------------------------------------------------------------------
def test_store_three_entries_with_labels(store, no_warnings):
    strokes = seven_strokes()
    prepared = prepare_strokes(strokes)
    first = store.add(prepared, 7, strokes=strokes, predicted=1)
    second = store.add(digit(1), 3, source="file")
    third = store.add((digit(2) * 255).astype(np.uint8), 7)

    entries = store.entries()
    assert [e.id for e in entries] == sorted([first.id, second.id, third.id])
    by_id = {e.id: e for e in entries}
    assert by_id[first.id].label == 7 and by_id[first.id].predicted == 1 and by_id[first.id].source == "pad"
    assert by_id[second.id].label == 3 and by_id[second.id].source == "file" and by_id[second.id].strokes is None
    assert by_id[third.id].label == 7
    # The image is stored exactly as the model sees it (uint8, ink = 255) ...
    stored = by_id[first.id]
    assert stored.image.dtype == np.uint8 and stored.image.shape == (28, 28)
    np.testing.assert_array_equal(stored.image, np.rint(prepared.image * 255).astype(np.uint8))
    np.testing.assert_allclose(stored.image_float, prepared.image, atol=0.5 / 255)
    # ... with the strokes it came from.
    assert len(stored.strokes) == 1
    np.testing.assert_allclose(stored.strokes[0], strokes[0])
    assert stored.image_path.is_file() and stored.created
    # Every entry is exactly one PNG + one JSON, and nothing else is left behind.
    names = sorted(p.name for p in store.entries_dir.iterdir())
    assert names == sorted(f"{e.id}{suffix}" for e in entries for suffix in (".json", ".png"))

    np.testing.assert_array_equal(store.counts(), [0, 0, 0, 1, 0, 0, 0, 2, 0, 0])
    assert len(store) == 3
    assert [e.id for e in store.by_label()[7]] == sorted([first.id, third.id])
    assert store.get(second.id).label == 3


def test_a_second_store_on_the_same_folder_sees_the_entries(store):
    entry = store.add(digit(0), 4)
    again = PersonalStore(store.root)
    assert [(e.id, e.label) for e in again.entries()] == [(entry.id, 4)]
    np.testing.assert_array_equal(again.entries()[0].image, entry.image)


def test_as_digit_data(store):
    assert store.as_digit_data().train_images.shape == (0, 28, 28)
    for label in (5, 0, 9):
        store.add(digit(label), label)
    data = store.as_digit_data()
    assert data.name == "personal"
    assert data.train_images.dtype == np.uint8 and data.train_images.shape == (3, 28, 28)
    assert data.train_labels.dtype == np.int64
    assert sorted(data.train_labels.tolist()) == [0, 5, 9]
    assert data.train_images.max() == 255  # ink = 255, like MNIST
    assert data.test_images.shape == (0, 28, 28) and data.test_labels.shape == (0,)


def test_add_add_strokes_and_add_file(store, tmp_path):
    drawn = store.add_strokes(seven_strokes(), 7, predicted=1)
    assert drawn.source == "pad" and drawn.predicted == 1 and drawn.strokes is not None
    from_file = store.add_file(paper_digit(tmp_path / "seven.png", size=(300, 200)), 7)
    assert from_file.source == "file" and from_file.image.shape == (28, 28)
    assert from_file.image[0].max() == 0 and from_file.image.max() == 255  # light paper became black


@pytest.mark.parametrize(
    "image, label, message",
    [
        (np.zeros((28, 28)), 3, "blank"),
        (np.ones((16, 16)), 3, "28x28"),
        (digit(0), 10, "0-9"),
        (digit(0), -1, "0-9"),
        (digit(0), True, "0-9"),
        (digit(0), 2.0, "0-9"),
        (np.full((28, 28), np.nan), 3, "NaN"),
    ],
)
def test_add_rejects_bad_input(store, image, label, message):
    with pytest.raises(ValueError, match=message):
        store.add(image, label)
    assert store.entries() == []


def test_add_rejects_an_empty_drawing_and_bad_strokes(store):
    with pytest.raises(ValueError, match="empty"):
        store.add(prepare_strokes([]), 1)
    with pytest.raises(ValueError, match="stroke"):
        store.add(digit(0), 1, strokes=[np.array([1.0, 2.0, 3.0])[:, None]])
    with pytest.raises(ValueError, match="blank"):
        store.add_file(paper_digit(Path(store.root).parent / "blank.png", ink=255), 3)


def test_relabel(store):
    entry = store.add(digit(0), 1)
    assert store.relabel(entry.id, 7).label == 7
    assert [e.label for e in store.entries()] == [7]
    with pytest.raises(KeyError):
        store.relabel("nope", 3)


# --- deleting ------------------------------------------------------------------------------
def test_deleting_removes_one(store, no_warnings):
    kept_a, gone, kept_b = (store.add(digit(i), i) for i in range(3))
    store.delete(gone.id)
    assert [e.id for e in store.entries()] == [kept_a.id, kept_b.id]
    assert not (store.entries_dir / f"{gone.id}.png").exists()
    assert not (store.entries_dir / f"{gone.id}.json").exists()
    np.testing.assert_array_equal(store.counts(), [1, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(KeyError, match="no personal digit"):
        store.delete(gone.id)
    for sneaky in ("../personal", "", "a/b", ".hidden"):
        with pytest.raises(KeyError):
            store.delete(sneaky)
    assert len(store.entries()) == 2


# --- export / import -----------------------------------------------------------------------
def test_export_import_round_trip(store, tmp_path, no_warnings):
    strokes = seven_strokes()
    originals = [
        store.add(prepare_strokes(strokes), 7, strokes=strokes, predicted=1),
        store.add(digit(1), 3, source="file"),
        store.add(digit(2), 0),
    ]
    folder = tmp_path / "export"
    assert store.export(folder) == 3

    with open(folder / "labels.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["file", "label"]
    assert sorted((f, int(l)) for f, l in rows[1:]) == sorted((f"{e.label}_{e.id}.png", e.label) for e in originals)
    for name, _ in rows[1:]:
        with Image.open(folder / name) as picture:
            assert picture.size == (28, 28) and picture.mode == "L"
    index = json.loads((folder / "index.json").read_text())
    assert len(index["entries"]) == 3

    fresh = PersonalStore(tmp_path / "other" / "personal")
    added, skipped = fresh.import_folder(folder)
    assert skipped == [] and len(added) == 3
    back = {e.id: e for e in fresh.entries()}
    for original in originals:
        copy = back[original.id]
        assert (copy.label, copy.source, copy.predicted, copy.created) == (
            original.label, original.source, original.predicted, original.created
        )
        np.testing.assert_array_equal(copy.image, original.image)  # bit-exact, not re-prepared
    np.testing.assert_allclose(back[originals[0].id].strokes[0], strokes[0])

    # Importing the same folder again adds nothing.
    added, skipped = fresh.import_folder(folder)
    assert added == [] and [reason for _, reason in skipped] == ["already in the personal set"] * 3
    # An existing export is not overwritten by accident.
    with pytest.raises(FileExistsError):
        store.export(folder)
    assert store.export(folder, overwrite=True) == 3


def test_import_a_plain_folder_of_images_of_any_size(store, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    paper_digit(folder / "big.png", size=(400, 300))
    paper_digit(folder / "small.jpg", size=(40, 40))
    paper_digit(folder / "inverted.png", size=(64, 64), ink=255, paper=0)
    paper_digit(folder / "blank.png", ink=255)
    (folder / "notes.png").write_text("not an image")
    (folder / "labels.csv").write_text(
        "\ufeffFile, Label\n"  # a BOM and spaces, as spreadsheets write them
        "big.png,7\nsmall.jpg, 1\ninverted.png,7\n"
        "blank.png,4\nnotes.png,2\nmissing.png,5\ntwelve.png,12\n\n"
    )
    progress = []
    added, skipped = store.import_folder(folder, progress=lambda done, total: progress.append((done, total)))
    assert sorted(e.label for e in added) == [1, 7, 7]
    assert all(e.source == "import" for e in added)
    reasons = dict(skipped)
    assert set(reasons) == {"blank.png", "notes.png", "missing.png", "twelve.png"}
    assert "no digit" in reasons["blank.png"]
    assert "not a readable image" in reasons["notes.png"]
    assert reasons["missing.png"] == "no such file"
    assert "0-9" in reasons["twelve.png"]
    assert progress[-1] == (6, 6)
    for entry in added:  # prepared like the pad: white ink on black, 28x28, strongest ink 255
        assert entry.image.shape == (28, 28) and entry.image.max() == 255 and entry.image[0].max() == 0


def test_import_needs_labels(store, tmp_path):
    with pytest.raises(FileNotFoundError):
        store.import_folder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="labels.csv"):
        store.import_folder(tmp_path / "empty")
    (tmp_path / "empty" / "labels.csv").write_text("name,digit\na.png,1\n")
    with pytest.raises(ValueError, match="file,label"):
        store.import_folder(tmp_path / "empty")


# --- corruption and interrupted writes -----------------------------------------------------
def test_corrupt_entry_skipped_with_a_warning(store):
    good, bad_json, bad_png, altered, no_png = (store.add(digit(i), i) for i in range(5))
    (store.entries_dir / f"{bad_json.id}.json").write_text('{"format": "digitpad-personal-di')
    (store.entries_dir / f"{bad_png.id}.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    Image.fromarray(np.full((28, 28), 9, np.uint8)).save(store.entries_dir / f"{altered.id}.png")
    (store.entries_dir / f"{no_png.id}.png").unlink()

    with pytest.warns(CorruptEntryWarning) as caught:
        entries = store.entries()
    assert [e.id for e in entries] == [good.id]
    assert len(caught) == 4
    skipped = dict(store.skipped)
    assert set(skipped) == {f"{e.id}.json" for e in (bad_json, bad_png, altered, no_png)}
    assert "not JSON" in skipped[f"{bad_json.id}.json"]
    assert "unreadable" in skipped[f"{bad_png.id}.json"]
    assert "checksum" in skipped[f"{altered.id}.json"]
    assert "missing" in skipped[f"{no_png.id}.json"]
    # Counting, exporting and training data all carry on without them.
    with pytest.warns(CorruptEntryWarning):
        np.testing.assert_array_equal(store.counts(), [1] + [0] * 9)
    with pytest.warns(CorruptEntryWarning):
        assert len(store.as_digit_data().train_labels) == 1
    # A corrupt entry can still be deleted.
    store.delete(bad_json.id)
    assert not (store.entries_dir / f"{bad_json.id}.png").exists()


def test_half_written_entry_is_ignored_then_cleaned_up(store, no_warnings):
    entry = store.add(digit(0), 2)
    orphan = store.entries_dir / "20200101-000000-deadbeef.png"  # the image of an add cut short
    orphan.write_bytes(entry.image_path.read_bytes())
    temp = store.entries_dir / ".20200101-000000-deadbeef.json.abc.tmp"
    temp.write_text("{")
    assert [e.id for e in store.entries()] == [entry.id]
    assert store.cleanup() == 0  # too young: it may be another process's add in flight
    assert store.cleanup(min_age_s=0) == 2
    assert not orphan.exists() and not temp.exists() and entry.image_path.exists()


def test_app_closed_mid_write_loses_nothing_and_leaves_no_half_entry(store, monkeypatch, no_warnings):
    kept = store.add(digit(0), 1)
    real_replace = os.replace

    def die_before_the_json_lands(src, dst):
        if str(dst).endswith(".json"):
            raise KeyboardInterrupt  # the app killed between writing the image and committing the entry
        real_replace(src, dst)

    monkeypatch.setattr(personal.os, "replace", die_before_the_json_lands)
    with pytest.raises(KeyboardInterrupt):
        store.add(digit(1), 5)
    monkeypatch.setattr(personal.os, "replace", real_replace)
    assert [e.id for e in store.entries()] == [kept.id]  # no warning: a half entry is not corrupt
    assert not any(p.name.endswith(".tmp") for p in store.entries_dir.iterdir())
    assert store.cleanup(min_age_s=0) == 1  # the orphan image
    assert store.add(digit(1), 5).label == 5


# --- locations and the dataset hook --------------------------------------------------------
def test_locations_follow_digitpad_home(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITPAD_HOME", str(tmp_path / "home"))
    assert home_dir() == tmp_path / "home"
    assert personal_dir() == tmp_path / "home" / "personal"
    assert finetuned_model_path() == tmp_path / "home" / "models" / "personal.safetensors"
    assert PersonalStore().root == tmp_path / "home" / "personal"
    monkeypatch.delenv("DIGITPAD_HOME")
    assert home_dir() == Path(platformdirs.user_data_dir("digitpad"))


def test_load_personal_dataset(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITPAD_HOME", str(tmp_path))
    with pytest.raises(DataError, match="empty"):
        load_personal_dataset()
    PersonalStore().add(digit(0), 6)
    data = load_personal_dataset()
    assert data.name == "personal" and data.train_labels.tolist() == [6]


def test_load_dataset_personal_is_the_personal_set(monkeypatch, tmp_path):
    """The one place that knows "personal" is a dataset choice: the CLI and the training panel ask it."""
    from digitpad.core.datasets import load_dataset

    monkeypatch.setenv("DIGITPAD_HOME", str(tmp_path))
    with pytest.raises(DataError, match="empty"):
        load_dataset("personal", tmp_path / "no-data-folder", download=False)
    PersonalStore().add(digit(0), 6)
    PersonalStore().add(digit(1), 2)
    data = load_dataset("personal", download=False)
    assert data.name == "personal" and sorted(data.train_labels.tolist()) == [2, 6] and len(data.test_labels) == 0


# --- command line --------------------------------------------------------------------------
def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_personal_add_list_export_import_delete(capsys, tmp_path):
    home = str(tmp_path / "home")
    images = [paper_digit(tmp_path / f"d{i}.png", size=(90 + 10 * i, 90)) for i in range(3)]
    code, out, err = run_cli(capsys, "personal", "add", str(images[0]), str(images[1]), "--label", "7", "--home", home)
    assert code == 0 and out.count("added") == 2, err
    code, out, _ = run_cli(capsys, "personal", "add", str(images[2]), str(tmp_path / "missing.png"), "--label", "1", "--home", home)
    assert code == 1 and out.count("added") == 1

    code, out, _ = run_cli(capsys, "personal", "list", "--json", "--home", home)
    listing = json.loads(out)
    assert code == 0 and listing["counts"] == [0, 1, 0, 0, 0, 0, 0, 2, 0, 0]
    code, out, _ = run_cli(capsys, "personal", "list", "--home", home)
    assert code == 0 and "3 personal digits" in out and all(e["id"] in out for e in listing["entries"])

    export = tmp_path / "export"
    code, out, _ = run_cli(capsys, "personal", "export", str(export), "--home", home)
    assert code == 0 and "exported 3" in out and (export / "labels.csv").exists()
    code, _, err = run_cli(capsys, "personal", "export", str(export), "--home", home)
    assert code == 1 and "already exists" in err

    other = str(tmp_path / "other")
    code, out, _ = run_cli(capsys, "personal", "import", str(export), "--home", other)
    assert code == 0 and "imported 3 digits" in out
    code, out, _ = run_cli(capsys, "personal", "import", str(export), "--home", other)
    assert "imported 0 digits" in out and "already in the personal set" in out

    victim = listing["entries"][0]["id"]
    code, out, _ = run_cli(capsys, "personal", "delete", victim, "--home", home)
    assert code == 0 and f"deleted {victim}" in out
    code, _, err = run_cli(capsys, "personal", "delete", victim, "--home", home)
    assert code == 1 and "no personal digit" in err
    assert len(PersonalStore(Path(home) / "personal").entries()) == 2


def test_cli_list_reports_corrupt_entries_as_warnings(capsys, tmp_path):
    store = PersonalStore(tmp_path / "personal")
    store.add(digit(0), 3)
    bad = store.add(digit(1), 4)
    (store.entries_dir / f"{bad.id}.json").write_text("garbage")
    code, out, err = run_cli(capsys, "personal", "list", "--home", str(tmp_path))
    assert code == 0 and "1 personal digits" in out
    assert "digitpad: warning: skipping corrupt personal digit" in err and bad.id in err


def test_cli_train_on_the_personal_set(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITPAD_HOME", str(tmp_path))
    store = PersonalStore()
    for i in range(12):
        store.add(digit(i), i % 10)
    out_path = tmp_path / "mine.safetensors"
    code, out, err = run_cli(
        capsys, "train", "--dataset", "personal", "--model", "lenet5", "--epochs", "1", "--threads", "1",
        "--batch-size", "4", "--device", "cpu", "--out", str(out_path),
    )
    assert code == 0, err
    assert out_path.exists() and "saved" in out
    from digitpad.core.checkpoints import load_checkpoint

    assert load_checkpoint(out_path).meta["dataset"] == "personal"
