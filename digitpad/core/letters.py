"""Real pen letters (UNIPEN 1b capitals, 1c small letters) and the "letters" and "digits+letters" sets.

The letters are drawn on the pad exactly as the pen digits are (``pen.render_digits``: random size,
place, slant, pen, point spacing; a quarter through the image path). They are split by *site*, and
with the pen digits' own assignment: a UNIPEN site whose digits are held out has its letters held
out too, so no held-out writer is ever seen by the joint model, whichever head reads them. Sites
with letters but no digits train.

Labels: a letter's label is its index in ``alphabets.DIGITS_AND_LETTERS`` (10 for "a" ... 61 for
"Z"); the "letters" set shifts them down by ten to index ``alphabets.LETTERS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .alphabets import DIGITS, DIGITS_AND_LETTERS, LETTERS
from .download import DataError
from .pen import (
    RASTER_FRACTION,
    SPLITS,
    TEST_DRAWING_SEED,
    UNIPEN_SOURCE,
    VAL_DRAWING_SEED,
    LoadReport,
    PenDigit,
    load_pen_digits,
    read_unipen,
    render_digits,
    split_by_writer,
)

UPPERCASE_FILE = "unipen-1b-uppercase.jsonl.gz"
LOWERCASE_FILE = "unipen-1c-lowercase.jsonl.gz"
LETTER_FILES = {
    UPPERCASE_FILE: "7398b33400c347918c9a1ce156f71f4e964a2a381c42da21b32935fa78bf7da0",
    LOWERCASE_FILE: "aa7d5b8901b797c541611a42c2b3bb9ce3feb3ef2afde19024d9c8b49f7ea23f",
}
LETTER_DATASETS = ("letters", "digits+letters")
LETTER_COPIES = 1  # drawings of each training letter: 2 copies over 12 epochs gained only 0.5 points on validation sites for twice the time


def letter_files(root=None) -> list[Path]:
    """Both UNIPEN letter files, verified; read from the data folder only (no public download)."""
    from .datasets import ENV_VAR, ChecksumError, dataset_dir, sha256_of

    folder = dataset_dir("pen", root)
    found = []
    for name, digest in LETTER_FILES.items():
        path = folder / name
        if not path.is_file():
            raise DataError(
                f"the UNIPEN letters ({name}) are not in {folder}: they cannot be downloaded; put the file "
                f"there, or set {ENV_VAR} to a data folder whose pen/ holds it"
            )
        if sha256_of(path) != digest:
            raise ChecksumError(f"{path} failed its checksum (expected sha256 {digest}); not used")
        found.append(path)
    return found


def load_pen_letters(root=None) -> tuple[list[PenDigit], list[LoadReport]]:
    """Every readable capital and small letter, labelled in DIGITS_AND_LETTERS, and what was skipped."""
    letters, reports = [], []
    for path in letter_files(root):
        read, report = read_unipen(path, labels=DIGITS_AND_LETTERS, what="letters")
        letters += [letter for letter in read if letter.label >= len(DIGITS)]
        reports.append(report)
    return letters, reports


def split_letters_by_site(letters: Sequence[PenDigit], digit_parts: dict[str, list[PenDigit]]) -> dict[str, list[PenDigit]]:
    """{"train", "val", "test"} -> letters, each site in the part its digits are in (else train)."""
    part_of_site = {d.site: name for name, digits in digit_parts.items() for d in digits if d.source == UNIPEN_SOURCE}
    parts: dict[str, list[PenDigit]] = {name: [] for name in SPLITS}
    for letter in letters:
        parts[part_of_site.get(letter.site, "train")].append(letter)
    return parts


def pen_parts(root=None, seed: int = 0) -> tuple[dict[str, list[PenDigit]], dict[str, list[PenDigit]]]:
    """(digit parts, letter parts): both collections split by site with one assignment."""
    digits, _ = load_pen_digits(root, download=False)
    digit_parts = split_by_writer(digits, seed)
    letters, _ = load_pen_letters(root)
    return digit_parts, split_letters_by_site(letters, digit_parts)


def held_out_letters(root=None, seed: int = 0) -> list[PenDigit]:
    """The held-out sites' letters (labels in DIGITS_AND_LETTERS), for benchmarks and the viewers."""
    return pen_parts(root, seed)[1]["test"]


def render_letter_parts(parts: dict[str, list[PenDigit]], seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each part drawn as the pen digits are: train with ``seed``, val and test with the fixed seeds."""
    return {
        "train": render_digits(parts["train"], seed, LETTER_COPIES, RASTER_FRACTION),
        "val": render_digits(parts["val"], VAL_DRAWING_SEED, 1, RASTER_FRACTION),
        "test": render_digits(parts["test"], TEST_DRAWING_SEED, 1, 0.0),
    }


def build_letter_data(name: str, letter_parts: dict[str, list[PenDigit]], digits_data=None, seed: int = 0):
    """The DigitData of "letters" (52 classes) or "digits+letters" (62: ``digits_data`` is the
    "mnist+pen" set, whose labels 0-9 keep their meaning)."""
    from .datasets import DigitData

    drawn = render_letter_parts(letter_parts, seed)
    if name == "letters":
        shift = len(DIGITS)
        return DigitData(
            name, drawn["train"][0], drawn["train"][1] - shift, drawn["test"][0], drawn["test"][1] - shift,
            val_images=drawn["val"][0], val_labels=drawn["val"][1] - shift, classes=LETTERS,
        )
    if name != "digits+letters":
        raise ValueError(f"unknown letters dataset {name!r}; expected one of {', '.join(LETTER_DATASETS)}")
    if digits_data is None:
        raise ValueError("digits+letters needs the mnist+pen digits")

    def join(images, labels, part):
        return np.concatenate([images, drawn[part][0]]), np.concatenate([labels, drawn[part][1]]).astype(np.int64)

    train = join(digits_data.train_images, digits_data.train_labels, "train")
    val = join(digits_data.val_images, digits_data.val_labels, "val")
    test = join(digits_data.test_images, digits_data.test_labels, "test")
    return DigitData(name, *train, *test, val_images=val[0], val_labels=val[1], classes=DIGITS_AND_LETTERS)


def load_letter_dataset(name: str, root=None, *, download: bool = True, progress=None):
    """``load_dataset("letters" | "digits+letters")``: read, split by site, draw."""
    from .pen import build_pen_data
    from .datasets import load_dataset

    digits, _ = load_pen_digits(root, download=download, progress=progress)
    digit_parts = split_by_writer(digits)
    letters, _ = load_pen_letters(root)
    letter_parts = split_letters_by_site(letters, digit_parts)
    digits_data = None
    if name == "digits+letters":
        mnist = load_dataset("mnist", root, download=download, progress=progress)
        digits_data = build_pen_data("mnist+pen", digits, mnist, outliers=False)  # two heads: no "neither" class
    return build_letter_data(name, letter_parts, digits_data)
