"""Means with percentile-bootstrap 95 % confidence intervals over images, and paired
differences between methods on the same images (the same resampled images for both)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

N_BOOT = 2000
LEVEL = 0.95


def _interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_mean(
    values: Sequence[float], n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL
) -> dict[str, float | int | None]:
    """``{mean, ci_low, ci_high, n}`` of the finite ``values`` (None when there are none)."""
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(n_boot, data.size))].mean(axis=1)
    low, high = _interval(means, level)
    return {"mean": float(data.mean()), "ci_low": low, "ci_high": high, "n": int(data.size)}


def paired_difference(
    a: Sequence[float],
    b: Sequence[float],
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, float | int | None]:
    """Mean of a − b over the images where both are finite, with a paired bootstrap CI."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("Paired values need the same images on both sides.")
    both = np.isfinite(a) & np.isfinite(b)
    return bootstrap_mean(a[both] - b[both], n_boot=n_boot, seed=seed, level=level)
