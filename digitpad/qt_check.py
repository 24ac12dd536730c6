"""Can Qt open a window here? Checked before the app starts, without starting Qt.

On a minimal Linux desktop Qt aborts with "Could not load the Qt platform plugin xcb" when system
libraries of the X11 plugin are missing. This finds them (``ldd`` on the plugin, plus the
xcb-cursor library that Qt opens at run time) and names the packages to install for the
distribution in ``/etc/os-release``. ``python -m digitpad.qt_check`` exits 1 with that message;
``tools/app.sh`` runs it first and ``digitpad doctor`` reports it. It imports no Qt module, so it
lives beside the two front ends rather than in the UI, and the command line may use it.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Library file -> package, per family of distributions.
PACKAGES = {
    "libxcb-cursor.so.0": {"debian": "libxcb-cursor0", "fedora": "xcb-util-cursor", "arch": "xcb-util-cursor"},
    "libxcb-icccm.so.4": {"debian": "libxcb-icccm4", "fedora": "xcb-util-wm", "arch": "xcb-util-wm"},
    "libxcb-keysyms.so.1": {"debian": "libxcb-keysyms1", "fedora": "xcb-util-keysyms", "arch": "xcb-util-keysyms"},
    "libxcb-image.so.0": {"debian": "libxcb-image0", "fedora": "xcb-util-image", "arch": "xcb-util-image"},
    "libxcb-render-util.so.0": {"debian": "libxcb-render-util0", "fedora": "xcb-util-renderutil", "arch": "xcb-util-renderutil"},
    "libxcb-shape.so.0": {"debian": "libxcb-shape0", "fedora": "libxcb", "arch": "libxcb"},
    "libxcb-xkb.so.1": {"debian": "libxcb-xkb1", "fedora": "libxcb", "arch": "libxcb"},
    "libxcb-randr.so.0": {"debian": "libxcb-randr0", "fedora": "libxcb", "arch": "libxcb"},
    "libxcb-sync.so.1": {"debian": "libxcb-sync1", "fedora": "libxcb", "arch": "libxcb"},
    "libxcb-xfixes.so.0": {"debian": "libxcb-xfixes0", "fedora": "libxcb", "arch": "libxcb"},
    "libxcb-shm.so.0": {"debian": "libxcb-shm0", "fedora": "libxcb", "arch": "libxcb"},
    "libxcb-render.so.0": {"debian": "libxcb-render0", "fedora": "libxcb", "arch": "libxcb"},
    "libxcb.so.1": {"debian": "libxcb1", "fedora": "libxcb", "arch": "libxcb"},
    "libxkbcommon-x11.so.0": {"debian": "libxkbcommon-x11-0", "fedora": "libxkbcommon-x11", "arch": "libxkbcommon-x11"},
    "libxkbcommon.so.0": {"debian": "libxkbcommon0", "fedora": "libxkbcommon", "arch": "libxkbcommon"},
    "libX11-xcb.so.1": {"debian": "libx11-xcb1", "fedora": "libX11-xcb", "arch": "libx11"},
    "libX11.so.6": {"debian": "libx11-6", "fedora": "libX11", "arch": "libx11"},
    "libEGL.so.1": {"debian": "libegl1", "fedora": "libglvnd-egl", "arch": "libglvnd"},
    "libGL.so.1": {"debian": "libgl1", "fedora": "libglvnd-glx", "arch": "libglvnd"},
    "libOpenGL.so.0": {"debian": "libopengl0", "fedora": "libglvnd-opengl", "arch": "libglvnd"},
    "libfontconfig.so.1": {"debian": "libfontconfig1", "fedora": "fontconfig", "arch": "fontconfig"},
    "libfreetype.so.6": {"debian": "libfreetype6", "fedora": "freetype", "arch": "freetype2"},
    "libdbus-1.so.3": {"debian": "libdbus-1-3", "fedora": "dbus-libs", "arch": "dbus"},
    "libglib-2.0.so.0": {"debian": "libglib2.0-0", "fedora": "glib2", "arch": "glib2"},
}
INSTALLERS = {"debian": "sudo apt-get install", "fedora": "sudo dnf install", "arch": "sudo pacman -S"}


@dataclass(frozen=True)
class QtCheck:
    ok: bool
    summary: str  # one line for `digitpad doctor`
    missing: tuple[str, ...] = ()
    install_command: str = ""

    def message(self) -> str:
        if self.ok:
            return self.summary
        lines = [f"digitpad cannot open a window: {self.summary}"]
        if self.install_command:
            lines.append(f"Install them with:\n    {self.install_command}")
        lines.append("(Or run headless: QT_QPA_PLATFORM=offscreen; the command line needs no window at all.)")
        return "\n".join(lines)


def distribution_family(os_release: str | None = None) -> str | None:
    """'debian', 'fedora' or 'arch' from /etc/os-release's ID and ID_LIKE, else None."""
    if os_release is None:
        try:
            os_release = Path("/etc/os-release").read_text()
        except OSError:
            return None
    fields = dict(line.split("=", 1) for line in os_release.splitlines() if "=" in line)
    ids = " ".join(fields.get(k, "").strip('"').lower() for k in ("ID", "ID_LIKE")).split()
    for family, names in (("debian", {"debian", "ubuntu"}), ("fedora", {"fedora", "rhel", "centos"}), ("arch", {"arch"})):
        if names & set(ids):
            return family
    return None


