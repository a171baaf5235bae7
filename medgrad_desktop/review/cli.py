"""``medgrad-desktop sessions ...``: export merged ratings and build the study report headless.

    sessions export FILE... --csv OUT [--json OUT]
    sessions report FILE... --json OUT [--html OUT]

Errors print one plain line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from medgrad_desktop.errors import MedGradError

log = logging.getLogger(__name__)


def _add_commands(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="sessions_command", required=True, metavar="COMMAND")
    export = commands.add_parser("export", help="merge session files into one table")
    export.add_argument("files", nargs="+", metavar="FILE", help="session files")
    export.add_argument("--csv", metavar="OUT", help="write the ratings as CSV")
    export.add_argument("--json", metavar="OUT", help="write the ratings as JSON")
    report = commands.add_parser("report", help="agreement and method comparison")
    report.add_argument("files", nargs="+", metavar="FILE", help="session files")
    report.add_argument("--json", metavar="OUT", required=True, help="write the report JSON")
    report.add_argument("--html", metavar="OUT", help="also write a self-contained HTML report")


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``sessions`` command to a top-level ``add_subparsers()`` object."""
    parser = subparsers.add_parser(
        "sessions", help="export rating sessions and build the reader-study report"
    )
    _add_commands(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run a parsed ``sessions`` command; 0 on success, 2 on a user-facing error."""
    from medgrad_desktop.review.analysis import build_report, read_sessions
    from medgrad_desktop.review.export import export_csv, export_json, write_text_atomic

    try:
        ratings, files = read_sessions(args.files)
        if args.sessions_command == "export":
            if not (args.csv or args.json):
                raise MedGradError("Say where to write the ratings with --csv OUT or --json OUT.")
            if args.csv:
                export_csv(ratings, args.csv)
            if args.json:
                export_json(ratings, args.json)
            print(f"Exported {len(ratings)} ratings from {len(args.files)} file(s).")
        else:
            from medgrad_desktop.review.report_html import render_html

            report = build_report(ratings, files)
            export_json(report, args.json)
            if args.html:
                write_text_atomic(args.html, render_html(ratings, report))
            print(f"Report on {len(report['readers'])} reader(s), {len(report['cases'])} cases.")
    except MedGradError as exc:
        log.debug("sessions %s failed: %s", args.sessions_command, exc.details)
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for tests and scripts: ``argv`` is what follows ``sessions``."""
    parser = argparse.ArgumentParser(prog="medgrad-desktop sessions")
    _add_commands(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return run(args)
