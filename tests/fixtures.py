"""Small synthetic digit sets that tests build themselves: no downloads, no shared data."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from digitpad.core.datasets import DigitData


def render_digit(digit: int, rng: np.random.Generator, size: int = 28) -> np.ndarray:
    """A font-rendered digit, randomly shifted, scaled and rotated: (size, size) uint8, ink = 255."""
    big = size * 4
    font = ImageFont.load_default(size=int(big * rng.uniform(0.55, 0.75)))
    image = Image.new("L", (big, big))
    draw = ImageDraw.Draw(image)
    centre = big / 2 + rng.uniform(-big * 0.06, big * 0.06, size=2)
    draw.text(tuple(centre), str(digit), fill=255, font=font, anchor="mm", stroke_width=int(rng.integers(2, 5)), stroke_fill=255)
    image = image.rotate(rng.uniform(-12, 12), resample=Image.BILINEAR)
    return np.asarray(image.resize((size, size), Image.BOX), np.uint8)


def synthetic_digits(n_train: int = 400, n_test: int = 100, size: int = 28, seed: int = 0, name: str = "mnist") -> DigitData:
    """A learnable stand-in for MNIST: balanced classes, font digits with jitter."""
    rng = np.random.default_rng(seed)

    def make(n):
        labels = np.arange(n) % 10
        rng.shuffle(labels)
        return np.stack([render_digit(int(d), rng, size) for d in labels]), labels.astype(np.int64)

    train_x, train_y = make(n_train)
    test_x, test_y = make(n_test)
    return DigitData(name, train_x, train_y, test_x, test_y)


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write ``array`` (uint8) as a gzipped idx file with the right magic for images or labels."""
    array = np.ascontiguousarray(array, np.uint8)
    magic = 0x0800 | array.ndim
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.tobytes())
    return path


def real_data_root() -> Path | None:
    """The verified real datasets: $DIGITPAD_DATA, else ``shared/data`` beside the checkout; None if absent."""
    import os

    env = os.environ.get("DIGITPAD_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[1].parent / "shared" / "data")
    for root in candidates:
        if (root / "mnist").is_dir() and (root / "usps").is_dir():
            return root
    return None


def write_pen_data(root: Path, digits, monkeypatch) -> Path:
    """A data folder ``root`` whose ``pen/`` holds ``digits`` (``core.pen.PenDigit``, y down) as the two
    real files do: the UCI ones in ``pendigits-orig.tra``'s format, the UNIPEN ones as JSON lines,
    both y up. The pinned checksums are pointed at these files for the test (``monkeypatch``), so the
    whole path from ``DIGITPAD_DATA`` through the loaders and the writer split is the real one."""
    import dataclasses
    import hashlib
    import json

    from digitpad.core import datasets, pen

    folder = root / "pen"
    folder.mkdir(parents=True, exist_ok=True)
    uci = [".INCLUDE        dene.doc", '.LEXICON "0" "1" "2" "3" "4" "5" "6" "7" "8" "9"', ".HIERARCHY      DIGIT", ""]
    unipen = []
    for index, digit in enumerate(digits):
        strokes = [[[float(x), -float(y)] for x, y in stroke] for stroke in digit.strokes]  # back to y up
        if digit.source == pen.PENDIGITS_SOURCE:
            uci += [f'.SEGMENT DIGIT    {index} ? "{digit.label}"', f".COMMENT {digit.label} {digit.writer.split('/', 1)[1]}  {index}"]
            for stroke in strokes:
                uci += [".PEN_DOWN", *(f" {x} {y}" for x, y in stroke), ".PEN_UP"]
            uci += [".DT 100", ""]
        else:
            unipen.append(json.dumps({"label": str(digit.label), "site": digit.site, "writer": digit.writer, "strokes": strokes}))
    uci_path = folder / pen.PENDIGITS_FILE
    uci_path.write_text("\n".join(uci) + "\n", encoding="ascii")
    unipen_path = folder / pen.UNIPEN_FILE
    with gzip.open(unipen_path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(unipen) + "\n")
    info = datasets.DATASETS["pen"]
    (remote,) = info.files
    pinned = dataclasses.replace(remote, sha256=hashlib.sha256(uci_path.read_bytes()).hexdigest(), size=uci_path.stat().st_size)
    monkeypatch.setitem(datasets.DATASETS, "pen", dataclasses.replace(info, files=(pinned,)))
    monkeypatch.setattr(pen, "UNIPEN_SHA256", hashlib.sha256(unipen_path.read_bytes()).hexdigest())
    return root
