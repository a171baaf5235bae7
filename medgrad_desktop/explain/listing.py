"""Listing the images of a folder without letting one odd entry break the whole listing.

Symlink loops, entries that cannot be examined, unreadable files, names that are not valid
text and over-long names are skipped and reported (name, plain reason); only a folder that
cannot be listed at all raises ``OSError``, which ``folder_error_message`` turns into a
sentence ("permission denied" when that is the cause).
"""

from __future__ import annotations

import errno
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 200
"""Longer names are skipped: with the suffixes outputs add they pass common path limits."""


@dataclass
class FolderListing:
    """Image names found directly in a folder (natural order) and the entries skipped."""

    names: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """A plain sentence about the skipped entries ('' when none were skipped)."""
        if not self.skipped:
            return ""
        first, reason = self.skipped[0]
        more = f" and {len(self.skipped) - 1} more" if len(self.skipped) > 1 else ""
        return f"{len(self.skipped)} file(s) were skipped: {first} ({reason}){more}."


def natural_key(name: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def display_name(name: str) -> str:
    """``name`` safe to print or draw (undecodable bytes shown as �)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _problem(entry: os.DirEntry) -> str | None:
    """Why an image-named entry cannot be listed, or None if it is a readable file."""
    try:
        entry.name.encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not valid text; rename it"
    if len(entry.name) > MAX_NAME_CHARS:
        return "its name is too long; shorten it"
    try:
        if not entry.is_file():
            return None if not entry.is_symlink() else "it is a link to nothing"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "it is a symbolic link that points to itself (a loop)"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "permission denied"
        return f"it cannot be examined ({exc.strerror or exc})"
    if not os.access(entry.path, os.R_OK):
        return "permission denied"
    return None


def list_images(folder: Path, suffixes) -> FolderListing:
    """Image files directly in ``folder`` whose suffix is in ``suffixes`` (names only, nothing
    is decoded; hidden files ignored). Raises ``OSError`` when the folder cannot be listed."""
    names, skipped = [], []
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in suffixes:
                continue
            problem = _problem(entry)
            if problem is None:
                if entry.is_file():
                    names.append(name)
            else:
                skipped.append((display_name(name), problem))
    names.sort(key=natural_key)
    for name, reason in skipped:
        log.warning("Skipped %s in %s: %s", name, folder, reason)
    return FolderListing(names, sorted(skipped, key=lambda item: natural_key(item[0])))


def folder_error_message(folder: Path, error: OSError) -> str:
    """The sentence for a folder that cannot be listed."""
    label = display_name(folder.name or str(folder))
    if isinstance(error, PermissionError):
        return f"The folder {label} cannot be opened: permission denied."
    if isinstance(error, FileNotFoundError):
        return f"The folder {label} does not exist (any more)."
    if isinstance(error, NotADirectoryError):
        return f"{label} is not a folder."
    return f"The folder {label} cannot be opened ({error.strerror or 'read error'})."
