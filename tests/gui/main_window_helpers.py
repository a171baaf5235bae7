"""Helpers for the main-window tests (fixtures are in ``conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

MAPS_TIMEOUT_MS = 30_000


def write_lesion_png(path: Path, seed: int, size: tuple[int, int] = (96, 80)) -> Path:
    """A textured skin-like image with a dark blob (so entropy and maps are not flat)."""
    rng = np.random.default_rng(seed)
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width]
    cy, cx = rng.uniform(0.3, 0.7) * height, rng.uniform(0.3, 0.7) * width
    blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (min(size) / 5) ** 2))
    base = np.stack([220 - 120 * blob, 180 - 110 * blob, 160 - 100 * blob], axis=-1)
    noise = rng.normal(0, 18, size=(height, width, 3)) * (0.3 + blob[..., None])
    Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8)).save(path)
    return path


def wait_for_maps(
    qtbot, main, path: Path, prompt_index: int | None = None, radius: int | None = None
) -> None:
    """Wait until the comparison shows all three maps of ``path`` (and prompt/radius)."""

    def shown() -> bool:
        result = main.controller.shown
        return (
            result is not None
            and result.path == path
            and (prompt_index is None or result.prompt_index == prompt_index)
            and (radius is None or result.entropy_radius == radius)
            and all(panel.map is not None for panel in main.comparison.panels.values())
        )

    qtbot.waitUntil(shown, timeout=MAPS_TIMEOUT_MS)
