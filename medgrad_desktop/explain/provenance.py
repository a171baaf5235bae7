"""How a map was computed, in words (torch-free): the variants' names and notes, and the
caption and tooltip the viewer, the exports and the CLI show."""

from __future__ import annotations

from medgrad_desktop.explain.geometry import GEOMETRY_TITLES, check_geometry

VARIANTS = ("model", "zhao2024")
VARIANT_TITLES = {
    "model": "Model's forward pass",
    "zhao2024": "Authors' code (Zhao et al. 2024)",
}
VARIANT_NOTES = {
    "model": "The published formulas on the model's own multi-head forward pass.",
    "zhao2024": (
        "Reproduces the Grad-ECLIP authors' released code (one attention head over the full "
        "width), which the papers' figures came from, rather than the model's true forward pass."
    ),
}


def check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"Unknown variant {variant!r}; choose from {VARIANTS}.")
    return variant


def provenance_caption(variant: str, geometry: str) -> str:
    """One line, e.g. "Variant: Model's forward pass · Geometry: Square (…)"."""
    check_variant(variant)
    check_geometry(geometry)
    return f"Variant: {VARIANT_TITLES[variant]} · Geometry: {GEOMETRY_TITLES[geometry]}"


def provenance_label(variant: str, geometry: str) -> str:
    """The short form shown under the viewer's maps, e.g. "Maps: Model's forward pass ·
    Square" (the tooltip has the rest)."""
    check_variant(variant)
    check_geometry(geometry)
    return f"Maps: {VARIANT_TITLES[variant]} · {GEOMETRY_TITLES[geometry].split(' (')[0]}"


def provenance_tooltip(variant: str, geometry: str) -> str:
    """The caption and what the variant means, for a panel's tooltip."""
    return f"{provenance_caption(variant, geometry)}\n{VARIANT_NOTES[variant]}"
