"""The command-line options that several subcommands share (model, prompts, device, variant,
geometry), defined once so their names, defaults and help read the same everywhere."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_model_options(parser: argparse.ArgumentParser, prompts: bool = True) -> None:
    """``--model``, ``--device`` and (unless ``prompts`` is false) ``--prompts``."""
    parser.add_argument("--model", default="demo", help='"demo", a model folder or a .pth file')
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    if prompts:
        parser.add_argument(
            "--prompts",
            type=Path,
            default=None,
            help="prompt set (.yaml) or text file, one prompt per line "
            "(default: the PH² prompt set)",
        )


def add_map_options(parser: argparse.ArgumentParser) -> None:
    """``--variant`` and ``--geometry``, with the choices the science core knows."""
    from medgrad_desktop.explain.geometry import GEOMETRIES
    from medgrad_desktop.explain.provenance import VARIANTS

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
