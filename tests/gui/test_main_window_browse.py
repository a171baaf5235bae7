"""The main main_window on a real folder: listing, moving between images, maps, bad images."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from medgrad_desktop import RESEARCH_NOTICE
from tests.gui.main_window_helpers import wait_for_maps

pytestmark = pytest.mark.gui


def test_folder_lists_images_and_first_maps_arrive(main_window, image_folder):
    browser = main_window.browser
    assert [p.name for p in browser.visible_paths()] == [f"case_{i:02d}.png" for i in range(1, 6)]
    assert main_window.controller.model_info is not None
    assert main_window.status_panel.model.text().startswith("Model: ")
    assert RESEARCH_NOTICE in main_window.status_panel.notice.text()
    assert main_window.prompt_panel.notice.text() == RESEARCH_NOTICE
    for panel in main_window.comparison.panels.values():
        assert panel.map.dtype == np.float32
        assert panel.map.shape == main_window.comparison.original.image_item.image.shape[:2]
        assert panel.map.min() >= 0.0 and panel.map.max() <= 1.0
    assert not main_window.comparison.is_busy()
    chart = main_window.prompt_panel.chart
    class_indices = main_window.prompt_panel.prompt_set.class_indices()
    probabilities = [float(chart.values[i].text()) for i in class_indices]
    assert abs(sum(probabilities) - 1.0) < 0.02
    for index, probability in zip(class_indices, probabilities, strict=True):
        assert chart.bars[index].fraction == pytest.approx(probability, abs=0.006)


def test_keyboard_moves_between_images(qtbot, main_window, image_folder):
    main_window.activateWindow()
    qtbot.keyClick(main_window.browser.view, Qt.Key.Key_Down)
    wait_for_maps(qtbot, main_window, image_folder / "case_02.png")
    qtbot.keyClick(main_window.browser.view, Qt.Key.Key_PageDown)
    wait_for_maps(qtbot, main_window, image_folder / "case_03.png")
    main_window.step_image(-1)
    wait_for_maps(qtbot, main_window, image_folder / "case_02.png")


def test_filter_and_thumbnails(qtbot, main_window):
    browser = main_window.browser
    qtbot.waitUntil(lambda: len(browser.model._icons) == 5, timeout=10_000)
    browser.filter_box.setText("03")
    assert [p.name for p in browser.visible_paths()] == ["case_03.png"]
    browser.filter_box.clear()
    assert len(browser.visible_paths()) == 5


def test_bad_image_shows_a_plain_error_and_the_app_goes_on(qtbot, main_window, image_folder):
    broken = image_folder / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20)
    main_window.open_folder(image_folder)
    assert main_window.browser.select_path(broken)
    qtbot.waitUntil(lambda: main_window.banner.isVisible(), timeout=10_000)
    assert "broken.png" in main_window.banner.text()
    assert main_window.browser.model.error_of(broken) == main_window.banner.label.text()
    assert not main_window.comparison.is_busy()
    main_window.browser.select_path(image_folder / "case_04.png")
    wait_for_maps(qtbot, main_window, image_folder / "case_04.png")
    assert not main_window.banner.isVisible()


def test_drop_of_a_folder_and_recent_folders(qtbot, main_window, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    from tests.gui.main_window_helpers import write_lesion_png

    other = tmp_path / "other"
    other.mkdir()
    write_lesion_png(other / "x.png", seed=9)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    main_window.dropEvent(event)
    assert event.isAccepted()
    wait_for_maps(qtbot, main_window, other / "x.png")
    assert main_window.recent.folders()[0] == other
    titles = [a.text() for a in main_window.actions.recent_menu.actions()]
    assert titles[:2] == [str(other), str(tmp_path / "images")]
    main_window.actions.recent_menu.actions()[1].trigger()
    wait_for_maps(qtbot, main_window, tmp_path / "images" / "case_01.png")
