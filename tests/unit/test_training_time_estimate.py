"""The New run dialog's time estimate: a real timing of the chosen model's training steps on
the user's images, scaled to the run by hand-checkable arithmetic."""

from __future__ import annotations

import pytest

from medgrad_desktop.errors import DataError
from tests.tiny_models import make_tiny_clip_folder
from training.synthetic import write_dataset
from training.time_estimate import (
    SplitCounts,
    StepTiming,
    count_samples,
    describe_duration,
    estimate_seconds,
    measure_apart,
    time_training,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("estimate") / "data", n=12, seed=0, size=64)


def test_estimate_adds_training_validation_saves_and_test():
    timing = StepTiming(
        load_seconds=5.0,
        prepare_image_seconds=0.02,
        train_image_seconds=0.5,
        eval_image_seconds=0.1,
        save_seconds=2.0,
        batch=8,
        hardware="CPU, 2 threads",
    )
    counts = SplitCounts(train=70, val=15, test=15)
    # start-up 5 s and 100 images prepared × 0.02 = 2 s; 70 // 32 = 2 steps of 32 images per
    # epoch: 64 × 0.5 = 32 s, validation 15 × 0.1 = 1.5 s, two saves 4 s → 37.5 s an epoch;
    # 3 epochs, then the test (15 × 0.1 = 1.5 s)
    expected = 5 + 2 + 3 * 37.5 + 1.5
    assert estimate_seconds(timing, counts, epochs=3, batch=32) == pytest.approx(expected)
    assert estimate_seconds(timing, counts, epochs=3, batch=128) == 0.0  # not one batch


def test_durations_read_as_a_person_says_them():
    assert describe_duration(20) == "under a minute"
    assert describe_duration(61) == "about 1 minute"
    assert describe_duration(4 * 60 + 10) == "about 4 minutes"
    assert describe_duration(130 * 60) == "about 2 hours 10 minutes"
    assert describe_duration(61 * 60) == "about 1 hour"


def test_counts_use_the_manifest_split_else_the_fractions(data):
    _samples, from_manifest = count_samples({"data": str(data / "manifest.csv")})
    splits = (data / "manifest.csv").read_text(encoding="utf-8").splitlines()[1:]
    expected = [sum(f",{name}," in line for line in splits) for name in ("train", "val", "test")]
    assert [from_manifest.train, from_manifest.val, from_manifest.test] == expected
    samples, by_fraction = count_samples(
        {"data": str(data / "images"), "descriptions": str(data / "descriptions.csv")}
    )
    assert len(samples) == 12
    assert by_fraction == SplitCounts(8, 2, 2)  # 0.7, 0.15, 0.15 of 12, rounded
    with pytest.raises(DataError):
        count_samples({"data": str(data / "missing")})


def test_timing_runs_real_training_steps_of_the_chosen_model(data, tmp_path):
    model = make_tiny_clip_folder(tmp_path / "model", seed=1)
    samples, _counts = count_samples({"data": str(data / "manifest.csv")})
    settings = {"base": str(model), "method": "full", "batch_size": 4, "device": "cpu"}
    timing = time_training(settings, samples)
    assert timing.batch == 4 and timing.hardware.startswith("CPU, ")
    assert timing.train_image_seconds > 0 and timing.eval_image_seconds > 0
    assert timing.load_seconds > 0 and timing.save_seconds > 0
    assert timing.prepare_image_seconds > 0 and timing.ready_at > 0
    with pytest.raises(DataError):  # the base model is opened as fit opens it
        time_training({**settings, "method": "lora", "lora_targets": ["no_such_layer"]}, samples)


def test_the_app_times_in_a_process_started_as_the_job(data, tmp_path):
    model = make_tiny_clip_folder(tmp_path / "model", seed=2)
    settings = {
        "data": str(data / "images"),
        "descriptions": str(data / "descriptions.csv"),
        "base": str(model),
        "batch_size": 2,
        "device": "cpu",
        "threads": 1,
    }
    counts, timing = measure_apart(settings)
    assert counts == SplitCounts(8, 2, 2)
    assert timing.batch == 2 and timing.hardware == "CPU, 1 thread"  # the job's thread setting
    assert timing.load_seconds > 0.5  # from the launch: a new interpreter importing torch
    with pytest.raises(DataError) as refused:
        measure_apart({**settings, "data": str(tmp_path / "missing")})
    assert refused.value.message == "The folder missing does not exist."  # the command's words
