"""The Qt side's one background idiom (``qt.background.run_in_background``) as the thumbnail
loader and the training pre-flight check use it: bounded concurrency, answers on the GUI
thread, reset dropping queued work, and an answer whatever the job raised."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from medgrad_desktop.errors import DataError, ImageLoadError
from medgrad_desktop.qt import background
from medgrad_desktop.qt.training import preflight_worker
from medgrad_desktop.qt.training.preflight_worker import UNEXPECTED_FAILURE, PreflightWorker
from medgrad_desktop.qt.widgets import thumbnail_loader
from medgrad_desktop.qt.widgets.thumbnail_loader import THUMBNAIL_SIDE, ThumbnailLoader
from tests.gui.main_window_helpers import write_lesion_png

pytestmark = pytest.mark.gui


@pytest.fixture
def pngs(tmp_path):
    return [write_lesion_png(tmp_path / f"case_{i}.png", seed=i, size=(300, 200)) for i in range(5)]


def _collect(qtbot, loader):
    """Record answers, the GUI thread check and the concurrency seen at each answer."""
    seen = {"ready": [], "failed": [], "gui_thread": True, "max_running": 0}
    gui = QApplication.instance().thread()

    def note():
        seen["gui_thread"] &= QThread.currentThread() is gui
        seen["max_running"] = max(seen["max_running"], loader.running())

    def ready(path, image):
        note()
        seen["ready"].append((path, image))

    def failed(path, message):
        note()
        seen["failed"].append((path, message))

    loader.thumbnailReady.connect(ready)
    loader.thumbnailFailed.connect(failed)
    return seen


def test_thumbnails_arrive_on_the_gui_thread_one_at_a_time(qtbot, pngs, tmp_path, monkeypatch):
    started = []
    original = thumbnail_loader.load_image
    monkeypatch.setattr(
        thumbnail_loader, "load_image", lambda *a, **k: (started.append(a[0]), original(*a, **k))[1]
    )
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    loader = ThumbnailLoader(threads=1)
    seen = _collect(qtbot, loader)
    for path in [*pngs, broken, pngs[0]]:  # the repeat is decoded once
        loader.request(path)
    assert loader.running() == 1  # bounded: the others wait in the queue
    qtbot.waitUntil(lambda: len(seen["ready"]) + len(seen["failed"]) == 6, timeout=10_000)
    assert [p for p, _ in seen["ready"]] == pngs and started == [*pngs, broken]
    assert all(
        isinstance(i, QImage) and max(i.width(), i.height()) == THUMBNAIL_SIDE
        for _, i in seen["ready"]
    )
    with pytest.raises(ImageLoadError) as refused:
        original(broken, max_side=THUMBNAIL_SIDE)
    assert seen["failed"] == [(broken, refused.value.message)]  # the plain sentence, as raised
    assert seen["gui_thread"] and seen["max_running"] <= 1
    assert loader.running() == 0 and loader.wait(1000)


def test_reset_drops_queued_work_and_the_running_answer(qtbot, pngs, monkeypatch):
    gate = threading.Event()
    started = []
    original = thumbnail_loader.load_image

    def slow_first(path, **kwargs):
        started.append(path)
        if path == pngs[0]:
            gate.wait(10)
        return original(path, **kwargs)

    monkeypatch.setattr(thumbnail_loader, "load_image", slow_first)
    loader = ThumbnailLoader(threads=1)
    seen = _collect(qtbot, loader)
    for path in pngs[:3]:
        loader.request(path)
    qtbot.waitUntil(lambda: started == [pngs[0]], timeout=5_000)
    loader.reset()  # a new folder: pngs[1:3] never start, pngs[0]'s answer is ignored
    loader.request(pngs[4])
    gate.set()
    qtbot.waitUntil(lambda: len(seen["ready"]) == 1, timeout=10_000)
    assert [p for p, _ in seen["ready"]] == [pngs[4]]
    assert started == [pngs[0], pngs[4]]
    loader.request(pngs[0])  # forgotten by the reset: asked again, decoded again
    qtbot.waitUntil(lambda: len(seen["ready"]) == 2, timeout=10_000)
    assert seen["ready"][1][0] == pngs[0]


def test_a_loader_deleted_mid_job_gets_no_answer(qtbot, pngs, monkeypatch):
    gate = threading.Event()
    original = thumbnail_loader.load_image
    monkeypatch.setattr(
        thumbnail_loader, "load_image", lambda *a, **k: (gate.wait(10), original(*a, **k))[1]
    )
    loader = ThumbnailLoader(threads=2)
    loader.request(pngs[0])
    loader.deleteLater()
    qtbot.waitUntil(lambda: not _valid(loader), timeout=5_000)
    gate.set()
    qtbot.waitUntil(lambda: background.running_jobs() == 0, timeout=10_000)  # no crash


def _valid(qobject) -> bool:
    from shiboken6 import isValid

    return isValid(qobject)


@pytest.mark.parametrize(
    ("raised", "message"),
    [
        (DataError("The folder x contains no images."), "The folder x contains no images."),
        (RuntimeError("a bug"), UNEXPECTED_FAILURE),
        (MemoryError(), UNEXPECTED_FAILURE),
    ],
)
def test_preflight_answers_whatever_the_check_raised(qtbot, monkeypatch, raised, message):
    def check(settings):
        assert QThread.currentThread() is not QApplication.instance().thread()
        raise raised

    monkeypatch.setattr(preflight_worker, "preflight", check)
    worker = PreflightWorker()
    with qtbot.waitSignal(worker.refused, timeout=5_000) as blocker:
        worker.check({"data": "x"})
    assert blocker.args == [message]


def test_preflight_drops_an_older_check(qtbot, monkeypatch):
    gate = threading.Event()

    def check(settings):
        if settings["data"] == "old":
            gate.wait(10)
        return settings["data"]

    monkeypatch.setattr(preflight_worker, "preflight", check)
    worker = PreflightWorker()
    answers = []
    worker.passed.connect(answers.append)
    worker.check({"data": "old"})
    worker.check({"data": "new"})
    qtbot.waitUntil(lambda: answers == ["new"], timeout=5_000)
    gate.set()
    qtbot.waitUntil(lambda: background.running_jobs() == 0, timeout=5_000)
    qtbot.wait(50)
    assert answers == ["new"]
