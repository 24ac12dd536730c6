"""Dataset readers, locations, verification and offline use, on tiny fixtures built here.

The last test reads the real MNIST/USPS when a verified copy is around (``realdata`` mark).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import urllib.request
from pathlib import Path

import numpy as np
import platformdirs
import pytest

from digitpad.core import datasets
from digitpad.core.datasets import (
    DATASETS,
    ChecksumError,
    CorruptDataError,
    DataError,
    DatasetInfo,
    RemoteFile,
    data_dir,
    dataset_dir,
    ensure_dataset,
    load_dataset,
    normalization_stats,
    read_idx,
    read_usps,
    split_validation,
)

# ----------------------------------------------------------------------------- fixture builders


def idx_bytes(arr: np.ndarray) -> bytes:
    """An idx file as MNIST writes it: magic 0x0000 08 <ndim>, big-endian dims, raw uint8."""
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def write_gz(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0))
    return path


def usps_text(images: np.ndarray, labels, label_fmt="{:.4f}") -> str:
    """ESL-style lines: label, then 256 grey values in [-1, 1]."""
    lines = []
    for img, lab in zip(images, labels):
        values = " ".join(f"{v:.4f}" for v in img.reshape(-1))
        lines.append(f"{label_fmt.format(lab)} {values} ")  # the real files end lines with a space
    return "\n".join(lines) + "\n"


RNG = np.random.default_rng(1234)
TINY = 4  # tiny fake "MNIST" images are 4x4


def make_tiny_mnist(folder: Path, n_train=6, n_test=3) -> dict[str, bytes]:
    """Write the four idx .gz files into ``folder``; return name -> file bytes."""
    arrays = {
        "train-images-idx3-ubyte.gz": RNG.integers(0, 256, (n_train, TINY, TINY)),
        "train-labels-idx1-ubyte.gz": RNG.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte.gz": RNG.integers(0, 256, (n_test, TINY, TINY)),
        "t10k-labels-idx1-ubyte.gz": RNG.integers(0, 10, n_test),
    }
    return {name: write_gz(folder / name, idx_bytes(a)).read_bytes() for name, a in arrays.items()}


def make_tiny_usps(folder: Path) -> dict[str, bytes]:
    out = {}
    for name, n in (("zip.train.gz", 5), ("zip.test.gz", 2)):
        imgs = RNG.choice([-1.0, 1.0], size=(n, 16, 16))
        out[name] = write_gz(folder / name, usps_text(imgs, RNG.integers(0, 10, n)).encode()).read_bytes()
    return out


def info_for(name: str, files: dict[str, bytes], mirror: Path | None, image_size: int, fmt: str) -> DatasetInfo:
    """A DatasetInfo whose sums match ``files``; its only mirror is a file:// folder (or none)."""
    remotes = tuple(
        RemoteFile(
            fname,
            hashlib.sha256(data).hexdigest(),
            len(data),
            ((mirror / fname).as_uri(),) if mirror else ("http://127.0.0.1:1/" + fname,),
        )
        for fname, data in files.items()
    )
    return DatasetInfo(name, image_size, remotes, f"tiny {name}", "test", fmt)


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Isolated locations: no DIGITPAD_DATA, the user cache redirected into tmp_path."""
    monkeypatch.delenv("DIGITPAD_DATA", raising=False)
    cache = tmp_path / "usercache"
    monkeypatch.setattr(datasets, "_cache_root", lambda: cache)
    return cache


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a URL fails the test (AssertionError is not caught as a network error)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network used: {args[0]!r}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.fixture
def tiny_mnist(tmp_path, monkeypatch, env):
    """A mirror folder with tiny MNIST files; DATASETS['mnist'] points at it."""
    mirror = tmp_path / "mirror"
    files = make_tiny_mnist(mirror)
    info = info_for("mnist", files, mirror, TINY, "idx")
    monkeypatch.setitem(DATASETS, "mnist", info)
    return mirror, info


def read_only(folder: Path):
    """chmod a-w on ``folder`` (a shared offline copy); returns a function that undoes it."""
    mode = folder.stat().st_mode
    folder.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return lambda: folder.chmod(mode)


# ----------------------------------------------------------------------------- read_idx


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trip(tmp_path, compress):
    images = RNG.integers(0, 256, (3, 5, 7)).astype(np.uint8)
    data = idx_bytes(images)
    path = tmp_path / "x.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    out = read_idx(path)
    assert out.dtype == np.uint8 and out.shape == (3, 5, 7)
    np.testing.assert_array_equal(out, images)
    assert out.flags.writeable  # torch.from_numpy warns on read-only arrays
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    write_gz(tmp_path / "l.gz", idx_bytes(labels))
    np.testing.assert_array_equal(read_idx(tmp_path / "l.gz"), labels)


def test_read_idx_bad_magic(tmp_path):
    data = bytearray(idx_bytes(np.zeros((2, 3, 3))))
    data[2] = 0x0D  # float dtype, not the 0x08 (ubyte) MNIST uses
    write_gz(tmp_path / "weird.gz", bytes(data))
    with pytest.raises(CorruptDataError, match=r"weird\.gz: bad magic 0x00000d03"):
        read_idx(tmp_path / "weird.gz")
    write_gz(tmp_path / "text.gz", b"<html>not found</html>")
    with pytest.raises(CorruptDataError, match="bad magic"):
        read_idx(tmp_path / "text.gz")


def test_read_idx_truncated_data(tmp_path):
    data = idx_bytes(np.ones((4, 2, 2)))  # 16-byte header + 16 bytes
    write_gz(tmp_path / "short.gz", data[:-5])
    with pytest.raises(CorruptDataError, match=r"short\.gz: truncated: expected 32 bytes, got 27"):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "hdr").write_bytes(data[:10])
    with pytest.raises(CorruptDataError, match="truncated"):
        read_idx(tmp_path / "hdr")


def test_read_idx_cut_off_gzip_stream(tmp_path):
    gz = gzip.compress(idx_bytes(RNG.integers(0, 256, (50, 28, 28))))
    (tmp_path / "cut.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(CorruptDataError, match=r"cut\.gz: truncated: expected 39216 bytes, got "):
        read_idx(tmp_path / "cut.gz")


def test_read_idx_rejects_trailing_bytes(tmp_path):
    write_gz(tmp_path / "long.gz", idx_bytes(np.ones(3)) + b"\x00")
    with pytest.raises(CorruptDataError, match="longer than its header"):
        read_idx(tmp_path / "long.gz")


# ----------------------------------------------------------------------------- read_usps


def test_read_usps_maps_ink_to_255(tmp_path):
    imgs = np.full((2, 16, 16), -1.0)
    imgs[0, 3:6, 7] = 1.0  # a stroke of ink
    imgs[1, 0, 0] = 0.0  # mid grey
    text = usps_text(imgs[:1], [6]) + usps_text(imgs[1:], [9], label_fmt="{:d}")  # both label styles
    write_gz(tmp_path / "zip.train.gz", text.encode())
    images, labels = read_usps(tmp_path / "zip.train.gz")
    assert images.shape == (2, 16, 16) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and labels.tolist() == [6, 9]
    assert images[0, 3:6, 7].tolist() == [255, 255, 255]  # ink white ...
    assert images[0, 0, 0] == 0 and images[0].sum() == 3 * 255  # ... on black
    assert images[1, 0, 0] in (127, 128)
    (tmp_path / "plain.txt").write_text(text)  # uncompressed works too
    np.testing.assert_array_equal(read_usps(tmp_path / "plain.txt")[0], images)


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ("3 " + "0 " * 255, r"line 3: 256 fields, expected 257"),
        ("3 " + "0 " * 255 + "oops", r"line 3: field 257 is not a number: 'oops'"),
        ("12 " + "0 " * 256, r"line 3: label 12 is not a digit"),
        ("3 " + "0 " * 255 + "1.5", r"line 3: grey value outside"),
    ],
)
def test_read_usps_malformed_line(tmp_path, bad_line, message):
    good = usps_text(np.zeros((1, 16, 16)), [1])
    (tmp_path / "zip.test").write_text("\n" + good + bad_line + "\n" + good)  # blank line 1
    with pytest.raises(CorruptDataError, match=r"zip\.test: " + message):
        read_usps(tmp_path / "zip.test")


def test_read_usps_empty_file(tmp_path):
    write_gz(tmp_path / "empty.gz", b"")
    with pytest.raises(CorruptDataError, match="no digits"):
        read_usps(tmp_path / "empty.gz")


# ----------------------------------------------------------------------------- split / stats


def test_split_validation_is_deterministic_disjoint_and_complete():
    train, val = split_validation(60000)
    assert len(val) == 5000 and len(train) == 55000
    assert np.intersect1d(train, val).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(60000))
    again_train, again_val = split_validation(60000)
    np.testing.assert_array_equal(val, again_val)
    np.testing.assert_array_equal(train, again_train)
    assert not np.array_equal(split_validation(60000, seed=1)[1], val)
    assert not np.array_equal(val, np.arange(55000, 60000))  # shuffled, not the tail


def test_split_validation_edges():
    assert [len(a) for a in split_validation(12, 0.25)] == [9, 3]
    assert [len(a) for a in split_validation(10, 0.0)] == [10, 0]
    assert [len(a) for a in split_validation(1, 0.5)] == [1, 0]  # keep a training sample
    with pytest.raises(ValueError):
        split_validation(10, 1.0)


def test_normalization_stats_matches_numpy():
    images = RNG.integers(0, 256, (7, 5, 5)).astype(np.uint8)
    mean, std = normalization_stats(images)
    assert mean == pytest.approx((images / 255).mean(), abs=1e-12)
    assert std == pytest.approx((images / 255).std(), abs=1e-12)
    with pytest.raises(TypeError):
        normalization_stats(images.astype(np.float32))


# ----------------------------------------------------------------------------- locations


def test_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("DIGITPAD_DATA", raising=False)
    assert data_dir() == Path(platformdirs.user_cache_dir("digitpad")) / "data"
    monkeypatch.setenv("DIGITPAD_DATA", str(tmp_path / "from-env"))
    assert data_dir() == tmp_path / "from-env"
    assert data_dir(tmp_path / "override") == tmp_path / "override"  # override beats env
    assert dataset_dir("usps") == tmp_path / "from-env" / "usps"
    assert dataset_dir("mnist", tmp_path) == tmp_path / "mnist"
    monkeypatch.setenv("DIGITPAD_DATA", "")
    assert data_dir() == Path(platformdirs.user_cache_dir("digitpad")) / "data"


def test_unknown_dataset():
    with pytest.raises(DataError, match="unknown dataset 'kmnist'; known: mnist, pen, usps"):
        dataset_dir("kmnist")


def test_registry_pins_mirrors_and_sums():
    mnist, usps = DATASETS["mnist"], DATASETS["usps"]
    assert mnist.image_size == 28 and usps.image_size == 16
    first = mnist.files[0]
    assert first.urls[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"
    assert first.urls[1] == "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz"
    assert first.size == 9912422
    assert usps.files[0].urls[0] == "https://hastie.su.domains/ElemStatLearn/datasets/zip.train.gz"
    for info in (mnist, usps):
        for f in info.files:
            assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0 and len(f.urls) == 2


# ----------------------------------------------------------------------------- ensure / load


def test_missing_dataset_without_download_says_what_to_do(tiny_mnist, tmp_path, no_network):
    with pytest.raises(DataError) as info:
        ensure_dataset("mnist", tmp_path / "empty", download=False)
    msg = str(info.value)
    assert msg.startswith(f"MNIST is not in {tmp_path / 'empty' / 'mnist'}: ")
    assert "`digitpad download mnist`" in msg and "DIGITPAD_DATA" in msg


def test_ensure_downloads_missing_files_with_progress(tiny_mnist, tmp_path):
    mirror, info = tiny_mnist
    root = tmp_path / "root"
    seen = []
    folder = ensure_dataset("mnist", root, progress=lambda d, t: seen.append((d, t)))
    assert folder == root / "mnist"
    for f in info.files:
        assert (folder / f.name).read_bytes() == (mirror / f.name).read_bytes()
    total = sum(f.size for f in info.files)
    assert {t for _, t in seen} == {total}  # one bar for the whole dataset
    assert seen[-1][0] == total and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert (folder / datasets.STAMP_NAME).exists()


def test_verified_folder_is_used_without_network_or_rehash(env, tmp_path, no_network, monkeypatch):
    root = tmp_path / "root"
    make_tiny_mnist(root / "mnist")  # files unrelated to the mirror's: sums differ
    monkeypatch.setitem(DATASETS, "mnist", info_for("mnist", _read_all(root / "mnist"), None, TINY, "idx"))
    assert ensure_dataset("mnist", root) == root / "mnist"  # hashes once, writes the stamp
    assert (root / "mnist" / datasets.STAMP_NAME).exists()

    def no_hash(path):
        raise AssertionError(f"rehashed {path}")

    monkeypatch.setattr(datasets, "sha256_of", no_hash)
    data = load_dataset("mnist", root)  # stamp hit: no hashing, no network
    assert data.train_images.shape == (6, TINY, TINY)


def _read_all(folder: Path) -> dict[str, bytes]:
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    return {n: (folder / n).read_bytes() for n in names}


def test_changed_file_invalidates_the_stamp(tiny_mnist, tmp_path, no_network):
    mirror, info = tiny_mnist
    root = tmp_path / "root"
    folder = root / "mnist"
    folder.mkdir(parents=True)
    for f in info.files:
        (folder / f.name).write_bytes((mirror / f.name).read_bytes())
    assert ensure_dataset("mnist", root, download=False) == folder
    target = folder / info.files[2].name
    flipped = bytearray(target.read_bytes())
    flipped[-9] ^= 0xFF  # same size, different bytes (and a new mtime)
    target.write_bytes(bytes(flipped))
    os.utime(target, ns=(1, 1))
    with pytest.raises(ChecksumError, match=r"t10k-images-idx3-ubyte\.gz failed its checksum.*--force"):
        load_dataset("mnist", root, download=False)


def test_bad_file_is_set_aside_and_refetched(tiny_mnist, tmp_path):
    mirror, info = tiny_mnist
    root = tmp_path / "root"
    ensure_dataset("mnist", root)
    victim = root / "mnist" / info.files[0].name
    good = victim.read_bytes()
    victim.write_bytes(b"\x00" * len(good))
    with pytest.raises(ChecksumError):
        ensure_dataset("mnist", root, download=False)  # offline: refused, not used
    ensure_dataset("mnist", root)  # online: refetched
    assert victim.read_bytes() == good
    assert (root / "mnist" / (victim.name + ".bad")).read_bytes() == b"\x00" * len(good)


def test_truncated_present_file_is_corrupt_offline(tiny_mnist, tmp_path, no_network):
    mirror, info = tiny_mnist
    folder = tmp_path / "root" / "mnist"
    folder.mkdir(parents=True)
    for f in info.files:
        (folder / f.name).write_bytes((mirror / f.name).read_bytes())
    (folder / info.files[1].name).write_bytes((mirror / info.files[1].name).read_bytes()[:-3])
    with pytest.raises(CorruptDataError, match=r"train-labels-idx1-ubyte\.gz is truncated"):
        ensure_dataset("mnist", tmp_path / "root", download=False)


def test_read_only_complete_folder_is_used_and_not_written(tiny_mnist, tmp_path, no_network):
    mirror, info = tiny_mnist
    folder = tmp_path / "shared" / "mnist"
    folder.mkdir(parents=True)
    for f in info.files:
        (folder / f.name).write_bytes((mirror / f.name).read_bytes())
    undo = read_only(folder)
    try:
        assert ensure_dataset("mnist", tmp_path / "shared", download=False) == folder
        assert load_dataset("mnist", tmp_path / "shared").test_labels.shape == (3,)
        assert sorted(p.name for p in folder.iterdir()) == sorted(f.name for f in info.files)
    finally:
        undo()


def test_read_only_partial_folder_completes_in_the_user_cache(tiny_mnist, tmp_path, env):
    mirror, info = tiny_mnist
    folder = tmp_path / "shared" / "mnist"
    folder.mkdir(parents=True)
    (folder / info.files[0].name).write_bytes((mirror / info.files[0].name).read_bytes())
    undo = read_only(folder)
    try:
        out = ensure_dataset("mnist", tmp_path / "shared")
        assert out == env / "mnist"
        assert all((out / f.name).read_bytes() == (mirror / f.name).read_bytes() for f in info.files)
        assert [p.name for p in folder.iterdir()] == [info.files[0].name]  # nothing written there
    finally:
        undo()


def test_force_downloads_again(tiny_mnist, tmp_path):
    mirror, info = tiny_mnist
    root = tmp_path / "root"
    ensure_dataset("mnist", root)
    seen = []
    ensure_dataset("mnist", root, force=True, progress=lambda d, t: seen.append(d))
    assert seen and seen[-1] == sum(f.size for f in info.files)
    with pytest.raises(ValueError):
        ensure_dataset("mnist", root, force=True, download=False)


def test_unreachable_mirrors_surface_as_download_error(monkeypatch, tmp_path, env):
    files = make_tiny_mnist(tmp_path / "elsewhere")
    monkeypatch.setitem(DATASETS, "mnist", info_for("mnist", files, None, TINY, "idx"))
    with pytest.raises(datasets.DownloadError, match="could not reach any mirror for train-images"):
        ensure_dataset("mnist", tmp_path / "root")


def test_load_tiny_mnist(tiny_mnist, tmp_path):
    mirror, info = tiny_mnist
    data = load_dataset("mnist", tmp_path / "root")
    assert data.name == "mnist"
    assert data.train_images.shape == (6, TINY, TINY) and data.test_images.shape == (3, TINY, TINY)
    assert data.train_images.dtype == np.uint8 and data.train_labels.dtype == np.int64
    np.testing.assert_array_equal(data.test_labels, read_idx(mirror / "t10k-labels-idx1-ubyte.gz"))


def test_load_rejects_images_and_labels_that_do_not_pair(monkeypatch, tmp_path, env):
    folder = tmp_path / "root" / "mnist"
    files = make_tiny_mnist(folder)
    files["train-labels-idx1-ubyte.gz"] = write_gz(
        folder / "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros(5))
    ).read_bytes()  # 6 images, 5 labels
    monkeypatch.setitem(DATASETS, "mnist", info_for("mnist", files, None, TINY, "idx"))
    with pytest.raises(CorruptDataError, match="6 images but labels of shape"):
        load_dataset("mnist", tmp_path / "root", download=False)


def test_load_tiny_usps(monkeypatch, tmp_path, env, no_network):
    folder = tmp_path / "root" / "usps"
    files = make_tiny_usps(folder)
    monkeypatch.setitem(DATASETS, "usps", info_for("usps", files, None, 16, "usps"))
    data = load_dataset("usps", tmp_path / "root", download=False)
    assert data.train_images.shape == (5, 16, 16) and data.test_images.shape == (2, 16, 16)
    assert set(np.unique(data.train_images)) <= {0, 255}


# ----------------------------------------------------------------------------- the real thing


@pytest.mark.realdata
def test_real_mnist_and_usps(no_network):
    from tests.fixtures import real_data_root

    root = real_data_root()
    if root is None:
        pytest.skip("real datasets not found: set DIGITPAD_DATA")
    before = sorted(p.name for p in root.rglob("*"))
    mnist = load_dataset("mnist", root, download=False)
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.test_images.shape == (10000, 28, 28)
    assert mnist.train_labels.shape == (60000,) and mnist.test_labels.shape == (10000,)
    for labels in (mnist.train_labels, mnist.test_labels):
        assert labels.min() == 0 and labels.max() == 9 and len(np.unique(labels)) == 10
    assert normalization_stats(mnist.train_images) == pytest.approx((0.1307, 0.3081), abs=1e-4)

    usps = load_dataset("usps", root, download=False)
    assert usps.train_images.shape == (7291, 16, 16) and usps.test_images.shape == (2007, 16, 16)
    assert np.bincount(usps.train_labels).tolist() == [1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644]
    assert np.bincount(usps.test_labels, minlength=10).sum() == 2007
    for images in (mnist.train_images, usps.train_images):
        border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], axis=1)
        s = images.shape[1]
        centre = images[:, s // 4 : -s // 4, s // 4 : -s // 4]
        assert border.mean() < centre.mean() / 2, (border.mean(), centre.mean())  # ink bright on dark
    assert usps.train_images.max() == 255 and usps.train_images.min() == 0
    if not datasets._writable(root / "mnist"):
        # A shared read-only copy is never written to (no stamp, no .part), even by root.
        assert sorted(p.name for p in root.rglob("*")) == before
