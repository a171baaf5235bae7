"""Precompute throughput: evidence of many images (3 maps × K prompts) into an evidence store.

ViT-B/16 CLIP with random weights (``--arch small``: the demo model's size). Measured in one
run: the batched evidence on already decoded images (decode excluded) at ``--batch`` and at
batch 1, and the whole ``precompute`` pipeline (worker processes decoding 600×450 PNG files,
batches, SQLite writes) at ``--batch``.

    python tests/benchmarks/bench_precompute.py [--device cpu|cuda] [--batch 256] [--k 8]
        [--images 2048] [--workers 8] [--arch vit-b16|small]

Last line: ``precompute throughput (<device>, K=<k>, 3 maps): <a> img/s at batch <b> decode
excluded, <c> img/s with decoding; batch <b>/batch 1 <ratio>x``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_explain import vit_b16_bundle

from medgrad_desktop.engine.precompute import Precomputer, precompute_folder
from medgrad_desktop.explain import METHODS, load_model
from tests.engine_support import lesion_image


def small_bundle(device: torch.device):
    return load_model("demo", device=str(device))


def rate(computer: Precomputer, images: list[np.ndarray], batch: int, device) -> float:
    """Images per second of ``computer.evidence`` over ``images`` in batches of ``batch``."""
    computer.evidence(images[:batch])  # warm-up (kernels, allocator)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for index in range(0, len(images), batch):
        computer.evidence(images[index : index + batch])
    if device.type == "cuda":
        torch.cuda.synchronize()
    return len(images) / (time.perf_counter() - start)


def write_folder(folder: Path, count: int) -> None:
    """``count`` distinct 600×450 PNG files (a few patterns, each made unique by a pixel)."""
    patterns = [lesion_image(600, 450, seed) for seed in range(8)]
    for index in range(count):
        image = patterns[index % len(patterns)].copy()
        image[0, 0] = (index % 256, index // 256 % 256, 7)
        Image.fromarray(image).save(folder / f"case_{index:05d}.png", compress_level=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cuda = torch.cuda.is_available()
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cuda" if cuda else "cpu")
    parser.add_argument("--batch", type=int, default=None, help="256 on CUDA, 8 on CPU")
    parser.add_argument("--k", type=int, default=8, help="prompts")
    parser.add_argument("--images", type=int, default=None, help="2048 on CUDA, 32 on CPU")
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 2))
    parser.add_argument("--arch", choices=("vit-b16", "small"), default=None)
    args = parser.parse_args()
    device = torch.device(args.device)
    on_gpu = device.type == "cuda"
    arch = args.arch or ("vit-b16" if on_gpu else "small")
    batch = args.batch or (256 if on_gpu else 8)
    count = args.images or (2048 if on_gpu else 32)
    bundle = vit_b16_bundle(device) if arch == "vit-b16" else small_bundle(device)
    prompts = [f"dermoscopic criterion number {i}" for i in range(args.k)]
    computer = Precomputer(bundle, prompts, METHODS)
    side = bundle.image_size
    decoded = [lesion_image(side, side, seed) for seed in range(count)]
    print(f"{arch}, input {side}, {count} images, K={args.k}, 3 maps on {device}")
    batched = rate(computer, decoded, batch, device)
    print(f"decode excluded, batch {batch}: {batched:8.1f} img/s")
    single_count = min(count, max(8, count // 8))
    single = rate(computer, decoded[:single_count], 1, device)
    print(f"decode excluded, batch 1: {single:8.1f} img/s ({single_count} images)")
    with tempfile.TemporaryDirectory(prefix="medgrad-bench-precompute-") as root:
        folder = Path(root)
        write_folder(folder, count)
        report = precompute_folder(
            folder,
            bundle,
            prompts,
            METHODS,
            batch_size=batch,
            workers=args.workers,
            progress=False,
        )
        assert report.computed == count, report
    with_decoding = report.images_per_second
    print(f"with decoding ({args.workers} workers), batch {batch}: {with_decoding:8.1f} img/s")
    print(
        f"precompute throughput ({device.type}, K={args.k}, 3 maps): {batched:.1f} img/s at "
        f"batch {batch} decode excluded, {with_decoding:.1f} img/s with decoding; "
        f"batch {batch}/batch 1 {batched / single:.2f}x"
    )


if __name__ == "__main__":
    main()
