"""The one way the Qt side runs work off the GUI thread: superqt's ``create_worker``.

``run_in_background(function, on_done, on_error)`` runs ``function()`` on Qt's thread pool;
``on_done(result)`` or ``on_error(exception)`` then runs on the GUI thread, whatever the
function raised, so every background job ends with an answer. The worker is kept alive
until it finishes. With ``owner`` (a QObject), the answer is dropped when the owner was deleted
meanwhile (e.g. a dialog closed mid-job), instead of reaching a dead widget.
``LongJob`` is the same for jobs that stream progress through their own signals and stop on
request: it adds ``running`` and a blocking ``wait`` (for closing and tests).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

log = logging.getLogger(__name__)

_running: set[Any] = set()
# Qt's pool has one thread per core; a minute-long job (a training time estimate) must not
# leave quick ones (thumbnails) waiting on a 2-core computer.
MIN_POOL_THREADS = 4
POLL_S = 0.2
"""How often a long job waiting on the model thread checks whether it was asked to stop."""


def run_in_background(
    function: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    owner: Any = None,
) -> Any:
    """Start ``function`` on a worker thread; returns the superqt worker."""
    from PySide6.QtCore import QThreadPool
    from shiboken6 import isValid
    from superqt.utils import create_worker  # superqt imports all its widgets: not at start

    pool = QThreadPool.globalInstance()
    pool.setMaxThreadCount(max(pool.maxThreadCount(), MIN_POOL_THREADS))

    worker = create_worker(function, _start_thread=False, _ignore_errors=True)  # ours answer

    def alive() -> bool:
        return owner is None or isValid(owner)

    def done(result: Any) -> None:
        if alive():
            on_done(result)

    def failed(error: BaseException) -> None:
        log.error(
            "Background job %s failed",
            getattr(function, "__name__", function),
            exc_info=(type(error), error, error.__traceback__),
        )
        if alive():
            on_error(error)

    worker.returned.connect(done)
    worker.errored.connect(failed)
    worker.finished.connect(lambda: _running.discard(worker))
    _running.add(worker)
    worker.start()
    return worker


class LongJob:
    """``function()`` started with ``run_in_background``; ``on_error(exception)`` on the GUI
    thread if it raises (the jobs answer through their own signals otherwise)."""

    def __init__(
        self, function: Callable[[], Any], on_error: Callable[[BaseException], None]
    ) -> None:
        self._done = threading.Event()

        def run() -> Any:
            try:
                return function()
            finally:
                self._done.set()

        run.__name__ = getattr(function, "__name__", "job")
        self.worker = run_in_background(run, lambda _result: None, on_error)

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (at most ``timeout`` s); True if it has."""
        return self._done.wait(timeout)


def result_unless_stopped(
    future: Future,
    stop: threading.Event,
    stopped: Callable[[], BaseException],
    *,
    let_running_finish: bool = False,
):
    """``future``'s result (a model-thread call of a long job), raising ``stopped()`` once
    ``stop`` is set: a call not yet started is withdrawn; one already running is abandoned, or
    with ``let_running_finish`` awaited (so finished work is kept)."""
    while True:
        try:
            return future.result(timeout=POLL_S)
        except CancelledError:
            raise stopped() from None
        except FutureTimeout:
            if stop.is_set() and (future.cancel() or not let_running_finish):
                raise stopped() from None


def running_jobs() -> int:
    """Background jobs not finished yet (for tests and shutdown)."""
    return len(_running)
