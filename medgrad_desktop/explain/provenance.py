"""How a map was computed, in words: the variant and geometry shown in the viewer's tooltips,
in exported panels and next to ratings."""

from __future__ import annotations

from medgrad_desktop.explain.geometry import GEOMETRY_TITLES, check_geometry
from medgrad_desktop.explain.variants import VARIANT_NOTES, VARIANT_TITLES, check_variant


def provenance_caption(variant: str, geometry: str) -> str:
    """One line, e.g. "Variant: Model's forward pass · Geometry: Square (…)"."""
    check_variant(variant)
    check_geometry(geometry)
    return f"Variant: {VARIANT_TITLES[variant]} · Geometry: {GEOMETRY_TITLES[geometry]}"


def provenance_tooltip(variant: str, geometry: str) -> str:
    """The caption and what the variant means, for a panel's tooltip."""
    return f"{provenance_caption(variant, geometry)}\n{VARIANT_NOTES[variant]}"
