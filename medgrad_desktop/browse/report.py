"""Files of a triage run: the gallery as CSV and contact-sheet PNGs, the confusion matrix
(PNG, and a CSV listing each cell's images), the reliability diagram and metrics.json."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.browse.triage import (
    CONFIDENT_WRONG,
    UNSURE_RIGHT,
    GalleryItem,
    Triage,
    reliability_bins,
)
from medgrad_desktop.errors import ImageLoadError
from medgrad_desktop.explain.images import load_image
from training.plots import _figure, plot_confusion

log = logging.getLogger(__name__)

TILE = 160
CAPTION_LINES = 3
COLUMNS = 6


def _font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans from matplotlib (it has every glyph of our captions), at ``size`` px."""
    from matplotlib import font_manager

    return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)


def _tile(path: Path) -> Image.Image:
    try:
        rgb = load_image(path, max_side=TILE)
    except ImageLoadError as error:
        log.warning("Gallery tile %s: %s", path, error.message)
        return Image.new("RGB", (TILE, TILE), (200, 200, 200))
    image = Image.fromarray(rgb)
    canvas = Image.new("RGB", (TILE, TILE), (255, 255, 255))
    canvas.paste(image, ((TILE - image.width) // 2, (TILE - image.height) // 2))
    return canvas


def contact_sheet(
    folder: Path, names: Sequence[str], captions: Sequence[str], title: str, path: Path
) -> Path:
    """A grid PNG of ``names`` (each with its caption lines) under ``title``."""
    font = _font(11)
    line = 15
    cell_h = TILE + CAPTION_LINES * line + 8
    rows = max(1, -(-len(names) // COLUMNS))
    width = COLUMNS * (TILE + 8) + 8
    sheet = Image.new("RGB", (width, 40 + rows * cell_h + 24), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    draw.text((8, 10), title, fill=(0, 0, 0), font=_font(15))
    if not names:
        draw.text((8, 44), "No images in this group.", fill=(80, 80, 80), font=font)
    for index, (name, caption) in enumerate(zip(names, captions, strict=True)):
        x = 8 + (index % COLUMNS) * (TILE + 8)
        y = 40 + (index // COLUMNS) * cell_h
        sheet.paste(_tile(folder / name), (x, y))
        for number, text in enumerate(caption.splitlines()[:CAPTION_LINES]):
            draw.text((x, y + TILE + 2 + number * line), text[:26], fill=(0, 0, 0), font=font)
    draw.text((8, sheet.height - 20), RESEARCH_NOTICE, fill=(150, 0, 0), font=font)
    sheet.save(path)
    return path


def _caption(item: GalleryItem) -> str:
    return (
        f"{Path(item.name).name}\ntrue: {item.true_label}\n"
        f"model: {item.predicted_label} {item.confidence:.2f}"
    )


def write_gallery(triage: Triage, folder: Path, out: Path, size: int) -> list[Path]:
    items = triage.gallery(size)
    csv_path = out / "gallery.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["group", "image", "true", "predicted", "confidence", "true_probability"])
        for item in items:
            writer.writerow(
                [
                    item.group,
                    item.name,
                    item.true_label,
                    item.predicted_label,
                    f"{item.confidence:.6f}",
                    f"{item.true_probability:.6f}",
                ]
            )
    paths = [csv_path]
    for group, file_name in (
        (CONFIDENT_WRONG, "gallery_high_confidence_wrong.png"),
        (UNSURE_RIGHT, "gallery_low_confidence_right.png"),
    ):
        chosen = [item for item in items if item.group == group]
        title = f"{group[0].upper()}{group[1:]} ({len(chosen)} shown)"
        paths.append(
            contact_sheet(
                folder,
                [i.name for i in chosen],
                [_caption(i) for i in chosen],
                title,
                out / file_name,
            )
        )
    return paths


def write_confusion(triage: Triage, metrics: dict, out: Path) -> list[Path]:
    figure_input = {
        "confusion_matrix": {"labels": triage.class_labels, "matrix": metrics["confusion_matrix"]},
        "zero_shot_accuracy": metrics["accuracy"],
    }
    title = f"{len(triage.names)} labelled images, accuracy {metrics['accuracy']:.3f}"
    png = plot_confusion(figure_input, out / "confusion_matrix.png", title=title)
    cells_path = out / "confusion_cells.csv"
    with open(cells_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["true", "predicted", "image"])
        for (true, predicted), names in sorted(triage.confusion_cells().items()):
            for name in names:
                writer.writerow([triage.class_labels[true], triage.class_labels[predicted], name])
    return [png, cells_path]


def plot_reliability(triage: Triage, ece: float, path: Path) -> Path:
    plt = _figure()
    bins = reliability_bins(triage.confidence, triage.correct)
    fig, ax = plt.subplots(figsize=(5, 5))
    centres = [(b.low + b.high) / 2 for b in bins]
    width = bins[0].high - bins[0].low
    ax.bar(centres, [b.accuracy for b in bins], width=width * 0.95, edgecolor="k", label="accuracy")
    filled = [b for b in bins if b.count]
    ax.plot(
        [b.mean_confidence for b in filled],
        [b.accuracy for b in filled],
        "o",
        color="C1",
        label="bin mean confidence",
    )
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence of the predicted class")
    ax.set_ylabel("share correct")
    ax.set_title(f"Reliability (ECE {ece:.3f}, {len(triage.names)} images)")
    ax.legend(loc="upper left")
    fig.text(0.01, 0.01, RESEARCH_NOTICE, fontsize=7, color="darkred")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_triage_report(
    triage: Triage, folder: Path, out: Path, gallery_size: int, extra: dict | None = None
) -> tuple[dict, list[Path]]:
    """Write every file of the report into ``out``; returns the metrics and the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metrics = {**triage.metrics(), **(extra or {}), "research_use_only": RESEARCH_NOTICE}
    paths = write_gallery(triage, Path(folder), out, gallery_size)
    paths += write_confusion(triage, metrics, out)
    paths.append(plot_reliability(triage, metrics["ece"], out / "reliability.png"))
    metrics_path = out / "metrics.json"
    metrics_path.write_text(json.dumps(metrics, indent=2, default=_plain), encoding="utf-8")
    return metrics, [*paths, metrics_path]


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value).__name__)
