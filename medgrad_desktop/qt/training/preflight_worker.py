"""Runs ``training.preflight`` in the background (``qt.background.run_in_background``) and
reports back on the GUI thread, whatever the check raised."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from medgrad_desktop.errors import MedGradError
from medgrad_desktop.qt.background import run_in_background
from training.preflight import preflight

log = logging.getLogger(__name__)

UNEXPECTED_FAILURE = "The settings could not be checked; see the log for details."


def _check(settings: dict[str, Any]) -> tuple[bool, object]:
    """(True, report) or (False, the plain reason); an unexpected fault propagates."""
    try:
        return True, preflight(settings)
    except MedGradError as exc:
        log.info("Training settings refused: %s %s", exc.message, exc.details)
        return False, exc.message


class PreflightWorker(QObject):
    """``check(settings)`` starts a check; ``passed(report)`` or ``refused(message)`` follows
    on the GUI thread. A result of an older check is dropped, and so is any result once this
    object (its dialog) was deleted."""

    passed = Signal(object)
    refused = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0

    def check(self, settings: dict[str, Any]) -> None:
        self._generation += 1
        generation = self._generation
        settings = dict(settings)
        run_in_background(
            lambda: _check(settings),
            lambda answer: self._deliver(generation, *answer),
            lambda _error: self._deliver(generation, False, UNEXPECTED_FAILURE),
            owner=self,
        )

    def _deliver(self, generation: int, ok: bool, payload: object) -> None:
        if generation != self._generation:
            return
        if ok:
            self.passed.emit(payload)
        else:
            self.refused.emit(str(payload))
