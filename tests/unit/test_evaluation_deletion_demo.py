"""``deletion_insertion`` on the demo model against a loop written from the protocol."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medgrad_desktop.explain import explain, load_model
from medgrad_desktop.explain.evaluation import deletion_insertion


def _protocol_loop(bundle, image, prompt, saliency, steps, baseline):
    """Straight from the README: rank, replace round(j·H·W/steps) pixels, score one by one."""
    height, width = saliency.shape
    n = height * width
    order = sorted(range(n), key=lambda i: (-float(saliency.flat[i]), i))
    text = bundle.encode_text([prompt])[0]
    deletion, insertion = [], []
    for j in range(steps + 1):
        chosen = np.array(order[: round(j * n / steps)], dtype=int)
        deleted = image.reshape(n, 3).copy()
        deleted[chosen] = baseline.reshape(n, 3)[chosen]
        inserted = baseline.reshape(n, 3).copy()
        inserted[chosen] = image.reshape(n, 3)[chosen]
        for target, pixels in ((deletion, deleted), (insertion, inserted)):
            embedding = bundle.encode_image([pixels.reshape(height, width, 3)])[0]
            target.append(float(torch.dot(embedding, text)))
    fractions = [j / steps for j in range(steps + 1)]

    def area(ys):
        return sum(
            (fractions[i + 1] - fractions[i]) * (ys[i] + ys[i + 1]) / 2 for i in range(steps)
        )

    return deletion, insertion, area(deletion), area(insertion)


def test_deletion_insertion_equals_the_protocol_on_the_demo_model():
    from training.synthetic import generate_case

    bundle = load_model("demo", device="cpu")
    image = generate_case(9001, size=96).image[:, 8:88]  # 96 × 80, not square
    prompt = "atypical pigment network"
    saliency = explain(bundle, image, [prompt], methods=("gradeclip",)).maps["gradeclip"][0]
    saliency = np.round(saliency, 1)  # plenty of ties, so the tie rule matters
    mean = np.round(image.reshape(-1, 3).mean(0)).astype(np.uint8)
    baseline = np.broadcast_to(mean, image.shape)
    deletion, insertion, del_auc, ins_auc = _protocol_loop(
        bundle, image, prompt, saliency, steps=10, baseline=baseline
    )
    result = deletion_insertion(bundle, image, prompt, saliency, steps=10, baseline="mean")
    assert result.fractions.tolist() == pytest.approx([j / 10 for j in range(11)])
    np.testing.assert_allclose(result.deletion, deletion, atol=1e-6, rtol=0)
    np.testing.assert_allclose(result.insertion, insertion, atol=1e-6, rtol=0)
    assert result.deletion_auc == pytest.approx(del_auc, abs=1e-6)
    assert result.insertion_auc == pytest.approx(ins_auc, abs=1e-6)
    assert result.deletion[0] == pytest.approx(result.insertion[-1], abs=1e-6)  # both the image
    assert not np.allclose(result.deletion, result.deletion[0])  # the curve moves
