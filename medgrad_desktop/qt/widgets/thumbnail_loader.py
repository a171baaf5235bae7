"""Background thumbnail decoding on a small thread pool; results come back as queued signals."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from medgrad_desktop.errors import ImageLoadError
from medgrad_desktop.explain.images import load_image

log = logging.getLogger(__name__)

THUMBNAIL_SIDE = 96


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """A deep-copied ``QImage`` of an (H, W, 3) uint8 array (safe off the GUI thread)."""
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class _Signals(QObject):
    done = Signal(int, object, object)  # generation, Path, QImage
    failed = Signal(int, object, str)  # generation, Path, plain message


class _ThumbnailJob(QRunnable):
    def __init__(self, signals: _Signals, generation: int, path: Path) -> None:
        super().__init__()
        self._signals, self._generation, self._path = signals, generation, path

    def run(self) -> None:
        try:
            rgb = load_image(self._path, max_side=THUMBNAIL_SIDE)
        except ImageLoadError as error:
            log.info("Thumbnail of %s failed: %s (%s)", self._path, error.message, error.details)
            self._signals.failed.emit(self._generation, self._path, error.message)
            return
        self._signals.done.emit(self._generation, self._path, rgb_to_qimage(rgb))


class ThumbnailLoader(QObject):
    """Decodes each requested file once, in the background; ``reset()`` drops queued work."""

    thumbnailReady = Signal(object, object)  # Path, QImage
    thumbnailFailed = Signal(object, str)  # Path, plain message

    def __init__(self, parent: QObject | None = None, threads: int = 1) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._signals = _Signals(self)
        self._signals.done.connect(self._on_done)
        self._signals.failed.connect(self._on_failed)
        self._generation = 0
        self._requested: set[Path] = set()

    def request(self, path: Path) -> None:
        """Queue ``path`` unless it was already requested since the last reset."""
        if path in self._requested:
            return
        self._requested.add(path)
        self._pool.start(_ThumbnailJob(self._signals, self._generation, path))

    def forget(self, path: Path) -> None:
        """Let ``path`` be requested again (its thumbnail was dropped from a bounded cache)."""
        self._requested.discard(path)

    def reset(self) -> None:
        """Forget requests (e.g. a new folder); queued jobs are dropped, running ones ignored."""
        self._pool.clear()
        self._generation += 1
        self._requested.clear()

    def wait(self, msecs: int = 5000) -> bool:
        """Block until running jobs end (used on close)."""
        self._pool.clear()
        return self._pool.waitForDone(msecs)

    def _on_done(self, generation: int, path: Path, image: QImage) -> None:
        if generation == self._generation:
            self.thumbnailReady.emit(path, image)

    def _on_failed(self, generation: int, path: Path, message: str) -> None:
        if generation == self._generation:
            self.thumbnailFailed.emit(path, message)
