"""Run a function on the engine's model thread and get its result back on the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future

from PySide6.QtCore import QObject, Signal

from medgrad_desktop.errors import MedGradError

log = logging.getLogger(__name__)


class ModelCall(QObject):
    """``run(engine, fn, tag)`` → ``done(tag, result)`` or ``failed(tag, message)``; only the
    latest call of each tag reports. Calls are urgent: they go before background work."""

    done = Signal(str, object)
    failed = Signal(str, str)
    _finished = Signal(str, int, object)  # tag, generation, Future (queued to the GUI thread)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._latest: dict[str, int] = {}
        self._finished.connect(self._deliver)

    def run(self, engine, fn: Callable, tag: str) -> None:
        generation = self._latest.get(tag, 0) + 1
        self._latest[tag] = generation
        future = engine.call_on_model_thread(fn, urgent=True)
        future.add_done_callback(lambda f: self._finished.emit(tag, generation, f))

    def _deliver(self, tag: str, generation: int, future: Future) -> None:
        if self._latest.get(tag) != generation:
            return
        error = future.exception()
        if error is None:
            self.done.emit(tag, future.result())
        elif isinstance(error, MedGradError):
            log.info("%s failed: %s (%s)", tag, error.message, error.details)
            self.failed.emit(tag, error.message)
        else:
            log.error("%s failed unexpectedly", tag, exc_info=error)
            self.failed.emit(tag, "The model could not answer because of an unexpected error.")
