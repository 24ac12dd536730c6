"""Real pen digits (online handwriting): read, drawn as people draw on the pad, split by writer.

Two collections, both CC BY 4.0:

* UCI "Pen-Based Recognition of Handwritten Digits" (Alpaydin & Alimoglu), ``pendigits-orig.tra``:
  the raw trajectories of its 30 training writers in the UNIPEN-style text format.
* UNIPEN train_r01_v07 category 1a (Guyon et al. 1994), converted to JSON lines
  (``unipen-1a-digits.jsonl.gz``): 244 writers from 14 sites.

Both have y growing upward (tablet coordinates); a ``PenDigit`` holds its strokes the pad's way,
y growing downward, so everything downstream treats them exactly like strokes drawn on the canvas.
A record that cannot be a digit drawing (no ink, a single point, a label that is not one digit, a
broken line) is skipped and counted in a ``LoadReport``: one bad record never costs the rest.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
from PIL import Image, ImageDraw

from . import preprocess
from .download import ChecksumError, DataError

PENDIGITS_FILE = "pendigits-orig.tra"
UNIPEN_FILE = "unipen-1a-digits.jsonl.gz"
PENDIGITS_SOURCE, UNIPEN_SOURCE = "pendigits", "unipen"
LABELS = tuple("0123456789")

# Why a record was skipped (the keys of LoadReport.skipped).
BROKEN, UNKNOWN_LABEL, NO_INK, SINGLE_POINT = "broken line", "unknown label", "no ink", "single point"


@dataclass(frozen=True)
class PenDigit:
    """One digit written with a pen: strokes are (n, 2) float x, y arrays, y growing downward."""

    label: int
    writer: str  # unique across collections: "pendigits/12", "syn/..." (UNIPEN ids start with the site)
    source: str  # "pendigits" or "unipen"
    site: str  # the UNIPEN site that collected it; "pendigits" for the UCI collection
    strokes: tuple[np.ndarray, ...]


@dataclass
class LoadReport:
    """How many records a loader read, and how many it skipped for each reason."""

    source: str
    read: int = 0
    skipped: Counter = field(default_factory=Counter)
    what: str = "digits"  # what the records are, for the message

    @property
    def total_skipped(self) -> int:
        return sum(self.skipped.values())

    def __str__(self) -> str:
        reasons = ", ".join(f"{count} {why}" for why, count in sorted(self.skipped.items()))
        return f"{self.source}: {self.read} {self.what} read, {self.total_skipped} skipped" + (f" ({reasons})" if reasons else "")


# --- Loading ---------------------------------------------------------------------------------------
def _checked_record(label: str, writer, source: str, site: str, strokes: list, report: LoadReport,
                    labels: Sequence[str] = LABELS) -> PenDigit | None:
    """The record as a PenDigit (its label the index in ``labels``), or None (counted in ``report``)
    when it cannot be a drawing of one of ``labels``."""
    if label not in labels:
        report.skipped[UNKNOWN_LABEL] += 1
        return None
    if writer is None:
        report.skipped[BROKEN] += 1
        return None
    kept = tuple(np.asarray(s, np.float64) * (1.0, -1.0) for s in strokes if len(s))  # y up -> y down
    if not kept:
        report.skipped[NO_INK] += 1
        return None
    if len(np.unique(np.concatenate(kept), axis=0)) < 2:
        report.skipped[SINGLE_POINT] += 1
        return None
    report.read += 1
    return PenDigit(labels.index(label), str(writer), source, site, kept)


_SEGMENT_LABEL = re.compile(r'"([^"]*)"')


def parse_pendigits(lines: Iterable[str], report: LoadReport | None = None) -> list[PenDigit]:
    """Digits from the UCI pendigits original format: ``.SEGMENT DIGIT ... "8"`` opens a digit,
    ``.COMMENT <label> <writer> <index>`` names its writer, ``.PEN_DOWN``/``.PEN_UP`` bracket
    each stroke's ``x y`` lines. Header lines (.INCLUDE, .LEXICON, ...) and ``.DT`` are ignored."""
    report = report if report is not None else LoadReport(PENDIGITS_SOURCE)
    digits: list[PenDigit] = []
    record: dict | None = None

    def close() -> None:
        if record is None:
            return
        if record["broken"]:
            report.skipped[BROKEN] += 1
            return
        digit = _checked_record(record["label"], record["writer"], PENDIGITS_SOURCE, PENDIGITS_SOURCE, record["strokes"], report)
        if digit is not None:
            digits.append(digit)

    for line in lines:
        fields = line.split()
        if not fields:
            continue
        keyword = fields[0]
        if keyword == ".SEGMENT":
            close()
            found = _SEGMENT_LABEL.search(line)
            record = {"label": found.group(1) if found else "", "writer": None, "strokes": [], "pen_down": False,
                      "broken": found is None}
        elif record is None:
            continue  # the file's header
        elif keyword == ".COMMENT":
            record["writer"] = f"{PENDIGITS_SOURCE}/{fields[2]}" if len(fields) >= 3 else None
        elif keyword == ".PEN_DOWN":
            record["strokes"].append([])
            record["pen_down"] = True
        elif keyword == ".PEN_UP":
            record["pen_down"] = False
        elif keyword.startswith("."):
            continue  # .DT and other annotations
        else:
            _add_point(record, fields)
    close()
    return digits


