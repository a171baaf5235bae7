"""Evidence (``explain.evidence.Evidence``) of many images against K prompts, batched.

``pixel_evidence`` is the tensor part: pixels (N, 3, H, W) of one geometry bucket → the model's
similarity and every method's patch scores in one trunk pass (no grad, under autocast when
asked) and one batched backward through the last block in float32. It has no data-dependent
Python branches, so ``torch.compile(fullgraph=True)`` takes it whole (with dynamo's
``trace_autograd_ops`` on) and, at a fixed K, it can be captured as a CUDA graph.
``evidence_for_images`` groups images by input shape and batches them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from medgrad_desktop.errors import PromptSetError
from medgrad_desktop.explain.bundle import ImageInput, ModelBundle
from medgrad_desktop.explain.evidence import Evidence
from medgrad_desktop.explain.finite import require_finite
from medgrad_desktop.explain.geometry import (
    check_geometry,
    check_token_budget,
    images_per_batch,
)
from medgrad_desktop.explain.images import as_rgb_array
from medgrad_desktop.explain.methods import check_methods, default_methods, get_method
from medgrad_desktop.explain.provenance import check_variant
from medgrad_desktop.explain.towers.base import VisionTower
from medgrad_desktop.explain.variants import LastLayer
from medgrad_desktop.explain.zero_shot import class_probabilities

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The trunk's autocast dtype: "auto" is bf16 on CUDA and none (fp32) elsewhere."""
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}; choose from {PRECISIONS}.")
    if precision == "auto":
        return torch.bfloat16 if device.type == "cuda" else None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def pixel_evidence(
    tower: VisionTower,
    pixels: torch.Tensor,
    texts: torch.Tensor,
    methods: tuple[str, ...],
    variant: str = "model",
    trunk_dtype: torch.dtype | None = None,
) -> dict[str, torch.Tensor]:
    """Evidence of N images × K unit text vectors (K, D). Returns float32 tensors:
    ``similarity`` (N, K), the model's own cosine similarities, and one (N, K, gh, gw) entry
    per method. Probabilities are ``zero_shot.class_probabilities`` of the similarity."""
    n, _, height, width = pixels.shape
    gh, gw = height // tower.patch_size, width // tower.patch_size
    device = pixels.device.type
    half = trunk_dtype is not None
    with torch.no_grad(), torch.autocast(device, trunk_dtype or torch.bfloat16, enabled=half):
        x = tower.trunk(pixels)
    with torch.autocast(device, enabled=False):
        layer = LastLayer(tower, x.float(), texts.float(), variant, pixels=pixels)
        out = {"similarity": layer.model_similarity}
        for name in methods:
            scores = get_method(name).patch_scores(layer)
            out[name] = scores.reshape(n, -1, gh, gw)
    return out


def _batches(shapes: list[tuple[int, int]], size_of: dict) -> list[list[int]]:
    """Indices grouped by input shape (first-seen order), each group cut to its batch size."""
    groups: dict[tuple[int, int], list[int]] = {}
    for index, shape in enumerate(shapes):
        groups.setdefault(shape, []).append(index)
    batches = []
    for shape, indices in groups.items():
        step = size_of[shape]
        batches += [indices[i : i + step] for i in range(0, len(indices), step)]
    return batches


def evidence_for_images(
    bundle: ModelBundle,
    images: Sequence[ImageInput],
    text_embeddings: torch.Tensor,
    methods: Sequence[str] | None = None,
    variant: str = "model",
    geometry: str = "square",
    precision: str = "auto",
    batch_size: int = 8,
    pixel_function: Callable[..., dict[str, torch.Tensor]] = pixel_evidence,
) -> list[Evidence]:
    """``Evidence`` of each image (RGB arrays or PIL images) against K text embeddings (K, D),
    images of one input shape batched together (at most ``batch_size``, fewer when the
    attention would not fit the memory budget). ``pixel_function`` replaces
    ``pixel_evidence`` with an equal one (the engine's CUDA-graph replay)."""
    methods = check_methods(default_methods() if methods is None else methods)
    check_variant(variant)
    check_geometry(geometry)
    if text_embeddings.ndim != 2 or text_embeddings.shape[0] == 0:
        raise PromptSetError("There are no prompts to compare the image with.")
    if batch_size < 1:
        raise ValueError("The batch size must be at least 1.")
    tower = bundle.vision_tower
    texts = text_embeddings.to(bundle.device, torch.float32)
    prompts = texts.shape[0]
    heads = tower.num_heads if variant == "model" else 1
    inputs = [bundle.resize_for_model(as_rgb_array(image), geometry) for image in images]
    shapes = [tuple(array.shape[:2]) for array in inputs]
    size_of = {}
    for shape in set(shapes):
        grid = (shape[0] // tower.patch_size, shape[1] // tower.patch_size)
        check_token_budget(grid, prompts, heads, tower.prefix_tokens)
        size_of[shape] = images_per_batch(grid, prompts, heads, batch_size)
    results: list[Evidence | None] = [None] * len(inputs)
    trunk_dtype = autocast_dtype(precision, bundle.device)
    for batch in _batches(shapes, size_of):
        pixels = bundle.normalise([inputs[i] for i in batch])
        out = pixel_function(tower, pixels, texts, methods, variant, trunk_dtype)
        out = {key: value.detach().float().cpu().numpy() for key, value in out.items()}
        require_finite("similarity and maps", *out.values())
        prompt_indices = range(prompts)
        for row, index in enumerate(batch):
            similarity = out["similarity"][row].copy()
            results[index] = Evidence(
                similarity=similarity,
                probability=class_probabilities(similarity, prompt_indices, bundle.logit_scale),
                patch_maps={m: out[m][row].copy() for m in methods},
                variant=variant,
                geometry=geometry,
            )
    return results


def compute_evidence(
    bundle: ModelBundle,
    image: ImageInput,
    text_embeddings: torch.Tensor,
    methods: Sequence[str] | None = None,
    variant: str = "model",
    geometry: str = "square",
    precision: str = "auto",
    pixel_function: Callable[..., dict[str, torch.Tensor]] = pixel_evidence,
) -> Evidence:
    """Evidence of one image (RGB array or PIL image) against K text embeddings (K, D)."""
    (evidence,) = evidence_for_images(
        bundle,
        [image],
        text_embeddings,
        methods,
        variant,
        geometry,
        precision,
        batch_size=1,
        pixel_function=pixel_function,
    )
    return evidence
