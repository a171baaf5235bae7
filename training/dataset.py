"""Torch dataset of (pixels, text, label index) pairs, class-balanced sampling across
processes, soft targets.

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
from torch.utils.data import Dataset, Sampler, WeightedRandomSampler

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


def class_weights(label_indices: Sequence[int]) -> torch.Tensor:
    """Per-sample weights 1 / (count of its class): every class is drawn equally often."""
    labels = [int(i) for i in label_indices]
    if not labels:
        raise DataError("There are no training images to sample from.")
    counts = Counter(labels)
    return torch.tensor([1.0 / counts[i] for i in labels], dtype=torch.double)


def class_balanced_sampler(
    label_indices: Sequence[int], num_samples: int | None = None, seed: int = 0
) -> WeightedRandomSampler:
    """Sample with replacement so every class is drawn equally often on average."""
    weights = class_weights(label_indices)
    return WeightedRandomSampler(
        weights,
        num_samples=num_samples or len(weights),
        replacement=True,
        generator=torch.Generator().manual_seed(int(seed)),
    )


class GlobalBatchSampler(Sampler[int]):
    """One process's share of an epoch that is drawn the same on every process.

    The epoch order (class-balanced with replacement, or a permutation) is drawn from
    ``seed * 1000 + epoch`` and cut into global batches of ``world_size × batch_size``; process
    ``rank`` takes the ``rank``-th block of each. The processes' batches of a step, in rank
    order, are exactly the batch one process takes with batch ``world_size × batch_size``, so
    the class balance and the global batches do not depend on the number of processes.
    """

    def __init__(
        self,
        label_indices: Sequence[int],
        batch_size: int,
        world_size: int = 1,
        rank: int = 0,
        balanced: bool = True,
        seed: int = 0,
    ) -> None:
        self.weights = class_weights(label_indices)
        self.batch_size, self.world_size, self.rank = int(batch_size), int(world_size), int(rank)
        self.balanced, self.seed, self.epoch = balanced, int(seed), 0
        self.steps = len(self.weights) // (self.world_size * self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def global_order(self) -> torch.Tensor:
        """The whole epoch's sample order, identical on every process."""
        generator = torch.Generator().manual_seed(self.seed * 1000 + self.epoch)
        count = len(self.weights)
        if self.balanced:
            return torch.multinomial(self.weights, count, replacement=True, generator=generator)
        return torch.randperm(count, generator=generator)

    def __len__(self) -> int:
        return self.steps * self.batch_size

    def __iter__(self):
        order = self.global_order()[: self.steps * self.world_size * self.batch_size]
        blocks = order.view(self.steps, self.world_size, self.batch_size)[:, self.rank]
        return iter(blocks.reshape(-1).tolist())


def label_aware_targets(
    label_indices: torch.Tensor, column_labels: torch.Tensor | None = None
) -> torch.Tensor:
    """(B, N) float targets: row i spreads 1 evenly over the columns sharing i's label.

    Columns default to the rows (B, B), which is symmetric, so the same matrix serves
    image→text and text→image; with ``column_labels`` (the global batch of all processes)
    the rows are this process's items.
    """
    labels = torch.as_tensor(label_indices).reshape(-1)
    columns = labels if column_labels is None else torch.as_tensor(column_labels).reshape(-1)
    same = (labels[:, None] == columns[None, :]).to(torch.float32)
    return same / same.sum(dim=1, keepdim=True)
