"""Build hook: ship ``resources/`` inside the wheel as ``medgrad_desktop/_resources``.

All metadata lives in pyproject.toml. ``medgrad_desktop.paths.resources_dir()`` finds the
copy in an installed wheel; editable installs keep using ``<repo>/resources``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = Path(__file__).resolve().parent / "resources"


class BuildPyWithResources(build_py):
    """``build_py`` that also copies ``resources/`` into the built package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "medgrad_desktop" / "_resources"
        shutil.copytree(
            RESOURCES,
            target,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".DS_Store"),
        )


setup(cmdclass={"build_py": BuildPyWithResources})
