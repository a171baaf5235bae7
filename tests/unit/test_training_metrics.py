"""Training metrics against scikit-learn and hand-computed values on fixed predictions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from training.evaluate import METRIC_KEYS, metrics_from_embeddings
from training.metrics import (
    bidirectional_retrieval,
    classification_metrics,
    clip_score,
    expected_calibration_error,
    in_batch_accuracy,
    retrieval_metrics,
    same_text_relevance,
    zero_shot_metrics,
)

TRUE = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 3])
PRED = np.array([0, 1, 0, 1, 1, 2, 1, 2, 0, 3, 1, 3])


def test_classification_matches_sklearn():
    result = classification_metrics(TRUE, PRED, 4)
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        TRUE, PRED, average="macro", zero_division=0
    )
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(TRUE, PRED))
    assert result["macro_precision"] == pytest.approx(precision)
    assert result["macro_recall"] == pytest.approx(recall)
    assert result["macro_f1"] == pytest.approx(f1)
    matrix = skm.confusion_matrix(TRUE, PRED, labels=range(4))
    np.testing.assert_array_equal(result["confusion_matrix"], matrix)
    np.testing.assert_allclose(result["sensitivity"], skm.recall_score(TRUE, PRED, average=None))
    for k in range(4):  # specificity = recall of "not k"
        expected = skm.recall_score(k != TRUE, k != PRED)
        assert result["specificity"][k] == pytest.approx(expected)


def test_class_never_predicted_nor_present_is_left_out_like_sklearn():
    true, pred = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
    result = classification_metrics(true, pred, 3)  # class 2 absent everywhere
    precision, recall, f1, _ = skm.precision_recall_fscore_support(true, pred, average="macro")
    assert (result["macro_precision"], result["macro_recall"], result["macro_f1"]) == (
        pytest.approx(precision),
        pytest.approx(recall),
        pytest.approx(f1),
    )


def test_ece_by_hand():
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    true = np.array([0, 1, 1, 1])
    # bins (0.8667, 0.9333]: conf 0.9 correct; (0.5333, 0.6]: 0.6 wrong; (0.6667, 0.7333]: 0.7
    # correct; (0.7333, 0.8]: 0.8 correct → |1-0.9| + |0-0.6| + |1-0.7| + |1-0.8| over 4
    expected = (0.1 + 0.6 + 0.3 + 0.2) / 4
    assert expected_calibration_error(probabilities, true) == pytest.approx(expected)


def test_zero_shot_uses_scaled_cosines():
    image = np.eye(3)[[0, 1, 2, 2]]
    classes = np.eye(3)
    result = zero_shot_metrics(image, classes, np.array([0, 1, 2, 1]), logit_scale=10.0)
    assert result["accuracy"] == pytest.approx(0.75)
    assert result["probabilities"][0, 0] == pytest.approx(np.exp(10) / (np.exp(10) + 2))


def test_retrieval_ranks_and_ndcg_match_sklearn():
    rng = np.random.default_rng(0)
    similarity = rng.normal(size=(20, 20))
    relevant = np.eye(20, dtype=bool)
    result = retrieval_metrics(similarity, relevant)
    ranks = (similarity > np.diag(similarity)[:, None]).sum(1) + 1
    for k in (1, 5, 10):
        assert result[f"r{k}"] == pytest.approx((ranks <= k).mean())
    assert result["median_rank"] == pytest.approx(np.median(ranks))
    assert result["ndcg10"] == pytest.approx(skm.ndcg_score(relevant, similarity, k=10))


def test_identical_captions_count_as_relevant():
    texts = ["a", "a", "b"]
    relevance = same_text_relevance(texts)
    assert relevance.tolist() == [[True, True, False], [True, True, False], [False, False, True]]
    image = np.eye(3)[[1, 1, 2]]  # image 0 matches text 1 best: same caption, so a hit
    result = bidirectional_retrieval(image, np.eye(3), texts)
    assert result["i2t"]["r1"] == 1.0


def test_clip_score_and_in_batch_accuracy():
    image = np.eye(4)
    text = np.eye(4)[[0, 1, 3, 2]]
    assert clip_score(image, text) == pytest.approx(0.5)
    assert in_batch_accuracy(image, text, batch_size=4) == pytest.approx(0.5)
    assert in_batch_accuracy(image, text, batch_size=1) == 1.0  # trivially right, as in the seed


def test_metrics_dict_has_exactly_the_issue_keys():
    rng = np.random.default_rng(1)
    image = rng.normal(size=(6, 4))
    image /= np.linalg.norm(image, axis=1, keepdims=True)
    result = metrics_from_embeddings(
        image,
        image,
        np.array([0, 1, 0, 1, 0, 1]),
        [f"t{i}" for i in range(6)],
        image[:2],
        10.0,
        ["a", "b"],
        3,
    )
    assert tuple(result) == METRIC_KEYS
    assert set(result["retrieval"]) == {"i2t", "t2i"}
    assert set(result["retrieval"]["i2t"]) == {"r1", "r5", "r10", "median_rank", "ndcg10"}
    assert set(result["sensitivity"]) == {"a", "b"}
