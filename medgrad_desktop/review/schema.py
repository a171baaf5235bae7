"""Session-file schema: versioned migrations applied in order on open.

``MIGRATIONS[i]`` brings a file from version ``i`` to ``i + 1``: a tuple of SQL statements or
a function of the connection. The version lives in the ``meta`` table (key
``schema_version``). Never edit a released migration; append a new one.

Version 2 makes the records tamper-evident: ``audit`` gains an ``undo`` action, the
``variant`` and ``geometry`` of the maps, and ``row_hash`` (a SHA-256 chain, see
``audit_chain``); triggers guard every table a rating lives in (``TRIGGERS``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from medgrad_desktop.explain.method_names import METHOD_TITLES, METHODS, all_methods

__all__ = ["ALL_METHODS", "METHODS", "METHOD_TITLES", "MIGRATIONS", "TRIGGERS", "latest_version"]

ALL_METHODS = all_methods()
"""Every method a session may blind and a rating may record: the defaults (``METHODS``) and
the optional ones (LeGrad), in display order."""

SCORE_MIN = 1
SCORE_MAX = 5

DISPLAY_FIELDS = (
    "panel",
    "flag_wrong_region",
    "comment",
    "opacity",
    "colormap",
    "entropy_radius",
    "model_id",
    "seconds_spent",
    "variant",
    "geometry",
)
"""Optional per-rating fields recorded next to the score."""

DEFAULT_VARIANT = "model"
DEFAULT_GEOMETRY = "square"

_V1 = (
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE audit (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        action            TEXT    NOT NULL CHECK (action IN ('add', 'edit')),
        replaces          INTEGER REFERENCES audit(id),
        reader            TEXT    NOT NULL,
        case_id           TEXT    NOT NULL,
        prompt            TEXT    NOT NULL,
        method            TEXT    NOT NULL,
        score             INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
        panel             TEXT,
        flag_wrong_region INTEGER CHECK (flag_wrong_region IN (0, 1)),
        comment           TEXT,
        opacity           REAL,
        colormap          TEXT,
        entropy_radius    INTEGER,
        model_id          TEXT,
        seconds_spent     REAL,
        created_at        TEXT    NOT NULL
    )
    """,
    """
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
    """,
    """
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
    """,
    """
    CREATE TABLE current_rating (
        reader   TEXT    NOT NULL,
        case_id  TEXT    NOT NULL,
        prompt   TEXT    NOT NULL,
        method   TEXT    NOT NULL,
        audit_id INTEGER NOT NULL UNIQUE REFERENCES audit(id),
        PRIMARY KEY (reader, case_id, prompt, method)
    )
    """,
    """
    CREATE TABLE session_case (
        case_id    TEXT    PRIMARY KEY,
        image_path TEXT    NOT NULL,
        position   INTEGER NOT NULL UNIQUE
    )
    """,
    """
    CREATE TABLE case_prompt (
        case_id  TEXT    NOT NULL REFERENCES session_case(case_id),
        position INTEGER NOT NULL,
        prompt   TEXT    NOT NULL,
        PRIMARY KEY (case_id, position)
    )
    """,
)

AUDIT_V2 = """
    CREATE TABLE audit (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        action            TEXT    NOT NULL CHECK (action IN ('add', 'edit', 'undo')),
        replaces          INTEGER REFERENCES audit(id),
        reader            TEXT    NOT NULL,
        case_id           TEXT    NOT NULL,
        prompt            TEXT    NOT NULL,
        method            TEXT    NOT NULL,
        score             INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
        panel             TEXT,
        flag_wrong_region INTEGER CHECK (flag_wrong_region IN (0, 1)),
        comment           TEXT,
        opacity           REAL,
        colormap          TEXT,
        entropy_radius    INTEGER,
        model_id          TEXT,
        seconds_spent     REAL,
        created_at        TEXT    NOT NULL,
        variant           TEXT,
        geometry          TEXT,
        row_hash          TEXT    NOT NULL CHECK (length(row_hash) = 64)
    )
"""
"""``audit`` from version 2 on: an ``undo`` row withdraws the rating it ``replaces``."""

AUDIT_COLUMNS = (
    "id",
    "action",
    "replaces",
    "reader",
    "case_id",
    "prompt",
    "method",
    "score",
    *DISPLAY_FIELDS,
    "created_at",
)
"""The columns each row's hash covers, in this order (``row_hash`` itself excluded)."""

PROTECTED_META_KEYS = ("study", "session_config", "reader", "created_at")

_APPEND_ONLY = "BEGIN SELECT RAISE(ABORT, '{} is append-only'); END"

