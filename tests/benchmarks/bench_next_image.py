"""Benchmark: key press → image and maps in the real viewer, demo model, on the CPU.

The real main window browses the bundled demo images (320 px synthetic dermoscopy) with the
demo model and the PH² prompt set, following the top class. Each step is a real Down-arrow
key press on the image list, timed until the image, and then its three maps, are on screen.
Two ways, side by side in one run:

- cold: the caches are emptied before each press, so decoding, the model, the entropy weight
  and the rendering all happen after the key press (the budget: image ≤ 50 ms, maps ≤ 150 ms);
- prefetched: the viewer is left idle before each press (as while a reader looks at a case),
  so the neighbour was prepared in the background (image and maps should come together).

The model's own share is timed directly: ``compute_evidence`` for one image and all prompts.
Run: ``python tests/benchmarks/bench_next_image.py`` (last line: the cold figures).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

ROUNDS = 1  # passes over the 12 demo images


def _wait(app, condition, timeout_s: float = 60.0) -> float:
    began = time.perf_counter()
    while not condition():
        if time.perf_counter() - began > timeout_s:
            raise TimeoutError("the viewer did not answer in time")
        app.processEvents()
        time.sleep(0.0005)
    return time.perf_counter() - began


def _press(app, window, cold: bool) -> tuple[float, float, bool]:
    """One Down key press: (ms to the image, ms to the maps, image shown before its maps)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    engine, controller = window.engine, window.controller
    _wait(app, lambda: engine.queue_length() == 0 and engine.wait_until_idle(0.05))
    if cold:
        engine.clear_caches()
    rows = window.browser.visible_paths()
    current = rows.index(window.state.image)
    target = rows[(current + 1) % len(rows)]
    if current + 1 == len(rows):
        window.browser.select_row(0)
        _wait(app, lambda: controller.shown is not None and controller.shown.path == rows[0])
        return _press(app, window, cold)
    alone = []
    controller.imageShown.connect(lambda _path, with_maps: alone.append(not with_maps))
    began = time.perf_counter()
    QTest.keyClick(window.browser.view, Qt.Key.Key_Down)
    _wait(app, lambda: window.comparison.image_path == target)
    image_ms = (time.perf_counter() - began) * 1000
    _wait(app, lambda: controller.shown is not None and controller.shown.path == target)
    maps_ms = (time.perf_counter() - began) * 1000
    controller.imageShown.disconnect()
    return image_ms, maps_ms, bool(alone and alone[0])


def _evidence_ms(folder: Path, prompts) -> float:
    import torch

    from medgrad_desktop.explain import compute_evidence, load_image, load_model

    torch.set_num_threads(1)  # as the engine's model thread on a 2-core machine
    bundle = load_model("demo", "cpu")
    texts = bundle.encode_prompts(prompts)
    image = bundle.resize_for_model(load_image(sorted(folder.glob("*.png"))[0]))
    compute_evidence(bundle, image, texts)
    times = []
    for _ in range(10):
        began = time.perf_counter()
        compute_evidence(bundle, image, texts)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def _summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="medgrad-bench-next-"))
    os.environ["MEDGRAD_USER_DATA"] = str(root / "data")
    os.environ["MEDGRAD_SETTINGS_DIR"] = str(root / "settings")
    load = os.getloadavg()
    try:
        from medgrad_desktop.demo import ensure_demo_folder
        from medgrad_desktop.qt.app import build_main_window, get_application

        folder = ensure_demo_folder()
        app = get_application()
        window = build_main_window(device="cpu")
        window.show()
        window.start(folder, "demo")
        _wait(app, lambda: window.controller.shown is not None, timeout_s=300)
        window.browser.view.setFocus()
        steps = ROUNDS * len(window.browser.visible_paths())
        cold = [_press(app, window, cold=True) for _ in range(steps)]
        warm = [_press(app, window, cold=False) for _ in range(steps)]
        prompts = window.prompt_panel.prompt_set.prompts()
        name = window.controller.model_info.name
        window.close()
        evidence = _evidence_ms(folder, prompts)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    cold_image, _ = _summary([c[0] for c in cold])
    cold_maps, cold_p90 = _summary([c[1] for c in cold])
    warm_image, _ = _summary([w[0] for w in warm])
    warm_maps, warm_p90 = _summary([w[1] for w in warm])
    alone = sum(w[2] for w in warm)
    print(f"CPU load average before the run: {load[0]:.2f} (on {os.cpu_count()} cores)")
    print(f"model {name}, {len(prompts)} prompts, {len(cold)} key presses each way")
    print(
        f"prefetched: image {warm_image:.0f} ms, maps median {warm_maps:.0f} ms, "
        f"p90 {warm_p90:.0f} ms; plain image shown before its maps {alone} of {len(warm)} times"
    )
    print(f"cold: image median {cold_image:.0f} ms")
    print(
        f"next image → maps: median {cold_maps:.0f} ms, p90 {cold_p90:.0f} ms "
        f"(model evidence alone: {evidence:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
