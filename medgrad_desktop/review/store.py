"""Durable rating storage: one SQLite file per reader session, with an append-only audit log.

Every rating (and every later change of it) is appended to ``audit``; triggers refuse UPDATE
and DELETE there. ``current_rating`` points at the audit row that holds the current rating of
each (reader, case, prompt, method). ``add_rating`` returns only after ``COMMIT`` with
``synchronous=FULL``, i.e. once the rating is on disk.

Two app instances may open one file: writes take the write lock up front (``BEGIN
IMMEDIATE``); a second writer waits up to ``busy_timeout_s`` and is then refused with a
SessionError, nothing saved.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from medgrad_desktop.errors import SessionError
from medgrad_desktop.review import schema
from medgrad_desktop.review.schema import DISPLAY_FIELDS, METHODS, SCORE_MAX, SCORE_MIN
from medgrad_desktop.review.sqlite_errors import session_error

log = logging.getLogger(__name__)

DEFAULT_STUDY = "default"
_KEY_FIELDS = ("reader", "case", "prompt", "method")
_AUDIT_COLUMNS = (
    "id, replaces, reader, case_id, prompt, method, score, panel, flag_wrong_region, comment, "
    "opacity, colormap, entropy_radius, model_id, seconds_spent, created_at"
)


def utc_now() -> str:
    """The current UTC time as ISO 8601 with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _is_read_only_file(path: Path) -> bool:
    """True when the file is not writable, or is marked read-only for everybody (even admin)."""
    return not os.access(path, os.W_OK) or not (path.stat().st_mode & 0o222)


def _row_to_rating(row: sqlite3.Row) -> dict[str, Any]:
    rating = {
        "id": row["id"],
        "replaces": row["replaces"],
        "reader": row["reader"],
        "case": row["case_id"],
        "prompt": row["prompt"],
        "method": row["method"],
        "score": row["score"],
        "created_at": row["created_at"],
    }
    for field in DISPLAY_FIELDS:
        rating[field] = row[field]
    if rating["flag_wrong_region"] is not None:
        rating["flag_wrong_region"] = bool(rating["flag_wrong_region"])
    return rating


def _sort_key(rating: dict[str, Any]) -> tuple:
    return tuple(rating[k] for k in _KEY_FIELDS)


def _validated_rating(
    reader: str, case: str, prompt: str, method: str, score: int, display: dict[str, Any]
) -> dict[str, Any]:
    """Check one rating's values; a SessionError names the first bad one."""
    unknown = set(display) - set(DISPLAY_FIELDS)
    if unknown:
        raise TypeError(f"unknown rating fields: {sorted(unknown)}")
    for name, value in (("reader", reader), ("case", case), ("prompt", prompt)):
        if not isinstance(value, str) or not value.strip():
            raise SessionError(f"The rating has no {name}; it was not saved.")
    if method not in METHODS:
        raise SessionError(
            f"'{method}' is not an explanation method; it was not saved.",
            details=f"known methods: {METHODS}",
        )
    if isinstance(score, bool) or not isinstance(score, int) or not SCORE_MIN <= score <= SCORE_MAX:
        raise SessionError(
            f"A score must be a whole number from {SCORE_MIN} to {SCORE_MAX}; it was not saved."
        )
    values = {field: display.get(field) for field in DISPLAY_FIELDS}
    if values["flag_wrong_region"] is not None:
        values["flag_wrong_region"] = int(bool(values["flag_wrong_region"]))
    opacity = values["opacity"]
    if opacity is not None and not 0.0 <= float(opacity) <= 1.0:
        raise SessionError("The overlay opacity must be between 0 and 1; it was not saved.")
    seconds = values["seconds_spent"]
    if seconds is not None and float(seconds) < 0:
        raise SessionError("The time spent cannot be negative; the rating was not saved.")
    return {"reader": reader, "case": case, "prompt": prompt, "method": method, "score": score} | (
        values
    )


