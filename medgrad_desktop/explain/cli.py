"""``medgrad-desktop explain IMAGE... --model SRC --prompts FILE``: maps without the GUI."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.errors import MedGradError
from medgrad_desktop.explain.geometry import GEOMETRIES
from medgrad_desktop.explain.variants import VARIANTS

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add the ``explain`` subcommand."""
    parser = subparsers.add_parser(
        "explain", help="write attribution maps of images to files (no window)"
    )
    parser.add_argument("images", nargs="+", type=Path, help="image files or folders")
    parser.add_argument("--model", default="demo", help='"demo", a model folder or a .pth file')
    parser.add_argument(
        "--prompts",
        type=Path,
        default=None,
        help="prompt set (.yaml) or text file, one prompt per line (default: the PH² prompt set)",
    )
    parser.add_argument("--radius", type=float, default=5, help="entropy window radius (px)")
    parser.add_argument("--out", type=Path, default=Path("explanations"))
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    parser.add_argument("--colormap", default="inferno")
    parser.add_argument("--opacity", type=float, default=0.55)
    parser.add_argument(
        "--variant",
        choices=VARIANTS,
        default="model",
        help='"model": the formulas on the model\'s own forward pass; "zhao2024": the '
        "Grad-ECLIP authors' released code (one attention head), as in the papers' figures",
    )
    parser.add_argument(
        "--geometry",
        choices=GEOMETRIES,
        default="square",
        help='"square": whole image squeezed to the model size; "aspect": short side at the '
        'model size; "native": the image\'s own size (short side at most 640 px)',
    )
    parser.add_argument(
        "--batch-size", type=int, default=8, help="images explained together (default 8)"
    )
    parser.add_argument(
        "--exact-entropy",
        action="store_true",
        help="compute MedGrad's entropy weight at full resolution (slower)",
    )
    parser.set_defaults(handler=run)


def _expand(paths: list[Path]) -> list[Path]:
    from medgrad_desktop.explain.images import list_image_names

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(path / name for name in list_image_names(path))
        else:
            found.append(path)
    return found


def run(args: argparse.Namespace) -> int:
    """Explain every image; a bad image is reported and skipped (exit code 1 at the end)."""
    from tqdm import tqdm

    from medgrad_desktop.explain import load_model
    from medgrad_desktop.explain.prompt_sets import bundled_prompt_sets, load_prompt_set

    try:
        prompt_file = args.prompts or bundled_prompt_sets()["PH² criteria"]
        prompt_set = load_prompt_set(prompt_file)
        bundle = load_model(args.model, device=args.device)
    except MedGradError as exc:
        log.error("%s (%s)", exc, exc.details)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.batch_size < 1:
        print("error: the batch size must be at least 1.", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    images = _expand(args.images)
    failures = 0
    with tqdm(total=len(images), desc="explaining", unit="image", disable=len(images) < 2) as bar:
        for start in range(0, len(images), args.batch_size):
            chunk = images[start : start + args.batch_size]
            failures += _explain_chunk(bundle, prompt_set, chunk, args)
            bar.update(len(chunk))
    return 1 if failures else 0


def _explain_chunk(bundle, prompt_set, paths: list[Path], args: argparse.Namespace) -> int:
    """Explain one batch of files with ``explain_many`` and write every output; returns how
    many files were skipped (a bad image is reported and skipped, never the whole batch)."""
    from medgrad_desktop.explain import explain_many, load_image

    loaded, failures = [], 0
    for path in paths:
        try:
            loaded.append((path, load_image(path)))
        except MedGradError as exc:
            failures += 1
            log.error("%s: %s (%s)", path, exc, exc.details)
            print(f"skipped {path}: {exc}", file=sys.stderr)
    if not loaded:
        return failures
    try:
        results = explain_many(
            bundle,
            [rgb for _, rgb in loaded],
            prompt_set.prompts(),
            batch_size=args.batch_size,
            entropy_radius=args.radius,
            variant=args.variant,
            geometry=args.geometry,
            exact_entropy=args.exact_entropy,
        )
    except MedGradError as exc:
        for path, _ in loaded:
            log.error("%s: %s (%s)", path, exc, exc.details)
            print(f"skipped {path}: {exc}", file=sys.stderr)
        return failures + len(loaded)
    for (path, rgb), result in zip(loaded, results, strict=True):
        result.prompts = prompt_set.labels()
        _write_outputs(bundle, prompt_set, path, rgb, result, args)
    return failures


def _write_outputs(bundle, prompt_set, path: Path, rgb, result, args) -> None:
    """The .npy maps, the JSON summary and the PNG panel of one explained image."""
    from medgrad_desktop.explain.export_panel import save_panel

    stem = args.out / path.stem
    for method, maps in result.maps.items():
        np.save(f"{stem}_{method}.npy", maps)
        np.save(f"{stem}_{method}_patch.npy", result.patch_maps[method])
    summary = {
        "image": str(path),
        "model_id": bundle.model_id,
        "prompt_set": prompt_set.name,
        "prompts": prompt_set.labels(),
        "similarity": result.similarity.tolist(),
        "probability": result.probability.tolist(),
        "entropy_radius": args.radius,
        "exact_entropy": args.exact_entropy,
        "variant": result.variant,
        "geometry": result.geometry,
        "notice": RESEARCH_NOTICE,
    }
    Path(f"{stem}.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    save_panel(
        rgb,
        result,
        Path(f"{stem}_panel.png"),
        title=f"{path.name} · {bundle.describe()}",
        opacity=args.opacity,
        colormap=args.colormap,
    )
