"""The ``medgrad-desktop`` command: the viewer by default, plus headless subcommands.

medgrad-desktop [FOLDER] [--model SRC] [--self-test [--screenshot PNG]]
medgrad-desktop explain IMAGE... --model SRC --prompts FILE [--radius R] [--out DIR]
medgrad-desktop train fit|evaluate|synth ...   (the training module's CLI)
medgrad-desktop sessions export|report ...     (rating-session analysis)
medgrad-desktop search|triage FOLDER --model SRC ...   (browse by meaning)
medgrad-desktop evaluate-maps --model SRC --data DIR ...   (map quality against masks)
medgrad-desktop precompute FOLDER --model SRC --prompts FILE ...   (evidence store for the viewer)
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from medgrad_desktop import RESEARCH_NOTICE, __version__

SUBCOMMANDS = ("explain", "train", "sessions", "search", "triage", "evaluate-maps", "precompute")


def _gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medgrad-desktop",
        description="Review CLIP attribution maps of skin-lesion images. " + RESEARCH_NOTICE,
        epilog="Subcommands: explain, train, sessions, search, triage, evaluate-maps, precompute "
        "(run 'medgrad-desktop explain -h').",
    )
    parser.add_argument("folder", nargs="?", type=Path, help="image folder (default: the demo)")
    parser.add_argument("--model", default="demo", help='"demo", a model folder or a .pth file')
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: best)")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="open the window on the demo, wait for the maps, exit 0 if all is well",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        default=None,
        help="with --self-test: save a screenshot of the window here",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _headless(argv: list[str]) -> int:
    command, rest = argv[0], argv[1:]
    if command == "train":
        from training.cli import main as training_main

        return training_main(rest)
    parser = argparse.ArgumentParser(prog="medgrad-desktop")
    subparsers = parser.add_subparsers(dest="command", required=True)
    if command == "explain":
        from medgrad_desktop.explain.cli import register
    elif command in ("search", "triage"):
        from medgrad_desktop.browse.cli import register
    elif command == "evaluate-maps":
        from medgrad_desktop.explain.evaluation.cli import register
    elif command == "precompute":
        from medgrad_desktop.engine.precompute_cli import register
    else:
        from medgrad_desktop.review.cli import register
    register(subparsers)
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None) or getattr(args, "func", None)
    if handler is None:
        from medgrad_desktop.review.cli import run

        handler = run
    return int(handler(args) or 0)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``medgrad-desktop``."""
    from medgrad_desktop.logs import setup_logging

    argv = list(sys.argv[1:] if argv is None else argv)
    setup_logging()
    if argv and argv[0] in SUBCOMMANDS:
        return _headless(argv)
    args = _gui_parser().parse_args(argv)
    from medgrad_desktop.system_libraries import startup_problem

    problem = startup_problem()  # before Qt, which would abort with a misleading message
    if problem:
        logging.getLogger(__name__).error("Cannot start the window: %s", problem)
        print(problem, file=sys.stderr)
        return 1
    from medgrad_desktop.qt.app import run_gui

    return run_gui(
        folder=args.folder,
        model=args.model,
        device=args.device,
        self_test=args.self_test,
        screenshot=args.screenshot,
    )


if __name__ == "__main__":
    sys.exit(main())
