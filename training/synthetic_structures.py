"""Painters of dermoscopic structures; each paints onto the canvas and returns its mask.

A painter is ``(rng, canvas, lesion, colour_map, plan) -> (mask, extra_colours)`` where
``mask`` is a boolean (H, W) array of where the structure was drawn and ``extra_colours``
names PH² colours the structure adds to the lesion.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from training.synthetic_draw import (
    blend,
    blob_in_region,
    discs_alpha,
    feather,
    grid_line_distance,
    pixel_grid,
    smooth_noise,
    soft_edge,
    stroke_alpha,
)
from training.synthetic_lesion import PALETTE, Lesion

Painter = Callable[..., tuple[np.ndarray, list[str]]]


def _rotated(lesion: Lesion, angle: float) -> tuple[np.ndarray, np.ndarray]:
    x, y = pixel_grid(lesion.mask.shape[0])
    c, s = np.cos(angle), np.sin(angle)
    return x * c + y * s, -x * s + y * c


def _ensure(mask: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Guarantee a non-empty mask (tiny lesions at small sizes) by falling back to a region."""
    return mask if mask.any() else fallback


def _dark_line_colour(plan) -> np.ndarray:
    name = "black" if "black" in plan.base_colours else "dark brown"
    return np.array(PALETTE[name], dtype=np.float32)


def typical_network(rng, canvas, lesion: Lesion, colour_map, plan):
    """A regular, fine, evenly spaced grid of thin lines, fading towards the border."""
    unit = lesion.unit
    u, v = _rotated(lesion, float(rng.uniform(0, np.pi / 2)))
    size = canvas.shape[0]
    u = u + 0.5 * unit * smooth_noise(rng, size, 6 * unit)
    spacing = float(rng.uniform(6.5, 8.0)) * unit
    distance = grid_line_distance(u, v, spacing)
    half = max(0.55 * unit, 0.45)
    region = lesion.mask & (lesion.rel < 0.88)
    alpha = soft_edge(distance, half) * region * np.clip(1.3 - lesion.rel, 0, 1) * 0.9
    blend(canvas, colour_map * 0.5, alpha)
    mask = (distance < half) & region
    return _ensure(mask, region), []


def atypical_network(rng, canvas, lesion: Lesion, colour_map, plan):
    """An irregular grid: warped, uneven spacing, thick dark lines, broken, patchy."""
    unit = lesion.unit
    size = canvas.shape[0]
    u, v = _rotated(lesion, float(rng.uniform(0, np.pi / 2)))
    u = u + 2.5 * unit * smooth_noise(rng, size, 7 * unit)
    v = v + 2.5 * unit * smooth_noise(rng, size, 7 * unit)
    spacing = float(rng.uniform(8.0, 11.0)) * unit
    spacing = spacing * np.clip(1.0 + 0.3 * smooth_noise(rng, size, 14 * unit), 0.6, 1.6)
    distance = grid_line_distance(u, v, spacing)
    half = float(rng.uniform(1.3, 1.9)) * unit * (1.0 + 0.3 * smooth_noise(rng, size, 5 * unit))
    half = np.maximum(half, 0.6)
    broken = smooth_noise(rng, size, 3 * unit) > -0.35
    region = blob_in_region(
        rng, lesion.mask & (lesion.rel < 0.97), size, float(rng.uniform(0.55, 0.8)), 12 * unit
    )
    alpha = soft_edge(distance, half) * broken * feather(region, 2 * unit) * 0.95
    blend(canvas, _dark_line_colour(plan), alpha)
    mask = (distance < half) & broken & region
    return _ensure(mask, region), []


def regular_dots(rng, canvas, lesion: Lesion, colour_map, plan):
    """Small dots of similar size, evenly spread in the centre of the lesion."""
    count = int(rng.integers(9, 17))
    theta = np.linspace(0, 2 * np.pi, count, endpoint=False) + rng.uniform(0, 2 * np.pi)
    rel = np.where(np.arange(count) % 2 == 0, 0.25, 0.5) + rng.uniform(-0.04, 0.04, count)
    centres = lesion.point(rel, theta)
    radii = np.full(count, rng.uniform(1.6, 2.1) * lesion.unit) * rng.uniform(0.9, 1.1, count)
    radii = np.maximum(radii, 0.7)
    x, y = pixel_grid(canvas.shape[0])
    alpha = discs_alpha(x, y, centres, radii) * lesion.mask
    blend(canvas, colour_map * 0.45, alpha * 0.95)
    return _ensure(alpha > 0.5, lesion.mask & (lesion.rel < 0.3)), []


