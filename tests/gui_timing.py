"""Shared by GUI tests and benchmarks: an event-loop stall meter and a wait for shown maps."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QTimer


class StallMeter:
    """A QTimer ticking every ``interval_ms``; ``gaps`` are the ms between consecutive ticks
    (a gap well beyond the interval is an event-loop stall)."""

    def __init__(self, interval_ms: int = 5) -> None:
        self.gaps: list[int] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0

    def _tick(self) -> None:
        now = self._clock.elapsed()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self._clock.start()
        self._last = self._clock.elapsed()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()


def wait_until_maps_shown(app, window, path: Path, timeout_s: float = 300) -> float:
    """Process events until ``window`` shows the maps of ``path``; seconds waited."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout_s:
        app.processEvents()
        shown = window.controller.shown
        if shown is not None and shown.path == path:
            return time.perf_counter() - began
        time.sleep(0.001)
    raise TimeoutError(f"no maps for {path.name} within {timeout_s} s")
