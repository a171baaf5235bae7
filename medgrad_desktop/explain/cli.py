"""``medgrad-desktop explain IMAGE... --model SRC --prompts FILE``: maps without the GUI."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

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
        "--full-maps",
        action="store_true",
        help="also write the display maps at the image's full resolution (<stem>_<method>.npy;"
        " large: prompts × pixels × 4 bytes per method)",
    )
    parser.set_defaults(handler=run)


def _fail(path: Path, exc: MedGradError) -> None:
    log.info("%s: %s (%s)", path, exc, exc.details)  # stderr gets the one line below
    print(f"skipped {display_name(str(path))}: {display_name(str(exc))}", file=sys.stderr)


def _evidence(bundle, image: np.ndarray, texts):
    from medgrad_desktop.explain import compute_evidence

    return compute_evidence(bundle, image, texts)


def run(args: argparse.Namespace) -> int:
    """Explain every image. Exit code 0 when all were explained, 3 when some could not be
    (each reported, then a summary), 2 for unusable arguments, model or prompts."""
    from tqdm import tqdm

    from medgrad_desktop.explain import load_image, load_model
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
    done = 0
    for path in tqdm(images, desc="explaining", unit="image", disable=len(images) < 2):
        try:
            with unexpected_errors_as(
                ComputeError, f"The image {display_name(path.name)}", "could not be explained"
            ):
                try:
                    rgb = load_image(path)
                    evidence = _evidence(bundle, rgb, texts)
                    write_outputs(path, stems[path], rgb, evidence, prompt_set, bundle, args)
                except OutputDiskFull:
                    raise
                except OSError as exc:
                    raise ComputeError(
                        f"The outputs of {display_name(path.name)} could not be written.", repr(exc)
                    ) from exc
        except OutputDiskFull as exc:
            _fail(path, exc)
            break  # the images after this one would not fit either
        except MedGradError as exc:
            _fail(path, exc)
            continue
        done += 1
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
