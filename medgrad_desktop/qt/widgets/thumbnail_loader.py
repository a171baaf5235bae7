"""Background thumbnail decoding, a few files at a time, with the app's one background idiom
(``qt.background.run_in_background``); results arrive on the GUI thread."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from medgrad_desktop.errors import ImageLoadError
from medgrad_desktop.explain.images import load_image
from medgrad_desktop.qt.background import run_in_background

log = logging.getLogger(__name__)

THUMBNAIL_SIDE = 96
UNEXPECTED_FAILURE = "This image could not be shown; see the log for details."


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """A deep-copied ``QImage`` of an (H, W, 3) uint8 array (safe off the GUI thread)."""
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def _decode(path: Path, done: threading.Event) -> QImage | str:
    """The thumbnail of ``path``, or the plain reason it cannot be read (off the GUI thread)."""
    try:
        rgb = load_image(path, max_side=THUMBNAIL_SIDE)
    except ImageLoadError as error:
        log.info("Thumbnail of %s failed: %s (%s)", path, error.message, error.details)
        return error.message
    else:
        return rgb_to_qimage(rgb)
    finally:
        done.set()


class ThumbnailLoader(QObject):
    """Decodes each requested file once, at most ``threads`` at a time, in request order;
    ``reset()`` drops queued work and the answers of jobs still running."""

    thumbnailReady = Signal(object, object)  # Path, QImage
    thumbnailFailed = Signal(object, str)  # Path, plain message

    def __init__(self, parent: QObject | None = None, threads: int = 1) -> None:
        super().__init__(parent)
        self._threads = max(1, threads)
        self._queue: deque[Path] = deque()
        self._running: dict[int, threading.Event] = {}  # job number → set when it returned
        self._jobs = 0
        self._generation = 0
        self._requested: set[Path] = set()

    def request(self, path: Path) -> None:
        """Queue ``path`` unless it was already requested since the last reset."""
        if path in self._requested:
            return
        self._requested.add(path)
        self._queue.append(path)
        self._start_next()

    def forget(self, path: Path) -> None:
        """Let ``path`` be requested again (its thumbnail was dropped from a bounded cache)."""
        self._requested.discard(path)

    def reset(self) -> None:
        """Forget requests (e.g. a new folder); queued jobs are dropped, running ones ignored."""
        self._queue.clear()
        self._generation += 1
        self._requested.clear()

    def running(self) -> int:
        """Jobs started and not answered yet (never more than ``threads``)."""
        return len(self._running)

    def wait(self, msecs: int = 5000) -> bool:
        """Drop queued work and block until running jobs end (used on close)."""
        self._queue.clear()
        deadline = time.monotonic() + msecs / 1000
        for done in list(self._running.values()):
            if not done.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def _start_next(self) -> None:
        while self._queue and len(self._running) < self._threads:
            path = self._queue.popleft()
            self._jobs += 1
            job, done = self._jobs, threading.Event()
            self._running[job] = done
            answer = partial(self._answer, job, self._generation, path)
            run_in_background(
                partial(_decode, path, done),
                answer,
                lambda _error, answer=answer: answer(UNEXPECTED_FAILURE),
                owner=self,
            )

    def _answer(self, job: int, generation: int, path: Path, result: QImage | str) -> None:
        self._running.pop(job, None)
        if generation == self._generation:
            if isinstance(result, QImage):
                self.thumbnailReady.emit(path, result)
            else:
                self.thumbnailFailed.emit(path, result)
        self._start_next()
