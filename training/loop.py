"""The contrastive training loop.

Symmetric InfoNCE over a batch with CLIP's learnable temperature (``logit_scale``, clamped to
≤ 100) and label-aware soft targets (images and texts of the same class are positives, not
negatives); AdamW (fused on CUDA; no weight decay on gains, biases and the temperature),
linear warmup + cosine decay, gradient-norm clipping, bf16 autocast and ``torch.compile`` on
CUDA. Under ``torchrun`` the model is wrapped in DistributedDataParallel; the processes draw
their blocks of one global class-balanced batch and the loss is computed over the global batch
(``training.contrastive``), so a run equals one process with the concatenated batch.
SIGINT/SIGTERM finish the current step, then the loop stops with ``stopped_by`` set so the
caller saves ``last/`` for ``--resume``.
"""

from __future__ import annotations

import contextlib
import math
import random
import signal
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from medgrad_desktop.errors import ComputeError, DataError
from medgrad_desktop.process_rank import ProcessRank
from training.config import TrainConfig
from training.contrastive import contrastive_loss, global_mean
from training.dataset import ClipPairDataset, GlobalBatchSampler
from training.distributed import any_rank
from training.families import image_text_features

MAX_LOGIT_SCALE = math.log(100.0)


class ContrastiveModel(nn.Module):
    """Wraps a ``CLIPModel`` or ``OpenClipModel`` (LoRA layers included) so one ``forward``
    gives normalised image and text embeddings and the temperature — the unit
    DistributedDataParallel wraps."""

    def __init__(self, clip) -> None:
        super().__init__()
        self.clip = clip

    def forward(self, pixel_values, input_ids, attention_mask):
        clip = self.clip
        image, text = image_text_features(clip, pixel_values, input_ids, attention_mask)
        scale = clip.logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()
        return F.normalize(image.float(), dim=-1), F.normalize(text.float(), dim=-1), scale


def compile_wanted(device: torch.device, setting: str) -> bool:
    """``torch.compile`` the model: "auto" on CUDA only (CPU compiles cost more than they save)."""
    return setting == "on" or (setting == "auto" and device.type == "cuda")


def autocast_factory(device: torch.device, precision: str) -> Callable | None:
    """bf16 autocast on CUDA ("auto" or "bf16"), bf16 on CPU only if asked; else None."""
    use_bf16 = precision == "bf16" or (precision == "auto" and device.type == "cuda")
    if not use_bf16:
        return None
    return lambda: torch.autocast(device.type, dtype=torch.bfloat16)


def make_optimizer(model: nn.Module, config: TrainConfig, device: torch.device):
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        flat = parameter.ndim < 2 or "logit_scale" in name or "embedding" in name
        (no_decay if flat else decay).append(parameter)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(
        groups, lr=config.lr, betas=(0.9, 0.98), eps=1e-6, fused=device.type == "cuda"
    )


