"""The user's personal digit set: drawings the user labelled, kept on disk to fine-tune a model on.

Why one file of ~630 lines: the on-disk format (layout, write order, export and import) is one
contract with one set of invariants (an entry exists exactly when its JSON does); split, those
invariants would be spread over modules that must change together.

Layout, under ``personal_dir()`` (``$DIGITPAD_HOME/personal``, else the platform's user data folder,
``platformdirs.user_data_dir("digitpad")/personal``)::

    entries/<id>.png    the prepared 28x28 image, 8-bit grey, white ink on black (as MNIST)
    entries/<id>.json   label, strokes, source, creation time, and the sha256 of the PNG's pixels

Every file is written to a temporary name, fsynced and renamed into place, the PNG first and the
JSON last: an entry exists exactly when its JSON does, so an app closed mid-write leaves at most an
orphan PNG (ignored, and removed later by ``cleanup``), never a half entry. Deleting removes the
JSON first for the same reason. An entry that cannot be read back (bad JSON, a missing, damaged
or altered PNG) is skipped with a ``CorruptEntryWarning``; it is never fatal.

Export writes a plain folder: one PNG per digit, ``labels.csv`` (columns ``file,label``) and
``index.json`` (ids, strokes, times). Import reads such a folder, or any folder of images of any
size with a ``labels.csv``; images that are not digitpad's own prepared 28x28 ones go through
``prepare_file``, exactly as a file opened in the pad would. Nothing here imports Qt.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import secrets
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, NamedTuple, Sequence

import numpy as np
import platformdirs
from PIL import Image

from . import preprocess
from .atomic import atomic_write, fsync_dir
from .datasets import DigitData
from .download import DataError

__all__ = [
    "HOME_ENV",
    "IMAGE_SIZE",
    "CorruptEntryWarning",
    "Entry",
    "ImportResult",
    "PersonalStore",
    "finetuned_model_path",
    "home_dir",
    "load_personal_dataset",
    "personal_dir",
]

HOME_ENV = "DIGITPAD_HOME"
IMAGE_SIZE = preprocess.MNIST_SPEC.size  # personal digits are MNIST-shaped (spec_for("personal"))
ENTRY_FORMAT = "digitpad-personal-digit"
EXPORT_FORMAT = "digitpad-personal-export"
FORMAT_VERSION = 1
LABELS_CSV = "labels.csv"
INDEX_JSON = "index.json"
# Orphans (a PNG whose JSON never came, a temp file) younger than this may belong to an add that
# another process (the CLI beside the app) is making right now, so cleanup leaves them alone.
ORPHAN_AGE_S = 600.0
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")


class CorruptEntryWarning(UserWarning):
    """A personal digit on disk could not be read back; it was skipped."""


@dataclass(frozen=True, eq=False)
class Entry:
    """One labelled digit of the personal set."""

    id: str
    label: int
    image: np.ndarray  # (28, 28) uint8, ink = 255: exactly what a model is trained on
    created: str  # ISO 8601 local time with offset
    source: str  # "pad" (drawn and corrected/confirmed), "file", "import", ...
    strokes: tuple[np.ndarray, ...] | None  # the canvas strokes, (n, 2+) float arrays, when drawn on the pad
    predicted: int | None  # what the model read when the user labelled it, if known
    image_path: Path  # the stored PNG (for thumbnails)

    @property
    def image_float(self) -> np.ndarray:
        """The image as float32 in [0, 1], ink = 1: what ``Predictor.probabilities`` takes."""
        return self.image.astype(np.float32) / 255


class ImportResult(NamedTuple):
    added: list[Entry]
    skipped: list[tuple[str, str]]  # (file as named in the index, why it was skipped)


# --- Locations -------------------------------------------------------------------------------------
def home_dir() -> Path:
    """digitpad's per-user data folder: ``$DIGITPAD_HOME``, else ``platformdirs.user_data_dir("digitpad")``."""
    env = os.environ.get(HOME_ENV, "").strip()
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("digitpad"))


def personal_dir() -> Path:
    """Where the personal digit set lives by default."""
    return home_dir() / "personal"


