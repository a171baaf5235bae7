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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from medgrad_desktop.errors import SessionError
from medgrad_desktop.review import connection
from medgrad_desktop.review.audit_chain import GENESIS, row_hash
from medgrad_desktop.review.connection import utc_now
from medgrad_desktop.review.schema import (
    ALL_METHODS,
    AUDIT_COLUMNS,
    DISPLAY_FIELDS,
    SCORE_MAX,
    SCORE_MIN,
)
from medgrad_desktop.review.sqlite_errors import session_error
from medgrad_desktop.review.tamper import TAMPER_WARNING, all_findings

log = logging.getLogger(__name__)

DEFAULT_STUDY = "default"
_KEY_FIELDS = ("reader", "case", "prompt", "method")
_AUDIT_COLUMNS = ", ".join(c for c in AUDIT_COLUMNS if c != "action")
_QUALIFIED_COLUMNS = ", ".join(f"a.{c}" for c in AUDIT_COLUMNS if c != "action")
__all__ = ["RatingStore", "utc_now"]


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
    if method not in ALL_METHODS:
        raise SessionError(
            f"'{method}' is not an explanation method; it was not saved.",
            details=f"known methods: {ALL_METHODS}",
        )
    if isinstance(score, bool) or not isinstance(score, int) or not SCORE_MIN <= score <= SCORE_MAX:
        raise SessionError(
            f"A score must be a whole number from {SCORE_MIN} to {SCORE_MAX}; it was not saved."
        )
    values = {field: display.get(field) for field in DISPLAY_FIELDS}
    if values["flag_wrong_region"] is not None:
        values["flag_wrong_region"] = int(bool(values["flag_wrong_region"]))
    try:  # stored exactly as hashed: REAL columns as float, INTEGER as int, TEXT as str
        for name in ("opacity", "seconds_spent"):
            if values[name] is not None:
                values[name] = float(values[name])
        radius = values["entropy_radius"]
        if radius is not None:
            if float(radius) != int(radius):
                raise ValueError(f"entropy radius {radius!r} is not a whole number")
            values["entropy_radius"] = int(radius)
    except (TypeError, ValueError) as exc:
        raise SessionError(
            "A display setting of the rating is not a number; it was not saved.", details=str(exc)
        ) from exc
    for name in ("panel", "comment", "colormap", "model_id", "variant", "geometry"):
        if values[name] is not None:
            values[name] = str(values[name])
    opacity = values["opacity"]
    if opacity is not None and not 0.0 <= opacity <= 1.0:
        raise SessionError("The overlay opacity must be between 0 and 1; it was not saved.")
    seconds = values["seconds_spent"]
    if seconds is not None and not 0.0 <= seconds < float("inf"):
        raise SessionError("The time spent cannot be negative; the rating was not saved.")
    return {"reader": reader, "case": case, "prompt": prompt, "method": method, "score": score} | (
        values
    )


