"""Synthetic dermoscopy images with ground-truth structure masks, deterministic by seed.

Each case shows a dermoscope's circular field of view, skin, a few hairs and a lesion of
irregular outline carrying dermoscopic structures. Which structures are drawn defines the class
(see ``CLASS_RULES``) and the PH²/7-point-style description, e.g.
``"melanoma. asymmetry in two axes; atypical pigment network; blue-whitish veil present;
colours: dark brown, black, blue-grey, white."`` (clauses separated by ``"; "``).
The masks say exactly where each structure was drawn, so they serve as ground truth for
explanation-quality checks. ``write_dataset`` writes a folder readable by ``training.data``.
"""

from __future__ import annotations

import csv
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from medgrad_desktop.errors import DataError
from training.data import DESCRIPTIONS_NAME, MANIFEST_NAME, Sample
from training.splits import assign_splits
from training.synthetic_draw import pixel_grid, smooth_noise
from training.synthetic_lesion import Lesion, draw_hairs, make_lesion, paint_lesion_colours
from training.synthetic_structures import STRUCTURE_PAINTERS

log = logging.getLogger(__name__)

CLASSES: tuple[str, ...] = ("common nevus", "atypical nevus", "melanoma")

STRUCTURES: tuple[str, ...] = (
    "typical_pigment_network",
    "atypical_pigment_network",
    "regular_dots_globules",
    "irregular_dots_globules",
    "irregular_streaks",
    "blue_whitish_veil",
    "regression_structures",
)
"""Mask keys of the structures, in the order they are painted and described."""

STRUCTURE_PHRASES: dict[str, str] = {
    "typical_pigment_network": "typical pigment network",
    "atypical_pigment_network": "atypical pigment network",
    "regular_dots_globules": "regular dots/globules",
    "irregular_dots_globules": "irregular dots/globules",
    "irregular_streaks": "irregular streaks",
    "blue_whitish_veil": "blue-whitish veil present",
    "regression_structures": "regression structures",
}

ASYMMETRY_PHRASES: dict[str, str] = {
    "none": "no asymmetry",
    "one axis": "asymmetry in one axis",
    "two axes": "asymmetry in two axes",
}

CLASS_RULES: dict[str, str] = {
    "common nevus": "typical pigment network, maybe regular dots; symmetric; one colour",
    "atypical nevus": (
        "atypical pigment network and/or irregular dots; asymmetry in one axis; two colours "
        "(light and dark brown); never veil, streaks or regression"
    ),
    "melanoma": (
        "blue-whitish veil and/or irregular streaks, usually regression, atypical network and "
        "irregular dots; asymmetry in two axes; three or more colours"
    ),
}
"""Human-readable summary of the structure rules each class follows (tests check them)."""

SKIN_LIGHT = np.array([0.94, 0.78, 0.70], dtype=np.float32)
SKIN_DARK = np.array([0.78, 0.56, 0.44], dtype=np.float32)


