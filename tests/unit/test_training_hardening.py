"""Training hardening: recorded splits and ``evaluate --run``, duplicates across splits, the
held-out validation slice, descriptions CSV parsing, atomic checkpoints under a real kill,
resume checks and the exit code of every stop signal."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from medgrad_desktop.errors import DataError
from tests.tiny_models import make_tiny_clip_folder
from tests.training_support import fit_args as shared_fit_args
from training.cli import main
from training.config import TrainConfig
from training.data import load_samples
from training.events import read_events
from training.fit import exit_code_for
from training.runs import prepare_data
from training.synthetic import write_dataset

REPO = Path(__file__).resolve().parents[2]


def _without_split_column(manifest: Path) -> Path:
    rows = list(csv.DictReader(manifest.open(encoding="utf-8")))
    columns = [c for c in rows[0] if c != "split"]
    with manifest.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return manifest


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("hardening")
    data = write_dataset(root / "data", 30, seed=7, size=64)
    _without_split_column(Path(data) / "manifest.csv")
    model = make_tiny_clip_folder(root / "model", image_size=64, patch_size=16)
    return Path(data), model


def fit_args(data, model, run_dir, *extra):
    """One epoch unless ``extra`` says otherwise."""
    return shared_fit_args(data, model, run_dir, "--epochs", "1", *extra)


@pytest.fixture(scope="module")
def trained(tiny, tmp_path_factory):
    data, model = tiny
    data_copy = tmp_path_factory.mktemp("data-copy") / "data"
    shutil.copytree(data, data_copy)
    run = tmp_path_factory.mktemp("runs") / "run"
    assert main(fit_args(data_copy / "manifest.csv", model, run, "--save-dtype", "float16")) == 0
    return data_copy, model, run


def _rows(run: Path, split: str) -> list[dict]:
    return [r for r in csv.DictReader((run / "splits.csv").open()) if r["split"] == split]


def test_the_run_records_its_splits_and_evaluate_run_uses_exactly_them(trained, capsys):
    data, _, run = trained
    test_rows = _rows(run, "test")
    assert test_rows and all(len(r["content_hash"]) == 32 for r in test_rows)
    # new images added after training must not reshuffle the run's test split
    manifest = data / "manifest.csv"
    rows = list(csv.DictReader(manifest.open(encoding="utf-8")))
    extra = [
        dict(r, image=r["image"].replace(".png", "_new.png"), group=r["group"] + "n") for r in rows
    ]
    for old, new in zip(rows, extra, strict=True):
        shutil.copy(data / old["image"], data / new["image"])
        (data / new["image"]).write_bytes((data / new["image"]).read_bytes() + b"\0")
    with manifest.open("a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, list(rows[0])).writerows(extra)
    capsys.readouterr()
    assert main(["evaluate", "--run", str(run), "--split", "test"]) == 0
    out = capsys.readouterr().out
    assert f"on {len(test_rows)} images (the test split of run run)" in out
    metrics = json.loads((run / "evaluation-test" / "metrics.json").read_text())
    assert metrics["n_images"] == len(test_rows) and metrics["split"] == "test"
    assert main(["evaluate", "--model", str(run / "best"), "--data", str(manifest)]) == 0
    assert "new splits are assigned" in capsys.readouterr().out


def test_a_changed_image_of_the_recorded_split_is_refused(trained, tmp_path, capsys):
    run = trained[2]
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    victim = Path(_rows(copy, "val")[0]["image"])
    original = victim.read_bytes()
    try:
        victim.write_bytes(original + b"changed")
        assert main(["evaluate", "--run", str(copy), "--split", "val"]) == 2
        assert "has changed since the run was trained" in capsys.readouterr().err
    finally:
        victim.write_bytes(original)


def test_identical_images_in_two_splits_are_refused(tiny, tmp_path):
    data, _ = tiny
    folder = tmp_path / "dup"
    shutil.copytree(data, folder)
    manifest = folder / "manifest.csv"
    rows = list(csv.DictReader(manifest.open(encoding="utf-8")))
    copy = dict(rows[0], image=rows[0]["image"].replace(".png", "_copy.png"), group="copy")
    shutil.copy(folder / rows[0]["image"], folder / copy["image"])
    groups = sorted({r["group"] for r in rows} - {rows[0]["group"]})
    split_of = {
        g: "val" if i % 3 == 1 else "test" if i % 3 == 2 else "train" for i, g in enumerate(groups)
    }
    split_of.update({rows[0]["group"]: "train", "copy": "test"})  # the copy lands in test
    for row in [*rows, copy]:
        row["split"] = split_of[row["group"]]
    with manifest.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, [*rows[0]])
        writer.writeheader()
        writer.writerows([*rows, copy])
    config = TrainConfig(data=str(manifest))
    with pytest.raises(DataError, match="identical but in different splits"):
        prepare_data(config)


def test_without_a_validation_split_training_groups_are_held_out(tiny, tmp_path):
    data, _ = tiny
    config = TrainConfig(data=str(data / "manifest.csv"), split_fractions=[0.7, 0.0, 0.3])
    prepared = prepare_data(config)
    assert prepared.val and prepared.test and prepared.val is not prepared.test
    val_groups = {s.group for s in prepared.val}
    assert not val_groups & {s.group for s in prepared.test}
    assert not val_groups & {s.group for s in prepared.train}
    fresh = prepare_data(
        TrainConfig(data=str(data / "manifest.csv"), split_fractions=[0.7, 0.0, 0.3])
    )
    assert [s.image for s in fresh.test] == [s.image for s in prepared.test]


def _seed_folder(tmp_path: Path, lines: list[str]) -> Path:
    from PIL import Image

    folder = tmp_path / "seed"
    folder.mkdir(parents=True)
    for index in range(len(lines) - 1):
        Image.new("RGB", (8, 8), (index * 20, 80, 90)).save(folder / f"img{index:02d}.png")
    (folder / "descriptions.csv").write_bytes("\n".join(lines).encode("utf-8"))
    return folder


def test_quoted_commas_are_kept_and_unquoted_ones_are_reported_by_line(tmp_path):
    good = _seed_folder(
        tmp_path, ["description", '"melanoma. colours: black, blue, brown."', "nevus. brown."]
    )
    texts = [s.text for s in load_samples(good).samples]
    assert texts == ["melanoma. colours: black, blue, brown.", "nevus. brown."]
    bad = _seed_folder(
        tmp_path / "b", ["description", "nevus. brown.", "melanoma. colours: black, blue.", "x. y"]
    )
    with pytest.raises(DataError, match=r"Line\(s\) 3 of descriptions.csv have more columns"):
        load_samples(bad)


def test_nul_bytes_and_broken_quotes_are_refused(tmp_path):
    folder = _seed_folder(tmp_path, ["description", "nevus.\x00", "melanoma."])
    with pytest.raises(DataError, match=r"Line 2 of descriptions\.csv contains NUL bytes"):
        load_samples(folder)
    folder = _seed_folder(tmp_path / "q", ["description", '"nevus." brown', "melanoma."])
    with pytest.raises(DataError, match=r"Line 2 of descriptions\.csv is not valid CSV"):
        load_samples(folder)


def test_manifest_rows_with_extra_columns_are_refused(tiny, tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("image,text\na.png,nevus. brown\nb.png,melanoma. black, blue\n")
    with pytest.raises(DataError, match=r"Line\(s\) 3 of manifest.csv"):
        load_samples(manifest, check_images=False)


KILL_LOOP = """
import sys, torch
from pathlib import Path
from training.atomic_dir import replace_folder
from training.config import TrainConfig
from training.model_setup import build_model, save_checkpoint
setup = build_model(TrainConfig(base=sys.argv[1]))
state = {"step": 0, "blob": torch.zeros(200_000)}
def write(folder):
    save_checkpoint(setup, folder)
    torch.save(state, folder / "training_state.pt")
