"""Folder embeddings in a background thread; every model call runs on the engine's model
thread (after the viewer's own work). Progress, the result and errors arrive as queued
signals; ``cancel()`` stops between batches."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from medgrad_desktop.browse.embedding_cache import EmbeddingCache
from medgrad_desktop.browse.folder_embeddings import EmbeddingCancelled, embed_folder
from medgrad_desktop.errors import MedGradError
from medgrad_desktop.qt.background import LongJob, result_unless_stopped

log = logging.getLogger(__name__)

UNEXPECTED = "The images could not be indexed because of an unexpected error."
"""What the window says after a bug (logged in full by ``run_in_background``)."""


class _Forwarder(QObject):
    progress = Signal(int, int, int)  # generation, done, total
    finished = Signal(int, object, object)  # generation, FolderEmbeddings, bundle
    failed = Signal(int, str)  # generation, plain message


class EmbeddingJob(QObject):
    """``start(engine, folder, names)`` embeds a folder; a newer ``start`` or ``cancel``
    makes the running one stop and drops what it would report."""

    progress = Signal(int, int)  # done, total
    finished = Signal(object, object)  # FolderEmbeddings, ModelBundle
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None, cache: EmbeddingCache | None = None):
        super().__init__(parent)
        self._cache = cache
        self._generation = 0
        self._stop = threading.Event()
        self._job: LongJob | None = None
        self._forward = _Forwarder()  # parentless: outlives a window closed mid-run
        self._forward.progress.connect(self._on_progress)
        self._forward.finished.connect(self._on_finished)
        self._forward.failed.connect(self._on_failed)

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running and not self._stop.is_set()

    def start(self, engine, folder: Path, names: list[str]) -> None:
        self.cancel(quietly=True)
        self._generation += 1
        stop = self._stop = threading.Event()
        generation, names = self._generation, list(names)
        self._job = LongJob(
            lambda: self._run(engine, Path(folder), names, generation, stop),
            on_error=lambda _error: self._forward.failed.emit(generation, UNEXPECTED),
        )

    def cancel(self, quietly: bool = False) -> None:
        if self.running:
            self._stop.set()
            if not quietly:
                self.cancelled.emit()
        self._generation += 1

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until the job ends (tests and closing)."""
        return self._job is None or self._job.wait(timeout)

    def _run(self, engine, folder, names, generation, stop) -> None:
        forward = self._forward
        try:
            bundle = result_unless_stopped(
                engine.call_on_model_thread(lambda b: b, urgent=True), stop, EmbeddingCancelled
            )

            def on_model_thread(call):
                def checked(current):
                    if current is not bundle:  # another model was opened meanwhile
                        raise EmbeddingCancelled()
                    return call()

                return result_unless_stopped(
                    engine.call_on_model_thread(checked), stop, EmbeddingCancelled
                )

            embeddings = embed_folder(
                bundle,
                folder,
                names,
                cache=self._cache or EmbeddingCache(),
                progress=lambda done, total: forward.progress.emit(generation, done, total),
                should_stop=stop.is_set,
                run_model=on_model_thread,
            )
        except EmbeddingCancelled:
            return
        except MedGradError as error:
            log.info("Folder embedding failed: %s (%s)", error.message, error.details)
            forward.failed.emit(generation, error.message)
            return
        forward.finished.emit(generation, embeddings, bundle)

    def _on_progress(self, generation: int, done: int, total: int) -> None:
        if generation == self._generation:
            self.progress.emit(done, total)

    def _on_finished(self, generation: int, embeddings, bundle) -> None:
        if generation == self._generation:
            self.finished.emit(embeddings, bundle)

    def _on_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.failed.emit(message)
