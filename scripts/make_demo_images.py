"""Regenerate the demo images shipped in ``resources/demo/images/`` (synthetic dermoscopy).

Run: ``python scripts/make_demo_images.py`` from the repository root. The viewer copies these
files into the user data folder on the first start instead of generating them (which took
17 s on a 2-core CPU).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from medgrad_desktop.demo import DEMO_CASES, DEMO_SEED, DEMO_SIZE, demo_image_name  # noqa: E402
from training.synthetic import generate_case  # noqa: E402


def main() -> int:
    folder = ROOT / "resources" / "demo" / "images"
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(DEMO_CASES):
        case = generate_case(seed=DEMO_SEED + index, size=DEMO_SIZE)
        Image.fromarray(case.image).save(folder / demo_image_name(index), optimize=True)
    print(f"{DEMO_CASES} demo images written to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