def make_scheduler(optimizer, warmup_steps: int, total_steps: int):
    """Linear warmup to the base rate, then cosine decay to zero at ``total_steps``."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGBREAK") if hasattr(signal, name)
)
"""Signals that ask a run to stop gracefully (SIGBREAK is how Windows' Cancel reaches a job)."""


class StopRequest:
    """Records SIGINT/SIGTERM (and SIGBREAK on Windows) instead of dying, so the loop can
    finish its step and save."""

    def __init__(self) -> None:
        self.signal_name: str | None = None
        self._previous: dict[int, object] = {}

    def _handler(self, signum, _frame) -> None:
        self.signal_name = signal.Signals(signum).name

    def __enter__(self) -> StopRequest:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


class Trainer:
    """Runs optimiser steps over epochs; ``on_step``/``on_epoch_start``/``on_epoch_end``
    callbacks (set by ``training.fit``) write events, validate and save."""

    def __init__(
        self, config: TrainConfig, setup, train_samples, classes, device, info: ProcessRank, bundle
    ) -> None:
        self.config, self.setup, self.device, self.info = config, setup, device, info
        self.bundle = bundle  # tokenizes exactly as load_model's bundle will
        self.classes = list(classes)
        self.dataset = ClipPairDataset(
            train_samples,
            classes,
            setup.image_size,
            setup.image_mean,
            setup.image_std,
            train=True,
            seed=config.seed,
        )
        if config.num_workers > 0:
            self.dataset.warm_cache()  # decoded once here; forked workers inherit the cache
        per_process = len(train_samples) // info.world_size
        self.steps_per_epoch = per_process // config.batch_size
        if self.steps_per_epoch < 1:
            raise DataError(
                f"There are {len(train_samples)} training images, fewer than one batch of "
                f"{config.batch_size} per process; lower the batch size or add images."
            )
        total = config.epochs * self.steps_per_epoch
        self.total_steps = min(total, config.max_steps) if config.max_steps > 0 else total
        self.module = ContrastiveModel(setup.clip_model()).to(device)
        self.ddp = self.module
        if info.active:
            ids = [device.index] if device.type == "cuda" else None
            self.ddp = nn.parallel.DistributedDataParallel(self.module, device_ids=ids)
        compiled = compile_wanted(device, config.torch_compile)
        self.runner = torch.compile(self.ddp) if compiled else self.ddp
        self.sampler = GlobalBatchSampler(
            self.dataset.label_indices,
            config.batch_size,
            info.world_size,
            info.rank,
            balanced=config.balanced_sampling,
            seed=config.seed,
        )
        self.optimizer = make_optimizer(self.module, config, device)
        warmup = round(config.warmup_fraction * self.total_steps)
        self.scheduler = make_scheduler(self.optimizer, warmup, self.total_steps)
        self.autocast = autocast_factory(device, config.precision)
        self.step = 0
        self.stopped_by: str | None = None
        self.on_step: Callable[[int, float, float, int], None] = lambda *a: None
        self.on_epoch_start: Callable[[int], None] = lambda epoch: None
        self.on_epoch_end: Callable[[int], None] = lambda epoch: None

    def state_dict(self) -> dict:
        return {
            "step": self.step,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.step = int(state["step"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])

    def epoch_indices(self, epoch: int) -> list[int]:
        """This process's sample order for ``epoch`` (0-based), reproducible from the seed."""
        self.sampler.set_epoch(epoch)
        return list(self.sampler)

    def _captions(self, texts, labels, step: int) -> list[str]:
        """Replace some captions by the class prompt (``class_name_prob``), seeded by step."""
        chance = self.config.class_name_prob
        if chance <= 0:
            return list(texts)
        rng = random.Random(self.config.seed * 7919 + step)
        template = self.config.prompt_template
        return [
            template.format(label=self.classes[int(label)]) if rng.random() < chance else text
            for text, label in zip(texts, labels, strict=True)
        ]

    def train_step(self, pixels, texts, labels) -> float:
        tokens = self.bundle.tokenize(self._captions(texts, labels, self.step))
        pixels = pixels.to(self.device, non_blocking=True)
        with self.autocast() if self.autocast else contextlib.nullcontext():
            image, text, scale = self.runner(pixels, tokens["input_ids"], tokens["attention_mask"])
        labels = labels if self.config.label_aware else None
        loss = contrastive_loss(image, text, scale, labels, self.info)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        trainable = [p for p in self.module.parameters() if p.requires_grad]
        torch.nn.utils.clip_grad_norm_(trainable, self.config.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.step += 1
        return global_mean(loss, self.info)

    def run(self, stop: StopRequest) -> None:
        """Train from ``self.step`` to ``total_steps`` (or until a stop signal)."""
        batch = self.config.batch_size
        first_epoch = self.step // self.steps_per_epoch
        last_epoch = math.ceil(self.total_steps / self.steps_per_epoch)
        for epoch in range(first_epoch, last_epoch):
            skip = self.step - epoch * self.steps_per_epoch  # batches already done (resume)
            indices = self.epoch_indices(epoch)[skip * batch : self.steps_per_epoch * batch]
            self.dataset.set_epoch(epoch)
            loader = DataLoader(
                self.dataset,
                batch_size=batch,
                sampler=indices,
                drop_last=True,
                num_workers=self.config.num_workers,
                pin_memory=self.device.type == "cuda",
            )
            self.on_epoch_start(epoch + 1)
            self.module.train()
            for pixels, texts, labels in loader:
                try:
                    loss = self.train_step(pixels, texts, labels)
                except torch.OutOfMemoryError as exc:
                    raise ComputeError(
                        "The graphics card ran out of memory; use a smaller batch size.",
                        repr(exc),
                    ) from exc
                if not math.isfinite(loss):
                    raise ComputeError(
                        "Training diverged (the loss is not a number); lower the learning rate.",
                        f"step {self.step}",
                    )
                self.on_step(self.step, loss, self.scheduler.get_last_lr()[0], epoch + 1)
                if any_rank(self.info, stop.signal_name is not None, self.device):
                    self.stopped_by = stop.signal_name or "SIGTERM"
                    return
                if self.step >= self.total_steps:
                    break
            self.on_epoch_end(epoch + 1)
