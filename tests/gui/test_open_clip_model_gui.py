"""Opening open_clip folders in the viewer: the window says what it found, shows the three
maps, and a folder that cannot open names the unexpected tensor in the warning."""

from __future__ import annotations

import os
import shutil

import pytest
import torch
from PySide6.QtWidgets import QMessageBox

from tests.gui.main_window_helpers import wait_for_maps
from tests.open_clip_reference import write_biomedclip_folder

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def biomed(tmp_path_factory):
    return write_biomedclip_folder(tmp_path_factory.mktemp("gui_open_clip") / "BiomedCLIP 256")


def test_biomedclip_folder_opens_with_its_description_and_maps(qtbot, image_folder, biomed):
    from medgrad_desktop.qt.app import build_main_window, get_application

    get_application()
    main = build_main_window(device="cpu", cache_bytes=64 * 1024 * 1024)
    qtbot.addWidget(main)
    main.resize(1280, 800)
    main.show()
    main.start(image_folder, biomed)
    wait_for_maps(qtbot, main, image_folder / "case_01.png")
    described = "BiomedCLIP-style open_clip model: ViT (128 wide, 2 layers)/8 image tower"
    assert described in main.prompt_panel.status.text()
    assert described in main.status_panel.model.toolTip()
    if os.environ.get("MEDGRAD_SHOTS"):
        main.grab().save(os.path.join(os.environ["MEDGRAD_SHOTS"], "11-biomedclip-window.png"))

    broken = biomed.parent / "broken"
    shutil.copytree(biomed, broken, dirs_exist_ok=True)
    state = torch.load(broken / "open_clip_pytorch_model.bin", weights_only=True)
    state["visual.trunk.blocks.0.ls1.gamma"] = torch.ones(128)
    torch.save(state, broken / "open_clip_pytorch_model.bin")
    main.open_model(broken)

    def warning():
        return main.findChild(QMessageBox, "modelErrorBox")

    qtbot.waitUntil(lambda: warning() is not None and warning().isVisible(), timeout=30_000)
    assert "visual.trunk.blocks.0.ls1.gamma" in warning().text()
    if os.environ.get("MEDGRAD_SHOTS"):
        warning().grab().save(os.path.join(os.environ["MEDGRAD_SHOTS"], "11-broken-model.png"))
    warning().close()
    main.close()
