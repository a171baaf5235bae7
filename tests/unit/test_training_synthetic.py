"""Synthetic dermoscopy: determinism, masks, class-structure rules, dataset writing, CLI."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from medgrad_desktop.errors import DataError
from training.cli import main
from training.data import load_samples
from training.synthetic import (
    CLASSES,
    STRUCTURE_PHRASES,
    STRUCTURES,
    generate_case,
    write_dataset,
)

SIZE = 64
CASES = [generate_case(seed, SIZE) for seed in range(24)]


def test_same_seed_same_case_and_other_seed_differs():
    a, b = generate_case(7, SIZE), generate_case(7, SIZE)
    assert np.array_equal(a.image, b.image)
    assert a.text == b.text and a.label == b.label
    assert a.masks.keys() == b.masks.keys()
    assert all(np.array_equal(a.masks[k], b.masks[k]) for k in a.masks)
    assert not np.array_equal(a.image, generate_case(8, SIZE).image)


def test_image_format_and_size_parameter():
    case = generate_case(3, 96)
    assert case.image.dtype == np.uint8 and case.image.shape == (96, 96, 3)
    assert all(m.dtype == bool and m.shape == (96, 96) for m in case.masks.values())
    assert generate_case(3).image.shape == (224, 224, 3)


def test_all_classes_occur_and_label_can_be_forced():
    assert {c.label for c in CASES} == set(CLASSES)
    assert generate_case(1, SIZE, label="melanoma").label == "melanoma"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_masks_present_non_empty_and_inside_the_field_of_view(case):
    assert set(case.masks) == {"lesion", *case.structures}
    assert case.structures and set(case.structures) <= set(STRUCTURES)
    fov = case.field_of_view
    for name, mask in case.masks.items():
        assert mask.any(), name
        assert not (mask & ~fov).any(), name
        if name != "irregular_streaks":
            assert not (mask & ~case.masks["lesion"]).any(), name
    corners = case.image[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert corners.max() < 20  # the dermoscope's black corners


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_class_structure_rules(case):
    present = set(case.structures)
    melanoma_only = {"irregular_streaks", "blue_whitish_veil", "regression_structures"}
    if case.label == "common nevus":
        assert "typical_pigment_network" in present
        assert not present & (melanoma_only | {"atypical_pigment_network"})
        assert case.asymmetry == "none" and len(case.colours) == 1
    elif case.label == "atypical nevus":
        assert present & {"atypical_pigment_network", "irregular_dots_globules"}
        assert not present & (melanoma_only | {"typical_pigment_network"})
        assert case.asymmetry == "one axis" and case.colours == ["light brown", "dark brown"]
    else:
        assert present & {"irregular_streaks", "blue_whitish_veil"}
        assert "typical_pigment_network" not in present
        assert case.asymmetry == "two axes" and len(case.colours) >= 3


@pytest.mark.parametrize("case", CASES[:9], ids=lambda c: c.label)
def test_description_names_what_was_drawn(case):
    head, _, body = case.text.partition(". ")
    assert head == case.label and case.text.endswith(".")
    clauses = body.rstrip(".").split("; ")
    assert clauses[0].startswith(("no asymmetry", "asymmetry in"))
    assert clauses[-1] == "colours: " + ", ".join(case.colours)
    assert clauses[1:-1] == [STRUCTURE_PHRASES[s] for s in case.structures]


def test_structure_masks_match_the_painted_pixels():
    veils = [c for c in CASES if "blue_whitish_veil" in c.masks]
    networks = [c for c in CASES if "typical_pigment_network" in c.masks]
    assert veils and networks
    for case in veils:
        pixels = case.image[case.masks["blue_whitish_veil"]].astype(float).mean(0)
        assert pixels[2] > pixels[0]  # bluish, unlike skin and brown lesion
    for case in networks:
        lesion_only = case.masks["lesion"] & ~case.masks["typical_pigment_network"]
        line = case.image[case.masks["typical_pigment_network"]].mean()
        assert line < case.image[lesion_only].mean()  # network lines are darker


def test_write_dataset_layout_and_both_formats_load(tmp_path):
    out = write_dataset(tmp_path / "synth", n=12, seed=3, size=48)
    images = sorted((out / "images").iterdir())
    assert [p.name for p in images][:2] == ["synth_00000.png", "synth_00001.png"]
    assert len(images) == 12
    assert Image.open(images[0]).size == (48, 48)
    with open(out / "descriptions.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["description"] and len(rows) == 13
    with open(out / "manifest.csv", encoding="utf-8") as handle:
        manifest = list(csv.DictReader(handle))
    assert list(manifest[0]) == ["image", "text", "label", "group", "split", "masks"]
    assert [row[0] for row in rows[1:]] == [r["text"] for r in manifest]
    for row in manifest:
        masks = row["masks"].split(";")
        assert f"masks/{row['image'][7:-4]}_lesion.png" in masks
        assert all((out / m).is_file() for m in masks)
    assert {r["split"] for r in manifest} == {"train", "val", "test"}
    assert {r["label"] for r in manifest} == set(CLASSES)

    from_manifest = load_samples(out)
    seed_format = load_samples(out / "images", descriptions=out / "descriptions.csv")
    assert [s.text for s in from_manifest.samples] == [s.text for s in seed_format.samples]
    assert [s.label for s in from_manifest.samples] == [s.label for s in seed_format.samples]
    first = from_manifest.samples[0]
    mask = np.asarray(Image.open(first.masks["lesion"])) > 0
    assert mask.any() and set(first.masks) >= {"lesion"}


def test_write_dataset_is_deterministic_and_has_two_image_patients(tmp_path):
    a = write_dataset(tmp_path / "a", n=24, seed=5, size=32)
    b = write_dataset(tmp_path / "b", n=24, seed=5, size=32)
    assert (a / "manifest.csv").read_text() == (b / "manifest.csv").read_text()
    assert (a / "images/synth_00017.png").read_bytes() == (
        b / "images/synth_00017.png"
    ).read_bytes()
    groups = [s.group for s in load_samples(a).samples]
    assert len(set(groups)) < len(groups)


def test_write_dataset_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "old.txt").write_text("keep me")
    with pytest.raises(DataError, match="not empty"):
        write_dataset(tmp_path, n=2, seed=0, size=32)
    assert (tmp_path / "old.txt").read_text() == "keep me"


def test_cli_synth_writes_and_refuses_existing_folder(tmp_path, capsys):
    out = tmp_path / "cli"
    args = ["synth", "--out", str(out), "--n", "3", "--seed", "1", "--size", "32"]
    assert main(args) == 0
    assert len(list((out / "images").iterdir())) == 3
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not empty" in err[0]