def install_command(missing: list[str], family: str | None) -> str:
    if family is None:
        return ""
    packages = sorted({PACKAGES[lib][family] for lib in missing if lib in PACKAGES})
    return f"{INSTALLERS[family]} {' '.join(packages)}" if packages else ""


def missing_libraries(plugin: Path) -> list[str]:
    """Shared libraries the plugin needs that the dynamic loader cannot find (ldd), plus xcb-cursor."""
    done = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=30)
    missing = {line.split()[0] for line in done.stdout.splitlines() if "not found" in line}
    if ctypes.util.find_library("xcb-cursor") is None:  # dlopen'ed by Qt >= 6.5, invisible to ldd
        missing.add("libxcb-cursor.so.0")
    return sorted(missing)


def xcb_plugin() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.exists() else None


def check(environ=os.environ, platform: str = sys.platform) -> QtCheck:
    """Whether the Qt platform this environment asks for can start."""
    requested = environ.get("QT_QPA_PLATFORM", "")
    if importlib.util.find_spec("PySide6") is None:
        return QtCheck(False, "PySide6 is not installed (pip install digitpad)")
    if not platform.startswith("linux") or requested.split(":")[0] in ("offscreen", "minimal", "wayland", "eglfs", "vnc"):
        return QtCheck(True, f"Qt platform: {requested or 'the system default'} (no X11 libraries needed)")
    if not environ.get("DISPLAY"):
        if environ.get("WAYLAND_DISPLAY"):
            return QtCheck(True, "Qt platform: wayland (no X11 libraries needed)")
        return QtCheck(False, "no display: DISPLAY and WAYLAND_DISPLAY are unset (no desktop session?)")
    plugin = xcb_plugin()
    if plugin is None:
        return QtCheck(True, "Qt platform: xcb plugin not found in this PySide6 (Qt will pick another)")
    if not shutil.which("ldd"):
        return QtCheck(True, "Qt platform: xcb (not checked: no ldd on this system)")
    missing = missing_libraries(plugin)
    if not missing:
        return QtCheck(True, "Qt platform: xcb, every system library present")
    return QtCheck(False, f"Qt's X11 plugin needs system libraries that are missing: {', '.join(missing)}",
                   tuple(missing), install_command(missing, distribution_family()))


def main() -> int:
    result = check()
    if not result.ok:
        print(result.message(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
