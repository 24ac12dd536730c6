"""Download a file from a list of mirrors, resumably, and verify its sha256.

``fetch`` is the only network code in digitpad. It streams into ``<dest>.part``, resumes that
part with an HTTP Range request when the server honours one, checks the sha256 and only then
moves the file into place with ``os.replace``, so a reader never sees a half-written file.
Stdlib only (urllib): no extra dependency for a handful of downloads.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from digitpad import __version__

__all__ = [
    "DataError",
    "DownloadError",
    "ChecksumError",
    "Progress",
    "fetch",
    "sha256_of",
]

Progress = Callable[[int, "int | None"], None]

_CHUNK = 1 << 16
_USER_AGENT = f"digitpad/{__version__} (+urllib)"


class DataError(Exception):
    """Base class of every dataset problem the user can act on (missing, corrupt, unreachable)."""


class DownloadError(DataError):
    """No mirror could deliver the file."""


class ChecksumError(DataError):
    """A file's sha256 is not the published one; the file must not be used."""


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks so memory stays flat for large files."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def part_path(dest: Path) -> Path:
    """Where a download of ``dest`` is streamed before it is verified."""
    return dest.with_suffix(dest.suffix + ".part")


def bad_path(dest: Path) -> Path:
    """Where a file that failed its checksum is kept aside (for inspection, never used)."""
    return dest.with_name(dest.name + ".bad")


def fetch(
    urls: Sequence[str],
    dest: str | os.PathLike,
    *,
    sha256: str,
    size: int | None = None,
    progress: Progress | None = None,
    timeout: float = 30,
    name: str | None = None,
) -> Path:
    """Download ``dest`` from the first mirror in ``urls`` that works and verify it.

    ``name`` is the dataset name used in messages (default: the parent folder's name).
    Raises ``ChecksumError`` when a mirror delivered wrong bytes (kept as ``<dest>.bad``) and
    no later mirror delivered good ones, and ``DownloadError`` when no mirror could be reached.
    """
    dest = Path(dest)
    name = name or dest.parent.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    reasons: list[str] = []
    mismatch: ChecksumError | None = None
    for url in urls:
        try:
            _download(url, part_path(dest), size=size, progress=progress, timeout=timeout)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # URLError/HTTPError/timeouts are OSErrors; ValueError covers a malformed URL.
            reasons.append(f"{url}: {_reason(exc)}")
            continue
        try:
            _verify_and_install(dest, sha256, name)
            return dest
        except ChecksumError as exc:
            # A captive portal or a broken mirror serves wrong bytes with a 200: try the next.
            mismatch = exc
    if mismatch is not None:
        raise mismatch
    detail = "; ".join(reasons) if reasons else "no mirror URL given"
    raise DownloadError(
        f"could not reach any mirror for {dest.name}: {detail}; "
        "set DIGITPAD_DATA to a folder that holds the files"
    )


def _reason(exc: BaseException) -> str:
    """A short one-line reason for a failed attempt."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _verify_and_install(dest: Path, expected: str, name: str) -> None:
    """Move the verified part into place, or keep it aside as ``.bad`` and raise."""
    part = part_path(dest)
    actual = sha256_of(part)
    if actual == expected.lower():
        os.replace(part, dest)
        return
    bad = bad_path(dest)
    os.replace(part, bad)  # never leave bad bytes where a resume would extend them
    raise ChecksumError(
        f"{dest.name} failed its checksum: expected sha256 {expected}, got {actual}; "
        f"it was kept aside as {bad.name} and not used. "
        f"Run `digitpad download {name} --force` to download it again"
    )


def _download(
    url: str, part: Path, *, size: int | None, progress: Progress | None, timeout: float
) -> None:
    """Stream ``url`` into ``part``, resuming an existing part when the server allows it."""
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have >= size:
        # A complete (or oversized) leftover: nothing to resume; start clean.
        part.unlink()
        have = 0
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or not have:
            raise
        # 416: our part does not fit the server's file (it changed?): restart from zero.
        part.unlink()
        return _download(url, part, size=size, progress=progress, timeout=timeout)
    with response:
        offset, total = _resume_point(response, have, size)
        _stream(response, part, offset, total, progress)


def _resume_point(response, have: int, size: int | None) -> tuple[int, int | None]:
    """(offset to append at, total size or None) from the response's status and headers."""
    status = getattr(response, "status", None) or 200  # file:// responses have no status
    length = response.headers.get("Content-Length")
    length = int(length) if length and length.isdigit() else None
    if have and status == 206:
        match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", response.headers.get("Content-Range", ""))
        if match and int(match.group(1)) == have:
            total = int(match.group(2)) if match.group(2) != "*" else None
            if total is None and length is not None:
                total = have + length
            return have, total if total is not None else size
        raise http.client.HTTPException("server answered the Range request with a wrong range")
    # 200: the server ignored the Range header (or we sent none): the body is the whole file.
    return 0, length if length is not None else size


def _stream(response, part: Path, offset: int, total: int | None, progress) -> None:
    """Append the body to ``part`` from ``offset``; a short body leaves the part for a resume."""
    done = offset
    with open(part, "r+b" if offset else "wb") as f:
        f.truncate(offset)
        f.seek(offset)
        if progress:
            progress(done, total)
        for block in iter(lambda: response.read(_CHUNK), b""):
            f.write(block)
            done += len(block)
            if progress:
                progress(done, total)
        f.flush()
        os.fsync(f.fileno())
    if total is not None and done < total:
        # urllib returns b"" on a dropped connection instead of raising: detect it here.
        raise OSError(f"connection closed after {done} of {total} bytes")
