"""Check that every library Qt's xcb platform plugin links to is bundled or declared.

    python3 packaging/linux/check_xcb_depends.py QT_DIR

QT_DIR holds ``plugins/platforms/libqxcb.so`` and ``lib/`` (in the PyInstaller bundle:
``dist/medgrad-desktop/_internal/PySide6/Qt``; in a virtual environment: ``.../PySide6/Qt``).
The direct dependencies (``readelf -d``) of the plugin and of ``libQt6XcbQpa`` are resolved
with ``ldd`` against the bundle; each one that is not inside QT_DIR's bundle must be in the
``.deb`` Depends (``medgrad_desktop.system_libraries``). Exit 1 names any that is not.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from medgrad_desktop.system_libraries import BASE_LIBRARIES, QT_XCB_LIBRARIES


def needed(binary: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)


def resolved(binary: Path, library_path: str) -> dict[str, str]:
    """soname → path ('' when not found), as the dynamic linker resolves them."""
    env = {"LD_LIBRARY_PATH": library_path, "PATH": "/usr/bin:/bin"}
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, env=env).stdout
    found = {}
    for line in out.splitlines():
        match = re.match(r"\s*(\S+) => (not found|\S+)", line)
        if match:
            found[match[1]] = "" if match[2] == "not found" else match[2]
    return found


def main(argv: list[str]) -> int:
    qt_dir = Path(argv[0]).resolve()
    bundle_root = qt_dir.parents[1] if qt_dir.parent.name == "PySide6" else qt_dir
    binaries = [
        qt_dir / "plugins" / "platforms" / "libqxcb.so",
        qt_dir / "lib" / "libQt6XcbQpa.so.6",
    ]
    declared = {**BASE_LIBRARIES, **QT_XCB_LIBRARIES}
    problems = []
    for binary in binaries:
        where = resolved(binary, f"{qt_dir / 'lib'}:{bundle_root}")
        for soname in needed(binary):
            path = where.get(soname, "")
            bundled = path and Path(path).resolve().is_relative_to(bundle_root)
            if bundled:
                print(f"bundled   {soname}")
            elif soname in declared:
                state = "installed" if path else "MISSING here"
                print(f"declared  {soname} ({declared[soname]}; {state})")
            else:
                problems.append(
                    f"{soname} (needed by {binary.name}) is neither bundled nor declared"
                )
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
