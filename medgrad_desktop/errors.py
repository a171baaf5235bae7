"""Typed errors: each carries a plain sentence for the user; details go to the log."""

from __future__ import annotations

import contextlib
import logging
import uuid


class MedGradError(Exception):
    """Base error. ``str(err)`` is the user-facing sentence; ``details`` is for the log."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ModelLoadError(MedGradError):
    """A model could not be opened (missing, unsafe, truncated or not a CLIP model)."""


class ImageLoadError(MedGradError):
    """An image could not be read or is unsafe to decode."""


class PromptSetError(MedGradError):
    """A prompt list or prompt-set file is empty, too large or malformed."""


class DataError(MedGradError):
    """Training data is inconsistent (counts, classes, encodings, missing files)."""


class SessionError(MedGradError):
    """A rating session file cannot be opened, written or merged."""


class ComputeError(MedGradError):
    """An explanation could not be computed (e.g. out of memory)."""


@contextlib.contextmanager
def unexpected_errors_as(
    error_type: type[MedGradError], subject: str, failed: str = "could not be opened"
):
    """Let ``MedGradError`` pass and turn any other exception into ``error_type`` with the
    plain message "<subject> <failed> because of an unexpected error (log reference R)."; the
    traceback is logged under R so support can find it."""
    try:
        yield
    except MedGradError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        reference = uuid.uuid4().hex[:8]
        logging.getLogger("medgrad_desktop").exception(
            "Unexpected error (log reference %s) for %s", reference, subject
        )
        raise error_type(
            f"{subject} {failed} because of an unexpected error (log reference {reference}).",
            f"{type(exc).__name__}: {exc}",
        ) from exc