def _add_point(record: dict, fields: list[str]) -> None:
    """An ``x y`` line: a point of the open stroke; anything else breaks the record."""
    if not record["pen_down"] or len(fields) != 2:
        record["broken"] = True
        return
    try:
        record["strokes"][-1].append((float(fields[0]), float(fields[1])))
    except ValueError:
        record["broken"] = True


def parse_unipen_jsonl(lines: Iterable[str], report: LoadReport | None = None,
                       labels: Sequence[str] = LABELS) -> list[PenDigit]:
    """Drawings from the UNIPEN JSON-lines conversion: ``{"label", "site", "writer", "strokes"}`` a
    line; ``labels`` are the classes to keep (digits; the letters loader passes its own)."""
    report = report if report is not None else LoadReport(UNIPEN_SOURCE)
    digits = []
    for line in lines:
        if not line.strip():
            continue
        record = _unipen_record(line)
        if record is None:
            report.skipped[BROKEN] += 1
            continue
        digit = _checked_record(*record, report=report, labels=labels)
        if digit is not None:
            digits.append(digit)
    return digits


def _unipen_record(line: str) -> tuple | None:
    """(label, writer, source, site, strokes) of one JSON line, or None when it is not a record."""
    try:
        data = json.loads(line)
        label, site, writer, strokes = str(data["label"]), str(data["site"]), str(data["writer"]), data["strokes"]
        strokes = [np.asarray(s, np.float64).reshape(-1, 2) for s in strokes]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if any(not np.isfinite(s).all() for s in strokes):
        return None
    return label, writer, UNIPEN_SOURCE, site, strokes


def read_pendigits(path: str | Path) -> tuple[list[PenDigit], LoadReport]:
    report = LoadReport(PENDIGITS_SOURCE)
    with open(path, encoding="ascii", errors="replace") as handle:
        return parse_pendigits(handle, report), report


def read_unipen(path: str | Path, labels: Sequence[str] = LABELS, what: str = "digits") -> tuple[list[PenDigit], LoadReport]:
    report = LoadReport(UNIPEN_SOURCE, what=what)
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            return parse_unipen_jsonl(handle, report, labels), report
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path}: cannot read the UNIPEN {what}: {error}") from error


