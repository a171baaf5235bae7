"""The wheel carries resources/ as ``medgrad_desktop/_resources`` and the app finds them there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "LICENSE",
    "medgrad_desktop",
    "training",
    "resources",
)
EXPECTED = (
    "medgrad_desktop/_resources/prompts/ph2.yaml",
    "medgrad_desktop/_resources/tokenizers/openai-clip/vocab.json",
    "medgrad_desktop/_resources/tokenizers/openai-clip/merges.txt",
    "medgrad_desktop/_resources/icons/icon.png",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built (``pip wheel --no-deps``) from a copy of the source tree."""
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        elif path.is_file():
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("wheelhouse")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (built,) = out.glob("medgrad_desktop-*.whl")
    return built


@pytest.mark.slow
def test_wheel_contains_resources(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in EXPECTED if name not in names]
    assert not missing, f"not in {wheel.name}: {missing}"
    assert not any(name.startswith("resources/") for name in names)
    assert not any("__pycache__" in name for name in names)


@pytest.mark.slow
def test_installed_wheel_finds_its_resources(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-compile",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = (
        "import medgrad_desktop, medgrad_desktop.paths as p;"
        "print(medgrad_desktop.__file__); print(p.resource_path('prompts', 'ph2.yaml'))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("MEDGRAD_RESOURCES", None)
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=target,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    package_file, prompt_file = (Path(line) for line in result.stdout.split())
    assert package_file.is_relative_to(target)
    assert prompt_file == target / "medgrad_desktop" / "_resources" / "prompts" / "ph2.yaml"
    assert prompt_file.is_file()