TRIGGERS: dict[str, str] = {
    "audit_no_update": "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
    + _APPEND_ONLY.format("the audit log"),
    "audit_no_delete": "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    + _APPEND_ONLY.format("the audit log"),
    "current_rating_insert": "CREATE TRIGGER current_rating_insert BEFORE INSERT ON "
    "current_rating WHEN NOT EXISTS (SELECT 1 FROM audit a WHERE a.id = NEW.audit_id "
    "AND a.action IN ('add', 'edit') AND a.reader = NEW.reader AND a.case_id = NEW.case_id "
    "AND a.prompt = NEW.prompt AND a.method = NEW.method) "
    "BEGIN SELECT RAISE(ABORT, 'a current rating must be its newest audit entry'); END",
    "current_rating_update": "CREATE TRIGGER current_rating_update BEFORE UPDATE ON "
    "current_rating WHEN NEW.reader IS NOT OLD.reader OR NEW.case_id IS NOT OLD.case_id "
    "OR NEW.prompt IS NOT OLD.prompt OR NEW.method IS NOT OLD.method "
    "OR NOT EXISTS (SELECT 1 FROM audit a WHERE a.id = NEW.audit_id AND a.action = 'edit' "
    "AND a.replaces = OLD.audit_id AND a.reader = NEW.reader AND a.case_id = NEW.case_id "
    "AND a.prompt = NEW.prompt AND a.method = NEW.method) "
    "BEGIN SELECT RAISE(ABORT, 'a current rating changes only by an audited edit'); END",
    "current_rating_delete": "CREATE TRIGGER current_rating_delete BEFORE DELETE ON "
    "current_rating WHEN NOT EXISTS (SELECT 1 FROM audit a WHERE a.action = 'undo' "
    "AND a.replaces = OLD.audit_id) "
    "BEGIN SELECT RAISE(ABORT, 'a current rating is removed only by an audited undo'); END",
    "session_case_no_update": "CREATE TRIGGER session_case_no_update BEFORE UPDATE ON "
    "session_case " + _APPEND_ONLY.format("the case list"),
    "session_case_no_delete": "CREATE TRIGGER session_case_no_delete BEFORE DELETE ON "
    "session_case " + _APPEND_ONLY.format("the case list"),
    "case_prompt_no_update": "CREATE TRIGGER case_prompt_no_update BEFORE UPDATE ON "
    "case_prompt " + _APPEND_ONLY.format("the prompt list"),
    "case_prompt_no_delete": "CREATE TRIGGER case_prompt_no_delete BEFORE DELETE ON "
    "case_prompt " + _APPEND_ONLY.format("the prompt list"),
    "meta_fixed_insert": "CREATE TRIGGER meta_fixed_insert BEFORE INSERT ON meta "
    f"WHEN NEW.key IN {PROTECTED_META_KEYS} AND EXISTS (SELECT 1 FROM meta m "
    "WHERE m.key = NEW.key) "
    "BEGIN SELECT RAISE(ABORT, 'the session setup is fixed'); END",
    "meta_fixed_update": "CREATE TRIGGER meta_fixed_update BEFORE UPDATE ON meta "
    f"WHEN OLD.key IN {PROTECTED_META_KEYS} "
    "BEGIN SELECT RAISE(ABORT, 'the session setup is fixed'); END",
    "meta_fixed_delete": "CREATE TRIGGER meta_fixed_delete BEFORE DELETE ON meta "
    f"WHEN OLD.key IN {PROTECTED_META_KEYS} "
    "BEGIN SELECT RAISE(ABORT, 'the session setup is fixed'); END",
}
"""Every trigger a version-2 file must hold, exactly (checked on open)."""


def _to_v2(conn: sqlite3.Connection) -> None:
    """Rebuild ``audit`` with the version-2 columns, hash-chain its rows, add the triggers.

    Runs inside the migration transaction with foreign keys off (the table is rebuilt).
    """
    from medgrad_desktop.review.audit_chain import GENESIS, row_hash

    conn.execute("PRAGMA legacy_alter_table = ON")  # keep current_rating's reference
    conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    conn.execute("ALTER TABLE audit RENAME TO audit_v1")
    conn.execute(AUDIT_V2)
    v1_columns = [c for c in AUDIT_COLUMNS if c not in ("variant", "geometry")]
    rows = conn.execute(f"SELECT {', '.join(v1_columns)} FROM audit_v1 ORDER BY id").fetchall()
    previous = GENESIS
    for row in rows:
        values = dict(zip(v1_columns, row, strict=True)) | {"variant": None, "geometry": None}
        previous = row_hash(previous, values)
        names = [*AUDIT_COLUMNS, "row_hash"]
        conn.execute(
            f"INSERT INTO audit ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [*(values[c] for c in AUDIT_COLUMNS), previous],
        )
    conn.execute("DROP TABLE audit_v1")
    conn.execute("PRAGMA legacy_alter_table = OFF")
    for statement in TRIGGERS.values():
        conn.execute(statement)


Migration = tuple[str, ...] | Callable[[sqlite3.Connection], None]

MIGRATIONS: list[Migration] = [_V1, _to_v2]
"""Ordered migrations; the schema version of a file is the number applied."""


def latest_version() -> int:
    """The schema version this build writes."""
    return len(MIGRATIONS)
