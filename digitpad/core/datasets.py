"""The digit datasets (MNIST, USPS): where they live, how they are verified, fetched and read.

Files are the original published ones, checked against pinned sha256 sums. The folder comes
from, in order: an explicit override, the ``DIGITPAD_DATA`` environment variable, or the
per-user cache (``platformdirs.user_cache_dir("digitpad")/data``). A complete, verified folder
is used as is with no network; a read-only one (a shared offline copy) is never written to.

Images come back as uint8 arrays, white ink on black (ink = 255), like MNIST.

Longer than most modules (~580 lines) on purpose: each dataset's pinned files, their readers,
verification and splits change together, and one module keeps them side by side.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import stat
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import platformdirs

from digitpad.core import usps_seed
from digitpad.core.download import (
    ChecksumError,
    DataError,
    DownloadError,
    Progress,
    bad_path,
    fetch,
    sha256_of,
)

__all__ = [
    "DATASETS",
    "PEN_DATASETS",
    "LETTER_DATASETS",
    "ChecksumError",
    "CorruptDataError",
    "DataError",
    "DatasetInfo",
    "DigitData",
    "DownloadError",
    "RemoteFile",
    "data_dir",
    "dataset_dir",
    "ensure_dataset",
    "load_dataset",
    "normalization_stats",
    "read_idx",
    "read_usps",
    "split_validation",
]

ENV_VAR = "DIGITPAD_DATA"
STAMP_NAME = ".digitpad-verified.json"


class CorruptDataError(DataError):
    """A data file is present but cannot be read as what it claims to be."""


@dataclass(frozen=True)
class RemoteFile:
    name: str
    sha256: str
    size: int
    urls: tuple[str, ...]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    image_size: int
    files: tuple[RemoteFile, ...]
    description: str
    license: str
    # How ``files`` are laid out: "idx" = train images, train labels, test images, test labels
    # (MNIST idx files); "usps" = train, test (ESL text files: label + grey values per line);
    # "usps-seed" = the torch tutorial's ten class sheets, usps_0.png ... usps_9.png (usps_seed.py).
    fmt: str = "idx"


@dataclass
class DigitData:
    name: str
    train_images: np.ndarray  # (N, S, S) uint8, ink = 255
    train_labels: np.ndarray  # (N,) int64
    test_images: np.ndarray
    test_labels: np.ndarray
    # An explicit validation set (the pen digits' own writers), used instead of a random slice of
    # train_images when present: a random slice would put a writer's digits on both sides.
    val_images: np.ndarray | None = None
    val_labels: np.ndarray | None = None
    # What the labels name: label i is classes[i] (alphabets.DIGITS, LETTERS or DIGITS_AND_LETTERS).
    classes: tuple[str, ...] = tuple("0123456789")


def _remote(name: str, sha256: str, size: int, bases: tuple[str, ...]) -> RemoteFile:
    return RemoteFile(name, sha256, size, tuple(base + name for base in bases))


# torchvision's S3 copy first: LeCun's own site often answers 403 or is down.
_MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
_USPS_MIRRORS = (
    "https://hastie.su.domains/ElemStatLearn/datasets/",
    "https://web.stanford.edu/~hastie/ElemStatLearn/datasets/",
)
# UCI's folder of dataset 81, "Pen-Based Recognition of Handwritten Digits" (its public home). UCI
# publishes the original trajectories compressed: pendigits-orig.tra.Z in this folder and in the
# dataset's zip (archive.ics.uci.edu/static/public/81/...zip). The pinned sha256 is the plain text's,
# and digitpad does not unpack .Z yet, so this URL verifies only where the plain file is served;
# elsewhere the download fails (not found, or its checksum) and is never used: unpack the .Z (`uncompress`, `gzip -d`)
# into <data>/pen/ by hand, or point DIGITPAD_DATA at a folder whose pen/ holds it.
_PENDIGITS_MIRRORS = ("https://archive.ics.uci.edu/ml/machine-learning-databases/pendigits/",)

DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        name="mnist",
        image_size=28,
        files=(
            _remote("train-images-idx3-ubyte.gz",
                    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422, _MNIST_MIRRORS),
            _remote("train-labels-idx1-ubyte.gz",
                    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881, _MNIST_MIRRORS),
            _remote("t10k-images-idx3-ubyte.gz",
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877, _MNIST_MIRRORS),
            _remote("t10k-labels-idx1-ubyte.gz",
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542, _MNIST_MIRRORS),
        ),
        description="MNIST: 60,000 training and 10,000 test handwritten digits, 28x28 grey.",
        license="CC BY-SA 3.0 (Yann LeCun, Corinna Cortes, Christopher J.C. Burges)",
        fmt="idx",
    ),
    "usps": DatasetInfo(
        name="usps",
        image_size=16,
        files=(
            _remote("zip.train.gz",
                    "66ebf231ab51f2cf6ac1a892d0f98ccffee1079d7a5db638c1f11f366046ca16", 1829071, _USPS_MIRRORS),
            _remote("zip.test.gz",
                    "8dacc3c6e136af6c3488de9e5113a7daf140c8c2f1f0b61c54ee02f03f1a962f", 439208, _USPS_MIRRORS),
        ),
        description="USPS zip-code digits: 7,291 training and 2,007 test digits, 16x16 grey "
        "(as distributed with The Elements of Statistical Learning).",
        license="No explicit license; distributed by Hastie, Tibshirani and Friedman with "
        "The Elements of Statistical Learning for research and teaching (AT&T / USPS origin)",
        fmt="usps",
    ),
    "usps-seed": DatasetInfo(
        name="usps-seed",
        image_size=16,
        files=tuple(_remote(name, sha, size, usps_seed.URL_BASES) for name, sha, size in usps_seed.FILES),
        description="USPS as the torch5/torch7 tutorial packaged it (seeds 000, 001): 1,100 digits "
        "of 16x16 per class, 1,000 train and 100 test each (10,000 / 1,000).",
        license="No explicit license; the USPS digits as published by Hugo Penedones with his "
        "tutorial (github.com/hpenedones/luacnn, data/)",
        fmt="usps-seed",
    ),
    "pen": DatasetInfo(
        name="pen",
        image_size=28,
        files=(
            _remote("pendigits-orig.tra",
                    "a66225d68d7d68591e62944df1ad33b3f5aa608e2df2505844b41f5568a80da4", 3641673, _PENDIGITS_MIRRORS),
        ),
        description="Real pen digits: UCI pendigits (30 writers, 7,494 digits) and UNIPEN 1a (244 writers, "
        "11,089 digits, read from the data folder), drawn on the pad; split by writer.",
        license="CC BY 4.0 (UCI pendigits: E. Alpaydin, F. Alimoglu; UNIPEN: I. Guyon et al. 1994)",
        fmt="pen",
    ),
}
# Datasets built from pen strokes by core.pen rather than read from image files.
PEN_DATASETS = ("pen", "mnist+pen")
# Pen letters (core.letters), alone or beside the mnist+pen digits.
LETTER_DATASETS = ("letters", "digits+letters")


# --------------------------------------------------------------------------- locations


def _cache_root() -> Path:
    return Path(platformdirs.user_cache_dir("digitpad")) / "data"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The data root: ``override`` > ``$DIGITPAD_DATA`` > the per-user cache folder."""
    if override is not None and str(override) != "":
        return Path(override).expanduser()
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return _cache_root()


