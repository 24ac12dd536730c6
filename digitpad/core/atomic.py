"""Atomic file writes: a reader sees the old file or the new one, never half of either.

A write that fails (a full disk, a quota, a read-only folder) raises ``SaveError``, an ``OSError``
whose message says what happened and that the previous file is unchanged; its temp file is gone.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a power cut after it must not lose the new name)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not supported here (e.g. Windows): the rename itself is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class SaveError(OSError):
    """A file could not be written; ``str(error)`` says which, why, and that the old one is kept."""

    def __str__(self) -> str:
        return self.strerror


_REASONS = {
    errno.ENOSPC: "no space left on the disk",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def _save_error(path: Path, error: OSError) -> SaveError:
    reason = _REASONS.get(error.errno, error.strerror or str(error))
    kept = "the previous file is unchanged" if path.exists() else "nothing was written"
    return SaveError(error.errno, f"could not save {path}: {reason}; {kept}", str(path))


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, rename it over ``path``, fsync the folder.

    Raises ``SaveError`` when any step fails; ``path`` then still holds its old content, whole.
    """
    path = Path(path)
    try:
        _write_replace(path, data)
    except OSError as error:
        raise _save_error(path, error) from error
    fsync_dir(path.parent)


def _write_replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; these are ordinary user files
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
