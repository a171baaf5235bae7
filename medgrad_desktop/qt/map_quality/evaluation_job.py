"""The map-quality evaluation in a background thread; each image's model work runs on the
engine's model thread (after the viewer's own requests). Progress, the metrics and errors
arrive as queued signals; ``cancel()`` stops after the image being scored."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from medgrad_desktop.errors import MedGradError
from medgrad_desktop.explain.evaluation.runner import EvaluationStopped
from medgrad_desktop.qt.background import LongJob, result_unless_stopped

log = logging.getLogger(__name__)

UNEXPECTED = "The evaluation stopped because of an unexpected error."
"""What the dialog says after a bug (logged in full by ``run_in_background``)."""


class EvaluationJob(QObject):
    """``start(engine, data, settings, out, n)``; then ``progress(done, total, text)`` and one
    of ``finished(metrics)``, ``failed(message)`` or ``stopped()``. Keep a reference until it
    ends (no Qt parent, so closing the dialog never deletes a running job)."""

    progress = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(str)
    stopped = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._stop = threading.Event()
        self._job: LongJob | None = None

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    def start(self, engine, data: Path, settings, out: Path, n: int | None = None) -> None:
        if self.running:
            raise RuntimeError("An evaluation is already running.")
        stop = self._stop = threading.Event()
        self._job = LongJob(
            lambda: self._run(engine, Path(data), settings, Path(out), n, stop),
            on_error=lambda _error: self.failed.emit(UNEXPECTED),
        )

    def cancel(self) -> None:
        self._stop.set()

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until the job ends (tests and closing)."""
        return self._job is None or self._job.wait(timeout)

    def _run(self, engine, data, settings, out, n, stop) -> None:
        from medgrad_desktop.explain.evaluation.datasets import load_mask_dataset
        from medgrad_desktop.explain.evaluation.runner import evaluate_folder

        def _wait(future):  # a scoring step already running finishes: its record is kept
            return result_unless_stopped(future, stop, _stopped, let_running_finish=True)

        def on_model_thread(call):
            return _wait(engine.call_on_model_thread(lambda _bundle: call()))

        try:
            dataset = load_mask_dataset(data)
            bundle = _wait(engine.call_on_model_thread(lambda b: b))
            metrics = evaluate_folder(
                bundle,
                dataset,
                settings,
                out,
                n=n,
                progress=lambda done, total, text: self.progress.emit(done, total, text),
                should_stop=stop.is_set,
                run_model=on_model_thread,
            )
        except EvaluationStopped:
            self.stopped.emit()
            return
        except MedGradError as error:
            log.info("Map quality failed: %s (%s)", error.message, error.details)
            self.failed.emit(error.message)
            return
        self.finished.emit(metrics)


def _stopped() -> EvaluationStopped:
    return EvaluationStopped("The evaluation was stopped.")
