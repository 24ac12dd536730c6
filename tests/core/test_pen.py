"""Real pen digits: both loaders (good and broken records), the seeded pad renderer, the writer-disjoint
split, the pen datasets, the trainer's explicit validation set, and strokes vs PNG agreeing."""

from __future__ import annotations

import gzip
import json
import shutil
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from digitpad.core import pen, preprocess
from digitpad.core.config import TrainConfig
from digitpad.core.datasets import DataError, DigitData, load_dataset, split_validation
from digitpad.core.events import Evaluated, RunStarted
from digitpad.core.inference import Predictor, default_model_path
from digitpad.core.mistakes import load_test_set
from digitpad.core.samples import TEMPLATES
from digitpad.core.trainer import Trainer
from tests.fixtures import write_pen_data

PENDIGITS_TEXT = """.INCLUDE        dene.doc

.LEXICON "0" "1" "2" "3" "4" "5" "6" "7" "8" "9"
.HIERARCHY      DIGIT

.SEGMENT DIGIT    0 ? "7"
.COMMENT 7 12  224
.PEN_DOWN
 100  300
 200  300
 120  100
.PEN_UP
.DT 100

.SEGMENT DIGIT    1-2 ? "4"
.COMMENT 4 3   54
.PEN_DOWN
 150  300
 100  200
 200  200
.PEN_UP
.PEN_DOWN
 170  260
 170  100
.PEN_UP
.DT 100

.SEGMENT DIGIT    3 ? "1"
.COMMENT 1 12  55
.PEN_DOWN
 150  300
 15x  200
.PEN_UP

.SEGMENT DIGIT    4 ? "A"
.COMMENT 0 12  56
.PEN_DOWN
 150  300
 150  100
.PEN_UP

.SEGMENT DIGIT    5 ? "0"
.COMMENT 0 12  57
.DT 100

.SEGMENT DIGIT    6 ? "0"
.COMMENT 0 12  58
.PEN_DOWN
 150  300
 150  300
.PEN_UP

.SEGMENT DIGIT    7 ? "1"
.COMMENT 1 3  59
.PEN_DOWN
 150  300
 150  100
"""


def test_pendigits_loader_reads_good_records_and_counts_broken_ones():
    report = pen.LoadReport("pendigits")
    digits = pen.parse_pendigits(PENDIGITS_TEXT.splitlines(), report)
    assert [d.label for d in digits] == [7, 4, 1]
    assert [d.writer for d in digits] == ["pendigits/12", "pendigits/3", "pendigits/3"]
    assert {d.source for d in digits} == {"pendigits"} and {d.site for d in digits} == {"pendigits"}
    assert [len(d.strokes) for d in digits] == [1, 2, 1]
    assert report.read == 3
    assert report.skipped == Counter({pen.BROKEN: 1, pen.UNKNOWN_LABEL: 1, pen.NO_INK: 1, pen.SINGLE_POINT: 1})
    # y grows upward on the tablet and downward on the pad: the 7's bar (tablet y 300) is on top.
    seven = digits[0].strokes[0]
    assert seven[0, 1] < seven[2, 1]
    np.testing.assert_array_equal(seven[:, 0], [100, 200, 120])


def unipen_lines() -> list[str]:
    good = [
        {"label": "7", "site": "syn", "writer": "syn/a", "strokes": [[[0, 100], [60, 100], [20, 0]]]},
        {"label": "1", "site": "ibm", "writer": "ibm/b", "strokes": [[[5, 100], [5, 0]], []]},
    ]
    lines = [json.dumps(record) for record in good]
    lines += [
        '{"label": "3", "site": "syn", "writer": "syn/a", "strokes": [[[0, 1], [2, 3]]',  # cut off
        json.dumps({"label": "3", "site": "syn", "strokes": [[[0, 1], [2, 3]]]}),  # no writer
        json.dumps({"label": "3", "site": "syn", "writer": "syn/a", "strokes": [[[0, 1, 2], [2, 3]]]}),  # bad point
        json.dumps({"label": "000", "site": "syn", "writer": "syn/a", "strokes": [[[0, 1], [2, 3]]]}),
        json.dumps({"label": "5", "site": "syn", "writer": "syn/a", "strokes": [[], []]}),
        json.dumps({"label": "5", "site": "syn", "writer": "syn/a", "strokes": [[[4, 4], [4, 4]], [[4, 4]]]}),
        "",
    ]
    return lines


