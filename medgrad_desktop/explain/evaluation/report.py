"""report.html: one self-contained page (inline SVG figures) with the metric table, the mean
deletion/insertion curves, metric bars with 95 % CIs, the entropy-radius sweep, the sanity
checks and a provenance footer."""

from __future__ import annotations

import html
import io
from pathlib import Path

import numpy as np

from medgrad_desktop.explain.evaluation.aggregate import HIGHER_IS_BETTER, METRICS

TITLES = {
    "gradcam": "Grad-CAM",
    "gradeclip": "Grad-ECLIP",
    "medgrad": "MedGrad-ECLIP",
    "legrad": "LeGrad",
    "random": "random map",
    "centre": "centre prior",
}
METRIC_TITLES = {
    "deletion_auc": "Deletion AUC ↓",
    "insertion_auc": "Insertion AUC ↑",
    "pointing_game": "Pointing game ↑",
    "energy_pointing_game": "Energy pointing game ↑",
    "jaccard_topk": "Jaccard top-k ↑",
    "jaccard_0.3": "Jaccard ≥ 0.3 ↑",
    "jaccard_0.5": "Jaccard ≥ 0.5 ↑",
    "jaccard_0.7": "Jaccard ≥ 0.7 ↑",
    "auroc": "AUROC ↑",
}
STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{margin-bottom:.2em} .notice{color:#8a1c1c;font-weight:600}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
tr.reference td{color:#666;font-style:italic} td.best{font-weight:700}
footer{margin-top:3em;border-top:1px solid #ccc;font-size:12px;color:#555}
figure{margin:1em 0} svg{max-width:100%;height:auto}
"""


def title(name: str) -> str:
    """Human name of a method or reference map."""
    return TITLES.get(name, name)


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _figure(width: float, height: float, columns: int = 1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, columns, squeeze=False)[0]
    return fig, axes


def summary_text(summary: dict, html_break: bool = False) -> str:
    """``mean [ci_low, ci_high]`` to 3 decimals ("–" without data); in HTML the interval
    goes on a second, smaller line."""
    if summary["mean"] is None:
        return "–"
    interval = f"[{summary['ci_low']:.3f}, {summary['ci_high']:.3f}]"
    if html_break:
        return f"{summary['mean']:.3f}<br><small>{interval}</small>"
    return f"{summary['mean']:.3f} {interval}"


def _cell(summary: dict) -> str:
    return summary_text(summary, html_break=True)


def metric_table(metrics: dict) -> str:
    """The methods × metrics table (mean [95 % CI]); the best method per column in bold."""
    names = metrics["methods"] + metrics["reference_maps"]
    best = {}
    for metric in METRICS:
        means = {n: metrics[n][metric]["mean"] for n in metrics["methods"]}
        means = {n: v for n, v in means.items() if v is not None}
        if means:
            pick = max if HIGHER_IS_BETTER[metric] else min
            best[metric] = pick(means, key=means.get)
    head = "".join(f"<th>{html.escape(METRIC_TITLES[m])}</th>" for m in METRICS)
    rows = []
    for name in names:
        kind = ' class="reference"' if name in metrics["reference_maps"] else ""
        cells = "".join(
            f"<td{' class=best' if best.get(m) == name else ''}>{_cell(metrics[name][m])}</td>"
            for m in METRICS
        )
        rows.append(f"<tr{kind}><td>{html.escape(title(name))}</td>{cells}</tr>")
    return f"<table><tr><th>map</th>{head}</tr>{''.join(rows)}</table>"


def curves_figure(metrics: dict) -> str:
    fig, axes = _figure(10, 3.6, 2)
    fractions = metrics["curves_fractions"]
    for ax, kind in zip(axes, ("deletion", "insertion"), strict=True):
        for name, curves in metrics["curves"].items():
            style = "--" if name in metrics["reference_maps"] else "-"
            ax.plot(fractions, curves[kind], style, label=title(name))
        ax.set_xlabel(f"fraction of pixels {'removed' if kind == 'deletion' else 'restored'}")
        ax.set_ylabel("cosine similarity to the prompt")
        ax.set_title(f"{kind.capitalize()} (baseline: {metrics['baseline']})")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    return _svg(fig)


def _with_errors(summaries) -> tuple[np.ndarray, np.ndarray]:
    """Means and (2, n) error-bar lengths from ``{mean, ci_low, ci_high}`` (None → NaN)."""

    def column(key):
        return np.array([np.nan if s[key] is None else s[key] for s in summaries], dtype=float)

    means = column("mean")
    return means, np.nan_to_num(np.vstack([means - column("ci_low"), column("ci_high") - means]))


def _bars(ax, labels, summaries, colours=None) -> None:
    means, errors = _with_errors(summaries)
    ax.bar(range(len(labels)), np.nan_to_num(means), yerr=errors, capsize=3, color=colours)
    ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right", fontsize=8)


def bars_figure(metrics: dict) -> str:
    names = metrics["methods"] + metrics["reference_maps"]
    shown = ("deletion_auc", "insertion_auc", "pointing_game", "energy_pointing_game")
    shown += ("jaccard_topk", "auroc")
    fig, axes = _figure(12, 3.2, len(shown))
    colours = ["#3b6fb6" if n in metrics["methods"] else "#aaaaaa" for n in names]
    for ax, metric in zip(axes, shown, strict=True):
        _bars(ax, [title(n) for n in names], [metrics[n][metric] for n in names], colours)
        ax.set_title(METRIC_TITLES[metric], fontsize=9)
    return _svg(fig)


def sweep_figure(metrics: dict) -> str:
    sweep = metrics["radius_sweep"]
    if len(sweep) < 2:
        return (
            "<p>One radius was evaluated; pass several (e.g. <code>--radius 5,2,10</code>) "
            "to see how MedGrad-ECLIP depends on the entropy window.</p>"
        )
    radii = sorted(sweep, key=float)
    shown = ("deletion_auc", "insertion_auc", "pointing_game", "jaccard_topk", "auroc")
    fig, axes = _figure(12, 3, len(shown))
    x = [float(r) for r in radii]
    for ax, metric in zip(axes, shown, strict=True):
        means, errors = _with_errors([sweep[r][metric] for r in radii])
        ax.errorbar(x, means, yerr=errors, marker="o", capsize=3)
        ax.set_title(METRIC_TITLES[metric], fontsize=9)
        ax.grid(alpha=0.3)
    fig.supxlabel("entropy radius (pixels of the model input)", fontsize=9)
    return _svg(fig)


def sanity_figure(metrics: dict) -> str:
    sanity = metrics["sanity"]
    if not sanity["stages"]:
        return "<p>No image was available for the randomisation check.</p>"
    fig, axes = _figure(11, 3.6, 2)
    stages = ["trained"] + sanity["stages"]
    for ax, measure in zip(axes, ("spearman", "ssim"), strict=True):
        for method in metrics["methods"]:
            values = [1.0] + [s["mean"] for s in sanity[method][measure]]
            ax.plot(range(len(stages)), values, marker="o", label=title(method))
        ax.set_xticks(range(len(stages)), stages, rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("Spearman ρ" if measure == "spearman" else "SSIM")
        ax.set_title(f"{'Spearman ρ' if measure == 'spearman' else 'SSIM'} to the trained map")
        ax.axhline(0, color="#999", lw=0.5)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    return _svg(fig)


def _specificity_table(metrics: dict) -> str:
    spec = metrics["prompt_specificity"]
    rows = "".join(
        f"<tr><td>{title(m)}</td><td>{_cell(spec[m]['spearman'])}</td>"
        f"<td>{_cell(spec[m]['ssim'])}</td></tr>"
        for m in metrics["methods"]
    )
    return (
        f"<p>Maps for each true prompt against maps for the unrelated prompt "
        f"“{html.escape(spec['unrelated_prompt'])}” on the same image (lower = more specific "
        f"to the text).</p><table><tr><th>method</th><th>Spearman ρ</th><th>SSIM</th></tr>"
        f"{rows}</table>"
    )


def _differences_table(metrics: dict) -> str:
    shown = ("deletion_auc", "insertion_auc", "pointing_game", "jaccard_topk", "auroc")
    head = "".join(f"<th>{html.escape(METRIC_TITLES[m])}</th>" for m in shown)
    rows = "".join(
        f"<tr><td>{' − '.join(title(p) for p in pair.split(' - '))}</td>"
        + "".join(f"<td>{_cell(diffs[m])}</td>" for m in shown)
        + "</tr>"
        for pair, diffs in metrics["paired_differences"].items()
    )
    return f"<table><tr><th>difference (paired by image)</th>{head}</tr>{rows}</table>"


def _footer(metrics: dict) -> str:
    prov = metrics["provenance"]
    settings = prov["settings"]
    items = {
        "model": prov["model"],
        "model source": prov["model_source"],
        "model id": metrics["model_id"],
        "data": f"{prov['data']} — {metrics['n_images']} images, {metrics['n_masks']} masks, "
        f"{metrics['empty_masks_skipped']} empty masks skipped, "
        f"{metrics['images_failed']} unreadable images",
        "attribute → prompt": "; ".join(
            f"{a} → “{p}”" for a, p in prov["attribute_prompts"].items()
        ),
        "settings": ", ".join(f"{k}={v}" for k, v in settings.items()),
        "created": prov["created_utc"],
        "software": f"MedGrad Desktop {prov['medgrad_desktop']}, Python {prov['python']}",
        "time": f"{prov['seconds_per_image']:.2f} s per image",
    }
    if "command" in prov:
        items["command"] = prov["command"]
    lines = "".join(
        f"<div><b>{html.escape(k)}:</b> {html.escape(str(v))}</div>" for k, v in items.items()
    )
    return f"<footer>{lines}<p class=notice>{html.escape(prov['notice'])}</p></footer>"


def render_report(metrics: dict) -> str:
    """The report page as an HTML string."""
    notice = html.escape(metrics["provenance"]["notice"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Map quality report</title>
<style>{STYLE}</style></head><body>
<h1>Which map is right? Map quality report</h1>
<p class=notice>{notice}</p>
<p>{metrics["n_images"]} images, {metrics["n_masks"]} ground-truth masks · variant
{html.escape(metrics["variant"])} · geometry {html.escape(metrics["geometry"])} · entropy radius
{metrics["radius"]:g} px · deletion baseline “{html.escape(metrics["baseline"])}”,
{metrics["steps"]} steps · 95 % bootstrap confidence intervals over images. Grey/italic rows
are reference maps: a method should beat them.</p>
<h2>Scores</h2>{metric_table(metrics)}
<h2>Deletion and insertion curves</h2><figure>{curves_figure(metrics)}</figure>
<h2>Metrics with 95 % confidence intervals</h2><figure>{bars_figure(metrics)}</figure>
<h2>Paired differences</h2>{_differences_table(metrics)}
<h2>Entropy-radius sweep (MedGrad-ECLIP)</h2><figure>{sweep_figure(metrics)}</figure>
<h2>Sanity checks</h2>
<p>Cascading randomisation of the vision tower from the top, on {metrics["sanity"]["n_images"]}
images: a map that explains the model should change (ρ and SSIM fall) as the weights are
destroyed.</p><figure>{sanity_figure(metrics)}</figure>
{_specificity_table(metrics)}
{_footer(metrics)}
</body></html>
"""


def write_report(metrics: dict, path: str | Path) -> Path:
    """Write report.html."""
    path = Path(path)
    path.write_text(render_report(metrics), encoding="utf-8")
    return path
