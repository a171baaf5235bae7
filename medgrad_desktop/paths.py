"""Where things live: bundled resources (source tree, wheel, frozen bundle) and user data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "MedGradDesktop"


def resources_dir() -> Path:
    """The folder holding the bundled ``resources/`` (demo model, prompts, tokenizers, icons).

    Looked up, in order: the PyInstaller bundle (``sys._MEIPASS``), the installed wheel
    (``medgrad_desktop/_resources``), and the source tree (``<repo>/resources``).
    ``MEDGRAD_RESOURCES`` overrides all of them.
    """
    override = os.environ.get("MEDGRAD_RESOURCES")
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    here = Path(__file__).resolve().parent
    for candidate in (here / "_resources", here.parent / "resources"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("The application's resources folder is missing; please reinstall.")


def resource_path(*parts: str) -> Path:
    """A path inside the bundled resources."""
    return resources_dir().joinpath(*parts)


def user_data_dir() -> Path:
    """Per-user writable folder (demo images, sessions, prompt copies, logs, training runs).

    ``MEDGRAD_USER_DATA`` overrides the platform default (tests use it for isolation).
    """
    override = os.environ.get("MEDGRAD_USER_DATA")
    if override:
        path = Path(override)
    else:
        from platformdirs import user_data_dir as platform_user_data_dir

        path = Path(platform_user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_subdir(name: str) -> Path:
    """A named folder in the user data directory, created on demand."""
    path = user_data_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path
