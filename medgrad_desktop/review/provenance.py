"""Where a report's numbers come from: the app, each session file (SHA-256, setup, tamper
checks) and the model and display settings its ratings were given with."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from medgrad_desktop.review.store import RatingStore


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _distinct(ratings: Sequence[dict[str, Any]], field: str) -> list:
    return sorted({r[field] for r in ratings if r.get(field) is not None}, key=str)


def file_provenance(path: Path, store: RatingStore, ratings: Sequence[dict[str, Any]]) -> dict:
    """One session file's entry of the provenance footer."""
    stored = store.get_meta("session_config")
    config = json.loads(stored) if stored else {}
    return {
        "file": path.name,
        "sha256": sha256_of(path),
        "study": store.study,
        "reader": store.get_meta("reader"),
        "schema_version": store.schema_version,
        "tamper_checks": "passed" if not store.tamper_findings else "FAILED",
        "tamper_findings": list(store.tamper_findings),
        "prompt_mode": config.get("prompt_mode"),
        "blinding_seed": config.get("seed"),
        "display_policy": config.get("display_policy"),
        "model_ids": _distinct(ratings, "model_id"),
        "variants": _distinct(ratings, "variant"),
        "geometries": _distinct(ratings, "geometry"),
        "entropy_radii": _distinct(ratings, "entropy_radius"),
        "n_ratings": len(ratings),
    }


def report_provenance(files: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The footer: app version, time, and every file's entry."""
    from medgrad_desktop import __version__

    return {
        "app": "MedGrad Desktop",
        "app_version": __version__,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": list(files),
    }
