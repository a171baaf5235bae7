"""Method comparison by a linear mixed model: score ~ method, crossed random intercepts for
case and reader (statsmodels ``MixedLM``, REML), so one case's or one reader's repeated
ratings are never counted as independent."""

from __future__ import annotations

import itertools
import logging
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

FORMULA = "score ~ method + (1 | case) + (1 | reader)"


def fit_mixed_model(
    ratings: Sequence[dict[str, Any]], methods: Sequence[str]
) -> tuple[dict[str, Any] | None, dict[tuple[str, str], tuple[float, float]], str | None]:
    """``(summary, contrasts, reason)``.

    ``summary`` holds the fixed effects against the first method, the variance components
    and whether the fit converged; ``contrasts[(a, b)] = (estimate of a − b, two-sided
    Wald p)``. ``(None, {}, reason)`` when the model cannot be fitted.
    """
    import pandas as pd
    import statsmodels.formula.api as smf
    from scipy.stats import norm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    rows = [r for r in ratings if r["method"] in methods]
    cases = {r["case"] for r in rows}
    readers = {r["reader"] for r in rows}
    if len(methods) < 2:
        return None, {}, "needs two or more methods"
    if len(cases) < 2:
        return None, {}, "needs two or more cases"
    data = pd.DataFrame(
        {
            "score": [float(r["score"]) for r in rows],
            "method": [r["method"] for r in rows],
            "case": [r["case"] for r in rows],
            "reader": [r["reader"] for r in rows],
        }
    )
    components = {"case": "0 + C(case)"}
    if len(readers) > 1:
        components["reader"] = "0 + C(reader)"
    reference = methods[0]
    model = smf.mixedlm(
        f"score ~ C(method, Treatment(reference={reference!r}))",
        data,
        groups=np.ones(len(data)),
        re_formula="0",
        vc_formula=components,
    )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            fit = model.fit(reml=True)
    except (np.linalg.LinAlgError, ValueError) as exc:
        log.warning("Mixed model not fitted: %r", exc)
        return None, {}, "the mixed model could not be fitted to these ratings"
    converged = bool(fit.converged) and not any(
        issubclass(w.category, ConvergenceWarning) for w in caught
    )
    names = list(fit.fe_params.index)
    term_of = {m: next(n for n in names if n.endswith(f"[T.{m}]")) for m in methods[1:]}
    beta = fit.fe_params.to_numpy()
    cov = fit.cov_params().loc[names, names].to_numpy()

    def contrast(a: str, b: str) -> tuple[float, float, float]:
        vector = np.zeros(len(names))
        for method, sign in ((a, 1.0), (b, -1.0)):
            if method != reference:
                vector[names.index(term_of[method])] += sign
        estimate = float(vector @ beta)
        se = float(math.sqrt(max(vector @ cov @ vector, 0.0)))
        p = float(2 * norm.sf(abs(estimate) / se)) if se > 0 else float("nan")
        return estimate, se, p

    effects = []
    for method in methods[1:]:
        estimate, se, p = contrast(method, reference)
        effects.append(
            {
                "term": f"{method} − {reference}",
                "estimate": estimate,
                "se": se,
                "ci_low": estimate - 1.959963984540054 * se,
                "ci_high": estimate + 1.959963984540054 * se,
                "p": p,
            }
        )
    variances = dict(zip(fit.model.exog_vc.names, (float(v) for v in fit.vcomp), strict=True))
    summary = {
        "formula": FORMULA,
        "reference": reference,
        "estimation": "REML (statsmodels MixedLM)",
        "fixed_effects": effects,
        "variance_components": {
            "case": variances.get("case"),
            "reader": variances.get("reader"),
            "residual": float(fit.scale),
        },
        "n_ratings": len(data),
        "converged": converged,
    }
    contrasts = {}
    for a, b in itertools.combinations(methods, 2):
        estimate, _se, p = contrast(a, b)
        contrasts[(a, b)] = (estimate, p)
    return summary, contrasts, None
