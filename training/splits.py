"""Group-aware, stratified, seeded train/val/test splits.

All images of one group (patient) land in the same split, so no patient is both trained and
tested on. Augmented copies are never stored as samples: ``ClipPairDataset`` makes them on the
fly from the train split only, so they cannot cross splits either (the seed notebook's
``random_split`` over pre-augmented copies leaked test images into training).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import replace

from medgrad_desktop.errors import DataError
from training.data import SPLIT_NAMES, Sample


def _check_existing(samples: list[Sample]) -> list[Sample]:
    """Keep a complete split column, refusing one that puts a group in two splits."""
    where: dict[str, set[str]] = defaultdict(set)
    for sample in samples:
        where[sample.group].add(sample.split)
    for group, splits in where.items():
        if len(splits) > 1:
            raise DataError(
                f"The patient/group '{group}' appears in more than one split "
                f"({', '.join(sorted(splits))}); each group must stay in one split."
            )
    return list(samples)


def _group_label(samples: list[Sample]) -> str:
    """The majority label of a group (ties broken by name, for determinism)."""
    counts = Counter(s.label for s in samples)
    return min(counts, key=lambda label: (-counts[label], label))


def assign_splits(
    samples: list[Sample], fractions: tuple[float, float, float] = (0.7, 0.15, 0.15), seed: int = 0
) -> list[Sample]:
    """Return copies of ``samples`` with ``split`` set to train, val or test.

    If every sample already has a split, those are kept (after checking no group spans two
    splits). Otherwise groups are shuffled with ``seed`` and dealt per class: first one group to
    each split with a non-zero fraction, then each group to the split furthest below its target
    share of that class's images. Raises ``DataError`` naming a class that has too few groups
    to appear in every split. The result is independent of the input order.
    """
    if not samples:
        raise DataError("There are no images to split.")
    if all(s.split in SPLIT_NAMES for s in samples):
        return _check_existing(samples)
    if len(fractions) != len(SPLIT_NAMES) or any(f < 0 for f in fractions) or sum(fractions) <= 0:
        raise ValueError(f"fractions must be three non-negative numbers, got {fractions}")
    total = float(sum(fractions))
    shares = [f / total for f in fractions]
    active = [i for i, share in enumerate(shares) if share > 0]

    groups: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        groups[sample.group].append(sample)
    by_label: dict[str, list[str]] = defaultdict(list)
    for group in sorted(groups):
        by_label[_group_label(groups[group])].append(group)

    rng = random.Random(seed)
    split_of_group: dict[str, str] = {}
    for label in sorted(by_label):
        names = by_label[label]
        if len(names) < len(active):
            raise DataError(
                f"The class '{label}' has only {len(names)} patient(s)/group(s), too few to "
                f"appear in each of the {len(active)} splits; add images of this class or "
                "remove it."
            )
        rng.shuffle(names)
        n_images = sum(len(groups[g]) for g in names)
        filled = [0] * len(SPLIT_NAMES)
        for position, group in enumerate(names):
            if position < len(active):  # every split gets one group of the class first
                index = active[len(active) - 1 - position]  # smallest splits first: test, val
            else:
                index = max(active, key=lambda i: (shares[i] * n_images - filled[i], -i))
            filled[index] += len(groups[group])
            split_of_group[group] = SPLIT_NAMES[index]
    return [replace(s, split=split_of_group[s.group]) for s in samples]
