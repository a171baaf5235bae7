"""Rating mode on the real main window: setup dialog, keys 1–5 and Tab, durable blinded
ratings with their display settings, auto-advance, and resuming after a restart."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from medgrad_desktop.qt.rating import install_rating_mode
from medgrad_desktop.qt.rating.rating_panel import SAVED_MARK
from medgrad_desktop.review import RatingSession, RatingStore
from tests.gui.rating_helpers import open_window, wait_ratable

pytestmark = pytest.mark.gui

READER = "Dr. Ünal / 読影者 #1"


def _focused():
    return QApplication.focusWidget()


def _activate(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)


def _create_with_dialog(qtbot, main_window, path):
    menu = install_rating_mode(main_window)
    dialog = menu.new_session()
    dialog.study_edit.setText("pilot")
    dialog.reader_edit.setText(READER)
    dialog.fixed_combo.setCurrentText("melanoma")
    dialog.seed_edit.setText("20260001")
    dialog.set_session_path(path)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: menu.controller is not None, timeout=5000)
    return menu, menu.controller


def test_dialog_session_keys_tab_autoadvance_and_store(qtbot, main_window, tmp_path):
    path = tmp_path / "pilot.mgsession"
    _menu, controller = _create_with_dialog(qtbot, main_window, path)
    assert path.is_file()
    assert main_window.browser.isHidden()
    _activate(qtbot, main_window)
    first_case = controller.case
    assert controller.index == 0 and first_case == controller.order[0]
    wait_ratable(qtbot, controller, first_case)
    rows = controller.rows
    assignment = dict(controller.assignment)  # label -> true method
    assert sorted(assignment) == ["A", "B", "C"]
    assert [slot.title.text() for slot in controller.mode.slots] == ["A", "B", "C"]

    rows[0].flag.setChecked(True)
    rows[0].comment.setText("rim only — ränder")
    assert _focused() is rows[0]
    qtbot.keyClick(_focused(), Qt.Key.Key_3)  # A
    assert rows[0].status.text() == SAVED_MARK and _focused() is rows[1]
    qtbot.keyClick(_focused(), Qt.Key.Key_Tab)
    assert _focused() is rows[2]
    qtbot.keyClick(_focused(), Qt.Key.Key_Backtab)
    assert _focused() is rows[1]
    qtbot.keyClick(_focused(), Qt.Key.Key_5)  # B
    assert _focused() is rows[2]
    qtbot.keyClick(_focused(), Qt.Key.Key_1)  # C: the case is complete
    assert all(row.is_saved() for row in rows)
    assert controller.bar.progress.value() == 1

    qtbot.waitUntil(lambda: controller.index == 1, timeout=5000)  # auto-advance
    wait_ratable(qtbot, controller, controller.order[1])
    assert not any(row.is_saved() for row in rows)

    info = main_window.controller.model_info
    with RatingStore.open(path, read_only=True) as store:
        ratings = {r["panel"]: r for r in store.ratings()}
        assert store.study == "pilot"
    assert {label: r["method"] for label, r in ratings.items()} == assignment
    assert {label: r["score"] for label, r in ratings.items()} == {"A": 3, "B": 5, "C": 1}
    for label, rating in ratings.items():
        assert rating["reader"] == READER and rating["case"] == first_case
        assert rating["prompt"] == "melanoma"
        assert rating["opacity"] == pytest.approx(0.55)
        assert rating["colormap"] == main_window.controls.colormap()
        assert rating["entropy_radius"] == main_window.controls.radius()
        assert rating["model_id"] == info.model_id
        assert rating["seconds_spent"] > 0
        assert rating["flag_wrong_region"] is (label == "A")
    assert ratings["A"]["comment"] == "rim only — ränder"


def test_restart_resumes_at_first_unrated_case_with_same_blinding(
    qtbot, main_window, tmp_path, image_folder, tiny_model_dir
):
    path = tmp_path / "resume.mgsession"
    menu, controller = _create_with_dialog(qtbot, main_window, path)
    _activate(qtbot, main_window)
    order = controller.order
    wait_ratable(qtbot, controller, order[0])
    for key in (Qt.Key.Key_4, Qt.Key.Key_4, Qt.Key.Key_2):
        qtbot.keyClick(_focused(), key)
    wait_ratable(qtbot, controller, order[1])
    second_panels = list(controller.assignment)
    qtbot.keyClick(_focused(), Qt.Key.Key_5)  # one panel of case 2 only
    saved_label = controller.rows[0].label
    main_window.close()  # closes the session file with the window
    assert menu.controller is None

    again = open_window(qtbot, image_folder, tiny_model_dir)
    menu2 = install_rating_mode(again)
    assert menu2 is not menu
    assert menu2.open_session(path)
    resumed = menu2.controller
    assert resumed.order == order
    assert resumed.case == order[1]
    assert list(resumed.assignment) == second_panels
    wait_ratable(qtbot, resumed, order[1])
    assert resumed.rows[0].label == saved_label and resumed.rows[0].is_saved()
    assert resumed.rows[0].chosen_score() == 5
    assert resumed.bar.progress.value() == 1
    with RatingSession.open(path, read_only=True) as session:
        assert session.first_unrated_index() == 1
    menu2.leave()
    assert again.comparison.panels["gradcam"].title.text().startswith("Grad-CAM")
    assert not again.browser.isHidden()
    again.close()


def test_finished_session_says_so(qtbot, main_window, tmp_path, image_folder):
    from medgrad_desktop.qt.rating.rating_controller import ALL_DONE_TEXT
    from medgrad_desktop.review import SessionConfig

    path = tmp_path / "done.mgsession"
    images = sorted(image_folder.glob("*.png"))[:2]
    config = SessionConfig(reader="r", images=images, fixed_prompt="melanoma", seed=9)
    with RatingSession.create(path, config) as session:
        for case in session.cases_in_order():
            for label, _method in session.panels(case):
                session.rate(case, label, 3)
    menu = install_rating_mode(main_window)
    assert menu.open_session(path)
    controller = menu.controller
    assert ALL_DONE_TEXT in controller.bar.message.text()
    assert controller.index == 0 and controller.bar.progress.value() == 2
    wait_ratable(qtbot, controller)
    assert all(row.is_saved() for row in controller.rows)
