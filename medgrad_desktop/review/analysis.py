"""Merge readers' session files and compute the study report (agreement + method comparison)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from medgrad_desktop.errors import SessionError
from medgrad_desktop.review.agreement import (
    CATEGORIES,
    alpha_case_bootstrap,
    cohen_kappa_pairs,
    fleiss_kappa,
    icc_2_1,
    krippendorff_alpha_ordinal,
    score_matrix,
)
from medgrad_desktop.review.cluster_bootstrap import RESAMPLES, SEED
from medgrad_desktop.review.gwet import gwet_ac2
from medgrad_desktop.review.method_stats import (
    friedman,
    method_differences,
    per_method,
    wrong_region_rates,
)
from medgrad_desktop.review.mixed_model import fit_mixed_model
from medgrad_desktop.review.provenance import file_provenance, report_provenance
from medgrad_desktop.review.schema import ALL_METHODS, METHOD_TITLES
from medgrad_desktop.review.store import RatingStore
from medgrad_desktop.review.tables import per_case, per_reader, time_summary

log = logging.getLogger(__name__)

SCALES = {
    "gwet_ac2_quadratic": "ordinal: quadratic weights over the categories 1–5",
    "icc_2_1": "interval: scores treated as numbers",
    "krippendorff_alpha_ordinal": "ordinal",
    "fleiss_kappa": "nominal: scores treated as unordered categories (shown for comparison)",
    "cohen_kappa_weighted": "ordinal: quadratic weights",
    "method_differences": "interval: differences of scores",
    "friedman": "ordinal: ranks of per-case means",
}
"""How each statistic treats the 1–5 scale."""


def read_sessions(
    paths: Sequence[str | os.PathLike[str]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(ratings, provenance of each file)``: the current ratings of every file, each with
    ``study`` and ``source`` (the file name); files are opened read-only.

    Refused with a SessionError: files of different studies, and the same (reader, case,
    prompt, method) rated in two files (e.g. a copied file).
    """
    if not paths:
        raise SessionError("No session files were given.")
    merged: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    study_of: dict[str, Path] = {}
    seen: dict[tuple, Path] = {}
    for raw_path in paths:
        path = Path(raw_path)
        with RatingStore.open(path, read_only=True) as store:
            study, ratings = store.study, store.ratings()
            files.append(file_provenance(path, store, ratings))
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
    return merged, files


def merge_sessions(paths: Sequence[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """The merged current ratings of ``paths`` (see ``read_sessions``)."""
    return read_sessions(paths)[0]


def methods_in(ratings: Sequence[dict[str, Any]]) -> list[str]:
    """Methods present in ``ratings`` in the canonical order (optional ones such as LeGrad
    included)."""
    present = {r["method"] for r in ratings}
    return [m for m in ALL_METHODS if m in present]


def _agreement(
    readers: list[str], units: list, matrix, notes: dict[str, str], alpha_resamples: int
) -> dict[str, Any]:
    alpha, reason = krippendorff_alpha_ordinal(matrix)
    alpha_ci = None
    if reason:
        notes["krippendorff_alpha_ordinal"] = reason
    else:
        alpha_ci = alpha_case_bootstrap(matrix, units, alpha_resamples, SEED)
        if alpha_ci is None:
            notes["krippendorff_alpha_ordinal"] = "too few cases for a bootstrap CI"
    ac2, reason = gwet_ac2(matrix, CATEGORIES)
    if reason:
        notes["gwet_ac2_quadratic"] = reason
    icc, reason = icc_2_1(matrix)
    if reason:
        notes["icc_2_1"] = reason
    fleiss, fleiss_units, reason = fleiss_kappa(matrix)
    if reason:
        notes["fleiss_kappa"] = reason
    empty = {"value": None, "ci_low": None, "ci_high": None}
    return {
        "gwet_ac2_quadratic": (ac2 or {**empty, "se": None, "n_units": 0})
        | {"scale": SCALES["gwet_ac2_quadratic"]},
        "icc_2_1": (icc or {**empty, "n_units": 0}) | {"scale": SCALES["icc_2_1"]},
        "krippendorff_alpha_ordinal": {
            "value": alpha,
            "ci_low": alpha_ci[0] if alpha_ci else None,
            "ci_high": alpha_ci[1] if alpha_ci else None,
            "ci": f"percentile, {alpha_resamples} case resamples",
            "scale": SCALES["krippendorff_alpha_ordinal"],
        },
        "fleiss_kappa": {
            "value": fleiss,
            "n_units": fleiss_units,
            "scale": SCALES["fleiss_kappa"],
        },
        "cohen_kappa_weighted": {
            "weights": "quadratic",
            "scale": SCALES["cohen_kappa_weighted"],
            "pairs": cohen_kappa_pairs(readers, matrix),
        },
    }


def build_report(
    ratings: Sequence[dict[str, Any]],
    provenance: Sequence[dict[str, Any]] = (),
    *,
    resamples: int = RESAMPLES,
    alpha_resamples: int = 1000,
) -> dict[str, Any]:
    """The study report as a JSON-ready dict (keys documented in DESIGN.md "Rating sessions")."""
    if not ratings:
        raise SessionError("The session files hold no ratings yet, so there is nothing to report.")
    readers, units, matrix = score_matrix(ratings)
    methods = methods_in(ratings)
    notes: dict[str, str] = {}
    model, contrasts, reason = fit_mixed_model(ratings, methods)
    if reason:
        notes["mixed_model"] = reason
    notes["method_differences"] = (
        "difference = mean paired difference a − b over (reader, case, prompt); CI = two-way "
        "(case × reader) cluster bootstrap; p = mixed-model Wald test, Holm-adjusted. The "
        "mixed model has random intercepts only (no method × case or method × reader terms); "
        "the bootstrap makes no such assumption and is conservative when those are small"
    )
    tampered = [f["file"] for f in provenance if f["tamper_findings"]]
    return {
        "study": sorted({r.get("study", "default") for r in ratings}),
        "readers": readers,
        "cases": sorted({r["case"] for r in ratings}),
        "methods": methods,
        "method_titles": {m: METHOD_TITLES.get(m, m) for m in methods},
        "n_ratings": len(ratings),
        "n_units": len(units),
        "unit": "case × prompt × method; raters are readers; scores Likert 1–5",
        **_agreement(readers, units, matrix, notes, alpha_resamples),
        "per_method": per_method(ratings, methods, resamples),
        "wrong_region": wrong_region_rates(ratings, methods, resamples),
        "mixed_model": model,
        "method_differences": method_differences(ratings, methods, contrasts, resamples),
        "friedman": friedman(ratings, methods),
        "time_per_rating": time_summary([r.get("seconds_spent") for r in ratings]),
        "per_reader": per_reader(ratings, methods),
        "per_case": per_case(ratings, methods),
        "bootstrap": {
            "resamples": resamples,
            "seed": SEED,
            "unit": "case and reader (two-way cluster, pigeonhole)",
            "interval": "percentile",
        },
        "scales": SCALES,
        "tamper_warning": tampered,
        "provenance": report_provenance(provenance),
        "notes": notes,
    }
