"""Time ``evaluate-maps`` on a fresh synthetic set, and batched vs one-at-a-time encoding of
the deletion/insertion images (the same curves either way).

Prints the run's wall time and, last,
``evaluate-maps (<n> images, <device>): <s> s/image; batched encoding <ratio>x``.

    python tests/benchmarks/bench_evaluate_maps.py [--n 200] [--model demo] [--device cpu]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from medgrad_desktop.explain import explain, load_image, load_model
from medgrad_desktop.explain.evaluation.datasets import load_mask_dataset
from medgrad_desktop.explain.evaluation.deletion import (
    baseline_image,
    deletion_insertion_curves,
)
from medgrad_desktop.explain.evaluation.runner import EvaluationSettings, evaluate_folder
from training.synthetic import write_dataset


def encoding_ratio(bundle, image: np.ndarray, prompt: str) -> float:
    """Seconds one image at a time / seconds in batches of 16, for one map's two curves."""
    saliency = explain(bundle, image, [prompt], methods=("gradeclip",)).maps["gradeclip"][0]
    text = bundle.encode_prompts([prompt])[0]
    blank = baseline_image(image)
    times = {}
    for batch in (1, 16):
        started = time.perf_counter()
        curves = deletion_insertion_curves(
            bundle.encode_image, text, image, saliency, baseline=blank, batch_size=batch
        )
        times[batch] = time.perf_counter() - started
        times[f"curve{batch}"] = curves.deletion
    assert np.allclose(times["curve1"], times["curve16"], atol=1e-5)
    return times[1] / times[16]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--model", default="demo")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args()
    bundle = load_model(args.model, device=args.device)
    with tempfile.TemporaryDirectory() as tmp:
        data = write_dataset(Path(tmp) / "set", args.n, seed=args.seed)
        dataset = load_mask_dataset(data)
        started = time.perf_counter()
        metrics = evaluate_folder(
            bundle,
            dataset,
            EvaluationSettings(methods=("gradcam", "gradeclip", "medgrad", "legrad")),
            Path(tmp) / "out",
        )
        seconds = time.perf_counter() - started
        first = dataset.images[0]
        image = load_image(first.image)
        ratio = encoding_ratio(bundle, image, dataset.prompts[next(iter(first.masks))])
    print(f"{metrics['n_images']} images, {metrics['n_masks']} masks in {seconds:.0f} s")
    print(
        f"evaluate-maps ({metrics['n_images']} images, {bundle.device.type}): "
        f"{seconds / max(1, metrics['n_images']):.1f} s/image; batched encoding {ratio:.2f}x"
    )


if __name__ == "__main__":
    main()
