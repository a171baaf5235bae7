"""Gwet's AC2 with quadratic weights, its standard error and confidence interval.

Follows Gwet (2014, *Handbook of Inter-Rater Reliability*, 4th ed., ch. 5) as the irrCAC
package computes it (``CAC(ratings, weights="quadratic", categories=[1..5]).gwet()``): units
with any rating count, the percent agreement uses units rated by two or more readers, the
variance is the linearised jackknife-free estimator with the finite-population correction
off, and the CI uses Student's t with n − 1 degrees of freedom (upper bound capped at 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def quadratic_weights(categories: Sequence[float]) -> np.ndarray:
    """``w_kl = 1 − (k − l)² / (max − min)²`` over the scale's categories."""
    values = np.asarray(categories, dtype=float)
    span = values.max() - values.min()
    return 1.0 - (values[:, None] - values[None, :]) ** 2 / span**2


def gwet_ac2(
    matrix: np.ndarray, categories: Sequence[float], confidence: float = 0.95
) -> tuple[dict[str, Any] | None, str | None]:
    """``({value, se, ci_low, ci_high, n_units}, None)`` or ``(None, reason)``.

    ``matrix[reader, unit]`` holds scores, NaN where a reader did not rate the unit.
    """
    from scipy.stats import t

    ratings = np.asarray(matrix, dtype=float).T  # units × readers
    ratings = ratings[~np.isnan(ratings).all(axis=1)]
    n, q = ratings.shape[0], len(categories)
    counts = np.stack([(ratings == c).sum(axis=1) for c in categories], axis=1).astype(float)
    per_unit = counts.sum(axis=1)
    multi = per_unit >= 2
    if n < 2 or not multi.any():
        return None, "needs two or more items rated by two or more readers"
    weights = quadratic_weights(categories)
    weighted = counts @ weights.T
    agreement_sum = (counts * (weighted - 1.0)).sum(axis=1)
    pairs = per_unit * (per_unit - 1.0)
    pa = (agreement_sum[multi] / pairs[multi]).sum() / multi.sum()
    pi = (counts / per_unit[:, None]).mean(axis=0)
    weight_total = weights.sum()
    pe = weight_total * (pi * (1.0 - pi)).sum() / (q * (q - 1))
    if math.isclose(pe, 1.0):
        return None, "chance agreement is 1, so AC2 is undefined"
    value = (pa - pe) / (1.0 - pe)
    pa_unit = agreement_sum / np.where(pairs == 0, -1.0, pairs)
    ac2_unit = (n / multi.sum()) * (pa_unit - pe * multi) / (1.0 - pe)
    pe_unit = (weight_total / (q * (q - 1))) * (counts @ (1.0 - pi)) / per_unit
    ac2_linear = ac2_unit - 2.0 * (1.0 - value) * (pe_unit - pe) / (1.0 - pe)
    se = math.sqrt(((ac2_linear - value) ** 2).sum() / (n * (n - 1)))
    low, high = t.interval(confidence, df=n - 1, loc=value, scale=max(se, 1e-15))
    return {
        "value": float(value),
        "se": float(se),
        "ci_low": float(low),
        "ci_high": float(min(1.0, high)),
        "n_units": int(n),
    }, None
