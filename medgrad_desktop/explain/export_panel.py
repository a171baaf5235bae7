"""Labelled PNG panels for the headless ``explain`` command: original + three overlays each."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.explain.attribution import ExplainResult
from medgrad_desktop.explain.colormaps import blend
from medgrad_desktop.explain.display import has_positive_evidence
from medgrad_desktop.explain.methods import method_title
from medgrad_desktop.explain.provenance import provenance_caption

PANEL_IMAGE_SIDE = 384
"""Longest side (pixels) of the image and maps drawn in a panel."""
PANEL_PIXEL_BUDGET = 16_000_000
"""Most pixels a panel figure may have (its resolution drops for very many prompts)."""
_ASPECT_LIMITS = (0.25, 4.0)


def panel_size_inches(image_hw: tuple[int, int], rows: int, cols: int) -> tuple[float, float]:
    """Figure size: 2.6-inch-wide cells whose height follows the image's aspect ratio, kept
    between 1:4 and 4:1 so a 10×4000 strip does not make a figure kilometres tall."""
    aspect = min(max(image_hw[0] / max(image_hw[1], 1), _ASPECT_LIMITS[0]), _ASPECT_LIMITS[1])
    return 2.6 * cols, 2.6 * aspect * rows + 0.9


def panel_dpi(width_in: float, height_in: float, preferred: int = 110) -> float:
    """``preferred`` dots per inch, lowered so the figure stays within the pixel budget."""
    return min(float(preferred), (PANEL_PIXEL_BUDGET / (width_in * height_in)) ** 0.5)


def save_panel(
    image: np.ndarray,
    result: ExplainResult,
    path: Path,
    title: str,
    opacity: float = 0.55,
    colormap: str = "inferno",
    probabilities: list[float | None] | None = None,
) -> Path:
    """One row per prompt: the original, then each method's map blended over the image.

    ``probabilities``: the zero-shot probability per prompt (``None`` for criteria, which show
    their similarity only); default ``result.probability``. The figure keeps to
    ``PANEL_PIXEL_BUDGET`` pixels whatever the image's shape or the number of prompts, so pass
    an image (and maps) already shrunk to about ``PANEL_IMAGE_SIDE`` pixels."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    methods = list(result.maps)
    rows, cols = len(result.prompts), 1 + len(methods)
    if probabilities is None:
        probabilities = [float(p) for p in result.probability]
    width_in, height_in = panel_size_inches(image.shape[:2], rows, cols)
    figure = Figure(figsize=(width_in, height_in), dpi=panel_dpi(width_in, height_in))
    axes = figure.subplots(rows, cols, squeeze=False)
    for row, prompt in enumerate(result.prompts):
        label = f"{prompt}\nsim {result.similarity[row]:.3f}"
        if probabilities[row] is not None:
            label += f" · p {probabilities[row]:.2f}"
        axes[row, 0].imshow(image)
        axes[row, 0].set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
        for col, method in enumerate(methods, start=1):
            display = result.maps[method][row]
            axes[row, col].imshow(blend(image, display, opacity, colormap))
            if not has_positive_evidence(display):
                axes[row, col].text(
                    0.5,
                    0.5,
                    "no positive evidence",
                    transform=axes[row, col].transAxes,
                    ha="center",
                    color="white",
                    fontsize=7,
                )
        for col in range(cols):
            axes[row, col].set_xticks([])
            axes[row, col].set_yticks([])
            if row == 0:
                axes[row, col].set_title(
                    "Original" if col == 0 else method_title(methods[col - 1]), fontsize=9
                )
    caption = provenance_caption(result.variant, result.geometry)
    figure.suptitle(f"{title}\n{caption}\n{RESEARCH_NOTICE}", fontsize=8)
    figure.tight_layout(rect=(0.12, 0, 1, 0.97))
    figure.savefig(path)
    return path
