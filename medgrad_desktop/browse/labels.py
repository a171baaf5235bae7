"""True labels of a folder's images, read from a manifest CSV (``image,label``), an ISIC
ground-truth CSV (``image`` then one-hot class columns such as ``MEL,NV,BCC,…``), or the
folder-per-class layout; every label is matched to a class prompt of the prompt set."""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from medgrad_desktop.errors import DataError
from medgrad_desktop.explain.prompt_sets import PromptSet

log = logging.getLogger(__name__)

MAX_LABEL_FILE_BYTES = 50 * 1024 * 1024
ISIC_CODES = {
    "MEL": "melanoma",
    "NV": "melanocytic nevus",
    "BCC": "basal cell carcinoma",
    "AKIEC": "actinic keratosis / intraepithelial carcinoma",
    "AK": "actinic keratosis / intraepithelial carcinoma",
    "BKL": "benign keratosis",
    "DF": "dermatofibroma",
    "VASC": "vascular lesion",
    "SCC": "squamous cell carcinoma",
}
"""ISIC ground-truth column → diagnosis, matched to the prompt set's class labels."""
IMAGE_COLUMNS = ("image", "image_id", "image_name", "file", "filename", "path")
LABEL_COLUMNS = ("label", "class", "diagnosis", "dx")


@dataclass
class Labels:
    """``truth`` maps image names (relative to the folder) to class indices of the prompt
    set's classes (``class_labels``); ``warnings`` are plain sentences about left-out rows."""

    truth: dict[str, int]
    class_labels: list[str]
    warnings: list[str] = field(default_factory=list)


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).strip().lower().replace("_", " "))


def _class_lookup(prompt_set: PromptSet) -> dict[str, int]:
    """Normalised class label, synonym and ISIC code → class index."""
    lookup: dict[str, int] = {}
    for index, item in enumerate(prompt_set.classes):
        for text in (*item.texts, item.label):
            lookup[_key(text)] = index
    for code, diagnosis in ISIC_CODES.items():
        if _key(diagnosis) in lookup:
            lookup.setdefault(_key(code), lookup[_key(diagnosis)])
    return lookup


def _examples(items, limit: int = 3) -> str:
    items = sorted(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        if path.stat().st_size > MAX_LABEL_FILE_BYTES:
            raise DataError(f"The label file {path.name} is too large to be a label list.")
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"The label file {path.name} is not UTF-8 text.", repr(error)) from error
    except OSError as error:
        raise DataError(f"The label file {path.name} cannot be read.", repr(error)) from error
    if not text.strip():
        raise DataError(f"The label file {path.name} is empty.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]
    header = [cell.strip() for cell in rows[0]]
    return header, rows[1:]


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.lower() for h in header]
    return next((lowered.index(n) for n in names if n in lowered), None)


def _isic_label(row: list[str], codes: list[str], line: int, source: str) -> str:
    try:
        values = [float(cell) for cell in row[1 : 1 + len(codes)]]
    except ValueError as error:
        raise DataError(f"Line {line} of {source} has a value that is not 0 or 1.") from error
    if len(values) != len(codes) or sorted(values) != [0.0] * (len(codes) - 1) + [1.0]:
        raise DataError(
            f"Line {line} of {source} does not mark exactly one diagnosis with 1.",
            repr(row),
        )
    return codes[values.index(1.0)]


def read_label_csv(path: Path) -> dict[str, str]:
    """Image → label text from a manifest CSV or an ISIC ground-truth CSV."""
    path = Path(path)
    header, rows = _read_rows(path)
    image_col = _column(header, IMAGE_COLUMNS)
    label_col = _column(header, LABEL_COLUMNS)
    codes = header[1:]
    is_isic = (
        image_col == 0
        and label_col is None
        and codes
        and all(c.upper() in ISIC_CODES for c in codes)
    )
    if image_col is None or (label_col is None and not is_isic):
        raise DataError(
            f"The label file {path.name} needs a header row with the columns 'image' and "
            "'label' (or an ISIC ground-truth header such as image,MEL,NV,BCC,…).",
            f"header: {header}",
        )
    labels: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        if is_isic:
            label = _isic_label(row, codes, line, path.name)
        elif len(row) <= max(image_col, label_col):
            raise DataError(f"Line {line} of {path.name} has too few columns.", repr(row))
        else:
            label = row[label_col].strip()
        image = row[image_col].strip()
        if not image or not label:
            raise DataError(f"Line {line} of {path.name} has no image name or no label.")
        if labels.get(image, label) != label:
            raise DataError(
                f"The image {image} has two different labels in {path.name} "
                f"({labels[image]} and {label})."
            )
        labels[image] = label
    if not labels:
        raise DataError(f"The label file {path.name} lists no images.")
    return labels


