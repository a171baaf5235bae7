"""What the panels say and do: titles with the prompt, the follow toggle, the colour bar's
meaning, ranked criteria, zoom, the linked crosshair and values, the context menu, the
status bar and Help."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from medgrad_desktop.qt.widgets.colour_bar import ColourBar
from medgrad_desktop.qt.widgets.probability_chart import CRITERIA_EXPLANATION
from tests.gui.main_window_helpers import wait_for_maps

pytestmark = pytest.mark.gui


def test_panels_are_titled_with_method_and_prompt(qtbot, main_window):
    shown = main_window.controller.shown
    label = main_window.prompt_panel.prompt_set.items[shown.prompt_index].label
    titles = {m: p.title.text() for m, p in main_window.comparison.panels.items()}
    assert titles == {
        "gradcam": f"Grad-CAM · {label}",
        "gradeclip": f"Grad-ECLIP · {label}",
        "medgrad": f"MedGrad-ECLIP · {label}",
    }
    main_window.state.rating_mode = True  # a rating session blinds the titles
    main_window.comparison.panels["gradcam"].set_title("A")
    main_window.comparison.set_prompt_label("melanoma")
    assert main_window.comparison.panels["gradcam"].title.text() == "A"


def test_follow_toggle_is_visible_and_keeps_the_chosen_prompt(qtbot, main_window, image_folder):
    panel, state = main_window.prompt_panel, main_window.state
    assert panel.follow_box.isVisible() and panel.follow_box.isChecked()
    chosen = next(i for i in range(len(panel.prompt_set.items)) if i != state.prompt_index)
    panel.chart.buttons[chosen].click()
    assert not panel.follow_box.isChecked() and not main_window.actions.follow_top_class.isChecked()
    wait_for_maps(qtbot, main_window, image_folder / "case_01.png", prompt_index=chosen)
    main_window.step_image(1)
    wait_for_maps(qtbot, main_window, image_folder / "case_02.png", prompt_index=chosen)
    panel.follow_box.click()  # back to following: the top class of this image
    assert state.follow_top_class
    top = panel.prompt_set.top_class(main_window.controller.similarity)
    wait_for_maps(qtbot, main_window, image_folder / "case_02.png", prompt_index=top)


def test_colour_bar_says_each_map_has_its_own_scale(qtbot):
    bar = ColourBar()
    qtbot.addWidget(bar)
    bar.resize(700, 34)
    picture = bar.grab().toImage()
    assert "own maximum" in bar.toolTip()
    assert picture.width() == 700  # painted without error
    from medgrad_desktop.qt.widgets.colour_bar import SCALE_TEXTS

    assert SCALE_TEXTS == ("0", "1 · relative to each map's own maximum")


def test_criteria_are_ranked_with_an_explanation(main_window):
    chart = main_window.prompt_panel.chart
    similarity = main_window.controller.similarity
    criteria = [i for i, item in enumerate(chart.prompt_set.items) if item.kind != "class"]
    expected = sorted(criteria, key=lambda i: -float(similarity[i]))
    assert chart.criteria_order == expected
    layout = chart._criteria_column
    positions = [layout.indexOf(chart.rows[i]) for i in expected]
    assert positions == sorted(positions)  # shown top to bottom in that order
    fractions = [chart.rows[i].bar.fraction for i in expected]
    assert fractions[0] == 1.0 and fractions[-1] == 0.0
    assert fractions == sorted(fractions, reverse=True)
    texts = [w.text() for w in chart.findChildren(type(chart.rows[expected[0]].value))]
    assert CRITERIA_EXPLANATION in texts


def test_zoom_level_reset_crosshair_and_values(qtbot, main_window):
    comparison = main_window.comparison
    fitted = comparison.zoom_percent()
    main_window.actions.zoom_in.trigger()
    assert comparison.zoom_percent() > fitted
    assert comparison.zoom_label.text() == f"Zoom {comparison.zoom_percent()} %"
    for panel in comparison.panels.values():  # linked
        assert panel.view_box.viewRange()[0] == pytest.approx(
            comparison.original.view_box.viewRange()[0]
        )
    main_window.actions.reset_zoom.trigger()
    assert comparison.zoom_percent() == fitted
    main_window.actions.zoom_in.trigger()
    comparison.panels["gradcam"].resetRequested.emit()  # what a double-click sends
    assert comparison.zoom_percent() == fitted
    x, y = 30.6, 12.2
    comparison.panels["medgrad"].hovered.emit(x, y)  # the cursor over one panel
    for panel in comparison.panels.values():
        assert panel.crosshair[0].isVisible() and panel.crosshair[0].value() == x
        assert panel.readout.text() == f"value {float(panel.map[12, 30]):.2f}"
    assert comparison.original.readout.text() == "x 30, y 12"
    comparison.panels["medgrad"].hovered.emit(None, None)
    assert all(p.readout.text() == "" for p in comparison.all_panels())


def test_context_menu_resets_copies_and_exports(qtbot, main_window, monkeypatch):
    comparison = main_window.comparison
    panel = comparison.panels["gradeclip"]
    menu = comparison.panel_menu(panel)
    texts = [a.text() for a in menu.actions()]
    assert texts == ["Reset zoom", "Copy image", "Export this panel…"]
    exported = []
    monkeypatch.setattr(main_window.exporter, "choose_panel_path", exported.append)
    comparison.exportRequested.disconnect()
    comparison.exportRequested.connect(main_window.exporter.choose_panel_path)
    QApplication.clipboard().clear()
    menu.actions()[1].trigger()
    assert not QApplication.clipboard().pixmap().isNull()
    menu.actions()[2].trigger()
    assert exported == [panel]


def test_status_bar_is_plain(qtbot, main_window):
    main_window.engine.wait_until_idle(30)
    info = main_window.controller.model_info
    qtbot.waitUntil(lambda: main_window.status_panel.model.text().endswith("ready"))
    assert main_window.status_panel.model.text() == f"Model: {info.name} · CPU · ready"


def test_help_lists_shortcuts_and_opens_the_local_guide(qtbot, main_window):
    from medgrad_desktop.qt.help_dialogs import shortcut_rows, shortcuts_dialog, user_guide_dialog

    rows = dict(shortcut_rows(main_window.actions_in_menus()))
    assert rows["Next image"].startswith("Down") and rows["Reset zoom"] == "Home"
    assert rows["Show overlays"] == "Space"
    dialog = shortcuts_dialog(main_window, main_window.actions_in_menus())
    qtbot.addWidget(dialog)
    assert "Reset zoom" in dialog.browser.toPlainText()
    guide = user_guide_dialog(main_window)
    qtbot.addWidget(guide)
    text = guide.browser.toPlainText()
    assert "Research use only" in text and "own maximum" in text
    assert guide.browser.source().isLocalFile()
    help_texts = [a.text() for a in main_window.actions.help_menu.actions()]
    assert help_texts == ["Keyboard shortcuts", "User guide", "About MedGrad Desktop"]


def test_maps_are_not_changed_by_the_value_readout(main_window):
    before = {m: p.map.copy() for m, p in main_window.comparison.panels.items()}
    main_window.comparison.show_cursor(5, 5)
    for method, panel in main_window.comparison.panels.items():
        np.testing.assert_array_equal(panel.map, before[method])
