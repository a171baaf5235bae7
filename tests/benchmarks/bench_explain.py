"""Shared trunk vs the seed's way (one forward + backward per prompt and method), batched
evidence vs one image at a time, and the reduced-precision trunk's agreement with fp32.

ViT-B/16 architecture with random weights, 600×450 images. Prints medians of ``--runs`` runs
and, last, one ratio measured side by side in this run:

- ``--batch 1 --geometry square``: ``shared-trunk speedup (K=<k>, <device>): <ratio>x``
- ``--batch 1`` other geometry: ``per-image time, <geometry> vs square (K=<k>, <device>): <r>x``
- ``--batch N`` (N > 1): ``batched speedup (N=<n>, K=<k>, <geometry>, <device>): <ratio>x``
  (N images one ``compute_evidence`` at a time vs one ``evidence_for_images`` batch)

``--precision bf16|fp16`` runs the trunk under autocast and also prints the Pearson correlation
of every method's maps with the fp32 maps (the measured tolerance).

    python tests/benchmarks/bench_explain.py [--device cpu|cuda] [--k 8] [--runs 5]
        [--batch N] [--geometry square|aspect|native] [--variant model|zhao2024]
        [--precision fp32|bf16|fp16]

``--graphs`` (CUDA): one image, 3 maps × K prompts, the viewer's path — evidence replayed from
a CUDA graph (``engine.cuda_graphs``, bf16 trunk) against the same call eager. Last line:
``single-image evidence (K=<k>, 3 maps, cuda): <a> ms with CUDA graphs, <b> ms eager,
eager/graphs <ratio>x``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from medgrad_desktop.explain import compute_evidence
from medgrad_desktop.explain.batch_evidence import evidence_for_images
from medgrad_desktop.explain.bundle import ModelBundle
from medgrad_desktop.explain.reference import reference_evidence
from medgrad_desktop.explain.tokenizer import load_openai_tokenizer


def vit_b16_bundle(device: torch.device) -> ModelBundle:
    """A randomly initialised CLIP ViT-B/16 (the architecture of the MedGrad E-CLIP model)."""
    from transformers import CLIPConfig, CLIPModel

    config = CLIPConfig(
        text_config={
            "hidden_size": 512,
            "intermediate_size": 2048,
            "num_attention_heads": 8,
            "num_hidden_layers": 12,
            "hidden_act": "quick_gelu",
            "bos_token_id": 49406,
            "eos_token_id": 49407,
            "pad_token_id": 49407,
        },
        vision_config={
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_attention_heads": 12,
            "num_hidden_layers": 12,
            "image_size": 224,
            "patch_size": 16,
            "hidden_act": "quick_gelu",
        },
        projection_dim=512,
    )
    torch.manual_seed(0)
    model = CLIPModel(config).to(device).eval()
    return ModelBundle(
        model=model,
        tokenizer=load_openai_tokenizer(),
        device=device,
        dtype=torch.float32,
        model_id="vitb16-random",
        image_size=224,
    )


def timed(fn, runs: int, device: torch.device) -> float:
    times = []
    for _ in range(runs):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pearson_by_method(exact, approx) -> dict[str, float]:
    """Pearson r of each method's patch maps over all images and prompts."""
    out = {}
    for method in exact[0].patch_maps:
        a = np.concatenate([e.patch_maps[method].ravel() for e in exact])
        b = np.concatenate([e.patch_maps[method].ravel() for e in approx])
        out[method] = float(np.corrcoef(a, b)[0, 1])
    return out


