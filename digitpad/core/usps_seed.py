"""The torch tutorial's own USPS packaging (seeds 000, 001): ten PNGs, one per digit class.

Each ``usps_<digit>.png`` (hpenedones/luacnn, folder ``data/``) is an 8-bit grey image of 34 rows by
33 columns of 16x16 digits, 1,100 of one class. ``usps_dataset.lua`` takes example k (from 1) at
row ``(k-1) % 34``, column ``(k-1) // 34`` (the grid is filled column by column), and uses examples
1-1,000 of each class to train and 1,001-1,100 to test. This module cuts the PNGs exactly so.

Polarity, checked on the real files: the ink is bright (up to 255) on a dark page (median about 10),
the same as MNIST and digitpad's ``DigitData``, so the bytes are kept as they are. The trainer's
``/ 255`` then gives exactly what torch7's ``image.loadPNG`` gives the tutorial (0..1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

GRID_ROWS, GRID_COLUMNS, SIDE = 34, 33, 16
EXAMPLES_PER_CLASS = GRID_ROWS * GRID_COLUMNS - 22  # 1,100 of the grid's 1,122 cells hold a digit
TRAIN_PER_CLASS = 1000
CLASSES = 10

# Pinned to the commit that holds these files, then the moving branch; the sha256 decides.
_COMMIT = "457639392b37c74571bc102a6f8094815c8dbc6f"
URL_BASES = (
    f"https://raw.githubusercontent.com/hpenedones/luacnn/{_COMMIT}/data/",
    "https://raw.githubusercontent.com/hpenedones/luacnn/master/data/",
)
# (file, sha256, bytes), as in the author's repository.
FILES = (
    ("usps_0.png", "5baca26b25d52c92c704c4bf2e9870bc399be294c9952afdca74a405569a8267", 220599),
    ("usps_1.png", "5418554c99717d533fc482af0ac9066becf85ee0bfc2c3978bd387c4c3d1c226", 184790),
    ("usps_2.png", "ade8d461aa2ae33079bd5ca7aa186d4cf35f527a686cfdc4f62b152f506d81ed", 210102),
    ("usps_3.png", "abfa87c0d3b079e2f13a171ac8903e7ee385cdaf1a90bb7a328f4592a9fe9935", 214833),
    ("usps_4.png", "8d8224a085af1869a6f1b960f4b754748869b21561d889e2137d3264c49fccab", 205246),
    ("usps_5.png", "cd662eb81cedc2886aab4c8e9da20959c4938b21f7cd216f96c1d12315c891ad", 207940),
    ("usps_6.png", "a0956fe0398b0519efdd25efc8df495b239ced70693799f0148def1f23af41f6", 213972),
    ("usps_7.png", "bd76c626aa862ac6091b30173d321c7c9694fbc7378f3daad3c65a9dcea4b7de", 195379),
    ("usps_8.png", "d90e066e53672eb0d0ced85f197be8bc9de640d12ae981aec00050e55106ed7b", 218584),
    ("usps_9.png", "a49869733c5a225a902a54dc3b83441ca7c09237ccebf4cb16d69d45f25ca1b8", 211763),
)


def example_position(k: int) -> tuple[int, int]:
    """(row, column) in the grid of example ``k``, counted from 1 as ``usps_dataset.lua`` does."""
    if not 1 <= k <= EXAMPLES_PER_CLASS:
        raise ValueError(f"example {k} is outside 1..{EXAMPLES_PER_CLASS}")
    return (k - 1) % GRID_ROWS, (k - 1) // GRID_ROWS


def cut_examples(sheet: np.ndarray) -> np.ndarray:
    """All 1,100 examples of one class sheet, in the tutorial's order: (1100, 16, 16) uint8."""
    expected = (GRID_ROWS * SIDE, GRID_COLUMNS * SIDE)
    if sheet.shape != expected:
        raise ValueError(f"a class sheet is {expected[0]}x{expected[1]} pixels, got {sheet.shape}")
    out = np.empty((EXAMPLES_PER_CLASS, SIDE, SIDE), dtype=np.uint8)
    for k in range(1, EXAMPLES_PER_CLASS + 1):
        row, column = example_position(k)
        out[k - 1] = sheet[row * SIDE : (row + 1) * SIDE, column * SIDE : (column + 1) * SIDE]
    return out


def read_sheet(path: str | Path) -> np.ndarray:
    """One PNG as a 2-D uint8 array; colour or alpha is reduced to grey as ``loadPNG(f, 1)`` does."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=np.uint8)


def split_sheets(sheets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels) from the ten class sheets, in order.

    Class by class, examples 1-1,000 train and 1,001-1,100 test, as ``create_dataset`` lists them.
    """
    if len(sheets) != CLASSES:
        raise ValueError(f"expected {CLASSES} class sheets, got {len(sheets)}")
    examples = [cut_examples(sheet) for sheet in sheets]
    train = np.concatenate([e[:TRAIN_PER_CLASS] for e in examples])
    test = np.concatenate([e[TRAIN_PER_CLASS:] for e in examples])
    test_per_class = EXAMPLES_PER_CLASS - TRAIN_PER_CLASS
    train_labels = np.repeat(np.arange(CLASSES, dtype=np.int64), TRAIN_PER_CLASS)
    test_labels = np.repeat(np.arange(CLASSES, dtype=np.int64), test_per_class)
    return train, train_labels, test, test_labels


def read_usps_seed(paths: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read ``usps_0.png`` ... ``usps_9.png`` (in that order) and cut them as the tutorial does."""
    return split_sheets([read_sheet(p) for p in paths])
