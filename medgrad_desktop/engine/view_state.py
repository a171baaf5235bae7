"""What the viewer shows, as one Qt-free evented model (napari's evented models are the example).

``ViewState`` holds the image, prompt, methods, variant, geometry, overlay opacity, entropy
radius, colormap, whether the maps follow the top class, and rating mode. Every assignment is
validated (a bad value raises ``pydantic.ValidationError`` and leaves the state unchanged)
and emits ``state.events.<field>(new_value)`` only when the value really changes. Widgets bind
to it both ways; a rating session changes the state, never the window's widgets.

    state = ViewState()
    state.events.opacity.connect(print)
    state.opacity = 0.3          # prints 0.3
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from psygnal import EventedModel
from pydantic import ConfigDict, Field, field_validator

from medgrad_desktop.engine.api import ENTROPY_RADII
from medgrad_desktop.explain.colormaps import COLORMAPS
from medgrad_desktop.explain.method_names import METHODS, check_methods

DEFAULT_OPACITY = 0.55
DEFAULT_RADIUS = 5


class ViewState(EventedModel):
    """The viewer's state; see the module docstring."""

    model_config = ConfigDict(validate_assignment=True, arbitrary_types_allowed=True)

    image: Path | None = None
    prompt_index: int = Field(0, ge=0)
    methods: tuple[str, ...] = METHODS
    variant: Literal["model", "zhao2024"] = "model"
    geometry: Literal["square", "aspect", "native"] = "square"
    opacity: float = Field(DEFAULT_OPACITY, ge=0.0, le=1.0)
    radius: int = Field(DEFAULT_RADIUS, ge=min(ENTROPY_RADII), le=max(ENTROPY_RADII))
    colormap: str = COLORMAPS[0]
    overlays_visible: bool = True
    follow_top_class: bool = True
    rating_mode: bool = False

    @field_validator("methods", mode="before")
    @classmethod
    def _known_methods(cls, value) -> tuple[str, ...]:
        return check_methods(tuple(value))

    @field_validator("colormap")
    @classmethod
    def _known_colormap(cls, value: str) -> str:
        if value not in COLORMAPS:
            raise ValueError(f"Unknown colormap {value!r}; choose from {COLORMAPS}.")
        return value

    def follow_effective(self) -> bool:
        """The maps follow the top class: the toggle is on and no rating session decides."""
        return self.follow_top_class and not self.rating_mode

    def choose_prompt(self, index: int) -> None:
        """The reader picked a prompt: show it and stop following the top class (a rating
        session choosing its prompt leaves the reader's follow setting as it was)."""
        if not self.rating_mode:
            self.follow_top_class = False
        self.prompt_index = index
