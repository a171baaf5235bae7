"""Benchmark: scrolling the Browse by meaning grid through 5,000 images.

The grid (a virtualised list view) is shown at 1180×760 on 5,000 real PNG files and scrolled
from top to bottom a page every 30 ms while a 5 ms timer measures event-loop stalls; once with
the thumbnails decoding in the background as in the app, once with the decoding switched off
(placeholders only), side by side in one run.
Run: ``python tests/benchmarks/bench_browse_grid.py``
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bench_folder_open import make_folder
from tests.gui_timing import StallMeter

IMAGES = 5000


def scroll_through(app, folder: Path, thumbnails: bool) -> tuple[list[int], float, int]:
    """Stall gaps (ms), seconds to reach the end, thumbnails requested."""
    from medgrad_desktop.qt.browse.image_grid import GridEntry, ImageGrid

    grid = ImageGrid()
    grid.resize(1180, 760)
    loader = grid.grid_model._loader
    requested = []
    original = loader.request
    loader.request = lambda path: (requested.append(path), thumbnails and original(path))
    names = sorted(p.name for p in folder.iterdir())
    grid.set_entries(folder, [GridEntry(n, f"{n}\nmatch 0.{i % 1000:03d}", "melanoma 0.71")
                              for i, n in enumerate(names)])  # fmt: skip
    grid.show()
    last = grid.grid_model.index(len(names) - 1)
    settle = time.perf_counter() + 1.0
    while time.perf_counter() < settle:  # first paint and the batched layout, not measured
        app.processEvents()
        time.sleep(0.002)
    meter = StallMeter()
    meter.start()
    started = time.perf_counter()
    bar = grid.verticalScrollBar()
    while time.perf_counter() - started < 120:
        bar.setValue(bar.value() + bar.pageStep())
        deadline = time.perf_counter() + 0.03
        while time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.002)
        if grid.visualRect(last).intersects(grid.viewport().rect()):
            break
    seconds = time.perf_counter() - started
    meter.stop()
    grid.shutdown()
    grid.close()
    return meter.gaps, seconds, len(set(requested))


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))]) if ordered else 0.0


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="medgrad-bench-grid-"))
    os.environ.setdefault("MEDGRAD_USER_DATA", str(root / "userdata"))
    os.environ.setdefault("MEDGRAD_SETTINGS_DIR", str(root / "settings"))
    try:
        folder = make_folder(root, IMAGES)
        from medgrad_desktop.qt.app import get_application

        app = get_application()
        plain, plain_s, _ = scroll_through(app, folder, thumbnails=False)
        gaps, seconds, decoded = scroll_through(app, folder, thumbnails=True)
        print(
            f"placeholders only: p99 {percentile(plain, 0.99):.0f} ms, max {max(plain)} ms, "
            f"{plain_s:.1f} s to the end"
        )
        print(
            f"with thumbnails: {decoded} of {IMAGES} decoded, p99 {percentile(gaps, 0.99):.0f} "
            f"ms, max {max(gaps)} ms, {seconds:.1f} s to the end"
        )
        p99, plain_p99 = percentile(gaps, 0.99), max(percentile(plain, 0.99), 1.0)
        print(
            f"browse grid, {IMAGES} images: event-loop stall while scrolling with thumbnails "
            f"p99 {p99:.0f} ms, max {max(gaps)} ms ({p99 / plain_p99:.1f}x placeholders only)"
        )
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
