"""Rating mode: shows a session's cases blinded in the main window and saves every score.

A score is shown as saved (✓) only after ``RatingSession.rate`` returned, i.e. after the
commit is on disk; a failed save shows its plain reason and leaves the score marked unsaved.
One panel is always the current one (framed): keys 1–5 rate it, Tab / Shift+Tab move the
frame, and after a score the frame moves to the next unrated panel.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from medgrad_desktop.engine.api import MapsResult
from medgrad_desktop.errors import SessionError
from medgrad_desktop.qt.rating.display_record import shown_display
from medgrad_desktop.qt.rating.prompt_choice import choose_prompt_set
from medgrad_desktop.qt.rating.rating_bar import RatingBar
from medgrad_desktop.qt.rating.rating_keys import RatingKeys
from medgrad_desktop.qt.rating.rating_panel import PanelRating
from medgrad_desktop.qt.rating.window_mode import RatingWindowMode
from medgrad_desktop.review import RatingSession
from medgrad_desktop.review.blinding import PANEL_LABELS

log = logging.getLogger(__name__)

AUTO_ADVANCE_MS = 400
ALL_DONE_TEXT = "Every case of this session is rated. Thank you. You can leave rating mode."
NOTHING_LEFT_TEXT = "No case is left to rate here: the images of the unrated cases cannot be found."
ADVANCING_TEXT = (
    "Every map of this case is rated; moving to the next case (auto-advance is on for this "
    "session)."
)
CASE_DONE_TEXT = "Every map of this case is rated. Press Page Down or “Next case ▶” to go on."
NOTHING_TO_UNDO_TEXT = "There is no score on this case to undo."


class RatingController(QObject):
    """Drives one ``RatingSession`` in a ``MainWindow``; ``left`` is emitted after ``leave``."""

    left = Signal()
    ratingSaved = Signal(int)  # audit id of a rating that is on disk

    def __init__(self, window, session: RatingSession, parent: QObject | None = None) -> None:
        super().__init__(parent or window)
        self.window, self.session, self.config = window, session, session.config
        self.order = session.cases_in_order()
        self.mode = RatingWindowMode(window)
        self.bar = RatingBar()
        self.rows = [PanelRating(label) for label in PANEL_LABELS[: len(self.config.methods)]]
        self.keys = RatingKeys(window, self)
        self.view = None  # the BlindedComparison while rating
        self.current = 0  # the framed row: keys 1–5 rate it
        self.active = False
        self.index: int | None = None
        self.prompts: list[str] = []
        self.prompt_position = 0
        self.assignment: list[tuple[str, str]] = []
        self.case_started = time.monotonic()
        self.rating_clock = time.monotonic()  # time spent on the next score starts here
        self.maps_ready = False
        self._advance_timer = QTimer(self)
        self._advance_timer.setSingleShot(True)
        self._advance_timer.setInterval(AUTO_ADVANCE_MS)
        self._advance_timer.timeout.connect(self.advance)

    # -- entering and leaving ---------------------------------------------------------------
    def enter(self) -> bool:
        """Switch the window to rating mode at the first unrated case; False if impossible."""
        problem = choose_prompt_set(self.window.prompt_panel, self.config)
        if problem:
            self._show_problem(problem)
            return False
        w = self.window
        for position, row in enumerate(self.rows):
            row.set_options(self.config.flag_wrong_region, self.config.comments)
            row.scoreChosen.connect(lambda score, p=position: self.rate(p, score))
            row.detailsChanged.connect(lambda p=position: self._details_changed(p))
            row.set_scale_labels(self.config.scale_labels)
        self.bar.set_reader(self.session.reader, self.session.study)
        self.bar.set_scale(self.config.scale_labels)
        self.bar.previous_button.clicked.connect(lambda: self.step_case(-1))
        self.bar.next_button.clicked.connect(lambda: self.step_case(1))
        self.bar.leave_button.clicked.connect(self.leave)
        self.view = self.mode.enter(
            self.bar,
            self.rows,
            f"Rating session — reader {self.session.reader}",
            self.config.show_prediction,
            self.config.methods,
        )
        self._apply_display_policy()
        w.controller.mapsShown.connect(self._on_maps)
        w.bridge.sig_evidence_ready.connect(self._on_evidence)
        w.bridge.sig_image_loaded.connect(self._on_image)
        w.state.rating_mode = True  # the session decides the prompt; the view follows
        self.keys.install()
        self.active = True
        self._update_progress()
        first = self.session.first_unrated_index()
        notes = " ".join(
            filter(
                None,
                [self.session.tamper_warning, self._read_only_note(), self._missing_note()],
            )
        )
        if first is None:
            first = self._neighbour(-1, 1) or 0
            notes = " ".join(filter(None, [self._ending_text(), notes]))
        self.bar.show_message(notes)
        self.show_case(first)
        return True

    def leave(self) -> None:
        """Restore the normal view and close the session file (every rating is saved)."""
        if not self.active:
            return
        self.active = False
        self._advance_timer.stop()
        self.keys.remove()
        w = self.window
        w.controller.mapsShown.disconnect(self._on_maps)
        w.bridge.sig_evidence_ready.disconnect(self._on_evidence)
        w.bridge.sig_image_loaded.disconnect(self._on_image)
        w.state.rating_mode = False
        self.mode.leave()
        self.view = None
        self.session.close()
        w.controller.show_path(w.browser.current_path())
        self.left.emit()

    def _apply_display_policy(self) -> None:
        state, fixed = self.window.state, self.config.display
        if "entropy_radius" in fixed:
            state.radius = int(fixed["entropy_radius"])
        if self.config.display_policy == "fixed":
            if "opacity" in fixed:
                state.opacity = float(fixed["opacity"])
            if "colormap" in fixed:
                state.colormap = str(fixed["colormap"])
            self.mode.lock_display(True)

    # -- cases and prompts ------------------------------------------------------------------
    @property
    def case(self) -> str | None:
        return None if self.index is None else self.order[self.index]

    @property
    def prompt(self) -> str:
        return self.prompts[self.prompt_position] if self.prompts else ""

    def show_case(self, index: int) -> None:
        """Show case ``index`` of the blinded order (its saved ratings included)."""
        self._advance_timer.stop()
        self.index = index
        case = self.order[index]
        path = self.session.image_path(case)
        if not path.is_file():
            self._skip_missing(case, path)
            return
        self.assignment = self.session.panels(case)
        self.view.set_titles([label for label, _method in self.assignment])
        self.view.set_image(None)
        self.prompts = self.session.prompts(case)
        ratings = self.session.case_ratings(case)
        complete = [
            all((p, label) in ratings for label, _m in self.assignment) for p in self.prompts
        ]
        self.case_started = time.monotonic()
        self._load_prompt(complete.index(False) if False in complete else 0, request=False)
        self.window.controller.show_path(path)
        if self.window.comparison.image_path == path:  # already decoded: no signal follows
            self.view.set_image(self.window.comparison.original.image_item.image)

    def _skip_missing(self, case: str, path: Path) -> None:
        log.warning("Case image missing: %s", path)
        self.bar.show_message(
            f"The image '{Path(case).name}' cannot be found; the case is skipped."
        )
        following = self._neighbour(self.index, 1)
        if following is not None:
            self.show_case(following)

    def _load_prompt(self, position: int, request: bool = True) -> None:
        self.prompt_position = position
        self.maps_ready = False
        self.view.clear_maps()
        ratings = self.session.case_ratings(self.case)
        for row, (label, _method) in zip(self.rows, self.assignment, strict=False):
            row.set_label(label)
            row.reset()
            row.set_ratable(False)
            saved = ratings.get((self.prompt, label))
            if saved is not None:
                row.show_saved(
                    saved["score"], bool(saved["flag_wrong_region"]), saved["comment"] or ""
                )
            row.set_details_editable(saved is None or self.config.allow_edits)
        self.bar.set_case(
            self.index + 1, len(self.order), self.prompt, (position + 1, len(self.prompts))
        )
        if self.prompt:
            chart_index = self.window.prompt_panel.prompt_set.labels().index(self.prompt)
            if request:
                self.window.prompt_panel.select_prompt(chart_index)
            else:
                self.window.prompt_panel.chart.select(chart_index)

    def step_case(self, step: int) -> None:
        following = self._neighbour(self.index, step)
        if following is not None:
            self.bar.show_message("")
            self.show_case(following)

    def _neighbour(self, index: int | None, step: int) -> int | None:
        """The next case from ``index`` in direction ``step`` whose image exists."""
        position = (-1 if step > 0 else len(self.order)) if index is None else index
        missing = set(self.session.missing_cases())
        while 0 <= position + step < len(self.order):
            position += step
            if self.order[position] not in missing:
                return position
        return None

    def advance(self) -> None:
        """After a complete prompt: the next prompt of the case, else the next unrated case."""
        ratings = self.session.case_ratings(self.case)
        for position, prompt in enumerate(self.prompts):
            if not all((prompt, label) in ratings for label, _m in self.assignment):
                self._load_prompt(position)
                return
        following = self.session.first_unrated_index()
        if following is None:
            self.bar.show_message(self._ending_text())
            return
        self.bar.show_message("")
        self.show_case(following)

    # -- engine answers ---------------------------------------------------------------------
    def _on_evidence(self, _request_id: int, path: Path, evidence: Any) -> None:
        """Top-class sessions: the case's prompt is the class the model ranks first."""
        if not self.active or self.prompts or path != self._case_path():
            return
        prompt_set = self.window.prompt_panel.prompt_set
        if len(evidence.similarity) != len(prompt_set.items):
            return
        top = prompt_set.top_class(evidence.similarity)
        if top is None:
            return
        self.prompts = [prompt_set.items[top].label]
        self._load_prompt(0)

    def _on_image(self, _request_id: int, image: Any) -> None:
        if self.active and image.path == self._case_path():
            self.view.set_image(image.rgb)

    def _on_maps(self, result: MapsResult) -> None:
        """Show every method's map in its blinded panel at once; enable rating of the prompt."""
        if not self.active or result.path != self._case_path():
            return
        labels = self.window.prompt_panel.prompt_set.labels()
        if not self.prompt or result.prompt_index != labels.index(self.prompt):
            return
        if self.view.image is None:
            self.view.set_image(self.window.comparison.original.image_item.image)
        self.view.set_maps(result, [method for _label, method in self.assignment])
        self.maps_ready = True
        self.rating_clock = time.monotonic()
        for row in self.rows:
            row.set_ratable(True)
        self.set_current(self._first_unsaved())

    def _case_path(self) -> Path | None:
        return None if self.case is None else self.session.image_path(self.case)

    # -- rating -----------------------------------------------------------------------------
    def rate(self, position: int, score: int) -> bool:
        """Save ``score`` for the row at ``position``; True once it is on disk."""
        row = self.rows[position]
        if not self.maps_ready:
            return False
        if row.saved_score is not None and not self.config.allow_edits:
            self.bar.show_message("This panel is already rated and this session allows no changes.")
            return False
        self.set_current(position)
        if not self._save(row, score):
            return False
        if all(r.is_saved() for r in self.rows):
            self._case_rated()
        else:
            self.set_current(self._first_unsaved(after=position))
        return True

    def rate_current(self, score: int) -> bool:
        """Keys 1–5: rate the framed panel."""
        return self.rate(self.current, score)

    def _case_rated(self) -> None:
        if self.config.auto_advance:
            self.bar.show_message(ADVANCING_TEXT)
            self._advance_timer.start()
        else:
            self.bar.show_message(CASE_DONE_TEXT)

    def undo(self) -> str | None:
        """Ctrl+Z: withdraw the newest score of the current case and prompt (audited).

        Returns the label of the panel that is unrated again (then framed), or None.
        """
        if self.case is None or not self.maps_ready:
            return None
        self._advance_timer.stop()
        try:
            label = self.session.undo_last(self.case, self.prompt or None)
        except SessionError as error:
            log.error("Undo failed: %s (%s)", error.message, error.details)
            self._show_problem(error.message)
            return None
        if label is None:
            self.bar.show_message(NOTHING_TO_UNDO_TEXT)
            return None
        position = next(i for i, row in enumerate(self.rows) if row.label == label)
        self.rows[position].reset()
        self.rows[position].set_details_editable(True)
        self._update_progress()
        self.set_current(position)
        self.bar.show_message(
            f"The score of panel {label} was withdrawn (kept in the session's audit log); "
            "rate it again."
        )
        return label

    def _save(self, row: PanelRating, score: int) -> bool:
        try:
            audit_id = self.session.rate(
                self.case,
                row.label,
                score,
                prompt=self.prompt,
                flag=row.flagged(),
                comment=row.comment_text(),
                display=shown_display(self.window),
                seconds_spent=round(time.monotonic() - self.rating_clock, 3),
            )
        except SessionError as error:
            log.error("Rating not saved: %s (%s)", error.message, error.details)
            row.show_unsaved(score, error.message)
            self._show_problem(error.message)
            return False
        self.rating_clock = time.monotonic()
        row.show_saved(score, row.flagged(), row.comment_text())
        row.set_details_editable(self.config.allow_edits)
        self._update_progress()
        self.ratingSaved.emit(audit_id)
        return True

    def _details_changed(self, position: int) -> None:
        row = self.rows[position]
        if row.saved_score is not None and self.config.allow_edits and self.maps_ready:
            self._save(row, row.saved_score)

    # -- focus, progress, messages ----------------------------------------------------------
    def set_current(self, position: int) -> None:
        """Frame row ``position`` (cyclically) as the one keys 1–5 rate, and focus it."""
        self.current = position % len(self.rows)
        for index, row in enumerate(self.rows):
            row.set_current(index == self.current)
        self.rows[self.current].setFocus(Qt.FocusReason.TabFocusReason)

    def move_current(self, step: int) -> None:
        """Tab / Shift+Tab: the next / previous panel, A → B → C → A."""
        self.set_current(self.current + step)

    def _first_unsaved(self, after: int = -1) -> int:
        """The next row without a saved score, cyclically after ``after``."""
        count = len(self.rows)
        for step in range(1, count + 1):
            position = (after + step) % count
            if not self.rows[position].is_saved():
                return position
        return 0

    def _update_progress(self) -> None:
        done, total = self.session.progress()
        self.bar.set_progress(done, total)

    def _ending_text(self) -> str:
        done, total = self.session.progress()
        return ALL_DONE_TEXT if done == total else NOTHING_LEFT_TEXT

    def _read_only_note(self) -> str:
        if not self.session.store.read_only or self.session.tamper_warning:
            return ""
        return "This session file is open for reading only; ratings cannot be saved."

    def _missing_note(self) -> str:
        missing = self.session.missing_cases()
        if not missing:
            return ""
        names = ", ".join(Path(case).name for case in missing[:3])
        return f"{len(missing)} case image(s) cannot be found and are skipped: {names}."

    def _show_problem(self, message: str) -> None:
        self.window.banner.show_message(message)
        self.window.status_panel.show_message(message)
