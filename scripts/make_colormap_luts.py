"""Regenerate ``resources/colormaps/luts.npz`` (the viewer's colour tables) from matplotlib.

Run: ``python scripts/make_colormap_luts.py`` from the repository root.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from medgrad_desktop.explain.colormaps import COLORMAPS, LUT_FILE, matplotlib_lut  # noqa: E402


def main() -> int:
    target = ROOT / "resources" / Path(*LUT_FILE)
    target.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(target, **{name: matplotlib_lut(name) for name in COLORMAPS})
    print(f"{len(COLORMAPS)} colour tables written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
