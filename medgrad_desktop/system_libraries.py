"""The system libraries Qt's X11 (xcb) platform plugin needs on Linux, checked before start.

A stock Debian/Ubuntu desktop lacks some of them (``libxcb-icccm4``, ``libxcb-keysyms1``), and
then Qt aborts with a message that blames ``libxcb-cursor0``. This module (standard library
only, so ``make`` can run it before any package is installed) names the missing ones and the
exact ``apt`` command. The same table gives the ``.deb`` its Depends line.

    python3 -m medgrad_desktop.system_libraries            # plain report, exit 1 if missing
    python3 -m medgrad_desktop.system_libraries --missing  # missing Debian packages, one a line
    python3 -m medgrad_desktop.system_libraries --depends  # the .deb Depends value
"""

from __future__ import annotations

import ctypes
import os
import sys

QT_XCB_LIBRARIES = {
    # shared object the xcb plugin (libqxcb.so + libQt6XcbQpa) links to: Debian package
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
BASE_LIBRARIES = {
    "libc.so.6": "libc6",
    "libm.so.6": "libc6",
    "libpthread.so.0": "libc6",
    "libdl.so.2": "libc6",
    "librt.so.1": "libc6",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
}
"""Declared in the .deb too, though every Debian system has them (not checked at start)."""
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "wayland")


def loadable(soname: str) -> bool:
    """Whether the dynamic linker finds ``soname`` (as Qt's plugin loader would)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_packages(libraries: dict[str, str] = QT_XCB_LIBRARIES) -> list[str]:
    """Debian packages whose library cannot be loaded, in table order, without repeats."""
    missing = [package for soname, package in libraries.items() if not loadable(soname)]
    return list(dict.fromkeys(missing))


def apt_command(packages: list[str]) -> str:
    return "sudo apt install " + " ".join(packages)


def needs_xcb() -> bool:
    """The viewer will use X11: Linux, and no headless or Wayland platform was chosen."""
    if not sys.platform.startswith("linux"):
        return False
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    return platform not in HEADLESS_PLATFORMS


def startup_problem() -> str:
    """'' when the viewer can start, else the plain message naming the ``apt`` command."""
    if not needs_xcb():
        return ""
    missing = missing_packages()
    if not missing:
        return ""
    return (
        "MedGrad Desktop cannot open its window: the system libraries that Qt needs to draw "
        f"on this desktop are missing ({', '.join(missing)}). Install them with:\n\n"
        f"    {apt_command(missing)}\n\nthen start MedGrad Desktop again."
    )


def deb_depends() -> str:
    packages = [*BASE_LIBRARIES.values(), *QT_XCB_LIBRARIES.values()]
    packages = list(dict.fromkeys(packages))
    return ", ".join(packages)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--depends" in args:
        print(deb_depends())
        return 0
    if "--missing" in args:
        print("\n".join(missing_packages()))
        return 0
    missing = missing_packages()
    if missing:
        print(f"Missing system libraries for the window: {apt_command(missing)}")
        return 1
    print("All system libraries the window needs are installed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
