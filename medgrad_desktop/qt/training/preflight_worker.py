"""Runs ``training.preflight`` in a background thread and reports back on the GUI thread."""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from medgrad_desktop.errors import MedGradError
from training.preflight import preflight

log = logging.getLogger(__name__)


class PreflightWorker(QObject):
    """``check(settings)`` starts a check; ``passed(report)`` or ``refused(message)`` follows
    (queued to the GUI thread). A result of an older check is dropped."""

    passed = Signal(object)
    refused = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        # Parentless, so it outlives a dialog closed mid-check; emits are queued to this thread.
        self._forward = _Forwarder()
        self._forward.result.connect(self._deliver)

    def check(self, settings: dict[str, Any]) -> None:
        self._generation += 1
        generation = self._generation
        threading.Thread(
            target=_run,
            args=(self._forward, dict(settings), generation),
            daemon=True,
            name="preflight",
        ).start()

    def _deliver(self, generation: int, ok: bool, payload: object) -> None:
        if generation != self._generation:
            return
        if ok:
            self.passed.emit(payload)
        else:
            self.refused.emit(str(payload))


class _Forwarder(QObject):
    result = Signal(int, bool, object)


def _run(forward: _Forwarder, settings: dict[str, Any], generation: int) -> None:
    try:
        report = preflight(settings)
    except MedGradError as exc:
        log.info("Training settings refused: %s %s", exc.message, exc.details)
        forward.result.emit(generation, False, exc.message)
    except Exception as exc:  # an unexpected fault still answers the dialog
        log.exception("Checking the training settings failed: %r", exc)
        forward.result.emit(
            generation, False, "The settings could not be checked; see the log for details."
        )
    else:
        forward.result.emit(generation, True, report)
