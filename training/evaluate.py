"""Evaluate a CLIP model on held-out image–text pairs and write ``metrics.json``.

Zero-shot classification compares each image with one prompt per class: the class name put
into ``prompt_template`` (default ``"{label}"``, i.e. the bare class name such as
``"melanoma"``, as the app's prompt sets use). ``metrics.json`` holds exactly the keys of
:data:`METRIC_KEYS`; per-class values are ``{class: value}`` and the confusion matrix is
``{"labels": [...], "matrix": [[...]]}`` (rows true, columns predicted).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from medgrad_desktop.errors import DataError
from training.data import Sample
from training.dataset import ClipPairDataset
from training.families import image_text_features
from training.metrics import (
    bidirectional_retrieval,
    clip_score,
    in_batch_accuracy,
    zero_shot_metrics,
)

log = logging.getLogger(__name__)

METRIC_KEYS = (
    "zero_shot_accuracy",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "sensitivity",
    "specificity",
    "ece",
    "confusion_matrix",
    "retrieval",
    "clip_score",
    "in_batch_accuracy",
)


def class_prompts(classes: Sequence[str], template: str = "{label}") -> list[str]:
    """The zero-shot prompt of each class."""
    return [template.format(label=name) for name in classes]


@torch.no_grad()
def embed_pairs(
    bundle, samples: Sequence[Sample], classes: Sequence[str], batch_size: int = 64, autocast=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image embeddings, text embeddings, label indices) of ``samples``, L2-normalised.

    ``autocast``: optional context-manager factory (bf16 on CUDA during training).
    """
    import contextlib

    dataset = ClipPairDataset(
        samples, classes, bundle.image_size, bundle.image_mean, bundle.image_std, train=False
    )
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    images, texts, labels = [], [], []
    model = bundle.model
    for pixels, text, label in loader:
        with autocast() if autocast else contextlib.nullcontext():
            tokens = bundle.tokenize(list(text))
            image, text_embeds = image_text_features(
                model, pixels.to(bundle.device), tokens["input_ids"], tokens["attention_mask"]
            )
        images.append(torch.nn.functional.normalize(image.float(), dim=-1).cpu())
        texts.append(torch.nn.functional.normalize(text_embeds.float(), dim=-1).cpu())
        labels.append(label)
    return torch.cat(images).numpy(), torch.cat(texts).numpy(), torch.cat(labels).numpy()


def compute_metrics(
    bundle,
    samples: Sequence[Sample],
    classes: Sequence[str],
    template: str = "{label}",
    batch_size: int = 64,
    autocast=None,
) -> dict:
    """All metrics of ``bundle`` on ``samples`` (the ``METRIC_KEYS`` dict)."""
    if not samples:
        raise DataError("There are no images to evaluate.")
    image, text, labels = embed_pairs(bundle, samples, classes, batch_size, autocast)
    class_embeds = bundle.encode_prompts(class_prompts(classes, template)).cpu().numpy()
    return metrics_from_embeddings(
        image,
        text,
        labels,
        [s.text for s in samples],
        class_embeds,
        bundle.logit_scale,
        classes,
        batch_size,
    )


def metrics_from_embeddings(
    image,
    text,
    labels,
    texts: Sequence[str],
    class_embeds,
    logit_scale: float,
    classes: Sequence[str],
    batch_size: int,
) -> dict:
    """The ``METRIC_KEYS`` dict from L2-normalised pair and class-prompt embeddings."""
    zero_shot = zero_shot_metrics(image, class_embeds, labels, logit_scale)
    names = list(classes)
    return {
        "zero_shot_accuracy": zero_shot["accuracy"],
        "macro_precision": zero_shot["macro_precision"],
        "macro_recall": zero_shot["macro_recall"],
        "macro_f1": zero_shot["macro_f1"],
        "sensitivity": dict(zip(names, map(float, zero_shot["sensitivity"]), strict=True)),
        "specificity": dict(zip(names, map(float, zero_shot["specificity"]), strict=True)),
        "ece": zero_shot["ece"],
        "confusion_matrix": {"labels": names, "matrix": zero_shot["confusion_matrix"].tolist()},
        "retrieval": bidirectional_retrieval(image, text, list(texts)),
        "clip_score": clip_score(image, text),
        "in_batch_accuracy": in_batch_accuracy(image, text, batch_size),
    }


def format_table(metrics: dict) -> str:
    """A plain-text table of the metrics for the terminal."""
    lines = [f"{'zero-shot accuracy':<34}{metrics['zero_shot_accuracy']:.4f}"]
    for key in ("macro_precision", "macro_recall", "macro_f1", "ece", "clip_score"):
        lines.append(f"{key.replace('_', ' '):<34}{metrics[key]:.4f}")
    lines.append(f"{'in-batch retrieval acc. (seed)':<34}{metrics['in_batch_accuracy']:.4f}")
    lines.append(f"{'class':<24}{'sensitivity':>12}{'specificity':>12}")
    for name, value in metrics["sensitivity"].items():
        lines.append(f"{name:<24}{value:>12.4f}{metrics['specificity'][name]:>12.4f}")
    lines.append(f"{'retrieval':<10}{'R@1':>8}{'R@5':>8}{'R@10':>8}{'med.rank':>10}{'nDCG@10':>9}")
    for way in ("i2t", "t2i"):
        r = metrics["retrieval"][way]
        lines.append(
            f"{way:<10}{r['r1']:>8.3f}{r['r5']:>8.3f}{r['r10']:>8.3f}"
            f"{r['median_rank']:>10.1f}{r['ndcg10']:>9.3f}"
        )
    labels = metrics["confusion_matrix"]["labels"]
    lines.append("confusion matrix (rows true, columns predicted): " + ", ".join(labels))
    lines += [
        "  " + " ".join(f"{n:>6d}" for n in row) for row in metrics["confusion_matrix"]["matrix"]
    ]
    return "\n".join(lines)


def write_metrics(metrics: dict, folder: str | Path, **about) -> Path:
    """Write ``metrics.json`` into ``folder`` (created if needed): the ``METRIC_KEYS``, then
    what was measured (``about``, e.g. ``n_images`` and ``split``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "metrics.json"
    record = {**{key: metrics[key] for key in METRIC_KEYS}, **about}
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def select_split(
    samples: list[Sample], split: str, seed: int = 0, fractions: Sequence[float] = (0.7, 0.15, 0.15)
) -> list[Sample]:
    """The samples of ``split`` ("all" keeps every sample); splits are assigned (seeded) when
    the data has none, as ``fit`` does with the same seed."""
    from training.splits import assign_splits

    if split == "all":
        return list(samples)
    chosen = [s for s in assign_splits(samples, tuple(fractions), seed) if s.split == split]
    if not chosen:
        raise DataError(f"The data has no images in the '{split}' split.")
    return chosen