def irregular_dots(rng, canvas, lesion: Lesion, colour_map, plan):
    """Dots and globules of varied size and darkness, clustered off-centre near the border."""
    count = int(rng.integers(12, 26))
    focus = rng.uniform(0, 2 * np.pi)
    theta = focus + rng.normal(0, 0.7, count)
    rel = rng.uniform(0.45, 0.92, count)
    centres = lesion.point(rel, theta)
    radii = np.maximum(rng.uniform(1.0, 4.5, count) * lesion.unit, 0.7)
    x, y = pixel_grid(canvas.shape[0])
    alpha = discs_alpha(x, y, centres, radii) * lesion.mask
    blend(canvas, _dark_line_colour(plan) * rng.uniform(0.8, 1.2), alpha * 0.95)
    return _ensure(alpha > 0.5, lesion.mask & (lesion.rel > 0.5)), []


def irregular_streaks(rng, canvas, lesion: Lesion, colour_map, plan):
    """Radial streaks and pseudopods at the border, only on part of the circumference."""
    unit = lesion.unit
    count = int(rng.integers(6, 12))
    arc_centre, arc_width = rng.uniform(0, 2 * np.pi), rng.uniform(1.0, 2.0)
    theta = arc_centre + rng.uniform(-arc_width / 2, arc_width / 2, count)
    x, y = pixel_grid(canvas.shape[0])
    colour = _dark_line_colour(plan)
    alpha = np.zeros(x.shape, dtype=np.float32)
    for angle in theta:
        bend = rng.normal(0, 0.06)
        rel = np.array([rng.uniform(0.7, 0.85), 1.0, rng.uniform(1.18, 1.35)])
        points = lesion.point(rel, np.array([angle, angle + bend, angle + 2 * bend]))
        half = max(float(rng.uniform(0.9, 1.5)) * unit, 0.6)
        line = stroke_alpha(x, y, points, half)
        tip = soft_edge(np.hypot(x - points[-1, 0], y - points[-1, 1]), half * 1.35)
        np.maximum(alpha, np.maximum(line, tip), out=alpha)
    alpha *= lesion.inside
    blend(canvas, colour, alpha * 0.95)
    return _ensure(alpha > 0.5, lesion.mask & (lesion.rel > 0.85)), []


def _patch(rng, lesion: Lesion, rel_range, radius_range) -> np.ndarray:
    """A round region inside the lesion around a random point."""
    centre = lesion.point(
        np.array([rng.uniform(*rel_range)]), np.array([rng.uniform(0, 2 * np.pi)])
    )[0]
    x, y = pixel_grid(lesion.mask.shape[0])
    radius = rng.uniform(*radius_range) * lesion.radius
    return lesion.mask & (lesion.rel < 0.9) & (np.hypot(x - centre[0], y - centre[1]) < radius)


def blue_whitish_veil(rng, canvas, lesion: Lesion, colour_map, plan):
    """A confluent, structureless blue-white haze over part of the lesion."""
    size = canvas.shape[0]
    region = _ensure(_patch(rng, lesion, (0.0, 0.4), (0.45, 0.7)), lesion.mask)
    mask = blob_in_region(rng, region, size, float(rng.uniform(0.6, 0.8)), 6 * lesion.unit)
    haze = (
        np.array(PALETTE["blue-grey"])
        * (1.0 + 0.06 * smooth_noise(rng, size, 2 * lesion.unit))[..., None]
    )
    haze = haze * 0.8 + 0.2 * np.array(PALETTE["white"])
    blend(canvas, haze, feather(mask, 1.5 * lesion.unit) * 0.88)
    return _ensure(mask, region), ["blue-grey", "white"]


def regression(rng, canvas, lesion: Lesion, colour_map, plan):
    """White scar-like areas with blue-grey peppering."""
    size, unit = canvas.shape[0], lesion.unit
    region = _ensure(_patch(rng, lesion, (0.35, 0.7), (0.3, 0.5)), lesion.mask)
    mask = blob_in_region(rng, region, size, float(rng.uniform(0.6, 0.8)), 5 * unit)
    scar = np.array(PALETTE["white"]) * (1.0 + 0.04 * smooth_noise(rng, size, 3 * unit))[..., None]
    blend(canvas, scar, feather(mask, 1.2 * unit) * 0.85)
    ys, xs = np.nonzero(mask)
    count = min(len(xs), int(rng.integers(15, 35)))
    pick = rng.choice(len(xs), size=count, replace=False)
    x, y = pixel_grid(size)
    centres = np.stack([xs[pick] + 0.5, ys[pick] + 0.5], -1)
    pepper = discs_alpha(x, y, centres, np.maximum(rng.uniform(0.7, 1.3, count) * unit, 0.5))
    blend(canvas, PALETTE["blue-grey"], pepper * mask * 0.85)
    return _ensure(mask, region), ["white", "blue-grey"]


STRUCTURE_PAINTERS: dict[str, Painter] = {
    "typical_pigment_network": typical_network,
    "atypical_pigment_network": atypical_network,
    "regular_dots_globules": regular_dots,
    "irregular_dots_globules": irregular_dots,
    "irregular_streaks": irregular_streaks,
    "blue_whitish_veil": blue_whitish_veil,
    "regression_structures": regression,
}
