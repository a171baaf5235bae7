"""No method name is visible anywhere in rating mode; maps sit in their blinded panels."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from medgrad_desktop.qt.rating import install_rating_mode
from medgrad_desktop.review import RatingSession, SessionConfig
from tests.gui.rating_helpers import leaks, visible_texts, wait_ratable

pytestmark = pytest.mark.gui


def _session(path, image_folder, **options) -> None:
    images = sorted(image_folder.glob("*.png"))
    config = SessionConfig(reader="reader-2", images=images, fixed_prompt="melanoma", **options)
    RatingSession.create(path, config).close()


def test_no_method_name_visible_in_rating_mode(qtbot, main_window, tmp_path, image_folder):
    assert leaks(visible_texts()), "the scan must find the method titles of the normal view"
    path = tmp_path / "blind.mgsession"
    _session(path, image_folder, seed=7)
    menu = install_rating_mode(main_window)
    assert menu.open_session(path)
    controller = menu.controller
    wait_ratable(qtbot, controller)
    main_window.activateWindow()
    qtbot.waitUntil(main_window.isActiveWindow, timeout=3000)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_2)  # a saved ✓ is on screen too
    main_window.controls.opacity_slider.setValue(40)  # tooltips/labels after interaction
    texts = visible_texts()
    assert any("Prompt: melanoma" in t for values in texts.values() for t in values)
    assert leaks(texts) == []
    assert "grad" not in main_window.windowTitle().lower()

    shown = main_window.controller.shown
    for slot, (label, method) in zip(controller.mode.slots, controller.assignment, strict=True):
        assert slot.title.text() == label
        np.testing.assert_array_equal(slot.map, shown.maps[method])

    menu.leave()
    assert main_window.comparison.panels["medgrad"].title.text().startswith("MedGrad-ECLIP")
    assert main_window.windowTitle().endswith("MedGrad Desktop")
    assert leaks(visible_texts())


def test_panel_order_differs_between_cases_and_readers(tmp_path, image_folder):
    orders = {}
    for reader in ("reader-1", "reader-2"):
        path = tmp_path / f"{reader}.mgsession"
        config = SessionConfig(
            reader=reader, images=sorted(image_folder.glob("*.png")), fixed_prompt="x", seed=5
        )
        with RatingSession.create(path, config) as session:
            orders[reader] = [tuple(session.panels(c)) for c in sorted(session.cases_in_order())]
    assert orders["reader-1"] != orders["reader-2"]
    assert len(set(orders["reader-1"])) > 1


def test_fixed_display_policy_locks_the_controls(qtbot, main_window, tmp_path, image_folder):
    path = tmp_path / "fixed.mgsession"
    display = {"opacity": 0.3, "colormap": "viridis", "entropy_radius": 9}
    _session(path, image_folder, display_policy="fixed", display=display)
    menu = install_rating_mode(main_window)
    assert menu.open_session(path)
    controls = main_window.controls
    assert (controls.opacity(), controls.colormap(), controls.radius()) == (0.3, "viridis", 9)
    assert not controls.opacity_slider.isEnabled()
    assert not controls.colormap_combo.isEnabled()
    assert not controls.radius_slider.isEnabled()
    wait_ratable(qtbot, menu.controller)
    assert menu.controller.rate(0, 4)
    menu.leave()
    assert controls.opacity_slider.isEnabled() and controls.radius_slider.isEnabled()


def test_missing_case_image_is_shown_and_skipped(qtbot, main_window, tmp_path, image_folder):
    path = tmp_path / "missing.mgsession"
    _session(path, image_folder, seed=11)
    with RatingSession.open(path, read_only=True) as session:
        first = session.cases_in_order()[0]
        (image_folder / first).unlink()
    menu = install_rating_mode(main_window)
    assert menu.open_session(path)
    controller = menu.controller
    assert controller.index == 1
    assert "cannot be found" in controller.bar.message.text()
    assert first in controller.bar.message.text()
    wait_ratable(qtbot, controller, controller.order[1])
    controller.step_case(-1)
    assert controller.index == 1  # the missing case cannot be shown
