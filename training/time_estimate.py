"""How long a run will take on this computer, from a quick timing of the real thing.

``time_training`` opens the chosen base model with the chosen method as ``fit`` does, runs
``TIMED_STEPS`` + 1 optimiser steps of the real training loop (``Trainer.run``: decoding and
augmenting the user's own images, forward, backward, update) on a few of the user's images,
one validation pass (``compute_metrics``) and one checkpoint save, and measures each. The
first step is a warm-up and not counted. ``estimate_seconds`` scales those measurements to the
whole run: every epoch trains ``steps × batch`` images, validates the validation images and
saves ``best/`` and ``last/``; the end evaluates the test images.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.config import TrainConfig
from training.data import Sample, load_samples

TIMED_STEPS = 2
MAX_TIMING_BATCH = 8  # images per timed step (the run's batch size if smaller)
SAVES_PER_EPOCH = 2  # best/ (when validation improved) and last/


@dataclass(frozen=True)
class StepTiming:
    """Seconds measured on this computer for one base model and method."""

    load_seconds: float  # opening the base model and preparing it for training
    train_image_seconds: float  # one training image: decode, augment, forward, backward, update
    eval_image_seconds: float  # one validation or test image
    save_seconds: float  # writing one checkpoint folder
    batch: int  # images per timed step
    hardware: str  # "CPU, 2 threads" or the graphics card's name


@dataclass(frozen=True)
class SplitCounts:
    train: int
    val: int
    test: int


def count_samples(settings: dict[str, Any]) -> tuple[list[Sample], SplitCounts]:
    """The data's samples (images not decoded) and its split sizes: the manifest's own split
    column where it has one, else the configured split fractions. Raises ``DataError``."""
    descriptions = settings.get("descriptions")
    report = load_samples(
        settings["data"], Path(descriptions) if descriptions else None, check_images=False
    )
    samples = report.samples
    if any(s.split for s in samples):
        by_split = {name: sum(s.split == name for s in samples) for name in ("train", "val")}
        counts = SplitCounts(
            by_split["train"], by_split["val"], len(samples) - sum(by_split.values())
        )
    else:
        fractions = settings.get("split_fractions") or TrainConfig().split_fractions
        total = sum(fractions)
        train = round(len(samples) * fractions[0] / total)
        val = round(len(samples) * fractions[1] / total)
        counts = SplitCounts(train, val, len(samples) - train - val)
    return samples, counts


def _config(settings: dict[str, Any], **changes) -> TrainConfig:
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{**{k: v for k, v in settings.items() if k in names}, **changes})


class _NoStop:
    signal_name = None  # the timing is never stopped by a signal (and runs off the main thread)


def _hardware(device) -> str:
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    threads = torch.get_num_threads()
    return f"{device.type.upper()}, {threads} thread{'s' * (threads != 1)}"


def time_training(settings: dict[str, Any], samples: list[Sample]) -> StepTiming:
    """Time the run's real steps on a few of ``samples`` (see the module docstring)."""
    from medgrad_desktop.explain.loading import choose_device
    from medgrad_desktop.process_rank import ProcessRank
    from training.evaluate import compute_metrics
    from training.fit import training_bundle
    from training.loop import Trainer
    from training.model_setup import build_model, save_checkpoint

    classes = sorted({s.label for s in samples})
    batch = max(2, min(int(settings.get("batch_size") or 2), MAX_TIMING_BATCH, len(samples)))
    steps = TIMED_STEPS + 1
    picked = [samples[i % len(samples)] for i in range(steps * batch)]
    config = _config(settings, batch_size=batch, epochs=1, max_steps=steps, num_workers=0)
    device = choose_device(None if config.device == "auto" else config.device)
    started = time.perf_counter()
    setup = build_model(config)
    setup.model.to(device)
    bundle = training_bundle(setup, device)
    trainer = Trainer(config, setup, picked, classes, device, ProcessRank(), bundle)
    load_seconds = time.perf_counter() - started
    moments: list[float] = []
    trainer.on_step = lambda *_args: moments.append(time.perf_counter())
    trainer.run(_NoStop())
    train_image = (moments[-1] - moments[0]) / (len(moments) - 1) / batch
    started = time.perf_counter()
    compute_metrics(
        bundle, picked[:batch], classes, config.prompt_template, batch, trainer.autocast
    )
    eval_image = (time.perf_counter() - started) / batch
    with tempfile.TemporaryDirectory(prefix="medgrad-timing-") as folder:
        started = time.perf_counter()
        save_checkpoint(setup, Path(folder) / "best", config.save_dtype)
        save_seconds = time.perf_counter() - started
    return StepTiming(load_seconds, train_image, eval_image, save_seconds, batch, _hardware(device))


def estimate_seconds(timing: StepTiming, counts: SplitCounts, epochs: int, batch: int) -> float:
    """Seconds for the whole run, or 0 when the training split is smaller than one batch."""
    steps_per_epoch = counts.train // batch
    if steps_per_epoch < 1:
        return 0.0
    per_epoch = (
        steps_per_epoch * batch * timing.train_image_seconds
        + counts.val * timing.eval_image_seconds
        + SAVES_PER_EPOCH * timing.save_seconds
    )
    return timing.load_seconds + epochs * per_epoch + counts.test * timing.eval_image_seconds


def describe_duration(seconds: float) -> str:
    """ "under a minute", "about 4 minutes", "about 2 hours 10 minutes"."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"about {minutes} minute{'s' * (minutes != 1)}"
    hours, minutes = divmod(minutes, 60)
    text = f"about {hours} hour{'s' * (hours != 1)}"
    return text + (f" {minutes} minutes" if minutes >= 5 else "")
