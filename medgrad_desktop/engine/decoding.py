"""Decode an image file once into what the engine needs: a display copy and the model input."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from medgrad_desktop.engine.api import DISPLAY_MAX_SIDE, LoadedImage
from medgrad_desktop.errors import ImageLoadError
from medgrad_desktop.explain.images import image_content_hash, load_image

if TYPE_CHECKING:
    from medgrad_desktop.explain.bundle import ModelBundle


@dataclass
class DecodedImage:
    """``display``: RGB uint8, longer side ≤ ``DISPLAY_MAX_SIDE``; ``model_input``: the whole
    image resized for the model with ``geometry`` (None when no model size was known at decoding);
    ``content_hash`` is of the full-resolution pixels."""

    path: Path
    display: np.ndarray
    model_input: np.ndarray | None
    model_side: int | None
    content_hash: str
    original_size: tuple[int, int]
    geometry: str = "square"

    @property
    def nbytes(self) -> int:
        extra = self.model_input.nbytes if self.model_input is not None else 0
        return self.display.nbytes + extra

    def loaded(self, maps_follow: bool = False) -> LoadedImage:
        """The part the viewer shows."""
        return LoadedImage(
            self.path, self.display, self.content_hash, self.original_size, maps_follow
        )


def file_key(path: Path, model_side: int | None, geometry: str = "square") -> tuple:
    """Cache key of a decoded file: changes when the file is modified or the model size or
    the input geometry changes."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise ImageLoadError(f"The image {path.name} no longer exists.", repr(exc)) from exc
    return ("decoded", str(path), stat.st_mtime_ns, stat.st_size, model_side, geometry)


def fit_within(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """``rgb`` shrunk (antialiased) so its longer side is at most ``max_side``; else unchanged."""
    height, width = rgb.shape[:2]
    if max(height, width) <= max_side:
        return rgb
    factor = max_side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR), np.uint8)


def decode_image(path: Path, bundle: ModelBundle | None, geometry: str = "square") -> DecodedImage:
    """Read ``path`` (raises ``ImageLoadError``) and prepare the display copy, the hash and, when
    a model is known, its input (only ``bundle.resize_for_model`` is used: no torch work)."""
    rgb = load_image(path)
    height, width = rgb.shape[:2]
    return DecodedImage(
        path=path,
        display=fit_within(rgb, DISPLAY_MAX_SIDE),
        model_input=bundle.resize_for_model(rgb, geometry) if bundle is not None else None,
        model_side=bundle.image_size if bundle is not None else None,
        content_hash=image_content_hash(rgb),
        original_size=(width, height),
        geometry=geometry,
    )