class RatingStore:
    """An open session file. Use ``RatingStore.open``; close with ``close()`` or ``with``."""

    def __init__(self, conn: sqlite3.Connection, path: Path, read_only: bool) -> None:
        self._conn = conn
        self.path = path
        self.read_only = read_only
        self.study = self.get_meta("study") or DEFAULT_STUDY
        self.schema_version = int(self.get_meta("schema_version") or 0)

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        study: str | None = None,
        *,
        read_only: bool = False,
        busy_timeout_s: float = 5.0,
    ) -> RatingStore:
        """Open (or create) a session file.

        ``study`` is fixed when the file is created (``"default"`` when None); opening an
        existing file with a different ``study`` is refused. ``read_only`` opens without any
        write (for export and reports). Raises SessionError for a damaged, foreign, locked,
        read-only (when writing) or newer-schema file.
        """
        path = Path(path)
        conn = cls._connect(path, read_only, busy_timeout_s)
        try:
            cls._check_integrity(conn, path)
            cls._migrate(conn, path, read_only, study or DEFAULT_STUDY)
            store = cls(conn, path, read_only)
        except BaseException:
            conn.close()
            raise
        if study is not None and study != store.study:
            store.close()
            raise SessionError(
                f"This session file belongs to the study '{store.study}', not '{study}'.",
                details=str(path),
            )
        return store

    @staticmethod
    def _connect(path: Path, read_only: bool, busy_timeout_s: float) -> sqlite3.Connection:
        exists = path.exists()
        if exists and not path.is_file():
            raise SessionError(f"'{path.name}' is a folder, not a session file.", details=str(path))
        if read_only and not exists:
            raise SessionError(f"The session file '{path.name}' does not exist.", details=str(path))
        if not read_only and exists and _is_read_only_file(path):
            raise SessionError(
                f"The session file '{path.name}' is read-only, so ratings cannot be saved to it.",
                details=f"mode {stat.filemode(path.stat().st_mode)} on {path}",
            )
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
                mode_row = conn.execute("PRAGMA journal_mode = WAL").fetchone()
                if mode_row[0].lower() != "wal":
                    log.warning("WAL journaling unavailable for %s (got %s)", path, mode_row[0])
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            conn.close()
            raise session_error(exc, "open the session file", path) from exc
        return conn

    @staticmethod
    def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        except sqlite3.Error as exc:
            raise session_error(exc, "open the session file", path) from exc
        if rows != ["ok"]:
            raise SessionError(
                f"The session file '{path.name}' is damaged and cannot be used.",
                details="; ".join(rows[:20]),
            )

    @staticmethod
    def _stored_version(conn: sqlite3.Connection, path: Path) -> int:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in tables:
            if tables:
                raise SessionError(
                    f"'{path.name}' is a database but not a MedGrad rating session.",
                    details=f"tables: {sorted(tables)}",
                )
            return 0
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    @classmethod
    def _migrate(cls, conn: sqlite3.Connection, path: Path, read_only: bool, study: str) -> None:
        latest = schema.latest_version()
        try:
            version = cls._stored_version(conn, path)
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
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = cls._stored_version(conn, path)  # another instance may have migrated
                for target in range(version + 1, latest + 1):
                    for statement in schema.MIGRATIONS[target - 1]:
                        conn.execute(statement)
                    log.info("Session %s migrated to schema %d", path, target)
                if version == 0:
                    conn.executemany(
                        "INSERT INTO meta (key, value) VALUES (?, ?)",
                        [("study", study), ("created_at", utc_now()), ("allow_edits", "1")],
                    )
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(latest),),
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise session_error(exc, "prepare the session file", path) from exc

    # ----------------------------------------------------------------- plumbing
    def close(self) -> None:
        """Close the file (pending data is already committed)."""
        self._conn.close()

    def __enter__(self) -> RatingStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, doing: str) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the write lock from the start; durable on exit.

        Any SQLite failure becomes a SessionError saying it could not ``doing``; the
        transaction is rolled back, so nothing of it is saved.
        """
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise session_error(exc, doing, self.path) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error as rollback_exc:
                    log.error("Rollback failed on %s: %s", self.path, rollback_exc)
            if isinstance(exc, sqlite3.Error):
                raise session_error(exc, doing, self.path) from exc
            raise

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        """Run a read-only query; SQLite failures become a SessionError."""
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise session_error(exc, "read the session file", self.path) from exc

    def get_meta(self, key: str) -> str | None:
        """A value of the ``meta`` table, or None."""
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, values: dict[str, str]) -> None:
        """Write ``meta`` values durably (session setup; never the schema version or study)."""
        if {"schema_version", "study"} & set(values):
            raise ValueError("schema_version and study are fixed")
        with self.transaction("save the session settings") as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items())
            )

    def integrity_check(self) -> list[str]:
        """SQLite's integrity report (``["ok"]`` when the file is sound)."""
        return [r[0] for r in self.query("PRAGMA integrity_check")]

    @property
    def allow_edits(self) -> bool:
        """Whether a new rating of an already rated item replaces it (else it is refused)."""
        return self.get_meta("allow_edits") != "0"

    # ----------------------------------------------------------------- ratings
    def add_rating(
        self, *, reader: str, case: str, prompt: str, method: str, score: int, **display: Any
    ) -> int:
        """Save one rating durably and return its audit id.

        ``display`` may hold panel, flag_wrong_region, comment, opacity, colormap,
        entropy_radius, model_id and seconds_spent. A second rating of the same
        (reader, case, prompt, method) replaces the first when the session allows edits and
        is refused otherwise. Returns only after the commit reached the disk.
        """
        values = _validated_rating(reader, case, prompt, method, score, display)
        if self.read_only:
            raise SessionError("This session file was opened for reading only; nothing was saved.")
        with self.transaction("save the rating") as conn:
            key = (reader, case, prompt, method)
            previous = conn.execute(
                "SELECT audit_id FROM current_rating "
                "WHERE reader = ? AND case_id = ? AND prompt = ? AND method = ?",
                key,
            ).fetchone()
            if previous is not None:
                allowed = conn.execute("SELECT value FROM meta WHERE key = 'allow_edits'")
                if allowed.fetchone()[0] == "0":
                    raise SessionError(
                        "This item is already rated and the session does not allow changes; "
                        "the new rating was not saved."
                    )
            cursor = conn.execute(
                "INSERT INTO audit (action, replaces, reader, case_id, prompt, method, score, "
                "panel, flag_wrong_region, comment, opacity, colormap, entropy_radius, model_id, "
                "seconds_spent, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    "edit" if previous else "add",
                    previous[0] if previous else None,
                    *key,
                    values["score"],
                    *(values[f] for f in DISPLAY_FIELDS),
                    utc_now(),
                ),
            )
            audit_id = int(cursor.lastrowid)
            conn.execute(
                "INSERT INTO current_rating (reader, case_id, prompt, method, audit_id) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (reader, case_id, prompt, method) "
                "DO UPDATE SET audit_id = excluded.audit_id",
                (*key, audit_id),
            )
        return audit_id

    def ratings(self, reader: str | None = None) -> list[dict[str, Any]]:
        """The current rating of every rated item (optionally of one reader), sorted by key."""
        sql = (
            f"SELECT {', '.join('a.' + c.strip() for c in _AUDIT_COLUMNS.split(','))} "
            "FROM current_rating c JOIN audit a ON a.id = c.audit_id"
        )
        params: tuple = ()
        if reader is not None:
            sql += " WHERE c.reader = ?"
            params = (reader,)
        return sorted((_row_to_rating(r) for r in self.query(sql, params)), key=_sort_key)

    def audit_log(self) -> list[dict[str, Any]]:
        """Every rating and change ever saved, oldest first."""
        rows = self.query(f"SELECT action, {_AUDIT_COLUMNS} FROM audit ORDER BY id")
        return [_row_to_rating(r) | {"action": r["action"]} for r in rows]

    def replay_audit(self) -> list[dict[str, Any]]:
        """Rebuild the current ratings from the audit log alone (last entry per key wins)."""
        current: dict[tuple, dict[str, Any]] = {}
        for entry in self.audit_log():
            entry.pop("action")
            current[_sort_key(entry)] = entry
        return sorted(current.values(), key=_sort_key)
