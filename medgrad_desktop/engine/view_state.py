"""What the viewer shows, as one Qt-free evented model (napari's evented models are the example).

``ViewState`` holds the image, prompt, methods, variant, geometry, overlay opacity, entropy
radius, colormap, whether the maps follow the top class, and rating mode. Every assignment is
validated (a bad value raises ``ValueError`` and leaves the state unchanged)
and emits ``state.events.<field>(new_value)`` only when the value really changes. Widgets bind
to it both ways; a rating session changes the state, never the window's widgets.

    state = ViewState()
    state.events.opacity.connect(print)
    state.opacity = 0.3          # prints 0.3
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

from psygnal import SignalGroupDescriptor

from medgrad_desktop.engine.api import ENTROPY_RADII
from medgrad_desktop.explain.colormaps import COLORMAPS
from medgrad_desktop.explain.geometry import GEOMETRIES
from medgrad_desktop.explain.method_names import METHODS, check_methods
from medgrad_desktop.explain.provenance import VARIANTS

DEFAULT_OPACITY = 0.55
DEFAULT_RADIUS = 5


def _one_of(choices: tuple) -> Callable[[Any], Any]:
    def check(value):
        if value not in choices:
            raise ValueError(f"{value!r} is not one of {choices}.")
        return value

    return check


def _number_in(low: float, high: float, kind: type) -> Callable[[Any], Any]:
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{value!r} is not a number.")
        if kind is int and value != int(value):
            raise ValueError(f"{value!r} is not a whole number.")
        if not low <= value <= high:
            raise ValueError(f"{value!r} is not between {low} and {high}.")
        return kind(value)

    return check


def _flag(value):
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false.")
    return value


def _optional_path(value):
    return None if value is None else Path(value)


VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "image": _optional_path,
    "prompt_index": _number_in(0, 10_000, int),
    "methods": lambda value: check_methods(tuple(value)),
    "variant": _one_of(VARIANTS),
    "geometry": _one_of(GEOMETRIES),
    "opacity": _number_in(0.0, 1.0, float),
    "radius": _number_in(min(ENTROPY_RADII), max(ENTROPY_RADII), int),
    "colormap": _one_of(COLORMAPS),
    "overlays_visible": _flag,
    "follow_top_class": _flag,
    "rating_mode": _flag,
}


@dataclass
class ViewState:
    """The viewer's state; see the module docstring. A bad value raises ``ValueError``."""

    events: ClassVar[SignalGroupDescriptor] = SignalGroupDescriptor()

    image: Path | None = None
    prompt_index: int = 0
    methods: tuple[str, ...] = METHODS
    variant: str = "model"
    geometry: str = "square"
    opacity: float = DEFAULT_OPACITY
    radius: int = DEFAULT_RADIUS
    colormap: str = COLORMAPS[0]
    overlays_visible: bool = True
    follow_top_class: bool = True
    rating_mode: bool = False

    def __setattr__(self, name: str, value: Any) -> None:
        validate = VALIDATORS.get(name)
        if validate is None:
            raise AttributeError(f"The view state has no setting {name!r}.")
        super().__setattr__(name, validate(value))

    def update(self, values: dict[str, Any]) -> None:
        """Set several fields (each validated and announced as it is set)."""
        for name, value in values.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def follow_effective(self) -> bool:
        """The maps follow the top class: the toggle is on and no rating session decides."""
        return self.follow_top_class and not self.rating_mode

    def choose_prompt(self, index: int) -> None:
        """The reader picked a prompt: show it and stop following the top class (a rating
        session choosing its prompt leaves the reader's follow setting as it was)."""
        if not self.rating_mode:
            self.follow_top_class = False
        self.prompt_index = index
