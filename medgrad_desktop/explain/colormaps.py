"""Colour lookup tables and overlay blending shared by the viewer and the headless exports."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

COLORMAPS = ("inferno", "viridis", "magma", "plasma", "jet", "turbo", "hot", "gray")


@lru_cache(maxsize=16)
def lut(name: str) -> np.ndarray:
    """A 256-entry RGBA uint8 lookup table for a matplotlib colormap name."""
    from matplotlib import colormaps

    if name not in colormaps:
        raise ValueError(f"Unknown colormap {name!r}; choose from {COLORMAPS}.")
    table = colormaps[name](np.linspace(0.0, 1.0, 256))
    return np.round(table * 255).astype(np.uint8)


def colorize(map01: np.ndarray, name: str = "inferno") -> np.ndarray:
    """Map values in [0, 1] (H, W) to RGB uint8 (H, W, 3)."""
    index = np.clip(np.round(map01 * 255), 0, 255).astype(np.uint8)
    return lut(name)[index][..., :3]


def blend(
    rgb: np.ndarray, map01: np.ndarray, opacity: float = 0.55, name: str = "inferno"
) -> np.ndarray:
    """Overlay a [0, 1] map on an RGB image with the given opacity; RGB uint8 out."""
    mixed = (1.0 - opacity) * rgb.astype(np.float32) + opacity * colorize(map01, name)
    return np.clip(np.round(mixed), 0, 255).astype(np.uint8)