@dataclass
class SyntheticCase:
    """One synthetic dermoscopy image with its class, description and masks."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    label: str
    text: str
    masks: dict[str, np.ndarray]  # "lesion" and each present structure: (H, W) bool
    structures: list[str]  # keys of the structures present, in STRUCTURES order
    colours: list[str] = field(default_factory=list)
    asymmetry: str = "none"
    field_of_view: np.ndarray | None = None  # (H, W) bool, inside the dermoscope's circle


@dataclass
class CasePlan:
    """What a case will show, decided before any pixel is painted."""

    label: str
    structures: list[str]
    asymmetry: str
    base_colours: list[str]


def _plan_case(rng: np.random.Generator, label: str) -> CasePlan:
    """Choose structures, asymmetry and lesion colours following the class rules."""
    if label == "common nevus":
        structures = ["typical_pigment_network"]
        if rng.random() < 0.35:
            structures.append("regular_dots_globules")
        base = [str(rng.choice(["light brown", "dark brown"]))]
        return CasePlan(label, structures, "none", base)
    if label == "atypical nevus":
        kind = rng.choice(3, p=[0.35, 0.25, 0.40])
        structures = []
        if kind in (0, 2):
            structures.append("atypical_pigment_network")
        if kind in (1, 2):
            structures.append("irregular_dots_globules")
        return CasePlan(label, structures, "one axis", ["light brown", "dark brown"])
    if label == "melanoma":
        kind = rng.choice(3, p=[0.35, 0.30, 0.35])
        structures = []
        if rng.random() < 0.8:
            structures.append("atypical_pigment_network")
        if rng.random() < 0.4:
            structures.append("irregular_dots_globules")
        if kind in (1, 2):
            structures.append("irregular_streaks")
        if kind in (0, 2):
            structures.append("blue_whitish_veil")
        if rng.random() < 0.7:
            structures.append("regression_structures")
        base = ["dark brown", "black"]
        if rng.random() < 0.5 or len(structures) < 3:
            base.insert(0, "light brown")
        if rng.random() < 0.25:
            base.append("red")
        return CasePlan(label, structures, "two axes", base)
    raise ValueError(f"unknown class {label!r}; expected one of {CLASSES}")


def describe(label: str, asymmetry: str, structures: list[str], colours: list[str]) -> str:
    """The description text: ``"<label>. clause; clause; ...; colours: a, b."``."""
    clauses = [ASYMMETRY_PHRASES[asymmetry]]
    clauses += [STRUCTURE_PHRASES[s] for s in STRUCTURES if s in structures]
    clauses.append("colours: " + ", ".join(colours))
    return f"{label}. " + "; ".join(clauses) + "."


def _field_of_view(rng, size, x, y) -> tuple[np.ndarray, np.ndarray]:
    """The dermoscope's circle: (soft brightness falloff, boolean inside) with black corners."""
    centre = size / 2 + rng.normal(0.0, 0.01 * size, 2)
    radius = size * rng.uniform(0.47, 0.55)
    distance = np.hypot(x - centre[0], y - centre[1])
    edge = np.clip((radius - distance) / (1.5 * size / 224) + 0.5, 0.0, 1.0)
    falloff = edge * (1.0 - 0.28 * np.clip(distance / radius, 0, 1) ** 4)
    inside = distance < radius - 2.0 * size / 224
    return falloff.astype(np.float32), inside


def _skin(rng, size, unit) -> np.ndarray:
    """Skin-tone background with low-frequency tone variation, redness and fine texture."""
    tone = SKIN_LIGHT + (SKIN_DARK - SKIN_LIGHT) * rng.uniform(0.0, 1.0)
    canvas = np.broadcast_to(tone, (size, size, 3)).copy()
    canvas *= 1.0 + 0.035 * smooth_noise(rng, size, 30 * unit)[..., None]
    redness = np.clip(smooth_noise(rng, size, 18 * unit), 0, None) * rng.uniform(0.0, 0.04)
    canvas[..., 1:] -= redness[..., None]
    canvas *= 1.0 + 0.025 * smooth_noise(rng, size, 0.8 * unit)[..., None]
    return canvas


