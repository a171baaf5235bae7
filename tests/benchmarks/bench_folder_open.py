"""Benchmark: time until the main window is usable on a folder of 5,000 images.

"Usable" = the window is shown, all 5,000 names are listed, the first image is selected and
the event loop has painted the window once. Thumbnails and the model keep loading in the
background (they are not waited for). Python imports are done before the clock starts.
Run: ``.venv/bin/python tests/benchmarks/bench_folder_open.py``
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

IMAGES = 5000


def make_folder(root: Path, count: int) -> Path:
    """``count`` real (small) PNG files, written as copies of one encoded image."""
    import numpy as np
    from PIL import Image

    folder = root / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(folder / "seed.png")
    data = (folder / "seed.png").read_bytes()
    (folder / "seed.png").unlink()
    for index in range(count):
        (folder / f"IMD{index:05d}.png").write_bytes(data)
    return folder


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="medgrad-bench-folder-"))
    os.environ.setdefault("MEDGRAD_USER_DATA", str(root / "userdata"))
    os.environ.setdefault("MEDGRAD_SETTINGS_DIR", str(root / "settings"))
    try:
        folder = make_folder(root, IMAGES)
        import medgrad_desktop.engine.engine  # noqa: F401  (imports are not timed)
        from medgrad_desktop.qt.app import build_main_window, get_application

        app = get_application()
        started = time.perf_counter()
        window = build_main_window(device="cpu")
        window.show()
        window.prompt_panel.reload_sets()
        window.open_folder(folder)
        app.processEvents()
        window.repaint()
        usable_ms = (time.perf_counter() - started) * 1000
        listed = len(window.browser.visible_paths())
        current = window.browser.current_path()
        assert listed == IMAGES, listed
        assert current is not None and current.name == "IMD00000.png", current

        started = time.perf_counter()
        window.open_folder(folder)  # again, window already built: the listing alone
        app.processEvents()
        relist_ms = (time.perf_counter() - started) * 1000
        window.close()
        print(
            f"window built + folder listed + painted: {usable_ms:.0f} ms; "
            f"re-opening the folder: {relist_ms:.0f} ms"
        )
        print(f"{IMAGES}-image folder usable in {usable_ms:.0f} ms")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
