"""Descriptive tables of a study: per reader, per case, and the time readers spent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def time_summary(seconds: Sequence[float]) -> dict[str, Any]:
    """Median and quartiles of the seconds spent per rating (ratings without a time skipped)."""
    values = [float(s) for s in seconds if s is not None]
    if not values:
        return {"median_s": None, "q1_s": None, "q3_s": None, "total_min": None, "n": 0}
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {
        "median_s": float(median),
        "q1_s": float(q1),
        "q3_s": float(q3),
        "total_min": float(sum(values) / 60),
        "n": len(values),
    }


def _flag_rate(rows: Sequence[dict[str, Any]]) -> float | None:
    flags = [bool(r["flag_wrong_region"]) for r in rows if r.get("flag_wrong_region") is not None]
    return _mean([float(f) for f in flags])


def per_reader(ratings: Sequence[dict[str, Any]], methods: Sequence[str]) -> list[dict[str, Any]]:
    """One row per reader: ratings, mean score per method, wrong-region rate, time."""
    rows = []
    for reader in sorted({r["reader"] for r in ratings}):
        mine = [r for r in ratings if r["reader"] == reader]
        rows.append(
            {
                "reader": reader,
                "n_ratings": len(mine),
                "n_cases": len({r["case"] for r in mine}),
                "mean_by_method": {
                    m: _mean([r["score"] for r in mine if r["method"] == m]) for m in methods
                },
                "wrong_region_rate": _flag_rate(mine),
                "time": time_summary([r.get("seconds_spent") for r in mine]),
            }
        )
    return rows


def per_case(ratings: Sequence[dict[str, Any]], methods: Sequence[str]) -> list[dict[str, Any]]:
    """One row per case: ratings, readers, mean score per method, wrong-region rate."""
    rows = []
    for case in sorted({r["case"] for r in ratings}):
        mine = [r for r in ratings if r["case"] == case]
        rows.append(
            {
                "case": case,
                "n_ratings": len(mine),
                "n_readers": len({r["reader"] for r in mine}),
                "mean_by_method": {
                    m: _mean([r["score"] for r in mine if r["method"] == m]) for m in methods
                },
                "wrong_region_rate": _flag_rate(mine),
            }
        )
    return rows
