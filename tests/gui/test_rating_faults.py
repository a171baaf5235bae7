"""Setup validation and save failures: plain messages, and nothing is shown as saved."""

from __future__ import annotations

import os

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from medgrad_desktop.qt.rating import install_rating_mode
from medgrad_desktop.review import RatingSession, RatingStore, SessionConfig
from tests.gui.rating_helpers import wait_ratable

pytestmark = pytest.mark.gui


def _create(path, image_folder) -> None:
    images = sorted(image_folder.glob("*.png"))
    RatingSession.create(
        path, SessionConfig(reader="r1", images=images, fixed_prompt="melanoma", seed=3)
    ).close()


def _click_create(dialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def test_dialog_validates_before_creating(qtbot, main_window, tmp_path):
    menu = install_rating_mode(main_window)
    dialog = menu.new_session()
    path = tmp_path / "new.mgsession"
    errors = dialog.field_errors
    assert dialog.path_field.path() == ""  # no file name before a reader id is entered
    _click_create(dialog)
    assert errors["reader"].text() == "Please enter a reader id." and errors["reader"].isVisible()
    assert errors["study"].text() == "Please enter a study name."
    assert "marked in red" in dialog.error.text()
    dialog.study_edit.setText("pilot")
    dialog.reader_edit.setText("r1")
    assert dialog.path_field.path().endswith("pilot--r1.mgsession")
    dialog.set_session_path(path)
    empty = tmp_path / "empty"
    empty.mkdir()
    dialog.folder_field.set_path(str(empty))
    assert dialog.image_count.text() == "0 image(s)"
    _click_create(dialog)
    assert "no images" in errors["images"].text() and errors["study"].isHidden()
    dialog.folder_field.set_path(str(tmp_path / "nowhere"))
    _click_create(dialog)
    assert "cannot be read" in errors["images"].text()
    for box in dialog.method_boxes.values():
        box.setChecked(False)
    dialog.folder_field.set_path(str(main_window.browser.folder))
    _click_create(dialog)
    assert "Choose one or more methods" in errors["methods"].text()
    assert errors["images"].isHidden()
    dialog.method_boxes["medgrad"].setChecked(True)
    dialog.scale_edits[2].setText("  ")
    _click_create(dialog)
    assert "meaning" in errors["scale_labels"].text() and errors["methods"].isHidden()
    assert not path.exists() and dialog.isVisible() and menu.controller is None


def test_existing_file_is_offered_for_resuming(qtbot, main_window, tmp_path, image_folder):
    path = tmp_path / "taken.mgsession"
    _create(path, image_folder)
    menu = install_rating_mode(main_window)
    dialog = menu.new_session()
    dialog.study_edit.setText("default")
    dialog.reader_edit.setText("r1")
    dialog.set_session_path(path)
    _click_create(dialog)
    assert "already exists" in dialog.error.text()
    assert dialog.open_existing.isVisible()
    dialog.open_existing.click()
    qtbot.waitUntil(lambda: menu.controller is not None, timeout=5000)
    assert menu.controller.session.reader == "r1"


def test_read_only_session_file_shows_the_error(qtbot, main_window, tmp_path, image_folder):
    path = tmp_path / "locked.mgsession"
    _create(path, image_folder)
    os.chmod(path, 0o444)
    menu = install_rating_mode(main_window)
    assert not menu.open_session(path)
    box = main_window.findChild(QMessageBox, "ratingErrorBox")
    assert box is not None and "read-only" in box.text()
    assert "read-only" in main_window.banner.text()
    assert menu.controller is None and not main_window.browser.isHidden()


def test_failed_save_is_never_marked_saved(qtbot, main_window, tmp_path, image_folder):
    path = tmp_path / "ro.mgsession"
    _create(path, image_folder)
    menu = install_rating_mode(main_window)
    assert menu.start(RatingSession.open(path, read_only=True))
    controller = menu.controller
    wait_ratable(qtbot, controller)
    assert not controller.rate(0, 4)
    row = controller.rows[0]
    assert row.chosen_score() == 4 and not row.is_saved()
    assert "not saved" in row.status.text() and "✓" not in row.status.text()
    assert "nothing was saved" in main_window.banner.text()
    assert "reading only" in controller.bar.message.text()
    assert controller.bar.progress.value() == 0
    menu.leave()
    with RatingStore.open(path, read_only=True) as store:
        assert store.ratings() == []


def test_no_edits_session_refuses_a_second_score(qtbot, main_window, tmp_path, image_folder):
    path = tmp_path / "final.mgsession"
    images = sorted(image_folder.glob("*.png"))
    config = SessionConfig(
        reader="r1", images=images, fixed_prompt="melanoma", seed=3, allow_edits=False
    )
    RatingSession.create(path, config).close()
    menu = install_rating_mode(main_window)
    assert menu.open_session(path)
    controller = menu.controller
    wait_ratable(qtbot, controller)
    assert controller.rate(0, 2)
    assert not controller.rows[0].flag.isEnabled()
    assert not controller.rate(0, 5)
    assert controller.rows[0].chosen_score() == 2 and controller.rows[0].is_saved()
    assert "allows no changes" in controller.bar.message.text()


def test_image_list_file_becomes_the_session_cases(qtbot, main_window, tmp_path, image_folder):
    listing = tmp_path / "cases.txt"
    listing.write_text(
        "# cases for the pilot\nimages/case_02.png\n\n" + str(image_folder / "case_04.png") + "\n",
        encoding="utf-8",
    )
    menu = install_rating_mode(main_window)
    dialog = menu.new_session()
    dialog.study_edit.setText("listed")
    dialog.reader_edit.setText("r2")
    dialog.list_field.set_path(str(listing))
    dialog.list_radio.setChecked(True)
    assert dialog.image_count.text() == "2 image(s)"
    dialog.set_session_path(tmp_path / "listed.mgsession")
    _click_create(dialog)
    qtbot.waitUntil(lambda: menu.controller is not None, timeout=5000)
    assert sorted(menu.controller.order) == ["case_02.png", "case_04.png"]
