"""Fixtures for the main-window tests: a tiny real model, real PNGs, a real engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.main_window_helpers import wait_for_maps, write_lesion_png
from tests.tiny_models import make_tiny_clip_folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return make_tiny_clip_folder(tmp_path_factory.mktemp("tiny_model") / "model", seed=3)


@pytest.fixture(scope="session")
def synthetic_set(tmp_path_factory) -> Path:
    """Three synthetic cases on disk (images, structure masks, manifest); read only. The first
    has a typical pigment network and regular dots/globules, with different masks."""
    from training.synthetic import write_dataset

    return write_dataset(tmp_path_factory.mktemp("synth") / "set", 3, seed=5151, size=96)


@pytest.fixture
def image_folder(tmp_path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(5):
        write_lesion_png(folder / f"case_{index + 1:02d}.png", seed=index)
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture
def main_window(qtbot, image_folder, tiny_model_dir):
    """The real main window on ``image_folder`` with the tiny model, maps of the first image
    already shown."""
    from medgrad_desktop.qt.app import build_main_window, get_application

    get_application()
    main = build_main_window(device="cpu", cache_bytes=64 * 1024 * 1024)
    qtbot.addWidget(main)
    main.show()
    main.start(image_folder, tiny_model_dir)
    wait_for_maps(qtbot, main, image_folder / "case_01.png")
    yield main
    main.close()


@pytest.fixture(autouse=True)
def garbage_collected_in_gui_thread(qapp):
    """As in the app: cyclic garbage is collected on the GUI thread only, so no worker thread
    of a test can destroy another test's leftover Qt objects (a deadlock)."""
    from medgrad_desktop.qt.app import collect_garbage_in_gui_thread

    collect_garbage_in_gui_thread()


@pytest.fixture(autouse=True)
def background_jobs_finished():
    """After each GUI test, let jobs it started in the background (a dialog closed mid-job)
    end before the next test, so none outlives the test session."""
    yield
    import sys
    import time

    background = sys.modules.get("medgrad_desktop.qt.background")
    if background is None or not background.running_jobs():
        return
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + 120
    while background.running_jobs() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
