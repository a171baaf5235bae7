"""Opacity, entropy radius, prompt choice, overlays toggle and PNG export on the real window."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.main_window_helpers import wait_for_maps

pytestmark = pytest.mark.gui


def _maps(main_window) -> dict[str, np.ndarray]:
    return {m: panel.map.copy() for m, panel in main_window.comparison.panels.items()}


def test_opacity_changes_the_overlay_without_running_the_model(qtbot, main_window):
    runs = main_window.engine.model_runs
    main_window.controls.opacity_slider.setValue(20)
    assert main_window.controls.opacity_label.text() == "20 %"
    for panel in main_window.comparison.panels.values():
        assert panel.overlay_item.opacity() == pytest.approx(0.20)
    qtbot.wait(100)
    assert main_window.engine.model_runs == runs


def test_radius_changes_medgrad_only_without_running_the_model(qtbot, main_window, image_folder):
    before, runs = _maps(main_window), main_window.engine.model_runs
    main_window.controls.radius_slider.setValue(17)
    assert main_window.controls.radius_label.text() == "17 px"
    wait_for_maps(qtbot, main_window, image_folder / "case_01.png", radius=17)
    after = _maps(main_window)
    assert not np.array_equal(before["medgrad"], after["medgrad"])
    np.testing.assert_array_equal(before["gradcam"], after["gradcam"])
    np.testing.assert_array_equal(before["gradeclip"], after["gradeclip"])
    assert main_window.engine.model_runs == runs


def test_slider_drag_is_debounced_to_the_final_radius(qtbot, main_window, image_folder):
    shown = []
    main_window.controller.mapsShown.connect(lambda result: shown.append(result.entropy_radius))
    for radius in range(6, 15):
        main_window.controls.radius_slider.setValue(radius)
    wait_for_maps(qtbot, main_window, image_folder / "case_01.png", radius=14)
    assert shown == [14]


def test_switching_prompt_shows_its_maps_without_running_the_model(
    qtbot, main_window, image_folder
):
    before, runs = _maps(main_window), main_window.engine.model_runs
    chart = main_window.prompt_panel.chart
    target = 1 if chart.selected() != 1 else 0
    chart.buttons[target].click()
    wait_for_maps(qtbot, main_window, image_folder / "case_01.png", prompt_index=target)
    after = _maps(main_window)
    assert any(not np.array_equal(before[m], after[m]) for m in before)
    assert main_window.engine.model_runs == runs
    assert chart.selected() == target


def test_maps_follow_the_top_class_until_a_prompt_is_chosen(
    qtbot, main_window, image_folder, tiny_model_dir
):
    from medgrad_desktop.explain import explain, load_model

    panel, controller = main_window.prompt_panel, main_window.controller
    classes = panel.prompt_set.class_indices()
    bundle = load_model(tiny_model_dir)

    def top_class(path) -> int:
        similarity = explain(bundle, path, panel.prompt_set.prompts()).similarity
        return classes[int(np.argmax(similarity[classes]))]

    for index in (1, 2, 3):
        path = image_folder / f"case_{index:02d}.png"
        if index > 1:
            main_window.step_image(1)
        wait_for_maps(qtbot, main_window, path, prompt_index=top_class(path))
    chosen = next(i for i in range(len(panel.prompt_set.items)) if i != panel.chart.selected())
    panel.chart.buttons[chosen].click()
    assert not main_window.state.follow_top_class
    for index in (4, 5):
        main_window.step_image(1)
        wait_for_maps(qtbot, main_window, image_folder / f"case_{index:02d}.png")
        assert controller.shown.prompt_index == chosen


def test_switching_prompt_set_reruns_the_model(qtbot, main_window, image_folder):
    panel = main_window.prompt_panel
    names = [panel.set_combo.itemText(i) for i in range(panel.set_combo.count())]
    assert len(names) >= 2
    runs = main_window.engine.model_runs
    panel.set_combo.setCurrentIndex((panel.set_combo.currentIndex() + 1) % len(names))
    wait_for_maps(qtbot, main_window, image_folder / "case_01.png")
    assert main_window.engine.model_runs > runs
    assert len(panel.chart.buttons) == len(panel.prompt_set.items)


def test_high_risk_classes_are_flagged(main_window):
    panel = main_window.prompt_panel
    for index, item in enumerate(panel.prompt_set.items):
        row_label = panel.chart.buttons[index].toolTip()
        assert ("High-risk" in row_label) == item.high_risk


def test_space_toggles_overlays(qtbot, main_window):
    main_window.activateWindow()
    qtbot.keyClick(main_window.browser.view, Qt.Key.Key_Space)
    assert all(not p.overlay_item.isVisible() for p in main_window.comparison.panels.values())
    qtbot.keyClick(main_window.browser.view, Qt.Key.Key_Space)
    assert all(p.overlay_item.isVisible() for p in main_window.comparison.panels.values())


def test_views_are_linked(main_window):
    original = main_window.comparison.original.view_box
    original.setRange(xRange=(10, 30), yRange=(10, 30), padding=0)
    for panel in main_window.comparison.panels.values():
        (x0, x1), _ = panel.view_box.viewRange()
        assert (x0, x1) == pytest.approx(original.viewRange()[0])


def test_export_png_writes_the_comparison(qtbot, main_window, image_folder, tmp_path):
    target = tmp_path / "out" / "comparison.png"
    target.parent.mkdir()
    worker = main_window.export_png(target)
    with qtbot.waitSignal(worker.finished, timeout=20_000):
        pass
    assert main_window.exporter.last_written == target
    with Image.open(target) as image:
        image.load()
        assert image.format == "PNG"
        with Image.open(image_folder / "case_01.png") as source:
            width, height = source.size
        assert image.size[0] >= 2 * width and image.size[1] >= 2 * height  # full resolution
        assert np.asarray(image.convert("L")).std() > 5  # not a blank picture


def test_edited_prompt_set_is_saved_and_offered(qtbot, main_window, image_folder):
    from medgrad_desktop.explain.prompt_sets import load_prompt_set, user_prompt_dir
    from medgrad_desktop.qt.widgets.prompt_editor import PromptSetEditor

    editor = PromptSetEditor(main_window.prompt_panel.prompt_set, main_window)
    qtbot.addWidget(editor)
    editor.name_edit.setText("My lesion classes")
    editor.add_row("halo nevus", "halo nevus; nevus with a white halo", "class", False, None)
    editor.save()
    assert editor.saved_path is not None and editor.saved_path.parent == user_prompt_dir()
    saved = load_prompt_set(editor.saved_path)
    halo = [item for item in saved.items if item.label == "halo nevus"]
    assert [item.texts for item in halo] == [("halo nevus", "nevus with a white halo")]
    assert halo[0].kind == "class"
    main_window.prompt_panel.reload_sets(select=editor.saved_path)
    assert main_window.prompt_panel.set_combo.currentText() == "My lesion classes (edited)"
    wait_for_maps(qtbot, main_window, image_folder / "case_01.png")
    assert len(main_window.prompt_panel.chart.buttons) == len(saved.items)


def test_flat_image_says_no_positive_evidence_for_medgrad(qtbot, main_window, tmp_path):
    folder = tmp_path / "flat"
    folder.mkdir()
    Image.fromarray(np.full((64, 80, 3), 128, np.uint8)).save(folder / "flat.png")
    assert main_window.open_folder(folder)
    wait_for_maps(qtbot, main_window, folder / "flat.png")
    medgrad = main_window.comparison.panels["medgrad"]
    assert not medgrad.map.any()  # zero local entropy everywhere → no MedGrad evidence
    assert (
        medgrad.notice.isVisibleTo(main_window) and medgrad.notice.text() == "no positive evidence"
    )
