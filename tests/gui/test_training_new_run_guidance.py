"""The New run dialog guides a user without data or jargon: a help line per field, a time
estimate measured on this computer that follows the settings, and "Make sample data…"."""

from __future__ import annotations

import pytest

from medgrad_desktop.qt.training import sample_data
from medgrad_desktop.qt.training.field_help import FIELD_HELP
from medgrad_desktop.qt.training.new_run_dialog import NewRunDialog
from tests.gui.training_jobs_helpers import save_screenshot
from training.jobs import JOBS_DIR

pytestmark = pytest.mark.gui
TIMEOUT_MS = 60_000


def _dialog(qtbot, defaults) -> NewRunDialog:
    dialog = NewRunDialog(None, defaults)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_every_field_shown_has_its_help_line(qtbot, tmp_path):
    dialog = _dialog(qtbot, {"out": str(tmp_path / "runs")})
    assert set(dialog.help_labels) == set(FIELD_HELP)
    for key, label in dialog.help_labels.items():
        assert label.text() == FIELD_HELP[key] and len(label.text()) < 110  # one short line
    shown = {key for key, label in dialog.help_labels.items() if label.isVisible()}
    assert shown == set(FIELD_HELP) - {"base_path", "trainable_layers", "lora_rank"}
    assert dialog.epochs.toolTip() == FIELD_HELP["epochs"]
    dialog.method.setCurrentIndex(dialog.method.findData("lora"))
    assert dialog.help_labels["lora_rank"].isVisible() and dialog.lora_r.isEnabled()
    assert not dialog.help_labels["trainable_layers"].isVisible()
    dialog.base_kind.setCurrentIndex(1)
    assert dialog.help_labels["base_path"].isVisible() and dialog.base_path.kind == "folder"
    dialog.base_kind.setCurrentIndex(2)
    assert dialog.base_path.kind == "file" and "*.pth" in dialog.base_path.file_filter
    assert dialog.height() <= 740  # fits a 1280×800 screen


@pytest.mark.slow  # the timing starts a training process (about 10 s on 2 cores)
def test_sample_data_fills_the_data_and_the_estimate_follows(
    qtbot, tiny_model_dir, tmp_path, monkeypatch
):
    chosen = tmp_path / "my files"
    chosen.mkdir()
    (chosen / "notes.txt").write_text("already here")  # not empty: a new folder inside
    monkeypatch.setattr(sample_data, "SAMPLE_CASES", 12)
    monkeypatch.setattr(sample_data, "SAMPLE_SIZE", 64)
    monkeypatch.setattr(
        sample_data.QFileDialog, "getExistingDirectory", lambda *a, **k: str(chosen)
    )
    out = tmp_path / "runs"
    dialog = _dialog(
        qtbot,
        {
            "base": str(tiny_model_dir),
            "batch_size": 2,
            "epochs": 3,
            "device": "cpu",
            "out": str(out),
            "threads": 1,
        },
    )
    assert dialog.estimate.text().startswith("Time estimate: choose the training data")
    dialog.sample_button.click()
    assert dialog.samples.progress.isVisible() and "Writing 12 synthetic cases" in (
        dialog.summary.text()
    )
    qtbot.waitUntil(lambda: "written to" in dialog.summary.text(), timeout=TIMEOUT_MS)
    target = chosen / "medgrad sample data"
    assert not dialog.samples.progress.isVisible()
    assert dialog.data_path.text() == str(target / "images")
    assert dialog.descriptions.text() == str(target / "descriptions.csv")
    assert len(list((target / "images").glob("*.png"))) == 12
    assert "not patients" in dialog.summary.text()

    # the estimate: counted (12 images → 8 train) and timed on this computer
    qtbot.waitUntil(lambda: dialog.estimate.text().startswith("Estimated time"), timeout=TIMEOUT_MS)
    assert "on this computer" in dialog.estimate.text()
    assert "3 epochs of 4 steps of 2 images" in dialog.estimate.text()
    assert "per training image, CPU" in dialog.estimate.text()
    three_epochs = dialog.estimator.seconds
    dialog.epochs.setValue(6)  # rescaled at once, nothing timed again
    assert "6 epochs of 4 steps" in dialog.estimate.text()
    assert len(dialog.estimator.timings) == 1
    assert three_epochs < dialog.estimator.seconds < 2 * three_epochs  # the load counts once
    dialog.batch_size.setValue(64)
    assert "fewer than one batch of 64" in dialog.estimate.text()
    dialog.batch_size.setValue(2)
    estimate = dialog.estimate.text()
    dialog.base_kind.setCurrentIndex(0)  # another model: no stale figure while it is timed
    assert dialog.estimate.text() == "Estimating the time…" and dialog.estimator.seconds == 0
    dialog.base_kind.setCurrentIndex(1)  # back to the model timed already: at once
    assert dialog.estimate.text() == estimate
    save_screenshot(dialog, "training_new_run_sample_data", tmp_path)

    # the sample data is real training data: the check passes with its counts
    with qtbot.waitSignal(dialog.checked, timeout=TIMEOUT_MS) as blocker:
        dialog.check()
    assert blocker.args == [True], dialog.problem.text()
    assert "12 images and 12 descriptions, 3 classes" in dialog.summary.text()
    assert not (out / JOBS_DIR).exists()


def test_sample_data_refused_in_a_folder_that_cannot_be_written(qtbot, tmp_path, monkeypatch):
    blocker_file = tmp_path / "a file"
    blocker_file.write_text("not a folder")
    dialog = _dialog(qtbot, {"out": str(tmp_path / "runs")})
    dialog.samples.write(blocker_file)
    assert "cannot be opened; choose another one" in dialog.summary.text()
    assert dialog.data_path.text() == ""
