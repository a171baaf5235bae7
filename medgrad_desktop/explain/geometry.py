"""How an image becomes the model's input: ``square`` (the whole image squashed to S×S),
``aspect`` (short side S, long side in proportion) or ``native`` (the image's own size, short
side capped at 640 as the Grad-ECLIP authors' code does); non-square sides are rounded to the
nearest multiple of the patch p, ``int(side / p + 0.5) · p``."""

from __future__ import annotations

import numpy as np
from PIL import Image

from medgrad_desktop.errors import ComputeError

GEOMETRIES = ("square", "aspect", "native")
GEOMETRY_TITLES = {
    "square": "Square (whole image squeezed to the model's size)",
    "aspect": "Keep aspect ratio (short side at the model's size)",
    "native": "Native size (short side at most 640 pixels)",
}
NATIVE_MAX_SHORT_SIDE = 640
EVIDENCE_MEMORY_BUDGET = 3 * 1024**3
"""Bytes one image's attention tensors may take during the pull-back (all prompts together)."""


def check_geometry(geometry: str) -> str:
    if geometry not in GEOMETRIES:
        raise ValueError(f"Unknown geometry {geometry!r}; choose from {GEOMETRIES}.")
    return geometry


def _to_patch_multiple(side: int, patch: int) -> int:
    return max(patch, int(side / patch + 0.5) * patch)


def _native_shrunk(height: int, width: int) -> tuple[int, int]:
    """The authors' shrink: when the short side exceeds 640, divide both sides by short/640
    (truncating, as ``int(h / scale)``)."""
    short = min(height, width)
    if short <= NATIVE_MAX_SHORT_SIDE:
        return height, width
    scale = short / NATIVE_MAX_SHORT_SIDE
    return int(height / scale), int(width / scale)


def input_shape(height: int, width: int, geometry: str, side: int, patch: int) -> tuple[int, int]:
    """(height, width) of the model input for an image of ``height``×``width``."""
    check_geometry(geometry)
    if geometry == "square":
        return side, side
    if geometry == "aspect":
        short, long = min(height, width), max(height, width)
        scaled_long = round(side * long / short)
        height, width = (side, scaled_long) if height <= width else (scaled_long, side)
    else:
        height, width = _native_shrunk(height, width)
    return _to_patch_multiple(height, patch), _to_patch_multiple(width, patch)


def resize_for_geometry(image: np.ndarray, geometry: str, side: int, patch: int) -> np.ndarray:
    """The (H, W, 3) uint8 image resized (bicubic) to its model-input shape; unchanged when it
    already has that shape (idempotent: a prepared image passes through as it is)."""
    height, width = image.shape[:2]
    target = input_shape(height, width, geometry, side, patch)
    original = pil = Image.fromarray(image)
    if geometry == "native":
        shrunk = _native_shrunk(height, width)
        if shrunk != (height, width):
            pil = pil.resize((shrunk[1], shrunk[0]), Image.Resampling.BICUBIC)
    if pil.size != (target[1], target[0]):
        pil = pil.resize((target[1], target[0]), Image.Resampling.BICUBIC)
    return image if pil is original else np.asarray(pil, dtype=np.uint8)


def attention_bytes(tokens: int, prompts: int, heads: int) -> int:
    """Float32 bytes of the attention weights the pull-back keeps for one image."""
    return 4 * max(1, prompts) * max(1, heads) * tokens * tokens * 3


def check_token_budget(grid: tuple[int, int], prompts: int, heads: int, prefix: int = 1) -> None:
    """Refuse an input whose attention would not fit the memory budget."""
    tokens = prefix + grid[0] * grid[1]
    if attention_bytes(tokens, prompts, heads) > EVIDENCE_MEMORY_BUDGET:
        raise ComputeError(
            "This image is too large to explain at this size; choose the 'square' or "
            "'keep aspect ratio' geometry, or fewer prompts.",
            f"{tokens} tokens × {prompts} prompts × {heads} heads exceeds the memory budget",
        )


def images_per_batch(grid: tuple[int, int], prompts: int, heads: int, wanted: int) -> int:
    """At most ``wanted`` images whose attention tensors fit the memory budget together."""
    tokens = 1 + grid[0] * grid[1]
    fits = EVIDENCE_MEMORY_BUDGET // attention_bytes(tokens, prompts, heads)
    return int(max(1, min(wanted, fits)))
