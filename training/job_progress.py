"""Following a run's ``events.jsonl`` as it grows, and what the events say about the run.

:class:`EventFollower` reads only the bytes added since its last call, at most
``max_bytes`` per call, so a GUI timer never stalls on a big file; :class:`RunProgress` folds
the events (schema in ``training.events``) into the numbers a progress view shows.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from training.events import EVENTS_FILE

log = logging.getLogger(__name__)

TERMINAL_EVENTS = ("finished", "failed", "cancelled")
READ_CHUNK_BYTES = 1024 * 1024


class EventFollower:
    """Incremental reader of one ``events.jsonl``; a half-written last line waits for the next
    call. A file that shrank (replaced) is read again from the start."""

    def __init__(self, run_dir: str | Path, max_bytes: int = READ_CHUNK_BYTES) -> None:
        self.path = Path(run_dir) / EVENTS_FILE
        self.max_bytes = max_bytes
        self.offset = 0
        self._pending = b""

    def read_new(self) -> list[dict[str, Any]]:
        """The complete event lines added since the last call (up to ``max_bytes`` of them)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        if size < self.offset:
            log.info("%s was replaced; reading it again", self.path)
            self.offset, self._pending = 0, b""
        if size == self.offset:
            return []
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read(self.max_bytes)
        self.offset += len(data)
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()  # b"" after a complete line
        events = []
        for line in lines:
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                log.warning("Ignored a damaged line in %s: %r", self.path, line[:120])
        return events

    @property
    def at_end(self) -> bool:
        """Whether everything written so far has been read."""
        try:
            return self.path.stat().st_size <= self.offset
        except FileNotFoundError:
            return True


def _seconds(event: dict) -> float | None:
    try:
        return datetime.fromisoformat(str(event["time"])).timestamp()
    except (KeyError, ValueError):
        return None


@dataclass
class RunProgress:
    """What a run's events say so far. ``count`` is the number of events applied;
    ``last_started_index`` the index of the latest ``started`` (a resumed run starts again)."""

    count: int = 0
    last_started_index: int | None = None
    step: int = 0
    start_step: int = 0
    total_steps: int = 0
    epoch: int = 0
    epochs: int = 0
    device: str = ""
    classes: list[str] = field(default_factory=list)
    train_losses: list[tuple[int, float]] = field(default_factory=list)
    val_losses: list[tuple[int, float]] = field(default_factory=list)
    val_accuracy: list[tuple[int, float]] = field(default_factory=list)
    test_accuracy: float | None = None
    checkpoints: dict[str, str] = field(default_factory=dict)
    terminal: dict[str, Any] | None = None  # the end event of the latest start, if any
    terminal_index: int | None = None
    _rate_start: tuple[int, float] | None = None  # (step, time) of the latest start
    _rate_last: tuple[int, float] | None = None

    def apply(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self._apply_one(event)
            self.count += 1

    def _apply_one(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "started":
            self.last_started_index = self.count
            self.terminal = self.terminal_index = None
            self.total_steps = int(event.get("total_steps") or 0)
            self.start_step = self.step = int(event.get("start_step") or 0)
            self.epochs = int(event.get("epochs") or 0)
            self.device = str(event.get("device", ""))
            self.classes = list(event.get("classes") or [])
            moment = _seconds(event)  # the ETA counts from the start (validation included)
            self._rate_start = (self.step, moment) if moment is not None else None
            self._rate_last = None
            # a resumed run replays from its saved step: drop curve points beyond it
            self.train_losses = [p for p in self.train_losses if p[0] <= self.step]
            self.val_losses = [p for p in self.val_losses if p[0] <= self.step]
            self.val_accuracy = [p for p in self.val_accuracy if p[0] <= self.step]
        elif kind == "epoch":
            self.epoch, self.epochs = int(event["epoch"]), int(event.get("epochs") or self.epochs)
        elif kind == "step":
            self._apply_step(event)
        elif kind == "metrics":
            self._apply_metrics(event)
        elif kind == "checkpoint":
            self.checkpoints[str(event.get("kind"))] = str(event.get("path"))
        elif kind in TERMINAL_EVENTS:
            self.terminal, self.terminal_index = event, self.count
            if kind == "finished":
                self.step = int(event.get("steps") or self.step)

    def _apply_step(self, event: dict[str, Any]) -> None:
        self.step = int(event["step"])
        self.total_steps = int(event.get("total_steps") or self.total_steps)
        self.train_losses.append((self.step, float(event["loss"])))
        moment = _seconds(event)
        if moment is not None:
            if self._rate_start is None:
                self._rate_start = (self.step, moment)
            self._rate_last = (self.step, moment)

    def _apply_metrics(self, event: dict[str, Any]) -> None:
        accuracy = event.get("zero_shot_accuracy")
        if event.get("split") == "test":
            self.test_accuracy = None if accuracy is None else float(accuracy)
            return
        step = int(event.get("step") or self.step)
        if event.get("loss") is not None:
            self.val_losses.append((step, float(event["loss"])))
        if accuracy is not None:
            self.val_accuracy.append((step, float(accuracy)))

    @property
    def fraction(self) -> float:
        """Share of the optimiser steps done (0 to 1)."""
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    @property
    def seconds_per_step(self) -> float | None:
        """Mean time per step since the latest start, from the step events' timestamps."""
        if self._rate_start is None or self._rate_last is None:
            return None
        steps = self._rate_last[0] - self._rate_start[0]
        elapsed = self._rate_last[1] - self._rate_start[1]
        return elapsed / steps if steps > 0 and elapsed > 0 else None

    def eta_seconds(self) -> float | None:
        """Estimated seconds left (None until two timed steps are known, or when ended)."""
        per_step = self.seconds_per_step
        if per_step is None or self.terminal is not None or not self.total_steps:
            return None
        return max(0.0, (self.total_steps - self.step) * per_step)


def format_duration(seconds: float | None) -> str:
    """``1 h 05 min``, ``4 min 10 s``, ``12 s``; an em dash when unknown."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
