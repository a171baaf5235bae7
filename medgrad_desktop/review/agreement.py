"""Inter-reader agreement on Likert scores: Krippendorff's α (ordinal, with a case bootstrap
CI), ICC(2,1) (pingouin), Fleiss' κ (nominal) and weighted Cohen's κ.

A unit is one rated item (case, prompt, method); coders are readers. Undefined values (too
few readers, no variation) come back as ``None`` with a reason, never as NaN.
"""

from __future__ import annotations

import itertools
import math
import warnings
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


def alpha_case_bootstrap(
    matrix: np.ndarray,
    units: Sequence[Unit],
    resamples: int = 1000,
    seed: int = 20240607,
) -> tuple[float, float] | None:
    """Percentile 95 % CI of ordinal α from resampling cases (all units of a drawn case
    together, as often as it is drawn); None when α is undefined in too many resamples."""
    import krippendorff

    by_case: dict[str, list[int]] = {}
    for column, unit in enumerate(units):
        by_case.setdefault(unit[0], []).append(column)
    cases = sorted(by_case)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        drawn = rng.integers(0, len(cases), size=len(cases))
        columns = [c for i in drawn for c in by_case[cases[i]]]
        sample = matrix[:, columns]
        sample = sample[:, (~np.isnan(sample)).sum(axis=0) >= 2]
        if sample.shape[1] == 0 or len(np.unique(sample[~np.isnan(sample)])) < 2:
            continue
        value = krippendorff.alpha(
            reliability_data=sample, level_of_measurement="ordinal", value_domain=CATEGORIES
        )
        if math.isfinite(value):
            values.append(value)
    if len(values) < 0.9 * resamples:
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def icc_2_1(matrix: np.ndarray) -> tuple[dict[str, Any] | None, str | None]:
    """ICC(2,1): two-way random effects, absolute agreement, single rater (pingouin's
    ``ICC(A,1)``, McGraw & Wong 1996) with its F-based 95 % CI, over units every reader rated."""
    import pandas as pd
    import pingouin

    if matrix.shape[0] < 2:
        return None, "needs at least two readers"
    complete = matrix[:, ~np.isnan(matrix).any(axis=0)]
    if complete.shape[1] < 3:
        return None, "needs three or more items rated by every reader"
    if np.all(complete == complete[0, 0]):
        return None, "every score is the same, so the ICC is undefined"
    readers, units = np.meshgrid(
        np.arange(complete.shape[0]), np.arange(complete.shape[1]), indexing="ij"
    )
    data = pd.DataFrame(
        {"unit": units.ravel(), "reader": readers.ravel(), "score": complete.ravel()}
    )
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pingouin's own pandas deprecation notices
        table = pingouin.intraclass_corr(data, targets="unit", raters="reader", ratings="score")
    row = table.set_index("Type").loc["ICC(A,1)"]
    low, high = (float(v) for v in row["CI95"])
    value = float(row["ICC"])
    if not all(math.isfinite(v) for v in (value, low, high)):
        return None, "the ICC is undefined for these ratings"
    return {
        "value": value,
        "ci_low": low,
        "ci_high": high,
        "ci_decimals": 2,  # pingouin rounds its CI to two decimals
        "n_units": complete.shape[1],
    }, None


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
