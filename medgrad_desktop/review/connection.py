"""Opening a session file: one self-contained SQLite file, checked and migrated.

Rollback journal (``journal_mode=DELETE``) with ``synchronous=FULL``: once a commit returns,
the rating is in the main file itself, so a copy of that file alone holds it. Files written
in WAL mode by earlier versions are converted (their WAL folded into the main file) on the
first open for rating. Session files on network shares are opened for reading only.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from medgrad_desktop.errors import SessionError
from medgrad_desktop.review import schema
from medgrad_desktop.review.file_location import network_share_kind
from medgrad_desktop.review.sqlite_errors import session_error

log = logging.getLogger(__name__)


def utc_now() -> str:
    """The current UTC time as ISO 8601 with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _is_read_only_file(path: Path) -> bool:
    """True when the file is not writable, or is marked read-only for everybody (even admin)."""
    return not os.access(path, os.W_OK) or not (path.stat().st_mode & 0o222)


def _check_location(path: Path, read_only: bool) -> None:
    exists = path.exists()
    if exists and not path.is_file():
        raise SessionError(f"'{path.name}' is a folder, not a session file.", details=str(path))
    if read_only and not exists:
        raise SessionError(f"The session file '{path.name}' does not exist.", details=str(path))
    if read_only:
        return
    share = network_share_kind(path)
    if share is not None:
        raise SessionError(
            f"The session file '{path.name}' is on a network drive ({share}). Rate with a "
            'session file on this computer (the default folder), then use "Hand in '
            'session…" to copy the finished file to the shared folder.',
            details=f"{path} is on a {share} filesystem; SQLite locking is unreliable there",
        )
    if exists and _is_read_only_file(path):
        raise SessionError(
            f"The session file '{path.name}' is read-only, so ratings cannot be saved to it.",
            details=f"mode {stat.filemode(path.stat().st_mode)} on {path}",
        )


def connect(path: Path, read_only: bool, busy_timeout_s: float) -> sqlite3.Connection:
    """A connection with the house pragmas (rollback journal, FULL sync, foreign keys)."""
    _check_location(path, read_only)
    try:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        mode = "ro" if read_only else "rwc"
        uri = f"file:{quote(str(path.resolve()))}?mode={mode}"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=busy_timeout_s)
    except OSError as exc:
        raise SessionError(
            f"The folder for the session file '{path.name}' cannot be created.",
            details=f"{exc} ({path})",
        ) from exc
    except sqlite3.Error as exc:
        raise session_error(exc, "open the session file", path) from exc
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not read_only:
            _use_rollback_journal(conn, path)
        conn.execute("PRAGMA synchronous = FULL")
    except BaseException:
        conn.close()
        raise
    return conn


def _use_rollback_journal(conn: sqlite3.Connection, path: Path) -> None:
    """Switch to ``journal_mode=DELETE`` (converting a WAL file); refused if impossible."""
    try:
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0].lower()
    except sqlite3.Error as exc:
        raise session_error(exc, "open the session file", path) from exc
    if mode != "delete":
        raise SessionError(
            f"The session file '{path.name}' is open in an older version of MedGrad Desktop; "
            "close it there and open it again here.",
            details=f"journal_mode stayed {mode!r} on {path}",
        )


def check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    """SQLite's integrity check; a damaged file is refused."""
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.Error as exc:
        raise session_error(exc, "open the session file", path) from exc
    if rows != ["ok"]:
        raise SessionError(
            f"The session file '{path.name}' is damaged and cannot be used.",
            details="; ".join(rows[:20]),
        )


def stored_version(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version (0 for an empty file); SessionError when it is unreadable."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "meta" not in tables:
        if tables:
            raise SessionError(
                f"'{path.name}' is a database but not a MedGrad rating session.",
                details=f"tables: {sorted(tables)}",
            )
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        return 0
    text = str(row[0]).strip()
    if not text.isascii() or not text.isdigit():
        raise SessionError(
            f"The session file '{path.name}' has a damaged version number, so it cannot be opened.",
            details=f"schema_version = {row[0]!r} in {path}",
        )
    return int(text)


def migrate(conn: sqlite3.Connection, path: Path, read_only: bool, study: str) -> None:
    """Bring the file to the latest schema (creating it when empty), in one transaction."""
    latest = schema.latest_version()
    try:
        version = stored_version(conn, path)
        if version > latest:
            raise SessionError(
                f"The session file '{path.name}' was made by a newer version of MedGrad "
                "Desktop; please update the app to open it.",
                details=f"file schema {version}, this build {latest}",
            )
        if version == latest:
            return
        if read_only:
            raise SessionError(
                f"The session file '{path.name}' is empty or from an older version; "
                "open it once for rating to upgrade it.",
                details=f"file schema {version}, this build {latest}",
            )
        _apply_migrations(conn, path, study, latest)
    except sqlite3.Error as exc:
        raise session_error(exc, "prepare the session file", path) from exc


def _apply_migrations(conn: sqlite3.Connection, path: Path, study: str, latest: int) -> None:
    conn.execute("PRAGMA foreign_keys = OFF")  # tables are rebuilt; checked before COMMIT
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = stored_version(conn, path)  # another instance may have migrated
        for target in range(version + 1, latest + 1):
            migration = schema.MIGRATIONS[target - 1]
            if callable(migration):
                migration(conn)
            else:
                for statement in migration:
                    conn.execute(statement)
            log.info("Session %s migrated to schema %d", path, target)
        if version == 0:
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [("study", study), ("created_at", utc_now()), ("allow_edits", "1")],
            )
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(latest),),
        )
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise SessionError(
                f"The session file '{path.name}' could not be upgraded: its records do not "
                "fit together.",
                details=f"foreign_key_check: {[tuple(r) for r in broken[:10]]}",
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