# --- Drawing them as people draw on the pad ---------------------------------------------------------
@dataclass(frozen=True)
class PadStyle:
    """The ranges a pen digit is drawn with on the pad (canvas pixels, y down), one value per drawing.

    The pad is a few hundred pixels wide and people write anywhere on it at any size; mouse and pen
    events arrive a few pixels apart when the hand moves slowly and further apart when it is fast.
    """

    canvas: tuple[int, int] = (480, 400)  # width, height: the pad in the default window
    height_px: tuple[float, float] = (60.0, 320.0)  # the digit's longer side
    aspect: tuple[float, float] = (0.8, 1.2)  # width stretch
    slant: tuple[float, float] = (-0.3, 0.3)  # x shift per unit of height (italics)
    rotation_deg: tuple[float, float] = (-8.0, 8.0)
    spacing_px: tuple[float, float] = (1.0, 10.0)  # distance between successive points
    jitter_px: tuple[float, float] = (0.0, 1.0)  # hand tremor and sensor noise, per point
    pen_px: tuple[float, float] = (6.0, 24.0)  # the pad's pen (only the raster path sees it)


PAD_STYLE = PadStyle()


def draw_on_pad(digit: PenDigit, rng: np.random.Generator, style: PadStyle = PAD_STYLE) -> list[np.ndarray]:
    """The digit's strokes as a person might draw it on the pad: (n, 2) canvas pixel arrays, y down."""
    points = np.concatenate(digit.strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    centre = (low + high) / 2
    size = rng.uniform(*style.height_px) / max(float((high - low).max()), 1e-9)
    transform = _writer_transform(rng, style) * size
    strokes = [(stroke - centre) @ transform.T for stroke in digit.strokes]
    spacing, jitter = rng.uniform(*style.spacing_px), rng.uniform(*style.jitter_px)
    strokes = [_resample(stroke, spacing) for stroke in strokes]
    strokes = [stroke + rng.normal(0.0, jitter, stroke.shape) for stroke in strokes]
    return _place_on_canvas(strokes, rng, style.canvas)


def _writer_transform(rng: np.random.Generator, style: PadStyle) -> np.ndarray:
    """A 2x2 linear map: aspect, then slant (y down: the top leans right for a positive slant), then rotation."""
    aspect = np.diag([rng.uniform(*style.aspect), 1.0])
    slant = np.array([[1.0, -rng.uniform(*style.slant)], [0.0, 1.0]])
    angle = math.radians(rng.uniform(*style.rotation_deg))
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return rotation @ slant @ aspect


def _resample(stroke: np.ndarray, spacing: float) -> np.ndarray:
    """Points every ``spacing`` pixels along the stroke, both ends kept, as input events arrive."""
    if len(stroke) < 2:
        return stroke
    arc = np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))))
    if arc[-1] == 0:
        return stroke[:1]
    stations = np.append(np.arange(0.0, arc[-1], spacing), arc[-1])
    return np.stack([np.interp(stations, arc, stroke[:, 0]), np.interp(stations, arc, stroke[:, 1])], axis=1)


def _place_on_canvas(strokes: list[np.ndarray], rng: np.random.Generator, canvas: tuple[int, int]) -> list[np.ndarray]:
    """Shift the drawing to a random spot where it fits (a drawing bigger than the pad is centred)."""
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    room = np.maximum(np.asarray(canvas, np.float64) - (high - low), 0.0)
    offset = rng.uniform(0.0, 1.0, 2) * room - low
    return [stroke + offset for stroke in strokes]


def paint_on_paper(strokes: Sequence[np.ndarray], pen_px: float, canvas: tuple[int, int] = PAD_STYLE.canvas,
                   supersample: int = 2) -> np.ndarray:
    """The strokes painted as the pad paints them: dark ink on white paper, round pen of ``pen_px``,
    anti-aliased; (height, width) uint8, what a PNG saved from the pad holds."""
    width, height = canvas
    zoom = supersample
    paper = Image.new("L", (width * zoom, height * zoom), 255)
    draw = ImageDraw.Draw(paper)
    pen = max(1, round(pen_px * zoom))
    radius = pen / 2
    for stroke in strokes:
        xy = np.asarray(stroke, np.float64)[:, :2] * zoom
        if len(xy) > 1:
            draw.line(xy.ravel().tolist(), fill=0, width=pen, joint="curve")
        for x, y in (xy[0], xy[-1]):  # round caps (the joints are round already)
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)
    return np.asarray(paper.resize((width, height), Image.Resampling.BOX), np.uint8)


