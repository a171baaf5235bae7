"""Method comparison: per-method mean with a case bootstrap CI, Friedman, paired Wilcoxon + Holm.

A block is one (reader, case, prompt): the scores one reader gave the methods' maps of one
prompt on one case. Tests use complete blocks only (every compared method rated).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240607

Block = tuple[str, str, str]


def blocks(ratings: Sequence[dict[str, Any]]) -> dict[Block, dict[str, int]]:
    """``{(reader, case, prompt): {method: score}}``."""
    table: dict[Block, dict[str, int]] = {}
    for r in ratings:
        table.setdefault((r["reader"], r["case"], r["prompt"]), {})[r["method"]] = r["score"]
    return table


def per_method(
    ratings: Sequence[dict[str, Any]],
    methods: Sequence[str],
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, dict[str, Any]]:
    """Mean score per method with a percentile 95% CI from a bootstrap over cases.

    Cases (not single ratings) are resampled, because ratings of one case are correlated.
    """
    result = {}
    for method in methods:
        by_case: dict[str, list[int]] = {}
        for r in ratings:
            if r["method"] == method:
                by_case.setdefault(r["case"], []).append(r["score"])
        cases = sorted(by_case)
        sums = np.array([sum(by_case[c]) for c in cases], dtype=float)
        counts = np.array([len(by_case[c]) for c in cases], dtype=float)
        n = int(counts.sum())
        if n == 0:
            result[method] = {"mean": None, "ci95": None, "n": 0, "n_cases": 0}
            continue
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(cases), size=(resamples, len(cases)))
        boot = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
        low, high = np.percentile(boot, [2.5, 97.5])
        result[method] = {
            "mean": float(sums.sum() / n),
            "ci95": [float(low), float(high)],
            "n": n,
            "n_cases": len(cases),
        }
    return result


def friedman(ratings: Sequence[dict[str, Any]], methods: Sequence[str]) -> dict[str, Any]:
    """Friedman χ² across methods (scipy) over complete blocks; None + reason when undefined."""
    from scipy.stats import friedmanchisquare

    result: dict[str, Any] = {"statistic": None, "p": None, "n_blocks": 0, "methods": list(methods)}
    if len(methods) < 3:
        return result | {"reason": "the Friedman test needs three or more methods"}
    complete = [b for b in blocks(ratings).values() if all(m in b for m in methods)]
    result["n_blocks"] = len(complete)
    if len(complete) < 2:
        return result | {"reason": "fewer than two blocks have every method rated"}
    columns = [[b[m] for b in complete] for m in methods]
    if all(len(set(block.values())) == 1 for block in complete):
        return result | {"reason": "every block gives all methods the same score"}
    stat, p = friedmanchisquare(*columns)
    return result | {"statistic": float(stat), "p": float(p)}


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


def wilcoxon_pairs(ratings: Sequence[dict[str, Any]], methods: Sequence[str]) -> list[dict]:
    """Paired Wilcoxon signed-rank test (scipy) per method pair, Holm-adjusted over pairs."""
    from scipy.stats import wilcoxon

    table = list(blocks(ratings).values())
    pairs = []
    for a, b in itertools.combinations(methods, 2):
        paired = [(blk[a], blk[b]) for blk in table if a in blk and b in blk]
        entry: dict[str, Any] = {"methods": [a, b], "n": len(paired), "statistic": None, "p": None}
        diffs = [x - y for x, y in paired]
        if not paired:
            entry["reason"] = "no block has both methods rated"
        elif not any(diffs):
            entry["reason"] = "all paired differences are zero"
        else:
            x, y = zip(*paired, strict=True)
            test = wilcoxon(x, y)
            entry |= {"statistic": float(test.statistic), "p": float(test.pvalue)}
        pairs.append(entry)
    tested = [e for e in pairs if e["p"] is not None and math.isfinite(e["p"])]
    for entry, adjusted in zip(tested, holm([e["p"] for e in tested]), strict=True):
        entry["p_holm"] = adjusted
    for entry in pairs:
        entry.setdefault("p_holm", None)
    return pairs
