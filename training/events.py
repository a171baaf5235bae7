"""``events.jsonl``: the progress log of a training run, one JSON object per line.

The GUI (and any script) follows a run by reading this file as it grows. Schema — every line
has ``"event"`` (its kind) and ``"time"`` (ISO 8601, UTC, seconds) plus:

============  ==============================================================================
event         fields
============  ==============================================================================
started       ``run_dir``, ``total_steps``, ``epochs``, ``steps_per_epoch``, ``start_step``
              (0, or the step a resumed run continues from), ``resumed`` (bool),
              ``device``, ``world_size``, ``classes`` (list), ``train_size``, ``val_size``,
              ``test_size``
epoch         ``epoch`` (1-based), ``epochs``: an epoch begins
step          ``step`` (1-based, counts optimiser steps over the whole run),
              ``total_steps``, ``loss``, ``lr``, ``epoch``
metrics       ``split`` ("val" after each epoch, "test" at the end), ``epoch``, ``step``,
              ``loss`` (val only, else null), ``zero_shot_accuracy``, ``macro_f1``
checkpoint    ``kind`` ("best" or "last"), ``path``, ``step``, ``epoch``
finished      ``run_dir``, ``steps``, ``seconds``, ``metrics`` (path of metrics.json)
failed        ``message`` (a plain sentence), ``step``
cancelled     ``step``, ``path`` (the saved ``last/``), ``signal`` ("SIGINT"/"SIGTERM")
============  ==============================================================================

A run ends with exactly one of ``finished``, ``failed`` or ``cancelled``; a resumed run appends
to the same file, starting with a new ``started`` line.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

EVENT_NAMES = (
    "started",
    "epoch",
    "step",
    "metrics",
    "checkpoint",
    "finished",
    "failed",
    "cancelled",
)
EVENTS_FILE = "events.jsonl"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class EventLog:
    """Appends events to ``<run_dir>/events.jsonl``; ``enabled=False`` (non-zero DDP ranks)
    writes nothing."""

    def __init__(self, run_dir: str | Path, enabled: bool = True) -> None:
        self.path = Path(run_dir) / EVENTS_FILE
        self.enabled = enabled

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one event line (flushed at once) and return it."""
        if event not in EVENT_NAMES:
            raise ValueError(f"unknown event {event!r}; expected one of {EVENT_NAMES}")
        record = {"event": event, "time": now_iso(), **fields}
        if self.enabled:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                handle.flush()
        return record


def read_events(run_dir: str | Path) -> list[dict[str, Any]]:
    """All complete event lines of a run (a half-written last line is ignored)."""
    path = Path(run_dir) / EVENTS_FILE
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines[:-1] if line.strip()]
    if lines and lines[-1].strip():
        # the writer may be in the middle of the last line; it is read complete next time
        with contextlib.suppress(json.JSONDecodeError):
            events.append(json.loads(lines[-1]))
    return events
