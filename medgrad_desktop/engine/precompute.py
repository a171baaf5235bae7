"""Precompute a folder's evidence into its evidence store (``medgrad-desktop precompute``).

Worker processes (a torch ``DataLoader``) decode each image, hash its pixels and resize it to
the model's input; the main process runs batches through the batched evidence function (bf16
trunk on CUDA) and writes each batch to the store in one transaction. A run that is killed
loses at most the batch in flight: the next run skips every file whose size, modification
time and evidence are already stored. Under ``torchrun`` rank r of W takes every W-th file
(of the whole folder, so the shares never depend on what is already done) on ``cuda:LOCAL_RANK``.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from medgrad_desktop.engine.evidence_store import (
    STORE_NAME,
    EvidenceSetting,
    EvidenceStore,
    FileRecord,
)
from medgrad_desktop.engine.out_of_memory import (
    CPU_FALLBACK_MESSAGE,
    is_out_of_memory,
    move_to_cpu,
    split_on_out_of_memory,
)
from medgrad_desktop.errors import MedGradError
from medgrad_desktop.explain.batch_evidence import evidence_for_images
from medgrad_desktop.explain.bundle import ModelBundle
from medgrad_desktop.explain.evidence import Evidence
from medgrad_desktop.explain.geometry import resize_for_geometry
from medgrad_desktop.explain.images import (
    image_content_hash,
    list_image_names,
    load_image,
    resize_whole,
)
from medgrad_desktop.process_rank import ProcessRank

log = logging.getLogger(__name__)


@dataclass
class Decoded:
    """What a decoding worker returns for one file (``error`` set when it is unreadable)."""

    record: FileRecord | None
    pixels: np.ndarray | None = None
    error: str = ""
    name: str = ""


class DecodingDataset(Dataset):
    """Decodes, hashes and resizes files for the model in the DataLoader's worker processes."""

    def __init__(
        self, folder: Path, names: list[str], image_size: int, patch: int, geometry: str
    ) -> None:
        self.folder, self.names, self.geometry = folder, names, geometry
        self.image_size, self.patch = int(image_size), int(patch)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> Decoded:
        name = self.names[index]
        path = self.folder / name
        try:
            stat = path.stat()
            rgb = load_image(path)
        except (MedGradError, OSError) as error:
            return Decoded(None, error=str(error), name=name)
        record = FileRecord(name, stat.st_size, stat.st_mtime_ns, image_content_hash(rgb))
        if self.geometry == "square":  # as ``ModelBundle.resize_for_model`` does
            pixels = resize_whole(rgb, self.image_size)
        else:
            pixels = resize_for_geometry(rgb, self.geometry, self.image_size, self.patch)
        return Decoded(record, pixels, name=name)


def keep_as_list(items: list[Decoded]) -> list[Decoded]:
    """The DataLoader's collate function: a batch stays a list (images differ in size)."""
    return items


@dataclass
class PrecomputeReport:
    """What a run did; ``images_per_second`` counts computed images over the whole run."""

    computed: int = 0
    already_stored: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    compute_seconds: float = 0.0
    moved_to_cpu: bool = False

    @property
    def images_per_second(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else 0.0


def pending_names(names: list[str], folder: Path, store: EvidenceStore, setting) -> list[str]:
    """The names whose file changed or whose evidence for ``setting`` is not all stored."""
    known = store.files()
    complete = store.complete_images(setting)
    pending = []
    for name in names:
        record = known.get(name)
        if record is not None and record.image_hash in complete:
            try:
                stat = (folder / name).stat()
            except OSError:
                stat = None
            if stat is not None and (stat.st_size, stat.st_mtime_ns) == (
                record.size,
                record.mtime_ns,
            ):
                continue
        pending.append(name)
    return pending


class Precomputer:
    """Computes batches of evidence for one setting, falling back as memory requires."""

    def __init__(
        self,
        bundle: ModelBundle,
        prompts,
        methods,
        variant: str = "model",
        geometry: str = "square",
        precision: str = "auto",
    ) -> None:
        self.bundle, self.methods = bundle, tuple(methods)
        self.options = {"variant": variant, "geometry": geometry, "precision": precision}
        self.texts = bundle.encode_prompts(list(prompts))
        self.moved_to_cpu = False

    def _compute(self, images, texts: torch.Tensor) -> list[Evidence]:
        return evidence_for_images(
            self.bundle, images, texts, self.methods, batch_size=len(images), **self.options
        )

    def evidence(self, images: list[np.ndarray]) -> list[Evidence]:
        """Evidence of the batch; on the CPU for good when even one image does not fit."""
        scale = self.bundle.logit_scale
        try:
            return split_on_out_of_memory(self._compute, images, self.texts, scale)
        except RuntimeError as error:
            if not is_out_of_memory(error) or self.bundle.device.type == "cpu":
                raise
        move_to_cpu(self.bundle)
        self.texts = self.texts.cpu()
        self.moved_to_cpu = True
        print(CPU_FALLBACK_MESSAGE, file=sys.stderr)
        return self._compute(images, self.texts)


def precompute_folder(
    folder: Path,
    bundle: ModelBundle,
    prompts,
    methods,
    variant: str = "model",
    geometry: str = "square",
    batch_size: int = 64,
    workers: int = 2,
    store_path: Path | None = None,
    shard: ProcessRank | None = None,
    progress: bool = True,
) -> PrecomputeReport:
    """Fill the store with every image of ``folder`` (see the module docstring)."""
    from medgrad_desktop.engine.jobs import normalise_prompts

    started = time.perf_counter()
    shard = shard or ProcessRank.from_environment()
    prompts = normalise_prompts(prompts)
    setting = EvidenceSetting(bundle.model_id, prompts, tuple(methods), variant, geometry)
    report = PrecomputeReport()
    names = shard.take(list_image_names(folder))
    with EvidenceStore(store_path or folder / STORE_NAME, writable=True) as store:
        todo = pending_names(names, folder, store, setting)
        report.already_stored = len(names) - len(todo)
        computer = Precomputer(bundle, prompts, setting.methods, variant, geometry)
        loader = DataLoader(
            DecodingDataset(folder, todo, bundle.image_size, bundle.patch_size, geometry),
            batch_size=batch_size,
            num_workers=workers,
            collate_fn=keep_as_list,
        )
        bar = tqdm(
            total=len(todo),
            unit="img",
            desc=f"precompute {shard.rank + 1}/{shard.world_size}",
            disable=not progress,
        )
        with bar:
            for batch in loader:
                good = [item for item in batch if item.record is not None]
                report.failed += [(item.name, item.error) for item in batch if not item.record]
                if good:
                    tick = time.perf_counter()
                    results = computer.evidence([item.pixels for item in good])
                    report.compute_seconds += time.perf_counter() - tick
                    store.put_many(
                        setting, [(i.record, e) for i, e in zip(good, results, strict=True)]
                    )
                    report.computed += len(good)
                bar.update(len(batch))
    report.moved_to_cpu = computer.moved_to_cpu
    report.seconds = time.perf_counter() - started
    return report
