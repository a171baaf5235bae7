"""Run the map-quality evaluation over a folder with masks, one image at a time, resumably.

Files in the output folder: ``run.json`` (the settings; a second run with other settings is
refused), ``per_image.jsonl`` (one line per image, appended and flushed as each image finishes,
so a stopped run resumes where it stopped), ``sanity.json`` (the randomisation check), and
``metrics.json`` + ``report.html`` written at the end.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from medgrad_desktop.errors import DataError, MedGradError
from medgrad_desktop.explain.evaluation.datasets import MaskDataset, MaskedImage, read_mask
from medgrad_desktop.explain.evaluation.deletion import (
    baseline_image,
    deletion_insertion_curves,
    image_encoder,
)
from medgrad_desktop.explain.evaluation.localisation import default_tolerance, localisation
from medgrad_desktop.explain.evaluation.maps import compute_maps
from medgrad_desktop.explain.evaluation.reference_maps import REFERENCE_MAPS, reference_map
from medgrad_desktop.explain.evaluation.sanity import (
    UNRELATED_PROMPT,
    cascading_randomisation,
    map_agreement,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


class EvaluationStopped(MedGradError):
    """The user stopped the evaluation; what was finished is kept for a resume."""


@dataclass
class EvaluationSettings:
    """Everything that changes the numbers (recorded in run.json and metrics.json)."""

    methods: tuple[str, ...] = ("gradcam", "gradeclip", "medgrad")
    variant: str = "model"
    geometry: str = "square"
    radii: tuple[float, ...] = (5.0,)
    baseline: str = "mean"
    steps: int = 20
    seed: int = 0
    tolerance: float | None = None  # pixels; None = half a patch
    unrelated_prompt: str = UNRELATED_PROMPT
    sanity_images: int = 4

    @property
    def radius(self) -> float:
        return float(self.radii[0])

    def as_dict(self) -> dict:
        values = asdict(self)
        values["methods"] = list(self.methods)
        values["radii"] = [float(r) for r in self.radii]
        return values


@dataclass
class RunFolder:
    """The output folder's files."""

    root: Path
    run: Path = field(init=False)
    per_image: Path = field(init=False)
    sanity: Path = field(init=False)
    metrics: Path = field(init=False)
    report: Path = field(init=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.run = self.root / "run.json"
        self.per_image = self.root / "per_image.jsonl"
        self.sanity = self.root / "sanity.json"
        self.metrics = self.root / "metrics.json"
        self.report = self.root / "report.html"


def _json_number(value):
    return None if isinstance(value, float) and not np.isfinite(value) else value


def _score_map(encode, text, rgb, blank, saliency, mask, tolerance, steps) -> dict:
    curves = deletion_insertion_curves(encode, text, rgb, saliency, steps=steps, baseline=blank)
    scores = {"deletion_auc": curves.deletion_auc, "insertion_auc": curves.insertion_auc}
    scores.update(localisation(saliency, mask, tolerance))
    scores["deletion"] = [round(float(v), 7) for v in curves.deletion]
    scores["insertion"] = [round(float(v), 7) for v in curves.insertion]
    return {key: _json_number(value) for key, value in scores.items()}


def score_image(bundle, item: MaskedImage, prompts: dict[str, str], settings: EvaluationSettings):
    """The per_image.jsonl record of one image: every map's scores for each non-empty mask."""
    from medgrad_desktop.explain.images import load_image

    started = time.perf_counter()
    rgb = load_image(item.image)
    image_hw = rgb.shape[:2]
    masks = {name: read_mask(path, image_hw) for name, path in item.masks.items()}
    empty = sorted(name for name, mask in masks.items() if not mask.any())
    attributes = [name for name in masks if name not in empty]
    record = {"key": item.key, "image": str(item.image), "empty_masks": empty, "cases": []}
    if not attributes:
        return record
    texts = [prompts[a] for a in attributes]
    found = compute_maps(
        bundle,
        rgb,
        [*texts, settings.unrelated_prompt],
        settings.methods,
        settings.radii,
        variant=settings.variant,
        geometry=settings.geometry,
    )
    embeddings = bundle.encode_prompts(texts)
    encode = image_encoder(bundle, settings.geometry)
    blank = baseline_image(rgb, settings.baseline, settings.seed)
    tolerance = settings.tolerance
    if tolerance is None:
        tolerance = default_tolerance(found.grid_hw, image_hw)
    for k, attribute in enumerate(attributes):
        mask, key = masks[attribute], f"{item.key}/{attribute}"
        candidates = {m: found.maps[m][k] for m in settings.methods}
        for name in REFERENCE_MAPS:
            candidates[name] = reference_map(name, image_hw, found.grid_hw, key, settings.seed)

        def score(saliency, k=k, mask=mask):
            return _score_map(
                encode, embeddings[k], rgb, blank, saliency, mask, tolerance, settings.steps
            )

        scores = {name: score(saliency) for name, saliency in candidates.items()}
        sweep = {
            f"{radius:g}": score(stack[k])
            for radius, stack in found.medgrad_by_radius.items()
            if radius != settings.radius
        }
        specificity = {
            m: {
                key: _json_number(value)
                for key, value in map_agreement(found.maps[m][k], found.maps[m][-1]).items()
            }
            for m in settings.methods
        }
        record["cases"].append(
            {
                "attribute": attribute,
                "prompt": prompts[attribute],
                "mask_pixels": int(mask.sum()),
                "similarity": float(found.similarity[k]),
                "scores": scores,
                "radius_sweep": sweep,
                "specificity": specificity,
            }
        )
    record["seconds"] = round(time.perf_counter() - started, 3)
    return record


def _check_run_file(folder: RunFolder, identity: dict) -> None:
    if folder.run.is_file():
        previous = json.loads(folder.run.read_text(encoding="utf-8"))
        if previous != identity:
            raise DataError(
                f"The folder {folder.root.name} holds an evaluation with other settings or "
                "another model; choose a new output folder or the same settings to resume it."
            )
    else:
        folder.root.mkdir(parents=True, exist_ok=True)
        folder.run.write_text(json.dumps(identity, indent=2), encoding="utf-8")


def read_records(path: Path, *, repair: bool = False) -> list[dict]:
    """The complete lines of per_image.jsonl (a line cut short by a crash is ignored, and with
    ``repair`` removed from the file so that appending continues on a clean line)."""
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            log.warning("Ignored an incomplete line in %s (a run was interrupted).", path.name)
    clean = "".join(json.dumps(record) + "\n" for record in records)
    if repair and text != clean:
        partial = path.with_suffix(".tmp")
        partial.write_text(clean, encoding="utf-8")
        os.replace(partial, path)
    return records


def _append(path: Path, record: dict) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _sanity(bundle, dataset, records, settings, folder: RunFolder, report: Progress) -> dict:
    """Cascading randomisation on the first ``sanity_images`` evaluated cases (cached)."""
    if folder.sanity.is_file():
        return json.loads(folder.sanity.read_text(encoding="utf-8"))
    from medgrad_desktop.explain.images import load_image

    by_key = {item.key: item for item in dataset.images}
    chosen = [r for r in records if r.get("cases") and r["key"] in by_key]
    chosen = chosen[: settings.sanity_images]
    runs = []
    for index, record in enumerate(chosen):
        report(index, len(chosen), "sanity checks")
        rgb = load_image(by_key[record["key"]].image)
        prompt = record["cases"][0]["prompt"]

        def explain_maps(model_bundle, rgb=rgb, prompt=prompt):
            found = compute_maps(
                model_bundle,
                rgb,
                [prompt],
                settings.methods,
                settings.radii[:1],
                variant=settings.variant,
                geometry=settings.geometry,
            )
            return {m: found.maps[m][0] for m in settings.methods}

        result = cascading_randomisation(bundle, explain_maps, seed=settings.seed)
        result["key"], result["prompt"] = record["key"], prompt
        runs.append(result)
    sanity = {"images": runs}
    folder.sanity.write_text(json.dumps(sanity, default=_json_number), encoding="utf-8")
    return sanity


def evaluate_folder(
    bundle,
    dataset: MaskDataset,
    settings: EvaluationSettings,
    out_dir: str | Path,
    *,
    n: int | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    provenance: dict | None = None,
    run_model: Callable[[Callable[[], object]], object] | None = None,
) -> dict:
    """Evaluate the first ``n`` images of ``dataset`` (all by default) into ``out_dir``; resume
    a stopped run with the same settings. Returns the metrics (also written to metrics.json).

    ``run_model(call)`` runs each model-bound step (one image, the sanity checks) where the
    model lives, e.g. on the app's model thread; by default it runs here."""
    run = run_model or (lambda call: call())
    from medgrad_desktop.explain.evaluation.aggregate import summarise
    from medgrad_desktop.explain.evaluation.report import write_report

    folder = RunFolder(out_dir)
    identity = {
        "model_id": bundle.model_id,
        "data": str(Path(dataset.images[0].image).parent),
        "prompts": dataset.prompts,
        "settings": settings.as_dict(),
    }
    _check_run_file(folder, identity)
    report = progress or (lambda done, total, message: None)
    items = dataset.images[:n] if n else dataset.images
    records = read_records(folder.per_image, repair=True)
    done = {r["key"] for r in records}
    for index, item in enumerate(items):
        report(index, len(items), item.image.name)
        if item.key in done:
            continue
        if should_stop is not None and should_stop():
            raise EvaluationStopped("The evaluation was stopped; run it again to continue.")
        try:
            record = run(lambda item=item: score_image(bundle, item, dataset.prompts, settings))
        except MedGradError as exc:
            log.error("%s: %s (%s)", item.image, exc, exc.details)
            record = {"key": item.key, "image": str(item.image), "error": str(exc), "cases": []}
        _append(folder.per_image, record)
        records.append(record)
        done.add(item.key)
    report(len(items), len(items), "summarising")
    wanted = {item.key for item in items}
    records = [r for r in records if r["key"] in wanted]
    if should_stop is not None and should_stop():
        raise EvaluationStopped("The evaluation was stopped; run it again to continue.")
    sanity = run(lambda: _sanity(bundle, dataset, records, settings, folder, report))
    metrics = summarise(records, settings, sanity, bundle, dataset, provenance or {})
    folder.metrics.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    write_report(metrics, folder.report)
    return metrics
