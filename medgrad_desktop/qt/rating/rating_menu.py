"""The "Rating session" menu: new/open session, hand in, leave rating mode, export and study
report."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QDialog, QFileDialog, QMenu

from medgrad_desktop.errors import SessionError
from medgrad_desktop.paths import user_subdir
from medgrad_desktop.qt.rating.analysis_job import AnalysisJob
from medgrad_desktop.qt.rating.rating_controller import RatingController
from medgrad_desktop.qt.rating.session_dialog import SessionDialog
from medgrad_desktop.qt.widgets.method_availability import method_availability
from medgrad_desktop.qt.widgets.warning_box import show_warning
from medgrad_desktop.review import RatingSession, RatingStore
from medgrad_desktop.review.naming import SESSION_SUFFIX
from medgrad_desktop.review.schema import ALL_METHODS

log = logging.getLogger(__name__)

SESSION_FILTER = f"Rating sessions (*{SESSION_SUFFIX});;All files (*)"


class RatingMenu(QMenu):
    """Owns the window's rating mode (one ``RatingController`` at a time) and analysis jobs.

    ``open_url`` opens the HTML report (the system browser by default; tests replace it).
    ``analysisFinished(summary, output path)`` / ``analysisFailed(message)`` end each job.
    """

    analysisFinished = Signal(str, object)
    analysisFailed = Signal(str)

    def __init__(self, window) -> None:
        super().__init__("Rating session", window)
        self.setObjectName("ratingMenu")
        self.window = window
        self.controller: RatingController | None = None
        self.dialog: SessionDialog | None = None
        self.jobs: list[AnalysisJob] = []
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        self.new_action = self._add("New session…", self.new_session, "Set up a blinded session")
        self.open_action = self._add("Open session…", self.choose_session, "Resume a session")
        self.hand_in_action = self._add(
            "Hand in session…",
            self.choose_hand_in,
            "Save a complete copy of the session file for the study coordinator",
        )
        self.leave_action = self._add("Leave rating mode", self.leave, "Back to the normal view")
        self.addSeparator()
        self.export_action = self._add(
            "Export ratings…", self.choose_export, "Merge session files into one CSV table"
        )
        self.report_action = self._add(
            "Study report…", self.choose_report, "Agreement and method comparison as HTML"
        )
        self.leave_action.setEnabled(False)
        window.installEventFilter(self)

    def _add(self, text: str, slot: Callable[[], object], tip: str) -> QAction:
        action = self.addAction(text)
        action.setStatusTip(tip)
        action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    # -- sessions ---------------------------------------------------------------------------
    def new_session(self) -> SessionDialog:
        """Open the (window-modal) setup dialog; rating mode starts when it is accepted."""
        w = self.window
        info, state = w.controller.model_info, w.state
        display = {
            "opacity": state.opacity,
            "colormap": state.colormap,
            "entropy_radius": state.radius,
        }
        self.dialog = SessionDialog(
            w,
            folder=w.browser.folder,
            prompt_set=w.prompt_panel.prompt_set,
            display=display,
            model_id=info.model_id if info is not None else "",
            unavailable=self.unavailable_methods(),
        )
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.finished.connect(self._dialog_finished)
        self.dialog.open()
        return self.dialog

    def unavailable_methods(self) -> dict[str, str]:
        """``{method: reason}`` for the methods the open model cannot explain (the check the
        viewer's optional panels use)."""
        availability = method_availability(self.window)
        reasons = {m: availability.reason(m) for m in ALL_METHODS}
        return {m: reason for m, reason in reasons.items() if reason}

    def refused_methods(self, methods: Sequence[str]) -> str:
        """A plain sentence when the open model has answered that it cannot show one of the
        session's ``methods`` (the session could not be rated), else ""."""
        if not method_availability(self.window).known:  # no model has answered yet
            return ""
        reasons = [r for m, r in self.unavailable_methods().items() if m in methods]
        if not reasons:
            return ""
        return (
            f"This session shows a map the open model cannot compute: {reasons[0]} "
            "Open the model the session was set up with, then open the session again."
        )

    def _dialog_finished(self, result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if result == QDialog.DialogCode.Accepted and dialog is not None and dialog.session:
            self.start(dialog.session)

    def choose_session(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self.window, "Open rating session", str(user_subdir("sessions")), SESSION_FILTER
        )
        if chosen:
            self.open_session(Path(chosen))

    def open_session(self, path: Path) -> bool:
        """Open ``path`` and rate on from its first unrated case; errors are shown."""
        try:
            session = RatingSession.open(path)
        except SessionError as error:
            log.warning("Session %s not opened: %s (%s)", path, error.message, error.details)
            self.show_error(error.message)
            return False
        return self.start(session)

    def start(self, session: RatingSession) -> bool:
        """Enter rating mode with an open ``session`` (leaving any current one first)."""
        self.leave()
        refused = self.refused_methods(session.config.methods)
        if refused:
            session.close()
            self.show_error(refused)
            return False
        controller = RatingController(self.window, session)
        if not controller.enter():
            session.close()
            return False
        self.controller = controller
        controller.left.connect(self._controller_left)
        self.leave_action.setEnabled(True)
        if session.tamper_warning:
            show_warning(self.window, "Rating session", session.tamper_warning, "tamperWarningBox")
        return True

    def choose_hand_in(self) -> None:
        """Ask where the copy goes (e.g. the study's shared folder), then write it."""
        source = self.controller.session.path if self.controller else None
        if source is None:
            chosen, _ = QFileDialog.getOpenFileName(
                self.window, "Session to hand in", str(user_subdir("sessions")), SESSION_FILTER
            )
            if not chosen:
                return
            source = Path(chosen)
        out, _ = QFileDialog.getSaveFileName(
            self.window, "Hand in the session as", source.name, SESSION_FILTER
        )
        if out:
            self.hand_in(source, Path(out))

    def hand_in(self, source: Path, destination: Path) -> bool:
        """Write a consistent copy of ``source`` to ``destination``; says how it went."""
        try:
            if self.controller is not None and self.controller.session.path == source:
                self.controller.session.store.hand_in(destination)
            else:
                with RatingStore.open(source, read_only=True) as store:
                    store.hand_in(destination)
        except SessionError as error:
            log.warning("Hand-in of %s failed: %s (%s)", source, error.message, error.details)
            self.show_error(error.message)
            return False
        self.window.status_panel.show_message(
            f"The session was handed in as {destination} (a complete copy)."
        )
        return True

    def leave(self) -> None:
        if self.controller is not None:
            self.controller.leave()

    def _controller_left(self) -> None:
        self.controller = None
        self.leave_action.setEnabled(False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.leave()  # closes the session file; every rating is already on disk
        return False

    # -- analysis ---------------------------------------------------------------------------
    def _choose_files(self, title: str) -> list[Path]:
        chosen, _ = QFileDialog.getOpenFileNames(
            self.window, title, str(user_subdir("sessions")), SESSION_FILTER
        )
        return [Path(c) for c in chosen]

    def choose_export(self) -> None:
        files = self._choose_files("Session files to export")
        if files:
            out, _ = QFileDialog.getSaveFileName(
                self.window, "Save ratings as", "ratings.csv", "CSV (*.csv)"
            )
            if out:
                self.export_ratings(files, Path(out))

    def choose_report(self) -> None:
        files = self._choose_files("Session files for the report")
        if files:
            out, _ = QFileDialog.getSaveFileName(
                self.window, "Save the report as", "study_report.html", "HTML (*.html)"
            )
            if out:
                self.build_report(files, Path(out))

    def export_ratings(self, files: Sequence[Path], csv_path: Path) -> AnalysisJob:
        return self._run(AnalysisJob("export", files, csv_path))

    def build_report(self, files: Sequence[Path], html_path: Path) -> AnalysisJob:
        """Write the HTML (and JSON) report in the background, then open it in the browser."""
        job = AnalysisJob("report", files, Path(html_path).with_suffix(".html"))
        job.finished.connect(
            lambda _summary, output: self.open_url(QUrl.fromLocalFile(str(output)))
        )
        return self._run(job)

    def _run(self, job: AnalysisJob) -> AnalysisJob:
        status = self.window.status_panel
        status.show_message("Working on the session files…", 0)
        job.finished.connect(lambda summary, _output: status.show_message(summary))
        job.failed.connect(self.show_error)
        job.finished.connect(self.analysisFinished)
        job.failed.connect(self.analysisFailed)
        job.finished.connect(lambda *_: self._forget(job))
        job.failed.connect(lambda *_: self._forget(job))
        self.jobs.append(job)
        job.start()
        return job

    def _forget(self, job: AnalysisJob) -> None:
        if job in self.jobs:
            self.jobs.remove(job)

    def show_error(self, message: str) -> None:
        """A plain sentence in a non-blocking message box, the banner and the status bar."""
        self.window.banner.show_message(message)
        self.window.status_panel.show_message(message)
        show_warning(self.window, "Rating session", message, "ratingErrorBox")


def install_rating_mode(window) -> RatingMenu:
    """Add the "Rating session" menu to ``window`` (a ``MainWindow``) once; returns it."""
    existing = window.findChild(RatingMenu, "ratingMenu")
    if existing is not None:
        return existing
    menu = RatingMenu(window)
    window.add_mode_menu(menu)
    return menu
