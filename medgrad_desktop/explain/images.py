"""Safe image decoding: every odd file becomes an RGB uint8 array or an ``ImageLoadError``."""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from medgrad_desktop.errors import ImageLoadError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp", ".ppm", ".pgm"}
)
MAX_PIXELS = 80_000_000
"""Images with more pixels than this are refused before decoding (decompression-bomb guard)."""


def is_image_file(path: Path) -> bool:
    """Whether the file name looks like an image we can open (the content is checked later)."""
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def list_image_names(folder: Path) -> list[str]:
    """Names of the readable image files directly in ``folder``, in natural order (nothing is
    decoded; plain strings, because building thousands of ``Path`` objects is slow). Entries
    that cannot be listed are skipped and logged (``listing.list_images`` reports them)."""
    from medgrad_desktop.explain.listing import list_images

    return list_images(folder, IMAGE_SUFFIXES).names


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode (16-bit, CMYK, palette, alpha, grey) to 8-bit RGB."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        high = 65535.0 if image.mode.startswith("I;16") else max(float(values.max()), 1.0)
        if image.mode in ("I", "F") and values.max() <= 255:
            high = 255.0
        grey = np.clip(np.round(values / high * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _open_checked(source: Path, max_pixels: int) -> Image.Image:
    """Open lazily and refuse oversized images before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
    except FileNotFoundError as exc:
        raise ImageLoadError(f"The image {source.name} no longer exists.", str(exc)) from exc
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageLoadError(
            f"The image {source.name} is too large to open safely.", str(exc)
        ) from exc
    except Exception as exc:  # any decoder failure (struct.error, TypeError, ...) is a bad file
        raise ImageLoadError(
            f"The file {source.name} is not an image that can be read (it may be damaged or "
            "of an unsupported type).",
            repr(exc),
        ) from exc
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise ImageLoadError(
            f"The image {source.name} is too large to open ({width}×{height} pixels).",
            f"limit {max_pixels} pixels",
        )
    if width == 0 or height == 0:
        image.close()
        raise ImageLoadError(f"The image {source.name} is empty.")
    return image


def load_image(
    source: str | Path, max_side: int | None = None, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """Decode an image file to an upright RGB ``uint8`` array of shape (H, W, 3).

    EXIF orientation is applied; 16-bit, CMYK, palette and alpha images are converted
    (alpha is composited on white). ``max_side`` downsamples large images while decoding
    (used for thumbnails). Raises ``ImageLoadError`` with a plain message on any failure.
    """
    path = Path(source)
    image = _open_checked(path, max_pixels)
    try:
        with image, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if max_side is not None:
                image.draft("RGB", (max_side, max_side))
            image.load()
            upright = ImageOps.exif_transpose(image)
            rgb = _to_rgb(upright)
            if max_side is not None and max(rgb.size) > max_side:
                rgb.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
            return np.array(rgb, dtype=np.uint8)
    except ImageLoadError:
        raise
    except Exception as exc:  # Pillow's decoders raise many types on damaged files
        log.warning("Decoding %s failed: %r", path, exc)
        raise ImageLoadError(
            f"The image {path.name} is damaged or incomplete and cannot be shown.", repr(exc)
        ) from exc


def as_rgb_array(image: np.ndarray | Image.Image) -> np.ndarray:
    """Accept a PIL image or an (H, W[, 3|4]) array and return RGB uint8 (H, W, 3)."""
    if isinstance(image, Image.Image):
        return np.array(_to_rgb(ImageOps.exif_transpose(image)), dtype=np.uint8)
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ImageLoadError("The image must have 8-bit colour values.", f"dtype {array.dtype}")
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) == 0:
        raise ImageLoadError("The image has an unexpected shape.", f"shape {array.shape}")
    return np.ascontiguousarray(array[:, :, :3])


def resize_whole(image: np.ndarray, size: int) -> np.ndarray:
    """The whole (H, W, 3) uint8 image resized (not cropped) to (size, size, 3), bicubic — the
    model-input preprocessing shared by inference and training."""
    resized = Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(resized, dtype=np.uint8)


def image_content_hash(image: np.ndarray) -> str:
    """A short stable hash of the pixel content (cache key)."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(str(image.shape).encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()
