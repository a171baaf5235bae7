"""A two-process DistributedDataParallel run on CPU (gloo) completes; only rank 0 writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from medgrad_desktop.explain import load_model
from tests.tiny_models import make_tiny_clip_folder
from training.events import read_events
from training.synthetic import write_dataset

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_process_gloo_run_completes(tmp_path):
    data = write_dataset(tmp_path / "data", 24, seed=7, size=64)
    model = make_tiny_clip_folder(tmp_path / "model", image_size=64, patch_size=16)
    run = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "training",
        "fit",
        "--data",
        str(data),
        "--base",
        str(model),
        "--epochs",
        "2",
        "--batch-size",
        "2",
        "--threads",
        "1",
        "--device",
        "cpu",
        "--run-dir",
        str(run),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    events = read_events(run)
    started = events[0]
    assert started["event"] == "started" and started["world_size"] == 2
    assert events[-1]["event"] == "finished"
    assert sum(e["event"] == "started" for e in events) == 1  # rank 1 wrote nothing
    # every step event is one optimiser step of both processes together
    assert started["steps_per_epoch"] == len([e for e in events if e["event"] == "step"]) // 2
    load_model(run / "best", device="cpu")