print("ready", flush=True)
step = 0
while True:
    step += 1
    state["step"] = step
    replace_folder(Path(sys.argv[2]) / "last", write)
"""


@pytest.mark.slow
def test_a_kill_during_save_leaves_a_complete_last_folder(tiny, tmp_path):
    from medgrad_desktop.explain import load_model
    from training.atomic_dir import recover

    run = tmp_path / "run"
    run.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    steps = []
    for delay in (0.1, 0.45):
        process = subprocess.Popen(
            [sys.executable, "-c", KILL_LOOP, str(tiny[1]), str(run)],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert process.stdout.readline().strip() == "ready"
        time.sleep(delay + (1.0 if not steps else 0.0))  # the first kill after a save or two
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        last = recover(run / "last")
        state = torch.load(last / "training_state.pt", weights_only=True)
        steps.append(state["step"])
        assert load_model(last, device="cpu").model_id
        assert not list(run.glob(".last.*"))
    assert min(steps) >= 1


def test_resume_restores_fp32_master_weights_and_refuses_a_new_batch_size(trained, capsys):
    run = trained[2]
    state = torch.load(run / "last" / "training_state.pt", weights_only=True)
    master = state["master_weights"]
    assert master and all(v.dtype == torch.float32 for v in master.values())
    name = "visual_projection.weight"
    assert not torch.equal(master[name], master[name].half().float())  # not fp16-rounded
    from medgrad_desktop.process_rank import ProcessRank
    from training.fit import FitRun
    from training.runs import read_run_config

    config = TrainConfig(**{**read_run_config(run), "resume": str(run)})
    resumed = FitRun(config, run, ProcessRank(), torch.device("cpu"), resumed=True)
    weights = dict(resumed.setup.model.named_parameters())
    assert torch.equal(weights[name].detach(), master[name])
    assert main(["fit", "--resume", str(run), "--batch-size", "6"]) == 2
    assert "trained with batch size 4" in capsys.readouterr().err


def test_each_stop_signal_has_its_exit_code():
    assert exit_code_for("SIGINT") == 130
    assert exit_code_for("SIGTERM") == 143
    assert exit_code_for("SIGBREAK") == 149  # Windows' Cancel; no KeyError on any system


def test_sigbreak_stops_the_run_as_cancelled(tiny, tmp_path, monkeypatch):
    """SIGBREAK exists only on Windows: the stop request reports it as the handler would."""
    import training.fit as fit_module
    from training.loop import StopRequest

    class BreakRequest(StopRequest):
        def __enter__(self):
            super().__enter__()
            self.signal_name = "SIGBREAK"
            return self

    monkeypatch.setattr(fit_module, "StopRequest", BreakRequest)
    run = tmp_path / "run"
    assert main(fit_args(*tiny, run)) == 149
    cancelled = read_events(run)[-1]
    assert cancelled["event"] == "cancelled" and cancelled["signal"] == "SIGBREAK"
    assert (run / "last" / "training_state.pt").is_file()


@pytest.mark.slow
def test_sigint_stops_a_real_run_with_exit_code_130(tiny, tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "training", *fit_args(*tiny, run, "--epochs", "3")]
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 180
    while not any(e["event"] == "step" for e in read_events(run)):
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) == 130
    assert read_events(run)[-1]["signal"] == "SIGINT"
