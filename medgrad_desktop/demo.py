"""The no-argument start: a demo folder of synthetic dermoscopy images in the user data dir.

The images ship pre-made in ``resources/demo/images/`` (``scripts/make_demo_images.py``
regenerates them) and are copied on the first start, which takes milliseconds.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from medgrad_desktop.paths import resource_path, user_subdir

log = logging.getLogger(__name__)

DEMO_CASES = 12
DEMO_SEED = 2026
DEMO_SIZE = 320
_MARKER = ".medgrad-demo-v2"


def demo_image_name(index: int) -> str:
    return f"lesion_{index + 1:02d}.png"


def ensure_demo_folder(count: int = DEMO_CASES) -> Path:
    """Copy (once) the first ``count`` bundled demo images into the user data directory and
    return it. Raises ``OSError`` when the folder cannot be written or the images are missing."""
    folder = user_subdir("demo-images")
    if (folder / _MARKER).is_file():
        return folder
    source = resource_path("demo", "images")
    names = [demo_image_name(index) for index in range(min(count, DEMO_CASES))]
    log.info("Copying %d demo images from %s to %s", len(names), source, folder)
    for name in names:
        shutil.copyfile(source / name, folder / name)
    (folder / _MARKER).write_text("synthetic dermoscopy for the MedGrad Desktop demo\n")
    return folder
