"""The samples ``evaluate`` measures: exactly a run's recorded split, or (without a run) a
fresh seeded split of a data folder."""

from __future__ import annotations

from pathlib import Path

from medgrad_desktop.errors import DataError
from training.atomic_dir import recover
from training.data import Sample, load_samples
from training.split_record import apply_recorded_splits, read_splits


def _read_config(run_dir: Path) -> dict:
    import yaml

    from training.runs import CONFIG_FILE

    try:
        loaded = yaml.safe_load((run_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataError(
            f"The folder {run_dir.name} is not a training run (its {CONFIG_FILE} cannot be read).",
            repr(exc),
        ) from exc
    if not isinstance(loaded, dict) or not loaded.get("data"):
        raise DataError(f"The settings snapshot of run {run_dir.name} is damaged.")
    return loaded


def run_samples(run_dir: Path, split: str) -> tuple[list[Sample], list[str], Path, str]:
    """(samples of ``split`` as the run recorded them, the run's classes, its model folder —
    ``best/``, else ``last/`` — and its prompt template)."""
    run_dir = Path(run_dir)
    config = _read_config(run_dir)
    rows = read_splits(run_dir)
    classes = sorted({row["label"] for row in rows})
    wanted = rows if split == "all" else [row for row in rows if row["split"] == split]
    if not wanted:
        raise DataError(f"The run {run_dir.name} has no images in its '{split}' split.")
    descriptions = config.get("descriptions")
    report = load_samples(config["data"], Path(descriptions) if descriptions else None)
    samples = apply_recorded_splits(report.samples, wanted)
    model = next(
        (recover(run_dir / k) for k in ("best", "last") if recover(run_dir / k).is_dir()), None
    )
    if model is None:
        raise DataError(f"The run {run_dir.name} has no saved model (best/ or last/).")
    return samples, classes, model, str(config.get("prompt_template") or "{label}")


def data_samples(data: str, split: str, seed: int) -> tuple[list[Sample], list[str]]:
    """(samples of ``split`` after assigning new seeded splits, the data's classes)."""
    from training.evaluate import select_split

    report = load_samples(data)
    for path, reason in report.skipped:
        print(f"skipped {path}: {reason}")
    classes = sorted({s.label for s in report.samples})
    if len(classes) < 2:
        raise DataError("The data has fewer than two classes; zero-shot accuracy needs two.")
    return select_split(report.samples, split, seed=seed), classes
