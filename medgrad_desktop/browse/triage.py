"""Predictions against the truth: confusion matrix whose cells list their images, the failure
gallery (confident mistakes, unsure successes) and the reliability diagram with its ECE."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from medgrad_desktop.browse.labels import Labels
from medgrad_desktop.browse.predictions import Predictions
from training.metrics import classification_metrics, expected_calibration_error

ECE_BINS = 15
GALLERY_SIZE = 24
CONFIDENT_WRONG = "high-confidence wrong"
UNSURE_RIGHT = "low-confidence right"


@dataclass
class GalleryItem:
    group: str
    name: str
    true_label: str
    predicted_label: str
    confidence: float
    true_probability: float


@dataclass
class Triage(Predictions):
    """The labelled images' predictions (``names``, ``probabilities`` (N, C) over
    ``class_labels``) with their true class indices ``true``."""

    true: np.ndarray

    @property
    def predicted(self) -> np.ndarray:
        return self.top

    @property
    def correct(self) -> np.ndarray:
        return self.predicted == self.true

    def confusion_cells(self) -> dict[tuple[int, int], list[str]]:
        """(true, predicted) → the images in that cell, most confident first."""
        cells: dict[tuple[int, int], list[str]] = {}
        for row in np.argsort(-self.confidence, kind="stable"):
            cell = (int(self.true[row]), int(self.predicted[row]))
            cells.setdefault(cell, []).append(self.names[row])
        return cells

    def metrics(self) -> dict:
        """Accuracy, macro-F1 (and precision/recall), per-class sensitivity and specificity,
        the confusion matrix (rows true, columns predicted) and the ECE."""
        result = classification_metrics(self.true, self.predicted, len(self.class_labels))
        ece = expected_calibration_error(self.probabilities, self.true, bins=ECE_BINS)
        return {
            "images": len(self.names),
            "accuracy": result["accuracy"],
            "macro_f1": result["macro_f1"],
            "macro_precision": result["macro_precision"],
            "macro_recall": result["macro_recall"],
            "ece": ece,
            "ece_bins": ECE_BINS,
            "classes": list(self.class_labels),
            "sensitivity": self._per_class(result["sensitivity"]),
            "specificity": self._per_class(result["specificity"]),
            "confusion_matrix": result["confusion_matrix"].tolist(),
        }

    def _per_class(self, values) -> dict[str, float]:
        return {label: float(v) for label, v in zip(self.class_labels, values, strict=True)}

    def _item(self, group: str, row: int) -> GalleryItem:
        return GalleryItem(
            group,
            self.names[row],
            self.class_labels[int(self.true[row])],
            self.class_labels[int(self.predicted[row])],
            float(self.confidence[row]),
            float(self.probabilities[row, int(self.true[row])]),
        )

    def gallery(self, size: int = GALLERY_SIZE) -> list[GalleryItem]:
        """Up to ``size`` wrong predictions, most confident first, then up to ``size``
        right ones, least confident first (ties keep the folder order)."""
        wrong = np.flatnonzero(~self.correct)
        right = np.flatnonzero(self.correct)
        wrong = wrong[np.argsort(-self.confidence[wrong], kind="stable")][:size]
        right = right[np.argsort(self.confidence[right], kind="stable")][:size]
        return [self._item(CONFIDENT_WRONG, r) for r in wrong] + [
            self._item(UNSURE_RIGHT, r) for r in right
        ]


def triage(predictions: Predictions, labels: Labels) -> Triage:
    """The labelled images' predictions (both must use the same prompt set's classes)."""
    if predictions.class_labels != labels.class_labels:
        raise ValueError("predictions and labels use different class lists")
    rows = [i for i, name in enumerate(predictions.names) if name in labels.truth]
    return Triage(
        names=[predictions.names[i] for i in rows],
        class_labels=list(labels.class_labels),
        probabilities=predictions.probabilities[rows],
        true=np.array([labels.truth[predictions.names[i]] for i in rows], dtype=np.int64),
    )


@dataclass
class ReliabilityBin:
    low: float
    high: float
    count: int
    accuracy: float
    mean_confidence: float


def reliability_bins(confidence, correct, bins: int = ECE_BINS) -> list[ReliabilityBin]:
    """Equal-width confidence bins (low, high] as the ECE uses them; empty bins included."""
    confidence = np.asarray(confidence, float)
    correct = np.asarray(correct, bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    result = []
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        count = int(inside.sum())
        result.append(
            ReliabilityBin(
                float(low),
                float(high),
                count,
                float(correct[inside].mean()) if count else 0.0,
                float(confidence[inside].mean()) if count else 0.0,
            )
        )
    return result
