"""``explain`` and ``explain_many``: similarities, probabilities and the attribution maps of
images against K prompts, with a shared trunk and one batched backward per batch
(``explain.batch_evidence``), rendered at each image's own resolution."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medgrad_desktop.explain.batch_evidence import compute_evidence, evidence_for_images
from medgrad_desktop.explain.bundle import ImageInput, ModelBundle
from medgrad_desktop.explain.display import display_maps, medgrad_display_maps
from medgrad_desktop.explain.entropy import entropy_weight
from medgrad_desktop.explain.evidence import Evidence
from medgrad_desktop.explain.images import as_rgb_array, load_image
from medgrad_desktop.explain.method_names import METHOD_TITLES, METHODS, check_methods
from medgrad_desktop.explain.methods import get_method

__all__ = [
    "METHODS",
    "METHOD_TITLES",
    "Evidence",
    "ExplainResult",
    "check_methods",
    "compute_evidence",
    "explain",
    "explain_many",
    "render_maps",
]


@dataclass
class ExplainResult:
    """Similarities, probabilities, raw patch maps and display maps for K prompts, with the
    variant and geometry they were computed with."""

    prompts: list[str]
    similarity: np.ndarray
    probability: np.ndarray
    patch_maps: dict[str, np.ndarray]
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    entropy_radius: float = 5
    variant: str = "model"
    geometry: str = "square"


def render_maps(
    evidence: Evidence,
    image: np.ndarray,
    model_side: int,
    entropy_radius: float = 5,
    weight: np.ndarray | None = None,
    exact_entropy: bool = False,
) -> dict[str, np.ndarray]:
    """Display maps (K, H, W) in [0, 1] at the image's resolution for every method in
    ``evidence``; a method with the entropy pixel weight uses ``weight`` or computes it
    (on the ≤320 px work copy, or at full resolution when ``exact_entropy``)."""
    height, width = image.shape[:2]
    maps = {}
    for method, patch in evidence.patch_maps.items():
        if get_method(method).pixel_weight == "entropy":
            if weight is None:
                weight = entropy_weight(image, entropy_radius, model_side, exact=exact_entropy)
            maps[method] = medgrad_display_maps(patch, weight)
        else:
            maps[method] = display_maps(patch, height, width)
    return maps


def _rgb(image: ImageInput | str | Path) -> np.ndarray:
    return load_image(image) if isinstance(image, (str, Path)) else as_rgb_array(image)


def explain_many(
    bundle: ModelBundle,
    images: Sequence[ImageInput | str | Path],
    prompts: Sequence[str | Sequence[str]],
    batch_size: int = 8,
    methods: Sequence[str] | None = None,
    entropy_radius: float = 5,
    variant: str = "model",
    geometry: str = "square",
    precision: str = "auto",
    exact_entropy: bool = False,
) -> list[ExplainResult]:
    """``explain`` for each of ``images`` (arrays, PIL images or paths), computed in batches of
    images of one input shape; equal to calling ``explain`` one image at a time."""
    rgbs = [_rgb(image) for image in images]
    evidences = evidence_for_images(
        bundle,
        rgbs,
        bundle.encode_prompts(prompts),
        methods,
        variant,
        geometry,
        precision,
        batch_size,
    )
    labels = [p if isinstance(p, str) else " / ".join(p) for p in prompts]
    return [
        ExplainResult(
            prompts=list(labels),
            similarity=evidence.similarity,
            probability=evidence.probability,
            patch_maps=evidence.patch_maps,
            maps=render_maps(
                evidence, rgb, bundle.image_size, entropy_radius, exact_entropy=exact_entropy
            ),
            entropy_radius=entropy_radius,
            variant=variant,
            geometry=geometry,
        )
        for rgb, evidence in zip(rgbs, evidences, strict=True)
    ]


def explain(
    bundle: ModelBundle,
    image: ImageInput | str | Path,
    prompts: Sequence[str | Sequence[str]],
    methods: Sequence[str] | None = None,
    entropy_radius: float = 5,
    variant: str = "model",
    geometry: str = "square",
    precision: str = "auto",
    exact_entropy: bool = False,
) -> ExplainResult:
    """Explain ``image`` (array, PIL image or path) against ``prompts`` with the chosen methods
    (default: Grad-CAM, Grad-ECLIP, MedGrad-ECLIP). A prompt is a text, or a sequence of
    synonyms whose embeddings are averaged. ``variant``: "model" | "zhao2024";
    ``geometry``: "square" | "aspect" | "native" (see DESIGN.md, "The science")."""
    (result,) = explain_many(
        bundle,
        [image],
        prompts,
        batch_size=1,
        methods=methods,
        entropy_radius=entropy_radius,
        variant=variant,
        geometry=geometry,
        precision=precision,
        exact_entropy=exact_entropy,
    )
    return result
