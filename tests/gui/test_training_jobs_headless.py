"""Training → Run headless job from config…: a YAML file starts a job without the dialog."""

from __future__ import annotations

import pytest
import yaml

from medgrad_desktop.qt.training.jobs_panel import JobsPanel
from medgrad_desktop.qt.training.training_menu import TrainingMenu
from tests.gui.training_jobs_helpers import stop_jobs, tiny_dataset
from training.events import EventLog
from training.jobs import JobFiles, job_running

pytestmark = pytest.mark.gui


@pytest.fixture
def menu(qtbot):
    from PySide6.QtWidgets import QMainWindow

    window = QMainWindow()
    window.open_model = lambda _source: None
    qtbot.addWidget(window)
    return TrainingMenu(window)


def test_config_file_starts_a_detached_job_shown_in_the_panel(qtbot, menu, tmp_path):
    tiny_dataset(tmp_path / "data")
    config = tmp_path / "job.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data": "data/images",
                "base": "no-such-model",
                "out": "runs",
                "name": "cfg",
                "epochs": 1,
                "batch_size": 2,
                "device": "cpu",
                "threads": 1,
            }
        )
    )
    run_dir = menu.start_config(config)
    assert run_dir is not None
    try:
        assert run_dir.parent == tmp_path / "runs"  # relative to the config file's folder
        written = yaml.safe_load(JobFiles(run_dir).settings.read_text())
        assert written["data"] == str(tmp_path / "data" / "images")
        assert job_running(run_dir)
        panel = menu.panel
        assert panel.isVisible() and panel.selected_run() == run_dir
        assert panel.selected_watch().state == "starting"
        assert panel.view.cancel_button.isEnabled()
        assert "fit --config" in panel.selected_watch().log_tail()
    finally:
        stop_jobs([run_dir])
    assert not job_running(run_dir)


def test_a_failed_run_shows_its_reason(qtbot, tmp_path):
    run_dir = tmp_path / "runs" / "20260101-000000-broken"
    run_dir.mkdir(parents=True)
    events = EventLog(run_dir)
    events.write("started", total_steps=6, start_step=0, epochs=2, device="cpu")
    events.write("step", step=1, total_steps=6, loss=1.5, lr=1e-4, epoch=1)
    events.write("failed", message="The class 'melanoma' has 1 image(s).", step=None)
    panel = JobsPanel(None, folders=[tmp_path / "runs"])
    qtbot.addWidget(panel)
    panel.show()
    assert panel.selected_run() == run_dir.resolve()
    assert panel.view.state.text() == "Failed — The class 'melanoma' has 1 image(s)."
    assert panel.view.progress.format() == "Epoch 1 of 2 · step 1 of 6 · 17 %"
    assert panel.view.curves.point_counts()["train_loss"] == 1
    assert not panel.view.cancel_button.isEnabled() and not panel.view.resume_button.isEnabled()
    assert "Failed" in panel.run_list.item(0).text()


def test_bad_config_file_is_refused_before_start(qtbot, menu, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("data: x\nlearning_speed: 3\n")
    assert menu.start_config(config) is None
    from PySide6.QtWidgets import QMessageBox

    box = menu.window.findChild(QMessageBox, "trainingErrorBox")
    assert box is not None
    assert box.text() == "The settings file bad.yaml has unknown settings: learning_speed."
    assert menu.panel is None
