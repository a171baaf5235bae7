"""Draw the app icon into ``resources/icons/``: PNGs, a Windows ``.ico`` and a macOS ``.icns``.

The design: a rounded deep-teal tile holding a lesion-shaped disc whose attribution "heat" fades
from warm yellow at the centre to red, outlined by a thin light ring (the review focus).

    python scripts/make_icon.py [--out resources/icons]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

MASTER_SIZE = 1024
PNG_SIZES = (16, 32, 48, 64, 128, 256)
ICO_SIZES = [(s, s) for s in (16, 24, 32, 48, 64, 128, 256)]
TILE_TOP = (16, 94, 110)
TILE_BOTTOM = (8, 52, 66)
HEAT_STOPS = ((255, 236, 140), (255, 160, 60), (214, 60, 48), (120, 24, 40))
RING = (228, 244, 246)


def _lerp(a: tuple[int, ...], b: tuple[int, ...], t: float) -> tuple[int, ...]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def _heat(t: float) -> tuple[int, ...]:
    """Colour at fraction ``t`` (0 centre, 1 edge) along the heat stops."""
    scaled = min(max(t, 0.0), 1.0) * (len(HEAT_STOPS) - 1)
    index = min(int(scaled), len(HEAT_STOPS) - 2)
    return _lerp(HEAT_STOPS[index], HEAT_STOPS[index + 1], scaled - index)


def _tile(size: int) -> Image.Image:
    gradient = Image.new("RGBA", (size, size))
    draw = ImageDraw.Draw(gradient)
    for y in range(size):
        draw.line([(0, y), (size, y)], fill=(*_lerp(TILE_TOP, TILE_BOTTOM, y / size), 255))
    mask = Image.new("L", (size, size), 0)
    margin = size // 16
    ImageDraw.Draw(mask).rounded_rectangle(
        [margin, margin, size - margin, size - margin], radius=size // 5, fill=255
    )
    tile = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    tile.paste(gradient, (0, 0), mask)
    return tile


def _lesion(size: int) -> Image.Image:
    """Concentric discs from the edge colour inwards, blurred into a smooth heat map."""
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    centre_x, centre_y, radius = size * 0.5, size * 0.52, size * 0.30
    steps = 48
    for step in range(steps, 0, -1):
        t = step / steps
        r_x, r_y = radius * t * 1.06, radius * t * 0.94  # slightly oval, like a lesion
        shift = (1 - t) * size * 0.03  # the hottest spot sits off-centre
        box = [
            centre_x - r_x - shift,
            centre_y - r_y - shift,
            centre_x + r_x - shift,
            centre_y + r_y - shift,
        ]
        draw.ellipse(box, fill=(*_heat(t), 255))
    layer = layer.filter(ImageFilter.GaussianBlur(size / 120))
    ring_width = max(size // 40, 1)
    pad = radius * 1.22
    ImageDraw.Draw(layer).ellipse(
        [centre_x - pad, centre_y - pad, centre_x + pad, centre_y + pad],
        outline=(*RING, 235),
        width=ring_width,
    )
    return layer


def draw_icon(size: int = MASTER_SIZE) -> Image.Image:
    """The icon as an RGBA image of ``size`` × ``size`` pixels."""
    return Image.alpha_composite(_tile(size), _lesion(size))


def write_icons(out: Path) -> list[Path]:
    """Write ``icon.png`` (512), ``icon-<n>.png``, ``icon.ico`` and ``icon.icns`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    master = draw_icon()
    written = []
    for size in PNG_SIZES:
        path = out / f"icon-{size}.png"
        master.resize((size, size), Image.Resampling.LANCZOS).save(path, optimize=True)
        written.append(path)
    master.resize((512, 512), Image.Resampling.LANCZOS).save(out / "icon.png", optimize=True)
    master.save(out / "icon.ico", sizes=ICO_SIZES)
    master.save(out / "icon.icns")
    written += [out / "icon.png", out / "icon.ico", out / "icon.icns"]
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = Path(__file__).resolve().parent.parent / "resources" / "icons"
    parser.add_argument("--out", type=Path, default=default_out)
    for path in write_icons(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
