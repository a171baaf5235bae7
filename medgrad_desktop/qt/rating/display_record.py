"""What is recorded with every rating about how the maps were shown."""

from __future__ import annotations

from typing import Any

from medgrad_desktop.review.schema import DEFAULT_GEOMETRY, DEFAULT_VARIANT


def shown_display(window) -> dict[str, Any]:
    """The display settings the reader sees now in ``window`` (opacity, colormap, entropy
    radius, model id) and the options the maps on screen were computed with (variant,
    geometry); the same for every blinded panel, LeGrad's included."""
    state, info = window.state, window.controller.model_info
    shown: dict[str, Any] = {
        "opacity": state.opacity,
        "colormap": state.colormap,
        "entropy_radius": state.radius,
    }
    if info is not None:
        shown["model_id"] = info.model_id
    shown["variant"] = str(getattr(state, "variant", None) or DEFAULT_VARIANT)
    shown["geometry"] = str(getattr(state, "geometry", None) or DEFAULT_GEOMETRY)
    return shown
