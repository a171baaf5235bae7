"""Logging setup: a rotating log file in the user data directory plus stderr."""

from __future__ import annotations

import logging
import logging.handlers
import sys

from medgrad_desktop.paths import user_subdir

_configured = False


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is logged (test runners and some
    launchers replace it; a handler bound to a closed stream would print a traceback)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class _LogFile(logging.handlers.RotatingFileHandler):
    """The rotating log file; if it cannot be written any more (folder gone or read-only,
    disk full), it detaches itself and says so once on stderr instead of printing a traceback
    with every later record."""

    def handleError(self, record: logging.LogRecord) -> None:
        root = logging.getLogger()
        if self in root.handlers:
            root.removeHandler(self)
            self.close()
            error = sys.exc_info()[1]
            logging.getLogger(__name__).warning("Stopped writing the log file: %s", error)


def setup_logging(level: int = logging.INFO) -> None:
    """Send log records to ``<user data>/logs/medgrad.log`` (rotated) and to stderr."""
    global _configured
    if _configured:
        return
    _configured = True
    root = logging.getLogger()
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        file_handler = _LogFile(
            user_subdir("logs") / "medgrad.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
        file_handler.setFormatter(fmt)
        root.addHandler(file_handler)
    except OSError as exc:  # read-only home: keep going with stderr only
        logging.getLogger(__name__).warning("Cannot write the log file: %s", exc)
    stream = _CurrentStderr()
    stream.setFormatter(fmt)
    stream.setLevel(logging.WARNING)
    root.addHandler(stream)
