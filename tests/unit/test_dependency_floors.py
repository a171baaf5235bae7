"""`.ci/floors.txt` installs every runtime dependency at exactly the floor pyproject.toml allows,
so `make test-floor` proves the floors (a dependency missing there fails that job's imports)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[2]
NOT_PINNED = {"torch", "pyside6-essentials"}  # see the comment at the top of floors.txt


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;\[]", requirement, maxsplit=1)[0].strip().lower()


def test_every_runtime_dependency_is_installed_at_its_floor():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = {}
    for line in (ROOT / ".ci" / "floors.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    for requirement in project["dependencies"]:
        name = _name(requirement)
        if name in NOT_PINNED:
            continue
        floor = re.search(r">=\s*([0-9][^,\s;]*)", requirement)
        assert floor, f"{requirement} has no floor"
        assert name in pins, f"{name} is missing from .ci/floors.txt"
        assert pins[name].startswith(floor.group(1)), f"{name}: {pins[name]} vs >={floor.group(1)}"
