"""Benchmark: GUI event-loop stalls while the engine explains images with a ViT-B/16-size model.

A random CLIP with ViT-B/16 dimensions (224 px input, 16 px patches, width 768, 12 layers,
12 heads) runs on the CPU. The real main window moves through a folder of 1024×768 images,
waiting for each image's maps, while a 5 ms QTimer records the gaps between its ticks.
A stall is a gap beyond the timer's 5 ms period. Goal: p99 ≤ 50 ms.

Run: ``.venv/bin/python tests/benchmarks/bench_gui_stall.py`` (last line: the figure).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

IMAGES = 6
TIMER_MS = 5
VIT_B16 = {
    "image_size": 224,
    "patch_size": 16,
    "hidden": 768,
    "layers": 12,
    "heads": 12,
    "embed": 512,
}


def main() -> int:
    import numpy as np

    from tests.gui.main_window_helpers import write_lesion_png
    from tests.gui_timing import StallMeter, wait_until_maps_shown
    from tests.tiny_models import make_tiny_clip_folder

    root = Path(tempfile.mkdtemp(prefix="medgrad-bench-stall-"))
    os.environ.setdefault("MEDGRAD_USER_DATA", str(root / "userdata"))
    os.environ.setdefault("MEDGRAD_SETTINGS_DIR", str(root / "settings"))
    try:
        model = make_tiny_clip_folder(root / "model", seed=0, **VIT_B16)
        folder = root / "images"
        folder.mkdir()
        paths = [
            write_lesion_png(folder / f"case_{i:02d}.png", i, (1024, 768)) for i in range(IMAGES)
        ]
        from medgrad_desktop.qt.app import build_main_window, get_application

        app = get_application()
        window = build_main_window(device="cpu")
        window.show()
        window.start(folder, model)

        wait_until_maps_shown(app, window, paths[0])  # model loaded, first image explained
        meter = StallMeter(TIMER_MS)
        meter.start()
        seconds = []
        for path in paths[1:]:
            window.step_image(1)
            seconds.append(wait_until_maps_shown(app, window, path))
        meter.stop()
        gaps = meter.gaps
        window.close()
        info = window.controller.model_info
        stalls = np.array(gaps, dtype=float)
        print(
            f"model {info.name} on {info.device}; {len(seconds)} images, "
            f"{np.mean(seconds):.2f} s per image; {len(gaps)} timer ticks"
        )
        print(
            f"event-loop stall during inference: p99 {np.percentile(stalls, 99):.0f} ms, "
            f"max {stalls.max():.0f} ms"
        )
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