def finetuned_model_path() -> Path:
    """Where a model fine-tuned on the personal set is saved by default."""
    return home_dir() / "models" / "personal.safetensors"


# --- Atomic files ----------------------------------------------------------------------------------
def _png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _pixels_sha256(pixels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pixels, np.uint8).tobytes()).hexdigest()


def _now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _new_id() -> str:
    # Sorts in creation order (to the microsecond, UTC); the random tail keeps two processes adding
    # at the same instant apart.
    return f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S-%f}-{secrets.token_hex(3)}"


def _valid_id(entry_id) -> bool:
    return isinstance(entry_id, str) and _ID_PATTERN.fullmatch(entry_id) is not None


# --- Validation of what is stored ------------------------------------------------------------------
def _check_label(label) -> int:
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) or not 0 <= label <= 9:
        raise ValueError(f"a digit label must be an integer 0-9, got {label!r}")
    return int(label)


def _to_pixels(image) -> np.ndarray:
    """(28, 28) uint8 ink = 255 from a Prepared, a [0, 1] float image or a uint8 image."""
    if isinstance(image, preprocess.Prepared):
        if image.empty or image.image is None:
            raise ValueError("nothing to store: the drawing is empty")
        image = image.image
    pixels = np.asarray(image)
    if pixels.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(
            f"a personal digit is a prepared {IMAGE_SIZE}x{IMAGE_SIZE} image, got shape {pixels.shape}: "
            "run it through preprocess.prepare_image/prepare_strokes first"
        )
    if pixels.dtype == np.uint8:
        out = pixels.copy()
    else:
        values = pixels.astype(np.float32)
        if not np.isfinite(values).all():
            raise ValueError("the image has NaN or infinite pixels")
        out = np.clip(np.rint(values * 255), 0, 255).astype(np.uint8)
    if not out.any():
        raise ValueError("nothing to store: the image is blank")
    return out


def _strokes_to_json(strokes) -> list | None:
    if strokes is None:
        return None
    out = []
    for stroke in strokes:
        points = np.atleast_2d(np.asarray(stroke, dtype=np.float64))
        if points.size == 0:
            continue
        if points.ndim != 2 or points.shape[1] < 2:
            raise ValueError(f"a stroke must be an (n, 2) array of x, y points, got shape {points.shape}")
        if not np.isfinite(points).all():
            raise ValueError("a stroke has NaN or infinite coordinates")
        out.append(np.round(points, 2).tolist())
    return out


