"""``evaluate-maps`` end to end on a tiny model: data layouts, outputs, resume, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from medgrad_desktop.cli import main
from medgrad_desktop.errors import DataError
from medgrad_desktop.explain.evaluation.datasets import load_mask_dataset
from medgrad_desktop.explain.evaluation.runner import read_records

METRIC_KEYS = {"deletion_auc", "insertion_auc", "pointing_game", "energy_pointing_game"}
METRIC_KEYS |= {"jaccard_topk", "auroc"}


@pytest.fixture(scope="module")
def synthetic_set(tmp_path_factory):
    from training.synthetic import write_dataset

    return write_dataset(tmp_path_factory.mktemp("synth") / "set", 3, seed=4242, size=64)


def _isic_folder(root):
    rng = np.random.default_rng(0)
    images, truth = root / "ISIC2018_Task1-2_Training_Input", root / "ISIC2018_Task2_GroundTruth"
    images.mkdir(parents=True)
    truth.mkdir()
    for index, present in ((1, ("globules",)), (2, ())):
        key = f"ISIC_000000{index}"
        Image.fromarray(rng.integers(0, 256, (50, 60, 3), dtype=np.uint8)).save(
            images / f"{key}.jpg"
        )
        for attribute in ("globules", "streaks", "pigment_network"):
            mask = np.zeros((50, 60), dtype=np.uint8)
            if attribute in present:
                mask[10:30, 20:40] = 255
            Image.fromarray(mask).save(truth / f"{key}_attribute_{attribute}.png")
    return root


def test_isic_layout_pairs_images_with_masks_and_mapping_is_editable(tmp_path):
    root = _isic_folder(tmp_path / "isic")
    mapping = tmp_path / "prompts.yaml"
    mapping.write_text("globules: brown globules\nstreaks: null\n", encoding="utf-8")
    dataset = load_mask_dataset(root, mapping)
    assert dataset.layout == "ISIC 2018 Task 2"
    assert [item.key for item in dataset.images] == ["ISIC_0000001", "ISIC_0000002"]
    assert set(dataset.images[0].masks) == {"globules", "pigment_network"}
    assert dataset.prompts["globules"] == "brown globules" and "streaks" not in dataset.prompts
    assert dataset.unmapped_attributes == ["streaks"]
    with pytest.raises(DataError):
        load_mask_dataset(tmp_path / "missing")


def test_synthetic_manifest_gives_structure_prompts(synthetic_set):
    dataset = load_mask_dataset(synthetic_set)
    assert dataset.layout == "synthetic manifest" and len(dataset.images) == 3
    assert "lesion" in dataset.unmapped_attributes
    for item in dataset.images:
        assert item.masks and all(name in dataset.prompts for name in item.masks)
    assert dataset.prompts["atypical_pigment_network"] == "atypical pigment network"


def test_evaluate_maps_writes_metrics_report_and_resumes(tiny_model_dir, synthetic_set, tmp_path):
    out = tmp_path / "out"
    args = ["evaluate-maps", "--model", str(tiny_model_dir), "--data", str(synthetic_set)]
    args += ["--out", str(out), "--steps", "4", "--radius", "5,3", "--sanity-images", "1"]
    args += ["--methods", "gradcam", "medgrad", "legrad"]
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["n_images"] == 3 and metrics["radius"] == 5.0
    assert {"model_id", "variant", "geometry"} <= set(metrics)
    for name in ("gradcam", "medgrad", "legrad", "random", "centre"):
        assert set(metrics[name]) >= METRIC_KEYS
        for summary in metrics[name].values():
            assert set(summary) == {"mean", "ci_low", "ci_high", "n"}
        assert metrics[name]["pointing_game"]["n"] == 3
        low, mean, high = (metrics[name]["insertion_auc"][k] for k in ("ci_low", "mean", "ci_high"))
        assert low <= mean <= high
    assert "gradeclip" not in metrics
    assert set(metrics["radius_sweep"]) == {"5", "3"}
    assert metrics["sanity"]["stages"][0] == "projection" and metrics["sanity"]["n_images"] == 1
    assert "medgrad - random" in metrics["paired_differences"]
    records = read_records(out / "per_image.jsonl")
    assert len(records) == 3
    case = records[0]["cases"][0]
    assert len(case["scores"]["legrad"]["deletion"]) == 5
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.count("<svg") >= 4 and "LeGrad" in report and "Research use only" in report

    # a run cut short mid-line resumes: the broken line is dropped and that image redone
    lines = (out / "per_image.jsonl").read_text(encoding="utf-8").splitlines()
    (out / "per_image.jsonl").write_text(
        "\n".join(lines[:2]) + "\n" + lines[2][:40], encoding="utf-8"
    )
    (out / "metrics.json").unlink()
    assert main(args) == 0
    assert [r["key"] for r in read_records(out / "per_image.jsonl")] == [r["key"] for r in records]
    again = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert again["legrad"] == metrics["legrad"]

    # other settings in the same folder are refused with a plain message
    changed = [a if a != "4" else "6" for a in args]
    assert main(changed) == 2


def test_empty_masks_are_skipped_and_counted(tiny_model_dir, tmp_path, capsys):
    root = _isic_folder(tmp_path / "isic")
    out = tmp_path / "out"
    args = ["evaluate-maps", "--model", str(tiny_model_dir), "--data", str(root), "--out", str(out)]
    options = ["--steps", "2", "--methods", "gradeclip", "--sanity-images", "0"]
    assert main([*args, *options, "--geometry", "aspect", "--variant", "zhao2024"]) == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["n_images"] == 1 and metrics["n_masks"] == 1
    assert metrics["empty_masks_skipped"] == 5
    assert metrics["geometry"] == "aspect" and metrics["variant"] == "zhao2024"
    assert main(["evaluate-maps", "--data", str(tmp_path / "nothing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_geometry_encoder_equals_the_model_encoder_on_square_input(tiny_model_dir):
    import torch

    from medgrad_desktop.explain import load_model
    from medgrad_desktop.explain.evaluation.deletion import image_encoder

    bundle = load_model(tiny_model_dir)
    images = list(np.random.default_rng(2).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8))
    torch.testing.assert_close(
        image_encoder(bundle, "aspect")(images), bundle.encode_image(images), atol=1e-5, rtol=0
    )