def generate_case(seed: int, size: int = 224, *, label: str | None = None) -> SyntheticCase:
    """Draw one synthetic dermoscopy case; the same ``seed`` (and label) gives the same case.

    ``label`` forces the class (``write_dataset`` balances classes this way); by default the
    class is drawn from the seed.
    """
    if size < 32:
        raise ValueError("synthetic images must be at least 32 pixels wide")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 20250611]))
    label = str(rng.choice(CLASSES)) if label is None else label
    plan = _plan_case(rng, label)
    unit = size / 224.0
    x, y = pixel_grid(size)
    falloff, inside = _field_of_view(rng, size, x, y)
    canvas = _skin(rng, size, unit)
    lesion: Lesion = make_lesion(rng, size, plan.asymmetry, x, y, inside)
    colour_map = paint_lesion_colours(rng, canvas, lesion, plan.base_colours)

    masks: dict[str, np.ndarray] = {"lesion": lesion.mask.copy()}
    colours = list(plan.base_colours)
    for name in STRUCTURES:
        if name in plan.structures:
            mask, extra_colours = STRUCTURE_PAINTERS[name](rng, canvas, lesion, colour_map, plan)
            masks[name] = mask & inside
            colours += [c for c in extra_colours if c not in colours]
    _remove_occluded(masks)

    draw_hairs(rng, canvas, size, x, y)
    canvas *= falloff[..., None]
    canvas += rng.normal(0.0, 0.01, canvas.shape).astype(np.float32) * falloff[..., None]
    image = (np.clip(canvas, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    ordered_colours = _order_colours(colours)
    present = [s for s in STRUCTURES if s in plan.structures]
    return SyntheticCase(
        image=image,
        label=label,
        text=describe(label, plan.asymmetry, present, ordered_colours),
        masks=masks,
        structures=present,
        colours=ordered_colours,
        asymmetry=plan.asymmetry,
        field_of_view=inside,
    )


COLOUR_ORDER = ("white", "red", "light brown", "dark brown", "black", "blue-grey")
"""PH² colour list order, used in the descriptions."""


def _order_colours(colours: list[str]) -> list[str]:
    return [c for c in COLOUR_ORDER if c in colours]


def _remove_occluded(masks: dict[str, np.ndarray]) -> None:
    """Structures painted later cover earlier ones: cut them out of earlier masks if any remains."""
    covering = [k for k in ("blue_whitish_veil", "regression_structures") if k in masks]
    for name in list(masks):
        if name == "lesion" or name in covering:
            continue
        for cover in covering:
            visible = masks[name] & ~masks[cover]
            if visible.any():
                masks[name] = visible
    if "blue_whitish_veil" in masks and "regression_structures" in masks:
        veil = masks["blue_whitish_veil"] & ~masks["regression_structures"]
        if veil.any():
            masks["blue_whitish_veil"] = veil


def _case_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


def _patients(n: int, seed: int) -> list[tuple[str, str]]:
    """(label, group) per image: classes in turn; about a third of later patients have 2 images.

    The first three patients of each class have one image, so any n ≥ 9 can be split.
    """
    rng = random.Random(seed)
    entries: list[tuple[str, str]] = []
    patient = 0
    while len(entries) < n:
        label = CLASSES[patient % len(CLASSES)]
        images = 2 if patient >= 3 * len(CLASSES) and rng.random() < 0.3 else 1
        entries += [(label, f"P{patient:05d}")] * min(images, n - len(entries))
        patient += 1
    return entries


def write_dataset(
    out_dir: str | Path,
    n: int,
    seed: int,
    size: int = 224,
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    *,
    progress: bool = False,
) -> Path:
    """Write ``n`` synthetic cases to ``out_dir`` and return it.

    Layout: ``images/synth_00000.png``, ``masks/synth_00000_<structure>.png`` (0/255, one per
    structure and ``lesion``), ``descriptions.csv`` (seed format: header ``description``, one
    row per image in sorted file order) and ``manifest.csv`` (image, text, label, group, split,
    masks — masks ``;``-joined, paths relative to ``out_dir``). Classes are balanced; groups
    are patients, some with two images. Refuses an existing non-empty ``out_dir``. With fewer
    than 9 images the split column is left empty (too few patients to stratify).
    """
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"The folder {out} already exists and is not empty; choose a new folder.")
    if n < 1:
        raise DataError("The number of synthetic images must be at least 1.")
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(exist_ok=True)
    digits = max(5, len(str(n - 1)))
    samples = []
    for index, (label, group) in enumerate(
        tqdm(_patients(n, seed), desc="synthetic images", disable=not progress)
    ):
        case = generate_case(_case_seed(seed, index), size, label=label)
        stem = f"synth_{index:0{digits}d}"
        image = out / "images" / f"{stem}.png"
        Image.fromarray(case.image).save(image)
        masks = {}
        for name, mask in case.masks.items():
            masks[name] = out / "masks" / f"{stem}_{name}.png"
            Image.fromarray(mask.astype(np.uint8) * 255).save(masks[name])
        samples.append(Sample(image, case.text, label, group, None, masks))
    if n >= 3 * len(CLASSES):
        samples = assign_splits(samples, split_fractions, seed)
    else:
        log.info("Only %d synthetic images: no train/val/test split assigned.", n)
    _write_tables(out, samples)
    return out


def _write_tables(out: Path, samples: list[Sample]) -> None:
    """descriptions.csv (seed format) and manifest.csv, rows in file-name order."""
    with open(out / DESCRIPTIONS_NAME, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["description"])
        writer.writerows([s.text] for s in samples)
    with open(out / MANIFEST_NAME, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "text", "label", "group", "split", "masks"])
        for s in samples:
            masks = ";".join(p.relative_to(out).as_posix() for p in s.masks.values())
            writer.writerow(
                [
                    s.image.relative_to(out).as_posix(),
                    s.text,
                    s.label,
                    s.group,
                    s.split or "",
                    masks,
                ]
            )
