"""Turn SQLite failures into a SessionError with a sentence a clinician understands."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from medgrad_desktop.errors import SessionError

log = logging.getLogger(__name__)

_BY_PRIMARY_CODE = {
    sqlite3.SQLITE_BUSY: "the session file is in use by another window of MedGrad Desktop",
    sqlite3.SQLITE_LOCKED: "the session file is in use by another window of MedGrad Desktop",
    sqlite3.SQLITE_READONLY: "the session file is read-only",
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_IOERR: "the disk could not be read or written",
    sqlite3.SQLITE_CORRUPT: "the session file is damaged",
    sqlite3.SQLITE_NOTADB: "the file is not a rating session",
    sqlite3.SQLITE_CANTOPEN: "the session file or its folder cannot be opened",
    sqlite3.SQLITE_PERM: "access to the session file was denied",
}


def session_error(exc: sqlite3.Error, doing: str, path: Path) -> SessionError:
    """A SessionError for ``exc`` raised while ``doing`` (e.g. "save the rating").

    The sentence says what failed and why in plain words; the SQLite text goes to the log
    and to ``details``.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    reason = _BY_PRIMARY_CODE.get(code & 0xFF) if code is not None else None
    if reason is None:
        reason = "the session file could not be used"
    message = f"Could not {doing}: {reason} ({path.name})."
    details = f"{type(exc).__name__}: {exc} (sqlite code {code}) on {path}"
    log.error("%s — %s", message, details)
    return SessionError(message, details=details)
