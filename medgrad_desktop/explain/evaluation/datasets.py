"""Images with ground-truth masks for map-quality evaluation.

Two layouts are read:

- the synthetic manifest (``manifest.csv`` with a ``masks`` column, as ``training.synthetic``
  writes it): each structure mask is an attribute;
- an ISIC 2018 Task 2 folder as downloaded: ``ISIC_XXXXXXX.jpg`` images and
  ``ISIC_XXXXXXX_attribute_<name>.png`` masks anywhere below the folder (the challenge ships
  them in two sub-folders).

Each attribute is explained with a prompt from an editable mapping (``attribute_prompts``); a
mapping file (YAML ``attribute: prompt``) overrides the defaults, and ``null`` drops an
attribute. Empty masks are skipped at evaluation time and counted there.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from medgrad_desktop.errors import DataError

log = logging.getLogger(__name__)

ISIC_ATTRIBUTE_PROMPTS: dict[str, str] = {
    "pigment_network": "pigment network",
    "globules": "dots/globules",
    "streaks": "streaks",
    "milia_like_cyst": "milia-like cysts",
    "negative_network": "negative network",
}
"""ISIC 2018 Task 2 attribute → prompt (the challenge's five dermoscopic attributes)."""

ISIC_IMAGE = re.compile(r"^(ISIC_\d+)\.jpe?g$", re.IGNORECASE)
ISIC_MASK = re.compile(r"^(ISIC_\d+)_attribute_([a-z_]+)\.png$", re.IGNORECASE)


def synthetic_attribute_prompts() -> dict[str, str]:
    """Synthetic structure → the phrase the synthetic descriptions use for it."""
    from training.synthetic import STRUCTURE_PHRASES

    return dict(STRUCTURE_PHRASES)


@dataclass
class MaskedImage:
    """One image and its attribute masks (only attributes that have a prompt)."""

    key: str
    image: Path
    masks: dict[str, Path]


@dataclass
class MaskDataset:
    """The images to evaluate, the attribute → prompt mapping and what was left out."""

    images: list[MaskedImage]
    prompts: dict[str, str]
    layout: str
    unmapped_attributes: list[str] = field(default_factory=list)
    images_without_masks: int = 0


def load_attribute_prompts(path: str | Path | None, defaults: dict[str, str]) -> dict[str, str]:
    """``defaults`` overridden by a YAML mapping file (``null`` drops an attribute)."""
    prompts = dict(defaults)
    if path is None:
        return prompts
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataError(
            f"The attribute-prompt file {Path(path).name} could not be read.", str(exc)
        ) from exc
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise DataError(
            f"The attribute-prompt file {Path(path).name} must list lines 'attribute: prompt'."
        )
    for attribute, prompt in data.items():
        if prompt is None or not str(prompt).strip():
            prompts.pop(attribute, None)
        else:
            prompts[attribute] = str(prompt).strip()
    return prompts


def _keep_mapped(images, prompts) -> tuple[list[MaskedImage], list[str], int]:
    unmapped: set[str] = set()
    kept: list[MaskedImage] = []
    without = 0
    for item in images:
        unmapped |= {name for name in item.masks if name not in prompts}
        masks = {name: path for name, path in item.masks.items() if name in prompts}
        if masks:
            kept.append(MaskedImage(item.key, item.image, masks))
        else:
            without += 1
    return kept, sorted(unmapped), without


def _synthetic_images(manifest: Path) -> list[MaskedImage]:
    from training.data import load_samples

    report = load_samples(manifest, check_images=False)
    return [MaskedImage(s.image.stem, s.image, dict(s.masks)) for s in report.samples]


def _isic_images(folder: Path) -> list[MaskedImage]:
    images: dict[str, Path] = {}
    masks: dict[str, dict[str, Path]] = {}
    for path in sorted(folder.rglob("ISIC_*")):
        if match := ISIC_IMAGE.match(path.name):
            images[match.group(1)] = path
        elif match := ISIC_MASK.match(path.name):
            masks.setdefault(match.group(1), {})[match.group(2).lower()] = path
    orphans = sorted(set(masks) - set(images))
    if orphans:
        log.warning("%d ISIC masks have no image (e.g. %s); ignored.", len(orphans), orphans[0])
    return [MaskedImage(key, images[key], masks.get(key, {})) for key in sorted(images)]


def load_mask_dataset(
    folder: str | Path, attribute_prompts: str | Path | None = None
) -> MaskDataset:
    """Find the images and masks under ``folder`` (synthetic manifest or ISIC 2018 Task 2)."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"The folder {root.name or root} does not exist.")
    if (root / "manifest.csv").is_file():
        layout, defaults = "synthetic manifest", synthetic_attribute_prompts()
        found = _synthetic_images(root / "manifest.csv")
    else:
        layout, defaults = "ISIC 2018 Task 2", ISIC_ATTRIBUTE_PROMPTS
        found = _isic_images(root)
    prompts = load_attribute_prompts(attribute_prompts, defaults)
    images, unmapped, without = _keep_mapped(found, prompts)
    if not images:
        raise DataError(
            f"No images with ground-truth masks were found in {root.name or root}. Expected a "
            "synthetic manifest.csv with masks or ISIC 2018 Task 2 images and attribute masks."
        )
    if unmapped:
        log.info("Attributes without a prompt (not evaluated): %s", ", ".join(unmapped))
    return MaskDataset(images, prompts, layout, unmapped, without)


def read_mask(path: Path, image_hw: tuple[int, int]) -> np.ndarray:
    """A binary mask (H, W) bool at the image's size (nearest-neighbour if it differs)."""
    try:
        with Image.open(path) as handle:
            grey = handle.convert("L")
            if grey.size != (image_hw[1], image_hw[0]):
                log.info("Mask %s is %s; resized to the image.", path.name, grey.size)
                grey = grey.resize((image_hw[1], image_hw[0]), Image.Resampling.NEAREST)
            return np.asarray(grey) > 127
    except OSError as exc:
        raise DataError(f"The mask {path.name} could not be read.", str(exc)) from exc
