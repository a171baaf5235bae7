"""Run folders and data preparation for ``fit``.

A run folder ``<out>/<YYYYmmdd-HHMMSS>-<name>/`` holds ``config.yaml`` (the settings
snapshot), ``events.jsonl``, ``history.json``, ``metrics.json``, plots, ``best/`` and
``last/`` (Hugging Face CLIP folders). ``last/training_state.pt`` holds what ``--resume`` needs:
optimiser, scheduler, step, best score, history and (LoRA) the adapter weights.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from medgrad_desktop.errors import DataError
from training.config import TrainConfig
from training.data import Sample, load_samples, require_class_members
from training.splits import assign_splits

log = logging.getLogger(__name__)

CONFIG_FILE = "config.yaml"
STATE_FILE = "training_state.pt"


def new_run_dir(config: TrainConfig, run_dir: str | None = None) -> Path:
    """Create the run folder (``run_dir`` if given); refuse one that exists."""
    safe_name = "".join(c if c.isalnum() or c in "-_." else "-" for c in config.name) or "run"
    path = (
        Path(run_dir)
        if run_dir
        else Path(config.out) / f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_name}"
    )
    if path.exists():
        raise DataError(
            f"The output folder {path} already exists; choose another name or folder so no "
            "earlier results are overwritten."
        )
    path.mkdir(parents=True)
    return path


def write_config_snapshot(config: TrainConfig, run_dir: Path) -> None:
    (run_dir / CONFIG_FILE).write_text(
        yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8"
    )


def read_run_config(run_dir: str | Path) -> dict:
    """The settings snapshot of a run to resume; refuses a folder that is not a run."""
    path = Path(run_dir)
    state = path / "last" / STATE_FILE
    if not path.is_dir() or not (path / CONFIG_FILE).is_file() or not state.is_file():
        raise DataError(
            f"The folder {path.name} is not a training run that can be resumed "
            f"(it needs {CONFIG_FILE} and last/{STATE_FILE}).",
            str(path),
        )
    loaded = yaml.safe_load((path / CONFIG_FILE).read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise DataError(f"The settings snapshot of run {path.name} is damaged.", str(path))
    return loaded


@dataclass
class PreparedData:
    """Samples per split and the class names (sorted)."""

    classes: list[str]
    train: list[Sample]
    val: list[Sample]
    test: list[Sample]
    skipped: list[tuple[Path, str]]


def prepare_data(config: TrainConfig) -> PreparedData:
    """Load samples, check classes, split by group (seeded) and report skipped images."""
    if not config.data:
        raise DataError("No training data was given; use --data or 'data:' in the settings.")
    report = load_samples(config.data, Path(config.descriptions) if config.descriptions else None)
    for path, reason in report.skipped:
        log.warning("Skipped %s: %s", path, reason)
    samples = report.samples
    if not samples:
        raise DataError("No usable images were found in the training data.")
    classes = sorted({s.label for s in samples})
    if len(classes) < 2:
        raise DataError("The data has only one class; at least two are needed to train.")
    require_class_members(samples, classes, minimum=2)
    split = assign_splits(samples, tuple(config.split_fractions), config.seed)
    parts = {name: [s for s in split if s.split == name] for name in ("train", "val", "test")}
    missing = sorted(set(classes) - {s.label for s in parts["train"]})
    if missing:
        raise DataError(f"The class '{missing[0]}' has no images in the training split.")
    if not parts["val"] and not parts["test"]:
        raise DataError("The data has no validation or test images to measure the model on.")
    parts["val"] = parts["val"] or parts["test"]
    parts["test"] = parts["test"] or parts["val"]
    return PreparedData(classes, parts["train"], parts["val"], parts["test"], report.skipped)
