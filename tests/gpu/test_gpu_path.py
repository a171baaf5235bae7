"""The GPU path on a real CUDA device (skipped without one): maps on CUDA equal the CPU's
(fp32 to 1e-4, bf16 trunk within the tolerance stated below), CUDA-graph replays equal eager,
the precompute store round trip, and the out-of-memory fallback under a memory cap."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medgrad_desktop.engine.cuda_graphs import PROMPT_BUCKETS, GraphedEvidence
from medgrad_desktop.engine.evidence_store import STORE_NAME, EvidenceSetting, EvidenceStore
from medgrad_desktop.engine.jobs import normalise_prompts
from medgrad_desktop.engine.precompute import Precomputer, precompute_folder
from medgrad_desktop.explain import METHODS, compute_evidence, load_model, pixel_evidence
from medgrad_desktop.explain.images import image_content_hash, load_image
from tests.engine_support import lesion_image, tiny_model_folder, write_images

pytestmark = pytest.mark.gpu

BF16_MIN_PEARSON = 0.999
"""bf16 trunk vs fp32: every map's Pearson correlation with the fp32 map is at least this."""


@pytest.fixture(scope="module")
def models():
    return load_model(tiny_model_folder(), "cpu"), load_model(tiny_model_folder(), "cuda")


def prompts(count: int) -> list[str]:
    return [f"dermoscopic criterion number {i}" for i in range(count)]


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.mark.parametrize("variant", ["model", "zhao2024"])
@pytest.mark.parametrize("geometry", ["square", "aspect"])
def test_cuda_maps_equal_cpu_maps(models, variant, geometry):
    cpu, cuda = models
    image = lesion_image(90, 70, seed=3)
    texts = cpu.encode_prompts(prompts(9))
    options = {"variant": variant, "geometry": geometry}
    reference = compute_evidence(cpu, image, texts, METHODS, precision="fp32", **options)
    fp32 = compute_evidence(cuda, image, texts, METHODS, precision="fp32", **options)
    bf16 = compute_evidence(cuda, image, texts, METHODS, precision="bf16", **options)
    np.testing.assert_allclose(fp32.similarity, reference.similarity, atol=1e-4)
    np.testing.assert_allclose(fp32.probability, reference.probability, atol=1e-4)
    for method in METHODS:
        scale = float(np.abs(reference.patch_maps[method]).max()) or 1.0
        np.testing.assert_allclose(
            fp32.patch_maps[method] / scale, reference.patch_maps[method] / scale, atol=1e-4
        )
        assert pearson(bf16.patch_maps[method], reference.patch_maps[method]) >= BF16_MIN_PEARSON


@pytest.mark.parametrize("trunk_dtype", [None, torch.bfloat16])
@pytest.mark.parametrize("count", [1, 8, 9, 20, 32])
def test_graph_replay_equals_eager(models, count, trunk_dtype):
    _, cuda = models
    texts = cuda.encode_prompts(prompts(count))
    tower = cuda.vision_tower
    graphed = GraphedEvidence()
    assert graphed.graphs
    for seed in (1, 2, 3):  # the first call captures; later ones replay with new pixels
        image = cuda.resize_for_model(lesion_image(80, 80, seed=seed))
        pixels = cuda.normalise([image])
        eager = pixel_evidence(tower, pixels, texts, METHODS, "model", trunk_dtype)
        replayed = graphed(tower, pixels, texts, METHODS, "model", trunk_dtype)
        assert replayed.keys() == eager.keys()
        for name, value in eager.items():
            assert replayed[name].shape == value.shape
            torch.testing.assert_close(replayed[name], value.detach(), rtol=1e-5, atol=1e-6)
    assert graphed.replays == 3 and count <= PROMPT_BUCKETS[-1]


def test_viewer_engine_uses_the_warmed_graphs_and_matches_eager(models):
    from medgrad_desktop.engine.model_runner import ModelRunner

    _, cuda = models
    runner = ModelRunner(free_memory=lambda: None)
    runner.load(cuda, None)
    runner.warm_up(METHODS)
    assert runner.graphs.replays == 0 and len(runner.graphs._captured) == len(PROMPT_BUCKETS)
    image = cuda.resize_for_model(lesion_image(100, 75, seed=5))
    got = runner.evidence(image, tuple((p,) for p in prompts(12)), METHODS, notify=None)
    assert runner.graphs.replays == 1
    eager = compute_evidence(cuda, image, cuda.encode_prompts(prompts(12)), METHODS)
    np.testing.assert_allclose(got.similarity, eager.similarity, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.probability, eager.probability, rtol=1e-5, atol=1e-6)
    for method in METHODS:
        np.testing.assert_allclose(got.patch_maps[method], eager.patch_maps[method], atol=1e-6)


def test_precompute_on_cuda_round_trips_through_the_store(tmp_path, models):
    cpu, cuda = models
    paths = write_images(tmp_path, 6)
    report = precompute_folder(
        tmp_path, cuda, prompts(8), METHODS, batch_size=4, workers=2, progress=False
    )
    assert report.computed == 6 and not report.moved_to_cpu
    setting = EvidenceSetting(cuda.model_id, normalise_prompts(prompts(8)), METHODS)
    texts = cpu.encode_prompts(prompts(8))
    with EvidenceStore(tmp_path / STORE_NAME) as store:
        for path in paths:
            rgb = load_image(path)
            stored = store.get(setting, image_content_hash(rgb))
            reference = compute_evidence(cpu, rgb, texts, METHODS, precision="fp32")
            np.testing.assert_allclose(stored.similarity, reference.similarity, atol=2e-2)
            for method in METHODS:
                assert pearson(stored.patch_maps[method], reference.patch_maps[method]) >= (
                    BF16_MIN_PEARSON
                )


def test_memory_cap_splits_batches_then_falls_back_to_cpu(capsys):
    """A capped GPU still gives every image's evidence: first by smaller batches, then (cap
    below the model) on the CPU with the plain message."""
    bench = pytest.importorskip("tests.benchmarks.bench_explain")
    bundle = bench.vit_b16_bundle(torch.device("cuda"))
    images = [lesion_image(224, 224, seed) for seed in range(64)]
    free = Precomputer(bundle, prompts(8), METHODS).evidence(images[:2])
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.empty_cache()
    model_bytes = torch.cuda.memory_allocated()
    try:
        torch.cuda.set_per_process_memory_fraction((model_bytes + 2 * 2**30) / total)
        computer = Precomputer(bundle, prompts(8), METHODS)
        capped = computer.evidence(images)
        assert len(capped) == 64 and not computer.moved_to_cpu
        for a, b in zip(capped[:2], free, strict=True):
            for method in METHODS:
                assert pearson(a.patch_maps[method], b.patch_maps[method]) > 0.9999
        torch.cuda.empty_cache()
        torch.cuda.set_per_process_memory_fraction((model_bytes + 2**20) / total)
        moved = computer.evidence(images[:1])
        assert computer.moved_to_cpu and bundle.device.type == "cpu"
        assert "switched to the processor (CPU)" in capsys.readouterr().err
        assert pearson(moved[0].patch_maps["medgrad"], free[0].patch_maps["medgrad"]) > 0.99
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        torch.cuda.empty_cache()
