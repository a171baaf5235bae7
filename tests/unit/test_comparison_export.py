"""Export picture: full-resolution tiles (original exact, overlays = blend of the resized map)
and a caption naming what made the maps."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from PIL import Image

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.engine.comparison_export import GAP, ExportSettings, compose_comparison
from medgrad_desktop.explain.colormaps import blend

SETTINGS = ExportSettings(
    file_name="case_07.png",
    prompt="melanoma",
    model="demo model (ab12cd34)",
    variant="model's own pass",
    geometry="square",
    radius=9,
    opacity=0.4,
    colormap="viridis",
    when=datetime(2026, 12, 1, 6, 32),
)


def test_tiles_are_at_the_image_resolution_and_exact():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(90, 120, 3), dtype=np.uint8)
    small = rng.random((45, 60), dtype=np.float32)  # a display map at half resolution
    maps = {"gradcam": small, "gradeclip": small[::-1].copy(), "medgrad": small * 0.5}
    picture = compose_comparison(rgb, maps, {"gradcam": "Grad-CAM"}, SETTINGS)
    assert picture.shape[1] == 2 * 120 + 3 * GAP and picture.shape[0] > 2 * 90 + 3 * GAP
    title_h = max(14, 120 // 40) + 2 * GAP
    top = GAP + title_h
    np.testing.assert_array_equal(picture[top : top + 90, GAP : GAP + 120], rgb)
    resized = np.asarray(
        Image.fromarray(small, mode="F").resize((120, 90), Image.Resampling.BILINEAR)
    )
    expected = blend(rgb, np.clip(resized, 0, 1), 0.4, "viridis")
    left = 2 * GAP + 120
    np.testing.assert_array_equal(picture[top : top + 90, left : left + 120], expected)


def test_caption_names_every_setting_and_the_notice():
    text = " ".join(SETTINGS.caption_lines())
    for part in (
        "case_07.png",
        "melanoma",
        "demo model (ab12cd34)",
        "model's own pass",
        "geometry square",
        "radius 9 px",
        "opacity 40 %",
        "viridis",
        "01 Dec 2026 06:32",
        RESEARCH_NOTICE,
    ):
        assert part in text
