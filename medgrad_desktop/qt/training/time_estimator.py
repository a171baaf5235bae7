"""The New run dialog's live time estimate ("about 4 minutes on this computer").

When the data or the model settings change, a background job (``run_in_background``) counts
the data and times the chosen model's real training steps on a few of its images, in a process
started as the job will be (``training.time_estimate.measure_apart``); epochs and batch size
then only rescale the measurement, at once.
Timings are kept per model setting for the session, so switching back costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

from medgrad_desktop.errors import MedGradError
from medgrad_desktop.qt.background import run_in_background
from training.time_estimate import (
    MAX_TIMING_BATCH,
    SplitCounts,
    StepTiming,
    count_samples,
    describe_duration,
    estimate_seconds,
    measure_apart,
)

log = logging.getLogger(__name__)

DEBOUNCE_MS = 600
MODEL_KEYS = ("base", "method", "trainable_layers", "lora_r", "device", "precision")


def _data_key(settings: dict[str, Any]) -> tuple:
    return settings.get("data"), settings.get("descriptions")


def _model_key(settings: dict[str, Any]) -> tuple:
    batch = min(int(settings.get("batch_size") or 2), MAX_TIMING_BATCH)
    return (*(settings.get(k) for k in MODEL_KEYS), batch)


def _measure(settings: dict[str, Any], timing: StepTiming | None):
    """(counts, timing) or the plain reason there is no estimate (off the GUI thread). A known
    timing only needs the data counted; a new one is measured in a process of its own."""
    try:
        if timing is not None:
            return count_samples(settings)[1], timing
        return measure_apart(settings)
    except MedGradError as exc:
        log.info("No time estimate: %s (%s)", exc.message, exc.details)
        return exc.message


class TimeEstimator(QObject):
    """Keeps ``label`` showing the estimate for ``settings()``; call :meth:`changed` whenever a
    field changes and :meth:`set_counts` with the exact split sizes of a passed check."""

    estimated = Signal(float)  # seconds (0: no estimate)

    def __init__(self, label: QLabel, settings: Callable[[], dict[str, Any]], parent=None):
        super().__init__(parent)
        self.label, self._settings = label, settings
        self.timings: dict[tuple, StepTiming] = {}
        self.counts: dict[tuple, SplitCounts] = {}
        self.seconds = 0.0
        self._measuring = False
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)

    def changed(self) -> None:
        """A field changed: rescale now if everything is measured, else measure soon."""
        if not self._show():
            self.label.setText("Estimating the time…")
            self.seconds = 0.0
            self._timer.start()

    def set_counts(self, counts: SplitCounts) -> None:
        self.counts[_data_key(self._settings())] = counts
        self._show()

    def _show(self) -> bool:
        """Show the estimate of the current settings; False when something is to measure."""
        settings = self._settings()
        if not settings.get("data"):
            self._set("Time estimate: choose the training data first (or make sample data).", 0)
            return True
        counts = self.counts.get(_data_key(settings))
        timing = self.timings.get(_model_key(settings))
        epochs, batch = int(settings["epochs"]), int(settings["batch_size"])
        if counts is not None and counts.train < batch:
            self._set(
                f"Time estimate: the {counts.train} training images are fewer than one batch "
                f"of {batch}; lower the batch size.",
                0,
            )
            return True
        if counts is None or timing is None:
            return False
        seconds = estimate_seconds(timing, counts, epochs, batch)
        self._set(
            f"Estimated time: {describe_duration(seconds)} on this computer — {epochs} epochs "
            f"of {counts.train // batch} steps of {batch} images (measured here: "
            f"{timing.train_image_seconds:.2g} s per training image, {timing.hardware}).",
            seconds,
        )
        return True

    def _set(self, text: str, seconds: float) -> None:
        self.label.setText(text)
        self.seconds = seconds
        self.estimated.emit(seconds)

    def _start(self) -> None:
        if self._measuring:
            self._timer.start()  # one timing at a time: try again when it is done
            return
        settings = self._settings()
        if self._show():
            return
        self._measuring = True
        self.label.setText("Estimating the time: timing a few training steps on this computer…")
        timing = self.timings.get(_model_key(settings))
        run_in_background(
            lambda: _measure(settings, timing),
            lambda answer: self._measured(settings, answer),
            lambda _error: self._measured(settings, "the timing failed; see the log"),
            owner=self,
        )

    def _measured(self, settings: dict[str, Any], answer) -> None:
        self._measuring = False
        if isinstance(answer, str):
            if _data_key(settings) == _data_key(self._settings()):
                self._set(f"No time estimate yet: {answer[0].lower()}{answer[1:]}", 0)
            return
        counts, timing = answer
        self.counts.setdefault(_data_key(settings), counts)
        self.timings[_model_key(settings)] = timing
        if not self._show():
            self._timer.start()  # the settings moved on meanwhile
