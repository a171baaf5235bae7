"""``precompute``: a folder's evidence into its store, resumable after a real kill, sharded,
unreadable files skipped, out-of-memory split; the viewer's engine then never runs the model."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from medgrad_desktop.cli import main as cli_main
from medgrad_desktop.engine import precompute as precompute_module
from medgrad_desktop.engine.engine import ExplainEngine
from medgrad_desktop.engine.evidence_store import STORE_NAME, EvidenceSetting, EvidenceStore
from medgrad_desktop.engine.jobs import normalise_prompts
from medgrad_desktop.engine.precompute import precompute_folder
from medgrad_desktop.explain import METHODS, load_model
from medgrad_desktop.explain.attribution import compute_evidence
from medgrad_desktop.explain.images import image_content_hash, load_image
from tests.engine_support import (
    PROMPTS,
    RecordingListener,
    lesion_image,
    tiny_model_folder,
    write_corrupt_image,
    write_images,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bundle():
    return load_model(tiny_model_folder(), "cpu")


def setting_of(bundle, prompts=PROMPTS, methods=METHODS) -> EvidenceSetting:
    return EvidenceSetting(bundle.model_id, normalise_prompts(prompts), tuple(methods))


def assert_equals_direct(bundle, path: Path, store: EvidenceStore, setting) -> None:
    """The stored evidence equals the model run now on the decoded file."""
    rgb = load_image(path)
    direct = compute_evidence(bundle, rgb, bundle.encode_prompts(PROMPTS))
    stored = store.get(setting, image_content_hash(rgb))
    assert stored is not None, path.name
    np.testing.assert_allclose(stored.similarity, direct.similarity, atol=1e-6)
    np.testing.assert_allclose(stored.probability, direct.probability, atol=1e-6)
    for method in METHODS:
        np.testing.assert_allclose(stored.patch_maps[method], direct.patch_maps[method], atol=1e-6)


def test_store_round_trip_skips_bad_files_and_resumes_only_changed_ones(tmp_path, bundle):
    paths = write_images(tmp_path, 5)
    write_corrupt_image(tmp_path)
    report = precompute_folder(tmp_path, bundle, PROMPTS, METHODS, batch_size=2, workers=2)
    assert report.computed == 5 and report.already_stored == 0
    assert [name for name, _ in report.failed] == ["broken.png"]
    with EvidenceStore(tmp_path / STORE_NAME) as store:
        for path in paths:
            assert_equals_direct(bundle, path, store, setting_of(bundle))
    again = precompute_folder(tmp_path, bundle, PROMPTS, METHODS, batch_size=2, workers=0)
    assert again.computed == 0 and again.already_stored == 5
    Image.fromarray(lesion_image(96, 80, seed=99)).save(paths[1])  # changed: computed again
    other = precompute_folder(tmp_path, bundle, PROMPTS[:2], METHODS, workers=0)
    assert other.computed == 5  # other prompts: another entry
    changed = precompute_folder(tmp_path, bundle, PROMPTS, METHODS, workers=0)
    assert changed.computed == 1 and changed.already_stored == 4


def test_ranks_share_the_folder_without_overlap(tmp_path, bundle, monkeypatch):
    write_images(tmp_path, 5)
    shares = []
    for rank in (1, 0):  # as torchrun sets them up; rank 1 first: shares never shift
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "2")
        monkeypatch.setenv("LOCAL_RANK", str(rank))
        shares.append(precompute_folder(tmp_path, bundle, PROMPTS, ("gradcam",), workers=0))
    assert [s.computed for s in shares] == [2, 3]
    with EvidenceStore(tmp_path / STORE_NAME) as store:
        assert len(store.complete_images(setting_of(bundle, methods=("gradcam",)))) == 5
        assert store.count() == 5
        assert sorted(store.files()) == sorted(p.name for p in tmp_path.glob("*.png"))


def test_cli_reports_and_exits_1_for_an_unreadable_image(tmp_path, capsys):
    write_images(tmp_path, 2)
    write_corrupt_image(tmp_path)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a melanoma\na benign nevus\n")
    argv = ["precompute", str(tmp_path), "--model", str(tiny_model_folder()), "--prompts"]
    code = cli_main([*argv, str(prompts), "--device", "cpu", "--workers", "0"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "skipped broken.png" in err and "2 images computed, 0 already stored" in out
    assert cli_main([*argv, str(prompts), "--methods", "gradcam,nonsense"]) == 2
    assert "Unknown method" in capsys.readouterr().err


def _rows(store: Path) -> int:
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM evidence").fetchone()[0]
    except sqlite3.Error:
        return 0  # not created yet


@pytest.mark.slow
def test_a_killed_run_keeps_whole_entries_and_the_next_run_finishes(tmp_path, bundle):
    folder = tmp_path / "archive"
    paths = write_images(folder, 60, size=(48, 40))
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("\n".join(p if isinstance(p, str) else p[0] for p in PROMPTS))
    command = [sys.executable, "-m", "medgrad_desktop", "precompute", str(folder)]
    command += ["--model", str(tiny_model_folder()), "--prompts", str(prompts)]
    command += ["--batch-size", "1", "--workers", "0", "--device", "cpu"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    store = folder / STORE_NAME
    deadline = time.monotonic() + 120
    while _rows(store) < 2 * len(METHODS) and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1][-2000:]
        time.sleep(0.01)
    process.send_signal(signal.SIGSTOP)  # freeze it mid-run, then kill it without warning
    process.kill()
    process.wait(10)
    assert process.returncode == -signal.SIGKILL
    done_before = _rows(store)
    assert done_before % len(METHODS) == 0  # whole images only
    assert 2 <= done_before // len(METHODS) < len(paths)

    # the prompt file as the CLI reads it (plain lines, no ensembles)
    lines = [p if isinstance(p, str) else p[0] for p in PROMPTS]
    report = precompute_folder(folder, bundle, lines, METHODS, batch_size=16, workers=2)
    assert report.already_stored == done_before // len(METHODS)
    assert report.computed == len(paths) - report.already_stored
    with EvidenceStore(store) as reader:
        setting = setting_of(bundle, lines)
        assert len(reader.complete_images(setting)) == len(paths)
        first = load_image(paths[0])
        direct = compute_evidence(bundle, first, bundle.encode_prompts(lines))
        stored = reader.get(setting, image_content_hash(first))
        np.testing.assert_allclose(
            stored.patch_maps["medgrad"], direct.patch_maps["medgrad"], rtol=1e-5, atol=1e-7
        )


def test_out_of_memory_splits_the_batch_then_the_prompts_then_moves_to_cpu(
    tmp_path, bundle, monkeypatch, capsys
):
    paths = write_images(tmp_path, 4)
    expected = precompute_module.Precomputer(bundle, PROMPTS, METHODS).evidence(
        [load_image(p) for p in paths]
    )
    real = precompute_module.evidence_for_images
    calls, cramp = [], [True]

    def cramped(model, images, texts, *args, **kwargs):  # one image, two prompts at most
        calls.append((len(images), len(texts)))
        tight = cramp[0] and (len(calls) == 1 or len(images) > 1 or len(texts) > 2)
        if model.device.type == "cuda" or tight:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 9 GiB")
        return real(model, images, texts, *args, **kwargs)

    monkeypatch.setattr(precompute_module, "evidence_for_images", cramped)
    computer = precompute_module.Precomputer(bundle, PROMPTS, METHODS)
    got = computer.evidence([load_image(p) for p in paths])
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a.similarity, b.similarity, atol=1e-6)
        np.testing.assert_allclose(a.probability, b.probability, atol=1e-6)
        for method in METHODS:
            np.testing.assert_allclose(a.patch_maps[method], b.patch_maps[method], atol=1e-6)
    assert calls[:3] == [(4, 3), (2, 3), (1, 3)] and {(1, 1), (1, 2)} <= set(calls)
    assert not computer.moved_to_cpu

    cramp[0] = False
    gpu_model = load_model(tiny_model_folder(), "cpu")
    computer = precompute_module.Precomputer(gpu_model, PROMPTS, METHODS)
    gpu_model.device = torch.device("cuda")  # pretend: every try on the GPU runs out
    moved = computer.evidence([load_image(paths[0])])
    assert computer.moved_to_cpu and gpu_model.device.type == "cpu"
    np.testing.assert_allclose(
        moved[0].patch_maps["gradcam"], expected[0].patch_maps["gradcam"], rtol=1e-5, atol=1e-7
    )
    assert "switched to the processor (CPU)" in capsys.readouterr().err


def _hook_counter(bundle) -> list[int]:
    """Counts every forward call of the vision and text towers."""
    calls = [0]

    def count(*_):
        calls[0] += 1

    bundle.model.vision_model.register_forward_pre_hook(count)
    bundle.model.text_model.register_forward_pre_hook(count)
    return calls


@pytest.mark.slow
def test_precomputed_demo_folder_browses_with_the_model_never_run(tmp_path):
    from medgrad_desktop.demo import ensure_demo_folder
    from medgrad_desktop.explain.prompt_sets import bundled_prompt_sets, load_prompt_set

    folder = ensure_demo_folder(count=3)
    prompt_file = bundled_prompt_sets()["PH² criteria"]
    assert cli_main(["precompute", str(folder), "--device", "cpu", "--workers", "0"]) == 0
    bundle = load_model("demo", "cpu")
    calls = _hook_counter(bundle)
    listener = RecordingListener()
    engine = ExplainEngine(listener)
    try:
        engine.load_model(bundle)
        listener.wait_for("model_loaded")
        engine.set_prompts(load_prompt_set(prompt_file).prompts())
        names = sorted(p.name for p in folder.glob("*.png"))
        for name in names:
            request = engine.request_view(folder / name, prompt_index=0)
            listener.wait_for("maps_ready", request, timeout=30)
        assert engine.model_runs == 0 and calls[0] == 0
        assert engine.evidence_stores.hits == len(names)
        shown = listener.of("evidence_ready")[0][2]
    finally:
        engine.shutdown()
    rgb = load_image(folder / names[0])
    prompts = load_prompt_set(prompt_file).prompts()
    direct = compute_evidence(bundle, rgb, bundle.encode_prompts(prompts))
    assert calls[0] > 0  # the counter does count model runs
    np.testing.assert_allclose(shown.similarity, direct.similarity, atol=1e-5)
    np.testing.assert_allclose(shown.patch_maps["medgrad"], direct.patch_maps["medgrad"], atol=1e-5)
