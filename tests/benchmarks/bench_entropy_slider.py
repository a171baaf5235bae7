"""Entropy-slider latency: from a radius change to new MedGrad-ECLIP pixels, on the engine path.

A 1024×768 image is explained once with a ViT-style tiny model (224 px input, 14×14 patches);
then the radius moves to 1..25 in random order (≥ 25 changes) and each change is timed from
``request_maps`` to the ``maps_ready`` callback. The engine precomputes the entropy weights of
all slider radii after an image loads, so the figure assumes the user touches the slider after
that (the time it takes is printed); a cold figure (nothing precomputed) is printed for context.

Run: ``python -m tests.benchmarks.bench_entropy_slider`` (last line: the figure; goal: median
≤ 50 ms).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
from PIL import Image

from medgrad_desktop.engine.engine import ExplainEngine
from tests.engine_support import PROMPTS, RecordingListener, lesion_image
from tests.tiny_models import make_tiny_clip_folder

CHANGES = 30


def slider_latencies(
    engine: ExplainEngine, listener: RecordingListener, path: Path, radii: list[int]
) -> list[float]:
    """Milliseconds from each radius change to its maps (one change at a time)."""
    latencies = []
    for radius in radii:
        began = time.perf_counter()
        request = engine.request_maps(path, 0, radius)
        _, result = listener.wait_for("maps_ready", request, timeout=30)
        latencies.append((time.perf_counter() - began) * 1000.0)
        assert result.entropy_radius == radius and result.maps["medgrad"].shape == (768, 1024)
    return latencies


def start(model_dir: Path, path: Path, **options) -> tuple[ExplainEngine, RecordingListener]:
    listener = RecordingListener()
    engine = ExplainEngine(listener, **options)
    engine.load_model(model_dir, "cpu")
    listener.wait_for("model_loaded", timeout=60)
    engine.set_prompts(PROMPTS)
    listener.wait_for("maps_ready", engine.request_view(path, 0, 5), timeout=60)
    return engine, listener


def main() -> None:
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model_dir = make_tiny_clip_folder(root / "model", image_size=224, patch_size=16)
        path = root / "lesion_1024x768.png"
        Image.fromarray(lesion_image(1024, 768, seed=3)).save(path)

        cold_engine, cold_listener = start(model_dir, path, precompute_radii=())
        cold = slider_latencies(cold_engine, cold_listener, path, rng.sample(range(1, 26), 10))
        cold_engine.shutdown()
        print(f"cold (no precomputed entropy): median {np.median(cold):.1f} ms over 10 changes")

        began = time.perf_counter()
        engine, listener = start(model_dir, path)
        engine.wait_until_idle(120)
        print(f"view + precompute of 25 radii: {time.perf_counter() - began:.2f} s")
        radii = rng.sample(range(1, 26), 25) + [rng.randint(1, 25) for _ in range(CHANGES - 25)]
        warm = slider_latencies(engine, listener, path, radii)
        engine.shutdown()
    print(f"changes: {len(warm)}, max {max(warm):.1f} ms")
    print(
        f"entropy slider latency: median {np.median(warm):.1f} ms, "
        f"p95 {np.percentile(warm, 95):.1f} ms"
    )


if __name__ == "__main__":
    main()
