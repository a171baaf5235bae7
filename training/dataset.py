"""Torch dataset of (pixels, text, label index) pairs, class-balanced sampling, soft targets.

Images are preprocessed as ``medgrad_desktop.explain`` does: the whole image, RGB, resized
(not cropped) to S×S with bicubic interpolation, then normalised with the model's mean/std.
Decoded, resized uint8 images are cached in memory. Augmentation (``training.augment``) and
clause shuffling happen only with ``train=True``.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, WeightedRandomSampler

from medgrad_desktop.errors import DataError
from medgrad_desktop.explain.images import load_image, resize_whole
from training.augment import augment_image, shuffle_clauses
from training.data import Sample


class ClipPairDataset(Dataset):
    """Items ``(pixel_values (3, S, S) float32 normalised, text, label_index)``.

    With ``train=True`` every access draws a fresh augmentation and clause order, seeded by
    ``(seed, epoch, index, visit, worker)`` so runs are reproducible; call ``set_epoch`` each
    epoch when the DataLoader uses worker processes. Call ``warm_cache()`` before creating
    workers so they inherit the decoded images.
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        classes: Sequence[str],
        image_size: int,
        mean: Sequence[float],
        std: Sequence[float],
        train: bool,
        seed: int = 0,
    ) -> None:
        self.samples = list(samples)
        self.classes = list(classes)
        unknown = sorted({s.label for s in self.samples} - set(self.classes))
        if unknown:
            raise DataError(
                f"The label '{unknown[0]}' is not one of the classes ({', '.join(self.classes)})."
            )
        self.label_indices = [self.classes.index(s.label) for s in self.samples]
        self.image_size = int(image_size)
        self.mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
        self.train = train
        self.seed = int(seed)
        self.epoch = 0
        self._cache: dict[int, np.ndarray] = {}
        self._visits: Counter[int] = Counter()

    def __len__(self) -> int:
        return len(self.samples)

    def set_epoch(self, epoch: int) -> None:
        """Make the augmentations of each epoch differ (also across worker processes)."""
        self.epoch = int(epoch)

    def warm_cache(self) -> None:
        """Decode and resize every image now (raises ``ImageLoadError`` for a broken one)."""
        for index in range(len(self)):
            self.resized_image(index)

    def resized_image(self, index: int) -> np.ndarray:
        """The cached (S, S, 3) uint8 image of sample ``index``."""
        cached = self._cache.get(index)
        if cached is None:
            cached = resize_whole(load_image(self.samples[index].image), self.image_size)
            self._cache[index] = cached
        return cached

    def _item_seed(self, index: int) -> int:
        worker = torch.utils.data.get_worker_info()
        parts = (self.seed, self.epoch, index, self._visits[index], worker.id if worker else -1)
        self._visits[index] += 1
        digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") >> 1

    def __getitem__(self, index: int) -> tuple[torch.Tensor, str, int]:
        pixels = torch.from_numpy(self.resized_image(index).copy()).permute(2, 0, 1)
        pixels = pixels.to(torch.float32) / 255.0
        text = self.samples[index].text
        if self.train:
            item_seed = self._item_seed(index)
            pixels = augment_image(pixels, torch.Generator().manual_seed(item_seed))
            text = shuffle_clauses(text, random.Random(item_seed))
        return (pixels - self.mean) / self.std, text, self.label_indices[index]


def class_balanced_sampler(
    label_indices: Sequence[int], num_samples: int | None = None, seed: int = 0
) -> WeightedRandomSampler:
    """Sample with replacement so every class is drawn equally often on average."""
    labels = [int(i) for i in label_indices]
    if not labels:
        raise DataError("There are no training images to sample from.")
    counts = Counter(labels)
    weights = torch.tensor([1.0 / counts[i] for i in labels], dtype=torch.double)
    return WeightedRandomSampler(
        weights,
        num_samples=num_samples or len(labels),
        replacement=True,
        generator=torch.Generator().manual_seed(int(seed)),
    )


def label_aware_targets(label_indices: torch.Tensor) -> torch.Tensor:
    """(B, B) float targets: row i spreads 1 evenly over the items sharing i's label.

    Symmetric for symmetric label equality, so the same matrix serves image→text and
    text→image in a symmetric InfoNCE with soft targets.
    """
    labels = torch.as_tensor(label_indices).reshape(-1)
    same = (labels[:, None] == labels[None, :]).to(torch.float32)
    return same / same.sum(dim=1, keepdim=True)
