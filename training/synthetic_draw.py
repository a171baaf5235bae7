"""Raster primitives for synthetic dermoscopy: smooth noise, soft lines, discs, blobs.

Everything works on float32 arrays in pixel coordinates; ``alpha`` maps are in [0, 1].
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.ndimage import gaussian_filter, zoom


def pixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates ``(x, y)`` of a square image, each (size, size) float32."""
    coords = np.arange(size, dtype=np.float32) + 0.5
    y, x = np.meshgrid(coords, coords, indexing="ij")
    return x, y


def smooth_noise(rng: np.random.Generator, size: int, sigma: float) -> np.ndarray:
    """Gaussian-filtered white noise, rescaled to zero mean and unit standard deviation.

    Wide filters run on a coarser grid that is then upsampled bilinearly (much faster).
    """
    factor = max(1, int(sigma // 3))
    coarse = -(-size // factor) + 1
    field = rng.standard_normal((coarse, coarse)).astype(np.float32)
    field = gaussian_filter(field, sigma / factor)
    if factor > 1:
        field = zoom(field, factor, order=1)
    field = np.ascontiguousarray(field[:size, :size])
    field -= field.mean()
    return field / max(float(field.std()), 1e-6)


def blend(canvas: np.ndarray, colour, alpha: np.ndarray) -> None:
    """Composite a colour (RGB triple or HxWx3 array) over ``canvas`` in place."""
    a = np.clip(alpha, 0.0, 1.0)[..., None]
    canvas *= 1.0 - a
    canvas += a * np.asarray(colour, dtype=np.float32)


def soft_edge(distance: np.ndarray, half_width: float, softness: float = 0.7) -> np.ndarray:
    """Alpha of a shape given each pixel's distance to its centre line (1 inside, 0 outside)."""
    return np.clip((half_width - distance) / softness + 0.5, 0.0, 1.0)


def polyline_distance(x: np.ndarray, y: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Distance of every pixel to a polyline given as an (N, 2) array of (x, y) points."""
    best = np.full(x.shape, np.inf, dtype=np.float32)
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        dx, dy = bx - ax, by - ay
        length2 = max(dx * dx + dy * dy, 1e-9)
        t = np.clip(((x - ax) * dx + (y - ay) * dy) / length2, 0.0, 1.0)
        np.minimum(best, np.hypot(x - (ax + t * dx), y - (ay + t * dy)), out=best)
    return best


def stroke_alpha(x: np.ndarray, y: np.ndarray, points: np.ndarray, half: float) -> np.ndarray:
    """Soft alpha of a polyline stroke of half-width ``half`` (computed in its bounding box)."""
    alpha = np.zeros(x.shape, dtype=np.float32)
    height, width = x.shape
    x0, y0 = np.maximum(np.floor(points.min(0) - half - 2), 0).astype(int)
    x1, y1 = np.ceil(points.max(0) + half + 3).astype(int)
    x1, y1 = min(x1, width), min(y1, height)
    if x0 < x1 and y0 < y1:
        window = (slice(y0, y1), slice(x0, x1))
        alpha[window] = soft_edge(polyline_distance(x[window], y[window], points), half)
    return alpha


def bezier(p0, p1, p2, samples: int = 24) -> np.ndarray:
    """Points of a quadratic Bézier curve, (samples, 2)."""
    t = np.linspace(0.0, 1.0, samples, dtype=np.float32)[:, None]
    p0, p1, p2 = (np.asarray(p, dtype=np.float32) for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def discs_alpha(x: np.ndarray, y: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Soft alpha of a set of discs (centres (N, 2), radii (N,))."""
    alpha = np.zeros(x.shape, dtype=np.float32)
    height, width = x.shape
    for (cx, cy), r in zip(centres, radii, strict=True):
        x0, x1 = max(int(cx - r - 2), 0), min(int(cx + r + 3), width)
        y0, y1 = max(int(cy - r - 2), 0), min(int(cy + r + 3), height)
        if x0 >= x1 or y0 >= y1:
            continue
        window = (slice(y0, y1), slice(x0, x1))
        disc = soft_edge(np.hypot(x[window] - cx, y[window] - cy), float(r))
        np.maximum(alpha[window], disc, out=alpha[window])
    return alpha


def grid_line_distance(u: np.ndarray, v: np.ndarray, spacing: np.ndarray | float) -> np.ndarray:
    """Distance (pixels) to the nearest line of a square grid in rotated coordinates (u, v)."""
    fu = np.abs(np.mod(u / spacing, 1.0) - 0.5)
    fv = np.abs(np.mod(v / spacing, 1.0) - 0.5)
    return (0.5 - np.maximum(fu, fv)) * spacing


def blob_in_region(
    rng: np.random.Generator, region: np.ndarray, size: int, keep: float, sigma: float
) -> np.ndarray:
    """An irregular blob: the ``keep`` fraction of ``region`` where smooth noise is highest.

    Always non-empty when ``region`` is; returns a boolean mask.
    """
    noise = smooth_noise(rng, size, sigma)
    values = noise[region]
    if values.size == 0:
        return np.zeros_like(region)
    threshold = np.quantile(values, 1.0 - keep)
    return region & (noise >= threshold)


def feather(mask: np.ndarray, sigma: float) -> np.ndarray:
    """A soft alpha from a boolean mask (Gaussian-blurred, inside stays close to 1)."""
    return np.clip(gaussian_filter(mask.astype(np.float32), sigma) * 1.6, 0.0, 1.0)
