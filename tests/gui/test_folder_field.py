"""The one folder/file chooser row of the map-quality and New run dialogs: its dialog starts at
the typed path's folder, else at the last folder used in the app, else at home."""

from __future__ import annotations

from pathlib import Path

import pytest

from medgrad_desktop.qt.map_quality.map_quality_dialog import MapQualityDialog
from medgrad_desktop.qt.training.new_run_dialog import NewRunDialog
from medgrad_desktop.qt.widgets import folder_field
from medgrad_desktop.qt.widgets.folder_field import FILE, FolderField, last_folder

pytestmark = pytest.mark.gui


@pytest.fixture
def asked(monkeypatch):
    """Record each file dialog (kind, start folder, filter) and answer with ``answer[0]``."""
    calls, answer = [], [""]

    def folder(_parent, _title, start):
        calls.append(("folder", start, None))
        return answer[0]

    def file(_parent, _title, start, file_filter):
        calls.append(("file", start, file_filter))
        return answer[0], file_filter

    monkeypatch.setattr(folder_field.QFileDialog, "getExistingDirectory", folder)
    monkeypatch.setattr(folder_field.QFileDialog, "getOpenFileName", file)
    return calls, answer


def test_choosing_starts_at_home_then_the_last_folder_then_the_typed_one(qtbot, tmp_path, asked):
    calls, answer = asked
    field = FolderField("Images")
    qtbot.addWidget(field)
    changes = []
    field.textChanged.connect(changes.append)
    field.button.click()  # cancelled: nothing changes
    assert calls[-1] == ("folder", str(Path.home()), None) and field.text() == ""
    chosen = tmp_path / "lesions"
    chosen.mkdir()
    answer[0] = str(chosen)
    field.button.click()
    assert field.text() == str(chosen) and changes == [str(chosen)]
    assert last_folder() == str(chosen)  # remembered for every dialog of the app

    other = FolderField("Table", kind=FILE, file_filter="CSV (*.csv)")
    qtbot.addWidget(other)
    answer[0] = ""
    other.button.click()
    assert calls[-1] == ("file", str(chosen), "CSV (*.csv)")
    other.setText(str(tmp_path / "elsewhere" / "table.csv"))  # typed; its folder is missing
    other.button.click()
    assert calls[-1][1] == str(chosen)
    other.setText(str(tmp_path / "table.csv"))  # a file in an existing folder
    other.button.click()
    assert calls[-1][1] == str(tmp_path)


def test_both_dialogs_use_the_shared_field(qtbot, tmp_path, asked):
    calls, answer = asked
    quality = MapQualityDialog(engine=None, folder=tmp_path)
    qtbot.addWidget(quality)
    answer[0] = str(tmp_path / "results")
    quality.out_field.button.click()
    assert quality.out_edit.text() == str(tmp_path / "results")
    new_run = NewRunDialog(None, {"out": str(tmp_path / "runs")})
    qtbot.addWidget(new_run)
    assert isinstance(new_run.data_path, FolderField) and isinstance(new_run.out, FolderField)
    new_run.data_format.setCurrentIndex(1)  # a manifest: the data field asks for a CSV file
    answer[0] = str(tmp_path / "manifest.csv")
    new_run.data_path.button.click()
    assert calls[-1][0] == "file" and calls[-1][2] == "CSV (*.csv)"
    assert new_run.data_path.text() == str(tmp_path / "manifest.csv")
