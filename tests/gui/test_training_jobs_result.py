"""Jobs panel → "Open result in viewer": enabled only once the run folder holds a complete
checkpoint (``best/``, or ``last/`` of a run that ended before its first validation)."""

from __future__ import annotations

import shutil

import pytest

from medgrad_desktop.qt.training.jobs_panel import JobsPanel
from tests.gui.training_jobs_helpers import save_screenshot
from training.events import EventLog
from training.run_watch import OPEN_CLIP_FILES, is_complete_checkpoint

pytestmark = pytest.mark.gui


def _mid_run(run_dir):
    """A run (started outside the app) at step 3 of 15, in epoch 1, with a loss curve."""
    run_dir.mkdir(parents=True)
    events = EventLog(run_dir)
    events.write("started", total_steps=15, start_step=0, epochs=5, device="cpu")
    events.write("epoch", epoch=1, epochs=5)
    for step, loss in ((1, 2.1), (2, 1.9), (3, 1.7)):
        events.write("step", step=step, total_steps=15, loss=loss, lr=1e-4, epoch=1)
    return events


def _panel(qtbot, folder) -> JobsPanel:
    panel = JobsPanel(None, folders=[folder])
    qtbot.addWidget(panel)
    panel.show()
    return panel


def test_open_result_waits_for_a_complete_best_checkpoint(qtbot, tiny_model_dir, tmp_path):
    run_dir = tmp_path / "runs" / "20261201-063200-clip"
    events = _mid_run(run_dir)
    panel = _panel(qtbot, tmp_path / "runs")
    view = panel.view
    assert panel.selected_watch().state == "running"
    assert view.progress.format() == "Epoch 1 of 5 · step 3 of 15 · 20 %"
    assert not view.open_button.isEnabled()
    assert "first model is saved at the end of epoch 1" in view.open_button.toolTip()
    save_screenshot(panel, "training_jobs_panel_mid_run", tmp_path)
    opened = []
    panel.openResult.connect(opened.append)
    panel.open_selected()
    assert opened == []

    # a save in progress (written under a temporary name) and a folder without weights: not yet
    shutil.copytree(tiny_model_dir, run_dir / f".best.tmp-{12345}")
    (run_dir / "best").mkdir()
    shutil.copy(tiny_model_dir / "config.json", run_dir / "best" / "config.json")
    events.write("metrics", split="val", epoch=1, step=3, loss=1.6, zero_shot_accuracy=0.4)
    panel.poll()
    assert not view.open_button.isEnabled()

    # the end of epoch 1 put a whole best/ in place: open it mid-run
    shutil.rmtree(run_dir / "best")
    (run_dir / f".best.tmp-{12345}").rename(run_dir / "best")
    events.write("checkpoint", kind="best", path=str(run_dir / "best"), step=3, epoch=1)
    qtbot.waitUntil(view.open_button.isEnabled, timeout=3_000)  # the panel's own polling
    assert panel.selected_watch().state == "running"
    assert "best model so far" in view.open_button.toolTip()
    assert view.open_button.text() == "Open best so far in viewer"
    save_screenshot(panel, "training_jobs_panel_mid_run_best", tmp_path)
    panel.open_selected()
    assert opened == [run_dir / "best"]


def test_last_checkpoint_opens_only_once_the_run_has_ended(qtbot, tiny_model_dir, tmp_path):
    run_dir = tmp_path / "runs" / "20261201-070000-clip"
    events = _mid_run(run_dir)
    shutil.copytree(tiny_model_dir, run_dir / "last")  # saved by a cancel, then resumed
    panel = _panel(qtbot, tmp_path / "runs")
    assert not panel.view.open_button.isEnabled()  # running: its best/ is still to come
    events.write("cancelled", step=3, path=str(run_dir / "last"), signal="SIGTERM")
    panel.poll()
    assert panel.selected_watch().state == "cancelled"
    assert panel.view.open_button.isEnabled()
    assert "last saved state" in panel.view.open_button.toolTip()
    assert panel.view.open_button.text() == "Open result in viewer"
    opened = []
    panel.openResult.connect(opened.append)
    panel.open_selected()
    assert opened == [run_dir / "last"]


def test_open_clip_checkpoints_count_as_complete(tmp_path):
    from medgrad_desktop.explain.open_clip import folder as open_clip_folder

    config, weights = OPEN_CLIP_FILES  # the names the open_clip loader reads
    assert config == open_clip_folder.CONFIG_FILE
    assert set(weights) == {open_clip_folder.SAFETENSORS_FILE, open_clip_folder.PICKLE_FILE}
    best = tmp_path / "best"
    best.mkdir()
    (best / config).write_text("{}")
    assert not is_complete_checkpoint(best)
    (best / open_clip_folder.SAFETENSORS_FILE).write_bytes(b"weights")
    assert is_complete_checkpoint(best)
    assert not is_complete_checkpoint(tmp_path / "missing")


def test_time_left_is_said_in_words():
    from medgrad_desktop.qt.training.run_view import eta_text

    assert eta_text(None) == "time left: estimating…"
    assert eta_text(250) == "about 4 min 10 s left"
