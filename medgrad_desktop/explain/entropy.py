"""Local image entropy: the MedGrad-ECLIP weighting of Grad-ECLIP evidence."""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.color import rgb2gray
from skimage.filters.rank import entropy as rank_entropy
from skimage.morphology import disk
from skimage.transform import resize

from medgrad_desktop.explain.display import upsample
from medgrad_desktop.explain.images import as_rgb_array, load_image

ENTROPY_WORK_SIDE = 320
"""Longest side (pixels) at which the entropy weight is computed before resizing to the image."""
MIN_STRIP_ROWS = 48
"""Rows per strip below which splitting the entropy filter across threads does not pay."""
STRIP_THREADS = min(4, os.cpu_count() or 1)


@cache
def _strip_pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="entropy")


def disk_entropy(grey: np.ndarray, radius: int, threads: int = STRIP_THREADS) -> np.ndarray:
    """``skimage.filters.rank.entropy(grey, disk(radius))`` as float32, computed in horizontal
    strips on ``threads`` threads (skimage's filter releases the GIL). Each strip is filtered
    with ``radius`` extra rows on both sides, so every kept row sees its whole neighbourhood
    and the result is the same, value for value, as one call on the whole image."""
    footprint = disk(int(radius))
    height = grey.shape[0]
    strips = min(threads, height // MIN_STRIP_ROWS)
    if strips < 2:
        return rank_entropy(grey, footprint).astype(np.float32)
    bounds = np.linspace(0, height, strips + 1).astype(int)

    def strip(top: int, bottom: int) -> np.ndarray:
        low, high = max(0, top - radius), min(height, bottom + radius)
        return rank_entropy(grey[low:high], footprint)[top - low : bottom - low]

    parts = _strip_pool(strips).map(strip, bounds[:-1], bounds[1:])
    return np.concatenate(list(parts)).astype(np.float32)


def grey_levels(image: np.ndarray) -> np.ndarray:
    """8-bit grey levels of an RGB uint8 image (skimage luminance weights, rounded)."""
    if image.ndim == 2:
        return image.astype(np.uint8, copy=False)
    return np.round(rgb2gray(image[:, :, :3]) * 255.0).astype(np.uint8)


def local_entropy(image: np.ndarray | Image.Image | str | Path, radius: int) -> np.ndarray:
    """Shannon entropy (bits) of 8-bit grey levels in a disk of ``radius`` pixels around each
    pixel, with ``skimage.filters.rank.entropy`` semantics. ``image``: what ``explain`` takes
    (an RGB or grey array, a PIL image or a file path). Returns float32 (H, W)."""
    if radius < 1:
        raise ValueError("The entropy radius must be at least 1 pixel.")
    if isinstance(image, (str, Path)):
        image = load_image(image)
    elif isinstance(image, Image.Image) or np.asarray(image).ndim != 2:
        image = as_rgb_array(image)
    return disk_entropy(grey_levels(image), int(radius))


def radius_at_resolution(
    radius_model_px: float, image_hw: tuple[int, int], model_side: int, work_hw: tuple[int, int]
) -> int:
    """Scale a radius given in model-input pixels (S×S) to pixels of a ``work_hw`` image
    that shows the same field of view as ``image_hw`` (geometric-mean scale, at least 1)."""
    del image_hw  # the model input and the work image both span the whole image
    scale = math.sqrt(work_hw[0] * work_hw[1]) / model_side
    return max(1, round(radius_model_px * scale))


def work_shape(image_hw: tuple[int, int], max_side: int = ENTROPY_WORK_SIDE) -> tuple[int, int]:
    """The (h, w) at which entropy is computed: the image's, shrunk to ``max_side`` if larger."""
    height, width = image_hw
    factor = min(1.0, max_side / max(height, width))
    return max(1, round(height * factor)), max(1, round(width * factor))


@dataclass(frozen=True)
class EntropyInput:
    """The grey levels of an image at the resolution where entropy is computed (reusable for
    every radius) and the image's own (H, W)."""

    grey: np.ndarray
    image_hw: tuple[int, int]

    @property
    def nbytes(self) -> int:
        return self.grey.nbytes


def prepare_entropy_input(image: np.ndarray, max_side: int = ENTROPY_WORK_SIDE) -> EntropyInput:
    """Grey levels of ``image`` shrunk so the longer side is at most ``max_side``."""
    height, width = image.shape[:2]
    work_hw = work_shape((height, width), max_side)
    grey = grey_levels(image)
    if work_hw != (height, width):
        grey = np.round(
            resize(grey, work_hw, order=1, preserve_range=True, anti_aliasing=True)
        ).astype(np.uint8)
    return EntropyInput(grey=grey, image_hw=(height, width))


def entropy_weight(
    image: np.ndarray | EntropyInput,
    radius_model_px: float,
    model_side: int,
    max_side: int = ENTROPY_WORK_SIDE,
    exact: bool = False,
    threads: int = STRIP_THREADS,
) -> np.ndarray:
    """MedGrad's pixel weight w_e: local entropy divided by its maximum, float32 (H, W) in [0, 1].

    The radius is in model-input pixels and scaled to the resolution where entropy is computed
    (the image, shrunk so its longer side is at most ``max_side``, or at full resolution when
    ``exact``); the result is resized back. Pass an ``EntropyInput`` to reuse the grey work
    image across radii; ``threads``: how many cores the filter may use.
    """
    if isinstance(image, EntropyInput):
        prepared = image
    else:
        prepared = prepare_entropy_input(image, max(image.shape[:2]) if exact else max_side)
    height, width = prepared.image_hw
    work_hw = prepared.grey.shape[:2]
    radius = radius_at_resolution(radius_model_px, (height, width), model_side, work_hw)
    weight = disk_entropy(prepared.grey, radius, threads)
    if work_hw != (height, width):
        weight = upsample(weight[None], height, width)[0]
    peak = float(weight.max())
    return weight / peak if peak > 0 else np.zeros_like(weight)
