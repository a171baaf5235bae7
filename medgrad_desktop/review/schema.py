"""Session-file schema: versioned migrations applied in order on open.

``MIGRATIONS[i]`` brings a file from version ``i`` to ``i + 1``. The version lives in the
``meta`` table (key ``schema_version``). Never edit a released migration; append a new one.
"""

from __future__ import annotations

METHODS = ("gradcam", "gradeclip", "medgrad")
"""Explanation method names, as used by ``medgrad_desktop.explain``."""

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
)
"""Optional per-rating fields recorded next to the score."""

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

MIGRATIONS: list[tuple[str, ...]] = [_V1]
"""Ordered SQL scripts; the schema version of a file is the number applied."""


def latest_version() -> int:
    """The schema version this build writes."""
    return len(MIGRATIONS)
