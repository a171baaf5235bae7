"""The two reference maps reported beside every method, so that a method's numbers can be read
against chance: ``random`` (uniform noise on the model's patch grid, seeded per image, shown like
the methods' maps: bilinear upsampling, then min–max) and ``centre`` (a Gaussian centred on the
image, σ = a quarter of each side, min–max), the "lesions sit in the middle" prior."""

from __future__ import annotations

import zlib

import numpy as np

from medgrad_desktop.explain.display import display_maps, minmax

REFERENCE_MAPS = ("random", "centre")
CENTRE_SIGMA = 0.25


def random_map(
    image_hw: tuple[int, int], grid_hw: tuple[int, int], key: str, seed: int = 0
) -> np.ndarray:
    """A random patch-grid map for the case named ``key`` (same key and seed, same map)."""
    rng = np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])
    grid = rng.random(grid_hw, dtype=np.float64).astype(np.float32)
    return display_maps(grid[None], *image_hw)[0]


def centre_map(image_hw: tuple[int, int]) -> np.ndarray:
    """A Gaussian bump at the image centre with σ = ``CENTRE_SIGMA`` × each side."""
    height, width = image_hw
    y = (np.arange(height) + 0.5 - height / 2) / (CENTRE_SIGMA * height)
    x = (np.arange(width) + 0.5 - width / 2) / (CENTRE_SIGMA * width)
    bump = np.exp(-0.5 * (y[:, None] ** 2 + x[None, :] ** 2)).astype(np.float32)
    return minmax(bump[None])[0]


def reference_map(
    name: str, image_hw: tuple[int, int], grid_hw: tuple[int, int], key: str, seed: int = 0
) -> np.ndarray:
    """The reference map ``name`` (one of ``REFERENCE_MAPS``)."""
    if name == "random":
        return random_map(image_hw, grid_hw, key, seed)
    if name == "centre":
        return centre_map(image_hw)
    raise ValueError(f"Unknown reference map {name!r}; choose one of {REFERENCE_MAPS}.")
