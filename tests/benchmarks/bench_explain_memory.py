"""Peak memory of ``medgrad-desktop explain`` on a 6000×4000 photo, side by side with a
224×224 image, each in a fresh process (peak resident set size from ``getrusage``).

    python tests/benchmarks/bench_explain_memory.py [--model demo] [--full-maps]

The last line gives the figure and the ratio, e.g.
``explain peak memory 6000×4000: 0.95 GB (224×224: 0.60 GB, 1.6×; limit 2 GB)``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import resource, sys
from medgrad_desktop.cli import main
code = main(sys.argv[1:])
print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""


def photo(path: Path, width: int, height: int) -> Path:
    """A textured photo-like JPEG (tiled noise over a smooth lesion-like blob)."""
    rng = np.random.default_rng(0)
    tile = rng.integers(60, 200, (500, 500, 3), dtype=np.uint8)
    reps = (height // 500 + 1, width // 500 + 1, 1)
    Image.fromarray(np.tile(tile, reps)[:height, :width]).save(path, quality=85)
    return path


def peak_gb(image: Path, out: Path, model: str, extra: list[str]) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = ["explain", str(image), "--model", model, "--out", str(out), "--device", "cpu"]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *argv, *extra], capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"explain failed ({done.returncode}):\n{done.stderr[-3000:]}")
    kb = int(done.stdout.split("PEAK_KB")[-1].split()[0])
    return kb / 2**20, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo")
    parser.add_argument("--full-maps", action="store_true", help="also write full-size maps")
    args = parser.parse_args()
    extra = ["--full-maps"] if args.full_maps else []
    with tempfile.TemporaryDirectory(prefix="medgrad-bench-mem-") as scratch:
        root = Path(scratch)
        small = photo(root / "small.jpg", 224, 224)
        large = photo(root / "large.jpg", 6000, 4000)
        small_gb, small_s = peak_gb(small, root / "out-small", args.model, extra)
        large_gb, large_s = peak_gb(large, root / "out-large", args.model, extra)
        written = sum(p.stat().st_size for p in (root / "out-large").iterdir()) / 2**30
    print(f"224×224: {small_gb:.2f} GB peak, {small_s:.0f} s")
    print(f"6000×4000: {large_gb:.2f} GB peak, {large_s:.0f} s, {written:.2f} GB written")
    mode = " with --full-maps" if args.full_maps else ""
    print(
        f"explain peak memory 6000×4000{mode}: {large_gb:.2f} GB (224×224: {small_gb:.2f} GB, "
        f"{large_gb / small_gb:.1f}×; limit 2 GB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
