"""fetch(): mirrors, resume, progress and checksums against a local HTTP server (no internet)."""

from __future__ import annotations

import hashlib
import http.server
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from digitpad.core import download
from digitpad.core.download import ChecksumError, DataError, DownloadError, fetch, sha256_of

PAYLOAD = bytes(range(256)) * 40  # 10,240 bytes: several read chunks would be overkill here
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
DEAD = "http://127.0.0.1:1/"  # port 1: connection refused at once


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files``; honours Range unless ``server.ranges`` is False.

    ``server.cut_after`` (bytes) makes the next response stop early, like a dropped connection.
    """

    def do_GET(self):  # noqa: N802 (http.server's naming)
        srv = self.server
        srv.log.append((self.path, self.headers.get("Range")))
        body = srv.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404)
            return
        start, status = 0, 200
        rng = self.headers.get("Range")
        if rng and srv.ranges:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                self.send_error(416)
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        chunk = body[start:]
        if srv.cut_after is not None:
            chunk, srv.cut_after = chunk[: srv.cut_after], None
        self.wfile.write(chunk)
        self.close_connection = True

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def _running_server():
    # One server per module: shutdown() waits out serve_forever's poll interval each time.
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/"
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def server(_running_server):
    """The local server, reset to: serves f.bin, honours Range, no dropped connection."""
    srv = _running_server
    srv.files = {"f.bin": PAYLOAD}
    srv.ranges = True
    srv.cut_after = None
    srv.log = []
    return srv


def test_exceptions_share_a_base():
    assert issubclass(DownloadError, DataError) and issubclass(ChecksumError, DataError)


def test_sha256_of_matches_hashlib(tmp_path):
    p = tmp_path / "x"
    p.write_bytes(PAYLOAD * 300)  # > 1 MiB: more than one read chunk
    assert sha256_of(p) == hashlib.sha256(PAYLOAD * 300).hexdigest()


def test_fetch_downloads_verifies_and_reports_progress(server, tmp_path):
    calls = []
    dest = tmp_path / "sub" / "f.bin"
    out = fetch([server.url + "f.bin"], dest, sha256=PAYLOAD_SHA, progress=lambda d, t: calls.append((d, t)))
    assert out == dest and dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "sub" / "f.bin.part").exists()
    assert calls[0] == (0, len(PAYLOAD)) and calls[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_fetch_falls_back_from_a_dead_mirror(server, tmp_path):
    dest = tmp_path / "f.bin"
    fetch([DEAD + "f.bin", server.url + "missing.bin", server.url + "f.bin"], dest, sha256=PAYLOAD_SHA, timeout=5)
    assert dest.read_bytes() == PAYLOAD
    assert [p for p, _ in server.log] == ["/missing.bin", "/f.bin"]


def test_fetch_resumes_a_part_with_range(server, tmp_path):
    dest = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD[:4000])
    calls = []
    fetch([server.url + "f.bin"], dest, sha256=PAYLOAD_SHA, size=len(PAYLOAD), progress=lambda d, t: calls.append(d))
    assert dest.read_bytes() == PAYLOAD
    assert server.log == [("/f.bin", "bytes=4000-")]
    assert calls[0] == 4000  # did not start from zero


def test_fetch_restarts_when_server_ignores_range(server, tmp_path):
    server.ranges = False
    dest = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(b"garbage that must not be kept" * 10)
    fetch([server.url + "f.bin"], dest, sha256=PAYLOAD_SHA)
    assert dest.read_bytes() == PAYLOAD  # the 200 body replaced the part, not appended to it


def test_dropped_connection_keeps_part_and_next_fetch_resumes(server, tmp_path):
    dest = tmp_path / "f.bin"
    server.cut_after = 3000
    with pytest.raises(DownloadError, match="connection closed after 3000 of 10240 bytes"):
        fetch([server.url + "f.bin"], dest, sha256=PAYLOAD_SHA)
    assert (tmp_path / "f.bin.part").read_bytes() == PAYLOAD[:3000]
    assert not dest.exists()
    fetch([server.url + "f.bin"], dest, sha256=PAYLOAD_SHA)
    assert dest.read_bytes() == PAYLOAD
    assert server.log[-1] == ("/f.bin", "bytes=3000-")


def test_oversized_part_is_discarded_not_resumed(server, tmp_path):
    dest = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(b"x" * (len(PAYLOAD) + 5))
    fetch([server.url + "f.bin"], dest, sha256=PAYLOAD_SHA, size=len(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD and server.log == [("/f.bin", None)]


def test_checksum_mismatch_keeps_bad_file_and_raises(server, tmp_path):
    server.files["f.bin"] = b"not the published bytes"
    dest = tmp_path / "mnist" / "f.bin"
    with pytest.raises(ChecksumError) as info:
        fetch([server.url + "f.bin"], dest, sha256=PAYLOAD_SHA)
    msg = str(info.value)
    assert PAYLOAD_SHA in msg and hashlib.sha256(b"not the published bytes").hexdigest() in msg
    assert "digitpad download mnist --force" in msg
    assert not dest.exists() and not (dest.parent / "f.bin.part").exists()
    assert (dest.parent / "f.bin.bad").read_bytes() == b"not the published bytes"


def test_checksum_mismatch_on_one_mirror_tries_the_next(server, tmp_path):
    server.files["wrong.bin"] = b"captive portal page"
    dest = tmp_path / "f.bin"
    fetch([server.url + "wrong.bin", server.url + "f.bin"], dest, sha256=PAYLOAD_SHA)
    assert dest.read_bytes() == PAYLOAD
    assert (tmp_path / "f.bin.bad").read_bytes() == b"captive portal page"


def test_no_reachable_mirror_raises_one_line_download_error(tmp_path):
    dest = tmp_path / "train-images-idx3-ubyte.gz"
    with pytest.raises(DownloadError) as info:
        fetch([DEAD + "a.gz", "http://127.0.0.1:1/b.gz"], dest, sha256=PAYLOAD_SHA, timeout=5)
    msg = str(info.value)
    assert msg.startswith("could not reach any mirror for train-images-idx3-ubyte.gz: ")
    assert "DIGITPAD_DATA" in msg and "\n" not in msg
    assert not dest.exists()


def test_fetch_without_network_at_all(monkeypatch, tmp_path):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DownloadError, match="name resolution.*set DIGITPAD_DATA"):
        fetch(["https://example.invalid/x.gz"], tmp_path / "x.gz", sha256=PAYLOAD_SHA)


def test_fetch_accepts_file_urls(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    dest = tmp_path / "out" / "f.bin"
    fetch([src.as_uri()], dest, sha256=PAYLOAD_SHA, size=len(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD


def test_part_and_bad_paths():
    dest = Path("/x/train.gz")
    assert download.part_path(dest).name == "train.gz.part"
    assert download.bad_path(dest).name == "train.gz.bad"
