"""The demo model's two acceptance figures, on synthetic cases generated with a seed it never
saw (training used seed 1; the default check uses 12345):

* **Zero-shot accuracy**: each image against the class names as prompts.
* **Pointing game**: for each image and the prompt of its true class, is the maximum of the
  MedGrad-ECLIP / Grad-ECLIP (and Grad-CAM) map inside the union of its structure masks (the
  ground truth of where the diagnostic structures were drawn)? The chance baseline is the mean
  share of the image covered by that union (where a random point lands).

``python -m training demo-check [--model demo] [--n 300] [--seed 12345]``
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from medgrad_desktop.explain import explain, load_image, load_model
from training.data import load_samples
from training.evaluate import class_prompts, compute_metrics

MAP_METHODS = ("medgrad", "gradeclip", "gradcam")


def structure_union(masks: dict[str, Path], shape: tuple[int, int]) -> np.ndarray:
    """Union of a case's structure masks (every mask except the lesion outline)."""
    union = np.zeros(shape, dtype=bool)
    for name, path in masks.items():
        if name != "lesion":
            union |= np.asarray(load_image(path))[..., 0] > 127
    return union


def pointing_game(bundle, samples, classes, methods=MAP_METHODS) -> dict:
    """Hit rate per method and the mask-area baseline over ``samples``, for the structure
    masks and (looser) for the lesion mask."""
    prompts = class_prompts(classes)
    hits = {method: [] for method in methods}
    lesion_hits = {method: [] for method in methods}
    areas, lesion_areas = [], []
    for sample in samples:
        image = load_image(sample.image)
        union = structure_union(sample.masks, image.shape[:2])
        if not union.any():
            continue
        result = explain(bundle, image, [prompts[classes.index(sample.label)]], methods=methods)
        lesion = np.asarray(load_image(sample.masks["lesion"]))[..., 0] > 127
        areas.append(union.mean())
        lesion_areas.append(lesion.mean())
        for method in methods:
            heat = result.maps[method][0]
            row, col = np.unravel_index(int(np.argmax(heat)), heat.shape)
            positive = float(heat.max()) > 0  # an all-zero map points nowhere
            hits[method].append(positive and bool(union[row, col]))
            lesion_hits[method].append(positive and bool(lesion[row, col]))
    return {
        "hit_rate": {method: float(np.mean(values)) for method, values in hits.items()},
        "baseline": float(np.mean(areas)),
        "lesion_hit_rate": {m: float(np.mean(values)) for m, values in lesion_hits.items()},
        "lesion_baseline": float(np.mean(lesion_areas)),
        "cases": len(areas),
    }


def run_demo_check(
    model: str = "demo",
    n: int = 300,
    seed: int = 12345,
    data: Path | None = None,
    device: str = "auto",
) -> dict:
    """Generate (or reuse) the synthetic set, print and return both figures."""
    from training.synthetic import write_dataset

    with tempfile.TemporaryDirectory() as temp:
        folder = Path(data) if data is not None else Path(temp) / "synthetic"
        if not (folder / "manifest.csv").is_file():
            write_dataset(folder, n, seed, progress=True)
        samples = load_samples(folder).samples
        bundle = load_model(model, device=None if device == "auto" else device)
        classes = sorted({s.label for s in samples})
        metrics = compute_metrics(bundle, samples, classes)
        pointing = pointing_game(bundle, samples, classes)
    print(f"model {bundle.describe()}; {len(samples)} synthetic images, seed {seed}")
    print(
        f"zero-shot accuracy (class names as prompts): {metrics['zero_shot_accuracy']:.3f}"
        f"  macro F1 {metrics['macro_f1']:.3f}"
    )
    print(f"pointing game ({pointing['cases']} images, prompt = true class name):")
    print(f"  {'method':<10} {'structures':>11} {'lesion':>8}")
    for method, rate in pointing["hit_rate"].items():
        print(f"  {method:<10} {rate:>11.3f} {pointing['lesion_hit_rate'][method]:>8.3f}")
    print(
        f"  {'baseline':<10} {pointing['baseline']:>11.3f} {pointing['lesion_baseline']:>8.3f}"
        "  (share of the image the masks cover)"
    )
    return {"zero_shot_accuracy": metrics["zero_shot_accuracy"], "pointing_game": pointing}
