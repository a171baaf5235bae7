"""The no-argument start: a demo folder of synthetic dermoscopy images in the user data dir."""

from __future__ import annotations

import logging
from pathlib import Path

from PIL import Image

from medgrad_desktop.paths import user_subdir

log = logging.getLogger(__name__)

DEMO_CASES = 12
DEMO_SEED = 2026
DEMO_SIZE = 448
_MARKER = ".medgrad-demo-v1"


def ensure_demo_folder(count: int = DEMO_CASES) -> Path:
    """Generate (once) and return the demo image folder in the user data directory."""
    folder = user_subdir("demo-images")
    if (folder / _MARKER).is_file():
        return folder
    from training.synthetic import generate_case

    log.info("Generating %d demo images in %s", count, folder)
    for index in range(count):
        case = generate_case(seed=DEMO_SEED + index, size=DEMO_SIZE)
        Image.fromarray(case.image).save(folder / f"lesion_{index + 1:02d}.png")
    (folder / _MARKER).write_text("synthetic dermoscopy for the MedGrad Desktop demo\n")
    return folder
