"""``sys.excepthook`` and ``threading.excepthook``: an unexpected error anywhere (a slot of the
windowed bundle, a worker thread) is logged in full and told to the user in the banner."""

from __future__ import annotations

import logging
import sys
import threading

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

UNEXPECTED_MESSAGE = (
    "Something went wrong inside MedGrad Desktop; what you were doing may not have finished. "
    "Your ratings are safe. The details are in the log file."
)


class _Relay(QObject):
    """Carries the message to the GUI thread (hooks may run on any thread)."""

    message = Signal(str)


class ExceptionHooks:
    """Installs both hooks; ``show(message)`` runs on the GUI thread. ``uninstall`` restores."""

    def __init__(self, show) -> None:
        self._relay = _Relay()
        self._relay.message.connect(show)
        self._previous = (sys.excepthook, threading.excepthook)
        self.count = 0

    def install(self) -> ExceptionHooks:
        sys.excepthook = self._on_exception
        threading.excepthook = self._on_thread_exception
        return self

    def uninstall(self) -> None:
        if sys.excepthook == self._on_exception:
            sys.excepthook = self._previous[0]
        if threading.excepthook == self._on_thread_exception:
            threading.excepthook = self._previous[1]

    def _report(self, kind, value, traceback, where: str) -> None:
        if issubclass(kind, KeyboardInterrupt):
            return
        self.count += 1
        log.critical("Unexpected error %s", where, exc_info=(kind, value, traceback))
        self._relay.message.emit(UNEXPECTED_MESSAGE)

    def _on_exception(self, kind, value, traceback) -> None:
        self._report(kind, value, traceback, "in the interface")

    def _on_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread is not None else "?"
        self._report(args.exc_type, args.exc_value, args.exc_traceback, f"in thread {name}")