def dataset_dir(name: str, root: str | os.PathLike | None = None) -> Path:
    """The folder that holds one dataset's files: ``<root>/<name>``."""
    return data_dir(root) / _info(name).name


def _info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name.lower()]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}") from None


def _writable(folder: Path) -> bool:
    """Whether we may write into ``folder`` (or create it).

    ``os.access`` alone says yes to root even for a ``r-x`` folder, so a folder with no write
    bit at all counts as read-only: someone made it so on purpose (a shared offline copy).
    """
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    try:
        mode = probe.stat().st_mode
    except OSError:
        return False
    has_write_bit = bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return probe.is_dir() and has_write_bit and os.access(probe, os.W_OK | os.X_OK)


# --------------------------------------------------------------------------- verification


def _load_stamp(folder: Path) -> dict:
    try:
        data = json.loads((folder / STAMP_NAME).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_stamp(folder: Path, stamp: dict) -> None:
    """Best effort: a stamp we cannot write only costs a rehash next time."""
    tmp = folder / (STAMP_NAME + ".tmp")
    try:
        tmp.write_text(json.dumps(stamp, indent=1, sort_keys=True))
        os.replace(tmp, folder / STAMP_NAME)
    except OSError:
        pass


def _stamp_key(path: Path, remote: RemoteFile) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": remote.sha256}


def _check_file(path: Path, remote: RemoteFile, stamp: dict | None) -> str | None:
    """None if ``path`` is the published file, else why not. ``stamp`` caches good hashes."""
    if not path.is_file():
        return "missing"
    actual_size = path.stat().st_size
    if actual_size != remote.size:
        return f"size {actual_size} bytes, expected {remote.size}"
    if stamp is not None and stamp.get(remote.name) == _stamp_key(path, remote):
        return None
    actual = sha256_of(path)
    if actual != remote.sha256:
        return f"sha256 {actual}, expected {remote.sha256}"
    if stamp is not None:
        stamp[remote.name] = _stamp_key(path, remote)
    return None


def _problems(folder: Path, info: DatasetInfo) -> dict[str, str]:
    """File name -> problem, for every file of ``info`` in ``folder`` that is not verified."""
    writable = _writable(folder)
    stamp = _load_stamp(folder) if writable else None
    before = dict(stamp) if stamp is not None else None
    problems = {}
    for remote in info.files:
        why = _check_file(folder / remote.name, remote, stamp)
        if why is not None:
            problems[remote.name] = why
            if stamp is not None:
                stamp.pop(remote.name, None)
    if stamp is not None and stamp != before and folder.is_dir():
        _save_stamp(folder, stamp)
    return problems


def _raise_offline(info: DatasetInfo, folder: Path, problems: dict[str, str]) -> None:
    """The error for an unusable folder when downloading is not allowed."""
    title = info.name.upper()
    damaged = {k: v for k, v in problems.items() if v != "missing"}
    if not damaged:
        raise DataError(
            f"{title} is not in {folder}: run `digitpad download {info.name}` or set {ENV_VAR}"
        )
    name, why = next(iter(damaged.items()))
    hint = f"run `digitpad download {info.name} --force` or set {ENV_VAR}"
    if why.startswith("size"):
        raise CorruptDataError(f"{folder / name} is truncated or damaged ({why}): {hint}")
    raise ChecksumError(f"{folder / name} failed its checksum ({why}); not used: {hint}")


# --------------------------------------------------------------------------- ensure / fetch


def ensure_dataset(
    name: str,
    root: str | os.PathLike | None = None,
    *,
    download: bool = True,
    progress: Progress | None = None,
    force: bool = False,
) -> Path:
    """Return a folder holding all of ``name``'s verified files, downloading what is missing.

    A verified folder is returned without touching the network. When the folder is read-only,
    missing or bad files are fetched into the per-user cache instead (good files are copied
    there so that one folder holds the whole set). ``force`` downloads every file again.
    """
    info = _info(name)
    folder = dataset_dir(info.name, root)
    if force and not download:
        raise ValueError("force=True needs download=True")
    problems = {f.name: "forced" for f in info.files} if force else _problems(folder, info)
    if not problems:
        return folder
    if not download:
        _raise_offline(info, folder, problems)
    target = folder
    if not _writable(folder):
        # A read-only folder (a shared offline copy): complete the set in the user's cache.
        target = _cache_root() / info.name
        if target == folder or not _writable(target):
            raise DataError(f"cannot write {info.name.upper()} to {folder} or {target}: set {ENV_VAR}")
        problems = {f.name: "forced" for f in info.files} if force else _problems(target, info)
        if not problems:
            return target
        _copy_good_files(folder, target, info, problems)
    _fetch_files(target, info, problems, progress)
    return target


def _copy_good_files(src: Path, dst: Path, info: DatasetInfo, problems: dict[str, str]) -> None:
    """Copy the verified files of a read-only folder into ``dst``; drop them from ``problems``."""
    dst.mkdir(parents=True, exist_ok=True)
    for remote in info.files:
        if remote.name in problems and problems[remote.name] != "forced":
            if _check_file(src / remote.name, remote, None) is None:
                tmp = dst / (remote.name + ".part")
                shutil.copyfile(src / remote.name, tmp)
                os.replace(tmp, dst / remote.name)  # atomic, like a download
                del problems[remote.name]


def _fetch_files(
    folder: Path, info: DatasetInfo, problems: dict[str, str], progress: Progress | None
) -> None:
    """Download the files named in ``problems`` into ``folder``; stamp each verified file."""
    folder.mkdir(parents=True, exist_ok=True)
    todo = [f for f in info.files if f.name in problems]
    total = sum(f.size for f in todo)
    done_before = 0
    stamp = _load_stamp(folder)
    for remote in todo:
        dest = folder / remote.name
        if dest.exists() and problems[remote.name] not in ("missing", "forced"):
            os.replace(dest, bad_path(dest))  # keep the bad copy aside, never use it
        fetch(
            remote.urls, dest, sha256=remote.sha256, size=remote.size, name=info.name,
            progress=_offset_progress(progress, done_before, total),
        )
        stamp[remote.name] = _stamp_key(dest, remote)  # fetch just hashed it
        _save_stamp(folder, stamp)
        done_before += remote.size


def _offset_progress(progress: Progress | None, offset: int, total: int) -> Progress | None:
    """Report one file's progress as part of the whole dataset's download."""
    if progress is None:
        return None
    return lambda done, _file_total: progress(offset + done, total)


# --------------------------------------------------------------------------- readers


_IDX_MAGIC = {2051: 3, 2049: 1}  # images: 3 dims (n, rows, cols); labels: 1 dim (n)
_IDX_MAX_BYTES = 1 << 32


def _open_maybe_gzip(path: Path):
    """A binary file object, transparently gunzipping when the file starts with gzip's magic."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def _read_exact(f, buffer) -> int:
    """Fill ``buffer`` from ``f``; return how many bytes were read (short at end of file).

    A gzip stream that is cut off raises EOFError mid-read: that is a short read too.
    """
    view = memoryview(buffer).cast("B")
    got = 0
    while got < len(view):
        try:
            n = f.readinto(view[got:])
        except EOFError:
            break
        if not n:
            break
        got += n
    return got


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an idx file (MNIST's format; gzip or plain) into a writable uint8 array.

    Raises ``CorruptDataError`` naming the file for a bad magic number, an unsupported dtype,
    a truncated file or trailing bytes.
    """
    path = Path(path)
    try:
        with _open_maybe_gzip(path) as f:
            return _parse_idx(f, path)
    except (OSError, EOFError, zlib.error) as exc:
        # gzip raises BadGzipFile (an OSError) or EOFError for a damaged/cut-off archive.
        raise CorruptDataError(f"{path.name}: cannot decompress: {exc}") from exc


def _parse_idx(f, path: Path) -> np.ndarray:
    header = f.read(4)
    if len(header) < 4:
        raise CorruptDataError(f"{path.name}: truncated: expected an idx header, got {len(header)} bytes")
    magic = int.from_bytes(header, "big")
    if magic not in _IDX_MAGIC:
        raise CorruptDataError(
            f"{path.name}: bad magic {magic:#010x}: expected 2051 (0x803, images) or 2049 (0x801, labels)"
        )
    ndim = _IDX_MAGIC[magic]
    dims_raw = f.read(4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise CorruptDataError(f"{path.name}: truncated: header expected {4 + 4 * ndim} bytes, got {4 + len(dims_raw)}")
    dims = tuple(int.from_bytes(dims_raw[i : i + 4], "big") for i in range(0, 4 * ndim, 4))
    header_len = 4 + 4 * ndim
    count = int(np.prod(dims, dtype=np.int64))
    if count > _IDX_MAX_BYTES:
        # A garbled header must not make us allocate terabytes.
        raise CorruptDataError(f"{path.name}: implausible dims {dims} in the header")
    # Read straight into the final array: no intermediate bytes copy of 47 MB.
    out = np.empty(dims, dtype=np.uint8)
    got = _read_exact(f, out)
    if got < out.size:
        raise CorruptDataError(
            f"{path.name}: truncated: expected {header_len + out.size} bytes, got {header_len + got} "
            f"(dims {dims})"
        )
    try:
        extra = f.read(1)
    except EOFError:  # all data there but the gzip trailer is cut off
        extra = b""
    if extra:
        raise CorruptDataError(f"{path.name}: longer than its header says ({header_len + out.size} bytes, dims {dims})")
    return out


def read_usps(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read an ESL USPS file (gzip or plain): ``(images (N,16,16) uint8, labels (N,) int64)``.

    Each line is a label then 256 grey values in [-1, 1], row by row. In these files the ink is
    +1 and the paper -1, so mapping [-1, 1] linearly to [0, 255] gives white ink on black, the
    same polarity as MNIST. Malformed lines raise ``CorruptDataError`` with the line number.
    """
    path = Path(path)
    try:
        with _open_maybe_gzip(path) as f:
            text = f.read().decode("ascii")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise CorruptDataError(f"{path.name}: cannot read: {exc}") from exc
    table = _parse_usps_fast(text)
    if table is None:
        _raise_usps_line_error(path, text)
    return _usps_table_to_arrays(path, text, table)


_USPS_COLS = 1 + 16 * 16


def _parse_usps_fast(text: str) -> np.ndarray | None:
    """The whole file as an (N, 257) float array via numpy's C parser, or None if malformed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": handled below
            table = np.loadtxt(io.StringIO(text), dtype=np.float64, ndmin=2)
    except ValueError:
        return None
    if table.shape[1] != _USPS_COLS or table.shape[0] == 0 or not np.isfinite(table).all():
        return None
    return table


def _raise_usps_line_error(path: Path, text: str) -> NoReturn:
    """Walk the lines (slow path, only on failure) and raise for the first bad one."""
    lineno = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != _USPS_COLS:
            raise CorruptDataError(f"{path.name}: line {lineno}: {len(fields)} fields, expected {_USPS_COLS}")
        for col, field in enumerate(fields, start=1):
            try:
                value = float(field)
            except ValueError:
                raise CorruptDataError(f"{path.name}: line {lineno}: field {col} is not a number: {field!r}") from None
            if not np.isfinite(value):
                raise CorruptDataError(f"{path.name}: line {lineno}: field {col} is {field!r}")
    raise CorruptDataError(f"{path.name}: no digits found ({lineno} lines)")


def _line_number(text: str, row: int) -> int:
    """1-based line number of data row ``row`` (loadtxt skips blank lines)."""
    rows = (n for n, line in enumerate(text.splitlines(), start=1) if line.strip())
    return next(n for i, n in enumerate(rows) if i == row)


def _usps_table_to_arrays(path: Path, text: str, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels_f, pixels = table[:, 0], table[:, 1:]
    bad = np.flatnonzero((labels_f != np.round(labels_f)) | (labels_f < 0) | (labels_f > 9))
    if bad.size:
        line = _line_number(text, int(bad[0]))
        raise CorruptDataError(f"{path.name}: line {line}: label {float(labels_f[bad[0]]):g} is not a digit 0-9")
    out_of_range = np.flatnonzero((np.abs(pixels) > 1 + 1e-6).any(axis=1))
    if out_of_range.size:
        line = _line_number(text, int(out_of_range[0]))
        raise CorruptDataError(f"{path.name}: line {line}: grey value outside [-1, 1]")
    images = np.clip(np.rint((pixels + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return images.reshape(-1, 16, 16), labels_f.astype(np.int64)


# --------------------------------------------------------------------------- load


def load_dataset(
    name: str,
    root: str | os.PathLike | None = None,
    *,
    download: bool = True,
    progress: Progress | None = None,
) -> DigitData:
    """Ensure ``name`` is present and verified, then read it into uint8 arrays (ink = 255).

    ``"personal"`` is the user's own digit set (``core.personal``): nothing to download, and a
    ``DataError`` when it has no digits yet. ``"pen"`` and ``"mnist+pen"`` are built from pen
    strokes by ``core.pen``."""
    if name == "personal":
        from .personal import load_personal_dataset  # imports this module: loaded on first use

        return load_personal_dataset()
    if name.lower() in PEN_DATASETS:
        from .pen import load_pen_dataset  # imports this module: import it only when asked

        return load_pen_dataset(name.lower(), root, download=download, progress=progress)
    if name.lower() in LETTER_DATASETS:
        from .letters import load_letter_dataset

        return load_letter_dataset(name.lower(), root, download=download, progress=progress)
    info = _info(name)
    folder = ensure_dataset(info.name, root, download=download, progress=progress)
    paths = [folder / f.name for f in info.files]
    if info.fmt == "idx":
        train_x, train_y, test_x, test_y = (read_idx(p) for p in paths)
    elif info.fmt == "usps":
        (train_x, train_y), (test_x, test_y) = (read_usps(p) for p in paths)
    elif info.fmt == "usps-seed":
        train_x, train_y, test_x, test_y = usps_seed.read_usps_seed(paths)
    else:
        raise DataError(f"{info.name}: unknown file layout {info.fmt!r}")
    data = DigitData(info.name, train_x, train_y.astype(np.int64), test_x, test_y.astype(np.int64))
    _check_consistent(data, info, paths)
    return data


def _check_consistent(data: DigitData, info: DatasetInfo, paths: list[Path]) -> None:
    """Images and labels must pair up, have the advertised size, and labels be digits."""
    s = info.image_size
    for part, x, y in (("train", data.train_images, data.train_labels), ("test", data.test_images, data.test_labels)):
        where = f"{info.name} {part} ({', '.join(p.name for p in paths)})"
        if x.ndim != 3 or x.shape[1:] != (s, s):
            raise CorruptDataError(f"{where}: images have shape {x.shape}, expected (N, {s}, {s})")
        if y.ndim != 1 or len(y) != len(x):
            raise CorruptDataError(f"{where}: {len(x)} images but labels of shape {y.shape}")
        if y.size and (y.min() < 0 or y.max() > 9):
            raise CorruptDataError(f"{where}: labels outside 0-9 ({y.min()}..{y.max()})")


# --------------------------------------------------------------------------- splits / stats


def split_validation(n: int, fraction: float = 1 / 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic disjoint ``(train_idx, val_idx)`` covering ``range(n)``, each sorted.

    ``fraction`` of the samples (rounded; 5,000 of MNIST's 60,000 by default) go to validation.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fraction must be in [0, 1), got {fraction}")
    n_val = min(int(round(n * fraction)), max(n - 1, 0))  # always keep one training sample
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_val:]).astype(np.int64), np.sort(perm[:n_val]).astype(np.int64)


def normalization_stats(images_u8: np.ndarray) -> tuple[float, float]:
    """``(mean, std)`` of ``images_u8 / 255`` over all pixels (population std).

    Computed from a 256-bin histogram in chunks: exact, and no float copy of 47M pixels.
    Pass the training part only, so validation/test stay unseen.
    """
    flat = np.asarray(images_u8).reshape(-1)
    if flat.dtype != np.uint8:
        raise TypeError(f"expected uint8 images, got {flat.dtype}")
    if flat.size == 0:
        raise ValueError("no pixels to compute statistics from")
    counts = np.zeros(256, dtype=np.int64)
    for start in range(0, flat.size, 1 << 22):
        counts += np.bincount(flat[start : start + (1 << 22)], minlength=256)
    values = np.arange(256, dtype=np.float64) / 255.0
    mean = float((counts * values).sum() / flat.size)
    var = float((counts * (values - mean) ** 2).sum() / flat.size)
    return mean, var**0.5
