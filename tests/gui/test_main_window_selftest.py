"""``run_gui(self_test=True)``: passes with a working model, fails plainly without one."""

from __future__ import annotations

import pytest
from PIL import Image

from medgrad_desktop.qt.app import run_gui

pytestmark = pytest.mark.gui


def test_self_test_saves_a_screenshot(qapp, image_folder, tiny_model_dir, tmp_path, capsys):
    shot = tmp_path / "shot.png"
    assert run_gui(image_folder, tiny_model_dir, device="cpu", self_test=True, screenshot=shot) == 0
    with Image.open(shot) as image:
        assert image.size == (1260, 740)  # fits a 1280×800 screen with a title bar
    assert "Self-test passed" in capsys.readouterr().out


def test_self_test_fails_with_a_message_when_the_model_is_missing(
    qapp, image_folder, tmp_path, capsys
):
    missing = tmp_path / "no_such_model"
    assert run_gui(image_folder, missing, device="cpu", self_test=True) == 1
    assert "Self-test failed:" in capsys.readouterr().err


def test_unwritable_user_folder_gives_a_plain_message(qapp, tiny_model_dir, monkeypatch, capsys):
    import medgrad_desktop.demo as demo

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(demo, "ensure_demo_folder", refuse)
    assert run_gui(None, tiny_model_dir, device="cpu", self_test=True) == 1
    assert "demo images could not be created" in capsys.readouterr().err