def test_unipen_loader_reads_good_records_and_counts_broken_ones(tmp_path):
    path = tmp_path / "unipen.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(unipen_lines()) + "\n")
    digits, report = pen.read_unipen(path)
    assert [(d.label, d.writer, d.site, d.source) for d in digits] == [(7, "syn/a", "syn", "unipen"), (1, "ibm/b", "ibm", "unipen")]
    assert [len(d.strokes) for d in digits] == [1, 1]  # the empty stroke is dropped
    assert report.read == 2
    assert report.skipped == Counter({pen.BROKEN: 3, pen.UNKNOWN_LABEL: 1, pen.NO_INK: 1, pen.SINGLE_POINT: 1})
    assert "2 digits read, 6 skipped" in str(report)
    assert digits[0].strokes[0][0, 1] < digits[0].strokes[0][2, 1]  # y flipped to the pad's way


def test_a_broken_unipen_archive_is_a_data_error(tmp_path):
    path = tmp_path / "unipen.jsonl.gz"
    path.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataError, match="UNIPEN"):
        pen.read_unipen(path)


def template_digit(label: int, writer: str = "w/0", source: str = "unipen", site: str = "syn") -> pen.PenDigit:
    """A pen digit from the stroke templates (a unit box, y down), at tablet scale."""
    return pen.PenDigit(label, writer, source, site, tuple(np.asarray(s) * 500 for s in TEMPLATES[label]))


def test_drawing_on_the_pad_is_seeded_and_deterministic():
    digit = template_digit(5)
    first = pen.render_digit(digit, np.random.default_rng(3))
    again = pen.render_digit(digit, np.random.default_rng(3))
    other = pen.render_digit(digit, np.random.default_rng(4))
    assert first.shape == (28, 28) and first.dtype == np.uint8 and first.max() == 255
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    raster = pen.render_digit(digit, np.random.default_rng(3), raster=True)
    np.testing.assert_array_equal(raster, pen.render_digit(digit, np.random.default_rng(3), raster=True))


def test_render_digits_does_not_depend_on_what_else_is_rendered():
    digits = [template_digit(d) for d in range(10)]
    images, labels = pen.render_digits(digits, seed=7, copies=2, raster_fraction=0.5)
    assert images.shape == (20, 28, 28) and labels.tolist() == [d for d in range(10) for _ in range(2)]
    tail, _ = pen.render_digits(digits[5:], seed=7, copies=2, raster_fraction=0.5)
    # Each drawing's generator is seeded by (seed, index, copy): index 0 of the tail is digit 5's.
    np.testing.assert_array_equal(pen.render_digits(digits[5:6], 7, 2, 0.5)[0], tail[:2])
    np.testing.assert_array_equal(images, pen.render_digits(digits, seed=7, copies=2, raster_fraction=0.5)[0])