class RatingStore:
    """An open session file. Use ``RatingStore.open``; close with ``close()`` or ``with``.

    ``tamper_findings`` lists what the checks on open found (plain phrases); when it is not
    empty the store is read-only and ``tamper_warning`` says so in a sentence.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, read_only: bool) -> None:
        self._conn = conn
        self.path = path
        self.read_only = read_only
        self.study = self.get_meta("study") or DEFAULT_STUDY
        self.schema_version = connection.stored_version(conn, path)
        self.tamper_findings: list[str] = []

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
        read-only (when writing), network-share (when writing) or newer-schema file. A file
        whose records fail the tamper checks opens read-only (see ``tamper_findings``).
        """
        path = Path(path)
        conn = connection.connect(path, read_only, busy_timeout_s)
        try:
            connection.check_integrity(conn, path)
            connection.migrate(conn, path, read_only, study or DEFAULT_STUDY)
            store = cls(conn, path, read_only)
            store.tamper_findings = store._tamper_check()
        except BaseException:
            conn.close()
            raise
        if store.tamper_findings:
            log.error("Session %s fails the tamper checks: %s", path, store.tamper_findings)
            store.read_only = True
        if study is not None and study != store.study:
            store.close()
            raise SessionError(
                f"This session file belongs to the study '{store.study}', not '{study}'.",
                details=str(path),
            )
        return store

    def _tamper_check(self) -> list[str]:
        try:
            return all_findings(self._conn, self.ratings, self.replay_audit)
        except (sqlite3.Error, KeyError, ValueError, TypeError) as exc:
            log.error("Tamper check of %s failed: %r", self.path, exc)
            return ["its records could not be checked"]

    @property
    def tamper_warning(self) -> str:
        """A sentence for the reader when the file failed the tamper checks ('' otherwise)."""
        if not self.tamper_findings:
            return ""
        return TAMPER_WARNING.format(findings="; ".join(self.tamper_findings))

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
        if self.read_only:
            raise SessionError(
                "This session file was opened for reading only; nothing was saved.",
                details=f"{doing}: {self.path}",
            )
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
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                list(values.items()),
            )

    def integrity_check(self) -> list[str]:
        """SQLite's integrity report (``["ok"]`` when the file is sound)."""
        return [r[0] for r in self.query("PRAGMA integrity_check")]

    @property
    def allow_edits(self) -> bool:
        """Whether a new rating of an already rated item replaces it (else it is refused)."""
        return self.get_meta("allow_edits") != "0"

    def hand_in(self, destination: str | os.PathLike[str]) -> Path:
        """Write a consistent copy of the session to ``destination`` (SQLite backup API)."""
        from medgrad_desktop.review.hand_in import backup_copy

        return backup_copy(self._conn, self.path, Path(destination))

    # ----------------------------------------------------------------- ratings
    def _append_audit(self, conn: sqlite3.Connection, values: dict[str, Any]) -> int:
        """Insert one audit row (``values`` by column, without id/hash) chained to the last."""
        last = conn.execute("SELECT id, row_hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        row = {**values, "id": (last[0] + 1) if last else 1, "created_at": utc_now()}
        names = [*AUDIT_COLUMNS, "row_hash"]
        conn.execute(
            f"INSERT INTO audit ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [*(row.get(c) for c in AUDIT_COLUMNS), row_hash(last[1] if last else GENESIS, row)],
        )
        return int(row["id"])

    def add_rating(
        self, *, reader: str, case: str, prompt: str, method: str, score: int, **display: Any
    ) -> int:
        """Save one rating durably and return its audit id.

        ``display`` may hold panel, flag_wrong_region, comment, opacity, colormap,
        entropy_radius, model_id, seconds_spent, variant and geometry. A second rating of
        the same (reader, case, prompt, method) replaces the first when the session allows
        edits and is refused otherwise. Returns only after the commit reached the disk.
        """
        values = _validated_rating(reader, case, prompt, method, score, display)
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
            audit_id = self._append_audit(
                conn,
                {
                    **values,
                    "case_id": case,
                    "action": "edit" if previous else "add",
                    "replaces": previous[0] if previous else None,
                },
            )
            conn.execute(
                "INSERT INTO current_rating (reader, case_id, prompt, method, audit_id) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (reader, case_id, prompt, method) "
                "DO UPDATE SET audit_id = excluded.audit_id",
                (*key, audit_id),
            )
        return audit_id

    def undo_last(self, reader: str, case: str, prompt: str | None = None) -> dict | None:
        """Withdraw the newest current rating of ``reader`` on ``case`` (and ``prompt``).

        The withdrawal is an ``undo`` row in the audit log (with the withdrawn score); the
        item is then unrated. Returns the withdrawn rating, or None when there is none.
        """
        with self.transaction("undo the last rating") as conn:
            sql = (
                f"SELECT {_QUALIFIED_COLUMNS} FROM current_rating c "
                "JOIN audit a ON a.id = c.audit_id WHERE c.reader = ? AND c.case_id = ?"
            )
            params: tuple = (reader, case)
            if prompt is not None:
                sql += " AND c.prompt = ?"
                params += (prompt,)
            newest = conn.execute(sql + " ORDER BY a.id DESC LIMIT 1", params).fetchone()
            if newest is None:
                return None
            withdrawn = dict(newest)
            self._append_audit(conn, {**withdrawn, "action": "undo", "replaces": withdrawn["id"]})
            conn.execute("DELETE FROM current_rating WHERE audit_id = ?", (withdrawn["id"],))
        return _row_to_rating(newest)

    def ratings(self, reader: str | None = None) -> list[dict[str, Any]]:
        """The current rating of every rated item (optionally of one reader), sorted by key."""
        sql = f"SELECT {_QUALIFIED_COLUMNS} FROM current_rating c JOIN audit a ON a.id = c.audit_id"
        params: tuple = ()
        if reader is not None:
            sql += " WHERE c.reader = ?"
            params = (reader,)
        return sorted((_row_to_rating(r) for r in self.query(sql, params)), key=_sort_key)

    def audit_log(self) -> list[dict[str, Any]]:
        """Every rating, change and undo ever saved, oldest first."""
        rows = self.query(f"SELECT action, {_AUDIT_COLUMNS} FROM audit ORDER BY id")
        return [_row_to_rating(r) | {"action": r["action"]} for r in rows]

    def replay_audit(self) -> list[dict[str, Any]]:
        """Rebuild the current ratings from the audit log alone (last entry per key wins; an
        undo removes the item)."""
        current: dict[tuple, dict[str, Any]] = {}
        for entry in self.audit_log():
            action = entry.pop("action")
            if action == "undo":
                current.pop(_sort_key(entry), None)
            else:
                current[_sort_key(entry)] = entry
        return sorted(current.values(), key=_sort_key)
