"""The maps under evaluation for one image: the chosen methods' display maps for K prompts,
MedGrad at every radius of the sweep, and the patch grid they live on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from medgrad_desktop.explain.display import medgrad_display_maps
from medgrad_desktop.explain.entropy import entropy_weight


@dataclass
class ImageMaps:
    """Display maps (K, H, W) per method, MedGrad's per radius, and the similarities."""

    maps: dict[str, np.ndarray]
    medgrad_by_radius: dict[float, np.ndarray]
    similarity: np.ndarray
    grid_hw: tuple[int, int]


def compute_maps(
    bundle,
    image: np.ndarray,
    prompts: Sequence[str],
    methods: Sequence[str],
    radii: Sequence[float],
    *,
    variant: str = "model",
    geometry: str = "square",
) -> ImageMaps:
    """Explain ``image`` for ``prompts`` once; MedGrad is re-weighted for each radius in
    ``radii`` (the first is the main one) without running the model again."""
    from medgrad_desktop.explain import explain

    result = explain(
        bundle,
        image,
        list(prompts),
        methods=tuple(methods),
        entropy_radius=radii[0],
        variant=variant,
        geometry=geometry,
    )
    by_radius: dict[float, np.ndarray] = {}
    if "medgrad" in result.maps:
        by_radius[float(radii[0])] = result.maps["medgrad"]
        for radius in radii[1:]:
            weight = entropy_weight(image, radius, bundle.image_size)
            by_radius[float(radius)] = medgrad_display_maps(result.patch_maps["medgrad"], weight)
    grid_hw = next(iter(result.patch_maps.values())).shape[1:]
    return ImageMaps(dict(result.maps), by_radius, result.similarity, tuple(grid_hw))
