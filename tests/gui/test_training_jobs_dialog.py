"""The New training run dialog refuses bad input before any job starts, and shows counts."""

from __future__ import annotations

import pytest

from medgrad_desktop.qt.training.new_run_dialog import NewRunDialog
from tests.gui.training_jobs_helpers import save_screenshot, tiny_dataset, tiny_settings
from training.jobs import JOBS_DIR

pytestmark = pytest.mark.gui
CHECK_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("train_data") / "data")


def _dialog(qtbot, settings) -> NewRunDialog:
    dialog = NewRunDialog(None, settings)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _refusal(qtbot, dialog, action) -> str:
    with qtbot.waitSignal(dialog.checked, timeout=CHECK_TIMEOUT_MS) as blocker:
        action()
    assert blocker.args == [False]
    return dialog.problem.text()


def _no_job_started(out):
    assert not (out / JOBS_DIR).exists()
    assert not out.exists() or not any(p.is_dir() for p in out.iterdir())


def test_check_shows_counts_of_images_and_descriptions(qtbot, dataset, tiny_model_dir, tmp_path):
    out = tmp_path / "runs"
    dialog = _dialog(qtbot, tiny_settings(dataset, tiny_model_dir, out))
    assert dialog.descriptions.isEnabled() and dialog.base_path.isEnabled()
    with qtbot.waitSignal(dialog.checked, timeout=CHECK_TIMEOUT_MS) as blocker:
        dialog.check()
    assert blocker.args == [True], dialog.problem.text()
    summary = dialog.summary.text()
    assert "12 images and 12 descriptions" in summary
    assert "3 classes" in summary and "melanoma" in summary
    assert dialog.problem.text() == ""
    shot = save_screenshot(dialog, "training_new_run_dialog", tmp_path)
    assert shot.stat().st_size > 5000
    _no_job_started(out)  # checking starts nothing


def test_empty_folder_is_refused_with_the_reason(qtbot, tiny_model_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    settings = tiny_settings(tmp_path, tiny_model_dir, tmp_path / "runs")
    settings.update(data=str(empty), descriptions=None)
    dialog = _dialog(qtbot, settings)
    message = _refusal(qtbot, dialog, dialog.start)
    assert message == "The folder empty contains no images."
    assert dialog.isVisible() and dialog.run_dir is None
    _no_job_started(tmp_path / "runs")


def test_count_mismatch_is_refused_naming_both_counts(qtbot, dataset, tiny_model_dir, tmp_path):
    short = tmp_path / "short.csv"
    lines = (dataset / "descriptions.csv").read_text(encoding="utf-8").splitlines()
    short.write_text("\n".join(lines[:-2]) + "\n", encoding="utf-8")  # 10 of 12 descriptions
    settings = tiny_settings(dataset, tiny_model_dir, tmp_path / "runs")
    settings["descriptions"] = str(short)
    dialog = _dialog(qtbot, settings)
    message = _refusal(qtbot, dialog, dialog.start)
    assert "12 images" in message and "10 descriptions" in message
    assert dialog.run_dir is None
    _no_job_started(tmp_path / "runs")


def test_unwritable_output_folder_is_refused(qtbot, dataset, tiny_model_dir, tmp_path):
    blocker_file = tmp_path / "not-a-folder"
    blocker_file.write_text("a file where the output folder should go")
    out = blocker_file / "runs"
    dialog = _dialog(qtbot, tiny_settings(dataset, tiny_model_dir, out))
    message = _refusal(qtbot, dialog, dialog.start)
    assert message.startswith(f"The output folder {out} cannot be written to")
    assert dialog.run_dir is None


def test_bad_learning_rate_and_missing_model_are_refused(qtbot, dataset, tmp_path):
    settings = tiny_settings(dataset, tmp_path / "no-model", tmp_path / "runs")
    dialog = _dialog(qtbot, settings)
    dialog.lr.setText("fast")
    assert _refusal(qtbot, dialog, dialog.check) == "The learning rate must be greater than zero."
    dialog.lr.setText("1e-4")
    assert _refusal(qtbot, dialog, dialog.check) == "The model no-model could not be found."
    _no_job_started(tmp_path / "runs")
