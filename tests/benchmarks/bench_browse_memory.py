"""Benchmark: resident-memory growth while browsing 1,000 images with the default cache.

The real main window with the demo model steps through N distinct images (display size
640×480), waiting each time until the three maps are shown, as a reader would. RSS is read
after the first image (models, caches and Qt warmed up) and at the end; the engine's caches
are byte-bounded, so growth should level off. Last line:
``resident memory growth over <n> images: <MB> MB (cache budget <MB> MB)``.
Run: ``.venv/bin/python tests/benchmarks/bench_browse_memory.py [--n 1000]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def make_folder(root: Path, count: int) -> Path:
    """``count`` distinct textured PNGs (distinct content, so nothing is shared by the cache)."""
    import numpy as np
    from PIL import Image

    folder = root / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    base = rng.integers(60, 200, (480, 640, 3), dtype=np.uint8)
    for index in range(count):
        image = base.copy()
        image[index % 480, :, :] = index % 256
        image[:, index % 640, 0] = 255 - index % 256
        Image.fromarray(image).save(folder / f"IMG{index:05d}.png", compress_level=1)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    import psutil

    root = Path(tempfile.mkdtemp(prefix="medgrad-bench-memory-"))
    os.environ.setdefault("MEDGRAD_USER_DATA", str(root / "userdata"))
    os.environ.setdefault("MEDGRAD_SETTINGS_DIR", str(root / "settings"))
    try:
        folder = make_folder(root, args.n)
        from medgrad_desktop.engine.api import DEFAULT_CACHE_BYTES
        from medgrad_desktop.qt.app import build_main_window, get_application
        from tests.gui_timing import wait_until_maps_shown

        app = get_application()
        window = build_main_window(device="cpu")
        window.show()
        window.start(folder, "demo")
        process = psutil.Process()

        wait_until_maps_shown(app, window, window.browser.current_path())
        start_rss = process.memory_info().rss
        peak = start_rss
        started = time.perf_counter()
        for step in range(1, args.n):
            window.step_image(1)
            wait_until_maps_shown(app, window, window.browser.current_path())
            peak = max(peak, process.memory_info().rss)
            if step % 100 == 0:
                grown = (process.memory_info().rss - start_rss) / 2**20
                print(f"{step} images: +{grown:.0f} MB", flush=True)
        growth = (process.memory_info().rss - start_rss) / 2**20
        elapsed = time.perf_counter() - started
        peak_mb = (peak - start_rss) / 2**20
        print(f"browsed {args.n} images in {elapsed:.0f} s; peak growth {peak_mb:.0f} MB")
        window.close()
        print(
            f"resident memory growth over {args.n} images: {growth:.0f} MB "
            f"(cache budget {DEFAULT_CACHE_BYTES / 2**20:.0f} MB)"
        )
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
