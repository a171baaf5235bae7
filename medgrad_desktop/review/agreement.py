"""Inter-reader agreement on Likert scores: Krippendorff's α, Fleiss' κ, weighted Cohen's κ.

A unit is one rated item (case, prompt, method); coders are readers. Undefined values (too
few readers, no variation) come back as ``None`` with a reason, never as NaN.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from medgrad_desktop.review.schema import SCORE_MAX, SCORE_MIN

CATEGORIES = list(range(SCORE_MIN, SCORE_MAX + 1))
Unit = tuple[str, str, str]


def score_matrix(ratings: Sequence[dict[str, Any]]) -> tuple[list[str], list[Unit], np.ndarray]:
    """``(readers, units, matrix)`` with ``matrix[reader, unit]`` = score or NaN if unrated."""
    readers = sorted({r["reader"] for r in ratings})
    units = sorted({(r["case"], r["prompt"], r["method"]) for r in ratings})
    reader_index = {reader: i for i, reader in enumerate(readers)}
    unit_index = {unit: j for j, unit in enumerate(units)}
    matrix = np.full((len(readers), len(units)), np.nan)
    for r in ratings:
        matrix[reader_index[r["reader"]], unit_index[(r["case"], r["prompt"], r["method"])]] = r[
            "score"
        ]
    return readers, units, matrix


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def krippendorff_alpha_ordinal(matrix: np.ndarray) -> tuple[float | None, str | None]:
    """Ordinal α over all units rated by two or more readers (the ``krippendorff`` package)."""
    import krippendorff

    if matrix.shape[0] < 2:
        return None, "needs at least two readers"
    paired = matrix[:, (~np.isnan(matrix)).sum(axis=0) >= 2]
    if paired.shape[1] == 0:
        return None, "no item was rated by two or more readers"
    if len(np.unique(paired[~np.isnan(paired)])) < 2:
        return None, "every score is the same, so agreement beyond chance is undefined"
    value = krippendorff.alpha(
        reliability_data=paired, level_of_measurement="ordinal", value_domain=CATEGORIES
    )
    return _finite_or_none(value), None


def fleiss_kappa_from_counts(counts: np.ndarray) -> float:
    """Fleiss' κ (Fleiss 1971) from a units × categories table of rater counts.

    Every row must sum to the same number of raters n ≥ 2. Returns NaN when chance
    agreement is 1 (a single category used throughout).
    """
    counts = np.asarray(counts, dtype=float)
    n_raters = counts.sum(axis=1)
    if counts.ndim != 2 or len(set(n_raters)) != 1 or n_raters[0] < 2:
        raise ValueError("every unit needs the same number (≥ 2) of ratings")
    n = n_raters[0]
    p_category = counts.sum(axis=0) / counts.sum()
    p_unit = ((counts**2).sum(axis=1) - n) / (n * (n - 1))
    p_bar, p_chance = p_unit.mean(), (p_category**2).sum()
    if math.isclose(p_chance, 1.0):
        return math.nan
    return float((p_bar - p_chance) / (1.0 - p_chance))


def fleiss_kappa(matrix: np.ndarray) -> tuple[float | None, int, str | None]:
    """``(κ, units used, reason)`` over the units rated by every reader."""
    if matrix.shape[0] < 2:
        return None, 0, "needs at least two readers"
    complete = matrix[:, ~np.isnan(matrix).any(axis=0)]
    if complete.shape[1] == 0:
        return None, 0, "no item was rated by every reader"
    counts = np.stack([(complete == c).sum(axis=0) for c in CATEGORIES], axis=1)
    value = fleiss_kappa_from_counts(counts)
    if not math.isfinite(value):
        return None, complete.shape[1], "every score is the same, so κ is undefined"
    return value, complete.shape[1], None


def cohen_kappa_pairs(readers: Sequence[str], matrix: np.ndarray) -> list[dict[str, Any]]:
    """Quadratic-weighted Cohen's κ (scikit-learn) for every reader pair on shared items."""
    from sklearn.metrics import cohen_kappa_score

    pairs = []
    for i, j in itertools.combinations(range(len(readers)), 2):
        both = ~np.isnan(matrix[i]) & ~np.isnan(matrix[j])
        a, b = matrix[i, both].astype(int), matrix[j, both].astype(int)
        entry: dict[str, Any] = {"readers": [readers[i], readers[j]], "n": int(both.sum())}
        if both.sum() < 2:
            entry |= {"kappa": None, "reason": "fewer than two items rated by both"}
        elif len(set(a) | set(b)) < 2:
            entry |= {"kappa": None, "reason": "both readers gave one and the same score"}
        else:
            kappa = cohen_kappa_score(a, b, weights="quadratic", labels=CATEGORIES)
            entry |= {"kappa": _finite_or_none(kappa)}
        pairs.append(entry)
    return pairs
