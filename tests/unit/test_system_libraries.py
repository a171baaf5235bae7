"""The start-up check of Qt's system libraries, the .deb Depends made from the same table, and
``make run`` installing nothing when the environment is current."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from medgrad_desktop import cli, system_libraries

ROOT = Path(__file__).resolve().parents[2]
ABSENT = {"libc.so.6": "libc6", "libmedgrad-absent-test.so.9": "libmedgrad-absent9"}


def test_missing_libraries_are_named_with_the_apt_command(monkeypatch, capsys):
    monkeypatch.setattr(system_libraries, "QT_XCB_LIBRARIES", ABSENT)
    monkeypatch.setattr(system_libraries, "missing_packages", lambda: ["libmedgrad-absent9"])
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert system_libraries.startup_problem().count("sudo apt install libmedgrad-absent9") == 1
    assert cli.main([]) == 1  # stops before Qt is imported
    assert "sudo apt install libmedgrad-absent9" in capsys.readouterr().err
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert system_libraries.startup_problem() == ""


def test_loading_finds_present_and_absent_libraries():
    assert system_libraries.missing_packages(ABSENT) == ["libmedgrad-absent9"]


def test_deb_depends_declares_every_library_of_the_table():
    depends = [p.strip() for p in system_libraries.deb_depends().split(",")]
    assert len(depends) == len(set(depends))
    for package in [*system_libraries.QT_XCB_LIBRARIES.values(), "libc6"]:
        assert package in depends
    for package in ("libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0"):
        assert package in depends
    script = (ROOT / "packaging" / "linux" / "build_deb.sh").read_text()
    assert "Depends: $DEPENDS" in script and "--depends" in script


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_installs_nothing_when_the_environment_is_current(tmp_path):
    venv = tmp_path / "venv"
    venv.mkdir()
    stamp = venv / ".installed"

    def planned() -> str:
        done = subprocess.run(
            ["make", "-n", "run", f"VENV={venv}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "pip install" in planned()  # never installed
    stamp.touch()
    future = time.time() + 60
    os.utime(stamp, (future, future))
    plan = planned()
    assert "pip install" not in plan and "medgrad-desktop" in plan
