"""House rule 1: only ``medgrad_desktop/qt/`` imports Qt; the core imports without it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QT_MODULES = ("PySide6", "pyqtgraph", "shiboken6")
CORE_PACKAGES = (
    "medgrad_desktop/explain",
    "medgrad_desktop/engine",
    "medgrad_desktop/review",
    "training",
)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_qt_imports_outside_the_qt_package():
    offenders = []
    for path in ROOT.joinpath("medgrad_desktop").rglob("*.py"):
        if "qt" in path.relative_to(ROOT / "medgrad_desktop").parts[:1]:
            continue
        offenders += [f"{path}: {m}" for m in _imported_modules(path) if m.startswith(QT_MODULES)]
    for path in ROOT.joinpath("training").rglob("*.py"):
        offenders += [f"{path}: {m}" for m in _imported_modules(path) if m.startswith(QT_MODULES)]
    assert not offenders


def test_core_packages_import_without_loading_qt():
    modules = [
        p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        for package in CORE_PACKAGES
        for p in ROOT.joinpath(package).glob("*.py")
        if p.name != "__main__.py"
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"loaded = [m for m in sys.modules if m.startswith({QT_MODULES!r})]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
