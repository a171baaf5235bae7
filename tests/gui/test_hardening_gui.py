"""The viewer with a model that outputs NaN, and with a model folder whose settings are
damaged: a plain message each time, never a crash or an endless wait."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from medgrad_desktop.explain.finite import NAN_MESSAGE
from tests.broken_models import copy_model, edit_json, nan_model

pytestmark = pytest.mark.gui


def _window(qtbot):
    from medgrad_desktop.qt.app import build_main_window, get_application

    get_application()
    main = build_main_window(device="cpu", cache_bytes=32 * 1024 * 1024)
    qtbot.addWidget(main)
    main.show()
    return main


def test_a_nan_model_shows_the_message_and_paints(qtbot, tmp_path, image_folder, tiny_model_dir):
    main = _window(qtbot)
    main.start(image_folder, nan_model(tiny_model_dir, tmp_path / "nan-model"))
    qtbot.waitUntil(lambda: main.banner.isVisible(), timeout=30_000)
    assert main.banner.label.text() == NAN_MESSAGE
    values = [label.text() for label in main.controller.prompts.chart.values.values()]
    assert values and all(text == "–" for text in values)  # no NaN painted as a probability
    tmp_shots = tmp_path / "shots"
    tmp_shots.mkdir()
    assert main.grab().save(str(tmp_shots / "17-nan-model.png"))  # painting survives
    main.step_image(1)  # the next image reports the same, the window stays usable
    qtbot.wait(500)
    assert main.isVisible() and main.banner.label.text() == NAN_MESSAGE
    main.close()


def test_damaged_preprocessing_settings_end_in_a_message_box(
    qtbot, tmp_path, image_folder, tiny_model_dir
):
    folder = edit_json(
        copy_model(tiny_model_dir, tmp_path / "bad-model"),
        "preprocessor_config.json",
        image_mean="abc",
    )
    main = _window(qtbot)
    main.start(image_folder, folder)
    qtbot.waitUntil(
        lambda: main.findChild(QMessageBox, "modelErrorBox") is not None, timeout=30_000
    )
    box = main.findChild(QMessageBox, "modelErrorBox")
    assert "'image_mean'" in box.text() and box.text().endswith(".")
    box.close()
    main.close()


def test_a_symlink_loop_does_not_stop_the_folder_from_opening(qtbot, image_folder, tiny_model_dir):
    (image_folder / "loop_a.png").symlink_to(image_folder / "loop_b.png")
    (image_folder / "loop_b.png").symlink_to(image_folder / "loop_a.png")
    main = _window(qtbot)
    main.start(image_folder, tiny_model_dir)
    assert main.browser.model.rowCount() == 5  # the five real images, the loop left out
    assert main.banner.isVisible() and "loop" in main.banner.label.text()
    main.close()
