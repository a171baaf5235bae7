"""Failure gallery, confusion cells, reliability and metrics on hand-made predictions, and
the ``triage`` CLI end to end on a tiny model."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import accuracy_score, f1_score

from medgrad_desktop.browse.labels import Labels
from medgrad_desktop.browse.predictions import Predictions
from medgrad_desktop.browse.triage import (
    CONFIDENT_WRONG,
    UNSURE_RIGHT,
    reliability_bins,
    triage,
)
from medgrad_desktop.cli import main

CLASSES = ["nevus", "melanoma", "keratosis"]
# image: (true class, probabilities)
CASES = {
    "r1": (0, [0.95, 0.03, 0.02]),  # right, sure
    "r2": (1, [0.30, 0.40, 0.30]),  # right, unsure
    "r3": (2, [0.10, 0.35, 0.55]),  # right, fairly unsure
    "w1": (0, [0.05, 0.90, 0.05]),  # wrong, very sure
    "w2": (1, [0.50, 0.20, 0.30]),  # wrong, unsure
    "w3": (2, [0.02, 0.01, 0.97]),  # right, sure
    "w4": (1, [0.10, 0.10, 0.80]),  # wrong, sure
    "unlabelled": (None, [0.2, 0.2, 0.6]),
}


@pytest.fixture
def result():
    names = list(CASES)
    probabilities = np.array([p for _, p in CASES.values()], np.float32)
    truth = {n: t for n, (t, _) in CASES.items() if t is not None}
    return triage(Predictions(names, CLASSES, probabilities), Labels(truth, CLASSES))


def test_gallery_picks_confident_mistakes_and_unsure_successes(result):
    items = result.gallery(size=2)
    wrong = [i.name for i in items if i.group == CONFIDENT_WRONG]
    right = [i.name for i in items if i.group == UNSURE_RIGHT]
    assert wrong == ["w1", "w4"]
    assert right == ["r2", "r3"]
    first = items[0]
    assert (first.true_label, first.predicted_label) == ("nevus", "melanoma")
    assert first.confidence == pytest.approx(0.90) and first.true_probability == pytest.approx(0.05)
    full = result.gallery(size=10)
    assert [i.name for i in full if i.group == CONFIDENT_WRONG] == ["w1", "w4", "w2"]
    assert [i.name for i in full if i.group == UNSURE_RIGHT] == ["r2", "r3", "r1", "w3"]


def test_confusion_cells_list_their_images(result):
    cells = result.confusion_cells()
    assert cells == {
        (0, 0): ["r1"],
        (1, 1): ["r2"],
        (2, 2): ["w3", "r3"],
        (0, 1): ["w1"],
        (1, 0): ["w2"],
        (1, 2): ["w4"],
    }
    assert "unlabelled" not in result.names


def test_metrics_match_sklearn_and_a_hand_ece(result):
    metrics = result.metrics()
    true = [CASES[n][0] for n in result.names]
    pred = [int(np.argmax(CASES[n][1])) for n in result.names]
    assert metrics["accuracy"] == pytest.approx(accuracy_score(true, pred))
    assert metrics["macro_f1"] == pytest.approx(f1_score(true, pred, average="macro"))
    assert metrics["confusion_matrix"] == [[1, 1, 0], [1, 1, 1], [0, 0, 2]]
    # ECE by hand over 15 bins (low, high]: confidences .95 .40 .55 .90 .50 .97 .80
    conf = np.array([0.95, 0.40, 0.55, 0.90, 0.50, 0.97, 0.80])
    ok = np.array([1, 1, 1, 0, 0, 1, 0], float)
    bins = np.minimum(np.ceil(conf * 15).astype(int) - 1, 14)
    hand = sum(
        (bins == b).mean() * abs(ok[bins == b].mean() - conf[bins == b].mean())
        for b in np.unique(bins)
    )
    assert metrics["ece"] == pytest.approx(hand, abs=1e-6)


def test_reliability_bins_count_every_image_once():
    conf = np.array([0.05, 0.5, 0.5, 1.0, 0.74])
    correct = np.array([0, 1, 0, 1, 1], bool)
    bins = reliability_bins(conf, correct, bins=4)
    assert [b.count for b in bins] == [1, 2, 1, 1]
    assert [b.accuracy for b in bins] == [0.0, 0.5, 1.0, 1.0]
    assert bins[1].mean_confidence == pytest.approx(0.5)


def _folder_per_class(root, counts):
    rng = np.random.default_rng(1)
    for label, count in counts.items():
        (root / label).mkdir(parents=True)
        for index in range(count):
            pixels = rng.integers(0, 256, (48, 56, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / label / f"{index}.png")


def test_triage_cli_writes_the_report(tmp_path, tiny_model_dir, capsys):
    folder = tmp_path / "lesions"
    _folder_per_class(folder, {"melanoma": 3, "common nevus": 2, "atypical nevus": 2})
    (folder / "melanoma" / "broken.png").write_bytes(b"\x89PNG broken")
    out = tmp_path / "report"
    code = main(["triage", str(folder), "--model", str(tiny_model_dir), "--out", str(out),
                 "--gallery", "3"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["images"] == 7 and metrics["classes"][2] == "melanoma"
    assert metrics["unreadable_images"] == ["melanoma/broken.png"]
    assert 0.0 <= metrics["ece"] <= 1.0 and 0.0 <= metrics["macro_f1"] <= 1.0
    assert sum(map(sum, metrics["confusion_matrix"])) == 7
    with open(out / "gallery.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["group"] for r in rows} <= {CONFIDENT_WRONG, UNSURE_RIGHT}
    wrong = sum(1 for r in rows if r["group"] == CONFIDENT_WRONG)
    expected_wrong = min(3, 7 - round(metrics["accuracy"] * 7))
    assert wrong == expected_wrong
    with open(out / "confusion_cells.csv", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 7
    for name in ("confusion_matrix.png", "reliability.png", "gallery_high_confidence_wrong.png",
                 "gallery_low_confidence_right.png"):  # fmt: skip
        with Image.open(out / name) as image:
            assert image.width > 200
    assert "accuracy" in capsys.readouterr().out


def test_triage_cli_bad_labels_are_plain_errors(tmp_path, tiny_model_dir, capsys):
    folder = tmp_path / "flat"
    folder.mkdir()
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(folder / "a.png")
    labels = tmp_path / "labels.csv"
    labels.write_text("image,label\na.png,wart\n", encoding="utf-8")
    base = ["triage", str(folder), "--model", str(tiny_model_dir), "--out", str(tmp_path / "o")]
    assert main([*base, "--labels", str(labels)]) == 2
    assert "does not have: wart" in capsys.readouterr().err
    assert main([*base, "--labels", str(tmp_path / "missing.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(base) == 2
    assert "has no class subfolders" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
