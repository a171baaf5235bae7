"""Command line of the training module: ``python -m training <command> ...``.

Each command is added by one ``register_<name>(subparsers)`` function that creates its
sub-parser and sets ``func`` (``args -> int`` exit code); add a command by appending its
register function to ``COMMANDS``. Errors of the ``MedGradError`` family end the program
with exit code 2 and one plain line on stderr (details go to the log).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from medgrad_desktop.errors import MedGradError
from medgrad_desktop.logs import setup_logging
from training.commands import register_demo_check, register_evaluate, register_fit
from training.time_estimate import register_estimate

log = logging.getLogger(__name__)


def _run_synth(args: argparse.Namespace) -> int:
    from training.synthetic import write_dataset

    out = write_dataset(args.out, args.n, args.seed, size=args.size, progress=True)
    print(f"Wrote {args.n} synthetic images to {out}")
    return 0


def register_synth(subparsers) -> None:
    """``synth --out DIR --n N --seed S [--size 224]``: write a synthetic dermoscopy dataset."""
    parser = subparsers.add_parser(
        "synth",
        help="write a synthetic dermoscopy dataset with structure masks",
        description="Write synthetic dermoscopy images, masks, descriptions.csv and manifest.csv.",
    )
    parser.add_argument("--out", type=Path, required=True, help="new or empty output folder")
    parser.add_argument("--n", type=int, required=True, help="number of images")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--size", type=int, default=224, help="image side in pixels (default 224)")
    parser.set_defaults(func=_run_synth)


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    register_synth,
    register_fit,
    register_evaluate,
    register_demo_check,
    register_estimate,
]
"""Register functions of the sub-commands, in the order they are listed in ``--help``."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="python -m training", description="Fine-tune CLIP on image–text pairs."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 2 bad input or usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging()
    try:
        return int(args.func(args))
    except MedGradError as exc:
        # INFO keeps stderr to the one line below; the log file gets the details.
        log.info("%s failed: %s %s", args.command, exc.message, exc.details)
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