def _strokes_from_json(raw) -> tuple[np.ndarray, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ValueError("strokes are not a list")
    strokes = []
    for stroke in raw:
        points = np.asarray(stroke, dtype=np.float64)
        if points.size == 0:
            points = points.reshape(0, 2)
        if points.ndim != 2 or points.shape[1] < 2:
            raise ValueError("a stroke is not a list of [x, y] points")
        strokes.append(points)
    return tuple(strokes)


def _read_png(path: Path) -> np.ndarray:
    with Image.open(path) as picture:
        if picture.mode != "L" or picture.size != (IMAGE_SIZE, IMAGE_SIZE):  # checked before decoding anything
            raise ValueError(f"expected a {IMAGE_SIZE}x{IMAGE_SIZE} grey PNG, got {picture.mode} {picture.size}")
        picture.load()
        return np.array(picture, dtype=np.uint8)


# --- The store -------------------------------------------------------------------------------------
class PersonalStore:
    """The personal digit set in one folder (default ``personal_dir()``).

    Cheap to create, holds no open files and no cache: every call reads the folder again, so several
    stores (the app and the CLI, two threads) on one folder see each other's changes. All methods
    are safe to call from a worker thread.
    """

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root).expanduser() if root is not None else personal_dir()
        self.skipped: list[tuple[str, str]] = []  # (file, why) for the corrupt entries the last read skipped
        self._cleaned = False  # leftovers of interrupted writes are swept once per store, on its first write

    @property
    def entries_dir(self) -> Path:
        return self.root / "entries"

    def __repr__(self) -> str:
        return f"PersonalStore({str(self.root)!r})"

    # --- reading ---------------------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        """Every readable entry, oldest first. Corrupt ones are skipped with a ``CorruptEntryWarning``
        each and listed in ``self.skipped``; half-written ones (no JSON yet) are silently ignored."""
        skipped: list[tuple[str, str]] = []
        found = []
        folder = self.entries_dir
        names = sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []
        for name in names:
            if name.startswith("."):
                continue
            path = folder / name
            try:
                found.append(self._read_entry(path))
            except FileNotFoundError:
                continue  # deleted while we listed: not corrupt
            except (OSError, ValueError, KeyError, TypeError, SyntaxError) as error:
                reason = " ".join(str(error).split()) or type(error).__name__
                skipped.append((name, reason))
                warnings.warn(f"skipping corrupt personal digit {path}: {reason}", CorruptEntryWarning, stacklevel=2)
        self.skipped = skipped
        return found

    def _read_entry(self, path: Path) -> Entry:
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as error:
            raise ValueError(f"not UTF-8 text ({error.reason})") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"not JSON ({error.msg})") from None
        if not isinstance(meta, dict) or meta.get("format") != ENTRY_FORMAT:
            raise ValueError("not a digitpad personal digit")
        if int(meta.get("version", 0)) > FORMAT_VERSION:
            raise ValueError("written by a newer digitpad")
        entry_id = path.stem
        if meta.get("id") != entry_id:
            raise ValueError(f"its id {meta.get('id')!r} does not match the file name")
        label = _check_label(meta.get("label"))
        image_path = path.with_suffix(".png")
        try:
            pixels = _read_png(image_path)
        except FileNotFoundError:
            raise ValueError(f"its image {image_path.name} is missing") from None
        except (OSError, SyntaxError) as error:  # Pillow: UnidentifiedImageError (OSError), broken data
            raise ValueError(f"its image {image_path.name} is unreadable ({error})") from None
        if _pixels_sha256(pixels) != meta.get("pixels_sha256"):
            raise ValueError(f"its image {image_path.name} does not match the checksum in the entry")
        predicted = meta.get("predicted")
        return Entry(
            id=entry_id,
            label=label,
            image=pixels,
            created=str(meta.get("created", "")),
            source=str(meta.get("source", "")),
            strokes=_strokes_from_json(meta.get("strokes")),
            predicted=None if predicted is None else _check_label(predicted),
            image_path=image_path,
        )

    def get(self, entry_id: str) -> Entry:
        """One entry by id; ``KeyError`` if there is none, ``ValueError`` if it is corrupt."""
        path = self._json_path(entry_id)
        if not path.exists():
            raise KeyError(f"no personal digit with id {entry_id!r}")
        return self._read_entry(path)

    def __len__(self) -> int:
        return len(self.entries())

    def counts(self) -> np.ndarray:
        """(10,) int64: how many readable entries there are of each digit."""
        return np.bincount([e.label for e in self.entries()], minlength=10).astype(np.int64)

    def by_label(self) -> dict[int, list[Entry]]:
        """Digit -> its entries, oldest first, for every digit 0-9 (empty lists included)."""
        groups: dict[int, list[Entry]] = {d: [] for d in range(10)}
        for entry in self.entries():
            groups[entry.label].append(entry)
        return groups

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(images (n, 28, 28) uint8 ink = 255, labels (n,) int64) of every readable entry."""
        entries = self.entries()
        images = np.zeros((len(entries), IMAGE_SIZE, IMAGE_SIZE), np.uint8)
        for i, entry in enumerate(entries):
            images[i] = entry.image
        return images, np.array([e.label for e in entries], dtype=np.int64)

    def as_digit_data(self) -> DigitData:
        """The set as a dataset: every entry in ``train``, an empty ``test`` (it is the user's own,
        with too few digits to hold some back; fine-tuning reports accuracy on all of them)."""
        images, labels = self.arrays()
        empty = np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
        return DigitData("personal", images, labels, empty, np.zeros(0, np.int64))

    # --- writing ---------------------------------------------------------------------------------
    def add(
        self,
        image,
        label: int,
        strokes: Sequence | None = None,
        source: str = "pad",
        predicted: int | None = None,
        *,
        entry_id: str | None = None,
        created: str | None = None,
    ) -> Entry:
        """Store one labelled digit and return it.

        ``image`` is the prepared 28x28 image (a ``Prepared``, floats in [0, 1] or uint8, ink bright),
        ``strokes`` the canvas strokes it came from (kept so a later preprocessing can redo it), and
        ``predicted`` what the model said (so a correction can be told from a confirmation).
        """
        label = _check_label(label)
        pixels = _to_pixels(image)
        stroke_json = _strokes_to_json(strokes)
        if predicted is not None:
            predicted = _check_label(predicted)
        if entry_id is None:
            entry_id = _new_id()
        elif not _valid_id(entry_id):
            raise ValueError(f"invalid entry id {entry_id!r}")
        if self._json_path(entry_id).exists():
            raise FileExistsError(f"a personal digit with id {entry_id!r} already exists")
        if not self._cleaned:
            self._cleaned = True
            self.cleanup()
        png_path = self.entries_dir / f"{entry_id}.png"
        meta = {
            "format": ENTRY_FORMAT,
            "version": FORMAT_VERSION,
            "id": entry_id,
            "label": label,
            "image": png_path.name,
            "pixels_sha256": _pixels_sha256(pixels),
            "created": created or _now_iso(),
            "source": str(source),
            "predicted": predicted,
            "preprocess_version": preprocess.PREPROCESS_VERSION,
            "strokes": stroke_json,
        }
        atomic_write(png_path, _png_bytes(pixels))  # first the image ...
        atomic_write(self._json_path(entry_id), _json_bytes(meta))  # ... then the JSON that commits it
        return Entry(
            entry_id, label, pixels, meta["created"], meta["source"], _strokes_from_json(stroke_json), predicted, png_path
        )

    def add_strokes(self, strokes: Sequence, label: int, predicted: int | None = None) -> Entry:
        """Prepare canvas strokes as the pad does and store them with the result."""
        prepared = preprocess.prepare_strokes(strokes, preprocess.MNIST_SPEC)
        return self.add(prepared, label, strokes=strokes, source="pad", predicted=predicted)

    def add_file(self, path: str | os.PathLike, label: int, source: str = "file") -> Entry:
        """Prepare an image file of any size as the pad does (``prepare_file``) and store it.
        Raises ``preprocess.ImageReadError`` for an unreadable file, ``ValueError`` for a blank one."""
        prepared = preprocess.prepare_file(path, preprocess.MNIST_SPEC)
        if prepared.empty:
            raise ValueError(f"no digit found in '{path}' (blank or too faint)")
        return self.add(prepared, label, source=source)

    def relabel(self, entry_id: str, label: int) -> Entry:
        """Change one entry's label (the JSON is rewritten atomically)."""
        label = _check_label(label)
        path = self._json_path(entry_id)
        if not path.exists():
            raise KeyError(f"no personal digit with id {entry_id!r}")
        self._read_entry(path)  # refuse to relabel a corrupt entry
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta["label"] = label
        atomic_write(path, _json_bytes(meta))
        return self._read_entry(path)

    def delete(self, entry_id: str) -> None:
        """Remove one entry (corrupt ones too); ``KeyError`` if there is no such id."""
        json_path = self._json_path(entry_id)
        png_path = json_path.with_suffix(".png")
        if not json_path.exists() and not png_path.exists():
            raise KeyError(f"no personal digit with id {entry_id!r}")
        json_path.unlink(missing_ok=True)  # the entry is gone from here on ...
        fsync_dir(json_path.parent)
        png_path.unlink(missing_ok=True)  # ... and a crash now leaves only an orphan PNG

    def cleanup(self, min_age_s: float = ORPHAN_AGE_S) -> int:
        """Remove leftovers of interrupted writes older than ``min_age_s``: PNGs without a JSON and
        temp files. Best effort (a read-only folder is left as it is); returns how many went."""
        folder = self.entries_dir
        if not folder.is_dir():
            return 0
        removed = 0
        cutoff = time.time() - min_age_s
        for path in folder.iterdir():
            orphan = path.suffix == ".png" and not path.with_suffix(".json").exists()
            temp = path.name.startswith(".") and path.name.endswith(".tmp")
            if not (orphan or temp):
                continue
            try:
                if path.stat().st_mtime <= cutoff:
                    path.unlink()
                    removed += 1
            except OSError:
                pass
        return removed

    def _json_path(self, entry_id: str) -> Path:
        if not _valid_id(entry_id):
            raise KeyError(f"no personal digit with id {entry_id!r}")
        return self.entries_dir / f"{entry_id}.json"

    # --- export / import -------------------------------------------------------------------------
    def export(self, folder: str | os.PathLike, overwrite: bool = False) -> int:
        """Write every readable entry to ``folder`` as ``<label>_<id>.png`` plus ``labels.csv``
        (``file,label``) and ``index.json`` (ids, strokes, times); returns how many were written.
        An existing export there (a ``labels.csv``) is replaced only with ``overwrite``."""
        folder = Path(folder).expanduser()
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(f"{folder} is a file, not a folder")
        if (folder / LABELS_CSV).exists() and not overwrite:
            raise FileExistsError(f"{folder / LABELS_CSV} already exists: export to an empty folder, or overwrite")
        folder.mkdir(parents=True, exist_ok=True)
        entries = self.entries()
        index = []
        for entry in entries:
            name = f"{entry.label}_{entry.id}.png"
            atomic_write(folder / name, _png_bytes(entry.image))
            index.append(
                {
                    "file": name,
                    "label": entry.label,
                    "id": entry.id,
                    "created": entry.created,
                    "source": entry.source,
                    "predicted": entry.predicted,
                    "prepared": True,  # already digitpad's 28x28 input: import takes the pixels as they are
                    "strokes": _strokes_to_json(entry.strokes),
                }
            )
        header = {
            "format": EXPORT_FORMAT,
            "version": FORMAT_VERSION,
            "image_size": IMAGE_SIZE,
            "ink": "white on black (255 = ink), as MNIST",
            "preprocess_version": preprocess.PREPROCESS_VERSION,
            "entries": index,
        }
        atomic_write(folder / INDEX_JSON, _json_bytes(header))
        rows = io.StringIO()
        writer = csv.writer(rows, lineterminator="\n")
        writer.writerow(["file", "label"])
        writer.writerows([item["file"], item["label"]] for item in index)
        atomic_write(folder / LABELS_CSV, rows.getvalue().encode("utf-8"))  # last: the export is complete
        return len(entries)

    def import_folder(
        self, folder: str | os.PathLike, progress: Callable[[int, int], None] | None = None
    ) -> ImportResult:
        """Add the labelled images of ``folder`` (``labels.csv`` with columns ``file,label``, or a
        digitpad export's ``index.json``). Images of any size and polarity are prepared as the pad
        prepares files; digitpad's own exported 28x28 images are taken as they are. Files that are
        missing, unreadable, blank, wrongly labelled or already in the set are skipped with a
        reason, never fatal. ``progress(done, total)`` is called after each file."""
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: no such folder")
        index = _read_index(folder)
        rows, skipped = _read_labels(folder, index)
        existing = self.entries()
        taken_ids = {e.id for e in existing}
        seen = {(e.label, _pixels_sha256(e.image)) for e in existing}
        added: list[Entry] = []
        for done, (name, label) in enumerate(rows, start=1):
            try:
                entry = self._import_one(folder, name, label, index.get(name, {}), taken_ids, seen)
                added.append(entry)
                taken_ids.add(entry.id)
                seen.add((entry.label, _pixels_sha256(entry.image)))
            except _Skip as reason:
                skipped.append((name, str(reason)))
            if progress is not None:
                progress(done, len(rows))
        return ImportResult(added, skipped)

    def _import_one(self, folder: Path, name: str, label: int, meta: dict, taken_ids: set, seen: set) -> Entry:
        path = folder / name
        if not path.is_file():
            raise _Skip("no such file")
        pixels = None
        if meta.get("prepared"):
            try:
                pixels = _read_png(path)
            except (OSError, ValueError, SyntaxError):
                pixels = None  # edited since the export: prepare it like any other image
        if pixels is None:
            try:
                prepared = preprocess.prepare_file(path, preprocess.MNIST_SPEC)
            except preprocess.ImageReadError as error:
                raise _Skip(str(error)) from None
            if prepared.empty:
                raise _Skip("no digit found (blank or too faint)")
            pixels = _to_pixels(prepared)
        if not pixels.any():
            raise _Skip("no digit found (blank image)")
        if meta.get("id") in taken_ids or (label, _pixels_sha256(pixels)) in seen:
            raise _Skip("already in the personal set")
        entry_id = meta.get("id") if _valid_id(meta.get("id")) else None
        try:
            strokes = _strokes_from_json(meta.get("strokes"))
        except (ValueError, TypeError):
            strokes = None
        predicted = meta.get("predicted")
        try:
            predicted = None if predicted is None else _check_label(predicted)
        except ValueError:
            predicted = None
        created = meta.get("created") if isinstance(meta.get("created"), str) else None
        source = meta.get("source") if isinstance(meta.get("source"), str) and meta.get("source") else "import"
        return self.add(pixels, label, strokes, source, predicted, entry_id=entry_id, created=created)


