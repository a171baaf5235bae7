"""Augmentation in torch, clause shuffling, and the dataset that applies them to train only."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from medgrad_desktop.errors import DataError
from medgrad_desktop.explain.images import resize_whole
from training.augment import (
    augment_image,
    colour_jitter,
    random_resized_crop,
    rotate,
    shift_hue,
    shuffle_clauses,
)
from training.data import Sample
from training.dataset import (
    ClipPairDataset,
    class_balanced_sampler,
    label_aware_targets,
)

TEXT = "melanoma. asymmetry in two axes; atypical pigment network; blue-whitish veil present."
MEAN, STD = (0.48, 0.46, 0.41), (0.27, 0.26, 0.28)
CLASSES = ["common nevus", "melanoma"]


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _image(seed: int = 0, size: int = 32) -> torch.Tensor:
    return torch.rand((3, size, size), generator=_gen(seed))


def test_augment_keeps_shape_and_range_and_follows_the_generator():
    img = _image()
    out = augment_image(img, _gen(1))
    assert out.shape == img.shape and out.dtype == img.dtype
    assert out.min() >= 0 and out.max() <= 1
    assert torch.equal(out, augment_image(img, _gen(1)))
    assert not torch.allclose(out, augment_image(img, _gen(2)))
    assert torch.equal(img, _image())  # input untouched
    with pytest.raises(ValueError):
        augment_image(img[:1], _gen(0))


def test_rotation_is_exact_for_zero_and_quarter_turns():
    img = _image(size=16)
    assert torch.allclose(rotate(img, 0.0), img, atol=1e-6)
    quarter = rotate(img, 90.0)
    assert any(torch.allclose(quarter, torch.rot90(img, k, (1, 2)), atol=1e-5) for k in (1, -1))
    non_square = torch.rand(3, 12, 20, generator=_gen(3))
    assert rotate(non_square, 33.0).shape == (3, 12, 20)


def test_crop_with_full_scale_is_identity_and_partial_crop_zooms():
    img = _image()
    assert torch.allclose(random_resized_crop(img, _gen(0), (1.0, 1.0), (1.0, 1.0)), img)
    assert not torch.allclose(random_resized_crop(img, _gen(0), (0.5, 0.5), (1.0, 1.0)), img)


def test_hue_and_colour_jitter():
    img = _image()
    assert torch.allclose(shift_hue(img, 0.0), img, atol=1e-5)
    assert torch.allclose(shift_hue(img, 1.0), img, atol=1e-5)
    red = torch.zeros(3, 2, 2)
    red[0] = 1.0
    assert torch.allclose(shift_hue(red, 1 / 3)[1], torch.ones(2, 2), atol=1e-5)  # red → green
    jittered = colour_jitter(img, _gen(4))
    assert jittered.shape == img.shape and jittered.min() >= 0 and jittered.max() <= 1
    assert not torch.allclose(jittered, img)


def test_shuffle_clauses_keeps_label_and_clauses():
    rng = random.Random(0)
    results = {shuffle_clauses(TEXT, rng) for _ in range(20)}
    assert len(results) > 1
    for text in results:
        assert text.startswith("melanoma. ") and text.endswith(".")
        clauses = text[len("melanoma. ") : -1].split("; ")
        assert sorted(clauses) == sorted(TEXT[len("melanoma. ") : -1].split("; "))
    assert shuffle_clauses(TEXT, random.Random(5)) == shuffle_clauses(TEXT, random.Random(5))
    assert shuffle_clauses("melanoma. one clause.", rng) == "melanoma. one clause."
    assert shuffle_clauses("no label at all", rng) == "no label at all"
    assert sorted(shuffle_clauses("nevus; a; b; c", random.Random(1))[7:].split("; ")) == [
        "a",
        "b",
        "c",
    ]


def _samples(tmp_path: Path, labels=("common nevus", "melanoma", "melanoma")) -> list[Sample]:
    samples = []
    for i, label in enumerate(labels):
        array = np.random.default_rng(i).integers(0, 256, (20, 28, 3), dtype=np.uint8)
        Image.fromarray(array).save(tmp_path / f"{i}.png")
        samples.append(Sample(tmp_path / f"{i}.png", TEXT, label, f"g{i}"))
    return samples


def test_eval_dataset_resizes_whole_image_and_never_augments(tmp_path):
    samples = _samples(tmp_path)
    data = ClipPairDataset(samples, CLASSES, 16, MEAN, STD, train=False)
    pixels, text, label = data[1]
    assert pixels.shape == (3, 16, 16) and pixels.dtype == torch.float32
    assert text == TEXT and label == 1 and len(data) == 3
    expected = resize_whole(np.asarray(Image.open(samples[1].image)), 16)
    expected = torch.from_numpy(expected).permute(2, 0, 1).float() / 255
    expected = (expected - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)
    assert torch.allclose(pixels, expected, atol=1e-6)
    assert torch.equal(data[1][0], pixels)  # the same on every access


def test_train_dataset_augments_each_access_reproducibly(tmp_path):
    samples = _samples(tmp_path)
    eval_pixels = ClipPairDataset(samples, CLASSES, 16, MEAN, STD, train=False)[0][0]
    first = ClipPairDataset(samples, CLASSES, 16, MEAN, STD, train=True, seed=3)
    second = ClipPairDataset(samples, CLASSES, 16, MEAN, STD, train=True, seed=3)
    a1, a2 = first[0][0], first[0][0]
    assert a1.shape == eval_pixels.shape
    assert not torch.allclose(a1, eval_pixels) and not torch.allclose(a1, a2)
    assert torch.equal(second[0][0], a1)
    texts = {first[2][1] for _ in range(12)}
    assert len(texts) > 1 and all(t.startswith("melanoma. ") for t in texts)
    first.set_epoch(1)
    assert not torch.allclose(first[1][0], second[1][0])


def test_dataset_caches_decoded_images_and_rejects_unknown_labels(tmp_path):
    samples = _samples(tmp_path)
    data = ClipPairDataset(samples, CLASSES, 8, MEAN, STD, train=False)
    data.warm_cache()
    samples[0].image.unlink()
    assert data[0][0].shape == (3, 8, 8)  # served from memory
    with pytest.raises(DataError, match="'melanoma' is not one of the classes"):
        ClipPairDataset(samples, ["common nevus"], 8, MEAN, STD, train=False)


def test_class_balanced_sampler_balances_and_is_seeded():
    labels = [0] * 90 + [1] * 10
    sampler = class_balanced_sampler(labels, num_samples=4000, seed=1)
    drawn = list(sampler)
    counts = Counter(labels[i] for i in drawn)
    assert len(drawn) == 4000 and abs(counts[1] / 4000 - 0.5) < 0.05
    assert drawn == list(class_balanced_sampler(labels, num_samples=4000, seed=1))
    assert len(list(class_balanced_sampler(labels))) == 100
    with pytest.raises(DataError):
        class_balanced_sampler([])


def test_label_aware_targets():
    targets = label_aware_targets(torch.tensor([0, 1, 0, 2]))
    expected = torch.tensor(
        [[0.5, 0, 0.5, 0], [0, 1, 0, 0], [0.5, 0, 0.5, 0], [0, 0, 0, 1]], dtype=torch.float32
    )
    assert torch.equal(targets, expected)
    assert torch.equal(targets, targets.T)
    assert torch.equal(label_aware_targets(torch.tensor([0, 1, 2])), torch.eye(3))
