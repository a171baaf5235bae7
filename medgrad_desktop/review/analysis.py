"""Merge readers' session files and compute the study report (agreement + method comparison)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from medgrad_desktop.errors import SessionError
from medgrad_desktop.review.agreement import (
    cohen_kappa_pairs,
    fleiss_kappa,
    krippendorff_alpha_ordinal,
    score_matrix,
)
from medgrad_desktop.review.method_stats import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    friedman,
    per_method,
    wilcoxon_pairs,
)
from medgrad_desktop.review.schema import METHODS
from medgrad_desktop.review.store import RatingStore

log = logging.getLogger(__name__)


def merge_sessions(paths: Sequence[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """Current ratings of every file, each with ``study`` and ``source`` (the file name).

    Files are opened read-only. Refused with a SessionError: files of different studies, and
    the same (reader, case, prompt, method) rated in two files (e.g. a copied file).
    """
    if not paths:
        raise SessionError("No session files were given.")
    merged: list[dict[str, Any]] = []
    study_of: dict[str, Path] = {}
    seen: dict[tuple, Path] = {}
    for raw_path in paths:
        path = Path(raw_path)
        with RatingStore.open(path, read_only=True) as store:
            study, ratings = store.study, store.ratings()
        if study_of and study not in study_of:
            other_study, other_path = next(iter(study_of.items()))
            raise SessionError(
                f"These files belong to different studies ('{other_study}' in "
                f"{other_path.name}, '{study}' in {path.name}) and cannot be merged.",
                details=f"{other_path} vs {path}",
            )
        study_of.setdefault(study, path)
        for rating in ratings:
            key = (rating["reader"], rating["case"], rating["prompt"], rating["method"])
            if key in seen:
                raise SessionError(
                    f"Reader '{rating['reader']}' rated the same item in {seen[key].name} and "
                    f"{path.name}; merge each reader's session only once.",
                    details=f"item {key}",
                )
            seen[key] = path
            merged.append({"study": study, "source": path.name, **rating})
    log.info("Merged %d ratings from %d files", len(merged), len(paths))
    return merged


def methods_in(ratings: Sequence[dict[str, Any]]) -> list[str]:
    """Methods present in ``ratings`` in the canonical order."""
    present = {r["method"] for r in ratings}
    return [m for m in METHODS if m in present]


def build_report(ratings: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The study report as a JSON-ready dict (keys documented in DESIGN.md "Rating sessions")."""
    if not ratings:
        raise SessionError("The session files hold no ratings yet, so there is nothing to report.")
    readers, units, matrix = score_matrix(ratings)
    methods = methods_in(ratings)
    notes: dict[str, str] = {}
    alpha, reason = krippendorff_alpha_ordinal(matrix)
    if reason:
        notes["krippendorff_alpha_ordinal"] = reason
    fleiss, fleiss_units, reason = fleiss_kappa(matrix)
    if reason:
        notes["fleiss_kappa"] = reason
    return {
        "study": sorted({r.get("study", "default") for r in ratings}),
        "readers": readers,
        "cases": sorted({r["case"] for r in ratings}),
        "methods": methods,
        "n_ratings": len(ratings),
        "n_units": len(units),
        "unit": "case × prompt × method; coders are readers; scores Likert 1–5",
        "krippendorff_alpha_ordinal": alpha,
        "fleiss_kappa": fleiss,
        "fleiss_kappa_units": fleiss_units,
        "cohen_kappa_weighted": {
            "weights": "quadratic",
            "pairs": cohen_kappa_pairs(readers, matrix),
        },
        "per_method": per_method(ratings, methods),
        "bootstrap": {
            "resamples": BOOTSTRAP_RESAMPLES,
            "seed": BOOTSTRAP_SEED,
            "unit": "case",
            "interval": "percentile",
        },
        "friedman": friedman(ratings, methods),
        "wilcoxon": {"adjustment": "holm", "pairs": wilcoxon_pairs(ratings, methods)},
        "notes": notes,
    }
