"""metrics.json from the per-image records: per-map means with bootstrap CIs over images (an
image's value is the mean over its masks), paired differences, mean curves, the radius sweep,
prompt specificity and the randomisation check."""

from __future__ import annotations

import datetime as dt
import platform
from itertools import combinations

import numpy as np

from medgrad_desktop import RESEARCH_NOTICE, __version__
from medgrad_desktop.explain.evaluation.reference_maps import REFERENCE_MAPS
from medgrad_desktop.explain.evaluation.statistics import bootstrap_mean, paired_difference

METRICS = (
    "deletion_auc",
    "insertion_auc",
    "pointing_game",
    "energy_pointing_game",
    "jaccard_topk",
    "jaccard_0.3",
    "jaccard_0.5",
    "jaccard_0.7",
    "auroc",
)
HIGHER_IS_BETTER = {metric: metric != "deletion_auc" for metric in METRICS}


def _image_mean(cases: list[dict], pick) -> float:
    values = [pick(case) for case in cases]
    values = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def per_image_values(records: list[dict], pick) -> np.ndarray:
    """One value per evaluated image: ``pick(case)`` averaged over the image's masks."""
    return np.array([_image_mean(r["cases"], pick) for r in records if r["cases"]])


def _summaries(records, scores_of, seed) -> dict[str, dict]:
    return {
        metric: bootstrap_mean(
            per_image_values(records, lambda c, m=metric: scores_of(c)[m]), seed=seed
        )
        for metric in METRICS
    }


def _mean_curves(records, name) -> dict[str, list[float]]:
    curves = {}
    for kind in ("deletion", "insertion"):
        per_image = [
            np.mean([c["scores"][name][kind] for c in r["cases"]], axis=0)
            for r in records
            if r["cases"]
        ]
        curves[kind] = np.mean(per_image, axis=0).round(6).tolist()
    return curves


def _sanity_summary(sanity: dict, methods, seed) -> dict:
    runs = sanity.get("images", [])
    if not runs:
        return {"stages": [], "n_images": 0}
    summary: dict = {"stages": runs[0]["stages"], "n_images": len(runs)}
    for method in methods:
        summary[method] = {
            measure: [
                bootstrap_mean([run[method][stage][measure] for run in runs], seed=seed)
                for stage in range(len(summary["stages"]))
            ]
            for measure in ("spearman", "ssim")
        }
    return summary


def summarise(records, settings, sanity, bundle, dataset, provenance) -> dict:
    """The content of metrics.json."""
    evaluated = [r for r in records if r["cases"]]
    names = list(settings.methods) + list(REFERENCE_MAPS)
    seed = settings.seed
    metrics: dict = {
        "n_images": len(evaluated),
        "n_masks": sum(len(r["cases"]) for r in evaluated),
        "model_id": bundle.model_id,
        "variant": settings.variant,
        "geometry": settings.geometry,
        "radius": settings.radius,
        "baseline": settings.baseline,
        "steps": settings.steps,
        "methods": list(settings.methods),
        "reference_maps": list(REFERENCE_MAPS),
        "empty_masks_skipped": sum(len(r.get("empty_masks", [])) for r in records),
        "images_failed": sum(1 for r in records if "error" in r),
    }
    for name in names:
        metrics[name] = _summaries(evaluated, lambda c, n=name: c["scores"][n], seed)
    metrics["paired_differences"] = {
        f"{a} - {b}": {
            metric: paired_difference(
                per_image_values(evaluated, lambda c, m=metric, x=a: c["scores"][x][m]),
                per_image_values(evaluated, lambda c, m=metric, x=b: c["scores"][x][m]),
                seed=seed,
            )
            for metric in METRICS
        }
        for a, b in combinations(names, 2)
    }
    metrics["curves"] = {name: _mean_curves(evaluated, name) for name in names} if evaluated else {}
    metrics["curves_fractions"] = (np.arange(settings.steps + 1) / settings.steps).tolist()
    sweep = {}
    if "medgrad" in settings.methods and evaluated:
        for radius in settings.radii:
            label = f"{float(radius):g}"
            if float(radius) == settings.radius:
                sweep[label] = metrics["medgrad"]
            else:
                sweep[label] = _summaries(evaluated, lambda c, r=label: c["radius_sweep"][r], seed)
    metrics["radius_sweep"] = sweep
    metrics["prompt_specificity"] = {
        "unrelated_prompt": settings.unrelated_prompt,
        **{
            method: {
                measure: bootstrap_mean(
                    per_image_values(
                        evaluated, lambda c, m=method, s=measure: c["specificity"][m][s]
                    ),
                    seed=seed,
                )
                for measure in ("spearman", "ssim")
            }
            for method in settings.methods
        },
    }
    metrics["sanity"] = _sanity_summary(sanity, settings.methods, seed)
    metrics["provenance"] = {
        "model_source": str(bundle.source),
        "model": bundle.describe(),
        "data": dataset.layout,
        "attribute_prompts": dataset.prompts,
        "settings": settings.as_dict(),
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "medgrad_desktop": __version__,
        "python": platform.python_version(),
        "seconds_per_image": float(
            np.mean([r["seconds"] for r in evaluated if "seconds" in r]) if evaluated else 0.0
        ),
        "notice": RESEARCH_NOTICE,
        **provenance,
    }
    return metrics
