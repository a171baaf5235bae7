"""Run folders and data preparation for ``fit``.

A run folder ``<out>/<YYYYmmdd-HHMMSS>-<name>/`` holds ``config.yaml`` (the settings
snapshot), ``events.jsonl``, ``history.json``, ``metrics.json``, plots, ``best/`` and
``last/`` (Hugging Face CLIP folders). ``last/training_state.pt`` holds what ``--resume`` needs:
optimiser, scheduler, step, best score, history and (LoRA) the adapter weights.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from medgrad_desktop.errors import DataError
from training.atomic_dir import recover
from training.config import TrainConfig
from training.data import Sample, load_samples, require_class_members
from training.split_record import apply_recorded_splits, file_hash, refuse_cross_split_duplicates
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
    if path.is_dir():
        recover(path / "last")  # a kill between the two renames of a save
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


VALIDATION_HOLDOUT = 0.15
"""Share of the training groups held out for model selection when there is no validation split."""


@dataclass
class PreparedData:
    """Samples per split, the class names (sorted), skipped images and content hashes."""

    classes: list[str]
    train: list[Sample]
    val: list[Sample]
    test: list[Sample]
    skipped: list[tuple[Path, str]]
    hashes: dict[Path, str] = field(default_factory=dict)

    def all_samples(self) -> list[Sample]:
        """Every sample once (the test list is the validation list when there is no test)."""
        return self.train + self.val + (self.test if self.test is not self.val else [])


def hold_out_validation(train: list[Sample], seed: int) -> tuple[list[Sample], list[Sample]]:
    """Split a slice of the training groups off as the validation split (stratified by class
    when every class has two groups, else any groups), so the test split never picks the
    best checkpoint."""
    fresh = [replace(s, split=None) for s in train]
    try:
        dealt = assign_splits(fresh, (1 - VALIDATION_HOLDOUT, VALIDATION_HOLDOUT, 0.0), seed)
    except DataError:
        groups = sorted({s.group for s in fresh})
        if len(groups) < 2:
            raise DataError(
                "There is no validation split and too few patients/groups to hold some out for "
                "choosing the best model; add images or a 'split' column."
            ) from None
        random.Random(seed).shuffle(groups)
        held = set(groups[: max(1, round(VALIDATION_HOLDOUT * len(groups)))])
        dealt = [replace(s, split="val" if s.group in held else "train") for s in fresh]
    log.info(
        "No validation split: %d training images held out for model selection.",
        sum(s.split == "val" for s in dealt),
    )
    return [s for s in dealt if s.split == "train"], [s for s in dealt if s.split == "val"]


def prepare_data(config: TrainConfig, recorded: list[dict] | None = None) -> PreparedData:
    """Load samples, check classes, split by group (seeded; or the ``recorded`` splits of a
    run being resumed), hold out validation images when there is no validation split, refuse
    identical images in two splits, and report skipped images."""
    if not config.data:
        raise DataError("No training data was given; use --data or 'data:' in the settings.")
    report = load_samples(config.data, Path(config.descriptions) if config.descriptions else None)
    for path, reason in report.skipped:
        log.warning("Skipped %s: %s", path, reason)
    samples = report.samples
    if not samples:
        raise DataError("No usable images were found in the training data.")
    if recorded is not None:
        samples = apply_recorded_splits(samples, recorded)
    classes = sorted({s.label for s in samples})
    if len(classes) < 2:
        raise DataError("The data has only one class; at least two are needed to train.")
    require_class_members(samples, classes, minimum=2)
    split = (
        samples
        if recorded is not None
        else assign_splits(samples, tuple(config.split_fractions), config.seed)
    )
    parts = {name: [s for s in split if s.split == name] for name in ("train", "val", "test")}
    hashes = {s.image: file_hash(s.image) for s in split}
    refuse_cross_split_duplicates(split, hashes)
    if not parts["val"]:
        parts["train"], parts["val"] = hold_out_validation(parts["train"], config.seed)
        refuse_cross_split_duplicates(parts["train"] + parts["val"] + parts["test"], hashes)
    missing = sorted(set(classes) - {s.label for s in parts["train"]})
    if missing:
        raise DataError(f"The class '{missing[0]}' has no images in the training split.")
    if not parts["test"]:
        log.warning("No test split: the final metrics are measured on the validation split.")
    parts["test"] = parts["test"] or parts["val"]
    return PreparedData(
        classes, parts["train"], parts["val"], parts["test"], report.skipped, hashes
    )
