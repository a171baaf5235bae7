"""The CUDA-graph path's prompt buckets, checked on the CPU: padding to 8/16/32 prompts and
cutting back gives exactly the unpadded evidence (the graphs themselves: tests/gpu)."""

from __future__ import annotations

import pytest
import torch

from medgrad_desktop.engine.cuda_graphs import GraphedEvidence, pad_prompts, prompt_bucket
from medgrad_desktop.explain import METHODS, load_model, pixel_evidence
from tests.engine_support import lesion_image, tiny_model_folder


@pytest.fixture(scope="module")
def bundle():
    return load_model(tiny_model_folder(), "cpu")


def test_buckets():
    assert [prompt_bucket(k) for k in (1, 8, 9, 16, 17, 32, 33)] == [8, 8, 16, 16, 32, 32, None]
    texts = torch.randn(3, 4)
    padded = pad_prompts(texts, 8)
    assert padded.shape == (8, 4) and torch.equal(padded[:3], texts)
    assert torch.equal(padded[3:], texts[-1:].expand(5, -1))


@pytest.mark.parametrize("count", [1, 5, 9, 17])
def test_padded_bucket_equals_unpadded_evidence(bundle, count):
    texts = bundle.encode_prompts([f"criterion {i}" for i in range(count)])
    pixels = bundle.normalise([bundle.resize_for_model(lesion_image(70, 60, seed=count))])

    expected = pixel_evidence(bundle.vision_tower, pixels, texts, METHODS)
    got = GraphedEvidence(graphs=False)(bundle.vision_tower, pixels, texts, METHODS)
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert got[name].shape == value.shape, name
        torch.testing.assert_close(got[name], value, rtol=1e-5, atol=1e-6)


def test_batches_and_more_prompts_than_the_largest_bucket_run_unpadded(bundle, monkeypatch):
    from medgrad_desktop.engine import cuda_graphs

    seen = []

    def record(tower, pixels, texts, *args):
        seen.append(texts.shape)
        return {"similarity": torch.zeros(1, texts.shape[0])}

    monkeypatch.setattr(cuda_graphs, "pixel_evidence", record)
    graphed = GraphedEvidence(graphs=False)
    graphed(bundle.vision_tower, torch.zeros(1, 3, 64, 64), torch.zeros(33, 24), METHODS)
    graphed(bundle.vision_tower, torch.zeros(2, 3, 64, 64), torch.zeros(3, 24), METHODS)
    graphed(bundle.vision_tower, torch.zeros(1, 3, 64, 64), torch.zeros(3, 24), METHODS)
    assert seen == [(33, 24), (3, 24), (8, 24)]