def render_digit(digit: PenDigit, rng: np.random.Generator, raster: bool = False,
                 spec: preprocess.InputSpec = preprocess.MNIST_SPEC, style: PadStyle = PAD_STYLE) -> np.ndarray | None:
    """The model input for one pen digit drawn on the pad: (size, size) uint8, ink = 255; None if the
    pad would call it empty. ``raster`` takes the image path (painted, then ``prepare_image``, as a
    PNG given to ``digitpad predict``) instead of the pad's stroke path (``prepare_strokes``)."""
    strokes = draw_on_pad(digit, rng, style)
    if raster:
        prepared = preprocess.prepare_image(paint_on_paper(strokes, rng.uniform(*style.pen_px), style.canvas), spec)
    else:
        prepared = preprocess.prepare_strokes(strokes, spec)
    if prepared.image is None:
        return None
    return np.round(prepared.image * 255).astype(np.uint8)


def render_digits(digits: Sequence[PenDigit], seed: int, copies: int = 1, raster_fraction: float = 0.0,
                  spec: preprocess.InputSpec = preprocess.MNIST_SPEC) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` drawings of every digit, a ``raster_fraction`` of them through the image path:
    (images (n, size, size) uint8, labels (n,) int64). Each drawing has its own generator seeded by
    (seed, index, copy), so the result never depends on the order or the number of digits rendered.

    Drawing takes a few ms a digit (64,000 letters: minutes), so big renders are cached in the user's
    cache folder, keyed by every stroke and every parameter that shapes the result."""
    if len(digits) < CACHE_MIN_DRAWINGS:
        return _render_uncached(digits, seed, copies, raster_fraction, spec)
    path = _render_cache_path(digits, seed, copies, raster_fraction, spec)
    try:
        with np.load(path, allow_pickle=False) as cached:
            return cached["images"], cached["labels"]
    except (OSError, KeyError, ValueError, zlib.error):
        pass  # absent or damaged: draw again
    images, labels = _render_uncached(digits, seed, copies, raster_fraction, spec)
    from .atomic import SaveError, atomic_write

    try:
        buffer = io.BytesIO()
        np.savez(buffer, images=images, labels=labels)
        atomic_write(path, buffer.getvalue())
    except (OSError, SaveError):
        pass  # a read-only cache only costs time
    return images, labels


CACHE_MIN_DRAWINGS = 2000
RENDER_VERSION = 1  # bump when draw_on_pad or render_digit changes what they draw


def _render_cache_path(digits, seed, copies, raster_fraction, spec) -> Path:
    from .datasets import _cache_root

    key = hashlib.sha256(repr((RENDER_VERSION, preprocess.PREPROCESS_VERSION, PAD_STYLE, spec, seed, copies,
                                raster_fraction, len(digits))).encode())
    for digit in digits:
        key.update(digit.label.to_bytes(2, "little", signed=True))  # same bytes for 0..32767; -1 = outlier
        for stroke in digit.strokes:
            key.update(np.ascontiguousarray(stroke, np.float64).tobytes())
            key.update(b"|")
    return _cache_root() / "rendered" / f"{key.hexdigest()[:24]}.npz"


def _render_uncached(digits, seed, copies, raster_fraction, spec) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for index, digit in enumerate(digits):
        for copy in range(copies):
            rng = np.random.default_rng([seed, index, copy])
            image = render_digit(digit, rng, raster=bool(rng.random() < raster_fraction), spec=spec)
            if image is not None:
                images.append(image)
                labels.append(digit.label)
    shape = (0, spec.size, spec.size)
    return (np.stack(images) if images else np.zeros(shape, np.uint8)), np.asarray(labels, np.int64)


@dataclass(frozen=True)
class PadDrawings:
    """Pen digits drawn on the pad once each and prepared through its stroke path, strokes kept."""

    images: np.ndarray  # (n, size, size) uint8, ink = 255: what the pad's model reads
    labels: np.ndarray  # (n,) int64
    strokes: tuple[tuple[np.ndarray, ...], ...]  # each image's strokes, (k, 2) pad pixels, in drawing order
    digits: tuple[PenDigit, ...]  # each image's record


def draw_test_digits(digits: Sequence[PenDigit], seed: int | None = None, spec: preprocess.InputSpec = preprocess.MNIST_SPEC,
                     style: PadStyle = PAD_STYLE) -> PadDrawings:
    """The test drawings of ``digits``: exactly what ``render_digits(digits, seed, 1, 0.0)`` draws for
    the pen datasets' test split (the same generator per digit, the same images, the same drawings
    skipped as empty), with their strokes kept so that each can be replayed on the pad.
    ``seed`` defaults to ``TEST_DRAWING_SEED``."""
    seed = TEST_DRAWING_SEED if seed is None else seed
    images, labels, strokes_kept, kept = [], [], [], []
    for index, digit in enumerate(digits):
        rng = np.random.default_rng([seed, index, 0])
        rng.random()  # render_digits' strokes-or-raster draw: drawn here too, so what follows is the same
        strokes = draw_on_pad(digit, rng, style)
        prepared = preprocess.prepare_strokes(strokes, spec)
        if prepared.image is None:
            continue
        images.append(np.round(prepared.image * 255).astype(np.uint8))
        labels.append(digit.label)
        strokes_kept.append(tuple(strokes))
        kept.append(digit)
    shape = (0, spec.size, spec.size)
    return PadDrawings(np.stack(images) if images else np.zeros(shape, np.uint8), np.asarray(labels, np.int64),
                       tuple(strokes_kept), tuple(kept))


def fit_on_pad(strokes: Sequence[np.ndarray], canvas: tuple[float, float], margin: float = 0.05) -> list[np.ndarray]:
    """``strokes`` (pad pixels of ``PAD_STYLE.canvas``) placed on a pad of ``canvas`` = (width, height):
    left where they are when they lie on it, else centred, and shrunk (aspect kept) only when they
    are bigger than the pad less ``margin`` on each side. Moving or scaling a whole drawing does not
    change how the pad reads it, up to rounding (``prepare_strokes`` frames the drawing's own box)."""
    strokes = [np.asarray(s, np.float64)[:, :2] for s in strokes]
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    size = np.asarray(canvas, np.float64)
    if np.all(low >= 0) and np.all(high <= size):
        return [s.copy() for s in strokes]
    room = size * (1 - 2 * margin)
    scale = min(1.0, float(np.min(room / np.maximum(high - low, 1e-9))))
    centre = (low + high) / 2
    return [(s - centre) * scale + size / 2 for s in strokes]


# --- Writer-disjoint splits -------------------------------------------------------------------------
SPLITS = ("train", "val", "test")
SPLIT_FRACTIONS = (0.7, 0.15, 0.15)


def group_of(digit: PenDigit) -> str:
    """What a split keeps together: a whole UNIPEN site (site-disjoint), a single UCI writer."""
    return f"{digit.source}/{digit.site}" if digit.source == UNIPEN_SOURCE else digit.writer


def assign_groups(sizes: dict[str, int], fractions: Sequence[float] = SPLIT_FRACTIONS, seed: int = 0) -> dict[str, int]:
    """Group name -> split index, each group whole. Largest groups first (ties in a seeded order), each
    to the split furthest below its share, so the splits come close to ``fractions`` by digit count."""
    total = sum(sizes.values())
    targets = [fraction * total for fraction in fractions]
    filled = [0] * len(fractions)

    def order(name: str) -> tuple:
        return -sizes[name], hashlib.sha256(f"{seed}/{name}".encode()).hexdigest()

    assignment = {}
    for name in sorted(sizes, key=order):
        split = max(range(len(fractions)), key=lambda i: (targets[i] - filled[i], -i))
        assignment[name] = split
        filled[split] += sizes[name]
    return assignment


def split_by_writer(digits: Sequence[PenDigit], seed: int = 0,
                    fractions: Sequence[float] = SPLIT_FRACTIONS) -> dict[str, list[PenDigit]]:
    """{"train", "val", "test"} -> digits, writer-disjoint (UNIPEN: site-disjoint), each source split
    on its own so that every part holds both collections. Deterministic for a seed."""
    parts: dict[str, list[PenDigit]] = {name: [] for name in SPLITS}
    for source in sorted({d.source for d in digits}):
        mine = [d for d in digits if d.source == source]
        assignment = assign_groups(Counter(group_of(d) for d in mine), fractions, seed)
        for digit in mine:
            parts[SPLITS[assignment[group_of(digit)]]].append(digit)
    return parts


def split_summary(parts: dict[str, list[PenDigit]]) -> str:
    """Digits and writers of each part, per source and per site: what the split put where."""
    lines = []
    for name, digits in parts.items():
        by_site: dict[str, list[PenDigit]] = {}
        for digit in digits:
            by_site.setdefault(f"{digit.source}/{digit.site}" if digit.source == UNIPEN_SOURCE else digit.source, []).append(digit)
        writers = len({d.writer for d in digits})
        lines.append(f"{name}: {len(digits)} digits, {writers} writers")
        for site, mine in sorted(by_site.items()):
            lines.append(f"    {site:<16} {len(mine):>6} digits {len({d.writer for d in mine}):>4} writers")
    return "\n".join(lines)


def iter_sources(digits: Iterable[PenDigit]) -> Iterator[tuple[str, list[PenDigit]]]:
    """(name, digits) for each source and each UNIPEN site, for per-source reports."""
    digits = list(digits)
    for source in sorted({d.source for d in digits}):
        yield source, [d for d in digits if d.source == source]
    for site in sorted({d.site for d in digits if d.source == UNIPEN_SOURCE}):
        yield f"{UNIPEN_SOURCE}/{site}", [d for d in digits if d.source == UNIPEN_SOURCE and d.site == site]


# --- The pen datasets: "pen" and "mnist+pen" --------------------------------------------------------
# The UNIPEN conversion has no public download: it is read from the data folder and checked.
UNIPEN_SHA256 = "b6b12cb9d50cc36ee53649a53c5c2ca5185af58bf1de1a5d03aec4c14653e7b6"
# The mix, chosen on the validation writers (benchmarks/pen_mix.py, 2-epoch runs): one drawing of
# each training pen digit read 99.09% of the validation writers' digits, two drawings 99.06% (MNIST
# validation 99.00% / 99.06%): no better for 19% more training time. A RASTER_FRACTION of the
# drawings go through the image path, so PNG files are read as well as strokes.
PEN_COPIES = 1
RASTER_FRACTION = 0.25
# Seeds of the validation and test drawings: fixed, so every model is measured on the same images.
VAL_DRAWING_SEED, TEST_DRAWING_SEED = 1001, 2002


def pen_files(root=None, *, download: bool = True, progress=None) -> tuple[Path, Path]:
    """(pendigits file, UNIPEN file), verified: pendigits is fetched from UCI when missing and allowed,
    UNIPEN only read from the folder. A missing or damaged UNIPEN file is a DataError naming it."""
    from .datasets import ENV_VAR, ChecksumError, dataset_dir, ensure_dataset, sha256_of

    folder = ensure_dataset("pen", root, download=download, progress=progress)
    looked = list(dict.fromkeys([folder, dataset_dir("pen", root)]))  # a download may land in the cache
    for place in looked:
        unipen = place / UNIPEN_FILE
        if unipen.is_file():
            if sha256_of(unipen) != UNIPEN_SHA256:
                raise ChecksumError(f"{unipen} failed its checksum (expected sha256 {UNIPEN_SHA256}); not used")
            return folder / PENDIGITS_FILE, unipen
    where = " or ".join(str(place) for place in looked)
    raise DataError(
        f"the UNIPEN digits ({UNIPEN_FILE}) are not in {where}: they cannot be downloaded; put the file "
        f"there, or set {ENV_VAR} to a data folder whose pen/ holds it"
    )


def load_pen_digits(root=None, *, download: bool = True, progress=None) -> tuple[list[PenDigit], list[LoadReport]]:
    """Every readable digit of both collections, and what each loader skipped."""
    pendigits_path, unipen_path = pen_files(root, download=download, progress=progress)
    uci, uci_report = read_pendigits(pendigits_path)
    unipen, unipen_report = read_unipen(unipen_path)
    return uci + unipen, [uci_report, unipen_report]


MNIST_VAL_FRACTION = 1 / 12  # "mnist+pen" holds out the 5,000 MNIST digits a default MNIST run (seed 0) holds out


def build_pen_data(name: str, digits: Sequence[PenDigit], mnist=None, seed: int = 0,
                   letters: Sequence[PenDigit] = (), outliers: bool = True):
    """The DigitData of "pen" or "mnist+pen" from pen digits (and MNIST for the mix).

    train: the training writers' digits, drawn PEN_COPIES times each (plus MNIST's training part),
    and with ``outliers`` drawings that are not one digit (label -1, ``outliers.py``) made from the
    training writers' digits and the training sites' ``letters`` (labels in DIGITS_AND_LETTERS);
    val (explicit): the validation writers' digits, drawn once, strokes and images mixed as in
    training (plus MNIST's usual 5,000 held-out digits), so calibration sees real pen digits;
    test: the held-out writers' digits, drawn once through the pad's stroke path (plus MNIST test).
    """
    from .datasets import DigitData, split_validation

    parts = split_by_writer(digits, seed)
    train_x, train_y = render_digits(parts["train"], seed, PEN_COPIES, RASTER_FRACTION)
    if outliers:
        from .letters import split_letters_by_site
        from .outliers import render_outliers

        training_letters = split_letters_by_site(letters, parts)["train"] if letters else []
        train_x, train_y = _join(train_x, train_y, *render_outliers(parts["train"], training_letters, seed))
    val_x, val_y = render_digits(parts["val"], VAL_DRAWING_SEED, 1, RASTER_FRACTION)
    test_x, test_y = render_digits(parts["test"], TEST_DRAWING_SEED, 1, 0.0)
    if name == "mnist+pen":
        if mnist is None:
            raise ValueError("mnist+pen needs the MNIST data")
        # The same 5,000 held-out MNIST digits as a plain MNIST run with the default seed and fraction.
        mnist_train, mnist_val = split_validation(len(mnist.train_labels), MNIST_VAL_FRACTION, 0)
        train_x, train_y = _join(mnist.train_images[mnist_train], mnist.train_labels[mnist_train], train_x, train_y)
        val_x, val_y = _join(mnist.train_images[mnist_val], mnist.train_labels[mnist_val], val_x, val_y)
        test_x, test_y = _join(mnist.test_images, mnist.test_labels, test_x, test_y)
    elif name != "pen":
        raise ValueError(f"unknown pen dataset {name!r}; expected 'pen' or 'mnist+pen'")
    return DigitData(name, train_x, train_y, test_x, test_y, val_images=val_x, val_labels=val_y)


def _join(images_a, labels_a, images_b, labels_b) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([images_a, images_b]), np.concatenate([labels_a, labels_b]).astype(np.int64)


def load_pen_dataset(name: str, root=None, *, download: bool = True, progress=None):
    """``load_dataset("pen" | "mnist+pen")``: read both collections, split by writer, draw them."""
    from .datasets import load_dataset
    from .letters import load_pen_letters

    digits, _ = load_pen_digits(root, download=download, progress=progress)
    mnist = load_dataset("mnist", root, download=download, progress=progress) if name == "mnist+pen" else None
    try:  # the training sites' letters make the best "not a digit" examples; without them, digits alone
        letters, _ = load_pen_letters(root)
    except ChecksumError:
        raise  # a damaged file is reported, never silently left out
    except DataError:
        letters = []
    return build_pen_data(name, digits, mnist, letters=letters)


def held_out_digits(root=None, *, download: bool = False, seed: int = 0) -> list[PenDigit]:
    """The held-out (test) writers' pen digits, for benchmarks and the Mistakes viewer (drawn there by
    ``draw_test_digits``, as the pen datasets draw their test split)."""
    digits, _ = load_pen_digits(root, download=download)
    return split_by_writer(digits, seed)["test"]
