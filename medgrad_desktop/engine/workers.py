"""A small pool of worker threads that run queued tasks by priority, with cancellation.

Lower ``priority`` runs first, then lower ``order`` (e.g. an older request), then FIFO.
Queued tasks can be cancelled by a predicate (used for "latest wins"), and low-priority tasks
can be held back while a ``low_priority_allowed`` gate says no (prefetch waits while a view
request is on its way).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

LOW_PRIORITY = 1
"""Tasks with this priority or more wait while the pool's gate holds them back."""


@dataclass(order=True)
class Task:
    """A queued call. ``group`` names what it belongs to (for cancellation); ``job`` is the
    owner's bookkeeping object, handed back when the task is cancelled."""

    priority: int
    order: int
    seq: int
    run: Callable[[], None] = field(compare=False)
    group: Hashable = field(default=None, compare=False)
    job: Any = field(default=None, compare=False)


class PriorityWorkerPool:
    """``threads`` daemon threads named ``name``-N; ``initializer`` runs first in each thread.
    Tasks with priority ``gated_from`` or more wait while ``low_priority_allowed()`` is False."""

    def __init__(
        self,
        name: str,
        threads: int,
        low_priority_allowed: Callable[[], bool] = lambda: True,
        initializer: Callable[[], None] | None = None,
        gated_from: int = LOW_PRIORITY,
    ) -> None:
        self._queue: list[Task] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._running = 0
        self._stopped = False
        self._low_priority_allowed = low_priority_allowed
        self._gated_from = gated_from
        self._initializer = initializer
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(
        self,
        run: Callable[[], None],
        priority: int = 0,
        group: Hashable = None,
        job: Any = None,
        order: int = 0,
    ) -> bool:
        """Queue ``run``; False (not queued) once the pool is stopped."""
        with self._cond:
            if self._stopped:
                return False
            self._queue.append(Task(priority, order, next(self._seq), run, group, job))
            self._cond.notify()
            return True

    def cancel(self, predicate: Callable[[Task], bool] = lambda task: True) -> list[Task]:
        """Remove queued (not running) tasks for which ``predicate`` is true; return them."""
        with self._cond:
            removed = [task for task in self._queue if predicate(task)]
            self._queue = [task for task in self._queue if not predicate(task)]
            return removed

    def pending(self, predicate: Callable[[Task], bool] = lambda task: True) -> int:
        """How many queued tasks match ``predicate``."""
        with self._cond:
            return sum(1 for task in self._queue if predicate(task))

    def wake(self) -> None:
        """Re-check the low-priority gate (call after its answer may have changed)."""
        with self._cond:
            self._cond.notify_all()

    def is_idle(self) -> bool:
        """No task queued and none running."""
        with self._cond:
            return not self._queue and self._running == 0

    def wait_idle(self, timeout: float) -> bool:
        """Block until idle (True) or until ``timeout`` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def stop(self) -> list[Task]:
        """Stop taking tasks; return the queued ones that will never run."""
        with self._cond:
            self._stopped = True
            dropped, self._queue = self._queue, []
            self._cond.notify_all()
            return dropped

    def join(self, deadline: float) -> bool:
        """Wait for the threads until the ``time.monotonic()`` deadline; True if all ended."""
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current:
                thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads if t is not current)

    def _next_task(self) -> Task | None:
        with self._cond:
            while not self._stopped:
                eligible = self._queue
                if not self._low_priority_allowed():
                    eligible = [t for t in self._queue if t.priority < self._gated_from]
                if eligible:
                    task = min(eligible)
                    self._queue.remove(task)
                    self._running += 1
                    return task
                self._cond.wait(0.25)
            return None

    def _work(self) -> None:
        if self._initializer is not None:
            self._initializer()
        while (task := self._next_task()) is not None:
            try:
                task.run()
            except Exception:  # a task's bug must not end the worker; it is logged in full
                log.exception("Task %s failed unexpectedly", task.group)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()
