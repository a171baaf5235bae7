"""Stale results are dropped by request id, unexpected errors reach the log and the user,
background jobs always end with an answer, and the window opens before torch is imported."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from medgrad_desktop.qt.background import run_in_background
from medgrad_desktop.qt.exception_hooks import UNEXPECTED_MESSAGE
from tests.gui.main_window_helpers import wait_for_maps

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


def test_results_queued_before_a_model_and_prompt_set_switch_are_dropped(
    qtbot, main_window, image_folder, tiny_model_factory
):
    """The old answers sit in the event queue (same image, prompt 0, same radius: equal by
    value to what is wanted next) while the model and the prompt set change."""
    engine, controller, panel = main_window.engine, main_window.controller, main_window.prompt_panel
    shown = []
    controller.mapsShown.connect(shown.append)
    main_window.prompt_panel.chart.buttons[0].click()  # prompt 0, not following
    old_model = controller.model_info.model_id
    engine.clear_caches()
    controller.request_view()
    assert engine.wait_until_idle(30)  # answers computed; their signals are queued, unhandled
    other = tiny_model_factory(seed=5)
    engine.load_model(other, "cpu")
    panel.set_combo.setCurrentIndex((panel.set_combo.currentIndex() + 1) % panel.set_combo.count())
    qtbot.waitUntil(lambda: controller.model_info.model_id != old_model, timeout=30_000)
    wait_for_maps(qtbot, main_window, image_folder / "case_01.png")
    assert engine.wait_until_idle(30)
    qtbot.wait(100)
    assert shown, "maps of the new model and prompt set arrive"
    assert all(result.model_id == controller.model_info.model_id for result in shown)
    count = len(panel.prompt_set.items)
    assert all(result.prompt_index < count for result in shown)
    assert len(controller.similarity) == count


@pytest.mark.qt_no_exception_capture
def test_an_error_in_a_slot_is_logged_and_shown(qtbot, main_window, caplog):
    def broken_slot():
        raise RuntimeError("bug in a slot")

    with caplog.at_level(logging.CRITICAL):
        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: main_window.banner.text() == UNEXPECTED_MESSAGE)
    assert any("bug in a slot" in (r.exc_text or "") for r in caplog.records)
    assert main_window.exception_hooks.count == 1


def test_an_error_in_a_thread_is_logged_and_shown(qtbot, main_window, caplog):
    def broken_thread():
        raise ValueError("bug in a thread")

    with caplog.at_level(logging.CRITICAL):
        worker = threading.Thread(target=broken_thread, name="test-worker")
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: main_window.banner.text() == UNEXPECTED_MESSAGE)
    records = [r for r in caplog.records if "test-worker" in r.getMessage()]
    assert records and "bug in a thread" in records[0].exc_text


def test_background_jobs_always_answer(qtbot):
    answers = []

    def fails():
        raise KeyError("anything at all")

    run_in_background(fails, answers.append, lambda error: answers.append(error))
    qtbot.waitUntil(lambda: bool(answers))
    assert isinstance(answers[0], KeyError)
    run_in_background(lambda: 42, answers.append, answers.append)
    qtbot.waitUntil(lambda: len(answers) == 2)
    assert answers[1] == 42


def test_window_list_and_first_image_need_no_torch(tmp_path, image_folder):
    script = f"""
import sys
from pathlib import Path
from medgrad_desktop.qt.app import build_main_window, get_application
app = get_application()
window = build_main_window(device="cpu")
window.show()
window.prompt_panel.reload_sets()
window.open_folder(Path({str(image_folder)!r}))
import time
deadline = time.monotonic() + 60
while window.comparison.image_path is None and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.005)
print(window.comparison.image_path is not None, len(window.browser.visible_paths()),
      *(m in sys.modules for m in ("torch", "transformers", "matplotlib", "scipy", "skimage")))
window.close()
"""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "QT_QPA_PLATFORM": "offscreen",
        "MEDGRAD_USER_DATA": str(tmp_path / "data"),
        "MEDGRAD_SETTINGS_DIR": str(tmp_path / "settings"),
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # shown, 5 listed; torch, transformers, matplotlib, scipy, scikit-image not yet imported
    assert done.stdout.split()[-7:] == ["True", "5", "False", "False", "False", "False", "False"]


def test_the_sessions_job_answers_even_on_an_unexpected_error(qtbot, monkeypatch, tmp_path):
    from medgrad_desktop.qt.rating import analysis_job

    def broken(files, output):
        raise ZeroDivisionError("a bug in the report")

    monkeypatch.setattr(analysis_job, "write_report", broken)
    job = analysis_job.AnalysisJob("report", [tmp_path / "a.mgsession"], tmp_path / "r.html")
    with qtbot.waitSignal(job.failed, timeout=10_000) as blocker:
        job.start()
    assert "unexpected error" in blocker.args[0]
    assert job.wait(5)
