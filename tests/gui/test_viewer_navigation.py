"""Keyboard focus and shortcuts, the filter's "n of m shown", unreadable and empty files
counted apart, the window size and where file dialogs start."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtWidgets import QApplication

from medgrad_desktop.qt.widgets.folder_model import EMPTY_FILE_MESSAGE
from medgrad_desktop.qt.window_geometry import DEFAULT_SIZE, clamped
from tests.gui.main_window_helpers import wait_for_maps, write_lesion_png

pytestmark = pytest.mark.gui


def test_focus_starts_on_the_list_and_arrows_and_space_work(qtbot, main_window, image_folder):
    main_window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is main_window.browser.view)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down)
    assert main_window.state.image == image_folder / "case_02.png"
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    assert not main_window.state.overlays_visible
    assert all(not p.overlay_item.isVisible() for p in main_window.comparison.panels.values())


def test_typing_in_the_filter_is_typing_not_shortcuts(qtbot, main_window, image_folder):
    browser = main_window.browser
    main_window.activateWindow()
    browser.filter_box.setFocus()
    qtbot.keyClicks(browser.filter_box, "case 0")
    assert browser.filter_box.text() == "case 0"
    assert main_window.state.overlays_visible  # Space typed a space
    assert not browser.no_match.isHidden() and "case 0" in browser.no_match.text()
    assert browser.title.text() == "images — 5 images · 0 of 5 shown"
    qtbot.keyClick(browser.filter_box, Qt.Key.Key_Backspace)
    qtbot.keyClick(browser.filter_box, Qt.Key.Key_Backspace)
    qtbot.keyClicks(browser.filter_box, "_03")
    assert browser.no_match.isHidden()
    assert browser.title.text() == "images — 5 images · 1 of 5 shown"
    wait_for_maps(qtbot, main_window, image_folder / "case_03.png")


def test_unreadable_and_empty_files_are_counted_apart(qtbot, main_window, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for index in range(3):
        write_lesion_png(folder / f"good_{index}.png", seed=index)
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.jpg").write_text("this is not a picture")
    assert main_window.open_folder(folder)
    browser = main_window.browser
    assert browser.model.error_of(folder / "empty.png") == EMPTY_FILE_MESSAGE
    qtbot.waitUntil(lambda: browser.model.error_of(folder / "text.jpg") is not None)
    assert browser.title.text() == "mixed — 3 images, 2 cannot be read"


def test_default_window_fits_a_small_screen_and_restored_geometry_is_clamped(main_window):
    assert DEFAULT_SIZE[0] <= 1260 and DEFAULT_SIZE[1] <= 740
    assert (main_window.width(), main_window.height()) == DEFAULT_SIZE
    screen = QRect(0, 0, 1280, 770)
    assert clamped(QRect(900, 600, 1900, 1100), screen) == screen
    assert clamped(QRect(-50, 20, 800, 600), screen) == QRect(0, 20, 800, 600)
    assert clamped(QRect(700, 400, 800, 600), screen) == QRect(480, 170, 800, 600)
    available = main_window.screen().availableGeometry()
    main_window.resize(available.width() + 400, available.height() + 300)
    main_window.move(available.right() - 10, available.top())
    main_window.close()
    main_window._closed = False  # closeEvent saved the oversized geometry
    main_window.restore_window_state()
    frame, smallest = main_window.frameGeometry(), main_window.minimumSizeHint()
    assert smallest.width() <= 1260 and smallest.height() <= 740
    assert available.contains(frame.topLeft())
    assert frame.height() <= available.height()  # the test screen is 800×800:
    assert main_window.width() <= max(available.width(), smallest.width())  # as narrow as can be


def test_file_dialogs_start_at_home_then_at_the_last_folder(main_window, tmp_path):
    assert main_window.last_folder() == str(Path.home())
    main_window.remember_folder(tmp_path / "model.pth")
    assert main_window.last_folder() == str(tmp_path)
    assert QSettings().value("paths/last_folder") == str(tmp_path)


def test_prefetched_image_comes_with_its_maps_and_a_cold_one_at_once(
    qtbot, main_window, image_folder
):
    """Prefetched: the image waits for its maps so both appear together; cold (the model must
    run first): the image is shown at once, not held back for maps that cannot come yet."""
    engine, controller = main_window.engine, main_window.controller
    shown = []
    controller.imageShown.connect(lambda path, with_maps: shown.append((path, with_maps)))
    qtbot.waitUntil(lambda: engine.queue_length() == 0 and engine.wait_until_idle(0.05))
    main_window.browser.select_row(1)  # the neighbour of case 1, prefetched while idle
    wait_for_maps(qtbot, main_window, image_folder / "case_02.png")
    assert shown == [(image_folder / "case_02.png", True)]
    qtbot.waitUntil(lambda: engine.queue_length() == 0 and engine.wait_until_idle(0.05))
    engine.clear_caches()
    shown.clear()
    main_window.browser.select_row(2)
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    assert shown == [(image_folder / "case_03.png", False)]
    wait_for_maps(qtbot, main_window, image_folder / "case_03.png")
