"""The ``explain`` command's inputs: argument checks with plain messages, the image files of
the given paths (folders listed without failing on odd entries) and unique output names."""

from __future__ import annotations

import math
import os
from pathlib import Path

from medgrad_desktop.errors import MedGradError
from medgrad_desktop.explain.colormaps import COLORMAPS
from medgrad_desktop.explain.images import IMAGE_SUFFIXES
from medgrad_desktop.explain.listing import display_name, folder_error_message, list_images

RADIUS_RANGE = (1, 25)
"""Entropy radii (model-input pixels) the viewer's slider offers; the command takes the same."""


class UsageError(MedGradError):
    """A command-line argument that cannot work."""


def check_arguments(args) -> None:
    """Raise ``UsageError`` with a plain sentence for a radius, opacity or colour map that
    cannot be used (NaN, out of range, unknown), before anything is loaded."""
    low, high = RADIUS_RANGE
    if not (math.isfinite(args.radius) and low <= args.radius <= high):
        raise UsageError(
            f"The entropy radius must be a number from {low} to {high} pixels (got {args.radius})."
        )
    if not (math.isfinite(args.opacity) and 0.0 <= args.opacity <= 1.0):
        raise UsageError(f"The opacity must be a number from 0 to 1 (got {args.opacity}).")
    if args.colormap not in COLORMAPS:
        raise UsageError(
            f"The colour map '{args.colormap}' is unknown; choose one of {', '.join(COLORMAPS)}."
        )
    if getattr(args, "batch_size", 1) < 1:
        raise UsageError(f"The batch size must be at least 1 (got {args.batch_size}).")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"The output {display_name(args.out.name)} exists and is not a folder.")


def collect_images(paths: list[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """(image files, [(name, reason)] of what was skipped) for files and folders given on the
    command line; each file once, in the order given (folders in natural order)."""
    found: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for path in paths:
        if path.is_dir():
            try:
                listing = list_images(path, IMAGE_SUFFIXES)
            except OSError as exc:
                skipped.append((display_name(str(path)), folder_error_message(path, exc)))
                continue
            found.extend(path / name for name in listing.names)
            skipped.extend((display_name(str(path / n)), why) for n, why in listing.skipped)
        elif path.exists():
            found.append(path)
        else:
            skipped.append((display_name(str(path)), "The file does not exist."))
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values()), skipped


def output_stems(images: list[Path], out: Path) -> dict[Path, Path]:
    """For each image, the output stem ``out/<relative folder>/<name with extension>``: the
    path relative to the folder all inputs share, so ``a.png`` and ``a.jpg``, or ``x/a.png``
    and ``y/a.png``, never overwrite each other's outputs."""
    if not images:
        return {}
    resolved = [path.resolve() for path in images]
    common = Path(os.path.commonpath([path.parent for path in resolved]))
    return {
        image: out / path.relative_to(common) for image, path in zip(images, resolved, strict=True)
    }
