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


def regions_of(sample, shape: tuple[int, int], tolerance: int) -> dict[str, np.ndarray]:
    """The target regions of one case: structures exactly, structures within ``tolerance``
    pixels (the pointing game's usual tolerance), and the whole lesion."""
    from scipy.ndimage import binary_dilation
    from skimage.morphology import disk

    union = structure_union(sample.masks, shape)
    return {
        "structures": union,
        f"structures ±{tolerance}px": binary_dilation(union, disk(tolerance)),
        "lesion": np.asarray(load_image(sample.masks["lesion"]))[..., 0] > 127,
    }


def pointing_game(bundle, samples, classes, methods=MAP_METHODS, tolerance: int = 8) -> dict:
    """``{"hit_rate": {region: {method: rate}}, "baseline": {region: area share}, "cases"}``.

    A hit: the map's maximum (for the true class's prompt) lies in the region; the baseline is
    the mean share of the image the region covers (where a random point lands).
    """
    prompts = class_prompts(classes)
    hits: dict[str, dict[str, list[bool]]] = {}
    areas: dict[str, list[float]] = {}
    for sample in samples:
        image = load_image(sample.image)
        regions = regions_of(sample, image.shape[:2], tolerance)
        if not regions["structures"].any():
            continue
        result = explain(bundle, image, [prompts[classes.index(sample.label)]], methods=methods)
        for name, region in regions.items():
            areas.setdefault(name, []).append(float(region.mean()))
            for method in methods:
                heat = result.maps[method][0]
                row, col = np.unravel_index(int(np.argmax(heat)), heat.shape)
                positive = float(heat.max()) > 0  # an all-zero map points nowhere
                hit = positive and bool(region[row, col])
                hits.setdefault(name, {}).setdefault(method, []).append(hit)
    return {
        "hit_rate": {r: {m: float(np.mean(v)) for m, v in per.items()} for r, per in hits.items()},
        "baseline": {name: float(np.mean(values)) for name, values in areas.items()},
        "cases": len(areas.get("structures", [])),
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
    regions = list(pointing["baseline"])
    print(f"  {'method':<10}" + "".join(f"{name:>20}" for name in regions))
    for method in MAP_METHODS:
        rates = [pointing["hit_rate"][name][method] for name in regions]
        print(f"  {method:<10}" + "".join(f"{rate:>20.3f}" for rate in rates))
    print(f"  {'baseline':<10}" + "".join(f"{pointing['baseline'][n]:>20.3f}" for n in regions))
    print("  (baseline: mean share of the image the region covers)")
    return {"zero_shot_accuracy": metrics["zero_shot_accuracy"], "pointing_game": pointing}
