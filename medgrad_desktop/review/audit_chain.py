"""The SHA-256 hash chain over audit rows: each row's hash covers its values and the previous
row's hash, so changing, removing or reordering any saved row breaks every later link.

Values are normalised to the column's SQLite type before hashing, so a row hashes the same
when it is written and when it is read back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from medgrad_desktop.review.schema import AUDIT_COLUMNS

GENESIS = "0" * 64
"""The "previous hash" of the first row."""

_INTEGER_COLUMNS = frozenset({"id", "replaces", "score", "flag_wrong_region", "entropy_radius"})
_REAL_COLUMNS = frozenset({"opacity", "seconds_spent"})


def _normalised(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in _INTEGER_COLUMNS:
        return int(value)
    if column in _REAL_COLUMNS:
        return float(value)
    return str(value)


def row_hash(previous: str, values: Mapping[str, Any]) -> str:
    """The hex SHA-256 of ``previous`` and the row's ``AUDIT_COLUMNS`` values."""
    payload = [previous, *(_normalised(c, values.get(c)) for c in AUDIT_COLUMNS)]
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def first_broken_link(rows: Iterable[Mapping[str, Any]]) -> int | None:
    """The id of the first row (in id order) whose stored ``row_hash`` does not match; None
    when the whole chain holds."""
    previous = GENESIS
    for row in rows:
        expected = row_hash(previous, row)
        if row["row_hash"] != expected:
            return int(row["id"])
        previous = expected
    return None
