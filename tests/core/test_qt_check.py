"""Before the window opens: missing X11 libraries are named with the install command for the system."""

from __future__ import annotations

from pathlib import Path

import pytest

from digitpad import qt_check

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'
UBUNTU = "ID=ubuntu\nID_LIKE=debian\n"
FEDORA = 'ID=fedora\nVERSION_ID=40\n'
ARCH = "ID=arch\n"
ROCKY = 'ID="rocky"\nID_LIKE="rhel centos fedora"\n'


@pytest.mark.parametrize("text, family", [(DEBIAN, "debian"), (UBUNTU, "debian"), (FEDORA, "fedora"), (ARCH, "arch"),
                                          (ROCKY, "fedora"), ("ID=gentoo\n", None)])
def test_distribution_family_from_os_release(text, family):
    assert qt_check.distribution_family(text) == family


def test_install_command_names_each_package_once():
    missing = ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0", "libxcb-shape.so.0", "libxcb-xkb.so.1"]
    assert qt_check.install_command(missing, "debian") == (
        "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xkb1")
    assert qt_check.install_command(missing, "fedora") == "sudo dnf install libxcb xcb-util-cursor xcb-util-keysyms xcb-util-wm"
    assert qt_check.install_command(missing, None) == ""


def test_missing_libraries_stop_the_start_with_the_command(monkeypatch, tmp_path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    monkeypatch.setattr(qt_check, "xcb_plugin", lambda: plugin)
    monkeypatch.setattr(qt_check, "missing_libraries", lambda p: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    monkeypatch.setattr(qt_check, "distribution_family", lambda: "debian")
    result = qt_check.check({"DISPLAY": ":0"}, "linux")
    assert not result.ok and result.missing == ("libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in result.message()
    assert result.message().startswith("digitpad cannot open a window: Qt's X11 plugin needs system libraries")


def test_nothing_missing_or_no_x11_needed_is_ok(monkeypatch, tmp_path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    monkeypatch.setattr(qt_check, "xcb_plugin", lambda: plugin)
    monkeypatch.setattr(qt_check, "missing_libraries", lambda p: [])
    assert qt_check.check({"DISPLAY": ":0"}, "linux").ok
    assert qt_check.check({"QT_QPA_PLATFORM": "offscreen"}, "linux").ok
    assert qt_check.check({"WAYLAND_DISPLAY": "wayland-0"}, "linux").ok
    assert qt_check.check({}, "darwin").ok and qt_check.check({}, "win32").ok


def test_no_display_is_said_plainly():
    result = qt_check.check({}, "linux")
    assert not result.ok and "DISPLAY and WAYLAND_DISPLAY are unset" in result.summary


def test_the_real_plugin_is_found_and_checked():
    pytest.importorskip("PySide6")
    plugin = qt_check.xcb_plugin()
    assert plugin is not None and plugin.name == "libqxcb.so"
    assert all(name.startswith("lib") and ".so" in name for name in qt_check.missing_libraries(plugin))