class _Skip(Exception):
    """Why one imported file was skipped."""


def _json_bytes(data: dict) -> bytes:
    return (json.dumps(data, indent=1, separators=(",", ": ")) + "\n").encode("utf-8")


def _read_index(folder: Path) -> dict[str, dict]:
    """A digitpad export's index.json as file name -> metadata; {} when absent or unreadable."""
    path = folder / INDEX_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT or not isinstance(data.get("entries"), list):
        return {}
    return {item["file"]: item for item in data["entries"] if isinstance(item, dict) and isinstance(item.get("file"), str)}


def _parse_label(raw) -> int:
    text = str(raw).strip()
    if not re.fullmatch(r"[0-9](\.0*)?", text):
        raise ValueError(f"label {text!r} is not a digit 0-9")
    return int(text[0])


def _read_labels(folder: Path, index: dict[str, dict]) -> tuple[list[tuple[str, int]], list[tuple[str, str]]]:
    """(file, label) rows to import from labels.csv (or, without one, from index.json), and the
    rows skipped for a bad label."""
    rows: list[tuple[str, int]] = []
    skipped: list[tuple[str, str]] = []
    path = folder / LABELS_CSV
    if path.is_file():
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [cell.strip().lower() for cell in next(reader, [])]
            if "file" not in header or "label" not in header:
                raise ValueError(f"{path}: the first line must name the columns file,label (got {','.join(header)!r})")
            file_col, label_col = header.index("file"), header.index("label")
            for line, record in enumerate(reader, start=2):
                if not any(cell.strip() for cell in record):
                    continue
                if len(record) <= max(file_col, label_col):
                    skipped.append((f"{LABELS_CSV} line {line}", "missing the file or the label"))
                    continue
                name = record[file_col].strip()
                try:
                    rows.append((name, _parse_label(record[label_col])))
                except ValueError as error:
                    skipped.append((name, str(error)))
        return rows, skipped
    if index:
        for name, meta in index.items():
            try:
                rows.append((name, _parse_label(meta.get("label"))))
            except ValueError as error:
                skipped.append((name, str(error)))
        return rows, skipped
    raise ValueError(f"{folder}: no {LABELS_CSV} (columns file,label) saying which digit each image is")


def load_personal_dataset(root: str | os.PathLike | None = None) -> DigitData:
    """The personal set as a ``DigitData`` for ``digitpad train --dataset personal`` and the training
    panel; ``DataError`` when it has no digits yet."""
    store = PersonalStore(root)
    data = store.as_digit_data()
    if len(data.train_labels) == 0:
        raise DataError(
            f"the personal digit set in {store.root} is empty: add digits with `digitpad personal add IMAGE "
            "--label N`, `digitpad personal import FOLDER`, or the pad's correction buttons"
        )
    return data


def counts_text(counts: Iterable[int]) -> str:
    """'0:12 1:10 ...' for one-line summaries."""
    return " ".join(f"{digit}:{int(n)}" for digit, n in enumerate(counts))