def folder_class_labels(names: list[str]) -> dict[str, str]:
    """Folder-per-class: ``class/image.png`` → ``class`` (images at the top level: none)."""
    return {name: PurePosixPath(name).parts[0] for name in names if "/" in name}


def _name_index(names: list[str]) -> dict[str, str]:
    """Ways a label file may name an image (relative path, file name, name without the
    extension, as ISIC ids do) → the image's name; ambiguous short forms are dropped."""
    index: dict[str, str] = {}
    ambiguous: set[str] = set()
    for name in names:
        pure = PurePosixPath(name)
        for form in {pure.name, pure.stem}:
            if form in index and index[form] != name:
                ambiguous.add(form)
            index.setdefault(form, name)
    for form in ambiguous:
        del index[form]
    index.update({name: name for name in names})
    return index


def match_labels(
    raw: dict[str, str], names: list[str], prompt_set: PromptSet, source: str
) -> Labels:
    """Match label texts to the prompt set's classes and image names to the folder's images.

    Unknown classes and a label list that names none of the images are errors; labelled
    images missing from the folder and images without a label are left out with a warning."""
    lookup = _class_lookup(prompt_set)
    class_labels = [item.label for item in prompt_set.classes]
    if not class_labels:
        raise DataError(f"The prompt set {prompt_set.name} has no diagnosis classes.")
    unknown = {label for label in raw.values() if _key(label) not in lookup}
    if unknown:
        raise DataError(
            f"{source} uses {len(unknown)} class name(s) that the prompt set "
            f"'{prompt_set.name}' does not have: {_examples(unknown)}. Its classes are: "
            f"{', '.join(class_labels)}."
        )
    index = _name_index(names)
    truth: dict[str, int] = {}
    missing = []
    for image, label in raw.items():
        clean = image.replace("\\", "/").removeprefix("./")
        name = index.get(clean) or index.get(PurePosixPath(clean).name)
        if name is None:
            missing.append(image)
        else:
            truth[name] = lookup[_key(label)]
    if not truth:
        raise DataError(
            f"None of the {len(raw)} images named in {source} is in this folder "
            f"(for example {_examples(raw)})."
        )
    warnings = []
    if missing:
        warnings.append(
            f"{len(missing)} image(s) named in {source} are not in the folder or cannot be "
            f"read and are left out: {_examples(missing)}."
        )
    unlabelled = [name for name in names if name not in truth]
    if unlabelled:
        warnings.append(
            f"{len(unlabelled)} image(s) in the folder have no label and are left out: "
            f"{_examples(unlabelled)}."
        )
    for warning in warnings:
        log.warning(warning)
    return Labels(truth, class_labels, warnings)


def load_labels(
    source: Path | None, folder: Path, names: list[str], prompt_set: PromptSet
) -> Labels:
    """Labels from a CSV file, or from class subfolders when ``source`` is a folder or None."""
    if source is None or Path(source).is_dir():
        raw = folder_class_labels(names)
        if not raw:
            raise DataError(
                f"The folder {Path(folder).name} has no class subfolders; give a label file "
                "(a CSV with the columns image and label)."
            )
        return match_labels(raw, names, prompt_set, "the class folders")
    source = Path(source)
    if not source.is_file():
        raise DataError(f"The label file {source} does not exist.")
    return match_labels(read_label_csv(source), names, prompt_set, source.name)
