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

METHOD_TITLES = {"gradcam": "Grad-CAM", "gradeclip": "Grad-ECLIP", "medgrad": "MedGrad-ECLIP"}
_SCORE_COLOURS = ["#b2182b", "#ef8a62", "#e0e0e0", "#67a9cf", "#2166ac"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:980px;
margin:2em auto;color:#1f2933;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}
h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #d9e2ec}
.notice{color:#8d2b0b;background:#fff4e5;padding:.4em .8em;border-radius:4px;display:inline-block}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #d9e2ec;padding:.3em .7em;text-align:left}th{background:#f0f4f8}
td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;border:1px solid #d9e2ec;border-radius:4px;margin:.5em 0}
.muted{color:#627d98;font-size:.9em}
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
        low, high = stats["ci95"]
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


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value != 0 else f"{value:.{digits}f}"
    return html.escape(str(value))


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_fmt(c)}</td>'
            if isinstance(c, (int, float)) and c is not None and not isinstance(c, bool)
            else f"<td>{_fmt(c)}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(png: str | None, alt: str) -> str:
    if png is None:
        return f'<p class="muted">{html.escape(alt)}: needs two or more readers.</p>'
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'


def render_html(ratings: Sequence[dict[str, Any]], report: dict[str, Any]) -> str:
    """The whole report page as one HTML string (no external files)."""
    notes = report["notes"]
    title = f"Reader study report — {', '.join(report['study'])}"
    summary = _table(
        ["readers", "cases", "methods", "ratings", "rated items"],
        [
            [
                len(report["readers"]),
                len(report["cases"]),
                ", ".join(report["methods"]),
                report["n_ratings"],
                report["n_units"],
            ]
        ],
    )
    agreement = _table(
        ["measure", "value", "note"],
        [
            [
                "Krippendorff's α (ordinal)",
                report["krippendorff_alpha_ordinal"],
                notes.get("krippendorff_alpha_ordinal", ""),
            ],
            [
                "Fleiss' κ",
                report["fleiss_kappa"],
                notes.get("fleiss_kappa", f"{report['fleiss_kappa_units']} items rated by all"),
            ],
        ],
    )
    pairs = _table(
        ["reader 1", "reader 2", "κ (quadratic)", "n", "note"],
        [
            [*p["readers"], p["kappa"], p["n"], p.get("reason", "")]
            for p in report["cohen_kappa_weighted"]["pairs"]
        ],
    )
    per_method = _table(
        ["method", "mean", "95% CI", "n ratings", "n cases"],
        [
            [
                METHOD_TITLES.get(m, m),
                s["mean"],
                "—" if s["ci95"] is None else f"{s['ci95'][0]:.2f} – {s['ci95'][1]:.2f}",
                s["n"],
                s["n_cases"],
            ]
            for m, s in report["per_method"].items()
        ],
    )
    fried = report["friedman"]
    friedman = _table(
        ["χ²", "p", "blocks", "note"],
        [[fried["statistic"], fried["p"], fried["n_blocks"], fried.get("reason", "")]],
    )
    wilcoxon = _table(
        ["methods", "W", "p", "p (Holm)", "n", "note"],
        [
            [
                " vs ".join(METHOD_TITLES.get(m, m) for m in w["methods"]),
                w["statistic"],
                w["p"],
                w["p_holm"],
                w["n"],
                w.get("reason", ""),
            ]
            for w in report["wilcoxon"]["pairs"]
        ],
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="notice">{html.escape(RESEARCH_NOTICE)}</p>
<h2>Summary</h2>{summary}
<p class="muted">Readers: {html.escape(", ".join(report["readers"]))}</p>
<h2>Ratings per method</h2>{_img(distribution_plot(ratings, report), "Rating distributions")}
{per_method}
<p class="muted">95% CI: percentile bootstrap over cases, {report["bootstrap"]["resamples"]}
resamples, seed {report["bootstrap"]["seed"]}.</p>
<h2>Agreement between readers</h2>{agreement}
{_img(agreement_plot(report), "Pairwise agreement")}
{pairs}
<h2>Method comparison</h2>
<p>Friedman test across methods (blocks: reader × case × prompt)</p>{friedman}
<p>Paired Wilcoxon signed-rank tests, Holm-adjusted</p>{wilcoxon}
</body></html>
"""
