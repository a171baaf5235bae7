"""How close MedGrad's entropy weight on the ≤320 px work copy is to the exact one (full
resolution, radius scaled the same way), on synthetic dermoscopy cropped to PH²'s 768×560.

Prints, per radius, the Pearson correlation and the largest absolute difference of the weight
w_e ∈ [0, 1] over all pixels of all images, the time of each, and last
``entropy work copy vs exact (768×560, r=<r>): Pearson <r>, max |Δw| <d>, <x>x faster``.

    python tests/benchmarks/bench_entropy_exact.py [--images 6] [--radii 3 9 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from medgrad_desktop.explain.entropy import entropy_weight
from training.synthetic import generate_case

MODEL_SIDE = 224


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--radii", type=int, nargs="+", default=[3, 9, 5])  # 5: the default
    args = parser.parse_args()
    images = [generate_case(seed, size=768).image[104:664] for seed in range(args.images)]
    assert images[0].shape[:2] == (560, 768)
    last = ""
    for radius in args.radii:
        start = time.perf_counter()
        work = np.concatenate([entropy_weight(i, radius, MODEL_SIDE).ravel() for i in images])
        work_s = time.perf_counter() - start
        start = time.perf_counter()
        exact = np.concatenate(
            [entropy_weight(i, radius, MODEL_SIDE, exact=True).ravel() for i in images]
        )
        exact_s = time.perf_counter() - start
        r = float(np.corrcoef(work, exact)[0, 1])
        worst = float(np.abs(work - exact).max())
        mean = float(np.abs(work - exact).mean())
        print(
            f"r={radius}: Pearson {r:.4f}, max |Δw| {worst:.3f}, mean |Δw| {mean:.4f}; "
            f"work copy {work_s / len(images) * 1000:.0f} ms, exact "
            f"{exact_s / len(images) * 1000:.0f} ms per image"
        )
        last = (
            f"entropy work copy vs exact (768×560, r={radius}): Pearson {r:.4f}, "
            f"max |Δw| {worst:.3f}, {exact_s / work_s:.1f}x faster"
        )
    print(last)


if __name__ == "__main__":
    main()
