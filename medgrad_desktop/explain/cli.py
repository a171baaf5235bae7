"""``medgrad-desktop explain IMAGE... --model SRC --prompts FILE``: maps without the GUI."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

from medgrad_desktop.cli_options import add_map_options, add_model_options
from medgrad_desktop.errors import ComputeError, MedGradError, unexpected_errors_as
from medgrad_desktop.explain.cli_inputs import (
    UsageError,
    check_arguments,
    collect_images,
    output_stems,
)
from medgrad_desktop.explain.cli_outputs import OutputDiskFull, write_outputs
from medgrad_desktop.explain.listing import display_name

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add the ``explain`` subcommand."""
    parser = subparsers.add_parser(
        "explain", help="write attribution maps of images to files (no window)"
    )
    parser.add_argument("images", nargs="+", type=Path, help="image files or folders")
    add_model_options(parser)
    parser.add_argument("--radius", type=float, default=5, help="entropy window radius (px)")
    parser.add_argument("--out", type=Path, default=Path("explanations"))
    parser.add_argument("--colormap", default="inferno")
    parser.add_argument("--opacity", type=float, default=0.55)
    parser.add_argument(
        "--full-maps",
        action="store_true",
        help="also write the display maps at the image's full resolution (<stem>_<method>.npy;"
        " large: prompts × pixels × 4 bytes per method)",
    )
    add_map_options(parser)
    parser.add_argument(
        "--batch-size", type=int, default=8, help="images explained together (default 8)"
    )
    parser.add_argument(
        "--exact-entropy",
        action="store_true",
        help="compute MedGrad's entropy weight at full resolution (slower)",
    )
    parser.set_defaults(handler=run)


KEEP_DECODED_BYTES = 16 * 1024 * 1024
"""A decoded image up to this size is kept while its batch is explained; a larger one is
decoded again for writing its outputs (memory stays bounded for any batch size)."""


def _fail(path: Path, exc: MedGradError) -> None:
    log.info("%s: %s (%s)", path, exc, exc.details)  # stderr gets the one line below
    print(f"skipped {display_name(str(path))}: {display_name(str(exc))}", file=sys.stderr)


def _evidence(bundle, inputs: list[np.ndarray], texts, args) -> list:
    """Evidence of a batch of model inputs in one trunk pass and one pull-back (what
    ``explain_many`` runs; maps are then rendered per image within the memory bounds). When
    the batch fails, image by image, so one bad image is reported alone: each entry is an
    ``Evidence`` or the ``MedGradError`` of that image."""
    from medgrad_desktop.explain.batch_evidence import evidence_for_images

    def batch(images: list[np.ndarray]) -> list:
        return evidence_for_images(
            bundle,
            images,
            texts,
            variant=args.variant,
            geometry=args.geometry,
            batch_size=args.batch_size,
        )

    try:
        return batch(inputs)
    except MedGradError as exc:
        if len(inputs) == 1:
            return [exc]
    results = []
    for one in inputs:
        try:
            results += batch([one])
        except MedGradError as exc:
            results.append(exc)
    return results


def _prepare(bundle, path: Path, geometry: str) -> tuple[np.ndarray | None, np.ndarray]:
    """(the decoded image if small enough to keep, its model input); raises ``MedGradError``."""
    from medgrad_desktop.explain import load_image

    with unexpected_errors_as(
        ComputeError, f"The image {display_name(path.name)}", "could not be read"
    ):
        rgb = load_image(path)
        model_input = bundle.resize_for_model(rgb, geometry)
    return (rgb if rgb.nbytes <= KEEP_DECODED_BYTES else None), model_input


def _write(bundle, path: Path, stem: Path, rgb, evidence, prompt_set, args) -> None:
    from medgrad_desktop.explain import load_image

    with unexpected_errors_as(
        ComputeError, f"The image {display_name(path.name)}", "could not be explained"
    ):
        try:
            image = rgb if rgb is not None else load_image(path)
            write_outputs(path, stem, image, evidence, prompt_set, bundle, args)
        except OutputDiskFull:
            raise
        except OSError as exc:
            raise ComputeError(
                f"The outputs of {display_name(path.name)} could not be written.", repr(exc)
            ) from exc


def run(args: argparse.Namespace) -> int:
    """Explain every image. Exit code 0 when all were explained, 3 when some could not be
    (each reported, then a summary), 2 for unusable arguments, model or prompts."""
    from tqdm import tqdm

    from medgrad_desktop.explain import load_model
    from medgrad_desktop.explain.prompt_sets import bundled_prompt_sets, load_prompt_set

    try:
        check_arguments(args)
        prompt_file = args.prompts or bundled_prompt_sets()["PH² criteria"]
        prompt_set = load_prompt_set(prompt_file)
        images, skipped = collect_images(args.images)
        if not images and not skipped:
            raise UsageError("No images were found in the files and folders given.")
        bundle = load_model(args.model, device=args.device)
        texts = bundle.encode_prompts(prompt_set.prompts())
        args.out.mkdir(parents=True, exist_ok=True)
    except MedGradError as exc:
        log.info("%s (%s)", exc, exc.details)
        print(f"error: {display_name(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        log.error("Cannot create %s: %r", args.out, exc)
        print(f"error: the output folder {args.out} cannot be created.", file=sys.stderr)
        return 2
    for name, reason in skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    stems = output_stems(images, args.out)
    done, full = 0, False
    with tqdm(total=len(images), desc="explaining", unit="image", disable=len(images) < 2) as bar:
        for start in range(0, len(images), args.batch_size):
            chunk, prepared = images[start : start + args.batch_size], []
            for path in chunk:
                try:
                    prepared.append((path, *_prepare(bundle, path, args.geometry)))
                except MedGradError as exc:
                    _fail(path, exc)
            inputs = [model_input for _, _, model_input in prepared]
            outcomes = _evidence(bundle, inputs, texts, args) if inputs else []
            for (path, rgb, _), evidence in zip(prepared, outcomes, strict=True):
                try:
                    if isinstance(evidence, MedGradError):
                        raise evidence
                    _write(bundle, path, stems[path], rgb, evidence, prompt_set, args)
                except OutputDiskFull as exc:
                    _fail(path, exc)
                    full = True
                    break  # the images after this one would not fit either
                except MedGradError as exc:
                    _fail(path, exc)
                    continue
                done += 1
            bar.update(len(chunk))
            if full:
                break
    total = len(images) + len(skipped)
    if done < total:
        print(
            f"Explained {done} of {total} images; {total - done} could not be explained "
            "(see the messages above).",
            file=sys.stderr,
        )
        return 3
    print(f"Explained {done} images into {args.out}.", file=sys.stderr)
    return 0
