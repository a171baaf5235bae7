"""Training across processes equals one process: the gathered contrastive loss (2 real gloo
processes under torchrun) and the global class-balanced sampler."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

from tests.ddp_gather_worker import LABELS, build_model, global_batch, gradients
from training.contrastive import contrastive_loss
from training.dataset import GlobalBatchSampler, class_balanced_sampler

REPO = Path(__file__).resolve().parents[2]


def reference_loss(image, text, scale, labels):
    """Symmetric InfoNCE over one batch written out from its definition (CLIP; targets
    spread evenly over same-label items when labels are given)."""
    n = len(image)
    if labels is None:
        targets = torch.eye(n)
    else:
        same = (labels[:, None] == labels[None, :]).float()
        targets = same / same.sum(1, keepdim=True)
    logits = scale * image @ text.T
    rows = -(targets * torch.log_softmax(logits, 1)).sum(1).mean()
    columns = -(targets.T * torch.log_softmax(logits.T, 1)).sum(1).mean()
    return (rows + columns) / 2


@pytest.mark.slow
def test_two_processes_give_the_loss_and_gradients_of_one_process(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(REPO / "tests" / "ddp_gather_worker.py"),
        str(tmp_path),
    ]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]

    module = build_model()
    pixels, ids, mask = global_batch()
    for name, labels in (("label_aware", LABELS), ("diagonal", None)):
        image, text, scale = module(pixels, ids, mask)
        loss = reference_loss(image, text, scale, labels)
        assert torch.allclose(contrastive_loss(image, text, scale, labels), loss, atol=1e-6)
        expected = gradients(module, loss)
        for rank in ranks:
            got = rank[name]
            assert got["loss"] == pytest.approx(float(loss.detach()), abs=1e-5)
            assert got["grads"].keys() == expected.keys()
            for key, grad in expected.items():
                torch.testing.assert_close(got["grads"][key], grad, rtol=1e-4, atol=1e-6)
    assert ranks[0]["label_aware"]["loss"] != pytest.approx(ranks[0]["diagonal"]["loss"])


def test_ranks_take_blocks_of_the_one_process_batches():
    labels = [0] * 30 + [1] * 6 + [2] * 4
    single = list(GlobalBatchSampler(labels, batch_size=8, seed=3))
    for balanced in (True, False):
        one = GlobalBatchSampler(labels, batch_size=8, balanced=balanced, seed=3)
        one.set_epoch(2)
        ranks = []
        for rank in range(4):
            sampler = GlobalBatchSampler(labels, 2, 4, rank, balanced=balanced, seed=3)
            sampler.set_epoch(2)
            ranks.append(list(sampler))
        assert all(len(r) == len(ranks[0]) == 5 * 2 for r in ranks)
        merged = [i for step in range(5) for r in ranks for i in r[2 * step : 2 * step + 2]]
        assert merged == list(one)
        assert len(merged) == 40
        if not balanced:
            assert sorted(merged) == list(range(40))  # a permutation: each image once
    assert single != list(one)  # epochs differ


def test_global_order_is_class_balanced_and_matches_the_one_process_sampler():
    labels = [0] * 90 + [1] * 10
    sampler = GlobalBatchSampler(labels, batch_size=10, world_size=1, seed=1)
    sampler.set_epoch(4)
    drawn = list(sampler)
    assert drawn == list(class_balanced_sampler(labels, seed=1 * 1000 + 4))
    many = [i for epoch in range(20) for i in (sampler.set_epoch(epoch), list(sampler))[1]]
    share = Counter(labels[i] for i in many)[1] / len(many)
    assert abs(share - 0.5) < 0.05
