"""``splits.csv``: which image went to which split in a training run, so evaluation can use
exactly the run's test images later (adding images to the folder changes nothing), and
identical images cannot sit in two splits.

Columns: ``image`` (absolute path), ``content_hash`` (BLAKE2b of the file's bytes), ``label``,
``group``, ``split``.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import replace
from pathlib import Path

from medgrad_desktop.errors import DataError
from training.data import Sample

SPLITS_FILE = "splits.csv"
COLUMNS = ("image", "content_hash", "label", "group", "split")


def file_hash(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def refuse_cross_split_duplicates(samples: list[Sample], hashes: dict[Path, str]) -> None:
    """``DataError`` naming two files with identical content that are in different splits
    (training on one and testing on its copy would inflate the test score)."""
    first: dict[str, Sample] = {}
    for sample in samples:
        key = hashes[sample.image]
        seen = first.setdefault(key, sample)
        if seen.split != sample.split:
            raise DataError(
                f"The images {seen.image.name} ({seen.split}) and {sample.image.name} "
                f"({sample.split}) are identical but in different splits; remove the copy or "
                "give both the same group.",
                f"{seen.image} == {sample.image}",
            )


def write_splits(run_dir: Path, samples: list[Sample], hashes: dict[Path, str]) -> Path:
    path = Path(run_dir) / SPLITS_FILE
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for s in samples:
            writer.writerow([str(s.image), hashes[s.image], s.label, s.group, s.split])
    return path


def read_splits(run_dir: Path) -> list[dict[str, str]]:
    """The rows of a run's ``splits.csv``; ``DataError`` when it is missing or damaged."""
    path = Path(run_dir) / SPLITS_FILE
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError as exc:
        raise DataError(
            f"The run {Path(run_dir).name} has no {SPLITS_FILE}, so its splits are unknown "
            "(it was trained by an older version); evaluate it with --model and --data.",
            str(path),
        ) from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"The file {SPLITS_FILE} of the run is damaged.", repr(exc)) from exc
    if not rows or set(COLUMNS) - set(rows[0]):
        raise DataError(f"The file {SPLITS_FILE} of the run is damaged.", str(path))
    return rows


def apply_recorded_splits(samples: list[Sample], rows: list[dict[str, str]]) -> list[Sample]:
    """The recorded images with their recorded split (and label/group), found in ``samples``
    by path; refuses a recorded image that is missing or whose content changed. Images not
    in the record (added later) are left out."""
    by_path = {str(s.image): s for s in samples}
    chosen = []
    for row in rows:
        sample = by_path.get(row["image"])
        if sample is None or not Path(row["image"]).is_file():
            raise DataError(
                f"The image {Path(row['image']).name} of the run's {row['split']} split is no "
                "longer in the data, so that split cannot be used as it was.",
                row["image"],
            )
        if file_hash(sample.image) != row["content_hash"]:
            raise DataError(
                f"The image {sample.image.name} has changed since the run was trained, so the "
                "run's splits no longer describe the data.",
                row["image"],
            )
        chosen.append(replace(sample, split=row["split"], label=row["label"], group=row["group"]))
    return chosen