def graph_latency(device: torch.device, k: int, runs: int) -> None:
    """The viewer's single-image latency with and without CUDA-graph replay."""
    from medgrad_desktop.engine.cuda_graphs import GraphedEvidence

    bundle = vit_b16_bundle(device)
    image = np.random.default_rng(0).integers(0, 256, (224, 224, 3), dtype=np.uint8)
    texts = bundle.encode_text([f"dermoscopic criterion number {i}" for i in range(k)])
    graphed = GraphedEvidence(graphs=device.type == "cuda")
    eager = lambda: compute_evidence(bundle, image, texts)  # noqa: E731
    replay = lambda: compute_evidence(bundle, image, texts, pixel_function=graphed)  # noqa: E731
    replay()  # captures the graph
    eager()
    eager_time = timed(eager, runs, device)
    graph_time = timed(replay, runs, device)
    path = "CUDA graphs" if graphed.graphs else "the bucket path (no graphs without CUDA)"
    print(
        f"single-image evidence (K={k}, 3 maps, {device.type}): {graph_time * 1000:.2f} ms with "
        f"{path}, {eager_time * 1000:.2f} ms eager, eager/graphs {eager_time / graph_time:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--geometry", default="square", choices=("square", "aspect", "native"))
    parser.add_argument("--variant", default="model", choices=("model", "zhao2024"))
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16"))
    parser.add_argument("--graphs", action="store_true", help="CUDA-graph vs eager, one image")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.graphs:
        graph_latency(device, args.k, max(args.runs, 20) if device.type == "cuda" else args.runs)
        return
    bundle = vit_b16_bundle(device)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (450, 600, 3), dtype=np.uint8) for _ in range(args.batch)]
    texts = bundle.encode_text([f"dermoscopic criterion number {i}" for i in range(args.k)])
    options = {"variant": args.variant, "precision": args.precision}

    def single(geometry: str):
        return compute_evidence(bundle, images[0], texts, geometry=geometry, **options)

    print(f"torch threads: {torch.get_num_threads()}")
    if args.precision != "fp32":
        exact = evidence_for_images(
            bundle, images, texts, variant=args.variant, geometry=args.geometry, precision="fp32"
        )
        approx = evidence_for_images(bundle, images, texts, geometry=args.geometry, **options)
        for method, r in pearson_by_method(exact, approx).items():
            print(f"{args.precision} trunk vs fp32, {method}: Pearson r = {r:.6f}")
    if args.batch > 1:

        def one_at_a_time():
            for image in images:
                compute_evidence(bundle, image, texts, geometry=args.geometry, **options)

        def batched():
            evidence_for_images(
                bundle, images, texts, geometry=args.geometry, batch_size=args.batch, **options
            )

        batched()  # warm-up
        apart = timed(one_at_a_time, args.runs, device)
        together = timed(batched, args.runs, device)
        n = args.batch
        print(f"one at a time: {apart / n * 1000:.0f} ms per image (median of {args.runs})")
        print(f"batched (N={n}): {together / n * 1000:.0f} ms per image (median of {args.runs})")
        print(
            f"batched speedup (N={n}, K={args.k}, {args.geometry}, {device.type}): "
            f"{apart / together:.1f}x"
        )
        return
    single(args.geometry)  # warm-up
    if args.geometry != "square":
        square = timed(lambda: single("square"), args.runs, device)
        other = timed(lambda: single(args.geometry), args.runs, device)
        print(f"square: {square * 1000:.0f} ms, {args.geometry}: {other * 1000:.0f} ms")
        print(
            f"per-image time, {args.geometry} vs square (K={args.k}, {device.type}): "
            f"{other / square:.2f}x"
        )
        return
    seed = lambda: reference_evidence(bundle, images[0], texts)  # noqa: E731
    seed_way = timed(seed, args.runs, device)
    shared_way = timed(lambda: single("square"), args.runs, device)
    print(f"seed's way (3·K forward+backward): {seed_way * 1000:.0f} ms (median of {args.runs})")
    print(f"shared trunk: {shared_way * 1000:.0f} ms (median of {args.runs})")
    print(f"shared-trunk speedup (K={args.k}, {device.type}): {seed_way / shared_way:.1f}x")


if __name__ == "__main__":
    main()