def test_a_drawing_fits_the_pad_and_keeps_its_top_on_top():
    digit = template_digit(7)
    for seed in range(20):
        strokes = pen.draw_on_pad(digit, np.random.default_rng(seed))
        points = np.concatenate(strokes)
        width, height = pen.PAD_STYLE.canvas
        assert points.min() >= -1 and points[:, 0].max() <= width + 1 and points[:, 1].max() <= height + 1
        bar = strokes[0][: len(strokes[0]) // 4]  # the 7's bar is drawn first, at the top
        assert bar[:, 1].mean() < points[:, 1].mean()


def many_writers() -> list[pen.PenDigit]:
    digits = []
    for writer in range(12):  # UCI writers
        digits += [template_digit(d, f"pendigits/{writer}", "pendigits", "pendigits") for d in range(10)]
    for site, writers in {"syn": 5, "ibm": 4, "app": 3, "tos": 6, "gmd": 2, "aga": 3}.items():
        for writer in range(writers):
            digits += [template_digit(d, f"{site}/{writer}", "unipen", site) for d in range(5)]
    return digits


def test_split_is_writer_disjoint_site_disjoint_and_deterministic():
    digits = many_writers()
    parts = pen.split_by_writer(digits, seed=0)
    assert sum(len(p) for p in parts.values()) == len(digits)
    writers = {name: {d.writer for d in part} for name, part in parts.items()}
    sites = {name: {d.site for d in part if d.source == "unipen"} for name, part in parts.items()}
    for a, b in [("train", "val"), ("train", "test"), ("val", "test")]:
        assert not writers[a] & writers[b]
        assert not sites[a] & sites[b]
    for part in parts.values():
        assert {d.source for d in part} == {"pendigits", "unipen"}  # each collection split on its own
    assert len(parts["train"]) > len(parts["val"]) and len(parts["train"]) > len(parts["test"])
    again = pen.split_by_writer(digits, seed=0)
    assert all([d.writer for d in again[k]] == [d.writer for d in parts[k]] for k in parts)
    summary = pen.split_summary(parts)
    assert "unipen/syn" in summary and "pendigits" in summary


def test_assign_groups_fills_the_splits_near_their_shares():
    sizes = {f"w{i}": 100 for i in range(20)}
    assignment = pen.assign_groups(sizes, (0.7, 0.15, 0.15), seed=0)
    assert Counter(assignment.values()) == Counter({0: 14, 1: 3, 2: 3})
    assert pen.assign_groups(sizes, seed=1) != assignment  # the seed chooses who goes where


def test_pen_datasets_have_an_explicit_writer_disjoint_validation_set(tiny_digits):
    digits = many_writers()
    parts = pen.split_by_writer(digits)
    data = pen.build_pen_data("pen", digits)
    assert data.name == "pen"
    digit_rows = data.train_labels >= 0  # the rest: "not a digit" drawings (test_outliers.py)
    assert digit_rows.sum() == pen.PEN_COPIES * len(parts["train"]) and digit_rows[: digit_rows.sum()].all()
    assert len(data.val_labels) == len(parts["val"]) and len(data.test_labels) == len(parts["test"])
    assert data.val_images.shape[1:] == (28, 28) and data.val_images.dtype == np.uint8
    mixed = pen.build_pen_data("mnist+pen", digits, tiny_digits)
    mnist_train, mnist_val = split_validation(len(tiny_digits.train_labels), 1 / 12, 0)
    assert len(mixed.train_labels) == len(mnist_train) + len(data.train_labels)
    assert len(mixed.val_labels) == len(mnist_val) + len(data.val_labels)
    np.testing.assert_array_equal(mixed.val_images[: len(mnist_val)], tiny_digits.train_images[mnist_val])
    np.testing.assert_array_equal(mixed.test_labels[: len(tiny_digits.test_labels)], tiny_digits.test_labels)
    assert preprocess.spec_for("mnist+pen") == preprocess.spec_for("pen") == preprocess.MNIST_SPEC


def test_the_test_drawings_are_the_pen_datasets_test_split_with_their_strokes(tmp_path, monkeypatch):
    digits = many_writers()
    root = write_pen_data(tmp_path, digits, monkeypatch)
    data = load_dataset("pen", root, download=False)
    held_out = pen.held_out_digits(root)
    drawn = pen.draw_test_digits(held_out)
    # The Mistakes viewer's pen test set is the pen datasets' test split: the same images, in order.
    np.testing.assert_array_equal(drawn.images, data.test_images)
    np.testing.assert_array_equal(drawn.labels, data.test_labels)
    found = load_test_set("pen", root)
    np.testing.assert_array_equal(found.images, data.test_images)
    assert len(found.strokes) == len(found.labels) == len(held_out)
    # Each image is its strokes through the pad's stroke path, each stroke the record's, in order.
    for image, strokes, digit in zip(drawn.images, drawn.strokes, drawn.digits):
        assert len(strokes) == len(digit.strokes)
        prepared = preprocess.prepare_strokes(strokes)
        np.testing.assert_array_equal(np.round(prepared.image * 255).astype(np.uint8), image)
    assert [len(s) for s in found.strokes] == [len(s) for s in drawn.strokes]
    # Drawn for the model that is judged: a USPS model reads 16x16 inputs.
    usps = load_test_set("pen", root, spec=preprocess.USPS_SPEC)
    assert usps.images.shape[1:] == (16, 16) and usps.labels.tolist() == found.labels.tolist()
    np.testing.assert_array_equal(usps.images[0], np.round(preprocess.prepare_strokes(found.strokes[0], preprocess.USPS_SPEC).image * 255))


def test_the_pen_test_set_without_pen_data_is_a_data_error_naming_what_is_missing(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="PEN is not in"):
        load_test_set("pen", tmp_path)
    write_pen_data(tmp_path, many_writers(), monkeypatch)
    (tmp_path / "pen" / pen.UNIPEN_FILE).unlink()
    with pytest.raises(DataError, match=f"{pen.UNIPEN_FILE}.*{tmp_path / 'pen'}"):
        load_test_set("pen", tmp_path)


def test_fit_on_pad_moves_a_drawing_onto_a_smaller_pad_without_changing_its_reading():
    strokes = pen.draw_on_pad(template_digit(4), np.random.default_rng(0))
    inside = pen.fit_on_pad(strokes, pen.PAD_STYLE.canvas)  # drawn for this pad: left where it is
    assert all(np.array_equal(a, b) for a, b in zip(inside, strokes))
    for canvas in [(240, 240), (100, 80)]:
        fitted = pen.fit_on_pad(strokes, canvas)
        points = np.concatenate(fitted)
        assert points.min() >= 0 and np.all(points.max(axis=0) <= canvas)
        assert [len(s) for s in fitted] == [len(s) for s in strokes]
        moved = np.concatenate(strokes) - np.concatenate(strokes).min(axis=0)
        placed = points - points.min(axis=0)
        np.testing.assert_allclose(placed, moved * (placed.max() / moved.max()))  # the same drawing, moved and scaled
        np.testing.assert_allclose(preprocess.prepare_strokes(fitted).image, preprocess.prepare_strokes(strokes).image, atol=0.02)


def test_trainer_validates_on_the_explicit_split_when_given(tiny_digits, tiny_config):
    val_images, val_labels = tiny_digits.test_images[:30], tiny_digits.test_labels[:30]
    data = DigitData("pen", tiny_digits.train_images, tiny_digits.train_labels, tiny_digits.test_images,
                     tiny_digits.test_labels, val_images=val_images, val_labels=val_labels)
    events = list(Trainer(tiny_config, data).run())
    started = events[0]
    assert isinstance(started, RunStarted)
    assert (started.train_size, started.val_size) == (len(tiny_digits.train_labels), 30)
    val = next(e for e in events if isinstance(e, Evaluated) and e.split == "val")
    assert val.confusion.sum() == 30
    # Without one, the old behaviour: a random 1/12 of the training set.
    plain = list(Trainer(tiny_config, tiny_digits).run())[0]
    assert plain.val_size == round(len(tiny_digits.train_labels) / 12)
    assert plain.train_size == len(tiny_digits.train_labels) - plain.val_size


@pytest.fixture(scope="module")
def shipped_predictor():
    return Predictor.from_file(default_model_path())


def test_strokes_and_their_png_are_read_as_the_same_digit(tmp_path, shipped_predictor):
    correct = 0
    for label in range(10):
        rng = np.random.default_rng(label)
        strokes = pen.draw_on_pad(template_digit(label), rng)
        through_strokes = shipped_predictor.predict_strokes(strokes)
        path = tmp_path / f"{label}.png"
        Image.fromarray(pen.paint_on_paper(strokes, pen_px=14)).save(path)
        through_png = shipped_predictor.predict_file(path)
        if through_strokes.confident:  # a drawing on the fence (1 or 7?) may fall either way
            assert through_png.digit == through_strokes.digit, label
            correct += through_strokes.digit == label
    assert correct >= 8  # the template 1 has a long flag: the kind of 1 that MNIST models call a 7


def test_missing_pen_data_names_what_is_missing(tmp_path):
    with pytest.raises(DataError, match="PEN is not in"):
        load_dataset("pen", tmp_path, download=False)


def test_missing_unipen_file_names_the_file_and_the_folder(tmp_path, real_data):
    (tmp_path / "pen").mkdir()
    shutil.copyfile(real_data / "pen" / pen.PENDIGITS_FILE, tmp_path / "pen" / pen.PENDIGITS_FILE)
    with pytest.raises(DataError, match=f"{pen.UNIPEN_FILE}.*{tmp_path / 'pen'}"):
        pen.pen_files(tmp_path, download=False)


def test_real_pen_data_loads_and_splits_by_writer(real_data):
    digits, reports = pen.load_pen_digits(real_data, download=False)
    assert [(r.source, r.read, r.total_skipped) for r in reports] == [("pendigits", 7494, 0), ("unipen", 11086, 3)]
    assert reports[1].skipped == Counter({pen.SINGLE_POINT: 3})
    parts = pen.split_by_writer(digits)
    writers = [{d.writer for d in part} for part in parts.values()]
    assert not (writers[0] & writers[1]) and not (writers[0] & writers[2]) and not (writers[1] & writers[2])
    assert [len(p) for p in parts.values()] == [12996, 2966, 2618]


def test_real_held_out_pen_digits_agree_between_strokes_and_png(tmp_path, real_data, shipped_predictor):
    digits = pen.split_by_writer(pen.load_pen_digits(real_data, download=False)[0])["test"][::100]
    agree = 0
    for index, digit in enumerate(digits):
        strokes = pen.draw_on_pad(digit, np.random.default_rng(index))
        path = tmp_path / f"{index}.png"
        Image.fromarray(pen.paint_on_paper(strokes, pen_px=14)).save(path)
        agree += shipped_predictor.predict_strokes(strokes).digit == shipped_predictor.predict_file(path).digit
    assert agree >= len(digits) - 1  # 27 digits; the two paths may split on one genuinely ambiguous drawing


def test_train_init_starts_from_a_checkpoint_and_keeps_its_normalization(tmp_path, tiny_digits, monkeypatch, capsys):
    from digitpad import cli
    from digitpad.cli import train as train_cli
    from digitpad.core.checkpoints import load_checkpoint

    monkeypatch.setattr(train_cli, "load_data", lambda name, root, download=True: tiny_digits)
    small = ["--model", "digitpad", "--model-arg", "width=8", "--model-arg", "hidden=32", "--batch-size", "32", "--threads", "1"]
    base = tmp_path / "base.safetensors"
    assert cli.main(["train", *small, "--epochs", "2", "--out", str(base)]) == 0
    tuned = tmp_path / "tuned.safetensors"
    # One step at a tiny rate: the weights barely move from the base's, which a fresh start would not match.
    assert cli.main(["train", *small, "--init", str(base), "--epochs", "1", "--max-steps", "1", "--lr", "1e-6",
                     "--no-augment", "--out", str(tuned)]) == 0
    before, after = load_checkpoint(base), load_checkpoint(tuned)
    assert after.normalization == before.normalization
    name = next(k for k, v in before.state.items() if v.ndim == 4)  # the first convolution's kernels
    np.testing.assert_allclose(after.state[name], before.state[name], atol=1e-4)
    capsys.readouterr()
    assert cli.main(["train", "--model", "lenet5", "--init", str(base), "--out", str(tmp_path / "x.safetensors")]) == 1
    assert "--init" in capsys.readouterr().err
