"""Zero-shot class predictions of every image of a folder, and the browse list's sorting and
filtering by predicted class, its probability, or similarity to a prompt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from medgrad_desktop.browse.folder_embeddings import FolderEmbeddings
from medgrad_desktop.errors import PromptSetError
from medgrad_desktop.explain.prompt_sets import PromptSet
from medgrad_desktop.explain.zero_shot import class_probabilities

SORT_KEYS = ("name", "predicted class", "probability", "similarity")


@dataclass
class Predictions:
    """``probabilities`` (N, C): the zero-shot probability of each class prompt of the set
    (softmax of logit_scale · cosine over the classes only), rows in the folder's order."""

    names: list[str]
    class_labels: list[str]
    probabilities: np.ndarray

    @property
    def top(self) -> np.ndarray:
        """Index of the predicted (most probable) class of each image."""
        return self.probabilities.argmax(1)

    @property
    def confidence(self) -> np.ndarray:
        """Probability of the predicted class of each image."""
        return self.probabilities.max(1)

    def top_label(self, row: int) -> str:
        return self.class_labels[int(self.top[row])]


def zero_shot_probabilities(similarity: np.ndarray, logit_scale: float) -> np.ndarray:
    """(N, C) class probabilities from (N, C) cosine similarities to the class prompts, by the
    project's one definition (``explain.zero_shot.class_probabilities``) row by row."""
    similarity = np.asarray(similarity)
    classes = range(similarity.shape[1])
    rows = [class_probabilities(row, classes, logit_scale) for row in similarity]
    return np.stack(rows) if rows else np.zeros(similarity.shape, np.float32)


def class_text_embeddings(bundle, prompt_set: PromptSet) -> np.ndarray:
    """(C, D) ensemble embeddings of the set's class prompts."""
    if not prompt_set.classes:
        raise PromptSetError(
            f"The prompt set {prompt_set.name} has no diagnosis classes to predict."
        )
    return bundle.encode_prompts([item.texts for item in prompt_set.classes]).cpu().numpy()


def predict_classes(bundle, embeddings: FolderEmbeddings, prompt_set: PromptSet) -> Predictions:
    """Each image's zero-shot probabilities over the prompt set's classes."""
    texts = class_text_embeddings(bundle, prompt_set)
    similarity = embeddings.vectors @ texts.T
    return Predictions(
        list(embeddings.names),
        [item.label for item in prompt_set.classes],
        zero_shot_probabilities(similarity, bundle.logit_scale),
    )


def sorted_rows(
    names: Sequence[str],
    key: str = "name",
    predictions: Predictions | None = None,
    similarity: np.ndarray | None = None,
    only_class: int | None = None,
    min_probability: float = 0.0,
) -> list[int]:
    """Rows to show, in order: filtered to images predicted as ``only_class`` with at least
    ``min_probability``, sorted by ``key`` (probability and similarity best first; predicted
    class groups by class, most probable first; ties keep the folder order)."""
    if key not in SORT_KEYS:
        raise ValueError(f"unknown sort key {key!r}")
    rows = np.arange(len(names))
    if predictions is not None:
        keep = predictions.confidence >= min_probability
        if only_class is not None:
            keep &= predictions.top == only_class
        rows = rows[keep]
    elif only_class is not None or min_probability > 0:
        raise ValueError("filtering by class needs predictions")
    if key == "probability" and predictions is not None:
        rows = rows[np.argsort(-predictions.confidence[rows], kind="stable")]
    elif key == "predicted class" and predictions is not None:
        rows = rows[np.lexsort((-predictions.confidence[rows], predictions.top[rows]))]
    elif key == "similarity" and similarity is not None:
        rows = rows[np.argsort(-np.asarray(similarity)[rows], kind="stable")]
    return [int(r) for r in rows]
