"""Command lines that start headless jobs from the app, from source or from the frozen bundle."""

from __future__ import annotations

import sys


def training_command(args: list[str]) -> list[str]:
    """The command that runs ``python -m training <args>``: the interpreter with ``-m training``
    from source, the bundle's own ``train`` subcommand when frozen (PyInstaller)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "train", *args]
    return [sys.executable, "-m", "training", *args]
