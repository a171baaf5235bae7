"""Replace a checkpoint folder (``best/``, ``last/``) so that a kill at any moment leaves
either the old complete folder or the new complete one, never a half-written one.

The new folder is written next to the target under a temporary name, every file and the
folder are fsynced, then the old folder is renamed aside and the new one renamed into place.
A kill between the two renames leaves only ``.<name>.old``; ``recover`` puts it back.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path


def _fsync_path(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # Windows cannot open folders; rename is durable enough there
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            _fsync_path(path)
    _fsync_path(folder)


def _aside(target: Path) -> Path:
    return target.with_name(f".{target.name}.old")


def recover(target: Path) -> Path:
    """Undo an interrupted replacement: bring back the old folder if the new one is missing,
    and remove leftover temporary folders. Returns ``target``."""
    target = Path(target)
    old = _aside(target)
    if not target.exists() and old.is_dir():
        os.replace(old, target)
    for leftover in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
    return target


def replace_folder(target: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary folder)``, then make that folder ``target`` atomically."""
    target = Path(target)
    recover(target)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    try:
        write(temporary)
        _fsync_tree(temporary)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    old = _aside(target)
    if target.exists():
        os.replace(target, old)
    os.replace(temporary, target)
    _fsync_path(target.parent)
    shutil.rmtree(old, ignore_errors=True)
    return target
