"""Training-time augmentation in plain torch (no torchvision), and text clause shuffling.

Images are float tensors (3, H, W) in [0, 1]; every random draw comes from the given
``torch.Generator``, so an augmentation is reproducible from its seed. Used on the train split
only (``ClipPairDataset(train=True)``).
"""

from __future__ import annotations

import math
import random
import re

import torch
import torch.nn.functional as F

CROP_SCALE = (0.6, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)
BRIGHTNESS = CONTRAST = SATURATION = 0.2
HUE = 0.03  # fraction of the colour circle


def _uniform(generator: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=generator))


def random_resized_crop(
    img: torch.Tensor,
    generator: torch.Generator,
    scale: tuple[float, float] = CROP_SCALE,
    ratio: tuple[float, float] = CROP_RATIO,
) -> torch.Tensor:
    """Crop a random area (fraction ``scale``, aspect ``ratio``) and resize back to (H, W)."""
    _, height, width = img.shape
    area = height * width
    for _ in range(10):
        target = area * _uniform(generator, *scale)
        aspect = math.exp(_uniform(generator, math.log(ratio[0]), math.log(ratio[1])))
        w = round(math.sqrt(target * aspect))
        h = round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            top = int(torch.randint(0, height - h + 1, (), generator=generator))
            left = int(torch.randint(0, width - w + 1, (), generator=generator))
            crop = img[:, top : top + h, left : left + w]
            return F.interpolate(
                crop[None], size=(height, width), mode="bilinear", align_corners=False
            )[0]
    return img  # every attempt fell outside the image: keep it whole (torchvision does the same)


def random_flips(img: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Horizontal and vertical flips, each with probability 1/2."""
    if float(torch.rand((), generator=generator)) < 0.5:
        img = img.flip(-1)
    if float(torch.rand((), generator=generator)) < 0.5:
        img = img.flip(-2)
    return img


def rotate(img: torch.Tensor, degrees: float) -> torch.Tensor:
    """Rotate about the centre by ``degrees`` (bilinear, reflection padding, same size)."""
    _, height, width = img.shape
    angle = math.radians(degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    # affine_grid works in [-1, 1] per axis; correct for the aspect ratio of non-square images.
    theta = torch.tensor(
        [[cos, -sin * height / width, 0.0], [sin * width / height, cos, 0.0]],
        dtype=img.dtype,
        device=img.device,
    )
    grid = F.affine_grid(theta[None], [1, 3, height, width], align_corners=False)
    return F.grid_sample(
        img[None], grid, mode="bilinear", padding_mode="reflection", align_corners=False
    )[0]


def _grey(img: torch.Tensor) -> torch.Tensor:
    return (0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2])[None]


def _rgb_to_hsv(img: torch.Tensor) -> torch.Tensor:
    r, g, b = img
    high, _ = img.max(0)
    low, _ = img.min(0)
    delta = high - low
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    hue = torch.where(
        high == r,
        ((g - b) / safe) % 6,
        torch.where(high == g, (b - r) / safe + 2, (r - g) / safe + 4),
    )
    hue = torch.where(delta > 0, hue / 6.0, torch.zeros_like(hue))
    saturation = torch.where(
        high > 0, delta / torch.where(high > 0, high, torch.ones_like(high)), high * 0
    )
    return torch.stack([hue, saturation, high])


def _hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    hue, saturation, value = hsv
    k = torch.stack([(5 + hue * 6) % 6, (3 + hue * 6) % 6, (1 + hue * 6) % 6])
    return value - value * saturation * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def shift_hue(img: torch.Tensor, shift: float) -> torch.Tensor:
    """Rotate the hue by ``shift`` (a fraction of the colour circle)."""
    hsv = _rgb_to_hsv(img)
    hsv = torch.stack([(hsv[0] + shift) % 1.0, hsv[1], hsv[2]])
    return _hsv_to_rgb(hsv)


def colour_jitter(img: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random brightness, contrast, saturation (±20 %) and a small hue shift (±0.03)."""
    img = img * _uniform(generator, 1 - BRIGHTNESS, 1 + BRIGHTNESS)
    img = img.clamp(0, 1)
    mean = _grey(img).mean()
    img = ((img - mean) * _uniform(generator, 1 - CONTRAST, 1 + CONTRAST) + mean).clamp(0, 1)
    grey = _grey(img)
    img = ((img - grey) * _uniform(generator, 1 - SATURATION, 1 + SATURATION) + grey).clamp(0, 1)
    return shift_hue(img, _uniform(generator, -HUE, HUE)).clamp(0, 1)


def augment_image(img: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random resized crop, flips, rotation (any angle) and colour jitter; same shape, [0, 1]."""
    if img.ndim != 3 or img.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) image tensor, got shape {tuple(img.shape)}")
    img = random_resized_crop(img, generator)
    img = random_flips(img, generator)
    img = rotate(img, _uniform(generator, 0.0, 360.0))
    return colour_jitter(img, generator)


def shuffle_clauses(text: str, rng: random.Random) -> str:
    """Shuffle the ``"; "``-separated clauses after the label (text up to the first . or ;).

    ``"melanoma. a; b; c."`` may become ``"melanoma. c; a; b."``; text with fewer than two
    clauses is returned unchanged.
    """
    match = re.search(r"[.;]", text)
    if match is None:
        return text
    head, body = text[: match.end()], text[match.end() :].strip()
    end = "." if body.endswith(".") else ""
    clauses = [c.strip() for c in body.rstrip(".").split(";") if c.strip()]
    if len(clauses) < 2:
        return text
    rng.shuffle(clauses)
    return f"{head} " + "; ".join(clauses) + end
