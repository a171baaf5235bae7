"""Training data: image–text samples from a manifest CSV or the seed notebook's format.

Two formats are read:

* **Manifest** — a CSV with a header and the columns ``image`` and ``text`` (required) and
  ``label``, ``group``, ``split``, ``masks`` (optional). ``image`` and ``masks`` paths are
  relative to the CSV's folder (or absolute); ``masks`` is a ``;``-joined list. A missing
  label is taken from the text, a missing group is the image's file stem.
* **Seed format** — a folder of images plus a descriptions CSV with a header row and one
  description per image, in sorted file-name order. The label is the text up to the first
  ``.`` or ``;``, lower-cased; the group is the image stem.

CSV files must be UTF-8 (a byte-order mark is accepted). Other encodings are refused with a
message naming the file rather than guessed, because a wrong guess silently corrupts the
description text the model learns from.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from medgrad_desktop.errors import DataError, ImageLoadError
from medgrad_desktop.explain.images import is_image_file, load_image

log = logging.getLogger(__name__)

SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")
_SPLIT_ALIASES = {"valid": "val", "validation": "val", "dev": "val", "training": "train"}
TEXT_HEADERS = ("description", "descriptions", "text", "caption", "captions", "report")
IMAGE_HEADERS = ("image", "image_path", "file", "filename", "path")
MANIFEST_NAME = "manifest.csv"
DESCRIPTIONS_NAME = "descriptions.csv"


@dataclass
class Sample:
    """One image–text pair."""

    image: Path
    text: str
    label: str
    group: str
    split: str | None = None
    masks: dict[str, Path] = field(default_factory=dict)


@dataclass
class LoadReport:
    """The samples that were loaded and the images that were skipped, with the reason."""

    samples: list[Sample]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    source_format: str = "manifest"  # "manifest" or "seed"


def label_from_text(text: str) -> str:
    """The class label of a description: its text up to the first ``.`` or ``;``, lower-cased."""
    return re.split(r"[.;]", text, maxsplit=1)[0].strip().lower()


def read_csv_records(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank row of a UTF-8 CSV file. Quoted fields may hold
    commas and line breaks; other encodings, NUL bytes and broken quoting are refused with a
    message naming the file (and the line)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"The file {path.name} cannot be read.", repr(exc)) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"The file {path.name} is not saved as UTF-8 text; save it as 'CSV UTF-8' and try "
            "again.",
            f"{path}: {exc}",
        ) from exc
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise DataError(
            f"Line {line} of {path.name} contains NUL bytes; the file is not plain text (was it "
            "saved by a spreadsheet in another format?)."
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records, previous = [], 0
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                records.append((previous + 1, row))
            previous = reader.line_num
    except csv.Error as exc:
        raise DataError(
            f"Line {previous + 1} of {path.name} is not valid CSV (check its double quotes).",
            f"{path}: {exc}",
        ) from exc
    return records


def read_csv_rows(path: Path) -> list[list[str]]:
    """All non-blank rows of a UTF-8 CSV file (see ``read_csv_records``)."""
    return [row for _, row in read_csv_records(path)]


def refuse_extra_columns(records: list[tuple[int, list[str]]], path: Path) -> None:
    """``DataError`` listing the lines with more cells than the header: an unquoted comma cut
    the text there (the rest would be lost silently)."""
    width = len(records[0][1])
    wide = [number for number, row in records[1:] if len(row) > width]
    if wide:
        shown = ", ".join(map(str, wide[:10])) + (
            f" and {len(wide) - 10} more" if len(wide) > 10 else ""
        )
        raise DataError(
            f"Line(s) {shown} of {path.name} have more columns than its header; a text "
            'containing a comma must be in double quotes ("like, this").',
            f"header has {width} column(s)",
        )


def _looks_like_header(cell: str) -> bool:
    """A header is a short column name, not a sentence with punctuation."""
    name = cell.strip().lower()
    if name in TEXT_HEADERS or name in IMAGE_HEADERS:
        return True
    return len(name) <= 40 and len(name.split()) <= 3 and not re.search(r"[.;,:/\\]", name)


def _require_header(rows: list[list[str]], path: Path) -> None:
    if not rows:
        raise DataError(f"The file {path.name} is empty.")
    if not _looks_like_header(rows[0][0]):
        raise DataError(
            f"The file {path.name} has no header row: its first line is already a description. "
            "Add a first line reading 'description'.",
            f"first cell: {rows[0][0][:80]!r}",
        )


def _column(header: list[str], names: Iterable[str]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _check_image(path: Path, skipped: list[tuple[Path, str]]) -> bool:
    """Whether the image can be decoded; otherwise record why it is skipped."""
    if not path.is_file():
        skipped.append((path, "The file does not exist."))
        return False
    try:
        load_image(path)
    except ImageLoadError as exc:
        skipped.append((path, exc.message))
        return False
    return True


def _finish(samples: list[Sample], skipped, source: Path, fmt: str) -> LoadReport:
    for path, reason in skipped:
        log.warning("Skipped %s: %s", path, reason)
    if not samples:
        raise DataError(
            f"None of the images in {source.name} could be read, so there is nothing to train on.",
            "; ".join(f"{p}: {r}" for p, r in skipped[:20]),
        )
    return LoadReport(samples=samples, skipped=skipped, source_format=fmt)


def _load_manifest(path: Path, check_images: bool) -> LoadReport:
    records = read_csv_records(path)
    rows = [row for _, row in records]
    _require_header(rows, path)
    refuse_extra_columns(records, path)
    header = rows[0]
    image_col = _column(header, IMAGE_HEADERS)
    text_col = _column(header, TEXT_HEADERS)
    if image_col is None or text_col is None:
        raise DataError(
            f"The file {path.name} needs the columns 'image' and 'text'.",
            f"header: {header}",
        )
    cols = {name: _column(header, [name]) for name in ("label", "group", "split", "masks")}
    if len(rows) == 1:
        raise DataError(f"The file {path.name} lists no images.")
    samples, skipped = [], []
    for number, row in records[1:]:
        row = row + [""] * (len(header) - len(row))

        def cell(name: str, row=row) -> str:
            index = cols[name]
            return row[index].strip() if index is not None else ""

        text = row[text_col].strip()
        if not text:
            raise DataError(f"Line {number} of {path.name} has no text.")
        image = (path.parent / row[image_col].strip()).resolve()
        if check_images and not _check_image(image, skipped):
            continue
        samples.append(
            Sample(
                image=image,
                text=text,
                label=cell("label").lower() or label_from_text(text),
                group=cell("group") or image.stem,
                split=_normalise_split(cell("split"), path, number),
                masks=_mask_paths(cell("masks"), path.parent, image.stem),
            )
        )
    return _finish(samples, skipped, path, "manifest")


def _normalise_split(value: str, path: Path, number: int) -> str | None:
    if not value:
        return None
    name = _SPLIT_ALIASES.get(value.lower(), value.lower())
    if name not in SPLIT_NAMES:
        raise DataError(
            f"Line {number} of {path.name} has the split '{value}'; use train, val or test."
        )
    return name


def _mask_paths(value: str, root: Path, image_stem: str) -> dict[str, Path]:
    """Parse ``a.png;b.png`` into {structure: path}; the structure is the stem after the image's."""
    masks: dict[str, Path] = {}
    for item in filter(None, (part.strip() for part in value.split(";"))):
        mask = (root / item).resolve()
        stem = mask.stem
        name = stem[len(image_stem) + 1 :] if stem.startswith(image_stem + "_") else stem
        if not mask.is_file():
            log.warning("Mask %s listed in the manifest does not exist; ignored.", mask)
            continue
        masks[name] = mask
    return masks


