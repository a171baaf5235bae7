"""The comparison as a picture at the image's own resolution, with a caption (Qt-free).

Original + one blended overlay per map, each at the full resolution of the image file (maps
are upsampled bilinearly from the display maps), titled, above a caption that names the file,
prompt, model, variant, geometry, radius, opacity, colormap, date and the research notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.explain.colormaps import blend

MAX_TILE_SIDE = 4096
"""A tile's longer side is capped here so a huge scan still exports in bounded memory."""
GAP = 8


@dataclass(frozen=True)
class ExportSettings:
    """What the caption records about how the maps were made and shown."""

    file_name: str
    prompt: str
    model: str
    variant: str
    geometry: str
    radius: int
    opacity: float
    colormap: str
    when: datetime

    def caption_lines(self) -> list[str]:
        return [
            f"{self.file_name} · prompt: {self.prompt} · model: {self.model}",
            f"variant {self.variant} · geometry {self.geometry} · entropy radius {self.radius} px"
            f" · opacity {round(self.opacity * 100)} % · colormap {self.colormap}"
            f" · maps scaled to their own maximum · {self.when:%d %b %Y %H:%M}",
            RESEARCH_NOTICE,
        ]


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` pixels."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _fit(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    if max(height, width) <= MAX_TILE_SIDE:
        return rgb
    factor = MAX_TILE_SIDE / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


def _resize_map(display_map: np.ndarray, height: int, width: int) -> np.ndarray:
    if display_map.shape == (height, width):
        return display_map
    image = Image.fromarray(np.asarray(display_map, dtype=np.float32), mode="F")
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), np.float32)


def compose_comparison(
    rgb: np.ndarray, maps: dict[str, np.ndarray], titles: dict[str, str], settings: ExportSettings
) -> np.ndarray:
    """The picture (RGB uint8): tiles in a grid of two columns, titles, caption below."""
    original = _fit(rgb)
    height, width = original.shape[:2]
    tiles = [("Original", original)]
    for method, display_map in maps.items():
        overlay = blend(
            original,
            np.clip(_resize_map(display_map, height, width), 0, 1),
            settings.opacity,
            settings.colormap,
        )
        tiles.append((titles.get(method, method), overlay))
    text_size = max(14, width // 40)
    title_h = text_size + 2 * GAP
    columns = 2
    rows = -(-len(tiles) // columns)
    canvas_w = columns * width + (columns + 1) * GAP
    font = _font(text_size)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    lines = [
        wrapped
        for line in settings.caption_lines()
        for wrapped in _wrap(measure, line, font, canvas_w - 2 * GAP)
    ]
    caption_h = len(lines) * (text_size + GAP) + 2 * GAP
    canvas_h = rows * (height + title_h) + (rows + 1) * GAP + caption_h
    canvas = Image.new("RGB", (canvas_w, canvas_h), "white")
    draw = ImageDraw.Draw(canvas)
    for position, (title, tile) in enumerate(tiles):
        x = GAP + (position % columns) * (width + GAP)
        y = GAP + (position // columns) * (height + title_h + GAP)
        draw.text((x, y + GAP // 2), title, fill="black", font=font)
        canvas.paste(Image.fromarray(tile), (x, y + title_h))
    y = canvas_h - caption_h + GAP
    for index, line in enumerate(lines):
        colour = "#b00020" if line in RESEARCH_NOTICE else "black"
        text = line.replace("—", "-")  # Pillow's built-in font has no em dash
        draw.text((GAP, y + index * (text_size + GAP)), text, fill=colour, font=font)
    return np.asarray(canvas)


def save_comparison(path: Path, picture: np.ndarray) -> Path:
    """Write ``picture`` as a PNG (raises ``OSError`` when it cannot be written)."""
    Image.fromarray(picture).save(path, "PNG")
    return path
