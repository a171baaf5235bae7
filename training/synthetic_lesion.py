"""The lesion of a synthetic dermoscopy case: outline, base colours, and the hairs over it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.synthetic_draw import bezier, blend, smooth_noise, soft_edge, stroke_alpha

PALETTE: dict[str, tuple[float, float, float]] = {
    "white": (0.90, 0.88, 0.87),
    "red": (0.72, 0.28, 0.26),
    "light brown": (0.66, 0.45, 0.30),
    "dark brown": (0.38, 0.22, 0.13),
    "black": (0.11, 0.08, 0.08),
    "blue-grey": (0.45, 0.53, 0.65),
}
"""Reference RGB (0–1) of the PH² colours."""


@dataclass
class Lesion:
    """Geometry of the lesion: polar coordinates around its centre and its soft/hard masks."""

    centre: np.ndarray  # (x, y) pixels
    rotation: float  # radians
    radius: float  # mean radius, pixels
    harmonics: list[tuple[int, float, float]]  # (k, amplitude, phase) of the outline
    axes_ratio: float
    unit: float  # pixels per 1/224 of the image side
    theta: np.ndarray  # (H, W) angle in the lesion frame
    rel: np.ndarray  # (H, W) distance / border distance (0 centre, 1 on the border)
    alpha: np.ndarray  # (H, W) soft coverage
    mask: np.ndarray  # (H, W) bool, inside the lesion and the field of view
    inside: np.ndarray  # (H, W) bool field of view

    def border(self, theta: np.ndarray | float) -> np.ndarray:
        """Distance (pixels) from the centre to the border at lesion-frame angle ``theta``."""
        theta = np.asarray(theta, dtype=np.float32)
        b = self.axes_ratio
        ellipse = b / np.sqrt((b * np.cos(theta)) ** 2 + np.sin(theta) ** 2)
        wobble = 1.0 + sum(a * np.cos(k * theta + p) for k, a, p in self.harmonics)
        return self.radius * ellipse * wobble

    def point(self, rel: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Pixel coordinates (N, 2) of points given as (relative radius, lesion-frame angle)."""
        rho = np.asarray(rel) * self.border(theta)
        angle = np.asarray(theta) + self.rotation
        return np.stack(
            [self.centre[0] + rho * np.cos(angle), self.centre[1] + rho * np.sin(angle)], -1
        )


def _harmonics(rng: np.random.Generator, asymmetry: str) -> list[tuple[int, float, float]]:
    """Outline harmonics: even cosines keep both mirror axes, odd cosines keep one, phases none."""
    wiggle = [(int(k), float(rng.uniform(0.004, 0.012)), 0.0) for k in (8, 10, 12)]
    if asymmetry == "none":
        return [(4, float(rng.uniform(0.0, 0.03)), 0.0), *wiggle]
    if asymmetry == "one axis":
        return [
            (1, float(rng.uniform(0.10, 0.16)), 0.0),
            (3, float(rng.uniform(0.05, 0.09)), 0.0),
            (2, float(rng.uniform(0.0, 0.05)), 0.0),
            *wiggle,
        ]
    amplitudes = [
        (1, 0.12, 0.20),
        (2, 0.06, 0.11),
        (3, 0.05, 0.10),
        (4, 0.03, 0.06),
        (5, 0.02, 0.05),
    ]
    irregular = [(k, float(rng.uniform(0.01, 0.025))) for k in range(7, 15)]
    return [
        (k, float(rng.uniform(lo, hi)), float(rng.uniform(0, 2 * np.pi)))
        for k, lo, hi in amplitudes
    ] + [(k, a, float(rng.uniform(0, 2 * np.pi))) for k, a in irregular]


def make_lesion(rng, size: int, asymmetry: str, x, y, inside) -> Lesion:
    """Place a lesion of random size, position, rotation and outline in the field of view."""
    unit = size / 224.0
    centre = size / 2 + rng.uniform(-0.08, 0.08, 2) * size
    lesion = Lesion(
        centre=centre.astype(np.float32),
        rotation=float(rng.uniform(0, 2 * np.pi)),
        radius=float(size * rng.uniform(0.19, 0.27)),
        harmonics=_harmonics(rng, asymmetry),
        axes_ratio=float(rng.uniform(0.72, 1.0)),
        unit=unit,
        theta=np.empty(0),
        rel=np.empty(0),
        alpha=np.empty(0),
        mask=np.empty(0, dtype=bool),
        inside=inside,
    )
    dx, dy = x - lesion.centre[0], y - lesion.centre[1]
    lesion.theta = (np.arctan2(dy, dx) - lesion.rotation).astype(np.float32)
    border = lesion.border(lesion.theta)
    distance = np.hypot(dx, dy)
    lesion.rel = (distance / border).astype(np.float32)
    lesion.alpha = soft_edge(distance - border, 0.0, 1.5 * unit)
    lesion.mask = (distance < border) & inside
    return lesion


def paint_lesion_colours(
    rng: np.random.Generator, canvas: np.ndarray, lesion: Lesion, colours: list[str]
) -> np.ndarray:
    """Paint the lesion in its base colours (zones of smooth noise); returns the colour map."""
    size = canvas.shape[0]
    jitter = rng.uniform(0.92, 1.06)
    if len(colours) == 1:
        colour_map = np.broadcast_to(np.array(PALETTE[colours[0]]) * jitter, canvas.shape)
        colour_map = colour_map.astype(np.float32)
    else:
        # Eccentric zones: noise plus a gradient towards a random direction.
        direction = rng.uniform(0, 2 * np.pi)
        gradient = lesion.rel * np.cos(lesion.theta - direction)
        field = smooth_noise(rng, size, 9 * lesion.unit) * 0.6 + 1.8 * gradient
        values = field[lesion.mask] if lesion.mask.any() else field.ravel()
        cuts = np.quantile(values, np.linspace(0, 1, len(colours) + 1)[1:-1])
        zone = np.digitize(field, cuts)
        order = list(colours)
        rng.shuffle(order)
        palette = np.array([PALETTE[c] for c in order], dtype=np.float32) * jitter
        colour_map = palette[zone]
    texture = 1.0 + 0.05 * smooth_noise(rng, size, 1.2 * lesion.unit)[..., None]
    fade = np.clip(1.0 - 0.35 * np.clip(lesion.rel, 0, 1) ** 3, 0, 1)
    blend(canvas, colour_map * texture, lesion.alpha * fade)
    return colour_map


def draw_hairs(rng: np.random.Generator, canvas: np.ndarray, size: int, x, y) -> int:
    """Draw 0–6 dark curved hairs across the image; returns how many were drawn."""
    unit = size / 224.0
    count = int(rng.choice([0, 1, 2, 2, 3, 4, 6]))
    for _ in range(count):
        a, b = rng.uniform(0, 2 * np.pi, 2)
        start = size / 2 + 0.7 * size * np.array([np.cos(a), np.sin(a)])
        end = size / 2 + 0.7 * size * np.array([np.cos(b), np.sin(b)])
        control = rng.uniform(0.1, 0.9, 2) * size
        points = bezier(start, control, end, samples=20)
        half = float(rng.uniform(0.35, 0.8)) * max(unit, 0.6)
        alpha = stroke_alpha(x, y, points, half) * 0.9
        colour = np.array([0.10, 0.07, 0.05], dtype=np.float32) * rng.uniform(0.7, 1.6)
        blend(canvas, colour, alpha)
    return count
