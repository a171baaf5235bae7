"""Safe file names derived from reader ids and study names (which may hold any character)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from medgrad_desktop.paths import user_subdir

SESSION_SUFFIX = ".mgsession"
_MAX_STEM = 48


def _cleaned(text: str) -> str:
    normalized = unicodedata.normalize("NFKC", text)
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in normalized)
    return re.sub(r"_+", "_", cleaned).strip("_-")[:_MAX_STEM] or "reader"


_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(10)}


def safe_filename(text: str) -> str:
    """A portable file-name stem for ``text``: letters, digits, ``-`` and ``_``.

    An id that is already such a name is kept as it is ("reader-01"). Otherwise the cleaned
    name gets a short hash of the exact text, which keeps two ids apart when they look alike
    once cleaned ("Dr. Lee" vs "Dr Lee") and rules out reserved names such as ``CON``.
    """
    cleaned = _cleaned(text)
    if cleaned == text and cleaned.isascii() and cleaned.upper() not in _RESERVED:
        return cleaned
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned}-{digest}"


def default_session_path(study: str, reader: str) -> Path:
    """Where a new session file for ``reader`` in ``study`` goes by default."""
    study_part = _cleaned(study)  # the study is stored in the file; the reader part is unique
    if study_part.upper() in _RESERVED:
        study_part += "_study"
    name = f"{study_part}--{safe_filename(reader)}{SESSION_SUFFIX}"
    return user_subdir("sessions") / name
