"""Two-way (case × reader) cluster bootstrap of a mean, with percentile intervals.

Ratings of one case are correlated (same image), and so are ratings of one reader (same
habits). Each resample draws cases with replacement and, independently, readers with
replacement, and keeps every observation of a drawn (case, reader) pair as many times as
the pair was drawn (the "pigeonhole" bootstrap, Owen 2007). With one reader this is the
case bootstrap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RESAMPLES = 2000
SEED = 20240607


def cell_sums(
    cases: Sequence[str], readers: Sequence[str], values: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """``(sums, counts)``, each ``[case, reader]``, over the distinct cases and readers."""
    case_index = {c: i for i, c in enumerate(sorted(set(cases)))}
    reader_index = {r: j for j, r in enumerate(sorted(set(readers)))}
    sums = np.zeros((len(case_index), len(reader_index)))
    counts = np.zeros_like(sums)
    for case, reader, value in zip(cases, readers, values, strict=True):
        sums[case_index[case], reader_index[reader]] += value
        counts[case_index[case], reader_index[reader]] += 1
    return sums, counts


def bootstrap_means(
    sums: np.ndarray, counts: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED
) -> np.ndarray:
    """The mean (sum of values / number of values) in each two-way resample.

    Resamples that happen to hold no observation are dropped.
    """
    rng = np.random.default_rng(seed)
    n_cases, n_readers = sums.shape
    case_draws = rng.integers(0, n_cases, size=(resamples, n_cases))
    reader_draws = rng.integers(0, n_readers, size=(resamples, n_readers))
    case_counts = np.stack([np.bincount(d, minlength=n_cases) for d in case_draws])
    reader_counts = np.stack([np.bincount(d, minlength=n_readers) for d in reader_draws])
    totals = np.einsum("bc,cr,br->b", case_counts, sums, reader_counts)
    weights = np.einsum("bc,cr,br->b", case_counts, counts, reader_counts)
    kept = weights > 0
    return totals[kept] / weights[kept]


def percentile_interval(
    cases: Sequence[str],
    readers: Sequence[str],
    values: Sequence[float],
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> tuple[float, float, float] | None:
    """``(mean, 2.5 % point, 97.5 % point)`` of ``values``; None when there are none."""
    if len(values) == 0:
        return None
    sums, counts = cell_sums(cases, readers, values)
    means = bootstrap_means(sums, counts, resamples, seed)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(np.mean(values)), float(low), float(high)
