"""The Explanation menu: variant and geometry reach the engine, the panels and the export."""

from __future__ import annotations

import numpy as np

from medgrad_desktop.explain import explain, load_image, load_model
from tests.gui.main_window_helpers import wait_for_maps


def test_choosing_variant_and_geometry_recomputes_and_labels_the_maps(
    qtbot, main_window, image_folder, tiny_model_dir, tmp_path
):
    path = image_folder / "case_01.png"
    options = main_window.explain_options
    comparison = main_window.comparison
    assert "Model's forward pass" in comparison.provenance.text()
    before = {m: p.map.copy() for m, p in comparison.panels.items()}
    runs = main_window.engine.model_runs

    options.variant_actions["zhao2024"].trigger()
    options.geometry_actions["aspect"].trigger()
    qtbot.waitUntil(lambda: main_window.engine.model_runs >= runs + 1, timeout=60_000)
    main_window.engine.wait_until_idle(60)
    wait_for_maps(qtbot, main_window, path)

    assert (main_window.engine.variant, main_window.engine.geometry) == ("zhao2024", "aspect")
    assert "Authors' code (Zhao et al. 2024)" in comparison.provenance.text()
    assert "Keep aspect ratio" in comparison.provenance.text()
    for panel in comparison.panels.values():
        assert "rather than the model's true forward pass" in panel.toolTip()
    prompt = main_window.prompt_panel.selected_prompt()
    expected = explain(
        load_model(tiny_model_dir),
        load_image(path),
        main_window.controller.prompt_set.prompts(),
        variant="zhao2024",
        geometry="aspect",
    )
    for method, panel in comparison.panels.items():
        np.testing.assert_allclose(panel.map, expected.maps[method][prompt], atol=1e-4)
    assert not np.allclose(comparison.panels["gradcam"].map, before["gradcam"], atol=1e-3)
    caption = " ".join(main_window.exporter.settings().caption_lines())
    assert "Authors' code (Zhao et al. 2024)" in caption and "Keep aspect ratio" in caption
    exported = tmp_path / "comparison.png"
    worker = main_window.export_png(exported)
    with qtbot.waitSignal(worker.finished, timeout=20_000):
        pass
    assert main_window.exporter.last_written == exported
