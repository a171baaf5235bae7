"""A self-contained HTML study report: tables plus embedded PNG plots (matplotlib, Agg)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.review.agreement import CATEGORIES
from medgrad_desktop.review.formatting import DASH, interval, number, p_value
from medgrad_desktop.review.schema import METHOD_TITLES

_SCORE_COLOURS = ["#b2182b", "#ef8a62", "#e0e0e0", "#67a9cf", "#2166ac"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:980px;
margin:2em auto;color:#1f2933;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}
h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #d9e2ec}
.notice{color:#8d2b0b;background:#fff4e5;padding:.4em .8em;border-radius:4px;display:inline-block}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #d9e2ec;padding:.3em .7em;text-align:left}th{background:#f0f4f8}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
img{max-width:100%;border:1px solid #d9e2ec;border-radius:4px;margin:.5em 0}
.muted{color:#627d98;font-size:.9em}
.alarm{color:#fff;background:#b00020;padding:.5em .8em;border-radius:4px}
footer{margin-top:2.5em;border-top:1px solid #d9e2ec;font-size:.85em;color:#486581}
footer td:last-child{word-break:break-all;font-family:monospace;font-size:.85em;
min-width:18em}
"""


def _label(text: str, limit: int = 24) -> str:
    """Plot-safe label: shortened, with ``$`` escaped so matplotlib never parses mathtext."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def distribution_plot(ratings: Sequence[dict[str, Any]], report: dict[str, Any]) -> str:
    """Per method: share of each score (stacked bars) and the mean with its bootstrap CI."""
    from matplotlib.figure import Figure

    methods = report["methods"]
    fig = Figure(figsize=(9, 0.9 + 0.7 * len(methods)))
    ax_share, ax_mean = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]}, sharey=True)
    y = np.arange(len(methods))
    left = np.zeros(len(methods))
    for score, colour in zip(CATEGORIES, _SCORE_COLOURS, strict=True):
        share = np.array(
            [
                np.mean([r["score"] == score for r in ratings if r["method"] == m] or [0])
                for m in methods
            ]
        )
        ax_share.barh(y, share, left=left, color=colour, edgecolor="white", label=str(score))
        left += share
    ax_share.set_yticks(y, [METHOD_TITLES.get(m, m) for m in methods])
    ax_share.set_xlim(0, 1)
    ax_share.set_xlabel("share of ratings")
    ax_share.invert_yaxis()
    ax_share.legend(title="score", ncols=5, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    for i, m in enumerate(methods):
        stats = report["per_method"][m]
        if stats["mean"] is None:
            continue
        low, high = stats["ci_low"], stats["ci_high"]
        ax_mean.errorbar(
            stats["mean"],
            i,
            xerr=[[stats["mean"] - low], [high - stats["mean"]]],
            fmt="o",
            color="#243b53",
            capsize=4,
        )
    ax_mean.set_xlim(CATEGORIES[0] - 0.2, CATEGORIES[-1] + 0.2)
    ax_mean.set_xlabel("mean score (95% bootstrap CI)")
    ax_mean.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def agreement_plot(report: dict[str, Any]) -> str | None:
    """Heatmap of quadratic-weighted Cohen's κ between reader pairs (None with < 2 readers)."""
    from matplotlib.figure import Figure

    readers = report["readers"]
    if len(readers) < 2:
        return None
    index = {r: i for i, r in enumerate(readers)}
    kappa = np.eye(len(readers))
    for pair in report["cohen_kappa_weighted"]["pairs"]:
        i, j = (index[r] for r in pair["readers"])
        kappa[i, j] = kappa[j, i] = np.nan if pair["kappa"] is None else pair["kappa"]
    size = 2.2 + 0.6 * len(readers)
    fig = Figure(figsize=(size + 1.2, size))
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(kappa), vmin=-1, vmax=1, cmap="RdBu")
    labels = [_label(r) for r in readers]
    ax.set_xticks(range(len(readers)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(readers)), labels)
    for i in range(len(readers)):
        for j in range(len(readers)):
            text = "n/a" if np.isnan(kappa[i, j]) else f"{kappa[i, j]:.2f}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=9,
                color="white" if abs(np.nan_to_num(kappa[i, j])) > 0.6 else "black",
            )
    ax.set_title("Weighted Cohen's κ (quadratic) between readers")
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    return _png(fig)


class _Cell:
    """A table cell: text, right-aligned when it is a number."""

    def __init__(self, text: str, numeric: bool = False) -> None:
        self.text, self.numeric = text, numeric


