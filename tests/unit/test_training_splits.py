"""Group-aware, stratified, seeded splits."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import pytest

from medgrad_desktop.errors import DataError
from training.data import Sample
from training.splits import assign_splits

LABELS = ("common nevus", "atypical nevus", "melanoma")


def _samples(patients_per_class: int = 20) -> list[Sample]:
    """Patients with one to three images each, all of one class."""
    rng = random.Random(1)
    samples = []
    for label in LABELS:
        for p in range(patients_per_class):
            group = f"{label[:3]}-{p}"
            for k in range(rng.choice([1, 1, 2, 3])):
                samples.append(Sample(Path(f"{group}-{k}.png"), f"{label}. x", label, group))
    return samples


def _split_of_groups(samples):
    where = defaultdict(set)
    for s in samples:
        where[s.group].add(s.split)
    return where


def test_groups_never_share_a_split():
    result = assign_splits(_samples(), seed=3)
    assert all(len(splits) == 1 for splits in _split_of_groups(result).values())
    assert {s.split for s in result} == {"train", "val", "test"}


def test_stratified_by_label():
    samples = _samples()
    result = assign_splits(samples, (0.6, 0.2, 0.2), seed=0)
    for label in LABELS:
        of_label = [s for s in result if s.label == label]
        counts = Counter(s.split for s in of_label)
        assert set(counts) == {"train", "val", "test"}
        assert abs(counts["train"] / len(of_label) - 0.6) < 0.15
        assert abs(counts["test"] / len(of_label) - 0.2) < 0.12


def test_deterministic_order_independent_and_seed_dependent():
    samples = _samples()
    first = assign_splits(samples, seed=7)
    again = assign_splits(samples, seed=7)
    shuffled = samples[:]
    random.Random(0).shuffle(shuffled)
    reordered = {s.image: s.split for s in assign_splits(shuffled, seed=7)}
    assert [s.split for s in first] == [s.split for s in again]
    assert reordered == {s.image: s.split for s in first}
    other = assign_splits(samples, seed=8)
    assert [s.split for s in other] != [s.split for s in first]
    assert all(s.split is None for s in samples)  # inputs untouched


def test_existing_complete_split_column_is_kept():
    samples = [replace(s, split=("train", "val", "test")[i % 3]) for i, s in enumerate(_samples(2))]
    by_group = {}
    for s in samples:
        by_group.setdefault(s.group, s.split)
    samples = [replace(s, split=by_group[s.group]) for s in samples]
    assert [s.split for s in assign_splits(samples)] == [s.split for s in samples]


def test_existing_split_that_leaks_a_group_is_refused():
    a = Sample(Path("a1.png"), "melanoma. x", "melanoma", "patient-1", "train")
    b = Sample(Path("a2.png"), "melanoma. x", "melanoma", "patient-1", "test")
    with pytest.raises(DataError, match="patient-1"):
        assign_splits([a, b])


def test_partial_split_column_is_reassigned():
    samples = _samples(5)
    samples[0] = replace(samples[0], split="test")
    result = assign_splits(samples, seed=0)
    assert all(s.split in ("train", "val", "test") for s in result)
    assert all(len(v) == 1 for v in _split_of_groups(result).values())


def test_class_too_small_to_stratify_is_named():
    samples = [*_samples(4), Sample(Path("x.png"), "rare. x", "rare", "only-patient")]
    with pytest.raises(DataError, match="class 'rare'"):
        assign_splits(samples)
    # Without validation and test splits one group is enough.
    assert {s.split for s in assign_splits(samples, (1.0, 0.0, 0.0))} == {"train"}


def test_empty_input():
    with pytest.raises(DataError):
        assign_splits([])
