"""The study statistics against independent references written from the published tools'
formulas (irrCAC for AC2, pingouin / McGraw & Wong for ICC, balanced-ANOVA identities for
statsmodels' REML mixed model), an explicit two-way cluster bootstrap, and a coverage
simulation of the bootstrap CIs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from medgrad_desktop.review.agreement import icc_2_1
from medgrad_desktop.review.cluster_bootstrap import percentile_interval
from medgrad_desktop.review.gwet import gwet_ac2
from medgrad_desktop.review.method_stats import friedman, method_differences, per_method
from medgrad_desktop.review.mixed_model import fit_mixed_model

CATEGORIES = [1, 2, 3, 4, 5]


def _irrcac_gwet_quadratic(ratings: pd.DataFrame) -> dict:
    """irrCAC 0.4.4 ``CAC(ratings, weights="quadratic", categories=1..5).gwet()`` transcribed
    from its source (raw.py, weights.py), unrounded: subjects × raters, NaN = not rated."""
    ratings = ratings.dropna(how="all")
    n, q = ratings.shape[0], len(CATEGORIES)
    weights = np.eye(q)
    for k in range(q):
        for el in range(q):
            weights[k][el] = 1 - pow(CATEGORIES[k] - CATEGORIES[el], 2) / pow(4, 2)
    agree_mat = np.zeros(shape=(n, q))
    for k in range(q):
        agree_mat[:, k] = ratings[ratings == CATEGORIES[k]].count(axis=1)
    agree_mat_w = np.transpose(np.matmul(weights, agree_mat.T))
    ri_vec = agree_mat.sum(axis=1)
    sum_q = (agree_mat * (agree_mat_w - 1)).sum(axis=1)
    n2more = sum(ri_vec >= 2)
    pa = sum(sum_q[ri_vec >= 2] / (ri_vec * (ri_vec - 1))[ri_vec >= 2]) / n2more
    pi_vec = (
        np.repeat(1 / n, n).reshape(n, 1) * (agree_mat / np.repeat(ri_vec, q).reshape(n, q))
    ).T.sum(axis=1)
    weights_mat_sum = np.sum(np.sum(weights))
    pe = weights_mat_sum * sum(pi_vec * (1 - pi_vec)) / (q * (q - 1))
    ac1 = (pa - pe) / (1 - pe)
    den_ivec = ri_vec * (ri_vec - 1)
    den_ivec = den_ivec - (den_ivec == 0)
    pa_ivec = sum_q / den_ivec
    pe_r2 = pe * (ri_vec >= 2)
    ac1_ivec = (n / n2more) * (pa_ivec - pe_r2) / (1 - pe)
    pe_ivec = (weights_mat_sum / (q * (q - 1))) * np.matmul(agree_mat, (1 - pi_vec)) / ri_vec
    ac1_ivec_x = ac1_ivec - 2 * (1 - ac1) * (pe_ivec - pe) / (1 - pe)
    var_ac1 = 1 / (n * (n - 1)) * sum((ac1_ivec_x - ac1) ** 2)
    stderr = np.sqrt(var_ac1)
    lcb, ucb = stats.t.interval(0.95, df=n - 1, scale=stderr, loc=ac1)
    return {"value": ac1, "se": stderr, "ci_low": lcb, "ci_high": min(1, ucb), "n_units": n}


def _scores(readers: int, units: int, seed: int, missing: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, size=units)
    noise = rng.integers(-1, 2, size=(readers, units)) * (rng.random((readers, units)) < 0.5)
    matrix = np.clip(truth + noise, 1, 5).astype(float)
    matrix[rng.random(matrix.shape) < missing] = np.nan
    return matrix


@pytest.mark.parametrize(
    ("readers", "units", "missing"), [(3, 40, 0.0), (5, 60, 0.15), (2, 9, 0.0)]
)
def test_gwet_ac2_equals_irrcac(readers, units, missing):
    matrix = _scores(readers, units, seed=readers * units, missing=missing)
    ours, reason = gwet_ac2(matrix, CATEGORIES)
    assert reason is None
    reference = _irrcac_gwet_quadratic(pd.DataFrame(matrix.T))
    assert ours == pytest.approx(reference, rel=1e-12, abs=1e-12)
    assert 0 < ours["se"] < 0.5 and ours["ci_low"] < ours["value"] <= ours["ci_high"] <= 1


def _icc_a1_reference(matrix: np.ndarray) -> tuple[float, float, float]:
    """ICC(A,1) and its 95 % CI from the two-way ANOVA mean squares (McGraw & Wong 1996,
    case 2A, as in pingouin's reliability.py), targets = columns, raters = rows."""
    k, n = matrix.shape
    grand = matrix.mean()
    ss_rows = n * ((matrix.mean(axis=1) - grand) ** 2).sum()  # raters
    ss_cols = k * ((matrix.mean(axis=0) - grand) ** 2).sum()  # targets
    ss_err = ((matrix - grand) ** 2).sum() - ss_rows - ss_cols
    msb, msj = ss_cols / (n - 1), ss_rows / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    icc = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    fj = msj / mse
    vn = (n - 1) * (k - 1) * (k * icc * fj + n * (1 + (k - 1) * icc) - k * icc) ** 2
    vd = (n - 1) * k**2 * icc**2 * fj**2 + (n * (1 + (k - 1) * icc) - k * icc) ** 2
    v = vn / vd
    f_up, f_low = stats.f.ppf(0.975, n - 1, v), stats.f.ppf(0.975, v, n - 1)
    low = n * (msb - f_up * mse) / (f_up * (k * msj + (k * n - k - n) * mse) + n * msb)
    high = n * (f_low * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f_low * msb)
    return icc, low, high


def test_icc_2_1_equals_the_mcgraw_wong_reference():
    matrix = _scores(4, 30, seed=11)
    matrix[2] = np.clip(matrix[2] + 1, 1, 5)  # a lenient reader: absolute agreement drops
    ours, reason = icc_2_1(matrix)
    assert reason is None
    value, low, high = _icc_a1_reference(matrix)
    assert ours["value"] == pytest.approx(value, rel=1e-12)
    # pingouin reports the CI to two decimals
    assert (ours["ci_low"], ours["ci_high"]) == pytest.approx(np.round([low, high], 2))
    assert ours["ci_decimals"] == 2
    assert ours["n_units"] == 30
    with_gap = matrix.copy()
    with_gap[0, 5] = np.nan  # units not rated by everyone are left out
    assert icc_2_1(with_gap)[0]["value"] == pytest.approx(
        _icc_a1_reference(np.delete(matrix, 5, axis=1))[0]
    )


def _balanced_ratings(cases=10, readers=4, seed=3):
    rng = np.random.default_rng(seed)
    effect = {"gradcam": 0.0, "gradeclip": 0.5, "medgrad": 1.2}
    case_effect, reader_effect = rng.normal(0, 1.0, cases), rng.normal(0, 0.6, readers)
    return [
        {
            "case": f"c{c:02d}",
            "reader": f"r{r}",
            "prompt": "p",
            "method": m,
            "score": float(3 + effect[m] + case_effect[c] + reader_effect[r] + rng.normal(0, 0.5)),
        }
        for c in range(cases)
        for r in range(readers)
        for m in effect
    ]


def test_mixed_model_equals_balanced_anova_identities():
    ratings = _balanced_ratings()
    methods = ["gradcam", "gradeclip", "medgrad"]
    summary, contrasts, reason = fit_mixed_model(ratings, methods)
    assert reason is None and summary["converged"]
    frame = pd.DataFrame(ratings)
    n_c, n_r, n_m = 10, 4, 3
    grand = frame.score.mean()
    ss = {f: n * ((frame.groupby(f).score.mean() - grand) ** 2).sum() for f, n in
          (("case", n_r * n_m), ("reader", n_c * n_m), ("method", n_c * n_r))}  # fmt: skip
    ss_res = ((frame.score - grand) ** 2).sum() - sum(ss.values())
    ms_res = ss_res / (len(frame) - 1 - (n_c - 1) - (n_r - 1) - (n_m - 1))
    ms_case, ms_reader = ss["case"] / (n_c - 1), ss["reader"] / (n_r - 1)
    vc = summary["variance_components"]
    assert vc["residual"] == pytest.approx(ms_res, rel=1e-4)
    assert vc["case"] == pytest.approx((ms_case - ms_res) / (n_r * n_m), rel=1e-3)
    assert vc["reader"] == pytest.approx((ms_reader - ms_res) / (n_c * n_m), rel=1e-3)
    means = frame.groupby("method").score.mean()
    se = np.sqrt(2 * ms_res / (n_c * n_r))
    for a, b in (("gradcam", "gradeclip"), ("gradcam", "medgrad"), ("gradeclip", "medgrad")):
        estimate, p = contrasts[(a, b)]
        assert estimate == pytest.approx(means[a] - means[b], abs=1e-8)
        assert p == pytest.approx(2 * stats.norm.sf(abs(means[a] - means[b]) / se), rel=1e-3)
    (effect,) = [e for e in summary["fixed_effects"] if e["term"] == "medgrad − gradcam"]
    assert effect["se"] == pytest.approx(se, rel=1e-4)


def test_cluster_bootstrap_equals_explicit_resampling():
    ratings = _balanced_ratings(cases=6, readers=3, seed=8)
    ratings = [r for r in ratings if not (r["case"] == "c01" and r["reader"] == "r2")]  # a gap
    rows = [r for r in ratings if r["method"] == "medgrad"]
    ours = per_method(ratings, ["medgrad"], resamples=300)["medgrad"]
    cases, readers = sorted({r["case"] for r in rows}), sorted({r["reader"] for r in rows})
    rng = np.random.default_rng(20240607)
    case_draws = rng.integers(0, len(cases), size=(300, len(cases)))
    reader_draws = rng.integers(0, len(readers), size=(300, len(readers)))
    means = []
    for drawn_cases, drawn_readers in zip(case_draws, reader_draws, strict=True):
        values = [
            r["score"]
            for c in drawn_cases
            for d in drawn_readers
            for r in rows
            if r["case"] == cases[c] and r["reader"] == readers[d]
        ]
        if values:
            means.append(np.mean(values))
    assert ours["mean"] == pytest.approx(np.mean([r["score"] for r in rows]))
    assert (ours["ci_low"], ours["ci_high"]) == pytest.approx(
        tuple(np.percentile(means, [2.5, 97.5]))
    )


def test_friedman_blocks_are_cases_and_differences_are_paired():
    ratings = _balanced_ratings(cases=8, readers=3, seed=5)
    for r in ratings:
        r["score"] = int(np.clip(round(r["score"]), 1, 5))
    methods = ["gradcam", "gradeclip", "medgrad"]
    frame = pd.DataFrame(ratings)
    per_case = frame.groupby(["case", "method"]).score.mean().unstack()
    expected = stats.friedmanchisquare(*(per_case[m] for m in methods))
    found = friedman(ratings, methods)
    assert found["n_blocks"] == 8  # not 8 cases × 3 readers
    assert (found["statistic"], found["p"]) == pytest.approx(tuple(expected))
    _summary, contrasts, _reason = fit_mixed_model(ratings, methods)
    rows = method_differences(ratings, methods, contrasts, resamples=200)
    assert [sorted(r) for r in rows] == [
        sorted(["a", "b", "difference", "ci_low", "ci_high", "p"])
    ] * 3
    wide = frame.pivot_table(index=["reader", "case"], columns="method", values="score")
    assert rows[1]["difference"] == pytest.approx((wide["gradcam"] - wide["medgrad"]).mean())
    raw = sorted(contrasts[(r["a"], r["b"])][1] for r in rows)
    assert min(r["p"] for r in rows) == pytest.approx(min(1.0, 3 * raw[0]))  # Holm


@pytest.mark.slow
def test_cluster_bootstrap_covers_the_true_difference_at_the_nominal_rate():
    """Crossed random effects on the paired difference (case × method and reader × method
    interactions plus noise): the two-way bootstrap's 95 % CI should hold the true
    difference about 95 % of the time, where an i.i.d. bootstrap undercovers."""
    rng = np.random.default_rng(2026)
    simulations, n_cases, n_readers, delta = 200, 20, 5, 0.4
    two_way = naive = 0
    for s in range(simulations):
        by_case, by_reader = rng.normal(0, 0.3, n_cases), rng.normal(0, 0.2, n_readers)
        cases = [f"c{c}" for c in range(n_cases) for _ in range(n_readers)]
        readers = [f"r{r}" for _ in range(n_cases) for r in range(n_readers)]
        values = [
            delta + by_case[c] + by_reader[r] + rng.normal(0, 0.6)
            for c in range(n_cases)
            for r in range(n_readers)
        ]
        _mean, low, high = percentile_interval(cases, readers, values, 400, seed=s)
        two_way += low <= delta <= high
        iid = rng.choice(values, size=(400, len(values))).mean(axis=1)
        naive_low, naive_high = np.percentile(iid, [2.5, 97.5])
        naive += naive_low <= delta <= naive_high
    coverage, naive_coverage = two_way / simulations, naive / simulations
    print(f"95% CI coverage: two-way cluster bootstrap {coverage:.3f}, i.i.d. {naive_coverage:.3f}")
    assert 0.91 <= coverage <= 0.99
    assert naive_coverage < 0.85
