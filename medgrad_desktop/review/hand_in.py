"""Hand in a session: a consistent single-file copy written through SQLite's backup API.

The copy is written next to its destination under a temporary name, checked (integrity and
tamper checks), flushed to disk and only then renamed into place, so the destination is
either absent or a complete session file, even on a network share.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from pathlib import Path

from medgrad_desktop.errors import SessionError
from medgrad_desktop.review.sqlite_errors import session_error

log = logging.getLogger(__name__)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def backup_copy(source: sqlite3.Connection, source_path: Path, destination: Path) -> Path:
    """Copy the open session ``source`` to ``destination``; returns the destination."""
    destination = destination.expanduser().absolute()
    if destination.resolve() == source_path.resolve():
        raise SessionError("Choose another place for the handed-in copy than the session itself.")
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{destination.name}.", suffix=".part", dir=destination.parent
        )
        os.close(fd)
    except OSError as exc:
        raise SessionError(
            f"The folder '{destination.parent}' cannot be written to; the session was not "
            "handed in.",
            details=repr(exc),
        ) from exc
    tmp = Path(tmp_name)
    try:
        target = sqlite3.connect(tmp, isolation_level=None)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")
            rows = [r[0] for r in target.execute("PRAGMA integrity_check")]
        finally:
            target.close()
        if rows != ["ok"]:
            raise SessionError("The copy of the session came out damaged; it was not handed in.")
        _verify(tmp)
        _fsync(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, destination)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise session_error(exc, "hand in the session", destination) from exc
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SessionError(
            f"The copy could not be written to '{destination.parent}': "
            f"{exc.strerror or 'the disk refused it'}.",
            details=repr(exc),
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("Session %s handed in to %s", source_path, destination)
    return destination


def _verify(copy: Path) -> None:
    from medgrad_desktop.review.store import RatingStore

    with RatingStore.open(copy, read_only=True) as store:
        if store.tamper_findings:
            raise SessionError(
                "The session's records do not pass the tamper checks, so the copy was not "
                "handed in; please tell the study coordinator.",
                details="; ".join(store.tamper_findings),
            )
