"""``medgrad-desktop evaluate-maps --model SRC --data DIR``: map quality against ground-truth
masks, written to metrics.json, per_image.jsonl and report.html (resumable)."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

from medgrad_desktop.cli_options import add_map_options, add_model_options
from medgrad_desktop.errors import MedGradError

log = logging.getLogger(__name__)


def _radii(text: str) -> tuple[float, ...]:
    try:
        radii = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        radii = ()
    if not radii or any(r < 1 for r in radii):
        raise argparse.ArgumentTypeError("give radii of at least 1 pixel, e.g. 5 or 5,2,10")
    return radii


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(subparsers) -> None:
    """Add the ``evaluate-maps`` subcommand."""
    from medgrad_desktop.explain.evaluation.deletion import BASELINES

    parser = subparsers.add_parser(
        "evaluate-maps", help="measure how well the maps find structures drawn in masks"
    )
    add_model_options(parser, prompts=False)
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="a synthetic set (manifest.csv with masks) or an ISIC 2018 Task 2 folder",
    )
    parser.add_argument("--methods", nargs="+", default=None, help="maps to evaluate")
    add_map_options(parser)
    parser.add_argument(
        "--radius", type=_radii, default=(5.0,), help="entropy radius R or a sweep R,R,…"
    )
    parser.add_argument("--baseline", choices=BASELINES, default="mean")
    parser.add_argument("--steps", type=_positive, default=20)
    parser.add_argument("--n", type=_positive, default=None, help="evaluate the first N images")
    parser.add_argument("--out", type=Path, default=Path("map_quality"))
    parser.add_argument(
        "--attribute-prompts",
        type=Path,
        default=None,
        help="YAML file 'attribute: prompt' overriding the default prompts",
    )
    parser.add_argument("--sanity-images", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the evaluation with a progress bar; Ctrl-C keeps what is done for a resume."""
    from tqdm import tqdm

    from medgrad_desktop.explain import load_model
    from medgrad_desktop.explain.evaluation.datasets import load_mask_dataset
    from medgrad_desktop.explain.evaluation.methods import available_methods, check_map_names
    from medgrad_desktop.explain.evaluation.runner import EvaluationSettings, evaluate_folder

    try:
        methods = check_map_names(args.methods or available_methods())
        dataset = load_mask_dataset(args.data, args.attribute_prompts)
        bundle = load_model(args.model, device=args.device)
    except MedGradError as exc:
        log.error("%s (%s)", exc, exc.details)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = EvaluationSettings(
        methods=methods,
        variant=args.variant,
        geometry=args.geometry,
        radii=args.radius,
        baseline=args.baseline,
        steps=args.steps,
        seed=args.seed,
        sanity_images=args.sanity_images,
    )
    bar = tqdm(total=min(len(dataset.images), args.n or len(dataset.images)), unit="image")

    def progress(done: int, total: int, message: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_description(message[:30])
        bar.refresh()

    command = "medgrad-desktop evaluate-maps " + shlex.join(sys.argv[2:] if sys.argv[1:] else [])
    try:
        metrics = evaluate_folder(
            bundle,
            dataset,
            settings,
            args.out,
            n=args.n,
            progress=progress,
            provenance={"command": command},
        )
    except KeyboardInterrupt:
        bar.close()
        print("stopped; run the same command again to continue where it stopped", file=sys.stderr)
        return 130
    except MedGradError as exc:
        bar.close()
        log.error("%s (%s)", exc, exc.details)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bar.close()
    print(f"{metrics['n_images']} images, {metrics['n_masks']} masks → {args.out / 'report.html'}")
    return 0
