"""Colour lookup tables and overlay blending shared by the viewer and the headless exports."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

COLORMAPS = ("inferno", "viridis", "magma", "plasma", "jet", "turbo", "hot", "gray")


LUT_FILE = ("colormaps", "luts.npz")
"""The 256-entry tables of ``COLORMAPS``, made from matplotlib by
``scripts/make_colormap_luts.py`` (reading them is instant; importing matplotlib is not)."""


@lru_cache(maxsize=1)
def _tables() -> dict[str, np.ndarray]:
    from medgrad_desktop.paths import resource_path

    with np.load(resource_path(*LUT_FILE)) as tables:
        return {name: tables[name] for name in tables.files}


def lut(name: str) -> np.ndarray:
    """A 256-entry RGBA uint8 lookup table for one of ``COLORMAPS`` (matplotlib's colours)."""
    table = _tables().get(name)
    if table is None:
        raise ValueError(f"Unknown colormap {name!r}; choose from {COLORMAPS}.")
    return table


def matplotlib_lut(name: str) -> np.ndarray:
    """The table computed from matplotlib (what ``luts.npz`` holds)."""
    from matplotlib import colormaps

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
