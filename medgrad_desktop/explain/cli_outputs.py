"""What ``explain`` writes for one image, in bounded memory whatever the image's size.

* ``<stem>.json``: similarities, class probabilities (``null`` for criteria), provenance;
* ``<stem>_<method>_patch.npy``: the raw maps on the patch grid (K, gh, gw), always;
* ``<stem>_panel.png``: the figure, drawn from a copy shrunk to ``PANEL_IMAGE_SIDE`` pixels;
* ``<stem>_<method>.npy`` (``--full-maps`` only): display maps (K, H, W) at the image's
  resolution, rendered and written one prompt at a time into a memory-mapped file.

Full-resolution maps of all prompts at once would need K × H × W × 4 bytes per method (5.8 GB
for a 24-megapixel photo and 20 prompts); here at most one prompt's map is in memory.
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.errors import MedGradError
from medgrad_desktop.explain.attribution import ExplainResult, render_maps
from medgrad_desktop.explain.display import display_maps, medgrad_display_maps
from medgrad_desktop.explain.entropy import entropy_weight
from medgrad_desktop.explain.export_panel import PANEL_IMAGE_SIDE, save_panel
from medgrad_desktop.explain.listing import display_name
from medgrad_desktop.explain.methods import get_method
from medgrad_desktop.explain.zero_shot import prompt_probabilities

PROBABILITY_DEFINITION = (
    "softmax of logit_scale × cosine similarity over the prompt set's classes; criteria have "
    "a similarity only"
)


NO_ROOM_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
"""Disk full, quota used up, file larger than the file system (or process) allows."""


class OutputDiskFull(MedGradError):
    """The output folder's disk is full (the batch stops: later images would fail too)."""


def disk_full(path: Path, details: str = "") -> OutputDiskFull:
    return OutputDiskFull(
        f"The disk of the output folder {display_name(path.name)} has no room left for the "
        "outputs; free some space or choose another folder with --out.",
        details,
    )


def shrink(image: np.ndarray, side: int = PANEL_IMAGE_SIDE) -> np.ndarray:
    """``image`` with its longer side at most ``side`` pixels (area-averaged)."""
    height, width = image.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BOX))


def _summary(path: Path, evidence, prompt_set, bundle, args, probabilities) -> dict:
    return {
        "image": display_name(str(path)),
        "model_id": bundle.model_id,
        "prompt_set": prompt_set.name,
        "prompts": prompt_set.labels(),
        "kinds": [item.kind for item in prompt_set.items],
        "similarity": [float(v) for v in evidence.similarity],
        "probability": probabilities,
        "probability_definition": PROBABILITY_DEFINITION,
        "entropy_radius": args.radius,
        "full_maps": bool(args.full_maps),
        "variant": evidence.variant,
        "geometry": evidence.geometry,
        "exact_entropy": bool(args.exact_entropy),
        "notice": RESEARCH_NOTICE,
    }


def write_full_maps(
    evidence, image: np.ndarray, stem: Path, model_side: int, radius, exact: bool = False
) -> None:
    """``<stem>_<method>.npy`` (K, H, W) float32, rendered and appended one prompt at a time
    (plain writes, not a memory map, so not even address space grows with K)."""
    height, width = image.shape[:2]
    weight = None
    for method, patch in evidence.patch_maps.items():
        entropy_weighted = get_method(method).pixel_weight == "entropy"
        if entropy_weighted and weight is None:
            weight = entropy_weight(image, radius, model_side, exact=exact)
        header = {"descr": "<f4", "fortran_order": False, "shape": (len(patch), height, width)}
        with open(f"{stem}_{method}.npy", "wb") as handle:
            np.lib.format.write_array_header_1_0(handle, header)
            for k in range(len(patch)):
                one = patch[k : k + 1]
                rendered = (
                    medgrad_display_maps(one, weight)
                    if entropy_weighted
                    else display_maps(one, height, width)
                )
                handle.write(np.ascontiguousarray(rendered[0], dtype="<f4").tobytes())


def full_maps_bytes(evidence, image: np.ndarray) -> int:
    height, width = image.shape[:2]
    return sum(len(p) * height * width * 4 for p in evidence.patch_maps.values())


def write_outputs(path: Path, stem: Path, image, evidence, prompt_set, bundle, args) -> None:
    """Write every output of one image; raises ``OutputDiskFull`` when the disk is full (the
    partial files of this image are removed) and lets other ``OSError`` through."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        if args.full_maps:
            needed = full_maps_bytes(evidence, image)
            free = shutil.disk_usage(stem.parent).free
            if needed > free:
                raise disk_full(args.out, f"full maps need {needed} bytes, {free} free")
        probabilities = prompt_probabilities(
            evidence.similarity, prompt_set.class_indices(), bundle.logit_scale
        )
        for method, patch in evidence.patch_maps.items():
            written.append(Path(f"{stem}_{method}_patch.npy"))
            np.save(written[-1], patch)
        summary = _summary(path, evidence, prompt_set, bundle, args, probabilities)
        written.append(Path(f"{stem}.json"))
        written[-1].write_text(json.dumps(summary, indent=2), encoding="utf-8")
        small = shrink(image)
        result = ExplainResult(
            prompts=prompt_set.labels(),
            similarity=evidence.similarity,
            probability=evidence.probability,
            patch_maps=evidence.patch_maps,
            maps=render_maps(
                evidence, small, bundle.image_size, args.radius, exact_entropy=args.exact_entropy
            ),
            variant=evidence.variant,
            geometry=evidence.geometry,
        )
        written.append(Path(f"{stem}_panel.png"))
        save_panel(
            small,
            result,
            written[-1],
            title=f"{display_name(path.name)} · {bundle.describe()}",
            opacity=args.opacity,
            colormap=args.colormap,
            probabilities=probabilities,
        )
        if args.full_maps:
            written += [Path(f"{stem}_{method}.npy") for method in evidence.patch_maps]
            write_full_maps(
                evidence, image, stem, bundle.image_size, args.radius, args.exact_entropy
            )
    except BaseException as exc:
        for partial in written:
            partial.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in NO_ROOM_ERRNOS:
            raise disk_full(args.out, repr(exc)) from exc
        raise
