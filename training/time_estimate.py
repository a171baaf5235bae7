"""How long a run will take on this computer, from a quick timing of the real thing.

The app runs the timing as ``python -m training estimate --settings JSON`` in a process of its
own, as the job will run (so the start-up — interpreter, imports, opening the model — is timed
too, and the model's memory is not taken from the app). ``time_training`` checks and hashes a
few of the user's images as ``fit`` prepares its data, opens the chosen base model with the
chosen method as ``fit`` does, runs
``TIMED_STEPS`` + 1 optimiser steps of the real training loop (``Trainer.run``: decoding and
augmenting the user's own images, forward, backward, update) on a few of the user's images,
one validation pass (``compute_metrics``) and one checkpoint save, and measures each. The
first step is a warm-up and not counted. ``estimate_seconds`` scales those measurements to the
whole run: the start-up and the data preparation of every image, then every epoch trains
``steps × batch`` images, validates the validation images and saves ``best/`` and ``last/``;
the end evaluates the test images.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
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
MEASURE_TIMEOUT_S = 600
NOT_TIMED = "The training steps could not be timed; see the log for details."


@dataclass(frozen=True)
class StepTiming:
    """Seconds measured on this computer for one base model and method."""

    load_seconds: float  # start-up: opening the base model and preparing it for training
    prepare_image_seconds: float  # checking and hashing one image before training starts
    train_image_seconds: float  # one training image: decode, augment, forward, backward, update
    eval_image_seconds: float  # one validation or test image
    save_seconds: float  # writing one checkpoint folder
    batch: int  # images per timed step
    hardware: str  # "CPU, 2 threads" or the graphics card's name
    ready_at: float = 0.0  # wall-clock time (time.time()) when the model was ready to train


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
    from medgrad_desktop.explain.images import load_image
    from medgrad_desktop.explain.loading import choose_device
    from medgrad_desktop.process_rank import ProcessRank
    from training.evaluate import compute_metrics
    from training.fit import training_bundle
    from training.loop import Trainer
    from training.model_setup import build_model, save_checkpoint
    from training.split_record import file_hash

    classes = sorted({s.label for s in samples})
    batch = max(2, min(int(settings.get("batch_size") or 2), MAX_TIMING_BATCH, len(samples)))
    steps = TIMED_STEPS + 1
    picked = [samples[i % len(samples)] for i in range(steps * batch)]
    config = _config(settings, batch_size=batch, epochs=1, max_steps=steps, num_workers=0)
    device = choose_device(None if config.device == "auto" else config.device)
    started = time.perf_counter()
    for sample in picked[:batch]:  # as prepare_data: every image decoded once and hashed
        load_image(sample.image)
        file_hash(sample.image)
    prepare_image = (time.perf_counter() - started) / batch
    started = time.perf_counter()
    setup = build_model(config)
    setup.model.to(device)
    bundle = training_bundle(setup, device)
    trainer = Trainer(config, setup, picked, classes, device, ProcessRank(), bundle)
    load_seconds, ready_at = time.perf_counter() - started, time.time()
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
    return StepTiming(
        load_seconds,
        prepare_image,
        train_image,
        eval_image,
        save_seconds,
        batch,
        _hardware(device),
        ready_at,
    )


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
    images = counts.train + counts.val + counts.test
    before = timing.load_seconds + images * timing.prepare_image_seconds
    return before + epochs * per_epoch + counts.test * timing.eval_image_seconds


def measure(settings: dict[str, Any]) -> dict[str, Any]:
    """The data's split sizes and the timing, as the ``estimate`` command prints them."""
    samples, counts = count_samples(settings)
    timing = time_training(settings, samples)
    return {"counts": dataclasses.asdict(counts), "timing": dataclasses.asdict(timing)}


def read_measurement(text: str) -> tuple[SplitCounts, StepTiming]:
    """The ``estimate`` command's output line back as objects."""
    values = json.loads(text)
    return SplitCounts(**values["counts"]), StepTiming(**values["timing"])


def measure_apart(settings: dict[str, Any]) -> tuple[SplitCounts, StepTiming]:
    """``measure`` in a new process started as the job will be (``estimate`` command); its
    ``load_seconds`` then run from the launch to the model being ready. ``DataError`` (with
    the command's own plain message) when it fails."""
    import subprocess

    from medgrad_desktop.errors import DataError
    from medgrad_desktop.launch import training_command
    from training.jobs import _job_environment

    command = training_command(["estimate", "--settings", json.dumps(settings, default=str)])
    launched = time.time()
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=_job_environment(),
            timeout=MEASURE_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DataError(NOT_TIMED, repr(exc)) from exc
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    if done.returncode != 0 or not done.stdout.strip():
        message = errors[-1][len("error: ") :] if errors else NOT_TIMED
        raise DataError(message, f"{command}: exit {done.returncode}: {done.stderr[-2000:]}")
    counts, timing = read_measurement(done.stdout.strip().splitlines()[-1])
    return counts, dataclasses.replace(timing, load_seconds=timing.ready_at - launched)


def _run_estimate(args: argparse.Namespace) -> int:
    settings = json.loads(args.settings)
    if int(settings.get("threads") or 0) > 0:  # as fit sets them
        import torch

        torch.set_num_threads(int(settings["threads"]))
    print(json.dumps(measure(settings)), flush=True)
    return 0


def register_estimate(subparsers) -> None:
    """``estimate --settings JSON``: time a few real training steps (one JSON line out)."""
    parser = subparsers.add_parser(
        "estimate",
        help="time a few training steps of a run's settings (for the app's time estimate)",
        description="Count the data and time a few real training steps, a validation pass and "
        "a checkpoint save of the given settings; prints one JSON line.",
    )
    parser.add_argument("--settings", required=True, help="the run's settings as a JSON object")
    parser.set_defaults(func=_run_estimate)


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
