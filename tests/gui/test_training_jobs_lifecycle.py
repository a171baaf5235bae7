"""A real tiny training job from the Training menu: progress and curves, a fresh Jobs panel
finds it again, cancel (last/ saved), resume, finish, open best/ in the viewer and see maps."""

from __future__ import annotations

import os

import pytest

from medgrad_desktop.engine.run_names import human_run_name
from medgrad_desktop.qt.training.jobs_panel import JobsPanel
from medgrad_desktop.qt.training.training_menu import install_training_menu
from tests.gui.main_window_helpers import MAPS_TIMEOUT_MS
from tests.gui.training_jobs_helpers import save_screenshot, stop_jobs, tiny_dataset, tiny_settings
from training.events import read_events
from training.jobs import JobFiles, job_running

pytestmark = [pytest.mark.gui, pytest.mark.slow]
JOB_TIMEOUT_MS = 120_000


def _events(run_dir, kind):
    return [e for e in read_events(run_dir) if e["event"] == kind]


def test_job_runs_cancels_resumes_finishes_and_opens_in_viewer(
    qtbot, main_window, tiny_model_dir, tmp_path
):
    data = tiny_dataset(tmp_path / "data")
    out = tmp_path / "runs"
    training = install_training_menu(main_window)
    titles = [a.text() for a in main_window.menuBar().actions()]
    assert "&Training" in titles
    assert [a.text() for a in training.menu.actions()] == [
        "New training run…",
        "Run headless job from config…",
        "Jobs",
    ]
    dialog = training.new_run(tiny_settings(data, tiny_model_dir, out))
    started = []
    dialog.jobStarted.connect(started.append)
    dialog.start()
    qtbot.waitUntil(lambda: bool(started), timeout=60_000)
    run_dir = started[0]
    try:
        panel = training.panel
        assert panel is not None and panel.isVisible()
        assert panel.selected_run() == run_dir.resolve()
        assert JobFiles(run_dir).settings.is_file() and job_running(run_dir)
        pid = JobFiles(run_dir).read_record()["pid"]
        if os.name == "posix":  # its own session: closing the app does not end it
            assert os.getsid(pid) == pid != os.getsid(0)

        # progress and the loss curve follow events.jsonl while the job runs
        view = panel.view
        qtbot.waitUntil(lambda: view.watch.progress.step >= 2, timeout=JOB_TIMEOUT_MS)
        qtbot.waitUntil(lambda: view.curves.point_counts()["train_loss"] >= 2, timeout=5_000)
        assert view.watch.state == "running"
        assert view.progress.value() > 0 and "step" in view.progress.format()
        assert view.cancel_button.isEnabled() and not view.resume_button.isEnabled()
        qtbot.waitUntil(lambda: "training" in view.log.toPlainText(), timeout=10_000)
        save_screenshot(panel, "training_jobs_panel_running", tmp_path)

        # closing the panel and opening a fresh one (as after a restart) shows the job again
        step_before = view.watch.progress.step
        panel.close()
        assert not panel.timer.isActive()  # a hidden panel stops polling
        reopened = JobsPanel(None, folders=[out])
        qtbot.addWidget(reopened)
        reopened.show()
        assert reopened.selected_run() == run_dir.resolve()
        watch = reopened.selected_watch()
        assert watch.state == "running" and watch.progress.step >= step_before
        assert reopened.view.progress.value() > 0

        # cancel: graceful, last/ saved, cancelled event
        reopened.cancel_selected()
        qtbot.waitUntil(lambda: watch.state == "cancelled", timeout=JOB_TIMEOUT_MS)
        assert (run_dir / "last" / "config.json").is_file()
        cancelled = _events(run_dir, "cancelled")
        assert len(cancelled) == 1 and cancelled[0]["signal"] == "SIGTERM"
        qtbot.waitUntil(lambda: reopened.view.resume_button.isEnabled(), timeout=5_000)
        assert not reopened.view.cancel_button.isEnabled()

        # resume: continues from the saved step to the end
        reopened.resume_selected()
        qtbot.waitUntil(lambda: watch.state == "finished", timeout=JOB_TIMEOUT_MS)
        starts = _events(run_dir, "started")
        assert [s["resumed"] for s in starts] == [False, True]
        assert starts[1]["start_step"] == cancelled[0]["step"] > 0
        assert _events(run_dir, "finished")[0]["steps"] == starts[0]["total_steps"]
        qtbot.waitUntil(lambda: "Finished" in reopened.view.state.text(), timeout=5_000)
        assert "Test zero-shot accuracy" in reopened.view.state.text()
        assert reopened.view.curves.point_counts()["accuracy"] >= 1
        assert reopened.view.open_button.isEnabled()
        save_screenshot(reopened, "training_jobs_panel_finished", tmp_path)

        # open best/ in the viewer: the model is loaded and maps are shown with it
        reopened.openResult.connect(training.open_result)
        with qtbot.waitSignal(main_window.controller.mapsShown, timeout=MAPS_TIMEOUT_MS):
            reopened.open_selected()
        qtbot.waitUntil(
            lambda: main_window.controller.model_info.name.endswith("(best)"),
            timeout=MAPS_TIMEOUT_MS,
        )
        assert main_window.controller.model_info.name == (f"{human_run_name(run_dir)} (best)")
        shown = main_window.controller.shown
        assert shown is not None and set(shown.maps) == set(main_window.comparison.panels)
        save_screenshot(main_window, "training_result_in_viewer", tmp_path)
    finally:
        stop_jobs([run_dir])
