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


def save_panel(
    image: np.ndarray,
    result: ExplainResult,
    path: Path,
    title: str,
    opacity: float = 0.55,
    colormap: str = "inferno",
) -> Path:
    """One row per prompt: the original, then each method's map blended over the image."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    methods = list(result.maps)
    rows, cols = len(result.prompts), 1 + len(methods)
    aspect = image.shape[0] / image.shape[1]
    figure = Figure(figsize=(2.6 * cols, 2.6 * aspect * rows + 0.9), dpi=110)
    axes = figure.subplots(rows, cols, squeeze=False)
    for row, prompt in enumerate(result.prompts):
        label = f"{prompt}\nsim {result.similarity[row]:.3f} · p {result.probability[row]:.2f}"
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
