"""How well a map finds a structure drawn in a binary mask.

- pointing game: the map's first maximum (lowest flat index) lies inside the mask dilated by a
  tolerance (Euclidean distance ≤ tolerance pixels; default half a patch in image pixels);
- energy pointing game: the share of the map's mass inside the mask (0 for a map with no mass);
- Jaccard top-k: intersection over union of the mask and the k most salient pixels (k = the
  mask's area, ties by ascending flat index, as in deletion);
- Jaccard at thresholds 0.3 / 0.5 / 0.7: the mask against map ≥ t (display maps are in [0, 1]);
- AUROC of the map as a pixel classifier of the mask (ties count one half; undefined when the
  mask covers no or every pixel).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import distance_transform_edt
from scipy.stats import rankdata

from medgrad_desktop.explain.evaluation.deletion import pixel_ranking

JACCARD_THRESHOLDS = (0.3, 0.5, 0.7)


def _check(saliency: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    saliency = np.asarray(saliency, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if saliency.shape != mask.shape:
        raise ValueError(f"The map is {saliency.shape} but the mask is {mask.shape}.")
    return saliency, mask


def default_tolerance(grid_hw: tuple[int, int], image_hw: tuple[int, int]) -> float:
    """Half a patch in pixels of an image of ``image_hw`` seen on a ``grid_hw`` patch grid
    (geometric mean of the two sides' pixels per patch)."""
    return 0.5 * math.sqrt(image_hw[0] * image_hw[1] / (grid_hw[0] * grid_hw[1]))


def pointing_game(saliency: np.ndarray, mask: np.ndarray, tolerance: float = 0.0) -> float:
    """1.0 when the map's first maximum lies within ``tolerance`` pixels of the mask, else 0.0."""
    saliency, mask = _check(saliency, mask)
    if not mask.any():
        raise ValueError("The mask is empty.")
    peak = np.unravel_index(int(np.argmax(saliency)), saliency.shape)
    if mask[peak]:
        return 1.0
    distance = distance_transform_edt(~mask)
    return float(distance[peak] <= tolerance)


def energy_pointing_game(saliency: np.ndarray, mask: np.ndarray) -> float:
    """Share of the (non-negative) map's mass inside the mask."""
    saliency, mask = _check(saliency, mask)
    saliency = np.clip(saliency, 0.0, None)
    total = saliency.sum()
    return float(saliency[mask].sum() / total) if total > 0 else 0.0


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boolean arrays (0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


def jaccard_topk(saliency: np.ndarray, mask: np.ndarray) -> float:
    """Jaccard of the mask and the map's top-k pixels, k = the mask's area."""
    saliency, mask = _check(saliency, mask)
    top = np.zeros(mask.size, dtype=bool)
    top[pixel_ranking(saliency)[: int(mask.sum())]] = True
    return jaccard(top.reshape(mask.shape), mask)


def jaccard_at(saliency: np.ndarray, mask: np.ndarray, threshold: float) -> float:
    """Jaccard of the mask and the pixels where the map is at least ``threshold``."""
    saliency, mask = _check(saliency, mask)
    return jaccard(saliency >= threshold, mask)


def auroc(saliency: np.ndarray, mask: np.ndarray) -> float:
    """Area under the ROC curve of the map scoring mask pixels (Mann–Whitney U / n₊n₋)."""
    saliency, mask = _check(saliency, mask)
    positives = int(mask.sum())
    negatives = mask.size - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(saliency.ravel())  # average ranks for ties
    u = ranks[mask.ravel()].sum() - positives * (positives + 1) / 2
    return float(u / (positives * negatives))


def localisation(
    saliency: np.ndarray, mask: np.ndarray, tolerance: float = 0.0
) -> dict[str, float]:
    """Every localisation score of ``saliency`` against ``mask``, keyed as in metrics.json."""
    scores = {
        "pointing_game": pointing_game(saliency, mask, tolerance),
        "energy_pointing_game": energy_pointing_game(saliency, mask),
        "jaccard_topk": jaccard_topk(saliency, mask),
    }
    for threshold in JACCARD_THRESHOLDS:
        scores[f"jaccard_{threshold}"] = jaccard_at(saliency, mask, threshold)
    scores["auroc"] = auroc(saliency, mask)
    return scores
