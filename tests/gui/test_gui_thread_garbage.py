"""Cyclic garbage holding Qt objects is destroyed on the GUI thread, whichever thread allocates
(a collection started by a worker thread could destroy Qt objects there: a deadlock)."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject


class _Cycle:
    """An object kept alive only by a reference to itself, holding a Qt object."""

    def __init__(self) -> None:
        self.me = self
        self.qt_object = QObject()


def test_cyclic_garbage_is_collected_on_the_gui_thread_not_a_worker(qtbot):
    from medgrad_desktop.qt.app import get_application

    get_application()
    gc.collect()  # a fresh count: the first collection due comes from the worker's allocations
    destroyed_on: list[str] = []
    cycle = _Cycle()
    weakref.finalize(cycle, lambda: destroyed_on.append(threading.current_thread().name))
    del cycle
    kept: list[list] = []

    def allocate() -> None:  # far past the first generation's threshold (700 objects)
        kept.extend([] for _ in range(20_000))

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(destroyed_on), timeout=10_000)
    assert destroyed_on == [threading.main_thread().name]
