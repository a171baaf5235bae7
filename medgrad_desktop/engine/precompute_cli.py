"""``medgrad-desktop precompute FOLDER --model SRC --prompts FILE``: fill a folder's evidence
store so the viewer browses it without running the model (``torchrun`` shares the work)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from medgrad_desktop.cli_options import add_map_options, add_model_options
from medgrad_desktop.errors import MedGradError

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add the ``precompute`` subcommand."""
    from medgrad_desktop.explain.method_names import METHODS

    parser = subparsers.add_parser(
        "precompute",
        help="compute the evidence of a whole folder ahead of time (GPU or torchrun)",
        description="Compute similarities, probabilities and patch maps of every image in "
        "FOLDER and store them in FOLDER/medgrad-evidence.sqlite; the viewer then shows the "
        "folder without computing. A stopped run continues where it was.",
    )
    parser.add_argument("folder", type=Path, help="image folder")
    add_model_options(parser)
    parser.add_argument(
        "--methods", default=",".join(METHODS), help="comma-separated (default: %(default)s)"
    )
    add_map_options(parser)
    parser.add_argument("--batch-size", type=int, default=64, help="images per batch (64)")
    parser.add_argument(
        "--workers", type=int, default=2, help="image-decoding processes (default 2; 0: none)"
    )
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        help="evidence file to write instead (the viewer reads FOLDER/medgrad-evidence.sqlite)",
    )
    parser.set_defaults(handler=run)


def _device(requested: str | None, local_rank: int, distributed: bool) -> str | None:
    """Under torchrun each rank uses its own GPU (``cuda:LOCAL_RANK``)."""
    import torch

    wants_cuda = requested in (None, "cuda") and torch.cuda.is_available()
    if distributed and wants_cuda:
        return f"cuda:{local_rank}"
    return requested


def run(args: argparse.Namespace) -> int:
    """Precompute; unreadable images are reported and skipped (exit code 1 at the end)."""
    from medgrad_desktop.engine.precompute import precompute_folder
    from medgrad_desktop.explain import load_model
    from medgrad_desktop.explain.geometry import check_geometry
    from medgrad_desktop.explain.method_names import check_methods
    from medgrad_desktop.explain.prompt_sets import bundled_prompt_sets, load_prompt_set
    from medgrad_desktop.explain.provenance import check_variant
    from medgrad_desktop.process_rank import ProcessRank

    shard = ProcessRank.from_environment()
    try:
        if args.batch_size < 1 or args.workers < 0:
            raise MedGradError("The batch size must be at least 1 and workers at least 0.")
        if not args.folder.is_dir():
            raise MedGradError(f"The folder {args.folder} does not exist.")
        try:
            methods = check_methods([m.strip() for m in args.methods.split(",") if m.strip()])
            check_variant(args.variant)
            check_geometry(args.geometry)
        except ValueError as exc:
            raise MedGradError(
                f"Unknown method, variant or geometry ({args.methods}, {args.variant}, "
                f"{args.geometry}); see 'medgrad-desktop precompute -h'.",
                str(exc),
            ) from exc
        prompt_set = load_prompt_set(args.prompts or bundled_prompt_sets()["PH² criteria"])
        device = _device(args.device, shard.local_rank, shard.world_size > 1)
        bundle = load_model(args.model, device=device)
        report = precompute_folder(
            args.folder,
            bundle,
            prompt_set.prompts(),
            methods,
            variant=args.variant,
            geometry=args.geometry,
            batch_size=args.batch_size,
            workers=args.workers,
            store_path=args.store,
            shard=shard,
        )
    except MedGradError as exc:
        log.error("%s (%s)", exc, exc.details)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, reason in report.failed:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    compute_rate = report.computed / report.compute_seconds if report.compute_seconds else 0.0
    print(
        f"{bundle.describe()}: {report.computed} images computed, {report.already_stored} "
        f"already stored, {len(report.failed)} unreadable; {report.images_per_second:.1f} "
        f"images/s with decoding, {compute_rate:.1f} images/s computing"
    )
    return 1 if report.failed else 0
