"""Grad-CAM, Grad-ECLIP and MedGrad-ECLIP for one image and K prompts, with a shared trunk.

The vision trunk runs once without gradients up to the last layer; the gradients of all K
prompt similarities then come from vector–Jacobian products through the last layer only,
vectorised over the K text embeddings (``torch.func.vjp`` + ``vmap``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.func import vjp, vmap

from medgrad_desktop.errors import PromptSetError
from medgrad_desktop.explain.bundle import ImageInput, ModelBundle
from medgrad_desktop.explain.display import display_maps, medgrad_display_maps
from medgrad_desktop.explain.entropy import entropy_weight
from medgrad_desktop.explain.evidence import Evidence
from medgrad_desktop.explain.finite import require_finite
from medgrad_desktop.explain.images import as_rgb_array, load_image
from medgrad_desktop.explain.last_layer import LastVisionLayer, vision_trunk
from medgrad_desktop.explain.method_names import (  # noqa: F401 (re-exported names)
    METHOD_TITLES,
    METHODS,
    check_methods,
)
from medgrad_desktop.explain.zero_shot import class_probabilities


@dataclass
class ExplainResult:
    """Similarities, probabilities, raw patch maps and display maps for K prompts."""

    prompts: list[str]
    similarity: np.ndarray
    probability: np.ndarray
    patch_maps: dict[str, np.ndarray]
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    entropy_radius: float = 5


def _relu_scores(tokens: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """ReLU(Σ_c w_kc · tokens_ic) for all k: (N, C) × (K, C) → (K, N)."""
    return torch.relu(weights @ tokens.T)


def compute_evidence(
    bundle: ModelBundle,
    image: ImageInput,
    text_embeddings: torch.Tensor,
    methods: Sequence[str] = METHODS,
) -> Evidence:
    """Run the model once for ``image`` against K normalised text embeddings (K, D)."""
    methods = check_methods(methods)
    if text_embeddings.ndim != 2 or text_embeddings.shape[0] == 0:
        raise PromptSetError("There are no prompts to compare the image with.")
    model = bundle.model
    texts = text_embeddings.to(bundle.device, torch.float32)
    pixels = bundle.preprocess(image)
    layer = LastVisionLayer(model)
    x = vision_trunk(model, pixels)[0].float()
    grid = bundle.grid_side
    patch_maps: dict[str, np.ndarray] = {}

    with torch.no_grad():
        q, k, v = layer.qkv(x)
        o = layer.attend(q, k, v)
    o_cls = o[0].detach()
    embedding, pull_back = vjp(lambda oc: layer.cls_embedding(oc, x[0]), o_cls)
    similarity = (texts @ embedding.detach()).float()
    require_finite("embeddings", texts, embedding, similarity)
    if {"gradeclip", "medgrad"} & set(methods):
        (channel_weights,) = vmap(pull_back)(texts)  # (K, C) = ∂S_k/∂o_cls
        channel_weights = channel_weights.detach()
        v_patches = v[1:]
        if "gradeclip" in methods:
            lam = torch.nn.functional.cosine_similarity(q[:1], k[1:], dim=-1)
            span = lam.max() - lam.min()
            lam = (lam - lam.min()) / span if span > 0 else torch.zeros_like(lam)
            scores = _relu_scores(v_patches * lam[:, None], channel_weights)
            patch_maps["gradeclip"] = scores.reshape(-1, grid, grid).cpu().numpy()
        if "medgrad" in methods:
            scores = _relu_scores(v_patches, channel_weights)
            patch_maps["medgrad"] = scores.reshape(-1, grid, grid).cpu().numpy()
    if "gradcam" in methods:
        _, pull_back_x = vjp(layer.embedding, x)
        (token_grads,) = vmap(pull_back_x)(texts)  # (K, T, C) = ∂S_k/∂x
        cam_weights = token_grads[:, 1:].mean(dim=1).detach()  # (K, C)
        scores = _relu_scores(x[1:].detach(), cam_weights)
        patch_maps["gradcam"] = scores.reshape(-1, grid, grid).cpu().numpy()

    require_finite("maps", *patch_maps.values())
    similarity_np = similarity.cpu().numpy().astype(np.float32)
    return Evidence(
        similarity=similarity_np,
        probability=class_probabilities(
            similarity_np, range(len(similarity_np)), bundle.logit_scale
        ),
        patch_maps={m: patch_maps[m].astype(np.float32) for m in methods},
    )


def render_maps(
    evidence: Evidence,
    image: np.ndarray,
    model_side: int,
    entropy_radius: float = 5,
    weight: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Display maps (K, H, W) in [0, 1] at the image's resolution for every method in
    ``evidence``; MedGrad uses ``weight`` (the entropy weight) or computes it."""
    height, width = image.shape[:2]
    maps = {}
    for method, patch in evidence.patch_maps.items():
        if method == "medgrad":
            if weight is None:
                weight = entropy_weight(image, entropy_radius, model_side)
            maps[method] = medgrad_display_maps(patch, weight)
        else:
            maps[method] = display_maps(patch, height, width)
    return maps


def explain(
    bundle: ModelBundle,
    image: ImageInput | str,
    prompts: Sequence[str | Sequence[str]],
    methods: Sequence[str] = METHODS,
    entropy_radius: float = 5,
) -> ExplainResult:
    """Explain ``image`` (array, PIL image or path) against ``prompts`` with the chosen methods.

    A prompt is a text, or a sequence of synonyms whose embeddings are averaged.
    """
    rgb = load_image(image) if isinstance(image, (str, Path)) else as_rgb_array(image)
    evidence = compute_evidence(bundle, rgb, bundle.encode_prompts(prompts), methods)
    return ExplainResult(
        prompts=[p if isinstance(p, str) else " / ".join(p) for p in prompts],
        similarity=evidence.similarity,
        probability=evidence.probability,
        patch_maps=evidence.patch_maps,
        maps=render_maps(evidence, rgb, bundle.image_size, entropy_radius),
        entropy_radius=entropy_radius,
    )
