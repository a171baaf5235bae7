"""Write merged ratings and reports to disk (CSV, JSON), atomically."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from medgrad_desktop.errors import SessionError
from medgrad_desktop.review.schema import DISPLAY_FIELDS

EXPORT_COLUMNS = (
    "study",
    "source",
    "id",
    "replaces",
    "reader",
    "case",
    "prompt",
    "method",
    "score",
    *DISPLAY_FIELDS,
    "created_at",
)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) so that ``path`` is either the old file or the complete new one."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; a report is an ordinary file
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise SessionError(
            f"Could not write '{path.name}': {exc.strerror or 'the disk refused it'}.",
            details=f"{exc!r} ({path})",
        ) from exc


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Cell starts that make spreadsheets run a formula (OWASP "CSV injection")."""


def neutralised(value: Any) -> Any:
    """``value`` safe for a spreadsheet: text starting like a formula gets a leading ``'``.

    Numbers are left as numbers (a negative number is not text a reader typed).
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def ratings_to_csv(ratings: Sequence[dict[str, Any]]) -> str:
    """CSV text with a header row, one row per rating, columns ``EXPORT_COLUMNS``; text that
    a spreadsheet would run as a formula is neutralised."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for rating in ratings:
        writer.writerow(
            {k: "" if rating.get(k) is None else neutralised(rating.get(k)) for k in EXPORT_COLUMNS}
        )
    return buffer.getvalue()


def to_json(data: Any) -> str:
    """Pretty, UTF-8 JSON (non-ASCII reader ids kept readable)."""
    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def export_csv(ratings: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """Write ``ratings`` as CSV to ``path``."""
    write_text_atomic(path, ratings_to_csv(ratings))


def export_json(data: Any, path: str | os.PathLike[str]) -> None:
    """Write ``data`` (ratings or a report) as JSON to ``path``."""
    write_text_atomic(path, to_json(data))
