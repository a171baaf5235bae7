"""Method comparison without pseudo-replication: per-method means and wrong-region rates
with two-way cluster bootstrap CIs, paired method differences (cluster bootstrap CI, mixed
model p), and Friedman's test over per-case means (blocks are cases)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from medgrad_desktop.review.cluster_bootstrap import RESAMPLES, SEED, percentile_interval


def _interval(rows: Sequence[dict[str, Any]], values: Sequence[float], resamples: int):
    return percentile_interval(
        [r["case"] for r in rows], [r["reader"] for r in rows], values, resamples, SEED
    )


def per_method(
    ratings: Sequence[dict[str, Any]], methods: Sequence[str], resamples: int = RESAMPLES
) -> dict[str, dict[str, Any]]:
    """Mean score per method with a two-way (case × reader) cluster bootstrap 95 % CI."""
    result = {}
    for method in methods:
        rows = [r for r in ratings if r["method"] == method]
        found = _interval(rows, [r["score"] for r in rows], resamples)
        mean, low, high = found if found else (None, None, None)
        result[method] = {
            "mean": mean,
            "ci_low": low,
            "ci_high": high,
            "n": len(rows),
            "n_cases": len({r["case"] for r in rows}),
        }
    return result


def wrong_region_rates(
    ratings: Sequence[dict[str, Any]], methods: Sequence[str], resamples: int = RESAMPLES
) -> dict[str, dict[str, Any]]:
    """Share of ratings flagged "wrong region" per method, with a cluster bootstrap 95 % CI
    (over ratings where the session used the flag)."""
    result = {}
    for method in methods:
        rows = [
            r for r in ratings if r["method"] == method and r.get("flag_wrong_region") is not None
        ]
        found = _interval(rows, [float(bool(r["flag_wrong_region"])) for r in rows], resamples)
        rate, low, high = found if found else (None, None, None)
        result[method] = {"rate": rate, "ci_low": low, "ci_high": high, "n": len(rows)}
    return result


def paired_differences(
    ratings: Sequence[dict[str, Any]], a: str, b: str
) -> list[tuple[str, str, float]]:
    """``(case, reader, score_a − score_b)`` for each (reader, case, prompt) with both rated."""
    table: dict[tuple[str, str, str], dict[str, int]] = {}
    for r in ratings:
        table.setdefault((r["reader"], r["case"], r["prompt"]), {})[r["method"]] = r["score"]
    return [
        (case, reader, float(scores[a] - scores[b]))
        for (reader, case, _prompt), scores in sorted(table.items())
        if a in scores and b in scores
    ]


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni step-down adjusted p-values, in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def method_differences(
    ratings: Sequence[dict[str, Any]],
    methods: Sequence[str],
    contrasts: dict[tuple[str, str], tuple[float, float]],
    resamples: int = RESAMPLES,
) -> list[dict[str, Any]]:
    """``[{a, b, difference, ci_low, ci_high, p}]`` for every method pair.

    ``difference``: mean paired difference a − b; CI: two-way cluster bootstrap; ``p``: the
    mixed model's Wald test of the a − b contrast, Holm-adjusted over the pairs (None when
    the model could not be fitted).
    """
    pairs = []
    for a, b in itertools.combinations(methods, 2):
        diffs = paired_differences(ratings, a, b)
        found = percentile_interval(
            [d[0] for d in diffs], [d[1] for d in diffs], [d[2] for d in diffs], resamples, SEED
        )
        difference, low, high = found if found else (None, None, None)
        pairs.append({"a": a, "b": b, "difference": difference, "ci_low": low, "ci_high": high})
    raw = [contrasts.get((e["a"], e["b"]), (None, None))[1] for e in pairs]
    tested = [i for i, p in enumerate(raw) if p is not None and math.isfinite(p)]
    adjusted = dict(zip(tested, holm([raw[i] for i in tested]), strict=True))
    for i, entry in enumerate(pairs):
        entry["p"] = adjusted.get(i)
    return pairs


def per_case_means(
    ratings: Sequence[dict[str, Any]], methods: Sequence[str]
) -> dict[str, dict[str, float]]:
    """``{case: {method: mean score over readers and prompts}}``."""
    collected: dict[str, dict[str, list[int]]] = {}
    for r in ratings:
        if r["method"] in methods:
            collected.setdefault(r["case"], {}).setdefault(r["method"], []).append(r["score"])
    return {
        case: {m: float(np.mean(v)) for m, v in by_method.items()}
        for case, by_method in sorted(collected.items())
    }


def friedman(ratings: Sequence[dict[str, Any]], methods: Sequence[str]) -> dict[str, Any]:
    """Friedman χ² across methods (scipy) with cases as blocks (per-case mean scores)."""
    from scipy.stats import friedmanchisquare

    result: dict[str, Any] = {
        "statistic": None,
        "p": None,
        "n_blocks": 0,
        "blocks": "cases (each method's mean score over readers and prompts)",
        "methods": list(methods),
    }
    if len(methods) < 3:
        return result | {"reason": "the Friedman test needs three or more methods"}
    means = [m for m in per_case_means(ratings, methods).values() if len(m) == len(methods)]
    result["n_blocks"] = len(means)
    if len(means) < 2:
        return result | {"reason": "fewer than two cases have every method rated"}
    if all(len(set(block.values())) == 1 for block in means):
        return result | {"reason": "every case gives all methods the same mean score"}
    stat, p = friedmanchisquare(*[[block[m] for block in means] for m in methods])
    return result | {"statistic": float(stat), "p": float(p)}
