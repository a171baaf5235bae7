"""The icon script writes the PNG, .ico and .icns files the bundle and installers use."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from PIL import Image

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_icon.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("make_icon", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_icons_are_written_in_every_format(tmp_path):
    make_icon = _load_script()
    written = make_icon.write_icons(tmp_path)
    assert all(path.is_file() for path in written)
    with Image.open(tmp_path / "icon-256.png") as png:
        assert png.size == (256, 256) and png.mode == "RGBA"
        assert png.getpixel((0, 0))[3] == 0  # transparent corner outside the rounded tile
        assert png.getpixel((128, 133))[3] == 255
    with Image.open(tmp_path / "icon.ico") as ico:
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
    with Image.open(tmp_path / "icon.icns") as icns:
        assert icns.format == "ICNS"


def test_bundled_icons_are_present():
    icons = SCRIPT.parent.parent / "resources" / "icons"
    for name in ("icon.png", "icon-256.png", "icon.ico", "icon.icns"):
        assert (icons / name).is_file(), name
