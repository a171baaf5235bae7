"""End-to-end ``fit`` → ``evaluate`` → ``load_model(best/)`` → ``explain`` on a tiny model, resume
after SIGTERM, and refused inputs."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from medgrad_desktop.explain import explain, load_model
from tests.tiny_models import make_tiny_clip_folder
from tests.training_support import fit_args
from training.cli import main
from training.evaluate import METRIC_KEYS
from training.events import read_events
from training.synthetic import write_dataset

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny_training")
    data = write_dataset(root / "data", 24, seed=5, size=64)
    model = make_tiny_clip_folder(root / "model", image_size=64, patch_size=16)
    return data, model


def test_fit_evaluate_load_explain(tiny, tmp_path, capsys):
    data, model = tiny
    run = tmp_path / "run"
    assert main(fit_args(data, model, run, "--epochs", "2", "--method", "lora")) == 0
    for name in (
        "config.yaml",
        "metrics.json",
        "events.jsonl",
        "history.json",
        "loss.png",
        "accuracy.png",
        "confusion_matrix.png",
        "best/config.json",
        "last/config.json",
    ):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert tuple(metrics)[: len(METRIC_KEYS)] == METRIC_KEYS
    test_rows = [r for r in csv.DictReader((run / "splits.csv").open()) if r["split"] == "test"]
    assert metrics["n_images"] == len(test_rows) > 0 and metrics["split"] == "test"
    events = read_events(run)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert {"epoch", "step", "metrics", "checkpoint"} <= set(kinds)
    steps = [e for e in events if e["event"] == "step"]
    assert [e["step"] for e in steps] == list(range(1, events[0]["total_steps"] + 1))
    assert all({"event", "time", "loss", "lr", "epoch", "total_steps"} <= set(e) for e in steps)

    out = tmp_path / "eval"
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(run / "best"),
                "--data",
                str(data),
                "--split",
                "all",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "zero-shot accuracy" in capsys.readouterr().out
    written = json.loads((out / "metrics.json").read_text())
    assert tuple(written)[: len(METRIC_KEYS)] == METRIC_KEYS and written["n_images"] == 24

    bundle = load_model(run / "best", device="cpu")  # LoRA merged: a plain CLIP folder
    assert not any("lora" in name for name, _ in bundle.model.named_parameters())
    image = np.asarray(np.random.default_rng(0).integers(0, 255, (80, 90, 3)), dtype=np.uint8)
    result = explain(bundle, image, ["melanoma", "common nevus"])
    assert result.maps["medgrad"].shape == (2, 80, 90)


def test_frozen_method_trains_only_last_layers(tiny, tmp_path):
    from training.config import TrainConfig
    from training.model_setup import build_model

    config = TrainConfig(base=str(tiny[1]), method="frozen", trainable_layers=1)
    model = build_model(config).model
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any("encoder.layers.1." in n for n in trainable)
    assert not any("encoder.layers.0." in n for n in trainable)
    assert "logit_scale" in trainable and "visual_projection.weight" in trainable


def _wait_for_step(run: Path, process, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e["event"] == "step" for e in read_events(run)):
            return
        if process.poll() is not None:
            pytest.fail(f"fit ended before its first step: {process.stderr.read()}")
        time.sleep(0.02)
    pytest.fail("no step event")


def test_sigterm_saves_last_and_resume_continues(tiny, tmp_path):
    data, model = tiny
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "training",
        *fit_args(data, model, run, "--epochs", "2", "--batch-size", "2"),
    ]
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _wait_for_step(run, process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 143
    events = read_events(run)
    cancelled = events[-1]
    assert cancelled["event"] == "cancelled" and cancelled["signal"] == "SIGTERM"
    stopped_at = cancelled["step"]
    total = events[0]["total_steps"]
    assert 1 <= stopped_at < total
    assert (run / "last" / "training_state.pt").is_file()
    load_model(run / "last", device="cpu")

    assert main(["fit", "--resume", str(run), "--threads", "1"]) == 0
    events = read_events(run)
    restarted = [e for e in events if e["event"] == "started"][-1]
    assert restarted["resumed"] and restarted["start_step"] == stopped_at
    after = events[events.index(restarted) :]
    steps = [e["step"] for e in after if e["event"] == "step"]
    assert steps == list(range(stopped_at + 1, total + 1))
    assert events[-1]["event"] == "finished" and events[-1]["steps"] == total


def test_existing_output_folder_is_refused(tiny, tmp_path, capsys):
    run = tmp_path / "exists"
    run.mkdir()
    assert main(fit_args(*tiny, run)) == 2
    assert "already exists" in capsys.readouterr().err


def test_resume_of_a_folder_that_is_not_a_run_is_refused(tmp_path, capsys):
    (tmp_path / "notarun").mkdir()
    assert main(["fit", "--resume", str(tmp_path / "notarun")]) == 2
    assert "not a training run" in capsys.readouterr().err


def test_single_member_class_is_refused(tiny, tmp_path, capsys):
    data, model = tiny
    rows = list(csv.reader((data / "manifest.csv").open(encoding="utf-8")))
    rows[1][2] = "basal cell carcinoma"  # label column: a class with one image
    manifest = tmp_path / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(
            [row if i == 0 else [str(data / row[0]), *row[1:5], ""] for i, row in enumerate(rows)]
        )
    assert main(fit_args(manifest, model, tmp_path / "run")) == 2
    assert "basal cell carcinoma" in capsys.readouterr().err


def test_flags_override_yaml(tmp_path):
    import argparse

    from training.config import add_config_flags, config_from_args

    (tmp_path / "cfg.yaml").write_text("epochs: 7\nbatch_size: 16\nlora_targets: [q_proj]\n")
    parser = argparse.ArgumentParser()
    add_config_flags(parser)
    config = config_from_args(
        parser.parse_args(
            ["--config", str(tmp_path / "cfg.yaml"), "--batch-size", "8", "--lr", "3e-5"]
        )
    )
    assert (config.epochs, config.batch_size, config.lr) == (7, 16 // 2, 3e-5)
    assert config.lora_targets == ["q_proj"]
    (tmp_path / "bad.yaml").write_text("epoch: 7\n")
    with pytest.raises(Exception, match="unknown settings: epoch"):
        config_from_args(parser.parse_args(["--config", str(tmp_path / "bad.yaml")]))


def test_pointing_game_counts_hits_against_mask_area(tiny):
    from training.data import load_samples
    from training.demo_report import pointing_game

    data, model = tiny
    samples = load_samples(data).samples[:4]
    classes = sorted({s.label for s in load_samples(data).samples})
    result = pointing_game(load_model(model, device="cpu"), samples, classes, tolerance=2)
    assert result["cases"] == 4
    assert set(result["baseline"]) == {"structures", "structures ±2px", "lesion"}
    assert 0 < result["baseline"]["structures"] < result["baseline"]["structures ±2px"] < 1
    for rates in result["hit_rate"].values():
        assert set(rates) == {"medgrad", "gradeclip", "gradcam"}
        assert all(0.0 <= rate <= 1.0 for rate in rates.values())