def _find_descriptions(folder: Path) -> Path:
    for candidate in (folder / DESCRIPTIONS_NAME, folder.parent / DESCRIPTIONS_NAME):
        if candidate.is_file():
            return candidate
    csvs = sorted(p for p in folder.glob("*.csv") if p.name != MANIFEST_NAME)
    if len(csvs) == 1:
        return csvs[0]
    if not csvs:
        raise DataError(
            f"The folder {folder.name} has no descriptions file; add descriptions.csv or choose "
            "the file."
        )
    raise DataError(
        f"The folder {folder.name} has several CSV files; choose the descriptions file.",
        ", ".join(p.name for p in csvs),
    )


def _load_seed_format(folder: Path, descriptions: Path | None, check_images: bool) -> LoadReport:
    images = sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p))
    if not images and (folder / "images").is_dir():
        folder = folder / "images"
        images = sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p))
    if not images:
        raise DataError(f"The folder {folder.name} contains no images.")
    descriptions = descriptions or _find_descriptions(folder)
    records = read_csv_records(descriptions)
    rows = [row for _, row in records]
    _require_header(rows, descriptions)
    refuse_extra_columns(records, descriptions)
    text_col = _column(rows[0], TEXT_HEADERS) or 0
    texts = [row[text_col].strip() if text_col < len(row) else "" for row in rows[1:]]
    lines = [number for number, _ in records[1:]]
    if len(texts) != len(images):
        hint = " (is the header row missing?)" if len(texts) + 1 == len(images) else ""
        raise DataError(
            f"The folder has {len(images)} images but {descriptions.name} has {len(texts)} "
            f"descriptions; each image needs exactly one description, in file-name order{hint}."
        )
    samples, skipped = [], []
    for number, image, text in zip(lines, images, texts, strict=True):
        if not text:
            raise DataError(f"Line {number} of {descriptions.name} has no description.")
        if check_images and not _check_image(image, skipped):
            continue
        samples.append(Sample(image.resolve(), text, label_from_text(text), image.stem))
    return _finish(samples, skipped, folder, "seed")


def load_samples(
    source: str | Path, descriptions: Path | None = None, *, check_images: bool = True
) -> LoadReport:
    """Load image–text samples from a manifest CSV, a folder holding ``manifest.csv``, or a
    folder of images with a descriptions CSV (``descriptions``, else ``descriptions.csv`` in the
    folder or its parent, else the folder's only CSV).

    Unreadable or missing images are skipped and listed in ``LoadReport.skipped``; an empty
    folder, a count mismatch, a CSV without header or not in UTF-8 raise ``DataError``.
    ``check_images=False`` skips decoding every image up front (faster, errors come later).
    """
    path = Path(source)
    if descriptions is not None:
        descriptions = Path(descriptions)
        if not descriptions.is_file():
            raise DataError(f"The descriptions file {descriptions.name} does not exist.")
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise DataError(f"{path.name} is not a CSV file or a folder of images.")
        return _load_manifest(path, check_images)
    if not path.is_dir():
        raise DataError(f"The folder {path.name} does not exist.")
    if descriptions is None and (path / MANIFEST_NAME).is_file():
        return _load_manifest(path / MANIFEST_NAME, check_images)
    return _load_seed_format(path, descriptions, check_images)


def require_class_members(samples: list[Sample], classes: Iterable[str], minimum: int = 2) -> None:
    """Raise ``DataError`` naming the first class with fewer than ``minimum`` samples."""
    counts = Counter(s.label for s in samples)
    for name in classes:
        if counts[name] < minimum:
            raise DataError(
                f"The class '{name}' has {counts[name]} image(s); at least {minimum} are needed "
                "to train and evaluate it."
            )
