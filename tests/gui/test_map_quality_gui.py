"""The Evaluate menu: "Map quality…" runs in the background (progress, stop, table, curves);
the ground-truth outline shows on every panel in browse mode, never in rating mode."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QObject

from tests.gui.main_window_helpers import wait_for_maps

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/shots")


@pytest.fixture
def window(qtbot, synthetic_set, tiny_model_dir):
    from medgrad_desktop.qt.app import build_main_window, get_application

    get_application()
    main = build_main_window(device="cpu", cache_bytes=64 * 1024 * 1024)
    qtbot.addWidget(main)
    main.show()
    main.start(synthetic_set / "images", tiny_model_dir)
    wait_for_maps(qtbot, main, synthetic_set / "images" / "synth_00000.png")
    yield main
    main.close()


def _menu(window):
    from medgrad_desktop.qt.map_quality.map_quality_menu import MapQualityMenu

    return window.findChild(MapQualityMenu)


def test_map_quality_runs_in_the_background_and_shows_scores(qtbot, window, tmp_path):
    dialog = _menu(window).show_dialog()
    assert Path(dialog.data_edit.text()) == window.browser.folder.parent  # the set's root
    dialog.out_edit.setText(str(tmp_path / "quality"))
    dialog.steps_spin.setValue(2)
    for name, box in dialog.method_boxes.items():
        box.setChecked(name in ("gradeclip", "legrad"))
    seen = []
    dialog.start()
    dialog.job.progress.connect(lambda done, total, text: seen.append((done, total)))
    assert not dialog.start_button.isEnabled() and dialog.stop_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.metrics is not None, timeout=120_000)
    assert dialog.start_button.isEnabled() and dialog.report_button.isEnabled()
    assert seen and seen[-1][1] >= 1
    rows = [dialog.table.verticalHeaderItem(r).text() for r in range(dialog.table.rowCount())]
    assert rows == ["Grad-ECLIP", "LeGrad", "random map", "centre prior"]
    cell = dialog.table.item(0, 0).text()
    assert cell.count("[") == 1 and float(cell.split()[0]) > -1.0
    assert len(dialog.plots["deletion"].getPlotItem().listDataItems()) == 4
    saved = json.loads((tmp_path / "quality" / "metrics.json").read_text(encoding="utf-8"))
    assert saved["n_images"] == 3 and saved["methods"] == ["gradeclip", "legrad"]
    SHOTS.mkdir(exist_ok=True)
    dialog.grab().save(str(SHOTS / "12-map-quality-dialog.png"))


def test_stop_keeps_the_finished_images_for_a_resume(qtbot, window, tmp_path):
    dialog = _menu(window).show_dialog()
    dialog.out_edit.setText(str(tmp_path / "quality"))
    dialog.steps_spin.setValue(2)
    dialog.start()
    dialog.stop()
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=60_000)
    assert dialog.status.text().startswith("Stopped")
    assert dialog.metrics is None
    records = tmp_path / "quality" / "per_image.jsonl"
    done = records.read_text(encoding="utf-8").count("\n") if records.exists() else 0
    assert done < 3


def test_outline_shows_on_every_panel_in_browse_mode_only(qtbot, window, synthetic_set):
    menu = _menu(window)
    index = window.prompt_panel.prompt_set.labels().index("typical pigment network")
    window.prompt_panel.select_prompt(index)  # a structure drawn on the first image
    wait_for_maps(qtbot, window, synthetic_set / "images" / "synth_00000.png", index)
    menu.outline_action.setChecked(True)
    panels = window.comparison.all_panels()
    assert len(menu.outline.items) == len(panels)
    for item, panel in zip(menu.outline.items, panels, strict=True):
        assert item.getViewBox() is panel.view_box
        alpha = item.image[..., 3] > 0
        assert alpha.any() and alpha.mean() < 0.2  # an outline, not a filled region
    SHOTS.mkdir(exist_ok=True)
    window.grab().save(str(SHOTS / "12-mask-outline.png"))
    menu.outline_action.setChecked(False)
    assert menu.outline.items == []
    assert all(
        not any(
            isinstance(i, type(panels[0].image_item)) and i.zValue() == 5
            for i in p.view_box.addedItems
        )
        for p in panels
    )

    rating = window.findChild(QObject, "ratingMenu")
    rating.controller = object()  # a rating session is running
    try:
        menu.outline_action.setChecked(True)
        assert menu.outline.items == []
        menu._refresh()
        assert not menu.quality_action.isEnabled() and not menu.outline_action.isEnabled()
        assert menu.show_dialog() is None
    finally:
        rating.controller = None
        menu.outline_action.setChecked(False)


def test_outline_rgba_draws_only_the_boundary():
    from medgrad_desktop.qt.map_quality.mask_outline import outline_rgba

    mask = np.zeros((20, 20), dtype=bool)
    mask[5:15, 5:15] = True
    alpha = outline_rgba(mask)[..., 3] > 0
    assert alpha.sum() == 36  # the 10 × 10 square's border
    assert not alpha[7:13, 7:13].any() and not alpha[0].any()
    net = np.zeros((60, 60), dtype=bool)
    net[10:50:3, 10:50] = True  # lines of a network: outlined as one region
    net[10:50, 10:50:3] = True
    alpha = outline_rgba(net)[..., 3] > 0
    assert not alpha[14:46, 14:46].any() and alpha[10, 20] and alpha[30, 49]


def test_legrad_panel_is_optional_and_off_by_default(qtbot, window):
    from medgrad_desktop.qt.widgets.optional_panels import OptionalPanels

    panels = window.findChild(OptionalPanels)
    action = panels.actions["legrad"]
    assert not action.isChecked() and "legrad" not in window.comparison.panels
    assert "legrad" not in window.engine.methods
    action.setChecked(True)
    panel = window.comparison.panels["legrad"]
    assert panel.title.text().startswith("LeGrad") or "LeGrad" in panel.title.text()
    qtbot.waitUntil(lambda: panel.map is not None, timeout=60_000)
    assert window.engine.methods[-1] == "legrad"
    assert window.comparison.grid.getItemPosition(window.comparison.grid.indexOf(panel))[:2] == (
        1,
        1,
    )
    SHOTS.mkdir(exist_ok=True)
    window.grab().save(str(SHOTS / "12-legrad-panel.png"))
    action.setChecked(False)
    assert "legrad" not in window.comparison.panels and panel.isHidden()
    assert "legrad" not in window.engine.methods
    window.state.rating_mode = True
    try:
        assert not action.isEnabled()
    finally:
        window.state.rating_mode = False
