"""Export and study report of session files, run off the GUI thread (``review`` functions)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from medgrad_desktop.errors import MedGradError
from medgrad_desktop.qt.background import LongJob

log = logging.getLogger(__name__)


def export_ratings(files: Sequence[Path], csv_path: Path) -> str:
    """Merge ``files`` and write their ratings as CSV; returns a one-line summary."""
    from medgrad_desktop.review.analysis import merge_sessions
    from medgrad_desktop.review.export import export_csv

    ratings = merge_sessions(files)
    export_csv(ratings, csv_path)
    return f"Exported {len(ratings)} ratings from {len(files)} session file(s) to {csv_path}."


def write_report(files: Sequence[Path], html_path: Path) -> str:
    """Write the study report as HTML and, next to it, as JSON; returns a one-line summary."""
    from medgrad_desktop.review.analysis import build_report, read_sessions
    from medgrad_desktop.review.export import export_json, write_text_atomic
    from medgrad_desktop.review.report_html import render_html

    ratings, sources = read_sessions(files)
    report = build_report(ratings, sources)
    export_json(report, html_path.with_suffix(".json"))
    write_text_atomic(html_path, render_html(ratings, report))
    return (
        f"Report on {len(report['readers'])} reader(s) and {len(report['cases'])} cases "
        f"saved to {html_path}."
    )


class AnalysisJob(QObject):
    """Runs one export or report in the background; ``finished(summary, output)`` or
    ``failed(message)`` arrive on the GUI thread. Keep a reference until it ends (no Qt
    parent, so closing a window never deletes a running job)."""

    finished = Signal(str, object)  # summary, output Path
    failed = Signal(str)

    def __init__(self, kind: str, files: Sequence[Path], output: Path) -> None:
        super().__init__()
        if kind not in ("export", "report"):
            raise ValueError(f"unknown analysis {kind!r}")
        self.kind, self.files, self.output = kind, [Path(f) for f in files], Path(output)
        self._job: LongJob | None = None

    def start(self) -> None:
        self._job = LongJob(self._run, on_error=self._unexpected)

    def wait(self, timeout: float | None = None) -> bool:
        return self._job is None or self._job.wait(timeout)

    def _run(self) -> None:
        work = export_ratings if self.kind == "export" else write_report
        try:
            summary = work(self.files, self.output)
        except MedGradError as error:
            log.error("Sessions %s failed: %s (%s)", self.kind, error.message, error.details)
            self.failed.emit(error.message)
            return
        except OSError as error:
            log.error("Sessions %s failed: %r", self.kind, error)
            self.failed.emit(f"The file {self.output} could not be written.")
            return
        self.finished.emit(summary, self.output)

    def _unexpected(self, _error: BaseException) -> None:
        """A bug (logged in full by ``run_in_background``): the job still ends with a message,
        never "Working…" forever."""
        self.failed.emit(
            f"The {self.kind} could not be made because of an unexpected error; "
            "the details are in the log file."
        )
