"""``medgrad-desktop search`` and ``medgrad-desktop triage``: browse a folder by meaning
without the window.

search FOLDER --model SRC --query TEXT [--top N] [--json OUT]
triage FOLDER --model SRC [--labels CSV|FOLDER] --out DIR [--prompts FILE] [--gallery N]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.cli_options import add_model_options
from medgrad_desktop.errors import MedGradError

log = logging.getLogger(__name__)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="image folder (class subfolders are included)")
    add_model_options(parser)
    parser.add_argument("--batch-size", type=int, default=32, help="images per model batch")


def register(subparsers) -> None:
    """Add the ``search`` and ``triage`` subcommands."""
    search = subparsers.add_parser(
        "search", help="rank a folder's images by similarity to a text (no window)"
    )
    _common(search)
    search.add_argument("--query", required=True, help="words, or a prompt label of the set")
    search.add_argument("--top", type=int, default=20, help="how many to list (0: all)")
    search.add_argument("--json", type=Path, default=None, help="write the ranking here")
    search.set_defaults(handler=run_search)
    triage = subparsers.add_parser(
        "triage", help="confusion matrix, failure gallery and calibration against labels"
    )
    _common(triage)
    triage.add_argument(
        "--labels",
        type=Path,
        default=None,
        help="CSV (image,label or ISIC ground truth); default: class subfolders of FOLDER",
    )
    triage.add_argument("--out", type=Path, required=True, help="folder for the report")
    triage.add_argument("--gallery", type=int, default=24, help="images per gallery group")
    triage.set_defaults(handler=run_triage)


def _open(args: argparse.Namespace):
    """The prompt set, the model and the folder's embeddings (with a progress bar)."""
    from tqdm import tqdm

    from medgrad_desktop.browse.folder_embeddings import embed_folder, list_folder_images
    from medgrad_desktop.explain import load_model
    from medgrad_desktop.explain.prompt_sets import (
        DEFAULT_PROMPT_SET,
        bundled_prompt_sets,
        load_prompt_set,
    )

    if not args.folder.is_dir():
        raise MedGradError(f"The folder {args.folder} does not exist.")
    if args.batch_size < 1:
        raise MedGradError("The batch size must be at least 1.")
    prompt_set = load_prompt_set(args.prompts or bundled_prompt_sets()[DEFAULT_PROMPT_SET])
    names = list_folder_images(args.folder, include_subfolders=True)
    if not names:
        raise MedGradError(f"The folder {args.folder} contains no images.")
    bundle = load_model(args.model, device=args.device)
    with tqdm(total=len(names), desc="embedding", unit="image", disable=len(names) < 2) as bar:

        def progress(done: int, total: int) -> None:
            bar.update(done - bar.n)

        embeddings = embed_folder(
            bundle, args.folder, names, batch_size=args.batch_size, progress=progress
        )
    for name, message in embeddings.failed.items():
        print(f"skipped {name}: {message}", file=sys.stderr)
    if not len(embeddings):
        raise MedGradError(f"None of the images in {args.folder} could be read.")
    return prompt_set, bundle, embeddings


def _query_texts(prompt_set, query: str):
    """A prompt label of the set stands for its synonym ensemble; anything else is free text."""
    item = next((i for i in prompt_set.items if i.label.lower() == query.strip().lower()), None)
    return list(item.texts) if item is not None else query


def run_search(args: argparse.Namespace) -> int:
    from medgrad_desktop.browse.ranking import rank_by_text

    try:
        if args.top < 0:
            raise MedGradError("--top must be 0 (all images) or more.")
        prompt_set, bundle, embeddings = _open(args)
        ranked = rank_by_text(bundle, embeddings, _query_texts(prompt_set, args.query))
    except MedGradError as exc:
        log.error("%s (%s)", exc, exc.details)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    shown = ranked[: args.top] if args.top else ranked
    for item in shown:
        print(f"{item.score:+.4f}  {item.name}")
    if args.json is not None:
        rows = [{"image": item.name, "score": item.score} for item in shown]
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


def run_triage(args: argparse.Namespace) -> int:
    from medgrad_desktop.browse.labels import load_labels
    from medgrad_desktop.browse.predictions import predict_classes
    from medgrad_desktop.browse.report import write_triage_report
    from medgrad_desktop.browse.triage import triage

    try:
        if args.gallery < 1:
            raise MedGradError("--gallery must be at least 1.")
        if args.labels is not None and not args.labels.exists():
            raise MedGradError(f"The label file {args.labels} does not exist.")
        prompt_set, bundle, embeddings = _open(args)
        labels = load_labels(args.labels, args.folder, embeddings.names, prompt_set)
        result = triage(predict_classes(bundle, embeddings, prompt_set), labels)
        extra = {
            "model_id": bundle.model_id,
            "prompt_set": prompt_set.name,
            "unreadable_images": sorted(embeddings.failed),
            "warnings": labels.warnings,
        }
        metrics, _ = write_triage_report(result, args.folder, args.out, args.gallery, extra)
    except MedGradError as exc:
        log.error("%s (%s)", exc, exc.details)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        log.error("Writing the report failed: %r", exc)
        print(f"error: the report could not be written to {args.out}.", file=sys.stderr)
        return 2
    for warning in labels.warnings:
        print(f"note: {warning}", file=sys.stderr)
    print(
        f"{metrics['images']} labelled images: accuracy {metrics['accuracy']:.3f}, "
        f"macro-F1 {metrics['macro_f1']:.3f}, ECE {metrics['ece']:.3f}. Report in {args.out}."
    )
    print(RESEARCH_NOTICE)
    return 0
