"""Evaluation metrics of a CLIP model on held-out image–text pairs (numpy, no torch).

Classification (zero-shot: each image against one prompt per class): accuracy, macro
precision/recall/F1 (scikit-learn's definitions, 0 where undefined), per-class sensitivity
and specificity, confusion matrix (rows true, columns predicted), expected calibration error.
Retrieval, both ways, where the relevant items of a query are those with the same text (so
identical captions of different images are not counted as misses): R@1/5/10, median rank of
the first relevant item, nDCG@10 with binary relevance. ``clip_score``: mean cosine of the
matched pairs. ``in_batch_accuracy``: the seed notebook's "accuracy" — image→text top-1
within consecutive batches — reported under its real name, not as classification accuracy.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from medgrad_desktop.explain.zero_shot import class_probabilities

RANKS = (1, 5, 10)


def confusion_matrix(true: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes): row = true class, column = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true, int), np.asarray(pred, int)), 1)
    return matrix


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, float), np.asarray(den, float)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def classification_metrics(true, pred, n_classes: int) -> dict:
    """Accuracy, macro precision/recall/F1, per-class sensitivity/specificity, confusion."""
    matrix = confusion_matrix(true, pred, n_classes)
    tp = np.diag(matrix).astype(float)
    fp = matrix.sum(0) - tp
    fn = matrix.sum(1) - tp
    tn = matrix.sum() - tp - fp - fn
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * precision * recall, precision + recall)
    present = (matrix.sum(1) + matrix.sum(0)) > 0  # sklearn averages over labels that occur
    return {
        "accuracy": float(tp.sum() / max(matrix.sum(), 1)),
        "macro_precision": float(precision[present].mean()) if present.any() else 0.0,
        "macro_recall": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "sensitivity": recall,
        "specificity": _ratio(tn, tn + fp),
        "confusion_matrix": matrix,
    }


def expected_calibration_error(probabilities: np.ndarray, true, bins: int = 15) -> float:
    """ECE of the top-1 confidence over ``bins`` equal-width bins in (0, 1]."""
    probabilities = np.asarray(probabilities, float)
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == np.asarray(true, int)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


def zero_shot_metrics(image_embeds, class_embeds, true, logit_scale: float) -> dict:
    """Zero-shot classification metrics and probabilities from L2-normalised embeddings (the
    probabilities are the viewer's: ``zero_shot.class_probabilities`` of each image's row)."""
    similarity = np.asarray(image_embeds) @ np.asarray(class_embeds).T
    classes = range(similarity.shape[1])
    probabilities = np.stack([class_probabilities(row, classes, logit_scale) for row in similarity])
    result = classification_metrics(true, probabilities.argmax(1), probabilities.shape[1])
    result["ece"] = expected_calibration_error(probabilities, true)
    result["probabilities"] = probabilities
    return result


def retrieval_metrics(similarity: np.ndarray, relevant: np.ndarray) -> dict:
    """R@1/5/10, median rank and nDCG@10 of queries (rows) over items (columns).

    ``relevant[i, j]``: item j is a correct answer to query i (every row needs one).
    """
    similarity = np.asarray(similarity, float)
    relevant = np.asarray(relevant, bool)
    order = np.argsort(-similarity, axis=1, kind="stable")
    hits = np.take_along_axis(relevant, order, axis=1)
    if not hits.any(1).all():
        raise ValueError("every query needs at least one relevant item")
    first_rank = hits.argmax(1) + 1
    depth = min(10, hits.shape[1])
    gains = 1.0 / np.log2(np.arange(2, depth + 2))
    dcg = (hits[:, :depth] * gains).sum(1)
    ideal = np.array([gains[: min(int(n), depth)].sum() for n in relevant.sum(1)])
    result = {f"r{k}": float((first_rank <= k).mean()) for k in RANKS}
    result["median_rank"] = float(np.median(first_rank))
    result["ndcg10"] = float((dcg / ideal).mean())
    return result


def same_text_relevance(texts: Sequence[str]) -> np.ndarray:
    """(N, N) bool: pair i's text equals pair j's text."""
    codes = {text: index for index, text in enumerate(dict.fromkeys(texts))}
    ids = np.array([codes[text] for text in texts])
    return ids[:, None] == ids[None, :]


def bidirectional_retrieval(image_embeds, text_embeds, texts: Sequence[str]) -> dict:
    """``{"i2t": {...}, "t2i": {...}}`` for matched pairs (row i of each is one pair)."""
    similarity = np.asarray(image_embeds) @ np.asarray(text_embeds).T
    relevant = same_text_relevance(texts)
    return {
        "i2t": retrieval_metrics(similarity, relevant),
        "t2i": retrieval_metrics(similarity.T, relevant.T),
    }


def clip_score(image_embeds, text_embeds) -> float:
    """Mean cosine similarity of matched image–text pairs (embeddings L2-normalised)."""
    return float((np.asarray(image_embeds) * np.asarray(text_embeds)).sum(1).mean())


def in_batch_accuracy(image_embeds, text_embeds, batch_size: int) -> float:
    """The seed's metric: share of images whose own text is the top-1 among the texts of
    their batch (consecutive chunks of ``batch_size``). This is in-batch retrieval, not
    classification accuracy."""
    image_embeds, text_embeds = np.asarray(image_embeds), np.asarray(text_embeds)
    correct = total = 0
    for start in range(0, len(image_embeds), batch_size):
        sim = image_embeds[start : start + batch_size] @ text_embeds[start : start + batch_size].T
        correct += int((sim.argmax(1) == np.arange(len(sim))).sum())
        total += len(sim)
    return correct / max(total, 1)
