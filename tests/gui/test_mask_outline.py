"""The mask outline follows the prompt the panels explain: on a synthetic set on disk whose
first image has two structures with different masks, switching the prompt switches the
outline, and a prompt without a drawn mask (a diagnosis) says so instead of drawing one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.gui.main_window_helpers import wait_for_maps
from tests.gui.rating_helpers import open_window

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/shots")


@pytest.fixture
def window(qtbot, synthetic_set, tiny_model_dir):
    main = open_window(qtbot, synthetic_set / "images", tiny_model_dir)
    main.resize(1280, 800)
    yield main
    main.close()


def _explain(qtbot, window, label: str, image: Path) -> None:
    index = window.prompt_panel.prompt_set.labels().index(label)
    window.prompt_panel.select_prompt(index)
    wait_for_maps(qtbot, window, image, prompt_index=index)


def _drawn(menu) -> np.ndarray:
    """The outline image on the panels (the same on each), as a boolean mask."""
    images = [item.image for item in menu.outline.items]
    assert len(images) == len(menu.outline.window.comparison.all_panels())
    assert all(np.array_equal(images[0], other) for other in images[1:])
    return images[0][..., 3] > 0


def _expected(synthetic_set: Path, structure: str) -> np.ndarray:
    from medgrad_desktop.explain.evaluation.datasets import read_mask
    from medgrad_desktop.qt.map_quality.mask_outline import outline_rgba

    mask = read_mask(synthetic_set / "masks" / f"synth_00000_{structure}.png", (96, 96))
    assert mask.any()
    return outline_rgba(mask)[..., 3] > 0


def test_switching_the_prompt_switches_the_outlined_mask(qtbot, window, synthetic_set):
    from medgrad_desktop.qt.map_quality.map_quality_menu import OUTLINE_TIP, MapQualityMenu

    menu = window.findChild(MapQualityMenu)
    first = synthetic_set / "images" / "synth_00000.png"
    _explain(qtbot, window, "typical pigment network", first)
    menu.outline_action.setChecked(True)
    network = _drawn(menu)
    assert np.array_equal(network, _expected(synthetic_set, "typical_pigment_network"))
    note = "Outlined: the drawn mask of 'typical pigment network' on this image."
    assert menu.outline.note == note and menu.outline_action.toolTip() == note
    assert window.statusBar().currentMessage() == note
    SHOTS.mkdir(exist_ok=True)
    window.grab().save(str(SHOTS / "12-outline-pigment-network.png"))

    _explain(qtbot, window, "typical dots/globules", first)  # PH²'s name for regular dots
    dots = _drawn(menu)
    assert np.array_equal(dots, _expected(synthetic_set, "regular_dots_globules"))
    assert not np.array_equal(dots, network)
    window.grab().save(str(SHOTS / "12-outline-dots-globules.png"))

    for label in ("melanoma", "atypical pigment network"):  # no drawn mask on this image
        _explain(qtbot, window, label, first)
        assert menu.outline.items == []
        missing = f"No drawn mask for '{label}' on this image."
        assert menu.outline.note == missing and menu.outline_action.toolTip() == missing
        assert window.statusBar().currentMessage() == missing

    _explain(qtbot, window, "typical pigment network", first)
    assert np.array_equal(_drawn(menu), network)
    window.actions.next_image.trigger()  # synth_00001 has irregular dots/globules only
    wait_for_maps(qtbot, window, synthetic_set / "images" / "synth_00001.png")
    assert menu.outline.items == []
    assert menu.outline.note == "No drawn mask for 'typical pigment network' on this image."

    menu.outline_action.setChecked(False)
    assert menu.outline.items == [] and menu.outline_action.toolTip() == OUTLINE_TIP


def test_a_folder_without_masks_says_so(qtbot, main_window):
    from medgrad_desktop.qt.map_quality.map_quality_menu import MapQualityMenu
    from medgrad_desktop.qt.map_quality.mask_outline import NO_MASKS_NOTE

    menu = main_window.findChild(MapQualityMenu)
    menu.outline_action.setChecked(True)
    assert menu.outline.items == [] and menu.outline.note == NO_MASKS_NOTE
    assert menu.outline_action.toolTip() == NO_MASKS_NOTE