def _n(value: Any) -> _Cell:
    return _Cell(number(value), numeric=True)


def _p(value: Any) -> _Cell:
    return _Cell(p_value(value), numeric=True)


def _ci(low: Any, high: Any) -> _Cell:
    return _Cell(interval(low, high), numeric=True)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)

    def cell(value: Any) -> str:
        if isinstance(value, _Cell):
            css = ' class="num"' if value.numeric else ""
            return f"<td{css}>{html.escape(value.text)}</td>"
        return f"<td>{html.escape(DASH if value in (None, '') else str(value))}</td>"

    body = "".join("<tr>" + "".join(cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(png: str | None, alt: str) -> str:
    if png is None:
        return f'<p class="muted">{html.escape(alt)}: needs two or more readers.</p>'
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'


def _title(report: dict[str, Any], method: str) -> str:
    return report["method_titles"].get(method, METHOD_TITLES.get(method, method))


def _agreement_table(report: dict[str, Any]) -> str:
    notes = report["notes"]
    rows = []
    for key, name in (
        ("gwet_ac2_quadratic", "Gwet's AC2 (quadratic weights)"),
        ("icc_2_1", "ICC(2,1), absolute agreement, single rater"),
        ("krippendorff_alpha_ordinal", "Krippendorff's α (ordinal)"),
        ("fleiss_kappa", "Fleiss' κ"),
    ):
        entry = report[key]
        ci = _ci(entry.get("ci_low"), entry.get("ci_high"))
        if entry.get("ci_decimals") and entry.get("ci_low") is not None:  # as precise as given
            digits = entry["ci_decimals"]
            ci = _Cell(f"{entry['ci_low']:.{digits}f} – {entry['ci_high']:.{digits}f}", True)
        rows.append(
            [
                name,
                _n(entry["value"]),
                ci,
                _n(entry.get("se")),
                entry["scale"],
                notes.get(key, ""),
            ]
        )
    return _table(["statistic", "value", "95% CI", "SE", "treats the scale as", "note"], rows)


def _method_tables(report: dict[str, Any]) -> str:
    per_method = _table(
        ["method", "mean score", "95% CI", "wrong region", "95% CI", "ratings", "cases"],
        [
            [
                _title(report, m),
                _n(s["mean"]),
                _ci(s["ci_low"], s["ci_high"]),
                _n(report["wrong_region"][m]["rate"]),
                _ci(report["wrong_region"][m]["ci_low"], report["wrong_region"][m]["ci_high"]),
                _n(s["n"]),
                _n(s["n_cases"]),
            ]
            for m, s in report["per_method"].items()
        ],
    )
    differences = _table(
        ["comparison", "mean difference", "95% CI", "p (Holm)"],
        [
            [
                f"{_title(report, d['a'])} − {_title(report, d['b'])}",
                _n(d["difference"]),
                _ci(d["ci_low"], d["ci_high"]),
                _p(d["p"]),
            ]
            for d in report["method_differences"]
        ],
    )
    model = report["mixed_model"]
    if model is None:
        mixed = f'<p class="muted">{html.escape(report["notes"].get("mixed_model", ""))}</p>'
    else:
        effects = _table(
            ["term", "estimate", "SE", "95% CI", "p"],
            [
                [
                    " − ".join(_title(report, m) for m in e["term"].split(" − ")),
                    _n(e["estimate"]),
                    _n(e["se"]),
                    _ci(e["ci_low"], e["ci_high"]),
                    _p(e["p"]),
                ]
                for e in model["fixed_effects"]
            ],
        )
        vc = model["variance_components"]
        converged = "" if model["converged"] else " The fit reached a boundary (a variance ≈ 0)."
        mixed = (
            f"<p>Linear mixed model <code>{html.escape(model['formula'])}</code>, "
            f"{html.escape(model['estimation'])}. Variance: case {number(vc['case'])}, reader "
            f"{number(vc['reader'])}, residual {number(vc['residual'])}.{converged}</p>{effects}"
        )
    fried = report["friedman"]
    friedman = _table(
        ["χ²", "p", "blocks (cases)", "note"],
        [[_n(fried["statistic"]), _p(fried["p"]), _n(fried["n_blocks"]), fried.get("reason")]],
    )
    return (
        f"{per_method}<p class='muted'>95% CIs: two-way (case × reader) cluster bootstrap, "
        f"{report['bootstrap']['resamples']} resamples, seed {report['bootstrap']['seed']}."
        f"</p><h3>Paired differences</h3>{differences}"
        f"<p class='muted'>{html.escape(report['notes']['method_differences'])}.</p>"
        f"<h3>Mixed model</h3>{mixed}"
        f"<h3>Friedman test on per-case means</h3>{friedman}"
    )


def _descriptive_tables(report: dict[str, Any]) -> str:
    methods = report["methods"]
    titles = [_title(report, m) for m in methods]
    time = report["time_per_rating"]
    timing = (
        f"<p>Time per rating: median {number(time['median_s'])} s (quartiles "
        f"{interval(time['q1_s'], time['q3_s'])} s) over {time['n']} ratings.</p>"
    )
    readers = _table(
        ["reader", "ratings", "cases", *titles, "wrong region", "median s"],
        [
            [
                r["reader"],
                _n(r["n_ratings"]),
                _n(r["n_cases"]),
                *(_n(r["mean_by_method"][m]) for m in methods),
                _n(r["wrong_region_rate"]),
                _n(r["time"]["median_s"]),
            ]
            for r in report["per_reader"]
        ],
    )
    cases = _table(
        ["case", "ratings", "readers", *titles, "wrong region"],
        [
            [
                c["case"],
                _n(c["n_ratings"]),
                _n(c["n_readers"]),
                *(_n(c["mean_by_method"][m]) for m in methods),
                _n(c["wrong_region_rate"]),
            ]
            for c in report["per_case"]
        ],
    )
    return f"{timing}<h3>Per reader (mean score)</h3>{readers}<h3>Per case</h3>{cases}"


def _footer(report: dict[str, Any]) -> str:
    prov = report["provenance"]
    rows = [
        [
            f["file"],
            f["reader"],
            ", ".join(map(str, f["model_ids"])),
            ", ".join(map(str, f["variants"])),
            ", ".join(map(str, f["geometries"])),
            ", ".join(map(str, f["entropy_radii"])),
            f["prompt_mode"],
            f["blinding_seed"],
            f["tamper_checks"],
            _Cell(f["sha256"]),
        ]
        for f in prov["files"]
    ]
    files = _table(
        [
            "session file",
            "reader",
            "model",
            "variant",
            "geometry",
            "entropy radius",
            "prompt mode",
            "blinding seed",
            "tamper checks",
            "SHA-256",
        ],
        rows,
    )
    return (
        f"<footer><p>{html.escape(prov['app'])} {html.escape(prov['app_version'])} · "
        f"report made {html.escape(prov['generated_at'])}</p>{files}</footer>"
    )


def render_html(ratings: Sequence[dict[str, Any]], report: dict[str, Any]) -> str:
    """The whole report page as one HTML string (no external files)."""
    title = f"Reader study report — {', '.join(report['study'])}"
    alarm = ""
    if report["tamper_warning"]:
        alarm = (
            '<p class="alarm">These session files failed the tamper checks (changed outside '
            f"MedGrad Desktop): {html.escape(', '.join(report['tamper_warning']))}. Their "
            "ratings are included below; see the footer.</p>"
        )
    summary = _table(
        ["readers", "cases", "methods", "ratings", "rated items"],
        [
            [
                _n(len(report["readers"])),
                _n(len(report["cases"])),
                ", ".join(_title(report, m) for m in report["methods"]),
                _n(report["n_ratings"]),
                _n(report["n_units"]),
            ]
        ],
    )
    pairs = _table(
        ["reader 1", "reader 2", "κ (quadratic)", "items", "note"],
        [
            [*p["readers"], _n(p["kappa"]), _n(p["n"]), p.get("reason", "")]
            for p in report["cohen_kappa_weighted"]["pairs"]
        ],
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="notice">{html.escape(RESEARCH_NOTICE)}</p>{alarm}
<h2>Summary</h2>{summary}
<p class="muted">Readers: {html.escape(", ".join(report["readers"]))}.
{html.escape(report["unit"])}.</p>
<h2>Ratings per method</h2>{_img(distribution_plot(ratings, report), "Rating distributions")}
{_method_tables(report)}
<h2>Agreement between readers</h2>{_agreement_table(report)}
<p class="muted">AC2 standard error and CI as irrCAC computes them (t with n − 1 df); ICC CI
from the F distribution (McGraw &amp; Wong 1996, pingouin); α CI from resampling cases.</p>
{_img(agreement_plot(report), "Pairwise agreement")}
{pairs}
<h2>Time and tables</h2>{_descriptive_tables(report)}
{_footer(report)}
</body></html>
"""
